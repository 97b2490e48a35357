import type { AccessState } from '@/server/http/access';
import { Banner } from './Banner';

/**
 * On every page, above everything else, while the access rule is not the quiet default
 * (loopback, or authentication configured): the API is open to the network on purpose
 * (`--unauthenticated-api`), or refused because Celeriac is reachable without authentication.
 */
export function AccessBanner({ access }: { access: AccessState | null | undefined }) {
  if (!access) return null;
  if (access.mode === 'open') {
    return (
      <Banner tone="warning" testId="access-banner" mode="open" title="The API is open to the network without authentication">
        Celeriac listens on <code>{access.address}</code> with <code>--unauthenticated-api</code>: anyone who can reach this port can read every task and revoke tasks, shut workers down, purge queues
        and send tasks. Configure <code>--basic-auth user:password</code>, or listen on <code>127.0.0.1</code> behind an authenticating proxy.
      </Banner>
    );
  }
  if (access.mode === 'locked') {
    return (
      <Banner tone="danger" testId="access-banner" mode="locked" title="Refused: Celeriac is reachable from the network without authentication" metaTestId="access-refusal">
        {access.refusal}
      </Banner>
    );
  }
  return null;
}
