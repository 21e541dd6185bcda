import { errorTable, isAmisiError, type ErrorCode } from '../core/errors.js';

/** Human output is aligned tables; --json prints the same data for machines. */

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string | number | null;
  /** Numbers align right by default. */
  readonly align?: 'left' | 'right';
}

export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => format(c.value(r))));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((row) => row[i]!.length)),
  );
  const right = columns.map(
    (c) =>
      c.align === 'right' ||
      (c.align === undefined && rows.length > 0 && typeof c.value(rows[0]!) === 'number'),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => (right[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** Key/value pairs, aligned. */
export function pairs(entries: readonly [string, string | number | null][]): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${format(v)}`).join('\n');
}

function format(v: string | number | null): string {
  if (v === null) return '-';
  return String(v);
}

/** "1 credit", "2 credits". */
export function credits(n: number): string {
  return `${n} ${n === 1 ? 'credit' : 'credits'}`;
}

/**
 * A price per credit in cents, to a thousandth of a cent (half up, integers only): 1999 cents
 * for 50 credits is "39.98", 5999 for 200 is "29.995", 1000 for 3 is "333.333".
 */
export function centsPerCredit(priceCents: number, credits: number): string {
  const millicents = (2n * 1000n * BigInt(priceCents) + BigInt(credits)) / (2n * BigInt(credits));
  return formatMillicents(Number(millicents));
}

/** 39980 millicents as "39.98", 29995 as "29.995": at least two decimals, as many as needed. */
export function formatMillicents(millicents: number): string {
  const whole = (millicents - (millicents % 1000)) / 1000;
  const fraction = String(millicents % 1000).padStart(3, '0');
  return `${whole}.${fraction.endsWith('0') ? fraction.slice(0, 2) : fraction}`;
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** JSON for machines: epoch-ms fields named *At become ISO 8601 strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (key, v: unknown) =>
      (key.endsWith('At') || key === 'at' || key === 'asOf') && typeof v === 'number'
        ? new Date(v).toISOString()
        : v,
    2,
  );
}

export interface Output {
  readonly json: boolean;
  print(human: () => string, data: unknown): void;
}

export function output(json: boolean): Output {
  return {
    json,
    print(human, data) {
      process.stdout.write((json ? toJson(data) : human()) + '\n');
    },
  };
}

/** One line with the code and what to do; returns the exit code from the error table. */
export function reportError(error: unknown, json: boolean): number {
  let code: ErrorCode = 'internal';
  let message = error instanceof Error ? error.message : String(error);
  let data: Readonly<Record<string, unknown>> = {};
  if (isAmisiError(error)) {
    code = error.code;
    message = error.message;
    data = error.data;
  }
  const info = errorTable[code];
  if (json) {
    process.stdout.write(toJson({ error: { code, title: info.title, message, data } }) + '\n');
  } else {
    // A message that ends in a question ("did you mean ...?") keeps its own mark.
    const end = /[.?!]$/.test(message) ? '' : '.';
    process.stderr.write(`error [${code}]: ${message}${end} ${info.hint}\n`);
    if (code === 'internal' && error instanceof Error && error.stack)
      process.stderr.write(error.stack + '\n');
  }
  return info.exit;
}

/** A progress bar for a terminal line: `[######......]`, `done` of `total` filled. */
export function progressBar(done: number, total: number, width = 24): string {
  const filled =
    total > 0 ? Math.round((Math.min(Math.max(done, 0), total) / total) * width) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
