import type { Metadata } from 'next';
import { AccessLocked } from '@/components/AccessLocked';
import { getRuntime } from '@/server/runtime';
import { AuditView } from '@/components/audit/AuditView';

export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Audit log' };

export default function AuditPage() {
  const runtime = getRuntime();
  if (runtime?.access.mode === 'locked') return <AccessLocked title="Audit log" access={runtime.access} />;
  return <AuditView />;
}
