/**
 * The ingest pipeline's sink: where decoded events enter the state, and where every drop is
 * counted by reason and logged without flooding the log (first occurrence of each reason at
 * once, then at most one summary line per reason per interval).
 */
import type { Logger } from 'pino';
import { DROP_REASONS, KNOWN_TASK_EVENT_TYPES, WORKER_EVENT_TYPES, type CeleryEvent, type DropReason } from '../protocol/events';
import type { EventSink } from '../protocol/decode';
import type { ClusterState } from './cluster-state';

export interface IngestCounters {
  /** Events decoded and applied to the state. */
  events: number;
  /** By event type. */
  byType: Map<string, number>;
  dropped: Record<DropReason, number>;
  /** Well-formed gossip events deliberately ignored (worker-elect…). */
  ignored: number;
  /** Celeriac clock (epoch s) of the last event applied, or null. */
  lastEventAt: number | null;
  /** Receive time minus sender timestamp of the last event (delivery delay plus clock skew). */
  lastLagSeconds: number | null;
}

export class Ingest implements EventSink {
  readonly counters: IngestCounters = {
    events: 0,
    // Celery's own event types start at 0 so their series exist before the first event.
    byType: new Map([...WORKER_EVENT_TYPES, ...KNOWN_TASK_EVENT_TYPES].map((type) => [type, 0])),
    dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
    ignored: 0,
    lastEventAt: null,
    lastLagSeconds: null,
  };
  private readonly lastLogged = new Map<DropReason, { at: number; countAtLog: number }>();

  constructor(
    private readonly state: ClusterState,
    private readonly logger: Logger,
    private readonly logIntervalMs = 10_000,
  ) {}

  event(event: CeleryEvent): void {
    const counters = this.counters;
    counters.events++;
    counters.byType.set(event.type, (counters.byType.get(event.type) ?? 0) + 1);
    counters.lastEventAt = event.localReceived;
    counters.lastLagSeconds = event.localReceived - event.timestamp;
    this.state.apply(event);
  }

  drop(reason: DropReason, detail: string): void {
    const count = ++this.counters.dropped[reason];
    const now = Date.now();
    const last = this.lastLogged.get(reason);
    if (!last) {
      this.lastLogged.set(reason, { at: now, countAtLog: count });
      this.logger.warn({ reason, detail }, 'dropped an inbound message or event (further drops of this kind are summarised)');
    } else if (now - last.at >= this.logIntervalMs) {
      this.logger.warn({ reason, detail, since: count - last.countAtLog, total: count }, 'dropped inbound messages or events');
      this.lastLogged.set(reason, { at: now, countAtLog: count });
    }
  }

  ignored(): void {
    this.counters.ignored++;
  }

  totalDropped(): number {
    let total = 0;
    for (const reason of DROP_REASONS) total += this.counters.dropped[reason];
    return total;
  }
}
