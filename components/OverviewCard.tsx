/**
 * A titled card of the overview and Trends pages: a panel whose header names it and says what
 * it covers ("last 5 min", "dashed: previous period"), labelled for assistive technology.
 */
import type { ReactNode } from 'react';

export function OverviewCard({ title, meta, testId, children }: { title: string; meta: ReactNode; testId: string; children: ReactNode }) {
  const titleId = `${testId}-title`;
  return (
    <section className="panel ov-card" data-testid={testId} aria-labelledby={titleId}>
      <header className="ov-card__header">
        <h2 id={titleId} className="ov-card__title">
          {title}
        </h2>
        <span className="ov-card__meta">{meta}</span>
      </header>
      {children}
    </section>
  );
}
