/**
 * A browser tab's socket, in a process of its own: connects to Celeriac, subscribes to the live
 * views a dashboard tab has open (overview, workers, tasks, event tail, and the task views named
 * on the command line), and tells the parent over IPC once it is connected and subscribed. The
 * realtime test and the soak benchmark then SIGSTOP it: a client that never reads again (a frozen
 * laptop, a stalled network), whose socket buffers must not grow Celeriac's memory.
 *
 * argv: <base url> [task id...]
 */
import { io } from 'socket.io-client';
import { REALTIME, VIEW_EVENTS, type ViewRequest } from '../../server/realtime/types';

const [base, ...taskIds] = process.argv.slice(2);
if (!base) throw new Error('usage: live-view-client <base url> [task id...]');
const socket = io(base, { path: '/socket.io', transports: ['websocket'] });
socket.on('connect', () => {
  const views: ViewRequest[] = ['workers', 'tasks', 'events', ...taskIds.map((id) => ({ view: 'task', id }) as const), 'overview'];
  for (const view of views) socket.emit(REALTIME.subscribe, view);
});
// The server handles a client's messages in order: the overview's snapshot answers the last one.
socket.once(VIEW_EVENTS.overviewSnapshot, () => void process.send?.('ready'));
