import { randomBytes } from 'node:crypto';

/** Time, injected so tests can move it (STYLE.md: core reads no clock; the ledger asks this). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to: for tests and simulations. */
export class FakeClock implements Clock {
  constructor(private ms: number = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new Error('FakeClock moves forward only');
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}

export interface Ids {
  /**
   * A new unique id with the prefix, sortable by creation time: now, or `at` for a record dated
   * in the past (a renewal caught up at the boundary it settles).
   */
  next(prefix: string, at?: number): string;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encode(value: number, chars: number): string {
  let out = '';
  for (let i = 0; i < chars; i++) {
    out = CROCKFORD[value % 32]! + out;
    value = Math.floor(value / 32);
  }
  return out;
}

/**
 * ULID-shaped ids: 48 bits of milliseconds and 80 random bits, monotonic within a process
 * (the random part counts up within one millisecond), so ids sort by creation time.
 */
export class UlidIds implements Ids {
  private lastMs = -1;
  private hi = 0; // 40 bits
  private lo = 0; // 40 bits
  private pool = Buffer.alloc(0);
  private poolAt = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  private random40(): number {
    if (this.poolAt + 5 > this.pool.length) {
      this.pool = randomBytes(5 * 1024);
      this.poolAt = 0;
    }
    const v = this.pool.readUIntBE(this.poolAt, 5);
    this.poolAt += 5;
    return v;
  }

  next(prefix: string, at?: number): string {
    if (at !== undefined && at < Math.max(this.clock.now(), this.lastMs))
      return this.dated(prefix, at);
    const ms = Math.max(this.clock.now(), this.lastMs);
    if (ms === this.lastMs) {
      this.lo += 1;
      if (this.lo >= 2 ** 40) {
        this.lo = 0;
        this.hi = (this.hi + 1) % 2 ** 40;
      }
    } else {
      this.lastMs = ms;
      this.hi = this.random40();
      this.lo = this.random40() % 2 ** 39; // room to count up within the millisecond
    }
    return `${prefix}_${encode(ms, 10)}${encode(this.hi, 8)}${encode(this.lo, 8)}`;
  }

  private datedMs = -1;
  private datedHi = 0;
  private datedLo = 0;

  /**
   * An id dated at `at` in the past. Ids dated at the same instant one after the other count up
   * like ids of one millisecond, so records written in order at one boundary (expiries, then the
   * renewal) keep that order; the random part keeps them apart from any other id of that time.
   */
  private dated(prefix: string, at: number): string {
    if (at === this.datedMs) {
      this.datedLo += 1;
      if (this.datedLo >= 2 ** 40) {
        this.datedLo = 0;
        this.datedHi = (this.datedHi + 1) % 2 ** 40;
      }
    } else {
      this.datedMs = at;
      this.datedHi = this.random40();
      this.datedLo = this.random40() % 2 ** 39;
    }
    return `${prefix}_${encode(at, 10)}${encode(this.datedHi, 8)}${encode(this.datedLo, 8)}`;
  }
}
