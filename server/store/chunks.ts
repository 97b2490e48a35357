/**
 * Multi-row statements in chunks whose sizes are powers of two (at most `max`): a batch of any
 * size is written with at most log2(max) + 1 distinct statement texts, so the prepared-statement
 * caches (SQLite's per connection, PostgreSQL's named statements) hold a small, fixed set.
 */
export function powerOfTwoChunks<T>(items: readonly T[], max: number): T[][] {
  const chunks: T[][] = [];
  let start = 0;
  while (start < items.length) {
    let size = max;
    while (size > items.length - start) size /= 2;
    chunks.push(items.slice(start, start + size));
    start += size;
  }
  return chunks;
}
