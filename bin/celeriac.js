#!/usr/bin/env node
// Entry point of the `celeriac` command. The server is TypeScript run through tsx's loader,
// so there is no separate compile step for the Node process.
import { setFlagsFromString } from 'node:v8';
import { register } from 'tsx/esm/api';

// A monitor runs for months with a task LRU that churns: evicted tasks die in the old generation.
// V8's default lets the heap grow up to 4x its live size before a full GC when memory is plentiful,
// so RSS swung between 420 and 680 MiB at 100,000 retained tasks; a full GC at 1.5x keeps it within
// a few percent of its plateau for about 7 % more CPU (`npm run bench:soak`). An explicit
// `node --heap-growing-percent=N bin/celeriac.js` wins.
if (!process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) setFlagsFromString('--heap-growing-percent=50');

register();
await import('../server/cli.ts');
