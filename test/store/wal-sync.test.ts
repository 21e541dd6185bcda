// SQLite commits are made durable off the thread (ADR 0020): the connection commits with
// synchronous=NORMAL and the store fsyncs the WAL on libuv's pool. These tests hold that fsync
// back and check that nothing is answered before it finishes: not the write, not a read that
// sees it, not a replay; and that a failed fsync fails the write and every write after it.
import assert from 'node:assert/strict';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isAmisiError } from '../../src/core/errors.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { defaultCatalog } from '../helpers.js';

type Callback = (error: NodeJS.ErrnoException | null) => void;

/** fs.fsync as the store sees it, replaced: each call waits until the test lets it finish. */
const realFsync = fs.fsync;
let held: { fd: number; done: Callback }[] = [];
let failWith: NodeJS.ErrnoException | null = null;
let holding = false;

function install(): void {
  (fs as { fsync: unknown }).fsync = (fd: number, done: Callback) => {
    if (failWith) {
      const e = failWith;
      setImmediate(() => done(e));
    } else if (holding) held.push({ fd, done });
    else realFsync(fd, done);
  };
  syncBuiltinESMExports();
}

function restore(): void {
  (fs as { fsync: unknown }).fsync = realFsync;
  syncBuiltinESMExports();
}

/** Lets every fsync held so far run for real. */
function release(): void {
  const now = held;
  held = [];
  for (const h of now) realFsync(h.fd, h.done);
}

/** Whether the promise has settled after the event loop has had a few turns. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
  return done;
}

describe('SQLite: a commit is answered only once its WAL fsync has finished', () => {
  let dir: string;
  let ledger: Ledger;

  before(() => install());
  after(() => restore());
  beforeEach(async () => {
    await ledger?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), 'amisi-wal-sync-'));
    held = [];
    failWith = null;
    holding = false;
    const store = new SqliteStore({ path: join(dir, 'ledger.db') });
    await store.migrate();
    ledger = new Ledger({ store });
    await ledger.loadCatalog(defaultCatalog());
    await ledger.createAccount({ accountId: 'alice' });
    await ledger.grant({ accountId: 'alice', key: 'g', credits: 100, source: 'purchase' });
  });
  after(async () => {
    await ledger?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the charge, a read that sees it and its replay until the fsync, then answers them', async () => {
    holding = true;
    const charge = ledger.charge({ accountId: 'alice', key: 'c1', credits: 30 });
    assert.equal(await settled(charge), false, 'the charge waits for its fsync');
    assert.ok(held.length >= 1, 'an fsync was asked for after the commit');
    // Committed, so a snapshot sees it; it is not yet on disk, so the read waits too.
    const balance = ledger.balance('alice');
    assert.equal(await settled(balance), false, 'a read of the unsynced charge waits');
    const replay = ledger.charge({ accountId: 'alice', key: 'c1', credits: 30 });
    assert.equal(await settled(replay), false, 'its replay waits');
    release();
    // The replay's own commit asked for another fsync after the first was let go.
    holding = false;
    release();
    const first = await charge;
    assert.equal((await balance).available, 70);
    assert.equal((await replay).transactionId, first.transactionId);
  });

  it('a failed fsync fails its write, and every write after it, with internal', async () => {
    failWith = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    await assert.rejects(
      ledger.charge({ accountId: 'alice', key: 'c2', credits: 5 }),
      (e: unknown) =>
        isAmisiError(e) && e.code === 'internal' && /could not be synced/.test(e.message),
    );
    failWith = null;
    await assert.rejects(
      ledger.charge({ accountId: 'alice', key: 'c3', credits: 5 }),
      (e: unknown) =>
        isAmisiError(e) && e.code === 'internal' && /restart the server/.test(e.message),
    );
  });
});
