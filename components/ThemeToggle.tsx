'use client';

/**
 * System / Light / Dark. The choice lives in localStorage; <html data-theme> carries the resolved
 * theme ("light" | "dark") and data-theme-choice the choice. An inline script in the root layout's
 * <head> (app/layout.tsx, same key and logic as applyTheme) applies the stored choice before first
 * paint, so there is no flash of the wrong theme.
 */
import { useEffect, useSyncExternalStore, type ReactNode } from 'react';
import { storedChoice } from './storedChoice';

export type ThemeChoice = 'system' | 'light' | 'dark';

/** localStorage key; app/layout.tsx's inline script reads the same key. */
const THEME_KEY = 'celeriac.theme';

function systemTheme(): 'light' | 'dark' {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function applyTheme(choice: ThemeChoice): void {
  const root = document.documentElement;
  root.setAttribute('data-theme', choice === 'system' ? systemTheme() : choice);
  root.setAttribute('data-theme-choice', choice);
}

/** The stored choice; 'system' is stored as no entry. Every change applies the theme at once. */
const themeChoice = storedChoice<ThemeChoice>(THEME_KEY, {
  parse: (stored) => (stored === 'light' || stored === 'dark' ? stored : 'system'),
  serialize: (choice) => (choice === 'system' ? null : choice),
  onChange: applyTheme,
});

const OPTIONS: { choice: ThemeChoice; label: string; icon: ReactNode }[] = [
  {
    choice: 'system',
    label: 'System theme',
    icon: <path d="M2.5 3.75h11v7.5h-11zM6 13.75h4M8 11.25v2.5" fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round" strokeLinejoin="round" />,
  },
  {
    choice: 'light',
    label: 'Light theme',
    icon: (
      <g fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round">
        <circle cx="8" cy="8" r="2.9" />
        <path d="M8 1.6v1.3M8 13.1v1.3M1.6 8h1.3M13.1 8h1.3M3.5 3.5l.9.9M11.6 11.6l.9.9M3.5 12.5l.9-.9M11.6 4.4l.9-.9" />
      </g>
    ),
  },
  {
    choice: 'dark',
    label: 'Dark theme',
    icon: <path d="M13.2 9.6A5.6 5.6 0 0 1 6.4 2.8a5.6 5.6 0 1 0 6.8 6.8Z" fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinejoin="round" />,
  },
];

export function ThemeToggle() {
  const choice = useSyncExternalStore(themeChoice.subscribe, themeChoice.read, () => 'system' as ThemeChoice);

  // Following the system: track its changes while the page is open.
  useEffect(() => {
    if (choice !== 'system' || !window.matchMedia) return undefined;
    const query = window.matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => applyTheme('system');
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, [choice]);

  return (
    <div className="theme-toggle" role="group" aria-label="Colour theme" data-testid="theme-toggle" data-theme-choice={choice}>
      {OPTIONS.map((option) => (
        <button
          key={option.choice}
          type="button"
          className="theme-toggle__option"
          aria-pressed={choice === option.choice}
          aria-label={option.label}
          title={option.label}
          data-choice={option.choice}
          onClick={() => themeChoice.write(option.choice)}
        >
          <svg viewBox="0 0 16 16" aria-hidden="true">
            {option.icon}
          </svg>
        </button>
      ))}
    </div>
  );
}
