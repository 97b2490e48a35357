import type { AccessState } from '@/server/http/access';

const ICON =
  'M10 1.5a1.6 1.6 0 0 1 1.4.8l7.6 13.4a1.6 1.6 0 0 1-1.4 2.4H2.4A1.6 1.6 0 0 1 1 15.7L8.6 2.3a1.6 1.6 0 0 1 1.4-.8Zm0 12a1.1 1.1 0 1 0 0 2.2 1.1 1.1 0 0 0 0-2.2Zm0-7.4c-.6 0-1 .5-1 1.1l.3 4.6a.7.7 0 0 0 1.4 0l.3-4.6c0-.6-.4-1.1-1-1.1Z';

/**
 * On every page, above everything else, while the access rule is not the quiet default
 * (loopback, or authentication configured): the API is open to the network on purpose
 * (`--unauthenticated-api`), or refused because Celeriac is reachable without authentication.
 */
export function AccessBanner({ access }: { access: AccessState | null | undefined }) {
  if (!access) return null;
  if (access.mode === 'open') {
    return (
      <div className="banner banner--warning" role="alert" data-testid="access-banner" data-mode="open">
        <svg className="banner__icon" viewBox="0 0 20 20" aria-hidden="true">
          <path fill="currentColor" d={ICON} />
        </svg>
        <div className="banner__body">
          <p className="banner__title">The API is open to the network without authentication</p>
          <p className="banner__meta">
            Celeriac listens on <code>{access.address}</code> with <code>--unauthenticated-api</code>: anyone who can reach
            this port can read every task and revoke tasks, shut workers down, purge queues and send tasks. Configure{' '}
            <code>--basic-auth user:password</code>, or listen on <code>127.0.0.1</code> behind an authenticating proxy.
          </p>
        </div>
      </div>
    );
  }
  if (access.mode === 'locked') {
    return (
      <div className="banner banner--danger" role="alert" data-testid="access-banner" data-mode="locked">
        <svg className="banner__icon" viewBox="0 0 20 20" aria-hidden="true">
          <path fill="currentColor" d={ICON} />
        </svg>
        <div className="banner__body">
          <p className="banner__title">Refused: Celeriac is reachable from the network without authentication</p>
          <p className="banner__meta" data-testid="access-refusal">
            {access.refusal}
          </p>
        </div>
      </div>
    );
  }
  return null;
}
