import type { Metadata } from 'next';
import { EventsView } from '@/components/events/EventsView';
import { unlessLocked } from '@/components/RuntimePage';
import { getRuntime } from '@/server/runtime';

// The tail starts empty and fills over socket.io; nothing to prerender.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Events' };

export default function EventsPage() {
  return unlessLocked(getRuntime(), 'Events', () => <EventsView />);
}
