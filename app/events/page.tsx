import type { Metadata } from 'next';
import { AccessLocked } from '@/components/AccessLocked';
import { getRuntime } from '@/server/runtime';
import { EventsView } from '@/components/events/EventsView';

// The tail starts empty and fills over socket.io; nothing to prerender.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Events' };

export default function EventsPage() {
  const runtime = getRuntime();
  if (runtime?.access.mode === 'locked') return <AccessLocked title="Events" access={runtime.access} />;
  return <EventsView />;
}
