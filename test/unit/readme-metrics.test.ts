import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { README, renderReadme } from '../../scripts/metrics-doc';

it('README.md documents every metric, its labels and the panels that use it (npm run docs:metrics)', () => {
  const readme = readFileSync(README, 'utf8');
  assert.equal(readme, renderReadme(readme), 'README.md metric reference is stale: run npm run docs:metrics');
});
