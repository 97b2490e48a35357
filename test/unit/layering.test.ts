/**
 * Data flows one way (README, "Code layout"): a module of server/ imports only its own folder
 * and the layers below it. This test reads every import of server/ and fails on one that points
 * up or sideways, naming it — the import cycles `madge --circular` (npm run lint) finds start as
 * such imports.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const SERVER = path.resolve(import.meta.dirname, '../../server');

/** Lowest first. Each layer may import the layers listed before it, never those after or beside it. */
const LAYERS: readonly (readonly string[])[] = [
  ['errors', 'log', 'worker-thread'],
  ['protocol'],
  ['broker', 'state'],
  ['control'],
  ['store'],
  ['views'],
  ['metrics', 'realtime'],
  ['config'],
  // runtime.ts is the pages' side of the HTTP layer (the bridge to Next.js server components).
  ['http', 'runtime'],
  ['monitor', 'wiring'],
  ['server'],
  ['cli'],
];

/** A module's layer: its top folder under server/, or its file name for top-level files. */
function layerOf(file: string): string {
  const [first] = path.relative(SERVER, file).split(path.sep);
  return (first ?? '').replace(/\.ts$/, '');
}

const RANK = new Map<string, number>();
LAYERS.forEach((names, rank) => {
  for (const name of names) RANK.set(name, rank);
});
/** Layers sharing a rank that are one concern (may import each other). */
const SAME_CONCERN = new Set(['http|runtime', 'runtime|http']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative import specifiers: `import … from`, `export … from`, `import('…')`. */
function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'(\.[^']+)'/gm)) specifiers.push(match[1] as string);
  return specifiers;
}

function layeringViolations(): string[] {
  const violations: string[] = [];
  for (const file of sourceFiles(SERVER)) {
    const from = layerOf(file);
    const fromRank = RANK.get(from);
    if (fromRank === undefined) {
      violations.push(`${path.relative(SERVER, file)}: layer '${from}' is not in LAYERS (add it where it belongs)`);
      continue;
    }
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      const target = path.resolve(path.dirname(file), specifier);
      if (!target.startsWith(SERVER + path.sep)) continue;
      const to = layerOf(target);
      if (to === from || SAME_CONCERN.has(`${from}|${to}`)) continue;
      const toRank = RANK.get(to);
      if (toRank === undefined || toRank >= fromRank) violations.push(`server/${path.relative(SERVER, file)} (${from}) imports '${specifier}' (${to})`);
    }
  }
  return violations;
}

describe('layering of server/', () => {
  it('every import points to the same folder or a lower layer', () => {
    assert.deepEqual(layeringViolations(), []);
  });

  it('the check sees imports of every form', () => {
    // A test that cannot fail is a bug: the import reader must find each form it guards.
    const source = ["import type { A } from '../a';", "export { B } from './b';", "const c = await import('../c');", "import './d';", "import {\n  E,\n} from '../e';"].join('\n');
    assert.deepEqual(importsOf(source), ['../a', './b', '../c', './d', '../e']);
  });

  it('only server/wiring.ts subscribes to a change feed', () => {
    // One file shows who reacts to what (README, "Where does X live?"). The transport's own
    // delegation to its status tracker is the one other call.
    const subscription = /\.(addListener|onInspected|onUpdate|onConnected|onStatus)\(/;
    const allowed = new Set(['wiring.ts', path.join('broker', 'transport.ts')]);
    const offenders = sourceFiles(SERVER)
      .filter((file) => !allowed.has(path.relative(SERVER, file)))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .flatMap((line, i) => (subscription.test(line) && !line.trim().startsWith('*') && !line.trim().startsWith('//') ? [`server/${path.relative(SERVER, file)}:${i + 1}: ${line.trim()}`] : [])),
      );
    assert.deepEqual(offenders, []);
  });
});
