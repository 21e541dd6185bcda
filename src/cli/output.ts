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
    process.stderr.write(`error [${code}]: ${message}. ${info.hint}\n`);
    if (code === 'internal' && error instanceof Error && error.stack)
      process.stderr.write(error.stack + '\n');
  }
  return info.exit;
}
