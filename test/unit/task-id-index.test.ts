/**
 * PostgreSQL's index of task ids by their parts (server/store/task-id-index.ts): a row's tagged
 * bytes must contain one of a fragment's byte sets whenever its id holds the fragment, or the
 * search would miss it (test/integration/store.test.ts checks whole searches on both backends).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { fitsStandardId, idBytesOf, idFragmentBytes } from '../../server/store/task-id-index';

const bytesOf = (uuid: string): Set<number> => new Set(idBytesOf(uuid) ?? []);
const holds = (row: Set<number>, sets: readonly (readonly number[])[]): boolean => sets.some((set) => set.every((tagged) => row.has(tagged)));

describe("task ids by their parts (PostgreSQL's id index)", () => {
  it("tags each of a standard id's 16 bytes with its position, and leaves other ids out", () => {
    assert.deepEqual(idBytesOf('0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9'), [10, 283, 556, 829, 1102, 1375, 1632, 1905, 2178, 2451, 2724, 2997, 3270, 3543, 3816, 4089]);
    assert.equal(idBytesOf('my-task-1'), null);
    assert.equal(idBytesOf('0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9'), null, 'upper case is not what Celery writes: the trigram text holds it');
  });

  it('finds every fragment of 5 or more digits wherever it falls, dashes included', () => {
    for (let n = 0; n < 200; n++) {
      const uuid = randomUUID();
      const row = bytesOf(uuid);
      for (let start = 0; start < uuid.length; start++) {
        for (let end = start + 1; end <= uuid.length; end++) {
          const fragment = uuid.slice(start, end);
          const sets = idFragmentBytes(fragment);
          if (fragment.replaceAll('-', '').length < 5) {
            assert.equal(sets, null, `${fragment}: too short to narrow`);
            continue;
          }
          assert.ok(sets !== null && holds(row, sets), `${uuid} holds ${fragment}`);
          for (const set of sets) assert.ok(set.length >= 2, `${fragment}: two whole bytes at least, wherever it is`);
        }
      }
    }
  });

  it('narrows: an id without the fragment mostly holds none of its byte sets', () => {
    const fragment = '004242';
    const sets = idFragmentBytes(fragment);
    assert.ok(sets !== null);
    let held = 0;
    for (let n = 0; n < 20_000; n++) {
      const uuid = randomUUID();
      if (!uuid.includes(fragment) && holds(bytesOf(uuid), sets)) held++;
    }
    // 10 places, each 1 in 65,536 or rarer: about 3 in 20,000 at most.
    assert.ok(held < 20, `${held} of 20,000 ids let through without the fragment`);
  });

  it('a fragment fits only where its dashes are where an id has them', () => {
    assert.equal(fitsStandardId('abcd-4ef0'), true);
    assert.equal(fitsStandardId('abc-d4ef0'), true, 'in the last two groups');
    assert.equal(fitsStandardId('ab-cd-ef'), false, 'no two dashes of an id are 3 apart');
    assert.equal(fitsStandardId('xyz12'), false);
    assert.equal(idFragmentBytes('ab-cd-ef'), null);
    assert.equal(idFragmentBytes('12345678901234567890123456789012345678'), null, 'longer than an id');
  });
});
