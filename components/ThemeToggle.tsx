'use client';

/**
 * System / Light / Dark. The choice lives in localStorage; <html data-theme> carries the resolved
 * theme ("light" | "dark") and data-theme-choice the choice. An inline script in the root layout's
 * <head> (app/layout.tsx, same key and logic as applyTheme) applies the stored choice before first
 * paint, so there is no flash of the wrong theme.
 */
import { useEffect, useSyncExternalStore, type ReactNode } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';

/** localStorage key; app/layout.tsx's inline script reads the same key. */
const THEME_KEY = 'celeriac.theme';

const listeners = new Set<() => void>();
let memoryChoice: ThemeChoice | null = null;

function readChoice(): ThemeChoice {
  if (memoryChoice) return memoryChoice;
  try {
    const stored = window.localStorage.getItem(THEME_KEY);
    return stored === 'light' || stored === 'dark' ? stored : 'system';
  } catch {
    return 'system';
  }
}

function systemTheme(): 'light' | 'dark' {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function applyTheme(choice: ThemeChoice): void {
  const root = document.documentElement;
  root.setAttribute('data-theme', choice === 'system' ? systemTheme() : choice);
  root.setAttribute('data-theme-choice', choice);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  const onStorage = (event: StorageEvent) => {
    if (event.key === THEME_KEY) {
      applyTheme(readChoice());
      listener();
    }
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

function setChoice(choice: ThemeChoice): void {
  try {
    if (choice === 'system') window.localStorage.removeItem(THEME_KEY);
    else window.localStorage.setItem(THEME_KEY, choice);
    memoryChoice = null;
  } catch {
    memoryChoice = choice;
  }
  applyTheme(choice);
  for (const listener of listeners) listener();
}

const OPTIONS: { choice: ThemeChoice; label: string; icon: ReactNode }[] = [
  {
    choice: 'system',
    label: 'System theme',
    icon: (
      <path
        d="M2.5 3.75h11v7.5h-11zM6 13.75h4M8 11.25v2.5"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.4"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    ),
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
    icon: (
      <path
        d="M13.2 9.6A5.6 5.6 0 0 1 6.4 2.8a5.6 5.6 0 1 0 6.8 6.8Z"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.4"
        strokeLinejoin="round"
      />
    ),
  },
];

export function ThemeToggle() {
  const choice = useSyncExternalStore(subscribe, readChoice, () => 'system' as ThemeChoice);

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
          onClick={() => setChoice(option.choice)}
        >
          <svg viewBox="0 0 16 16" aria-hidden="true">
            {option.icon}
          </svg>
        </button>
      ))}
    </div>
  );
}
