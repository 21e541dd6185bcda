import { randomBytes } from 'node:crypto';
import { createWriteStream, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { AmisiError } from '../../core/errors.js';
import { MAX_HISTORY_PAGE } from '../../ledger/ledger.js';
import {
  DEFAULT_EXPORT_PAGE,
  openHistoryExport,
  type ExportProgress,
} from '../../service/export.js';
import { withLedger, type GlobalOptions } from '../context.js';
import { pairs } from '../output.js';
import { collect, parseCount, parseTime } from '../parse.js';

type Globals = () => GlobalOptions;

interface CliOptions {
  readonly csv?: boolean;
  readonly out?: string;
  readonly since?: string;
  readonly until?: string;
  readonly kind: string[];
  readonly pageSize?: string;
  readonly progress: boolean;
}

const BAR_WIDTH = 24;
/** A terminal redraws at most this often; a log (not a terminal) gets a line this often. */
const TTY_EVERY_MS = 100;
const LOG_EVERY_MS = 5000;

function thousands(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * Progress on stderr, like renew, sweep and verify show theirs, with more to say: rows,
 * bytes, rate and time. The total is not known without a count query the store does not
 * offer, so the bar is the share of the time span walked (rows come newest first, from the
 * newest transaction back to --since or the account's creation): an estimate, marked "~".
 * On a terminal the line redraws in place; elsewhere (a log) a line every few seconds.
 */
class ProgressLine {
  private readonly started = Date.now();
  /** The first line waits one interval too: a short export shows only its final line. */
  private last = this.started;
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly span: { readonly from: number; readonly to: number } | null,
  ) {}

  private line(p: ExportProgress, done: boolean): string {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const parts = [
      `${thousands(p.rows)} rows`,
      size(p.bytes),
      `${thousands(p.rows / seconds)} rows/s`,
      `${seconds.toFixed(1)}s`,
    ];
    let bar = '';
    if (this.span && p.reachedAt !== null) {
      const whole = this.span.to - this.span.from;
      const share = done ? 1 : whole <= 0 ? 1 : (this.span.to - p.reachedAt) / whole;
      const clamped = Math.min(Math.max(share, 0), 1);
      const filled = Math.round(clamped * BAR_WIDTH);
      bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done ? '' : '~'}${Math.floor(clamped * 100)}% `;
    }
    return `${done ? 'exported' : 'exporting'} ${bar}${parts.join(', ')}`;
  }

  update(p: ExportProgress): void {
    const now = Date.now();
    const every = this.stream.isTTY ? TTY_EVERY_MS : LOG_EVERY_MS;
    if (now - this.last < every) return;
    this.last = now;
    this.shown = true;
    if (this.stream.isTTY) this.stream.write(`\r${this.line(p, false)}\x1b[K`);
    else this.stream.write(`${this.line(p, false)}\n`);
  }

  finish(p: ExportProgress): void {
    const text = this.line(p, true);
    this.stream.write(this.stream.isTTY && this.shown ? `\r${text}\x1b[K\n` : `${text}\n`);
  }

  fail(): void {
    if (this.stream.isTTY && this.shown) this.stream.write('\n');
  }
}

/** Whether the path is a regular file or not there yet: only those are replaced atomically. */
function isPlainFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return true;
  }
}

/** A write stream once its file is open: a path that cannot be written is a usage error. */
async function openForWrite(path: string, flags: string): Promise<WriteStream> {
  const sink = createWriteStream(path, { flags });
  try {
    await once(sink, 'open');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new AmisiError('invalid_argument', `cannot write ${path}: ${code}`, { path, code });
  }
  return sink;
}

/**
 * Writes the chunks to `path`. A regular file is written beside it under a temporary name
 * and renamed when complete, so a failed or interrupted export never leaves a truncated file
 * that looks whole; a device or pipe (/dev/stdout, a FIFO) is written directly.
 */
async function writeFile(path: string, chunks: AsyncIterable<string>): Promise<void> {
  if (!isPlainFile(path)) {
    const sink = await openForWrite(path, 'w');
    await pipeline(Readable.from(chunks, { objectMode: false }), sink);
    return;
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.part`);
  const sink = await openForWrite(temp, 'wx');
  try {
    await pipeline(Readable.from(chunks, { objectMode: false }), sink);
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

async function writeStdout(chunks: AsyncIterable<string>): Promise<void> {
  const sink: Writable = process.stdout;
  try {
    await pipeline(Readable.from(chunks, { objectMode: false }), sink, { end: false });
  } catch (e) {
    // The reader went away (`| head`): what it read is what it wanted.
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return;
    throw e;
  }
}

export function registerExport(program: Command, globals: Globals): void {
  program
    .command('export <account>')
    .description(
      "the account's journal as CSV (RFC 4180, CRLF, newest first), to stdout or --out; a progress line on stderr",
    )
    .option('--csv', 'CSV output (the one format; required so a future format is a choice)')
    .option('--out <file>', 'write to this file (replaced whole when complete) instead of stdout')
    .option('--since <iso>', 'from this time (inclusive)')
    .option('--until <iso>', 'before this time (exclusive)')
    .option(
      '--kind <kind>',
      'only this kind (repeatable): grant, hold, capture, partial_capture, release, charge, hold_expiry, hold_extension, hold_increase, grant_expiry, renewal, plan_change, refund, repayment',
      collect,
      [],
    )
    .option('--page-size <n>', `rows read per query (1 to ${MAX_HISTORY_PAGE})`)
    .option(
      '--no-progress',
      'no progress line (shown on a terminal, or always with --out, on stderr)',
    )
    .action(async (account: string, o: CliOptions) => {
      const g = globals();
      if (!o.csv) {
        throw new AmisiError('invalid_argument', 'give --csv (the only export format for now)', {
          field: 'csv',
        });
      }
      if (g.json && o.out === undefined) {
        throw new AmisiError(
          'invalid_argument',
          '--json prints a summary on stdout, where the CSV would go: give --out FILE',
          { field: 'out' },
        );
      }
      const query = {
        accountId: account,
        ...(o.kind.length > 0 ? { kinds: o.kind } : {}),
        ...(o.since === undefined ? {} : { since: parseTime(o.since, 'since') }),
        ...(o.until === undefined ? {} : { until: parseTime(o.until, 'until') }),
      };
      const pageSize =
        o.pageSize === undefined ? DEFAULT_EXPORT_PAGE : parseCount(o.pageSize, 'page-size');
      if (pageSize < 1 || pageSize > MAX_HISTORY_PAGE) {
        throw new AmisiError(
          'invalid_argument',
          `page-size must be from 1 to ${MAX_HISTORY_PAGE}, got ${pageSize}`,
          { field: 'page-size', value: pageSize },
        );
      }
      const started = Date.now();
      await withLedger(g, async (ledger, out) => {
        const show = o.progress && (process.stderr.isTTY || o.out !== undefined);
        let line: ProgressLine | null = null;
        const csv = await openHistoryExport(ledger, query, {
          pageSize,
          onProgress: (p) => line?.update(p),
        });
        line = show ? new ProgressLine(process.stderr, csv.span) : null;
        try {
          if (o.out === undefined) await writeStdout(csv.chunks);
          else await writeFile(o.out, csv.chunks);
        } catch (e) {
          line?.fail();
          throw e;
        }
        const p = csv.progress();
        line?.finish(p);
        if (o.out === undefined) return;
        const summary = {
          accountId: account,
          rows: p.rows,
          bytes: p.bytes,
          file: o.out,
          order: 'newest first',
          elapsedMs: Date.now() - started,
        };
        out.print(
          () =>
            pairs([
              ['account', account],
              ['rows', p.rows],
              ['bytes', p.bytes],
              ['file', o.out ?? null],
            ]),
          summary,
        );
      });
    });
}
