import type { WorkerSummary } from '@/server/realtime/types';

const LABELS: Record<WorkerSummary['status'], string> = { online: 'Online', offline: 'Offline' };

/** Online / Offline pill for a worker. */
export function StatusBadge({ status }: { status: WorkerSummary['status'] }) {
  return (
    <span className={`badge badge--${status}`}>
      <span className="badge__dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
