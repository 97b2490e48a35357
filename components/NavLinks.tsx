'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

/** The main sections. next/link adds the URL prefix (basePath) itself. */
const LINKS = [
  { href: '/', label: 'Overview' },
  { href: '/workers', label: 'Workers' },
  { href: '/tasks', label: 'Tasks' },
  { href: '/queues', label: 'Queues' },
  { href: '/trends', label: 'Trends' },
  { href: '/events', label: 'Events' },
  { href: '/send', label: 'Send task' },
  { href: '/audit', label: 'Audit' },
] as const;

/** Detail pages belong to their list's section (/task/x → Tasks, /worker/x → Workers). */
const SECTION_OF_DETAIL: Record<string, string> = { '/task': '/tasks', '/worker': '/workers' };

function isCurrent(pathname: string, href: string): boolean {
  if (href === '/') return pathname === '/';
  const detail = Object.entries(SECTION_OF_DETAIL).find(([prefix]) => pathname.startsWith(`${prefix}/`));
  if (detail) return detail[1] === href;
  return pathname === href || pathname.startsWith(`${href}/`);
}

export function NavLinks() {
  const pathname = usePathname() ?? '/';
  return (
    <ul className="nav" data-testid="nav">
      {LINKS.map(({ href, label }) => {
        const current = isCurrent(pathname, href);
        return (
          <li key={href}>
            <Link href={href} className="nav__link" aria-current={current ? 'page' : undefined} data-nav={label.toLowerCase().replace(/ /g, '-')}>
              {label}
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
