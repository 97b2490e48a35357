/**
 * The tasks page's view state (components/tasks/tasksView.ts): what the URL holds, how a header
 * click sorts, and when typed filters change the view (and so start a query).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
