/**
 * The RabbitMQ management API (`--broker-api`), as the queue monitor reads it: ready and unacked
 * counts, consumers, and queue discovery (`GET /api/queues/<vhost>`). Flower reads the same.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { errorText } from '../../errors';
import type { BrokerTarget } from '../url';

export const MANAGEMENT_API_TIMEOUT_MS = 2_000;

// Counters are absent until RabbitMQ has sampled a new queue once; tolerate that and nulls.
const managementCount = z.number().nonnegative().nullish();
/**
 * One queue of `GET /api/queues/<vhost>`. Only the fields Celeriac reads are checked; the rest
 * is kept as RabbitMQ sent it because `/api/queues/length` returns these objects (Flower's shape).
 */
const managementQueueSchema = z.looseObject({
  name: z.string(),
  messages: managementCount,
  messages_ready: managementCount,
  messages_unacknowledged: managementCount,
  consumers: managementCount,
  exclusive: z.boolean().nullish(),
  auto_delete: z.boolean().nullish(),
});
export type ManagementQueue = z.infer<typeof managementQueueSchema>;

/** Where and how to reach the RabbitMQ management API. */
export interface ManagementApi {
  /** `<api>/queues/<vhost>`, without credentials (fetch refuses URLs that carry them). */
  queuesUrl: URL;
  authorization: string | null;
  /** For messages and logs: no credentials. */
  redacted: string;
}

/**
 * Queues that hold tasks. Celery's own plumbing is excluded by name (event receivers' `celeryev.<uuid>`,
 * each worker's `<node>.celery.pidbox`, control replies' `<oid>.reply.celery.pidbox`) and any other
 * exclusive or auto-delete queue belongs to some client's session, not to a task route.
 */
export function isTaskQueue(queue: Pick<ManagementQueue, 'name' | 'exclusive' | 'auto_delete'>): boolean {
  if (queue.name.startsWith('celeryev.') || queue.name.endsWith('.celery.pidbox')) return false;
  return queue.exclusive !== true && queue.auto_delete !== true;
}

/** `brokerApi` is --broker-api; null (or a broker that is not RabbitMQ) means no management API. */
export function managementApiFor(config: { brokerApi: string | null; brokerTarget: BrokerTarget }, logger: Logger): ManagementApi | null {
  if (config.brokerApi === null) return null;
  const target = config.brokerTarget;
  if (target.kind !== 'amqp') {
    logger.warn('--broker-api is the RabbitMQ management API; the broker is not RabbitMQ, so it is ignored');
    return null;
  }
  let base: URL;
  try {
    base = new URL(config.brokerApi);
  } catch {
    logger.warn('--broker-api is not a valid URL; reading queue lengths with passive declares instead');
    return null;
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    logger.warn({ protocol: base.protocol }, '--broker-api must be an http(s) URL; reading queue lengths with passive declares instead');
    return null;
  }
  // Credentials from the API URL, else the broker's (as Flower does).
  const user = base.username !== '' ? decodeURIComponent(base.username) : target.username;
  const password = base.username !== '' ? decodeURIComponent(base.password) : target.password;
  base.username = '';
  base.password = '';
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
  // The vhost is one path segment: "/" must travel as %2F.
  const queuesUrl = new URL(`queues/${encodeURIComponent(target.vhost)}`, base);
  return {
    queuesUrl,
    authorization: user ? `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` : null,
    redacted: `${queuesUrl.origin}${queuesUrl.pathname}`,
  };
}

export async function fetchManagementQueues(api: ManagementApi, logger: Logger): Promise<ManagementQueue[]> {
  let body: unknown;
  try {
    const response = await fetch(api.queuesUrl, {
      headers: { accept: 'application/json', ...(api.authorization ? { authorization: api.authorization } : {}) },
      // Covers reading the body too.
      signal: AbortSignal.timeout(MANAGEMENT_API_TIMEOUT_MS),
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const hint = response.status === 401 ? ' (check the credentials in --broker-api)' : response.status === 404 ? ' (is the vhost there, and is --broker-api the /api/ URL?)' : '';
      throw new Error(`answered HTTP ${response.status}${hint}`);
    }
    body = await response.json();
  } catch (error) {
    throw new Error(`RabbitMQ management API ${api.redacted}: ${fetchErrorText(error)}`);
  }
  if (!Array.isArray(body)) throw new Error(`RabbitMQ management API ${api.redacted}: expected a list of queues`);
  const queues: ManagementQueue[] = [];
  for (const item of body) {
    const parsed = managementQueueSchema.safeParse(item);
    if (parsed.success) queues.push(parsed.data);
    else logger.debug({ issue: parsed.error.issues[0]?.message }, 'skipped a queue object the management API sent in an unexpected shape');
  }
  return queues;
}

function fetchErrorText(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${MANAGEMENT_API_TIMEOUT_MS / 1000} s`;
  // undici reports "fetch failed" and hides the reason (ECONNREFUSED, …) in `cause`, sometimes
  // as an AggregateError with an empty message (one failure per address tried) and only a code.
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  if (cause instanceof Error && cause.message !== '') return cause.message;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : errorText(error);
}
