import type { ReactNode } from 'react';

/** A page's title row: the title on the left, status or actions on the right, an optional line below. */
export function PageHeader({ title, aside, children }: { title: string; aside?: ReactNode; children?: ReactNode }) {
  return (
    <div className="page-header">
      <div className="page-header__main">
        <h1 className="page-header__title">{title}</h1>
        {children ? <div className="page-header__sub">{children}</div> : null}
      </div>
      {aside ? <div className="page-header__aside">{aside}</div> : null}
    </div>
  );
}
