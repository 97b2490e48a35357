'use client';

/**
 * One worker: live summary (over the workers view), its inspect data in Flower's tabs (pool,
 * broker, queues, tasks, limits, config, system), and its controls. Inspect data refreshes on
 * demand; the summary updates live.
 */
import Link from 'next/link';
import { useCallback, useState } from 'react';
import type { JsonValue } from '@/server/protocol/events';
import { REALTIME, type WorkerSummary, type WorkersDelta, type WorkersSnapshot } from '@/server/realtime/types';
import { errorText, getJson } from '../api';
import { formatCount, formatLoadavg } from '../format';
import { StatusBadge } from '../StatusBadge';
import { RelativeTime } from '../Timestamps';
import { ClockProvider } from '../useClock';
import { useLiveView } from '../useLiveView';
import { WorkerControls } from './WorkerControls';
import styles from './worker.module.css';

const TABS = ['pool', 'broker', 'queues', 'tasks', 'limits', 'config', 'system'] as const;
type Tab = (typeof TABS)[number];

export interface WorkerDetailProps {
  hostname: string;
  initialSummary: WorkerSummary | null;
  initialInspect: Record<string, JsonValue> | null;
  paused: boolean;
  readOnly: boolean;
  serverNow: number;
}

type Json = JsonValue;

function obj(value: Json | undefined): Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
}

function list(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

/** A definition list of scalar fields; nested values shown as compact JSON text. */
function Fields({ data, testId }: { data: Record<string, Json>; testId?: string }) {
  const entries = Object.entries(data);
  if (entries.length === 0) return <p className="muted">No data reported.</p>;
  return (
    <dl className={styles.fields} data-testid={testId}>
      {entries.map(([key, value]) => (
        <div key={key} className={styles.field}>
          <dt>{key}</dt>
          <dd>{typeof value === 'object' && value !== null ? <code>{JSON.stringify(value)}</code> : String(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

function TaskList({ title, items, testId }: { title: string; items: Json[]; testId: string }) {
  return (
    <section className={styles.block} data-testid={testId}>
      <h3>
        {title} <span className="muted">({items.length})</span>
      </h3>
      {items.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className={styles.taskList}>
          {items.map((item, i) => {
            // scheduled entries wrap the request: {eta, priority, request}; revoked is a list of ids.
            const request = obj(obj(item).request ?? item);
            const id = typeof request.id === 'string' ? request.id : typeof item === 'string' ? item : null;
            const name = typeof request.name === 'string' ? request.name : null;
            const eta = typeof obj(item).eta === 'string' ? (obj(item).eta as string) : null;
            return (
              <li key={id ?? i}>
                {id ? <Link href={`/task/${encodeURIComponent(id)}`}>{id}</Link> : null}
                {name ? <span className={styles.taskName}>{name}</span> : null}
                {typeof request.args === 'string' ? <code>{request.args}</code> : null}
                {eta ? <span className="muted">eta {eta}</span> : null}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

export function WorkerDetail({ hostname, initialSummary, initialInspect, paused, readOnly, serverNow }: WorkerDetailProps) {
  const [summary, setSummary] = useState<WorkerSummary | null>(initialSummary);
  const [inspect, setInspect] = useState<Record<string, Json> | null>(initialInspect);
  const [tab, setTab] = useState<Tab>('pool');
  const [refreshing, setRefreshing] = useState(false);
  const [refreshError, setRefreshError] = useState<string | null>(null);
  const [isPaused, setPaused] = useState(paused);

  const socketState = useLiveView('workers', {
    [REALTIME.workersSnapshot]: (snapshot: WorkersSnapshot) => setSummary(snapshot.workers.find((w) => w.hostname === hostname) ?? null),
    [REALTIME.workersDelta]: (delta: WorkersDelta) => {
      const changed = delta.upserts.find((w) => w.hostname === hostname);
      if (changed) setSummary(changed);
      if (delta.removed.includes(hostname)) setSummary(null);
    },
  });

  const refresh = useCallback(async () => {
    setRefreshing(true);
    setRefreshError(null);
    try {
      const body = await getJson<Record<string, Json>>('/api/workers', { query: { refresh: '1', workername: hostname } });
      setInspect(obj(body[hostname]));
    } catch (error) {
      setRefreshError(errorText(error));
    } finally {
      setRefreshing(false);
    }
  }, [hostname]);

  const stats = obj(inspect?.stats);
  const pool = obj(stats.pool);
  const broker = obj(stats.broker);
  const conf = obj(inspect?.conf);
  const queues = list(inspect?.active_queues);

  return (
    <ClockProvider serverNow={serverNow}>
      <header className="page-header">
        <div>
          <p className={styles.crumbs}>
            <Link href="/workers">Workers</Link> /
          </p>
          <h1 className={styles.title} data-testid="worker-name">
            {hostname}
          </h1>
          <p className="summary">
            {summary ? <StatusBadge status={summary.status} /> : <span className="muted">not heard from yet</span>}
            {isPaused ? (
              <span className={styles.pausedBadge} data-testid="worker-paused">
                paused
              </span>
            ) : null}
            {summary?.lastHeartbeat ? (
              <span className="muted">
                last heard <RelativeTime at={summary.lastHeartbeat} />
              </span>
            ) : null}
            <span className="muted" data-testid="worker-socket" data-state={socketState}>
              {socketState === 'live' ? 'live' : 'reconnecting…'}
            </span>
          </p>
        </div>
        <button type="button" className="button" onClick={() => void refresh()} disabled={refreshing} data-testid="worker-refresh">
          {refreshing ? 'Refreshing…' : 'Refresh inspect data'}
        </button>
      </header>
      {refreshError ? (
        <div className="banner banner--danger" role="alert">
          {refreshError}
        </div>
      ) : null}

      {summary ? (
        <dl className="stats" data-testid="worker-stats">
          {(
            [
              ['Active', summary.active],
              ['Processed', summary.processed],
              ['Succeeded', summary.succeeded],
              ['Failed', summary.failed],
              ['Retried', summary.retried],
              ['Revoked', summary.revoked],
            ] as const
          ).map(([label, value]) => (
            <div className="stat" key={label}>
              <dt>{label}</dt>
              <dd>{formatCount(value)}</dd>
            </div>
          ))}
          <div className="stat">
            <dt>Load average</dt>
            <dd>{formatLoadavg(summary.loadavg)?.join(' ') ?? '–'}</dd>
          </div>
        </dl>
      ) : null}

      {!readOnly ? <WorkerControls hostname={hostname} paused={isPaused} onPausedChange={setPaused} onDone={() => void refresh()} /> : null}

      <section className="panel">
        <div className={styles.tabs} role="tablist" aria-label="Worker details">
          {TABS.map((name) => (
            <button
              key={name}
              type="button"
              role="tab"
              aria-selected={tab === name}
              className={tab === name ? `${styles.tab} ${styles.tabActive}` : styles.tab}
              onClick={() => setTab(name)}
              data-testid={`worker-tab-${name}`}
            >
              {name[0]?.toUpperCase()}
              {name.slice(1)}
            </button>
          ))}
        </div>
        <div className={styles.tabBody} role="tabpanel" data-testid={`worker-tabpanel-${tab}`}>
          {!inspect ? (
            <p className="muted">No inspect data yet: the worker has not answered remote control. Use “Refresh inspect data”.</p>
          ) : tab === 'pool' ? (
            <Fields data={{ ...pool, prefetch_count: stats.prefetch_count ?? null, ...(stats.autoscaler ? { autoscaler: stats.autoscaler } : {}) }} testId="worker-pool" />
          ) : tab === 'broker' ? (
            <Fields data={broker} />
          ) : tab === 'queues' ? (
            <table className="table" data-testid="worker-queues">
              <thead>
                <tr>
                  <th>Queue</th>
                  <th>Exchange</th>
                  <th>Routing key</th>
                  <th>Durable</th>
                </tr>
              </thead>
              <tbody>
                {queues.map((queue, i) => {
                  const q = obj(queue);
                  return (
                    <tr key={String(q.name ?? i)}>
                      <td>{String(q.name ?? '')}</td>
                      <td>{String(obj(q.exchange).name ?? '')}</td>
                      <td>{String(q.routing_key ?? '')}</td>
                      <td>{String(q.durable ?? '')}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          ) : tab === 'tasks' ? (
            <div className={styles.columns}>
              <TaskList title="Active" items={list(inspect.active)} testId="worker-active-tasks" />
              <TaskList title="Reserved" items={list(inspect.reserved)} testId="worker-reserved-tasks" />
              <TaskList title="Scheduled" items={list(inspect.scheduled)} testId="worker-scheduled-tasks" />
              <TaskList title="Revoked" items={list(inspect.revoked)} testId="worker-revoked-tasks" />
            </div>
          ) : tab === 'limits' ? (
            <section className={styles.block}>
              <h3>Registered tasks</h3>
              <ul className={styles.taskList} data-testid="worker-registered">
                {list(inspect.registered).map((name) => (
                  <li key={String(name)}>
                    <code>{String(name)}</code>
                  </li>
                ))}
              </ul>
              <p className="muted">
                Rate and time limits of a task show in brackets when set (e.g. <code>[rate_limit=10/m]</code>).
              </p>
            </section>
          ) : tab === 'config' ? (
            <Fields data={conf} testId="worker-config" />
          ) : (
            <Fields data={{ pid: stats.pid ?? null, uptime: stats.uptime ?? null, clock: stats.clock ?? null, ...obj(stats.rusage), total: stats.total ?? null }} testId="worker-system" />
          )}
        </div>
      </section>
    </ClockProvider>
  );
}
