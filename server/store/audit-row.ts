/**
 * The audit log in the store: one row of `audit` per control action (./schema.ts), written by a
 * ChangeWriter like tasks (batched, kept while the store is down, bounded), and listed by SQL
 * over everything kept, newest first, merged with the entries still waiting to be written — so
 * `/api/audit` never misses an action because the store was slow or down for a moment.
 */
import type { AuditEntry, AuditListQuery, AuditPage, AuditRepository, KeyedAuditEntry } from '../control/audit';
import { auditEntrySchema } from '../control/audit';
import type { ChangeSink, ChangeWriter } from './change-writer';
import type { SqlRunner, SqlValue, StoreDatabase } from './migrate';

const COLUMNS = ['id', 'time', 'user_name', 'remote', 'action', 'target', 'parameters', 'ok', 'message', 'workers'] as const;
/** 10 parameters a row: well under both drivers' limits. */
const ROWS_PER_STATEMENT = 500;

function rowValues({ id, entry }: KeyedAuditEntry): SqlValue[] {
  return [id, entry.time, entry.user, entry.remote, entry.action, entry.target, JSON.stringify(entry.parameters), entry.ok ? 1 : 0, entry.message, JSON.stringify(entry.workers)];
}

/** Insert entries; an id already stored is left as it is (a retried write adds nothing). */
async function insertEntries(sql: SqlRunner, entries: readonly KeyedAuditEntry[]): Promise<void> {
  for (let start = 0; start < entries.length; start += ROWS_PER_STATEMENT) {
    const batch = entries.slice(start, start + ROWS_PER_STATEMENT);
    const tuples = batch.map((_, row) => `(${COLUMNS.map((_, column) => `$${row * COLUMNS.length + column + 1}`).join(', ')})`);
    await sql.execute(`INSERT INTO audit (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (id) DO NOTHING`, batch.flatMap(rowValues));
  }
}

/** The audit writer's sink: each batch one transaction. */
export function auditSink(db: Pick<StoreDatabase, 'transaction'>): ChangeSink<KeyedAuditEntry> {
  return { write: (entries) => db.transaction((sql) => insertEntries(sql, entries)) };
}

/** A stored row as an entry again; a row that does not decode is left out (and counted by the caller). */
function entryOf(row: Record<string, unknown>): AuditEntry | null {
  try {
    const parsed = auditEntrySchema.safeParse({
      time: Number(row.time),
      user: row.user_name ?? null,
      remote: row.remote ?? null,
      action: row.action,
      target: row.target,
      parameters: JSON.parse(String(row.parameters)),
      ok: Number(row.ok) !== 0,
      message: row.message,
      workers: JSON.parse(String(row.workers)),
    });
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function matches(entry: AuditEntry, query: AuditListQuery): boolean {
  return (!query.action || entry.action === query.action) && (!query.target || entry.target === query.target);
}

export class StoredAudit implements AuditRepository {
  constructor(
    private readonly db: Pick<StoreDatabase, 'runner' | 'readRunner' | 'transaction'>,
    private readonly writer: Pick<ChangeWriter<KeyedAuditEntry>, 'changed' | 'pendingRecords'>,
  ) {}

  record(entry: KeyedAuditEntry): void {
    this.writer.changed(entry);
  }

  async importOnce(source: string, entries: readonly KeyedAuditEntry[]): Promise<number> {
    const [done] = await this.db.runner.rows('SELECT entries FROM celeriac_imports WHERE source = $1', [source]);
    if (done) return 0;
    // The marker and the rows in one transaction; the rows' ids make a concurrent second run harmless.
    await this.db.transaction(async (sql) => {
      await insertEntries(sql, entries);
      await sql.execute('INSERT INTO celeriac_imports (source, imported_at, entries) VALUES ($1, $2, $3) ON CONFLICT (source) DO NOTHING', [source, Date.now() / 1000, entries.length]);
    });
    return entries.length;
  }

  async list(query: AuditListQuery): Promise<AuditPage> {
    const conditions: string[] = [];
    const params: SqlValue[] = [];
    if (query.action) {
      params.push(query.action);
      conditions.push(`action = $${params.length}`);
    }
    if (query.target) {
      params.push(query.target);
      conditions.push(`target = $${params.length}`);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    // Waiting entries are the newest (recorded since the store last took a write), newest first.
    let waiting = this.writer
      .pendingRecords()
      .filter((keyed) => matches(keyed.entry, query))
      .reverse();
    if (waiting.length > 0) {
      // Some of the batch being written may be stored already: count those once, as stored.
      const stored = new Set<string>();
      const ids = waiting.map((keyed) => keyed.id);
      for (let start = 0; start < ids.length; start += ROWS_PER_STATEMENT) {
        const chunk = ids.slice(start, start + ROWS_PER_STATEMENT);
        const rows = await this.db.readRunner.rows(`SELECT id FROM audit WHERE id IN (${chunk.map((_, i) => `$${i + 1}`).join(', ')})`, chunk);
        for (const row of rows) stored.add(String(row.id));
      }
      waiting = waiting.filter((keyed) => !stored.has(keyed.id));
    }
    const [count] = await this.db.readRunner.rows(`SELECT COUNT(*) AS n FROM audit ${where}`, params);
    const total = Number(count?.n ?? 0) + waiting.length;
    const fromWaiting = waiting.slice(query.offset, query.offset + query.limit).map((keyed) => keyed.entry);
    const storedLimit = query.limit - fromWaiting.length;
    const storedOffset = Math.max(0, query.offset - waiting.length);
    let fromStore: AuditEntry[] = [];
    if (storedLimit > 0) {
      const rows = await this.db.readRunner.rows(`SELECT ${COLUMNS.join(', ')} FROM audit ${where} ORDER BY time DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`, [
        ...params,
        storedLimit,
        storedOffset,
      ]);
      fromStore = rows.map(entryOf).filter((entry): entry is AuditEntry => entry !== null);
    }
    return { total, entries: [...fromWaiting, ...fromStore] };
  }
}
