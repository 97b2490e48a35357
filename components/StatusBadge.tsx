import type { WorkerSummary } from '@/server/realtime/types';

const LABELS: Record<WorkerSummary['status'], string> = { online: 'Online', offline: 'Offline' };
const TONES: Record<WorkerSummary['status'], string> = { online: 'ok', offline: 'bad' };

/** Online / Offline pill for a worker. */
export function StatusBadge({ status }: { status: WorkerSummary['status'] }) {
  return (
    <span className={`badge badge--${TONES[status]}`}>
      <span className="badge__dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
