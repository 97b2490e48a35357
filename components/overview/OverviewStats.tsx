import type { ReactNode } from 'react';
import type { OverviewSnapshot } from '@/server/realtime/types';
import { formatCount } from '../format';
import { formatRatio, formatRuntime, ratioTone } from './overviewFormat';

/** One headline figure: its label, the figure itself (a <dd>, as each figure marks itself up), a note. */
function Stat({ label, hint, note, wide = false, children }: { label: string; hint: string; note: ReactNode; wide?: boolean; children: ReactNode }) {
  return (
    <div className={wide ? 'stat stat--wide' : 'stat'} title={hint}>
      <dt>{label}</dt>
      {children}
      <p className="stat__note">{note}</p>
    </div>
  );
}

/** The headline figures. */
export function OverviewStats({ snapshot }: { snapshot: OverviewSnapshot }) {
  const { workers, activeTasks, tasksRetained, tasksStored, failureRatio, runtime } = snapshot;
  const tone = ratioTone(failureRatio);
  return (
    <dl className="stats ov-stats" data-testid="overview-stats">
      <Stat
        label="Workers online"
        hint="Workers that sent a heartbeat recently, out of all known workers"
        note={workers.offline > 0 ? <span className="stat__note--bad">{formatCount(workers.offline)} offline</span> : 'none offline'}
      >
        <dd data-testid="overview-workers-online" data-value={workers.online}>
          <span className={workers.online > 0 ? 'stat--ok-text' : undefined}>{formatCount(workers.online)}</span>
          <span className="stat__of"> / {formatCount(workers.online + workers.offline)}</span>
        </dd>
      </Stat>
      <Stat label="Active tasks" hint="Tasks executing now on online workers" note="executing now">
        <dd data-testid="overview-active-tasks" data-value={activeTasks} className={activeTasks > 0 ? 'stat--busy' : undefined}>
          {formatCount(activeTasks)}
        </dd>
      </Stat>
      {tasksStored === null ? (
        <Stat label="Tasks retained" hint="Tasks Celeriac currently keeps in memory" note="in memory">
          <dd data-testid="overview-tasks-retained" data-value={tasksRetained}>
            {formatCount(tasksRetained)}
          </dd>
        </Stat>
      ) : (
        <Stat label="Tasks stored" hint={`Tasks the store keeps (measured every 30 s); ${formatCount(tasksRetained)} of them in memory`} note={`${formatCount(tasksRetained)} in memory`}>
          <dd data-testid="overview-tasks-stored" data-value={tasksStored}>
            {formatCount(tasksStored)}
          </dd>
        </Stat>
      )}
      <Stat label="Failure ratio" hint="Failed ÷ (failed + succeeded), tasks finished in the last 5 minutes" note={failureRatio === null ? 'no tasks finished · 5 min' : 'last 5 min'}>
        <dd
          data-testid="overview-failure-ratio"
          data-value={failureRatio === null ? '' : failureRatio}
          data-tone={tone}
          className={tone === 'bad' ? 'stat--bad' : tone === 'warn' ? 'stat--warn' : undefined}
        >
          {formatRatio(failureRatio)}
        </dd>
      </Stat>
      <Stat
        label="Runtime p50 · p95 · p99"
        hint="Runtime percentiles of tasks that succeeded in the last 5 minutes"
        note={runtime.count === 0 ? 'no successes · 5 min' : `${formatCount(runtime.count)} succeeded · 5 min`}
        wide
      >
        <dd className="ov-runtime" data-testid="overview-runtime">
          <span data-testid="overview-runtime-p50">{formatRuntime(runtime.p50)}</span>
          <span className="ov-runtime__sep" aria-hidden="true">
            ·
          </span>
          <span className="ov-runtime__minor">{formatRuntime(runtime.p95)}</span>
          <span className="ov-runtime__sep" aria-hidden="true">
            ·
          </span>
          <span className="ov-runtime__minor">{formatRuntime(runtime.p99)}</span>
        </dd>
      </Stat>
    </dl>
  );
}
