'use client';

import { useHydrated } from './useClock';
import { useTimePreference, zoneLabel } from './timePreference';

/** Switches every absolute time on the page between UTC and the viewer's local zone. */
export function TimeZoneToggle() {
  const hydrated = useHydrated();
  const { utc, setUtc } = useTimePreference();
  const local = hydrated ? zoneLabel(false) : 'Local';
  return (
    <button
      type="button"
      className="shell-toggle shell-toggle--tz"
      aria-pressed={utc}
      aria-label="Show times in UTC"
      title={utc ? 'Times are shown in UTC. Click for local time.' : `Times are shown in local time (${local}). Click for UTC.`}
      data-testid="utc-toggle"
      data-utc={utc ? 'true' : 'false'}
      onClick={() => setUtc(!utc)}
    >
      <svg viewBox="0 0 16 16" aria-hidden="true" className="shell-toggle__icon">
        <circle cx="8" cy="8" r="6.25" fill="none" stroke="currentColor" strokeWidth="1.5" />
        <path d="M8 4.6V8l2.3 1.5" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      <span className="shell-toggle__label">{utc ? 'UTC' : 'Local'}</span>
    </button>
  );
}
