/**
 * The tasks page's view state (components/tasks/tasksView.ts): what the URL holds, how a header
 * click sorts, and when typed filters change the view (and so start a query).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventRows } from '../../components/tasks/taskEvents';
import { DEFAULT_TASKS_VIEW, apiParams, filterTextOf, nextSort, parseTasksView, tasksViewToSearch, withFilterText } from '../../components/tasks/tasksView';

describe('tasks view', () => {
  it('round-trips through the URL and falls back to defaults on bad values', () => {
    const view = parseTasksView({ state: 'FAILURE', search: 'name:tasks.add', sort: '-received', page: '3' });
    assert.equal(tasksViewToSearch(view), '?state=FAILURE&search=name%3Atasks.add&sort=-received&page=3');
    assert.deepEqual(parseTasksView({ sort: 'bogus', page: '0' }), DEFAULT_TASKS_VIEW);
    assert.equal(tasksViewToSearch(DEFAULT_TASKS_VIEW), '');
  });

  it('asks the API for one page, filters trimmed', () => {
    assert.deepEqual(apiParams({ ...DEFAULT_TASKS_VIEW, taskname: ' tasks.add ', sort: 'name', page: 2 }), { taskname: 'tasks.add', limit: '50', offset: '50', sort_by: 'name' });
  });

  it('flips the sorted column and starts times newest first', () => {
    assert.equal(nextSort('', 'received'), '-received');
    assert.equal(nextSort('-received', 'received'), 'received');
    assert.equal(nextSort('received', 'received'), '-received');
    assert.equal(nextSort('-received', 'name'), 'name');
    assert.equal(nextSort('name', 'name'), '-name');
  });

  it('changes the view (back to page 1) only when the typed filters differ', () => {
    const view = { ...DEFAULT_TASKS_VIEW, search: 'add', page: 4 };
    assert.equal(withFilterText(view, filterTextOf(view)), view);
    assert.deepEqual(withFilterText(view, { ...filterTextOf(view), queue: 'celery' }), { ...view, queue: 'celery', page: 1 });
  });
});

describe('task page event list', () => {
  const at = (type: string, timestamp: number, hostname: string | null = 'w@h') => ({ type, timestamp, hostname });

  it('orders by time, gives the time since the previous event and numbers attempts', () => {
    const rows = eventRows([at('task-sent', 0, 'client@h'), at('task-started', 2), at('task-received', 1), at('task-retried', 3), at('task-received', 4), at('task-succeeded', 6.5)], 0, 6);
    assert.deepEqual(
      rows.map((r) => (r.kind === 'event' ? [r.label, r.timestamp, r.sincePrevious, r.attempt] : ['gap', r.omitted])),
      [
        ['Sent', 0, null, null],
        ['Received', 1, 1, 1],
        ['Started', 2, 1, null],
        ['Retried', 3, 1, null],
        ['Received', 4, 1, 2],
        ['Succeeded', 6.5, 2.5, null],
      ],
    );
  });

  it('marks where events were left out, and labels custom events', () => {
    const rows = eventRows([at('task-received', 0), at('task-progress', 1), at('task-retried', 50), at('task-failed', 51)], 40, 2);
    assert.deepEqual(
      rows.map((r) => (r.kind === 'event' ? [r.label, r.sincePrevious] : ['gap', r.omitted])),
      [
        ['Received', null],
        ['Progress', 1],
        ['gap', 40],
        ['Retried', null],
        ['Failed', 1],
      ],
    );
  });
});
