/** The CSV export's cells: RFC 4180 quoting, ISO times, and no formula a spreadsheet would run. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvLine } from '../../server/http/export';
import { EXPORTED_TASK_FIELDS, type ExportedTask } from '../../server/views/types';

function task(fields: Partial<ExportedTask>): ExportedTask {
  const empty = Object.fromEntries(EXPORTED_TASK_FIELDS.map((f) => [f, null])) as unknown as ExportedTask;
  return { ...empty, uuid: 'id-1', state: 'FAILURE', ...fields };
}

describe('CSV export lines', () => {
  it('quotes commas, quotes and newlines, and writes times as ISO 8601', () => {
    const line = csvLine(task({ args: '(1, "two")', traceback: 'Traceback\nValueError', received: 1_700_000_000.5, runtime: 0.25 }));
    const cells = line.slice(0, -2);
    assert.ok(line.endsWith('\r\n'));
    assert.ok(cells.includes('"(1, ""two"")"'), cells);
    assert.ok(cells.includes('"Traceback\nValueError"'), cells);
    assert.ok(cells.includes('2023-11-14T22:13:20.500Z'), cells);
    assert.ok(cells.includes(',0.25,'), cells);
  });

  it('defuses cells a spreadsheet would run as a formula', () => {
    const line = csvLine(task({ args: '=HYPERLINK("http://evil")', kwargs: "+cmd|' /C calc'!A0", result: '@SUM(1)' }));
    assert.ok(line.includes(`"'=HYPERLINK(""http://evil"")"`), line);
    assert.ok(line.includes("'+cmd|' /C calc'!A0"), line);
    assert.ok(line.includes("'@SUM(1)"), line);
  });
});
