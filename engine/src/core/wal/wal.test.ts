import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import type { PushEntry } from '../model.js';
import type { WalRecord } from './record.js';
import { checkpointName, checkpointTmpName, encodeRecords, segmentName } from './segment.js';
import { Wal, type ReplayStats, type WalLogger } from './wal.js';

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'strata-wal-'));
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function captureLogger(): WalLogger & { warns: string[] } {
  const warns: string[] = [];
  return { warns, warn: (msg, fields) => warns.push(`${msg} ${JSON.stringify(fields)}`), info: () => undefined };
}

async function replayAll(d = dir): Promise<{ records: WalRecord[]; stats: ReplayStats; logger: ReturnType<typeof captureLogger> }> {
  const records: WalRecord[] = [];
  const logger = captureLogger();
  const stats = await Wal.replay(d, (r) => records.push(r), logger);
  return { records, stats, logger };
}

/** An entries record whose single entry's ts is `id` and whose line names it, so replays can be checked by id. */
function rec(id: number, lineBytes = 0): WalRecord {
  const line = Buffer.concat([Buffer.from(`batch-${id}`), Buffer.alloc(lineBytes, 0x61)]);
  return { type: 'entries', tenant: 'team-a', ref: 1, entries: [{ ts: BigInt(id), line }] };
}

function ids(records: WalRecord[]): number[] {
  return records.flatMap((r) => (r.type === 'entries' ? r.entries.map((e) => Number(e.ts)) : []));
}

async function walFiles(): Promise<string[]> {
  return (await fs.readdir(dir)).sort();
}

/** Patches a FileHandle method for every handle (segment files included) until `restore()`. */
async function patchFileHandle(
  method: 'datasync' | 'write',
  impl: (original: (...args: unknown[]) => Promise<unknown>, self: unknown, args: unknown[]) => Promise<unknown>,
): Promise<() => void> {
  const probe = await fs.open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  await probe.close();
  await fs.unlink(join(dir, 'probe'));
  const original = proto[method]!;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    return impl(original, this, args);
  };
  return () => {
    proto[method] = original;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Wal', () => {
  it('round-trips series and entries through a segment on disk', async () => {
    const entries: PushEntry[] = [
      { ts: 1_700_000_000_123_456_789n, line: Buffer.from([0, 1, 2, 0xff, 0xfe]) },
      { ts: (1n << 62n) + 12345n, line: Buffer.from('ünïcode line'), metadata: [['trace_id', '0af7651916cd43dd']] },
    ];
    const records: WalRecord[] = [
      { type: 'series', tenant: 'team-a', ref: 1, labels: '{app="api"}' },
      { type: 'entries', tenant: 'team-a', ref: 1, entries },
    ];
    const wal = await Wal.open({ dir });
    await wal.append(records);
    expect(wal.records).toBe(2);
    expect(wal.fsyncs).toBe(1);
    expect(wal.currentSegment).toBe(1);
    await wal.close();

    const { records: back, stats } = await replayAll();
    expect(back).toEqual(records);
    expect(stats).toEqual({ records: 2, segments: 1, corrupt: [] });
  });

  it('replays an absent directory as an empty WAL', async () => {
    const { records, stats } = await replayAll(join(dir, 'nope'));
    expect(records).toEqual([]);
    expect(stats).toEqual({ records: 0, segments: 0, corrupt: [] });
  });

  it('starts a new segment after the existing ones on every open', async () => {
    let wal = await Wal.open({ dir });
    await wal.append([rec(1)]);
    await wal.close();
    wal = await Wal.open({ dir });
    expect(wal.currentSegment).toBe(2);
    await wal.append([rec(2)]);
    await wal.close();
    expect(await walFiles()).toEqual([segmentName(1), segmentName(2)]);
    expect(ids((await replayAll()).records)).toEqual([1, 2]);
  });

  it('group-commits appends of the same tick into one write and one fsync', async () => {
    const wal = await Wal.open({ dir });
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => wal.append([rec(i)])));
    expect(wal.records).toBe(n);
    expect(wal.fsyncs).toBe(1);
    await wal.close();
    expect(ids((await replayAll()).records)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('group-commits appends that arrive while an fsync is in flight', async () => {
    // A slow disk: every fdatasync takes 20 ms. Appends keep arriving, one per event-loop turn, meanwhile.
    const restore = await patchFileHandle('datasync', async (orig, self, args) => {
      await sleep(20);
      return orig.apply(self, args);
    });
    try {
      const wal = await Wal.open({ dir });
      const n = 100;
      const acks: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        acks.push(wal.append([rec(i)]));
        await tick();
      }
      await Promise.all(acks);
      expect(wal.records).toBe(n);
      expect(wal.fsyncs).toBeGreaterThanOrEqual(1);
      expect(wal.fsyncs).toBeLessThanOrEqual(10);
      await wal.close();
    } finally {
      restore();
    }
    expect(ids((await replayAll()).records)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("acknowledges only after fsync with 'always', never fsyncs appends with 'never' (close still does)", async () => {
    let synced = 0;
    let ackedBeforeSync = false;
    const restore = await patchFileHandle('datasync', async (orig, self, args) => {
      await orig.apply(self, args);
      synced++;
    });
    try {
      const always = await Wal.open({ dir: join(dir, 'always') });
      await always.append([rec(1)]).then(() => (ackedBeforeSync = synced === 0));
      expect(ackedBeforeSync).toBe(false);
      await always.close();

      const never = await Wal.open({ dir: join(dir, 'never'), fsync: 'never' });
      for (let i = 0; i < 5; i++) await never.append([rec(i)]);
      expect(never.fsyncs).toBe(0);
      await never.close();
      expect(never.fsyncs).toBe(1);
      expect(ids((await replayAll(join(dir, 'never'))).records)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      restore();
    }
  });

  it("fsyncs at most every fsyncIntervalMs with 'batch' and resolves after that fsync", async () => {
    const wal = await Wal.open({ dir, fsync: 'batch', fsyncIntervalMs: 40 });
    const started = Date.now();
    const acks: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      acks.push(wal.append([rec(i)]));
      await sleep(5);
    }
    await Promise.all(acks);
    const elapsed = Date.now() - started;
    expect(wal.fsyncs).toBeGreaterThanOrEqual(2);
    expect(wal.fsyncs).toBeLessThanOrEqual(Math.ceil(elapsed / 40) + 1);
    const beforeAck = wal.fsyncs;
    await wal.append([rec(99)]);
    expect(wal.fsyncs).toBe(beforeAck + 1);
    await wal.close();
    expect(ids((await replayAll()).records)).toHaveLength(21);
  });

  it('rotates to a new segment when segmentSize would be exceeded, keeping order', async () => {
    const wal = await Wal.open({ dir, segmentSize: 1024 });
    for (let i = 0; i < 20; i++) await wal.append([rec(i, 300)]);
    // one batch that does not fit an empty segment still goes in whole
    await wal.append([rec(20, 5000)]);
    await wal.close();
    const files = await walFiles();
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files.slice(0, -1)) expect((await fs.stat(join(dir, f))).size).toBeLessThanOrEqual(1024);
    const { records, stats } = await replayAll();
    expect(ids(records)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(stats.segments).toBe(files.length);
  });

  it('checkpoint: replay yields the snapshot then later segments only, and old segments are gone', async () => {
    const series: WalRecord = { type: 'series', tenant: 'team-a', ref: 1, labels: '{app="api"}' };
    let wal = await Wal.open({ dir, segmentSize: 512 });
    const memory: WalRecord[] = [series];
    await wal.append([series]);
    for (let i = 0; i < 10; i++) {
      const r = rec(i, 100);
      memory.push(r);
      await wal.append([r]);
    }
    const segmentsBefore = await walFiles();
    expect(segmentsBefore.length).toBeGreaterThan(2);

    // Appends of this tick made before checkpoint() go to the old segment (and are in the snapshot); those
    // made after it go to the new one (and are not).
    const before = wal.append([rec(10)]);
    memory.push(rec(10));
    const snapshot = [series, { type: 'entries', tenant: 'team-a', ref: 1, entries: memory.flatMap((r) => (r.type === 'entries' ? r.entries : [])) }] as WalRecord[];
    let taken = 0;
    const cp = wal.checkpoint(() => {
      taken++;
      return snapshot;
    });
    const after = wal.append([rec(11)]);
    await Promise.all([before, cp, after]);
    expect(taken).toBe(1);
    await wal.append([rec(12)]);
    const n = wal.currentSegment;
    await wal.close();

    expect(await walFiles()).toEqual([segmentName(n), checkpointName(n)]);
    const { records, stats } = await replayAll();
    expect(stats.checkpoint).toBe(n);
    expect(stats.segments).toBe(1);
    expect(stats.corrupt).toEqual([]);
    expect(records).toEqual([...snapshot, rec(11), rec(12)]);

    // A second checkpoint replaces the first one, and the next open starts after it.
    wal = await Wal.open({ dir });
    await wal.checkpoint(() => [series]);
    await wal.close();
    expect(await walFiles()).toEqual([segmentName(n + 1), checkpointName(n + 1)]);
    expect((await replayAll()).records).toEqual([series]);
  });

  it('runs concurrent checkpoints one after the other', async () => {
    const wal = await Wal.open({ dir });
    await wal.append([rec(1)]);
    const a = wal.checkpoint(() => [rec(100)]);
    await wal.append([rec(2)]);
    const b = wal.checkpoint(() => [rec(200)]);
    const c = wal.append([rec(3)]);
    await Promise.all([a, b, c]);
    expect(wal.checkpoints).toBe(2);
    await wal.close();
    const { records } = await replayAll();
    // b's snapshot replaces a's; rec(3) was appended before b's turn came, so it is in b's old segments.
    expect(ids(records)).toEqual([200]);
  });

  it('keeps acknowledging appends while a large checkpoint is being written', async () => {
    const wal = await Wal.open({ dir });
    const big = Array.from({ length: 300 }, (_, i) => rec(i, 100_000)); // 30 MB
    let checkpointDone = false;
    const cp = wal.checkpoint(() => big).then(() => (checkpointDone = true));
    await wal.append([rec(1000)]);
    expect(checkpointDone).toBe(false);
    await cp;
    await wal.close();
    const { records } = await replayAll();
    expect(ids(records)).toEqual([...big.map((_, i) => i), 1000]);
  });

  it('a checkpoint that fails keeps every segment (nothing is lost)', async () => {
    const wal = await Wal.open({ dir });
    await wal.append([rec(1)]);
    const bad: WalRecord = { type: 'entries', tenant: 't', ref: 1, entries: [{ ts: 1n << 64n, line: Buffer.alloc(1) }] };
    await expect(wal.checkpoint(() => [bad])).rejects.toThrow(/int64/);
    await wal.append([rec(2)]);
    await wal.close();
    const files = await walFiles();
    expect(files.some((f) => f.startsWith('checkpoint'))).toBe(false);
    expect(ids((await replayAll()).records)).toEqual([1, 2]);
  });

  it('ignores a stray checkpoint .tmp (crash between write and rename), and open() removes it', async () => {
    const wal = await Wal.open({ dir });
    await wal.append([rec(1)]);
    await wal.append([rec(2)]);
    await wal.close();
    // What a crash before the rename leaves: segment 2 exists (the rotation happened), the checkpoint is a .tmp.
    await fs.writeFile(join(dir, segmentName(2)), '');
    await fs.writeFile(join(dir, checkpointTmpName(2)), encodeRecords([rec(1000)]));
    const { records, stats } = await replayAll();
    expect(ids(records)).toEqual([1, 2]);
    expect(stats.checkpoint).toBeUndefined();

    const reopened = await Wal.open({ dir });
    expect(reopened.currentSegment).toBe(3);
    await reopened.close();
    expect(await walFiles()).toEqual([segmentName(1), segmentName(2), segmentName(3)]);
  });

  describe('corruption', () => {
    // Segment 1: records 0..9; segment 2: records 10..14.
    async function twoSegments(): Promise<number[]> {
      let wal = await Wal.open({ dir });
      for (let i = 0; i < 10; i++) await wal.append([rec(i, 50)]);
      await wal.close();
      wal = await Wal.open({ dir });
      for (let i = 10; i < 15; i++) await wal.append([rec(i, 50)]);
      await wal.close();
      const seg1 = await fs.readFile(join(dir, segmentName(1)));
      const frame = seg1.length / 10; // all frames of segment 1 have the same size
      return Array.from({ length: 10 }, (_, i) => i * frame);
    }

    it('reports a torn tail (segment truncated mid-frame) and replays the next segment', async () => {
      const offsets = await twoSegments();
      const seg1 = join(dir, segmentName(1));
      const size = (await fs.stat(seg1)).size;
      await fs.truncate(seg1, offsets[7]! + 20);
      const { records, stats, logger } = await replayAll();
      expect(ids(records)).toEqual([0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14]);
      expect(stats.corrupt).toEqual([
        { file: segmentName(1), offset: offsets[7], skippedBytes: 20, reason: expect.stringMatching(/runs past end of file/) },
      ]);
      expect(logger.warns.join('\n')).toMatch(/00000001/);
      expect(size).toBeGreaterThan(offsets[7]! + 20);

      // a header cut short is reported too
      await fs.truncate(seg1, offsets[7]! + 3);
      const again = await replayAll();
      expect(again.stats.corrupt[0]).toMatchObject({ offset: offsets[7], skippedBytes: 3, reason: expect.stringMatching(/header/) });
      expect(ids(again.records)).toHaveLength(12);
    });

    it('reports a checksum mismatch (a flipped byte) and skips the rest of that segment only', async () => {
      const offsets = await twoSegments();
      const seg1 = join(dir, segmentName(1));
      const bytes = await fs.readFile(seg1);
      bytes[offsets[4]! + 12]! ^= 0x40;
      await fs.writeFile(seg1, bytes);
      const { records, stats } = await replayAll();
      expect(ids(records)).toEqual([0, 1, 2, 3, 10, 11, 12, 13, 14]);
      expect(stats.corrupt).toEqual([
        {
          file: segmentName(1),
          offset: offsets[4],
          skippedBytes: bytes.length - offsets[4]!,
          reason: expect.stringMatching(/checksum mismatch/),
        },
      ]);
    });

    it('reports a zero-filled tail and keeps every record before it', async () => {
      await twoSegments();
      const seg1 = join(dir, segmentName(1));
      await fs.appendFile(seg1, Buffer.alloc(4096));
      const { records, stats } = await replayAll();
      expect(ids(records)).toEqual(Array.from({ length: 15 }, (_, i) => i));
      expect(stats.corrupt).toEqual([
        { file: segmentName(1), offset: expect.any(Number), skippedBytes: 4096, reason: expect.stringMatching(/zero-filled/) },
      ]);
    });

    it('skips only the record whose checksum holds but whose payload does not decode', async () => {
      const payload = Buffer.from([99, 1, 2, 3]); // unknown record type
      const { crc32 } = await import('node:zlib');
      const frame = Buffer.alloc(8 + payload.length);
      frame.writeUInt32LE(payload.length, 0);
      frame.writeUInt32LE(crc32(payload), 4);
      payload.copy(frame, 8);
      await fs.writeFile(join(dir, segmentName(1)), Buffer.concat([encodeRecords([rec(1)]), frame, encodeRecords([rec(2)])]));
      const { records, stats } = await replayAll();
      expect(ids(records)).toEqual([1, 2]);
      expect(stats.corrupt).toHaveLength(1);
      expect(stats.corrupt[0]).toMatchObject({ skippedBytes: frame.length, reason: expect.stringMatching(/unknown record type 99/) });
    });

    it('replays everything from a file bigger than one read buffer', async () => {
      const wal = await Wal.open({ dir });
      const n = 40;
      for (let i = 0; i < n; i++) await wal.append([rec(i, 300_000)]); // 12 MB: spans several 4 MiB reads
      await wal.close();
      const { records, stats } = await replayAll();
      expect(stats.corrupt).toEqual([]);
      expect(ids(records)).toEqual(Array.from({ length: n }, (_, i) => i));
      const last = records[n - 1]!;
      expect(last.type === 'entries' && last.entries[0]!.line.length).toBe(`batch-${n - 1}`.length + 300_000);
    });
  });

  it('rejects the batch when fdatasync fails and continues in a new segment', async () => {
    let failNext = true;
    const restore = await patchFileHandle('datasync', async (orig, self, args) => {
      if (failNext) {
        failNext = false;
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      }
      return orig.apply(self, args);
    });
    const logger = captureLogger();
    try {
      const wal = await Wal.open({ dir, logger });
      const err = await wal.append([rec(1)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe('internal');
      expect((err as EngineError).message).toMatch(/EIO/);
      await wal.append([rec(2)]);
      expect(wal.currentSegment).toBe(2);
      await wal.close();
    } finally {
      restore();
    }
    expect(logger.warns.join()).toMatch(/write failed/);
    // The failed batch may or may not be on disk (at-least-once); the acknowledged one must be.
    expect(ids((await replayAll()).records)).toContain(2);
  });

  it('rejects a timestamp outside int64 for that append only', async () => {
    const wal = await Wal.open({ dir });
    const ok1 = wal.append([rec(1)]);
    const bad = wal.append([rec(2), { type: 'entries', tenant: 't', ref: 1, entries: [{ ts: -(1n << 64n), line: Buffer.alloc(0) }] }]);
    const ok2 = wal.append([rec(3)]);
    await expect(bad).rejects.toMatchObject({ code: 'bad_request' });
    await Promise.all([ok1, ok2]);
    await wal.close();
    expect(ids((await replayAll()).records)).toEqual([1, 3]);
  });

  it('flushes pending appends on close, then rejects appends and checkpoints', async () => {
    const wal = await Wal.open({ dir, fsync: 'never' });
    const pending = wal.append([rec(1)]);
    const closing = wal.close();
    expect(wal.close()).toBe(closing);
    await expect(wal.append([rec(2)])).rejects.toMatchObject({ code: 'unavailable' });
    await pending;
    await closing;
    await expect(wal.append([rec(3)])).rejects.toThrow(/closed/);
    await expect(wal.checkpoint(() => [])).rejects.toThrow(/closed/);
    expect(ids((await replayAll()).records)).toEqual([1]);
  });

  it('a SIGKILLed writer loses no acknowledged batch', async () => {
    // The child runs wal.ts directly: Node strips the types, and a resolve hook maps the `.js` specifiers of our
    // sources to their `.ts` files (Node does not do that by itself).
    const walUrl = new URL('./wal.ts', import.meta.url).href;
    const hook = join(dir, 'hook.mjs');
    await fs.writeFile(
      hook,
      `import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (err) {
      if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !/^\\.{1,2}\\//.test(specifier) || !specifier.endsWith('.js')) throw err;
      return next(specifier.slice(0, -3) + '.ts', context);
    }
  },
});
`,
    );
    const child = join(dir, 'child.mjs');
    await fs.writeFile(
      child,
      `const { Wal } = await import(${JSON.stringify(walUrl)});
const wal = await Wal.open({ dir: process.argv[2], fsync: 'always', segmentSize: 64 * 1024 });
let next = 0;
const pad = Buffer.alloc(500, 0x61);
async function appender() {
  for (;;) {
    const id = next++;
    const line = Buffer.concat([Buffer.from('batch-' + id), pad]);
    await wal.append([{ type: 'entries', tenant: 't', ref: 1, entries: [{ ts: BigInt(id), line }] }]);
    process.stdout.write(id + '\\n');
  }
}
for (let i = 0; i < 8; i++) void appender();
`,
    );
    const walDir = join(dir, 'wal');
    const proc = spawn(process.execPath, ['--experimental-transform-types', '--no-warnings', '--import', hook, child, walDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => proc.on('exit', (code, sig) => resolve(sig ?? code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child produced no acks in time; stderr: ${err}`)), 10_000);
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.split('\n').length > 400) {
          clearTimeout(timer);
          proc.kill('SIGKILL');
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    expect(await exited).toBe('SIGKILL');
    // Only complete lines: a line cut by the kill is not an acknowledgement we can rely on.
    const acked = out.split('\n').slice(0, -1).map(Number);
    expect(acked.length).toBeGreaterThanOrEqual(400);
    const { records, stats } = await replayAll(walDir);
    expect(stats.segments).toBeGreaterThan(1);
    const replayed = new Set(ids(records));
    const missing = acked.filter((id) => !replayed.has(id));
    expect(missing).toEqual([]);
  });
});
