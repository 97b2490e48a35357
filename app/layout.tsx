import type { Metadata, Viewport } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { CeleriacLogo } from '@/components/CeleriacLogo';
import { NavLinks } from '@/components/NavLinks';
import './globals.css';

const FAVICON =
  'data:image/svg+xml,' +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">' +
      '<path d="M12 8.2c1.2-2.9 3.5-4.7 6.6-5.2-.3 3.2-2.4 5.3-6.1 5.9M12 8.2C10.8 5.3 8.5 3.5 5.4 3c.3 3.2 2.4 5.3 6.1 5.9" fill="none" stroke="#3fa35a" stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round"/>' +
      '<path d="M12 8.6c-4.3 0-7.4 2.9-7.4 6.6 0 3.4 2.8 5.9 6.3 6.2l.4 1.1.7-1.1c3.5-.3 6.6-2.8 6.6-6.2 0-3.7-2.9-6.6-6.6-6.6Z" fill="#d9c48f"/>' +
      '</svg>',
  );

export const metadata: Metadata = {
  title: { default: 'Celeriac', template: '%s · Celeriac' },
  description: 'Real-time monitoring for Celery clusters',
  applicationName: 'Celeriac',
  // An operations console: keep it out of search engines even if it ends up exposed.
  robots: { index: false, follow: false },
  icons: { icon: FAVICON },
};

export const viewport: Viewport = {
  colorScheme: 'light dark',
  themeColor: [
    { media: '(prefers-color-scheme: light)', color: '#ffffff' },
    { media: '(prefers-color-scheme: dark)', color: '#15181d' },
  ],
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="topbar">
          <div className="topbar__inner">
            <Link href="/workers" className="brand" aria-label="Celeriac home">
              <CeleriacLogo />
              <span className="brand__name">Celeriac</span>
            </Link>
            <nav className="topbar__nav" aria-label="Main">
              <NavLinks />
            </nav>
          </div>
        </header>
        <main id="main" className="main">
          {children}
        </main>
      </body>
    </html>
  );
}
