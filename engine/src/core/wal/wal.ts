/**
 * The ingester's write-ahead log. A push is acknowledged only once its records are in a segment file on disk (per
 * the fsync policy); on start the ingester replays the newest checkpoint and the segments after it.
 *
 * Writes go through one writer loop so batches reach the files in append order. Appends made in the same tick, or
 * while a write or fsync is in flight, are grouped into one write and one fsync (group commit). The byte layout,
 * the checkpoint protocol and replay's handling of corruption are described in docs/wal-format.md.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError, isEngineError } from '../errors.js';
import { ByteWriter, type WalRecord } from './record.js';
import {
  appendFrame,
  checkpointName,
  checkpointTmpName,
  listWalDir,
  readWalFile,
  segmentName,
  type CorruptRegion,
} from './segment.js';

export type { WalRecord } from './record.js';
export type { CorruptRegion } from './segment.js';

/**
 * always: fsync before append() resolves (default). batch: fsync at most every `fsyncIntervalMs`; append() resolves
 * after that fsync. never: append() resolves once the bytes are written (they sit in the OS page cache; a crash of
 * the process loses nothing, a crash of the machine may).
 */
export type FsyncPolicy = 'always' | 'batch' | 'never';

export interface WalLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
}

export interface WalOptions {
  dir: string;
  fsync?: FsyncPolicy;
  /** Only for fsync 'batch'. Default 10 ms. */
  fsyncIntervalMs?: number;
  /** Rotate to a new segment before a write would take the current one past this size. Default 128 MiB. */
  segmentSize?: number;
  logger?: WalLogger;
}

export interface ReplayStats {
  /** Records passed to `visit` (checkpoint and segments). */
  records: number;
  /** Segment files read (the checkpoint not counted). */
  segments: number;
  /** Number of the checkpoint replay started from, if any. */
  checkpoint?: number;
  corrupt: CorruptRegion[];
}

export const DEFAULT_SEGMENT_SIZE = 128 * 1024 * 1024;
export const DEFAULT_FSYNC_INTERVAL_MS = 10;
// Batches that arrive while a group is being written may join it, up to this many (so fsync is never starved).
const MAX_GROUP_BATCHES = 16;
const BATCH_CAPACITY = 64 * 1024;
// Pooled batch buffers bigger than this are dropped instead of kept for reuse.
const POOL_MAX_BUFFER = 8 * 1024 * 1024;
const POOL_SIZE = 4;
// The checkpoint is written in slices of about this size so encoding never holds the event loop for long.
const CHECKPOINT_SLICE = 1024 * 1024;

const noopLogger: WalLogger = { warn: () => undefined, info: () => undefined };

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failure nobody waits for (e.g. a batch whose appenders went away) must not become an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Frames of one or more append() calls, committed together. */
interface BatchOp {
  kind: 'batch';
  w: ByteWriter;
  records: number;
  done: Deferred<void>;
}
/** Checkpoint boundary: everything queued before it lands in segments < the number it resolves with. */
interface RotateOp {
  kind: 'rotate';
  done: Deferred<number>;
}
interface CloseOp {
  kind: 'close';
  done: Deferred<void>;
}
type Op = BatchOp | RotateOp | CloseOp;

export class Wal {
  private readonly dir: string;
  private readonly policy: FsyncPolicy;
  private readonly intervalMs: number;
  private readonly segmentSize: number;
  private readonly logger: WalLogger;

  /** The segment being appended to; undefined after a failure until the next write opens a fresh one. */
  private fh: fs.FileHandle | undefined;
  private seq: number;
  private nextSeq: number;
  private segBytes = 0;
  private dirty = false;
  private lastSyncAt = 0;

  /** The batch that append() currently adds to; sealed when the writer (or a checkpoint, or close) takes it. */
  private filling: BatchOp | undefined;
  private readonly queue: Op[] = [];
  private readonly pool: ByteWriter[] = [];
  private running = false;
  private scheduled = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Settles (never rejects) once the running checkpoint is over. */
  private checkpointing: Promise<void> | undefined;

  private bytesWrittenTotal = 0;
  private recordsTotal = 0;
  private fsyncsTotal = 0;
  private checkpointsTotal = 0;

  private constructor(opts: WalOptions, fh: fs.FileHandle, seq: number) {
    this.dir = opts.dir;
    this.policy = opts.fsync ?? 'always';
    this.intervalMs = opts.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS;
    this.segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.logger = opts.logger ?? noopLogger;
    this.fh = fh;
    this.seq = seq;
    this.nextSeq = seq + 1;
  }

  /**
   * Creates the directory if needed and starts a NEW segment numbered after every existing file, so replayed
   * segments are never appended to. Files made obsolete by the newest checkpoint, and stray `checkpoint.N.tmp`
   * files of an interrupted checkpoint, are removed.
   */
  static async open(opts: WalOptions): Promise<Wal> {
    const policy = opts.fsync ?? 'always';
    if (policy !== 'always' && policy !== 'batch' && policy !== 'never') {
      throw new RangeError(`wal: unknown fsync policy ${String(policy)}`);
    }
    if (opts.segmentSize !== undefined && !(opts.segmentSize > 0)) throw new RangeError('wal: segmentSize must be > 0');
    if (opts.fsyncIntervalMs !== undefined && !(opts.fsyncIntervalMs >= 0)) {
      throw new RangeError('wal: fsyncIntervalMs must be >= 0');
    }
    const logger = opts.logger ?? noopLogger;
    await fs.mkdir(opts.dir, { recursive: true });
    const l = await listWalDir(opts.dir);
    const newest = l.checkpoints.at(-1);
    const stale = l.tmpCheckpoints.map(checkpointTmpName);
    if (newest !== undefined) {
      for (const s of l.segments) if (s < newest) stale.push(segmentName(s));
      for (const c of l.checkpoints) if (c < newest) stale.push(checkpointName(c));
    }
    if (stale.length > 0) await removeFiles(opts.dir, stale, logger);
    const seq = Math.max(0, ...l.segments, ...l.checkpoints, ...l.tmpCheckpoints) + 1;
    const fh = await fs.open(join(opts.dir, segmentName(seq)), 'wx');
    try {
      await syncDir(opts.dir);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    logger.info('wal: opened', { dir: opts.dir, segment: segmentName(seq), fsync: policy });
    return new Wal(opts, fh, seq);
  }

  /**
   * Logs the records. Resolves once they are durable per the fsync policy; rejects with an EngineError ('internal'
   * on a write or fsync failure, 'unavailable' once closed, 'bad_request' for a timestamp outside int64).
   *
   * The records are encoded before append() returns (so the caller may reuse them and their line Buffers at once)
   * and reach the file in call order. The records of one call are all-or-nothing for encoding, but a crash during
   * the write can leave a prefix of them in the file (replay then applies that prefix).
   */
  append(records: readonly WalRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (records.length === 0) return Promise.resolve();
    let b = this.filling;
    if (b === undefined) {
      b = { kind: 'batch', w: this.pool.pop() ?? new ByteWriter(BATCH_CAPACITY), records: 0, done: deferred() };
      this.filling = b;
    }
    const mark = b.w.pos;
    try {
      for (const r of records) appendFrame(b.w, r);
    } catch (err) {
      // All or nothing per call: drop this call's frames, keep the batch for the others.
      b.w.pos = mark;
      return Promise.reject(
        isEngineError(err) ? err : withCause(new EngineError('internal', `wal: cannot encode record: ${text(err)}`), err),
      );
    }
    b.records += records.length;
    this.schedule();
    return b.done.promise;
  }

  /**
   * Writes a checkpoint and drops the segments it makes obsolete.
   *
   * 1. In ONE synchronous section: the pending batch is queued for the current segment, a rotation to a new segment
   *    N is queued after it, and `snapshot()` is called AND iterated to the end. Contract: the caller applies records
   *    to its memory in the same tick it calls append(), so the snapshot covers exactly what segments < N hold, and
   *    everything appended from now on goes to segments ≥ N. The Buffers it yields must not be mutated afterwards
   *    (they are encoded later).
   * 2. The records are written to `checkpoint.N.tmp` in slices, fsynced, renamed to `checkpoint.N`, and the
   *    directory is fsynced. Appends continue meanwhile, into segment N.
   * 3. Segments < N and older checkpoints are deleted.
   *
   * Checkpoints run one at a time: a call made while one runs does its step 1 when that one is over. On failure
   * nothing is deleted.
   */
  checkpoint(snapshot: () => Iterable<WalRecord>): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    // One at a time; when our turn comes, the rotation and the snapshot still happen together.
    if (this.checkpointing) return this.checkpointing.then(() => this.checkpoint(snapshot));
    // ── synchronous section: nothing may await between the rotation and the snapshot ──
    const pending = this.sealFilling();
    if (pending) this.queue.push(pending);
    const rotate: RotateOp = { kind: 'rotate', done: deferred() };
    this.queue.push(rotate);
    this.schedule();
    let records: WalRecord[];
    try {
      records = Array.from(snapshot());
    } catch (err) {
      return Promise.reject(err); // the rotation alone is harmless
    }
    // ── end of synchronous section ──
    const run = this.finishCheckpoint(rotate, records);
    const turn: Promise<void> = run.then(
      () => undefined,
      () => undefined,
    );
    this.checkpointing = turn.then(() => {
      this.checkpointing = undefined;
    });
    return run;
  }

  private async finishCheckpoint(rotate: RotateOp, records: WalRecord[]): Promise<void> {
    const n = await rotate.done.promise;
    const started = Date.now();
    const bytes = await this.writeCheckpoint(n, records);
    const removed = await this.removeObsolete(n);
    this.checkpointsTotal++;
    this.logger.info('wal: checkpoint written', {
      checkpoint: checkpointName(n),
      records: records.length,
      bytes,
      removed,
      durationMs: Date.now() - started,
    });
  }

  /** Writes whatever is pending, fsyncs (whatever the policy) and closes the segment. Later appends reject. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    const pending = this.sealFilling();
    if (pending) this.queue.push(pending);
    const op: CloseOp = { kind: 'close', done: deferred() };
    this.queue.push(op);
    this.schedule();
    this.closing = (async () => {
      await op.done.promise;
      while (this.checkpointing) await this.checkpointing;
    })();
    return this.closing;
  }

  /** Bytes written to segments (frames, headers included). */
  get bytesWritten(): number {
    return this.bytesWrittenTotal;
  }
  /** Records written to segments. */
  get records(): number {
    return this.recordsTotal;
  }
  /** fdatasync calls on segment files (directory fsyncs not counted). */
  get fsyncs(): number {
    return this.fsyncsTotal;
  }
  /** Number of the segment appends currently go to. */
  get currentSegment(): number {
    return this.seq;
  }
  get checkpoints(): number {
    return this.checkpointsTotal;
  }

  /**
   * Reads the newest complete checkpoint (`*.tmp` files are ignored), then every segment numbered ≥ it, in order.
   * Corrupt or torn data is reported in `corrupt` (and to `logger.warn`) and skipped: a bad frame ends its file,
   * and reading goes on with the next file. Throws only if the directory cannot be listed or `visit` throws.
   * A missing directory is an empty WAL. Run it while nothing appends to `dir` (before open(), or after open() and
   * before the first append: open() only adds an empty segment).
   */
  static async replay(dir: string, visit: (r: WalRecord) => void, logger?: WalLogger): Promise<ReplayStats> {
    const log = logger ?? noopLogger;
    const stats: ReplayStats = { records: 0, segments: 0, corrupt: [] };
    const l = await listWalDir(dir);
    const onCorrupt = (c: CorruptRegion): void => {
      stats.corrupt.push(c);
      log.warn('wal: corrupt or torn data skipped', { ...c });
    };
    const ckpt = l.checkpoints.at(-1);
    if (ckpt !== undefined) {
      stats.checkpoint = ckpt;
      stats.records += (await readWalFile(dir, checkpointName(ckpt), visit, onCorrupt)).records;
    }
    for (const seq of l.segments) {
      if (ckpt !== undefined && seq < ckpt) continue;
      stats.records += (await readWalFile(dir, segmentName(seq), visit, onCorrupt)).records;
      stats.segments++;
    }
    log.info('wal: replayed', {
      dir,
      records: stats.records,
      segments: stats.segments,
      checkpoint: ckpt === undefined ? 'none' : checkpointName(ckpt),
      corrupt: stats.corrupt.length,
    });
    return stats;
  }

  // ── writer loop ──────────────────────────────────────────────────────────────────────────────────────────────

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // setImmediate, not a microtask: every append made in this turn of the event loop joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private sealFilling(): BatchOp | undefined {
    const b = this.filling;
    this.filling = undefined;
    if (b !== undefined && b.records === 0) {
      this.release(b.w);
      return undefined;
    }
    return b;
  }

  private nextOp(): Op | undefined {
    return this.queue.shift() ?? this.sealFilling();
  }

  /** The next batch that may share the current group's fsync: never one behind a rotation or close. */
  private nextGroupBatch(): BatchOp | undefined {
    const head = this.queue[0];
    if (head !== undefined) return head.kind === 'batch' ? (this.queue.shift() as BatchOp) : undefined;
    return this.sealFilling();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let op = this.nextOp(); op !== undefined; op = this.nextOp()) {
        if (op.kind === 'batch') await this.commit(op);
        else if (op.kind === 'rotate') await this.rotate(op);
        else await this.finishClose(op);
      }
    } finally {
      this.running = false;
    }
  }

  private async commit(first: BatchOp): Promise<void> {
    const group = [first];
    let failure: unknown;
    try {
      await this.writeBatch(first);
      if (this.policy !== 'never') {
        if (this.policy === 'batch') {
          const wait = this.lastSyncAt + this.intervalMs - Date.now();
          if (wait > 0) await sleep(wait);
        }
        // Group commit: what arrived while we wrote (or waited) rides on the same fsync.
        for (let i = 1; i < MAX_GROUP_BATCHES; i++) {
          const more = this.nextGroupBatch();
          if (more === undefined) break;
          group.push(more);
          await this.writeBatch(more);
        }
        await this.sync();
      }
    } catch (err) {
      failure = err;
      await this.fail(err);
    }
    const error = failure === undefined ? undefined : writeError(failure);
    for (const b of group) {
      if (error === undefined) b.done.resolve();
      else b.done.reject(error);
      this.release(b.w);
    }
  }

  private async writeBatch(b: BatchOp): Promise<void> {
    const len = b.w.pos;
    if (this.fh === undefined || (this.segBytes > 0 && this.segBytes + len > this.segmentSize)) {
      await this.openNext();
    }
    await writeFully(this.fh!, b.w.buf, len, this.segBytes);
    this.segBytes += len;
    this.dirty = true;
    this.bytesWrittenTotal += len;
    this.recordsTotal += b.records;
  }

  private async sync(): Promise<void> {
    if (this.fh === undefined || !this.dirty) return;
    this.lastSyncAt = Date.now();
    await this.fh.datasync();
    this.fsyncsTotal++;
    this.dirty = false;
  }

  /** Closes the current segment (making it durable first unless fsync is 'never') and opens the next one. */
  private async openNext(): Promise<number> {
    const old = this.fh;
    if (old !== undefined) {
      if (this.policy !== 'never') await this.sync();
      this.fh = undefined;
      await old.close();
    }
    const seq = this.nextSeq++;
    this.fh = await fs.open(join(this.dir, segmentName(seq)), 'wx');
    this.seq = seq;
    this.segBytes = 0;
    this.dirty = false;
    // The new file's directory entry must be durable before anything in it is acknowledged.
    await syncDir(this.dir);
    return seq;
  }

  private async rotate(op: RotateOp): Promise<void> {
    try {
      // An untouched current segment already starts after everything written so far: no need for a new file.
      const n = this.fh !== undefined && this.segBytes === 0 ? this.seq : await this.openNext();
      op.done.resolve(n);
    } catch (err) {
      await this.fail(err);
      op.done.reject(writeError(err));
    }
  }

  private async finishClose(op: CloseOp): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    try {
      if (fh !== undefined) {
        if (this.dirty) {
          await fh.datasync();
          this.fsyncsTotal++;
          this.dirty = false;
        }
        await fh.close();
      }
      op.done.resolve();
    } catch (err) {
      await fh?.close().catch(() => undefined);
      op.done.reject(writeError(err));
    }
  }

  /**
   * After a failed write or fsync the segment may end in a partial frame, and after a failed fsync the kernel may
   * have dropped the dirty pages: never write there again. The next write opens a new segment; replay reports the
   * torn tail of this one and carries on with the next.
   */
  private async fail(err: unknown): Promise<void> {
    this.logger.warn('wal: write failed, continuing in a new segment', { segment: segmentName(this.seq), err: text(err) });
    const fh = this.fh;
    this.fh = undefined;
    this.dirty = false;
    await fh?.close().catch(() => undefined);
  }

  private release(w: ByteWriter): void {
    if (w.buf.length <= POOL_MAX_BUFFER && this.pool.length < POOL_SIZE) {
      w.reset();
      this.pool.push(w);
    }
  }

  // ── checkpoint files ─────────────────────────────────────────────────────────────────────────────────────────

  private async writeCheckpoint(n: number, records: WalRecord[]): Promise<number> {
    const tmp = join(this.dir, checkpointTmpName(n));
    const fh = await fs.open(tmp, 'w');
    let pos = 0;
    let ok = false;
    try {
      const w = new ByteWriter(CHECKPOINT_SLICE + BATCH_CAPACITY);
      for (const r of records) {
        appendFrame(w, r);
        if (w.pos >= CHECKPOINT_SLICE) {
          await writeFully(fh, w.buf, w.pos, pos);
          pos += w.pos;
          w.reset();
        }
      }
      if (w.pos > 0) {
        await writeFully(fh, w.buf, w.pos, pos);
        pos += w.pos;
      }
      await fh.sync();
      ok = true;
    } finally {
      await fh.close().catch(() => undefined);
      if (!ok) await fs.unlink(tmp).catch(() => undefined);
    }
    await fs.rename(tmp, join(this.dir, checkpointName(n)));
    await syncDir(this.dir);
    return pos;
  }

  private async removeObsolete(n: number): Promise<number> {
    const l = await listWalDir(this.dir);
    const names: string[] = [];
    for (const s of l.segments) if (s < n) names.push(segmentName(s));
    for (const c of l.checkpoints) if (c < n) names.push(checkpointName(c));
    for (const c of l.tmpCheckpoints) if (c < n) names.push(checkpointTmpName(c));
    if (names.length > 0) await removeFiles(this.dir, names, this.logger);
    return names.length;
  }
}

async function writeFully(fh: fs.FileHandle, buf: Buffer, len: number, position: number): Promise<void> {
  let off = 0;
  while (off < len) {
    const { bytesWritten } = await fh.write(buf, off, len - off, position + off);
    if (bytesWritten <= 0) throw new Error(`short write at offset ${position + off}`);
    off += bytesWritten;
  }
}

/** Makes renames, creations and deletions in `dir` durable. A platform that cannot fsync a directory is tolerated. */
async function syncDir(dir: string): Promise<void> {
  const unsupported = (err: unknown): boolean =>
    ['EISDIR', 'EINVAL', 'EPERM', 'ENOTSUP', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '');
  let d: fs.FileHandle;
  try {
    d = await fs.open(dir, 'r');
  } catch (err) {
    if (unsupported(err)) return;
    throw err;
  }
  try {
    await d.sync();
  } catch (err) {
    if (!unsupported(err)) throw err;
  } finally {
    await d.close().catch(() => undefined);
  }
}

async function removeFiles(dir: string, names: readonly string[], logger: WalLogger): Promise<void> {
  for (const name of names) {
    try {
      await fs.unlink(join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        logger.warn('wal: cannot remove obsolete file', { file: name, err: text(err) });
      }
    }
  }
  await syncDir(dir);
  logger.info('wal: removed obsolete files', { files: names.join(',') });
}

function closedError(): EngineError {
  return new EngineError('unavailable', 'wal is closed');
}

function writeError(err: unknown): EngineError {
  if (isEngineError(err)) return err;
  return withCause(new EngineError('internal', `wal write failed: ${text(err)}`), err);
}

function withCause(e: EngineError, cause: unknown): EngineError {
  e.cause = cause;
  return e;
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
