/**
 * The browser's end of Celeriac's HTTP API: every request goes to the page's own origin, under the
 * URL prefix, and every answer is read the same way.
 *
 * - `getJson` / `postJson` resolve with the JSON body of a 2xx reply and reject with an `ApiError`
 *   otherwise: its message is the server's `{"error": …}` when there is one, and a reply that is
 *   not JSON (a proxy's HTML error page, an empty body) is an `ApiError` too, never a SyntaxError.
 * - `postControl` is for control actions (pause, revoke, purge…): it never rejects, so a refused
 *   action and a failed request both come back as a `ControlReply` with `ok: false` and the text to
 *   show, plus what each worker answered.
 */

/**
 * `--url-prefix` as the UI was built with it ('' or '/something'). Next inlines basePath into
 * links, but fetch and socket.io need it spelled out.
 */
export const URL_PREFIX: string = process.env.NEXT_PUBLIC_CELERIAC_URL_PREFIX ?? '';

/** `path` (e.g. '/api/tasks') under the URL prefix, with `query` as its query string. */
export function apiUrl(path: string, query?: Record<string, string>): string {
  const search = query ? new URLSearchParams(query).toString() : '';
  return `${URL_PREFIX}${path}${search === '' ? '' : `?${search}`}`;
}

/** A request that did not give the JSON it asked for. `status` is 0 when no reply came at all. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  query?: Record<string, string>;
  signal?: AbortSignal;
}

export interface PostOptions extends RequestOptions {
  /** Form fields, sent urlencoded: how Flower's control routes take their parameters. */
  form?: Record<string, string>;
  /** A JSON body instead (send-task). */
  json?: unknown;
}

/** A reply as read: its status and its body parsed, or NOT_JSON. */
interface Reply {
  ok: boolean;
  status: number;
  body: unknown;
}

const NOT_JSON: unique symbol = Symbol('not JSON');

/** The message of anything caught (an ApiError's is ready to show). */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bodyOf(options: PostOptions): { headers?: Record<string, string>; body?: string } {
  if (options.json !== undefined) return { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(options.json) };
  if (options.form !== undefined) return { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(options.form).toString() };
  return {};
}

async function request(method: 'GET' | 'POST', path: string, options: PostOptions): Promise<Reply> {
  try {
    const res = await fetch(apiUrl(path, options.query), {
      method,
      credentials: 'same-origin',
      // Live data: a cached answer is a wrong answer.
      cache: 'no-store',
      signal: options.signal,
      ...bodyOf(options),
    });
    const text = await res.text();
    let body: unknown = NOT_JSON;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      /* not JSON: said so below, by whoever reads it */
    }
    return { ok: res.ok, status: res.status, body };
  } catch (error) {
    // Offline, the server gone, the request aborted: there is no status to report.
    throw new ApiError(`No reply from Celeriac (${errorText(error)})`, 0);
  }
}

/** What to say about a reply that is not the JSON success asked for. */
function failureText(reply: Reply): string {
  if (isRecord(reply.body) && typeof reply.body.error === 'string') return reply.body.error;
  if (reply.body === NOT_JSON) return `Unexpected reply (HTTP ${reply.status}): not JSON`;
  return `Request failed (HTTP ${reply.status})`;
}

function jsonOf<T>(reply: Reply): T {
  if (!reply.ok || reply.body === NOT_JSON) throw new ApiError(failureText(reply), reply.status);
  // The route's documented shape; server/ owns it.
  return reply.body as T;
}

/** GET a JSON route. Rejects with ApiError (the server's message) on anything but a 2xx JSON reply. */
export async function getJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  return jsonOf<T>(await request('GET', path, options));
}

/** POST to a JSON route. Rejects with ApiError (the server's message) on anything but a 2xx JSON reply. */
export async function postJson<T>(path: string, options: PostOptions = {}): Promise<T> {
  return jsonOf<T>(await request('POST', path, options));
}

export interface WorkerOutcome {
  ok: boolean;
  message: string;
}

/** What a control action answered; see the README's "Every control response also carries `workers`". */
export interface ControlReply {
  ok: boolean;
  /** The HTTP status, 0 when no reply came. */
  status: number;
  /** The server's `message` (or `error`), or what went wrong with the request. */
  message: string;
  /** What each worker answered. */
  workers: Record<string, WorkerOutcome>;
  /** The whole JSON body ({} when there was none), for the action's own fields (`task-id`, `pending`…). */
  body: Record<string, unknown>;
}

function workersOf(body: Record<string, unknown>): Record<string, WorkerOutcome> {
  const workers = body.workers;
  if (!isRecord(workers)) return {};
  const out: Record<string, WorkerOutcome> = {};
  for (const [node, outcome] of Object.entries(workers)) {
    if (isRecord(outcome)) out[node] = { ok: outcome.ok === true, message: typeof outcome.message === 'string' ? outcome.message : '' };
  }
  return out;
}

/** POST a control action. Never rejects: a refusal or a failed request is a reply with `ok: false`. */
export async function postControl(path: string, options: PostOptions = {}): Promise<ControlReply> {
  let reply: Reply;
  try {
    reply = await request('POST', path, options);
  } catch (error) {
    return { ok: false, status: 0, message: errorText(error), workers: {}, body: {} };
  }
  const body = isRecord(reply.body) ? reply.body : {};
  const ok = reply.ok && reply.body !== NOT_JSON;
  const message = typeof body.message === 'string' ? body.message : ok ? `HTTP ${reply.status}` : failureText(reply);
  return { ok, status: reply.status, message, workers: workersOf(body), body };
}
