/**
 * Cursor pagination as an async iterator: each page's nextCursor is the next request's cursor
 * until it is null. Pages are fetched one at a time, when the consumer asks for the next.
 */

interface Paged {
  readonly nextCursor: string | null;
}

export async function* pages<Q extends { readonly cursor?: string }, P extends Paged>(
  query: Q,
  fetchPage: (query: Q) => Promise<P>,
): AsyncGenerator<P, void, undefined> {
  let cursor = query.cursor;
  for (;;) {
    const page = await fetchPage(cursor === undefined ? query : { ...query, cursor });
    yield page;
    if (page.nextCursor === null) return;
    // A server that hands back the cursor it was given would make this loop forever.
    if (page.nextCursor === cursor) {
      throw new Error(`the API answered the same cursor again (${cursor}): stopping`);
    }
    cursor = page.nextCursor;
  }
}
