/**
 * One page of a keyset-paginated list: `read` is asked for `limit + 1` rows,
 * the extra row only tells that another page exists, and the cursor names
 * the last row returned (the next page starts strictly after it).
 */
export async function readKeysetPage<Row, Cursor>(
  read: (limit: number) => Promise<readonly Row[]>,
  limit: number,
  cursorOf: (row: Row) => Cursor,
): Promise<{ page: Row[]; next: Cursor | null }> {
  const rows = await read(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, next: rows.length > limit && last ? cursorOf(last) : null };
}
