/**
 * How the store's trigram index narrows a search (server/store/search-index.ts): every match must
 * contain each needle, so narrowing never drops a match (test/integration/store.test.ts checks the
 * results against the in-memory search on both backends).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTaskQuery } from '../../server/state/search';
import { needlesOf, PHRASE_BOUNDARY } from '../../server/store/search-index';
import { pgTrigramText, pgUncommonPhrases, uncommonRuns } from '../../server/store/search-sample';

describe('narrowing a search with the store index (server/store/search-index.ts)', () => {
  const needles = (query: string) => needlesOf(parseTaskQuery(query).expression);
  it('narrows substring terms by their casefolded text, and AND keeps what narrows', () => {
    assert.deepEqual(needles('args:Straße'), { kind: 'text', text: 'strasse', fields: ['args'] });
    assert.deepEqual(needles('boom state:FAILURE'), { kind: 'text', text: 'boom', fields: ['uuid', 'name', 'state', 'worker', 'args', 'kwargs', 'result'] });
    assert.deepEqual(needles('worker:W1@'), { kind: 'text', text: 'w1@', fields: ['worker'] });
  });
  it('narrows kwargs pairs by each part written as typed in a repr', () => {
    assert.deepEqual(needles('kwargs:tenant=Tenant-0042'), {
      kind: 'and',
      children: [
        { kind: 'text', text: 'tenant', fields: ['kwargs'], bounded: true },
        { kind: 'text', text: 'tenant-0042', fields: ['kwargs'], bounded: true },
      ],
    });
    assert.deepEqual(needles("kwargs:note=it's"), { kind: 'text', text: 'note', fields: ['kwargs'], bounded: true }, 'a quote is escaped by repr: the value cannot narrow');
    assert.deepEqual(
      needles('kwargs:amount=1.50'),
      {
        kind: 'and',
        children: [
          { kind: 'text', text: 'amount', fields: ['kwargs'], bounded: true },
          { kind: 'text', text: '1.50', fields: ['kwargs'] },
        ],
      },
      'what may be a number is not bounded: a literal may write it longer than str() does (1.500)',
    );
    assert.deepEqual(needles('kwargs:x=1'), null);
  });
  it('an OR narrows only if each side does', () => {
    assert.equal(needles('state:FAILURE OR boom'), null);
    assert.deepEqual(needles('name:boom OR result:crash'), {
      kind: 'or',
      children: [
        { kind: 'text', text: 'boom', fields: ['name'] },
        { kind: 'text', text: 'crash', fields: ['result'] },
      ],
    });
  });
  it("a needle holding NUL is not narrowed (it may join two fields in Flower's match)", () => {
    assert.equal(needles('"a\u0000bcd"'), null);
  });
});

describe('the trigrams a search asks the index for (server/store/search-sample.ts)', () => {
  const commonIn =
    (...common: string[]) =>
    (trigram: string) =>
      common.includes(trigram);
  it('splits the text where its common trigrams are, each run a phrase of 3 or more characters', () => {
    assert.deepEqual(uncommonRuns('order-004242', commonIn('ord', 'rde', 'der', 'er-', 'r-0')), ['-004242']);
    assert.deepEqual(uncommonRuns('abcdefghijklmnop', commonIn('ghi', 'hij')), ['abcdefgh', 'ijklmnop']);
    assert.deepEqual(uncommonRuns('abcdefg', commonIn()), ['abcdefg']);
    assert.deepEqual(uncommonRuns('straße-strasse', commonIn('e-s', '-st', 'str', 'tra', 'ras')), ['straße-', 'strasse'], 'by characters, not bytes');
  });
  it('widens a short run into the common trigrams around it, so that it still narrows as the needle does', () => {
    assert.deepEqual(uncommonRuns('tenant-0042', commonIn('ten', 'ena', 'nan', 'ant', 'nt-', 't-0')), ['nt-0042']);
    assert.deepEqual(uncommonRuns('abcdefghij', commonIn('cde')), ['abcdefghij'], 'runs widened into each other: the whole text');
    assert.deepEqual(uncommonRuns('abcde', commonIn('abc')), ['abcde'], 'a text under the width is asked whole');
  });
  it("PostgreSQL: asks for the runs of pg_trgm's word trigrams that are not common, each a phrase that makes just those", () => {
    // `sou` and `out` of every task's `source` key; a word's padding comes with its separator.
    assert.deepEqual(pgUncommonPhrases('ap-south-2', commonIn('  s', ' so', 'sou', 'out', '  2')), ['ap-', 'uth-']);
    assert.deepEqual(pgUncommonPhrases('tenant-0042', commonIn('ten', 'ena', 'nan', 'ant', 'nt ', '  0')), ['0042'], 'a run from the second pad starts after both');
    assert.deepEqual(pgUncommonPhrases('charge_card', commonIn('car')), ['charge_', '_ca', 'ard'], 'an underscore separates words, as in pg_trgm');
    assert.deepEqual(pgUncommonPhrases('abc-def', commonIn()), ['abc-def'], 'none common: the text itself');
    assert.equal(pgUncommonPhrases('tenant', commonIn('ten', 'ena', 'nan', 'ant')), null, 'every trigram common');
    // A bounded needle (a kwargs pair's part) is padded at its ends too: the pads beyond it are boundaries.
    const B = PHRASE_BOUNDARY;
    assert.deepEqual(pgUncommonPhrases('tenant-0042', commonIn('  t', ' te', 'ten', 'ena', 'nan', 'ant', 'nt ', '  0', ' 00'), true), [`0042${B}`]);
    assert.deepEqual(pgUncommonPhrases('tenant-0042', commonIn('ena', 'nan', 'ant', 'nt ', '  0', ' 00', '004', '042', '42 '), true), [`${B}ten`]);
    assert.deepEqual(pgUncommonPhrases('tenant-0042', commonIn('ten', 'ena', 'nan', 'ant', 'nt ', '  0', ' 00'), false), ['0042'], 'unbounded: no pad at the end');
    // What the phrases' LIKE asks GIN for is what pg_trgm makes of them: checked against the padded text.
    assert.equal(pgTrigramText("{'source': 'ap-south-2'}"), '  source   ap   south   2 ');
  });
  it('says when every trigram is common', () => {
    assert.equal(uncommonRuns('tenant', commonIn('ten', 'ena', 'nan', 'ant')), null);
  });
});
