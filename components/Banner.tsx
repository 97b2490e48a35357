import type { ReactNode } from 'react';

const WARNING_ICON =
  'M10 1.5a1.6 1.6 0 0 1 1.4.8l7.6 13.4a1.6 1.6 0 0 1-1.4 2.4H2.4A1.6 1.6 0 0 1 1 15.7L8.6 2.3a1.6 1.6 0 0 1 1.4-.8Zm0 12a1.1 1.1 0 1 0 0 2.2 1.1 1.1 0 0 0 0-2.2Zm0-7.4c-.6 0-1 .5-1 1.1l.3 4.6a.7.7 0 0 0 1.4 0l.3-4.6c0-.6-.4-1.1-1-1.1Z';

export interface BannerProps {
  /**
   * `danger`: the page's numbers cannot be trusted, or it is refused; `warning`: a risk the
   * operator chose; `plain`: one section's problem, without the icon.
   */
  tone: 'danger' | 'warning' | 'plain';
  title: ReactNode;
  /** The cause as the system gave it, after the title. */
  reason?: ReactNode;
  /** What it means, under the title. */
  children: ReactNode;
  testId: string;
  /** data-mode, for banners that say which of their cases they are. */
  mode?: string;
  metaTestId?: string;
}

/** A problem that makes the page's numbers untrustworthy, above everything else. */
export function Banner({ tone, title, reason, children, testId, mode, metaTestId }: BannerProps) {
  return (
    <div className={tone === 'plain' ? 'banner' : `banner banner--${tone}`} role="alert" data-testid={testId} data-mode={mode}>
      {tone === 'plain' ? null : (
        <svg className="banner__icon" viewBox="0 0 20 20" aria-hidden="true">
          <path fill="currentColor" d={WARNING_ICON} />
        </svg>
      )}
      <div className="banner__body">
        <p className="banner__title">
          {title}
          {reason !== undefined ? <span className="banner__reason">{reason}</span> : null}
        </p>
        <p className="banner__meta" data-testid={metaTestId}>
          {children}
        </p>
      </div>
    </div>
  );
}
