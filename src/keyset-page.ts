/**
 * One page of a keyset-paginated list, from `limit + 1` rows read: the extra
 * row only tells that another page exists, and the cursor names the last row
 * returned (the next page starts strictly after it).
 */
export function keysetPage<Row, Cursor>(
  rows: readonly Row[],
  limit: number,
  cursorOf: (row: Row) => Cursor,
): { page: Row[]; next: Cursor | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, next: rows.length > limit && last ? cursorOf(last) : null };
}
