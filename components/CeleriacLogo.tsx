/** The product mark: a celeriac root with two leaves. Inline SVG, inherits `color`. */
export function CeleriacLogo({ size = 22 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path
        d="M12 8.2c1.2-2.9 3.5-4.7 6.6-5.2-.3 3.2-2.4 5.3-6.1 5.9M12 8.2C10.8 5.3 8.5 3.5 5.4 3c.3 3.2 2.4 5.3 6.1 5.9"
        fill="none"
        stroke="var(--brand-leaf)"
        strokeWidth="1.7"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
      <path d="M12 8.6c-4.3 0-7.4 2.9-7.4 6.6 0 3.4 2.8 5.9 6.3 6.2l.4 1.1.7-1.1c3.5-.3 6.6-2.8 6.6-6.2 0-3.7-2.9-6.6-6.6-6.6Z" fill="var(--brand-root)" />
      <path d="M8.6 14.2c.8-1.4 2-2.1 3.4-2.3M9.4 17.4c1.3.7 3 .8 4.6.1" fill="none" stroke="var(--brand-root-line)" strokeWidth="1.2" strokeLinecap="round" />
    </svg>
  );
}
