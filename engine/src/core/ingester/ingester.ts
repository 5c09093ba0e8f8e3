import { EngineError, type Rejection } from '../errors.js';
import type { Limits } from '../limits/limits.js';
import type { LabelMatcher } from '../logql/syntax/matcher.js';
import { matchesAll } from '../logql/syntax/matcher.js';
import type { EngineMetrics } from '../metrics.js';
import type { Direction, Labels, PushEntry } from '../model.js';
import type { SchemaConfig } from '../storage/schema.js';
import type { ChunkEntry, MemChunk } from '../chunk/mem-chunk.js';
import type { ChunkRef } from '../storage/chunk-key.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Wal, WalRecord } from '../wal/wal.js';
import { fingerprint } from '../index/fingerprint.js';
import { parseLabels } from '../distributor/labels.js';
import { ChunkDesc, Stream, type ChunkOptions, type FlushReason } from './stream.js';
import type { ChunkFlusher } from './flusher.js';
import { formatGoTime, formatRfc3339 } from '../util/time.js';

/** A stream that passed the distributor's validation: labels parsed, sorted and printed canonically. */
export interface ValidStream {
  labels: Labels;
  canonical: string;
  entries: PushEntry[];
}

export interface IngesterOptions {
  chunk: ChunkOptions;
  maxChunkAgeMs: number;
  chunkIdlePeriodMs: number;
  chunkRetainPeriodMs: number;
  flushCheckPeriodMs: number;
  checkpointIntervalMs: number;
  schema: SchemaConfig;
  limits: (tenant: string) => Limits;
  flusher: ChunkFlusher;
  wal?: Wal;
  clock: Clock;
  logger: Logger;
  metrics: EngineMetrics;
}

/** The identity of a stream that received entries, as an {@link AppendListener} sees it. */
export interface AppendedStream {
  readonly labels: Labels;
  readonly canonical: string;
  readonly fingerprint: string;
}

/**
 * Told synchronously about the entries a push has just appended to a stream (the tailers). It runs on the push
 * path before the WAL write resolves, as Loki notifies its tailers, so it must be quick and must not throw; it must
 * copy whatever it keeps, because the entries' buffers belong to the request.
 */
export interface AppendListener {
  appended(tenant: string, stream: AppendedStream, entries: readonly PushEntry[]): void;
}

export interface StreamEntries {
  labels: Labels;
  canonical: string;
  fingerprint: string;
  entries: ChunkEntry[];
}

/** A stream's in-memory chunks for a lazy read (see Ingester.chunks). */
export interface StreamChunks {
  labels: Labels;
  canonical: string;
  fingerprint: string;
  /** Oldest first; `ref` is set once the chunk is in the store. */
  chunks: Array<{ chunk: MemChunk; ref: ChunkRef | undefined }>;
}

/** The streams of one tenant. */
class TenantInstance {
  readonly streams = new Map<string, Stream>();
  constructor(readonly tenant: string) {}

  *matching(matchers: readonly LabelMatcher[]): Iterable<Stream> {
    for (const s of this.streams.values()) if (matchesAll(matchers, s.labels)) yield s;
  }
}

/**
 * The ingester: receives validated streams, appends them to in-memory chunks, logs them to the WAL (a push resolves
 * only once its records are durable), and flushes closed chunks to the object store.
 */
export class Ingester {
  private readonly instances = new Map<string, TenantInstance>();
  private nextRef = 1;
  private readonly cuts = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private lastCheckpointMs: number;
  private stopped = false;
  /** Set only while someone tails: without a tailer the push path pays one property check per stream. */
  private appendListener: AppendListener | undefined;

  constructor(private readonly opts: IngesterOptions) {
    this.lastCheckpointMs = opts.clock.now();
  }

  /** Installs (or, with undefined, removes) the listener told about every appended entry. */
  setAppendListener(listener: AppendListener | undefined): void {
    this.appendListener = listener;
  }

  /** Attaches the WAL opened by the engine; from then on pushes resolve only once they are logged. */
  useWal(wal: Wal): void {
    this.opts.wal = wal;
  }

  // ── write path ────────────────────────────────────────────────────────────────────────────────────────────────

  /** Appends the streams and resolves when they are durable in the WAL; returns what was refused. */
  async push(tenant: string, streams: readonly ValidStream[]): Promise<Rejection[]> {
    if (this.stopped) throw new EngineError('unavailable', 'Ingester is shutting down');
    const { clock, limits } = this.opts;
    const now = clock.now();
    const lim = limits(tenant);
    const inst = this.instance(tenant);
    const records: WalRecord[] = [];
    const failures: Rejection[] = [];

    for (let si = 0; si < streams.length; si++) {
      const s = streams[si]!;
      let stream = inst.streams.get(s.canonical);
      if (stream === undefined) {
        const max = streamLimit(lim);
        if (max > 0 && inst.streams.size >= max) {
          failures.push({ ...streamFailure(s, 'stream_limit', 'too_many_requests', streamLimitMessage(s.canonical, tenant)), stream: si });
          continue;
        }
        stream = this.createStream(inst, s.labels, s.canonical);
        records.push({ type: 'series', tenant, ref: stream.ref, labels: s.canonical });
      }

      const rate = lim.per_stream_rate_limit;
      if (rate > 0) {
        let bytes = 0;
        for (const e of s.entries) bytes += e.line.length;
        const burst = Math.max(lim.per_stream_rate_limit_burst, rate);
        if (!stream.allowBytes(bytes, rate, burst, now)) {
          failures.push({
            ...streamFailure(s, 'per_stream_rate_limit', 'rate_limited', perStreamRateMessage(rate, s.canonical, bytes)),
            stream: si,
          });
          continue;
        }
      }

      const window = BigInt(this.opts.maxChunkAgeMs / 2) * 1_000_000n;
      let accepted: PushEntry[] | undefined;
      let behind: Array<{ ts: bigint; oldest: bigint }> | undefined;
      let behindBytes = 0;
      for (let i = 0; i < s.entries.length; i++) {
        const e = s.entries[i]!;
        const oldest = stream.newestTs - window;
        if (e.ts < oldest) {
          (behind ??= []).push({ ts: e.ts, oldest });
          behindBytes += e.line.length;
          accepted ??= s.entries.slice(0, i);
          continue;
        }
        this.append(stream, e, now);
        accepted?.push(e);
      }
      if (behind !== undefined) {
        failures.push({
          error: new EngineError('bad_request', tooFarBehindMessage(behind, tenant, s.entries.length, s.canonical)),
          reason: 'too_far_behind',
          lines: behind.length,
          bytes: behindBytes,
          stream: si,
        });
      }
      const logged = accepted ?? s.entries;
      if (logged.length > 0) {
        records.push({ type: 'entries', tenant, ref: stream.ref, entries: logged as PushEntry[] });
        this.appendListener?.appended(tenant, stream, logged);
      }
    }

    if (records.length > 0 && this.opts.wal) {
      await this.opts.wal.append(records);
      this.opts.metrics.walRecordsLogged.inc(records.length);
    }
    return failures;
  }

  private append(stream: Stream, e: PushEntry, now: number): void {
    const period = this.opts.schema.periodFor(e.ts);
    let head = stream.head();
    if (head === undefined || head.period !== period || head.chunk.isFull()) {
      const reason = head === undefined || head.period === period ? 'full' : 'period';
      head = stream.openChunk(period, this.opts.chunk, now, reason);
      this.opts.metrics.memoryChunks.inc();
    }
    const md = e.metadata !== undefined && e.metadata.length > 0 ? e.metadata : undefined;
    if (md !== undefined && period.schema !== 'v13') {
      // The distributor refuses these first; this guards the on-disk format (v3 chunks carry no metadata).
      throw new EngineError('bad_request', `structured metadata requires schema v13 (period from ${period.from})`);
    }
    head.chunk.append(e.ts, e.line, md);
    head.lastAppendMs = now;
    if (e.ts > stream.newestTs) stream.newestTs = e.ts;
    if (head.chunk.needsCut()) this.cutBlock(head);
  }

  private cutBlock(desc: ChunkDesc): void {
    const p = desc.chunk.cutBlock().catch((err: unknown) => {
      this.opts.logger.error('failed to cut block', { err });
    });
    this.cuts.add(p);
    void p.finally(() => this.cuts.delete(p));
  }

  private instance(tenant: string): TenantInstance {
    let inst = this.instances.get(tenant);
    if (inst === undefined) {
      inst = new TenantInstance(tenant);
      this.instances.set(tenant, inst);
    }
    return inst;
  }

  private createStream(inst: TenantInstance, labels: Labels, canonical: string): Stream {
    const stream = new Stream(this.nextRef++, labels, canonical, fingerprint(canonical));
    inst.streams.set(canonical, stream);
    this.opts.metrics.memoryStreams.inc({ tenant: inst.tenant });
    return stream;
  }

  // ── WAL replay and checkpoints ──────────────────────────────────────────────────────────────────────────────

  /**
   * Rebuilds memory from the WAL directory. Limits are not applied (the entries were accepted once already).
   * Afterwards a checkpoint is written at once: replayed streams get new refs, and later segments must never
   * refer to refs whose series records live only in the old segments.
   */
  async replay(walDir: string, replay: typeof Wal.replay): Promise<{ records: number; entries: number }> {
    const started = Date.now();
    const refs = new Map<string, Stream>();
    const now = this.opts.clock.now();
    let entries = 0;
    const stats = await replay(
      walDir,
      (r) => {
        const key = `${r.tenant}\u0000${r.ref}`;
        if (r.type === 'series') {
          const inst = this.instance(r.tenant);
          let stream = inst.streams.get(r.labels);
          if (stream === undefined) stream = this.createStream(inst, parseLabels(r.labels), r.labels);
          refs.set(key, stream);
          return;
        }
        const stream = refs.get(key);
        if (stream === undefined) {
          this.opts.logger.warn('WAL entries for an unknown series, skipped', { tenant: r.tenant, ref: r.ref });
          return;
        }
        for (const e of r.entries) this.append(stream, e, now);
        entries += r.entries.length;
      },
      this.opts.logger,
    );
    // Wal.replay has already logged each corrupt region; count them for alerting.
    this.opts.metrics.walCorruptions.inc(stats.corrupt.length);
    this.opts.metrics.walReplayDuration.set((Date.now() - started) / 1000);
    await Promise.all(this.cuts);
    if (this.opts.wal) await this.checkpoint();
    return { records: stats.records, entries };
  }

  /** Writes every stream's unflushed entries as a checkpoint and drops the WAL segments it covers. */
  async checkpoint(): Promise<void> {
    const wal = this.opts.wal;
    if (!wal) return;
    this.lastCheckpointMs = this.opts.clock.now();
    await wal.checkpoint(() => this.snapshotRecords());
  }

  private *snapshotRecords(): Iterable<WalRecord> {
    for (const inst of this.instances.values()) {
      for (const stream of inst.streams.values()) {
        const live = stream.chunks.filter((d) => !d.flushed || !d.indexed);
        if (live.length === 0) continue;
        yield { type: 'series', tenant: inst.tenant, ref: stream.ref, labels: stream.canonical };
        for (const d of live) {
          const entries = d.chunk.snapshotEntries();
          if (entries.length > 0) yield { type: 'entries', tenant: inst.tenant, ref: stream.ref, entries };
        }
      }
    }
  }

  // ── flushing ─────────────────────────────────────────────────────────────────────────────────────────────────

  start(): void {
    this.timer = setInterval(() => void this.sweep(false), this.opts.flushCheckPeriodMs);
    this.timer.unref();
  }

  /** Closes every head chunk and flushes everything (the /flush endpoint and graceful shutdown). */
  async flushAll(): Promise<void> {
    await this.sweep(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.flushAll();
    if (this.opts.wal) await this.opts.wal.close();
  }

  /** One flush cycle; cycles never overlap (a forced flush waits for a running one, then runs). */
  async sweep(force: boolean): Promise<void> {
    while (this.sweeping) await this.sweeping;
    this.sweeping = this.sweepOnce(force).finally(() => (this.sweeping = undefined));
    await this.sweeping;
  }

  private async sweepOnce(force: boolean): Promise<void> {
    const now = this.opts.clock.now();
    await Promise.all(this.cuts);
    const work: Array<{ tenant: string; stream: Stream; desc: ChunkDesc }> = [];
    for (const inst of this.instances.values()) {
      for (const stream of inst.streams.values()) {
        const head = stream.head();
        if (head !== undefined) {
          const reason = force ? 'forced' : this.closeReason(head, now);
          if (reason !== undefined) stream.close(head, reason);
        }
        for (const desc of stream.chunks) {
          if (!desc.closed || desc.flushed || desc.flushing || desc.chunk.entryCount === 0) continue;
          if (!force && desc.nextAttemptMs > now) continue;
          work.push({ tenant: inst.tenant, stream, desc });
        }
      }
    }
    const flushed = await this.opts.flusher.flush(work, now);
    for (const { desc } of flushed) this.opts.metrics.chunksFlushed.inc({ reason: desc.flushReason ?? 'forced' });
    const released = this.release(now);
    const checkpointDue = now - this.lastCheckpointMs >= this.opts.checkpointIntervalMs;
    if (this.opts.wal && !this.stopped && (released > 0 || checkpointDue)) await this.checkpoint();
  }

  private closeReason(head: ChunkDesc, now: number): FlushReason | undefined {
    const c = head.chunk;
    if (c.entryCount === 0) return undefined;
    if (c.maxTs - c.minTs >= BigInt(this.opts.maxChunkAgeMs) * 1_000_000n) return 'max_age';
    if (now - head.createdMs >= this.opts.maxChunkAgeMs) return 'max_age';
    if (now - head.lastAppendMs >= this.opts.chunkIdlePeriodMs) return 'idle';
    return undefined;
  }

  /** Drops chunks that are flushed AND indexed (past the retain period), and streams left with nothing. */
  private release(now: number): number {
    let released = 0;
    for (const inst of this.instances.values()) {
      for (const [key, stream] of inst.streams) {
        const keep = stream.chunks.filter(
          (d) => !(d.flushed && d.indexed && now - d.flushedAtMs >= this.opts.chunkRetainPeriodMs),
        );
        const dropped = stream.chunks.length - keep.length;
        if (dropped > 0) this.opts.metrics.memoryChunks.dec(dropped);
        released += dropped;
        stream.chunks = keep;
        if (stream.isEmpty()) {
          inst.streams.delete(key);
          this.opts.metrics.memoryStreams.dec({ tenant: inst.tenant });
        }
      }
    }
    return released;
  }

  // ── read path ────────────────────────────────────────────────────────────────────────────────────────────────

  async query(
    tenant: string,
    matchers: readonly LabelMatcher[],
    from: bigint,
    through: bigint,
    direction: Direction,
    filter?: (line: Buffer) => boolean,
  ): Promise<StreamEntries[]> {
    const inst = this.instances.get(tenant);
    if (inst === undefined) return [];
    const out: StreamEntries[] = [];
    for (const s of [...inst.matching(matchers)]) {
      const entries = await s.readEntries(from, through, direction, filter);
      if (entries.length > 0) out.push({ labels: s.labels, canonical: s.canonical, fingerprint: s.fingerprint, entries });
    }
    return out;
  }

  /**
   * The in-memory chunks of the streams matching the matchers that hold entries in [from, through), without
   * reading them: the querier reads them lazily (a log query with a small limit stops early, a metric query scans
   * blocks without making entries). A chunk already flushed carries its store reference, so the querier does not
   * read it twice.
   */
  chunks(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): StreamChunks[] {
    const inst = this.instances.get(tenant);
    if (inst === undefined) return [];
    const out: StreamChunks[] = [];
    for (const s of inst.matching(matchers)) {
      const descs = s.chunksIn(from, through);
      if (descs.length === 0) continue;
      out.push({
        labels: s.labels,
        canonical: s.canonical,
        fingerprint: s.fingerprint,
        chunks: descs.map((d) => ({ chunk: d.chunk, ref: d.flushed ? d.ref : undefined })),
      });
    }
    return out;
  }

  /** Label sets of the streams with data in [from, through) matching the matchers. */
  series(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Labels[] {
    const inst = this.instances.get(tenant);
    if (inst === undefined) return [];
    const out: Labels[] = [];
    for (const s of inst.matching(matchers)) {
      if (s.chunks.some((d) => d.chunk.entryCount > 0 && d.chunk.maxTs >= from && d.chunk.minTs < through)) {
        out.push(s.labels);
      }
    }
    return out;
  }

  get streamCount(): number {
    let n = 0;
    for (const inst of this.instances.values()) n += inst.streams.size;
    return n;
  }
}

// ── limits and Loki's messages ───────────────────────────────────────────────────────────────────────────────

function streamLimit(lim: Limits): number {
  // A single ingester owns every stream, so the global limit is the local one; the smaller non-zero limit wins.
  const g = lim.max_global_streams_per_user;
  const l = lim.max_streams_per_user;
  if (g > 0 && l > 0) return Math.min(g, l);
  return g > 0 ? g : l;
}

function streamFailure(
  s: ValidStream,
  reason: string,
  code: 'too_many_requests' | 'rate_limited',
  message: string,
): Rejection {
  let bytes = 0;
  for (const e of s.entries) bytes += e.line.length;
  return { error: new EngineError(code, message), reason, lines: s.entries.length, bytes };
}

export function streamLimitMessage(stream: string, tenant: string): string {
  return (
    `Maximum active stream limit exceeded when trying to create stream ${stream}, reduce the number of active ` +
    `streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be ` +
    `increased, user: '${tenant}'`
  );
}

export function perStreamRateMessage(rate: number, stream: string, bytes: number): string {
  return (
    `Per stream rate limit exceeded (limit: ${humanBytes(rate)}/sec) while attempting to ingest for stream ` +
    `'${stream}' totaling ${humanBytes(bytes)}, consider splitting a stream via additional labels or contact your ` +
    `Loki administrator to see if the limit can be increased`
  );
}

/**
 * Loki's ingester message for out-of-order entries: one line per refused entry (the first 10), then the total for
 * the stream. The other entries of the stream are stored.
 */
export function tooFarBehindMessage(
  refused: ReadonlyArray<{ ts: bigint; oldest: bigint }>,
  tenant: string,
  total: number,
  stream: string,
): string {
  let msg = '';
  for (const r of refused.slice(0, 10)) {
    msg +=
      `entry with timestamp ${formatGoTime(r.ts)} ignored, reason: 'entry too far behind, entry timestamp is: ` +
      `${formatRfc3339(r.ts)}, oldest acceptable timestamp is: ${formatRfc3339(r.oldest)}',\n`;
  }
  return `${msg}user '${tenant}', total ignored: ${refused.length} out of ${total} for stream: ${stream}`;
}

/** A byte size as Loki prints limits (c2h5oh/datasize): the largest binary unit dividing it exactly, e.g. `3MB`. */
export function humanBytes(n: number): string {
  const units: Array<[string, number]> = [['TB', 2 ** 40], ['GB', 2 ** 30], ['MB', 2 ** 20], ['KB', 2 ** 10]];
  for (const [u, size] of units) if (n >= size && n % size === 0) return `${n / size}${u}`;
  return `${n}B`;
}
