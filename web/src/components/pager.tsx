import { useCallback, useState } from 'react';

/**
 * Cursor paging as the API does it: each page's nextCursor leads to the next one, and the
 * cursors walked so far lead back. `cursor` is the current page's (undefined: the first).
 */
export function useCursors() {
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const reset = useCallback(() => setCursors([]), []);
  return {
    cursor: cursors[cursors.length - 1],
    atStart: cursors.length === 0,
    back: () => setCursors(cursors.slice(0, -1)),
    forward: (next: string) => setCursors([...cursors, next]),
    reset,
  };
}

/** What a pager moves: back to the previous page, forward to the one `next` leads to. */
export interface Paging {
  readonly atStart: boolean;
  readonly back: () => void;
  readonly forward: (next: string) => void;
}

export function Pager(props: {
  readonly pages: Paging;
  readonly nextCursor: string | null;
  readonly backLabel: string;
  readonly forwardLabel: string;
}) {
  const { pages, nextCursor } = props;
  return (
    <div className="pager">
      <button type="button" disabled={pages.atStart} onClick={pages.back}>
        {props.backLabel}
      </button>
      <button
        type="button"
        disabled={nextCursor === null}
        onClick={() => nextCursor !== null && pages.forward(nextCursor)}
      >
        {props.forwardLabel}
      </button>
    </div>
  );
}
