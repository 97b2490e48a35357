import type { Metadata } from 'next';
import { AuditView } from '@/components/audit/AuditView';
import { unlessLocked } from '@/components/RuntimePage';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Audit log' };

export default function AuditPage() {
  return unlessLocked(getRuntime(), 'Audit log', () => <AuditView />);
}
