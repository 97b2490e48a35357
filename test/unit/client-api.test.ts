/**
 * The browser's API layer (components/api.ts) against a stand-in fetch: one error type carrying
 * the server's `{error}`, replies that are not JSON reported as such (never a SyntaxError), and
 * control actions that never reject.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ApiError, apiUrl, getJson, postControl, postJson } from '../../components/api';

interface Sent {
  url: string;
  init: RequestInit | undefined;
}

const realFetch = globalThis.fetch;
let sent: Sent[] = [];

/** Every fetch answers `body` (a string: sent as it is; anything else: as JSON) with `status`. */
function answer(status: number, body: unknown): void {
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    sent.push({ url: String(input), init });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  };
}

function unreachable(): void {
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    sent.push({ url: String(input), init });
    throw new TypeError('Failed to fetch');
  };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, `an ApiError, not ${String(error)}`);
    return error;
  }
  assert.fail('resolved');
}

afterEach(() => {
  globalThis.fetch = realFetch;
  sent = [];
});

describe('client API: GET and POST', () => {
  it('builds URLs under the prefix with a query string', () => {
    assert.equal(apiUrl('/api/tasks'), '/api/tasks');
    assert.equal(apiUrl('/api/workers', { refresh: '1', workername: 'a b@host' }), '/api/workers?refresh=1&workername=a+b%40host');
    assert.equal(apiUrl('/api/audit', {}), '/api/audit');
  });

  it('resolves with the JSON body of a 2xx reply, never from the cache', async () => {
    answer(200, { total: 1 });
    assert.deepEqual(await getJson<{ total: number }>('/api/celeriac/tasks', { query: { limit: '50' } }), { total: 1 });
    assert.equal(sent[0]?.url, '/api/celeriac/tasks?limit=50');
    assert.equal(sent[0]?.init?.method, 'GET');
    assert.equal(sent[0]?.init?.cache, 'no-store');
  });

  it("rejects with the server's {error} message and the status", async () => {
    answer(400, { error: "Unknown sort field 'x'" });
    const error = await rejection(getJson('/api/celeriac/tasks'));
    assert.equal(error.message, "Unknown sort field 'x'");
    assert.equal(error.status, 400);
  });

  it('says what failed when the error reply has no message', async () => {
    answer(500, {});
    assert.equal((await rejection(getJson('/api/x'))).message, 'Request failed (HTTP 500)');
  });

  it('reports a reply that is not JSON as such, even a 200', async () => {
    answer(502, '<html>Bad gateway</html>');
    const gateway = await rejection(getJson('/api/x'));
    assert.equal(gateway.message, 'Unexpected reply (HTTP 502): not JSON');
    assert.equal(gateway.status, 502);
    answer(200, '<html>Sign in</html>');
    assert.equal((await rejection(postJson('/api/x'))).message, 'Unexpected reply (HTTP 200): not JSON');
  });

  it('reports no reply at all with status 0', async () => {
    unreachable();
    const error = await rejection(getJson('/api/x'));
    assert.equal(error.status, 0);
    assert.equal(error.message, 'No reply from Celeriac (Failed to fetch)');
  });

  it('sends form fields urlencoded and JSON bodies as JSON', async () => {
    answer(200, { 'task-id': 'abc' });
    await postJson('/api/tasks/revoke', { form: { state: 'PENDING', dry_run: '1' } });
    await postJson('/api/task/send-task/tasks.add', { json: { args: [1, 2] } });
    assert.equal(sent[0]?.init?.method, 'POST');
    assert.deepEqual(sent[0]?.init?.headers, { 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(sent[0]?.init?.body, 'state=PENDING&dry_run=1');
    assert.deepEqual(sent[1]?.init?.headers, { 'Content-Type': 'application/json' });
    assert.equal(sent[1]?.init?.body, '{"args":[1,2]}');
  });
});

describe('client API: control actions', () => {
  it("returns the message and every worker's answer", async () => {
    answer(200, { message: 'Shutting down!', workers: { 'w1@h': { ok: true, message: 'ok' } }, pending: 2 });
    const reply = await postControl('/api/worker/shutdown/w1%40h');
    assert.deepEqual(
      { ok: reply.ok, status: reply.status, message: reply.message, workers: reply.workers, pending: reply.body.pending },
      { ok: true, status: 200, message: 'Shutting down!', workers: { 'w1@h': { ok: true, message: 'ok' } }, pending: 2 },
    );
    assert.equal(sent[0]?.init?.body, undefined);
  });

  it('turns a refusal into a failed reply with the worker answers it carries', async () => {
    answer(403, { error: 'pool restarts are disabled', workers: { 'w1@h': { ok: false, message: 'disabled' } } });
    const reply = await postControl('/api/worker/pool/restart/w1%40h', { form: {} });
    assert.equal(reply.ok, false);
    assert.equal(reply.status, 403);
    assert.equal(reply.message, 'pool restarts are disabled');
    assert.deepEqual(reply.workers, { 'w1@h': { ok: false, message: 'disabled' } });
  });

  it('never rejects: no reply, or a reply that is not JSON, is a failed reply', async () => {
    unreachable();
    const offline = await postControl('/api/queues/pause/celery');
    assert.deepEqual({ ok: offline.ok, status: offline.status, message: offline.message }, { ok: false, status: 0, message: 'No reply from Celeriac (Failed to fetch)' });
    answer(200, 'OK');
    const html = await postControl('/api/queues/pause/celery');
    assert.deepEqual({ ok: html.ok, status: html.status, message: html.message, workers: html.workers }, { ok: false, status: 200, message: 'Unexpected reply (HTTP 200): not JSON', workers: {} });
  });
});
