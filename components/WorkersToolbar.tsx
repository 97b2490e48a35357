'use client';

import { useEffect, useRef } from 'react';
import { STATUS_FILTERS, type StatusFilter, type WorkersViewOptions } from './workersView';

const STATUS_LABELS: Record<StatusFilter, string> = { all: 'All', online: 'Online', offline: 'Offline' };

function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** Hostname filter (focus with "/") and the all / online / offline switch. */
export function WorkersToolbar({
  view,
  counts,
  shown,
  onChange,
}: {
  view: WorkersViewOptions;
  counts: Record<StatusFilter, number>;
  shown: number;
  onChange: (patch: Partial<WorkersViewOptions>) => void;
}) {
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(event.target)) return;
      event.preventDefault();
      inputRef.current?.focus();
      inputRef.current?.select();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);

  return (
    <div className="toolbar" role="search">
      <label className="search">
        <svg className="search__icon" viewBox="0 0 20 20" aria-hidden="true">
          <path d="M8.5 3a5.5 5.5 0 0 1 4.4 8.8l3.9 3.9a.9.9 0 0 1-1.3 1.3l-3.9-3.9A5.5 5.5 0 1 1 8.5 3Zm0 1.8a3.7 3.7 0 1 0 0 7.4 3.7 3.7 0 0 0 0-7.4Z" fill="currentColor" />
        </svg>
        <span className="visually-hidden">Filter workers by hostname</span>
        <input
          ref={inputRef}
          className="search__input"
          type="search"
          placeholder="Filter by hostname"
          autoComplete="off"
          spellCheck={false}
          value={view.query}
          onChange={(event) => onChange({ query: event.target.value })}
          onKeyDown={(event) => {
            if (event.key === 'Escape') {
              onChange({ query: '' });
              event.currentTarget.blur();
            }
          }}
          data-testid="workers-filter"
        />
        {view.query === '' ? (
          // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a kbd hint is not focusable; it only repeats the shortcut visually
          <kbd className="search__hint" aria-hidden="true">
            /
          </kbd>
        ) : null}
      </label>
      <div className="segmented" role="group" aria-label="Filter by status" data-testid="workers-status-filter">
        {STATUS_FILTERS.map((status) => (
          <button key={status} type="button" className="segmented__option" aria-pressed={view.status === status} onClick={() => onChange({ status })} data-status={status}>
            {STATUS_LABELS[status]}
            <span className="segmented__count">{counts[status]}</span>
          </button>
        ))}
      </div>
      <p className="toolbar__count" aria-live="polite">
        {shown === counts.all ? `${counts.all} ${counts.all === 1 ? 'worker' : 'workers'}` : `Showing ${shown} of ${counts.all}`}
      </p>
    </div>
  );
}
