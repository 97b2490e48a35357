import type { Metadata, Viewport } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { AccessBanner } from '@/components/AccessBanner';
import { CeleriacLogo } from '@/components/CeleriacLogo';
import { NavLinks } from '@/components/NavLinks';
import { ThemeToggle } from '@/components/ThemeToggle';
import { TimeZoneToggle } from '@/components/TimeZoneToggle';
import { TimePreferenceProvider } from '@/components/timePreference';
import { getRuntime } from '@/server/runtime';
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

/**
 * Applies the stored theme before first paint (no flash of the wrong theme). Inline on purpose: no
 * external asset, runs before the stylesheet paints. Same key and logic as components/ThemeToggle.
 */
const THEME_SCRIPT =
  "(function(){try{var c=localStorage.getItem('celeriac.theme');if(c!=='light'&&c!=='dark')c='system';" +
  "var t=c==='system'?(window.matchMedia&&matchMedia('(prefers-color-scheme: dark)').matches?'dark':'light'):c;" +
  "var d=document.documentElement;d.setAttribute('data-theme',t);d.setAttribute('data-theme-choice',c);}catch(e){}})();";

export default function RootLayout({ children }: { children: ReactNode }) {
  // Read per request (every page is force-dynamic); null when rendered at build time.
  const access = getRuntime()?.access ?? null;
  return (
    // The inline script sets data-theme on <html> before React hydrates: expected, not a mismatch.
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a constant script of ours that applies the stored theme before first paint (no flash) */}
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <TimePreferenceProvider>
          <a className="skip-link" href="#main">
            Skip to content
          </a>
          <header className="topbar">
            <div className="topbar__inner">
              <Link href="/" className="brand" aria-label="Celeriac overview">
                <CeleriacLogo />
                <span className="brand__name">Celeriac</span>
              </Link>
              <nav className="topbar__nav" aria-label="Main">
                <NavLinks />
              </nav>
              <div className="topbar__tools">
                <TimeZoneToggle />
                <ThemeToggle />
              </div>
            </div>
          </header>
          <main id="main" className="main">
            <AccessBanner access={access} />
            {children}
          </main>
        </TimePreferenceProvider>
      </body>
    </html>
  );
}
