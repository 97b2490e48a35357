'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

/** Pages that exist. Add an entry here when a page ships, not before. */
const LINKS = [{ href: '/workers', label: 'Workers' }] as const;

export function NavLinks() {
  const pathname = usePathname();
  return (
    <ul className="nav">
      {LINKS.map(({ href, label }) => {
        const current = pathname === href || pathname.startsWith(`${href}/`);
        return (
          <li key={href}>
            <Link href={href} className="nav__link" aria-current={current ? 'page' : undefined}>
              {label}
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
