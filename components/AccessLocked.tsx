import type { AccessState } from '@/server/http/access';
import { EmptyState } from './EmptyState';
import { PageHeader } from './PageHeader';

/**
 * What a page shows instead of cluster data while the API is locked (non-loopback address, no
 * authentication): the page reads the same data as the API, so it is refused the same way.
 */
export function AccessLocked({ title, access }: { title: string; access: AccessState }) {
  return (
    <>
      <PageHeader title={title} />
      <section className="panel">
        <EmptyState title="Cluster data is not shown: authentication is required" testId="access-locked">
          <p>
            Celeriac listens on <code>{access.address}</code>, which other machines can reach, and no authentication is configured. So that nobody on the network can read tasks or control workers, it
            refuses the API, live updates and every control — for this page too.
          </p>
          <p>To use Celeriac, restart it with one of:</p>
          <ul className="access-fixes">
            <li>
              <code>--basic-auth user:password</code> (or <code>CELERIAC_BASIC_AUTH</code> / <code>FLOWER_BASIC_AUTH</code>): the browser then asks for the credentials;
            </li>
            <li>
              <code>--address 127.0.0.1</code>, for local use or behind a reverse proxy that authenticates;
            </li>
            <li>
              <code>--unauthenticated-api</code> (or <code>FLOWER_UNAUTHENTICATED_API=true</code>), to open it to everyone who can reach the port, on purpose.
            </li>
          </ul>
        </EmptyState>
      </section>
    </>
  );
}
