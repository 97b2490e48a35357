/** The up/down arrows of a sortable column header; `dir` is the column's sort, or null when unsorted. */
export function SortIcon({ dir }: { dir: 'asc' | 'desc' | null }) {
  return (
    <svg className="sort__icon" viewBox="0 0 12 12" aria-hidden="true" data-dir={dir ?? 'none'}>
      <path className="sort__up" d="M6 2.2 9 5.4H3L6 2.2Z" />
      <path className="sort__down" d="M6 9.8 3 6.6h6L6 9.8Z" />
    </svg>
  );
}
