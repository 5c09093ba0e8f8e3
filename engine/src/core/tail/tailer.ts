import { labelsString } from '../distributor/labels.js';
import type { AppendedStream } from '../ingester/ingester.js';
import { compileLogSelector, type StreamPipeline } from '../logql/log/pipeline.js';
import type { LinePredicate } from '../logql/log/line-filter.js';
import { matchesAll, type LabelMatcher } from '../logql/syntax/matcher.js';
import type { LabelPair, Labels, PushEntry } from '../model.js';
import type { LogStream, SelectParams } from '../querier/querier.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { TailRequest } from './tail-request.js';
import { legacyTailMessage, sortLabels, tailMessage, visibleLabels, type DroppedEntry, type TailEntry } from './tail-response.js';

/** WebSocket close codes a tail ends with. */
export const CLOSE_GOING_AWAY = 1001;
/** Loki closes a tail with 1011 (internal server error) and the reason for every error, limits included. */
export const CLOSE_INTERNAL_ERROR = 1011;

export const TAIL_MAX_DURATION_REACHED = 'reached tail max duration limit';

/** Where a tailer's messages go: one WebSocket connection. */
export interface TailSink {
  /** Sends one text message; `done` runs once it is written to the socket, or with the error that stopped it. */
  send(message: string, done: (err?: Error | null) => void): void;
  /** Closes the connection with a WebSocket close code and reason. */
  close(code: number, reason: string): void;
}

/** The historic part of a tail: the querier's log selection. */
export interface TailQuerier {
  selectLogs(p: SelectParams): Promise<LogStream[]>;
}

/** How a tail answers: the legacy path's body, and Loki's `categorize-labels` encoding flag. */
export interface TailFlags {
  categorize: boolean;
  legacy: boolean;
}

/** Bounds of one tail connection; Loki's values are the defaults. */
export interface TailBounds {
  /** Messages written to the socket but not yet flushed to the kernel; beyond it entries are dropped (Loki: 10). */
  maxBufferedResponses: number;
  /** The same bound in bytes (characters of JSON), so messages of long lines cannot pile up either. */
  maxBufferedBytes: number;
  /** Entries per message (Loki: 100). */
  maxEntriesPerResponse: number;
  /** Dropped entries remembered until the next message reports them; further ones are not reported (Loki: 1000). */
  maxDroppedEntries: number;
  /** Entries waiting for their `delay_for` or for the historic query; beyond it new entries are dropped. */
  maxPendingEntries: number;
  /** The same bound on the waiting entries' lines, in characters. */
  maxPendingBytes: number;
  /** A connection is closed after this long (ms, `querier.tail_max_duration`); 0 = never. */
  maxDurationMs: number;
}

export const DEFAULT_TAIL_BOUNDS: Readonly<TailBounds> = Object.freeze({
  maxBufferedResponses: 10,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxEntriesPerResponse: 100,
  maxDroppedEntries: 1000,
  maxPendingEntries: 10_000,
  maxPendingBytes: 32 * 1024 * 1024,
  maxDurationMs: 3_600_000,
});

/** What the tail metrics need of a gauge and a counter (prom-client's, in the engine). */
interface GaugeLike {
  inc(value?: number): void;
  dec(value?: number): void;
}
interface CounterLike {
  inc(value?: number): void;
}

/**
 * Loki's querier tail metrics: `loki_querier_tail_active` (open tails), `loki_querier_tail_active_streams` (per open
 * tail, the streams it has released entries of; a tail's streams are subtracted when it ends) and
 * `loki_querier_tail_bytes_total` (bytes of the lines sent to clients).
 */
export interface TailMetrics {
  tailsActive: GaugeLike;
  tailedStreamsActive: GaugeLike;
  tailedBytesTotal: CounterLike;
}

export interface TailerOptions {
  tenant: string;
  request: TailRequest;
  flags: TailFlags;
  sink: TailSink;
  querier: TailQuerier;
  bounds: TailBounds;
  clock: Clock;
  logger: Logger;
  /** Called once when the tailer closes, whoever closed it. */
  onClose: (t: Tailer) => void;
  metrics?: TailMetrics;
}

/** A stream's compiled state for this tail; null when the stream does not match the selector. */
interface StreamState {
  labels: Labels;
  pipeline: StreamPipeline | undefined;
}

/** The longest a release timer waits before looking at the clock again. */
const MAX_RELEASE_WAIT_MS = 60_000;

/** Streams whose match result is remembered; the cache is simply emptied past this (stream churn). */
const MAX_CACHED_STREAMS = 10_000;

/**
 * One tail: the query compiled once, the historic entries first (the newest `limit` in [start, now), oldest first),
 * then every matching entry the ingester appends, each held until it is `delay_for` old so entries arriving a little
 * late still go out in timestamp order. A slow client never makes memory grow: once `maxBufferedResponses` messages
 * wait for the socket, further entries are dropped and reported by labels and timestamp in the next message.
 */
export class Tailer {
  readonly tenant: string;
  private readonly matchers: LabelMatcher[];
  private readonly prefilter: LinePredicate | undefined;
  private readonly pipeline: ReturnType<typeof compileLogSelector>['pipeline'];
  private readonly delayNs: bigint;
  private readonly streams = new Map<string, StreamState | null>();
  private pending: TailEntry[] = [];
  private pendingBytes = 0;
  private pendingSorted = true;
  private dropped: DroppedEntry[] = [];
  private inFlight = 0;
  private inFlightBytes = 0;
  /** True until the historic entries are in `pending`: live entries wait so the two can be de-duplicated. */
  private historic = true;
  private closed = false;
  private flushHandle: NodeJS.Immediate | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;
  private maxDurationTimer: NodeJS.Timeout | undefined;
  /** Streams (labels after the pipeline) this tail has released entries of, for loki_querier_tail_active_streams. */
  private readonly seenStreams = new Set<string>();
  /** The last stream recorded: consecutive entries of a stream share their labels array, so most skip the key. */
  private lastStream: Labels | undefined;

  constructor(private readonly opts: TailerOptions) {
    this.tenant = opts.tenant;
    const q = compileLogSelector(opts.request.expr);
    this.matchers = q.matchers;
    this.prefilter = q.prefilter;
    this.pipeline = q.pipeline;
    this.delayNs = BigInt(opts.request.delayForSeconds) * 1_000_000_000n;
  }

  /** Starts the max-duration timer and the historic query; live entries are accepted from now on. */
  start(): void {
    this.opts.metrics?.tailsActive.inc();
    const max = this.opts.bounds.maxDurationMs;
    if (max > 0) {
      this.maxDurationTimer = setTimeout(() => this.close(CLOSE_INTERNAL_ERROR, TAIL_MAX_DURATION_REACHED), max);
      this.maxDurationTimer.unref();
    }
    void this.loadHistory();
  }

  /** Live entries of one stream, from the ingester (synchronously, on the push path). */
  appended(stream: AppendedStream, entries: readonly PushEntry[]): void {
    if (this.closed) return;
    let st = this.streams.get(stream.canonical);
    if (st === undefined) {
      st = matchesAll(this.matchers, stream.labels) ? { labels: stream.labels, pipeline: this.pipeline?.forStream(stream.labels) } : null;
      if (this.streams.size >= MAX_CACHED_STREAMS) this.streams.clear();
      this.streams.set(stream.canonical, st);
    }
    if (st === null) return;
    let added = false;
    for (const e of entries) {
      if (this.prefilter !== undefined && !this.prefilter(e.line)) continue;
      const te = this.process(st, e.ts, e.line, e.metadata);
      if (te === undefined) continue;
      this.enqueue(te);
      added = true;
    }
    if (added) this.scheduleFlush();
  }

  /** Ends the tail; with a code, the client is told why (a close frame). Idempotent. */
  close(code?: number, reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    if (this.flushHandle !== undefined) clearImmediate(this.flushHandle);
    clearTimeout(this.releaseTimer);
    clearTimeout(this.maxDurationTimer);
    this.pending = [];
    this.pendingBytes = 0;
    this.dropped = [];
    const metrics = this.opts.metrics;
    if (metrics !== undefined) {
      metrics.tailsActive.dec();
      if (this.seenStreams.size > 0) metrics.tailedStreamsActive.dec(this.seenStreams.size);
    }
    this.seenStreams.clear();
    this.opts.onClose(this);
    if (code !== undefined) this.opts.sink.close(code, reason);
  }

  // ── entries ──────────────────────────────────────────────────────────────────────────────────────────────────

  /** Runs one entry through the stream's pipeline; the line is copied out of the request's buffer here. */
  private process(st: StreamState, ts: bigint, line: Buffer, metadata: readonly LabelPair[] | undefined): TailEntry | undefined {
    const md = metadata !== undefined && metadata.length > 0 ? metadata : undefined;
    if (st.pipeline === undefined) {
      return { ts, line: line.toString('utf8'), stream: st.labels, ...(md ? { metadata: sortLabels(md) } : {}) };
    }
    const out = st.pipeline.process(ts, line, md);
    if (out === undefined) return undefined;
    const lb = st.pipeline.labels;
    if (lb.unchanged()) return { ts, line: out.toString('utf8'), stream: st.labels };
    const c = lb.categorized();
    const entry: TailEntry = { ts, line: out.toString('utf8'), stream: c.stream };
    if (c.structuredMetadata.length > 0) entry.metadata = c.structuredMetadata;
    if (c.parsed.length > 0) entry.parsed = c.parsed;
    return entry;
  }

  private enqueue(e: TailEntry): void {
    const { maxPendingEntries, maxPendingBytes } = this.opts.bounds;
    const full = this.pending.length >= maxPendingEntries || (this.pending.length > 0 && this.pendingBytes + e.line.length > maxPendingBytes);
    if (full) {
      this.drop(e);
      return;
    }
    const last = this.pending[this.pending.length - 1];
    if (last !== undefined && e.ts < last.ts) this.pendingSorted = false;
    this.pending.push(e);
    this.pendingBytes += e.line.length;
  }

  /** The client is behind: as many messages (or bytes) wait for the socket as a tail may have. */
  private blocked(): boolean {
    return this.inFlight >= this.opts.bounds.maxBufferedResponses || this.inFlightBytes >= this.opts.bounds.maxBufferedBytes;
  }

  private drop(e: TailEntry): void {
    if (this.dropped.length < this.opts.bounds.maxDroppedEntries) {
      this.dropped.push({ ts: e.ts, labels: visibleLabels(e, this.opts.flags.categorize) });
    }
  }

  /** The newest `limit` entries in [start, now), merged with live entries that arrived meanwhile (no duplicates). */
  private async loadHistory(): Promise<void> {
    const { tenant, request, querier, clock } = this.opts;
    const now = BigInt(clock.now()) * 1_000_000n;
    let history: TailEntry[] = [];
    try {
      if (request.start < now) {
        const streams = await querier.selectLogs({
          tenant,
          expr: request.expr,
          from: request.start,
          through: now,
          direction: 'backward',
          limit: request.limit,
        });
        history = historicEntries(streams);
      }
    } catch (err) {
      this.opts.logger.warn('tail: historic query failed', { tenant, err });
      this.close(CLOSE_INTERNAL_ERROR, err instanceof Error ? err.message : String(err));
      return;
    }
    if (this.closed) return;
    let live = this.pending;
    if (live.length > 0 && history.length > 0) {
      const seen = new Set(history.map(entryKey));
      live = live.filter((e) => !seen.has(entryKey(e)));
    }
    this.pending = history;
    this.pendingBytes = 0;
    for (const e of history) this.pendingBytes += e.line.length;
    this.pendingSorted = true;
    for (const e of live) this.enqueue(e);
    this.historic = false;
    this.flush();
  }

  // ── sending ──────────────────────────────────────────────────────────────────────────────────────────────────

  private scheduleFlush(): void {
    // One flush per event-loop turn: a push's entries (all its streams) leave in as few messages as possible.
    if (this.flushHandle !== undefined || this.closed || this.historic) return;
    this.flushHandle = setImmediate(() => {
      this.flushHandle = undefined;
      this.flush();
    });
  }

  /** Sends every entry whose delay has passed, oldest first; schedules the next release for the rest. */
  private flush(): void {
    if (this.closed || this.historic) return;
    const { maxEntriesPerResponse } = this.opts.bounds;
    if (!this.pendingSorted) {
      this.pending.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      this.pendingSorted = true;
    }
    // Loki sends an entry once the clock is past its timestamp plus delay_for.
    const now = BigInt(this.opts.clock.now()) * 1_000_000n;
    const cutoff = now - this.delayNs;
    const pending = this.pending;
    let n = 0;
    while (n < pending.length && pending[n]!.ts < cutoff) n++;
    const released = n === pending.length ? pending : pending.slice(0, n);
    this.pending = n === pending.length ? [] : pending.slice(n);
    for (const e of released) {
      this.pendingBytes -= e.line.length;
      // As Loki does, a stream counts once an entry of it is released, whether it is then sent or dropped.
      if (e.stream !== this.lastStream) this.recordStream(e.stream);
    }

    let sent = false;
    for (let i = 0; i < released.length; i += maxEntriesPerResponse) {
      const batch = released.slice(i, i + maxEntriesPerResponse);
      if (this.blocked()) {
        for (const e of batch) this.drop(e);
        continue;
      }
      this.send(batch);
      sent = true;
    }
    // Dropped entries are reported as soon as the socket has room again, even when nothing new arrives.
    if (!sent && this.dropped.length > 0 && !this.blocked()) this.send([]);

    clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    const next = this.pending[0];
    if (next !== undefined) {
      // Capped: an entry far in the future is re-checked every minute rather than overflowing the timer.
      const waitMs = Number((next.ts + this.delayNs - now) / 1_000_000n) + 1;
      this.releaseTimer = setTimeout(() => this.flush(), Math.min(Math.max(1, waitMs), MAX_RELEASE_WAIT_MS));
      this.releaseTimer.unref();
    }
  }

  private recordStream(labels: Labels): void {
    this.lastStream = labels;
    const metrics = this.opts.metrics;
    if (metrics === undefined) return;
    const key = labelsString(labels);
    if (this.seenStreams.has(key)) return;
    this.seenStreams.add(key);
    metrics.tailedStreamsActive.inc();
  }

  private send(batch: readonly TailEntry[]): void {
    const { flags, metrics } = this.opts;
    const message = flags.legacy ? legacyTailMessage(batch, this.dropped) : tailMessage(batch, this.dropped, flags.categorize);
    this.dropped = [];
    if (metrics !== undefined && batch.length > 0) {
      let bytes = 0;
      for (const e of batch) bytes += Buffer.byteLength(e.line, 'utf8');
      metrics.tailedBytesTotal.inc(bytes);
    }
    this.inFlight++;
    this.inFlightBytes += message.length;
    this.opts.sink.send(message, (err) => {
      this.inFlight--;
      this.inFlightBytes -= message.length;
      if (this.closed) return;
      if (err) {
        this.opts.logger.debug('tail: write failed, closing', { tenant: this.tenant, err });
        this.close();
        return;
      }
      if (this.dropped.length > 0) this.scheduleFlush();
    });
  }
}

/** Historic entries (backward, per stream) as tail entries, oldest first. */
function historicEntries(streams: readonly LogStream[]): TailEntry[] {
  const out: TailEntry[] = [];
  for (const s of streams) {
    // Each stream comes newest first; walk it oldest first so the stable sort keeps its order for equal timestamps.
    for (let i = s.entries.length - 1; i >= 0; i--) {
      const e = s.entries[i]!;
      const entry: TailEntry = { ts: e.ts, line: e.line.toString('utf8'), stream: e.stream ?? s.labels };
      if (e.metadata !== undefined && e.metadata.length > 0) entry.metadata = sortLabels(e.metadata);
      if (e.parsed !== undefined && e.parsed.length > 0) entry.parsed = sortLabels(e.parsed);
      out.push(entry);
    }
  }
  // Stable: entries of one timestamp keep the querier's stream order.
  return out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

function entryKey(e: TailEntry): string {
  return `${labelsString(visibleLabels(e, false))}\u0000${e.ts}\u0000${e.line}`;
}
