#!/usr/bin/env node
// Entry point of the `celeriac` command. The server is TypeScript run through tsx's loader,
// so there is no separate compile step for the Node process.
import { register } from 'tsx/esm/api';

register();
await import('../server/cli.ts');
