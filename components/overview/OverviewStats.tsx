import type { OverviewSnapshot } from '@/server/realtime/types';
import { formatCount } from '../format';
import { formatRatio, formatRuntime, ratioTone } from './overviewFormat';

/** The headline figures. */
export function OverviewStats({ snapshot }: { snapshot: OverviewSnapshot }) {
  const { workers, activeTasks, tasksRetained, failureRatio, runtime } = snapshot;
  const tone = ratioTone(failureRatio);
  return (
    <dl className="stats ov-stats" data-testid="overview-stats">
      <div className="stat" title="Workers that sent a heartbeat recently, out of all known workers">
        <dt>Workers online</dt>
        <dd data-testid="overview-workers-online" data-value={workers.online}>
          <span className={workers.online > 0 ? 'stat--ok-text' : undefined}>{formatCount(workers.online)}</span>
          <span className="stat__of"> / {formatCount(workers.online + workers.offline)}</span>
        </dd>
        <p className="stat__note">
          {workers.offline > 0 ? (
            <span className="stat__note--bad">{formatCount(workers.offline)} offline</span>
          ) : (
            'none offline'
          )}
        </p>
      </div>
      <div className="stat" title="Tasks executing now on online workers">
        <dt>Active tasks</dt>
        <dd data-testid="overview-active-tasks" data-value={activeTasks} className={activeTasks > 0 ? 'stat--busy' : undefined}>
          {formatCount(activeTasks)}
        </dd>
        <p className="stat__note">executing now</p>
      </div>
      <div className="stat" title="Tasks Celeriac currently keeps in memory">
        <dt>Tasks retained</dt>
        <dd data-testid="overview-tasks-retained" data-value={tasksRetained}>
          {formatCount(tasksRetained)}
        </dd>
        <p className="stat__note">in memory</p>
      </div>
      <div className="stat" title="Failed ÷ (failed + succeeded), tasks finished in the last 5 minutes">
        <dt>Failure ratio</dt>
        <dd
          data-testid="overview-failure-ratio"
          data-value={failureRatio === null ? '' : failureRatio}
          data-tone={tone}
          className={tone === 'bad' ? 'stat--bad' : tone === 'warn' ? 'stat--warn' : undefined}
        >
          {formatRatio(failureRatio)}
        </dd>
        <p className="stat__note">{failureRatio === null ? 'no tasks finished · 5 min' : 'last 5 min'}</p>
      </div>
      <div className="stat stat--wide" title="Runtime percentiles of tasks that succeeded in the last 5 minutes">
        <dt>Runtime p50 · p95 · p99</dt>
        <dd className="ov-runtime" data-testid="overview-runtime">
          <span data-testid="overview-runtime-p50">{formatRuntime(runtime.p50)}</span>
          <span className="ov-runtime__sep" aria-hidden="true">·</span>
          <span className="ov-runtime__minor">{formatRuntime(runtime.p95)}</span>
          <span className="ov-runtime__sep" aria-hidden="true">·</span>
          <span className="ov-runtime__minor">{formatRuntime(runtime.p99)}</span>
        </dd>
        <p className="stat__note">
          {runtime.count === 0 ? 'no successes · 5 min' : `${formatCount(runtime.count)} succeeded · 5 min`}
        </p>
      </div>
    </dl>
  );
}
