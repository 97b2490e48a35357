/**
 * Redis key names as kombu's Redis transport builds them (docs/celery-wire-protocol.md
 * §2.5, §5.4, §6.1): every key carries `global_keyprefix`; a queue is one list per priority
 * step; bindings are SETs of `routing_key + sep + pattern + sep + queue`.
 */
import type { TransportOptions } from '../transport-options';

export class RedisKeys {
  constructor(private readonly options: TransportOptions) {}

  /** The list holding messages of `queue` at priority `step` (step 0 is the bare name). */
  queueList(queue: string, step: number): string {
    return step === 0 ? `${this.options.globalKeyprefix}${queue}` : `${this.options.globalKeyprefix}${queue}${this.options.sep}${step}`;
  }

  /** Priority steps, always including 0 (the bare queue name), ascending. */
  steps(): number[] {
    return this.options.prioritySteps.includes(0) ? [...this.options.prioritySteps] : [0, ...this.options.prioritySteps];
  }

  /** All priority lists of a queue, in the order workers BRPOP them (highest priority first). */
  queueLists(queue: string): string[] {
    return this.steps().map((step) => this.queueList(queue, step));
  }

  /** The step a message priority (0–9) lands in: the largest step ≤ priority. */
  stepFor(priority: number): number {
    const clamped = Math.max(0, Math.min(9, Math.trunc(priority)));
    let chosen = 0;
    for (const step of this.options.prioritySteps) if (step <= clamped && step > chosen) chosen = step;
    return chosen;
  }

  /** kombu's binding table of an exchange. */
  bindingSet(exchange: string): string {
    return `${this.options.globalKeyprefix}_kombu.binding.${exchange}`;
  }

  bindingMember(routingKey: string, queue: string, pattern = ''): string {
    return `${routingKey}${this.options.sep}${pattern}${this.options.sep}${queue}`;
  }

  /** Parse a binding member back into its queue name (null when it is not kombu's shape). */
  queueOfBinding(member: string): string | null {
    const parts = member.split(this.options.sep);
    return parts.length === 3 && parts[2] !== '' ? (parts[2] as string) : null;
  }

  /** SCAN pattern for every binding table. */
  bindingScanPattern(): string {
    return `${escapeGlob(this.options.globalKeyprefix)}_kombu.binding.*`;
  }

  /** Exchange name of a binding-table key found by SCAN. */
  exchangeOfBindingKey(key: string): string {
    return key.slice(`${this.options.globalKeyprefix}_kombu.binding.`.length);
  }
}

/** Exchanges that are not task queues' (events, remote control). */
export const NON_TASK_EXCHANGES: ReadonlySet<string> = new Set(['celeryev', 'celery.pidbox', 'reply.celery.pidbox']);

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
