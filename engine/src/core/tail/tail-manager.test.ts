import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { ChunkFlusher } from '../ingester/flusher.js';
import { Ingester, type AppendListener, type AppendedStream } from '../ingester/ingester.js';
import { defaultLimits } from '../limits/limits.js';
import { parseExpr } from '../logql/syntax/parser.js';
import type { LogSelectorExpr } from '../logql/syntax/ast.js';
import { EngineMetrics } from '../metrics.js';
import type { Labels, PushEntry } from '../model.js';
import type { LogStream, SelectParams } from '../querier/querier.js';
import { FilesystemObjectClient } from '../storage/filesystem-client.js';
import { SchemaConfig } from '../storage/schema.js';
import { ManualClock } from '../util/clock.js';
import { nopLogger } from '../util/logger.js';
import { TailManager, type TailSource } from './tail-manager.js';
import type { TailRequest } from './tail-request.js';
import type { TailBounds, TailSink } from './tailer.js';

const T_MS = 1_700_000_000_000;
const T = BigInt(T_MS) * 1_000_000n;

class FakeSink implements TailSink {
  messages: any[] = [];
  closed: { code: number; reason: string } | undefined;
  blocked = false;
  private held: Array<() => void> = [];

  send(message: string, done: (err?: Error) => void): void {
    this.messages.push(JSON.parse(message));
    if (this.blocked) this.held.push(() => done());
    else setImmediate(() => done());
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  release(): void {
    this.blocked = false;
    const held = this.held;
    this.held = [];
    for (const d of held) d();
  }
  /** Every [ts, line] received, in order. */
  values(): string[][] {
    return this.messages.flatMap((m) => (m.streams ?? []).flatMap((s: any) => s.values.map((v: string[]) => [v[0], v[1]])));
  }
  dropped(): Array<{ labels: Record<string, string>; timestamp: string }> {
    return this.messages.flatMap((m) => m.dropped_entries ?? []);
  }
}

class FakeSource implements TailSource {
  listener: AppendListener | undefined;
  setAppendListener(l: AppendListener | undefined): void {
    this.listener = l;
  }
}

class FakeQuerier {
  calls: SelectParams[] = [];
  result: LogStream[] = [];
  gate: Promise<void> = Promise.resolve();
  async selectLogs(p: SelectParams): Promise<LogStream[]> {
    this.calls.push(p);
    await this.gate;
    return this.result;
  }
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 2));
  }
};
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

const req = (query: string, over: Partial<TailRequest> = {}): TailRequest => ({
  expr: parseExpr(query) as LogSelectorExpr,
  limit: 100,
  start: T - 3_600_000_000_000n,
  delayForSeconds: 0,
  ...over,
});

const streamOf = (labels: Labels): AppendedStream => ({
  labels,
  canonical: '{' + labels.map(([k, v]) => `${k}="${v}"`).join(', ') + '}',
  fingerprint: labels.map(([k, v]) => `${k}=${v}`).join(','),
});
const entries = (...xs: Array<[bigint, string]>): PushEntry[] => xs.map(([ts, line]) => ({ ts, line: Buffer.from(line) }));

function setup(over: { limit?: number; bounds?: Partial<TailBounds> } = {}) {
  const source = new FakeSource();
  const querier = new FakeQuerier();
  const clock = new ManualClock(T_MS);
  const manager = new TailManager({
    source,
    querier,
    limits: () => ({ max_concurrent_tail_requests: over.limit ?? 10 }),
    clock,
    logger: nopLogger,
    bounds: over.bounds,
  });
  return { source, querier, clock, manager };
}

describe('TailManager', () => {
  it('listens to the ingester only while a tail is open', async () => {
    const { source, manager } = setup();
    expect(source.listener).toBeUndefined();
    const t1 = manager.open('t', req('{app="a"}'), new FakeSink(), { categorize: false, legacy: false });
    const t2 = manager.open('u', req('{app="a"}'), new FakeSink(), { categorize: false, legacy: false });
    expect(source.listener).toBe(manager);
    t1.close();
    expect(source.listener).toBe(manager);
    t2.close();
    t2.close();
    expect(source.listener).toBeUndefined();
    expect(manager.activeTails('t')).toBe(0);
  });

  it("sends matching live entries of the tenant only, through the query's filters and pipeline, with exact timestamps", async () => {
    const { manager } = setup();
    const sink = new FakeSink();
    manager.open('t', req('{app="a"} |= "error" | logfmt | line_format "{{.msg}}"'), sink, { categorize: false, legacy: false });
    await tick();
    manager.appended('t', streamOf([['app', 'a']]), entries([T - 3n, 'level=error msg=one'], [T - 2n, 'level=info msg=two'], [T - 1n, 'error msg="three x"']));
    manager.appended('t', streamOf([['app', 'b']]), entries([T - 1n, 'level=error msg=other']));
    manager.appended('other', streamOf([['app', 'a']]), entries([T - 1n, 'level=error msg=tenant']));
    await until(() => sink.messages.length === 1);
    expect(sink.messages[0]).toEqual({
      streams: [
        { stream: { app: 'a', level: 'error', msg: 'one' }, values: [[(T - 3n).toString(), 'one']] },
        { stream: { app: 'a', msg: 'three x' }, values: [[(T - 1n).toString(), 'three x']] },
      ],
    });
  });

  it('sends the newest `limit` historic entries first, oldest first, without repeating live entries seen meanwhile', async () => {
    const { manager, querier } = setup();
    let open!: () => void;
    querier.gate = new Promise((r) => (open = r));
    querier.result = [
      {
        labels: [['app', 'a']],
        canonical: '{app="a"}',
        fingerprint: 'f',
        entries: [
          { ts: T - 10n, line: Buffer.from('h3') },
          { ts: T - 20n, line: Buffer.from('h2') },
        ],
      },
    ];
    const sink = new FakeSink();
    manager.open('t', req('{app="a"}', { limit: 2, start: T - 1000n }), sink, { categorize: false, legacy: false });
    expect(querier.calls[0]).toMatchObject({ tenant: 't', from: T - 1000n, through: T, direction: 'backward', limit: 2 });
    // Pushed while the historic query runs: one entry the query also returns, one it does not.
    manager.appended('t', streamOf([['app', 'a']]), entries([T - 10n, 'h3'], [T - 5n, 'live']));
    await tick();
    expect(sink.messages).toHaveLength(0);
    open();
    await until(() => sink.messages.length === 1);
    expect(sink.values()).toEqual([
      [(T - 20n).toString(), 'h2'],
      [(T - 10n).toString(), 'h3'],
      [(T - 5n).toString(), 'live'],
    ]);
  });

  it('holds an entry until the clock passes its timestamp plus delay_for, then sends entries in timestamp order', async () => {
    const { manager, clock } = setup();
    const sink = new FakeSink();
    manager.open('t', req('{app="a"}', { delayForSeconds: 1 }), sink, { categorize: false, legacy: false });
    await tick();
    const s = streamOf([['app', 'a']]);
    manager.appended('t', s, entries([T - 500_000_000n, 'late-but-first']));
    manager.appended('t', s, entries([T - 2_000_000_000n, 'old']));
    await until(() => sink.messages.length === 1);
    expect(sink.values()).toEqual([[(T - 2_000_000_000n).toString(), 'old']]);
    // 0.5 s still to wait: the release timer fires, finds the (manual) clock unchanged, and waits again.
    await new Promise((r) => setTimeout(r, 20));
    expect(sink.messages).toHaveLength(1);
    manager.appended('t', s, entries([T - 600_000_000n, 'earlier']));
    clock.advance(501);
    await until(() => sink.messages.length === 2, 3000);
    expect(sink.values().slice(1)).toEqual([
      [(T - 600_000_000n).toString(), 'earlier'],
      [(T - 500_000_000n).toString(), 'late-but-first'],
    ]);
  });

  it('splits large bursts into messages of at most 100 entries', async () => {
    const { manager } = setup();
    const sink = new FakeSink();
    manager.open('t', req('{app="a"}'), sink, { categorize: false, legacy: false });
    await tick();
    manager.appended('t', streamOf([['app', 'a']]), entries(...Array.from({ length: 250 }, (_, i): [bigint, string] => [T - 1000n + BigInt(i), `l${i}`])));
    await until(() => sink.values().length === 250);
    expect(sink.messages.map((m) => m.streams[0].values.length)).toEqual([100, 100, 50]);
  });

  it("refuses more than max_concurrent_tail_requests tails per tenant with Loki's message", () => {
    const { manager } = setup({ limit: 2 });
    const f = { categorize: false, legacy: false };
    const t1 = manager.open('t', req('{app="a"}'), new FakeSink(), f);
    manager.open('t', req('{app="a"}'), new FakeSink(), f);
    let err: unknown;
    try {
      manager.open('t', req('{app="a"}'), new FakeSink(), f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect((err as Error).message).toBe('max concurrent tail requests limit exceeded, count > limit (3 > 2)');
    expect(() => manager.open('u', req('{app="a"}'), new FakeSink(), f)).not.toThrow();
    t1.close();
    expect(() => manager.open('t', req('{app="a"}'), new FakeSink(), f)).not.toThrow();
    expect(manager.activeTails('t')).toBe(2);
  });

  it('drops entries while the client is slow and reports them once it catches up', async () => {
    const { manager } = setup({ bounds: { maxBufferedResponses: 2, maxEntriesPerResponse: 1, maxDroppedEntries: 3 } });
    const sink = new FakeSink();
    manager.open('t', req('{app="a"}'), sink, { categorize: false, legacy: false });
    await tick();
    sink.blocked = true;
    const s = streamOf([['app', 'a'], ['pod', 'p']]);
    manager.appended('t', s, entries(...Array.from({ length: 6 }, (_, i): [bigint, string] => [T - 100n + BigInt(i), `l${i}`])));
    await until(() => sink.messages.length === 2);
    await tick();
    expect(sink.values().map((v) => v[1])).toEqual(['l0', 'l1']);
    sink.release();
    // The dropped entries (at most 3 remembered) go out on their own as soon as the socket has room.
    await until(() => sink.dropped().length > 0);
    expect(sink.dropped()).toEqual([
      { labels: { app: 'a', pod: 'p' }, timestamp: (T - 98n).toString() },
      { labels: { app: 'a', pod: 'p' }, timestamp: (T - 97n).toString() },
      { labels: { app: 'a', pod: 'p' }, timestamp: (T - 96n).toString() },
    ]);
    // The connection recovers: new entries flow again.
    manager.appended('t', s, entries([T - 1n, 'after']));
    await until(() => sink.values().some((v) => v[1] === 'after'));
  });

  it('also bounds the bytes waiting for the socket and for delay_for', async () => {
    const { manager } = setup({ bounds: { maxBufferedBytes: 100, maxEntriesPerResponse: 1, maxPendingBytes: 10 } });
    const sink = new FakeSink();
    manager.open('t', req('{app="a"}'), sink, { categorize: false, legacy: false });
    await tick();
    sink.blocked = true;
    const s = streamOf([['app', 'a']]);
    // 12 characters pending at once is over the 10 allowed: the second line is dropped at once.
    manager.appended('t', s, entries([T - 3n, 'x'.repeat(6)], [T - 2n, 'y'.repeat(6)]));
    await tick();
    manager.appended('t', s, entries([T - 1n, 'z']));
    await tick();
    await tick();
    // The first message is over 100 bytes of JSON: nothing else is sent while it waits.
    expect(sink.values().map((v) => v[1])).toEqual(['xxxxxx']);
    sink.release();
    await until(() => sink.dropped().length === 2);
    expect(sink.dropped().map((d) => d.timestamp)).toEqual([(T - 2n).toString(), (T - 1n).toString()]);
  });

  it('bounds the entries waiting for delay_for: beyond it they are dropped and reported', async () => {
    const { manager, clock } = setup({ bounds: { maxPendingEntries: 2 } });
    const sink = new FakeSink();
    manager.open('t', req('{app="a"}', { delayForSeconds: 5 }), sink, { categorize: false, legacy: false });
    await tick();
    manager.appended('t', streamOf([['app', 'a']]), entries([T, 'a'], [T + 1n, 'b'], [T + 2n, 'c']));
    clock.advance(5001);
    await until(() => sink.messages.length > 0, 7000);
    expect(sink.values().map((v) => v[1])).toEqual(['a', 'b']);
    expect(sink.dropped()).toEqual([{ labels: { app: 'a' }, timestamp: (T + 2n).toString() }]);
  }, 10_000);

  it('closes with 1011 once tail_max_duration has passed', async () => {
    const { manager, source } = setup({ bounds: { maxDurationMs: 30 } });
    const sink = new FakeSink();
    manager.open('t', req('{app="a"}'), sink, { categorize: false, legacy: false });
    await until(() => sink.closed !== undefined);
    expect(sink.closed).toEqual({ code: 1011, reason: 'reached tail max duration limit' });
    expect(source.listener).toBeUndefined();
  });

  it('closes with 1011 and the error when the historic query fails', async () => {
    const { manager, querier } = setup();
    querier.gate = Promise.reject(new EngineError('internal', 'store down'));
    const sink = new FakeSink();
    manager.open('t', req('{app="a"}'), sink, { categorize: false, legacy: false });
    await until(() => sink.closed !== undefined);
    expect(sink.closed).toEqual({ code: 1011, reason: 'store down' });
  });

  it('answers in the categorize-labels and legacy forms', async () => {
    const { manager } = setup();
    const cat = new FakeSink();
    const legacy = new FakeSink();
    manager.open('t', req('{app="a"} | logfmt'), cat, { categorize: true, legacy: false });
    manager.open('t', req('{app="a"}'), legacy, { categorize: false, legacy: true });
    await tick();
    manager.appended('t', streamOf([['app', 'a']]), [{ ts: T - 1n, line: Buffer.from('k=v'), metadata: [['trace', 'x']] }]);
    await until(() => cat.messages.length === 1 && legacy.messages.length === 1);
    expect(cat.messages[0]).toEqual({
      streams: [{ stream: { app: 'a' }, values: [[(T - 1n).toString(), 'k=v', { structuredMetadata: { trace: 'x' }, parsed: { k: 'v' } }]] }],
      encodingFlags: ['categorize-labels'],
    });
    expect(legacy.messages[0]).toEqual({
      streams: [{ labels: '{app="a", trace="x"}', entries: [{ ts: '2023-11-14T22:13:19.999999999Z', line: 'k=v' }] }],
      dropped_entries: null,
    });
  });

  it("reports Loki's loki_querier_tail_* metrics: open tails, their streams, the bytes of the lines sent", async () => {
    const { manager } = setup({ bounds: { maxBufferedResponses: 1 } });
    const metrics = new EngineMetrics();
    manager.useMetrics(metrics);
    const value = async (name: string): Promise<number> => (await metrics.registry.getSingleMetric(name)!.get()).values[0]!.value;
    const f = { categorize: false, legacy: false };
    const sink = new FakeSink();
    const t1 = manager.open('t', req('{app="a"} | logfmt | drop k'), sink, f);
    const t2 = manager.open('u', req('{app="a"}'), new FakeSink(), f);
    expect(await value('loki_querier_tail_active')).toBe(2);
    await tick();
    // Two streams; `drop k` makes every entry's labels a new array, which must still count once per stream.
    manager.appended('t', streamOf([['app', 'a'], ['pod', 'p1']]), entries([T - 9n, 'k=1 ✓'], [T - 8n, 'k=2']));
    manager.appended('t', streamOf([['app', 'a'], ['pod', 'p2']]), entries([T - 7n, 'k=3']));
    await until(() => sink.values().length === 3);
    expect(await value('loki_querier_tail_active_streams')).toBe(2);
    // Bytes of the lines as sent (UTF-8): 'k=1 ✓' is 7 bytes.
    expect(await value('loki_querier_tail_bytes_total')).toBe(7 + 3 + 3);
    // A dropped entry's stream counts (Loki records the stream before deciding to drop), its bytes do not.
    await tick();
    sink.blocked = true;
    manager.appended('t', streamOf([['app', 'a'], ['pod', 'p2']]), entries([T - 6n, 'k=4']));
    await until(() => sink.messages.length === 2);
    manager.appended('t', streamOf([['app', 'a'], ['pod', 'p3']]), entries([T - 5n, 'k=5']));
    await tick();
    await tick();
    expect(sink.messages).toHaveLength(2);
    expect(await value('loki_querier_tail_active_streams')).toBe(3);
    expect(await value('loki_querier_tail_bytes_total')).toBe(13 + 3);
    // Closing a tail takes its streams away.
    t1.close();
    expect(await value('loki_querier_tail_active')).toBe(1);
    expect(await value('loki_querier_tail_active_streams')).toBe(0);
    t2.close();
    t2.close();
    expect(await value('loki_querier_tail_active')).toBe(0);
    const text = await metrics.registry.metrics();
    expect(text).toContain('# HELP loki_querier_tail_active Number of active tailers');
    expect(text).toContain('# TYPE loki_querier_tail_bytes_total counter');
  });

  it('stop() closes every tail with 1001', () => {
    const { manager, source } = setup();
    const a = new FakeSink();
    const b = new FakeSink();
    manager.open('t', req('{app="a"}'), a, { categorize: false, legacy: false });
    manager.open('u', req('{app="a"}'), b, { categorize: false, legacy: false });
    manager.stop();
    expect(a.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(b.closed?.code).toBe(1001);
    expect(source.listener).toBeUndefined();
  });
});

describe('TailManager fed by a real ingester', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tail-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('receives what push() appended, and nothing once no tail is open', async () => {
    const store = new FilesystemObjectClient(join(dir, 'chunks'));
    const schema = new SchemaConfig([
      { from: '2020-01-01', store: 'tsdb', objectStore: 'filesystem', schema: 'v13', indexPrefix: 'index_', indexPeriodMs: 86_400_000 },
    ]);
    const metrics = new EngineMetrics();
    const clock = new ManualClock(T_MS);
    const ingester = new Ingester({
      chunk: { encoding: 'snappy', blockSize: 1024, targetSize: 1_572_864 },
      maxChunkAgeMs: 7_200_000,
      chunkIdlePeriodMs: 1_800_000,
      chunkRetainPeriodMs: 0,
      flushCheckPeriodMs: 1000,
      checkpointIntervalMs: 300_000,
      schema,
      limits: () => ({ ...defaultLimits(), per_stream_rate_limit: 0 }),
      flusher: new ChunkFlusher({ store, schema, uploaderId: 'test', concurrency: 1, timeoutMs: 10_000, logger: nopLogger, metrics }),
      clock,
      logger: nopLogger,
      metrics,
    });
    const manager = new TailManager({ source: ingester, querier: new FakeQuerier(), limits: () => defaultLimits(), clock, logger: nopLogger });
    const sink = new FakeSink();
    const tailer = manager.open('t', req('{app="a"}'), sink, { categorize: false, legacy: false });
    await tick();
    const push = (line: string, ts: bigint) =>
      ingester.push('t', [{ labels: [['app', 'a']], canonical: '{app="a"}', entries: [{ ts, line: Buffer.from(line) }] }]);
    await push('hello', T - 7n);
    await until(() => sink.messages.length === 1);
    expect(sink.values()).toEqual([[(T - 7n).toString(), 'hello']]);
    tailer.close();
    await push('unseen', T - 6n);
    await tick();
    expect(sink.messages).toHaveLength(1);
  });
});
