import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { LabelMatcher, type MatchType } from '../logql/syntax/matcher.js';
import { NS_PER_MS, type Labels } from '../model.js';
import { FilesystemObjectClient } from '../storage/filesystem-client.js';
import type { ObjectClient, ObjectInfo } from '../storage/object-client.js';
import { DAY_MS, SchemaConfig } from '../storage/schema.js';
import { fingerprint } from './fingerprint.js';
import { indexFileKey, type IndexedChunk } from './index-file.js';
import { IndexReader } from './index-reader.js';
import { TableIndexBuilder } from './table-index.js';

/** Counts calls, and can pretend a listed object exists (a file a compactor deleted after the listing). */
class CountingClient implements ObjectClient {
  gets: string[] = [];
  lists = 0;
  phantom: string | undefined;

  constructor(private readonly inner: ObjectClient) {}

  put(key: string, body: Buffer): Promise<void> {
    return this.inner.put(key, body);
  }
  get(key: string): Promise<Buffer> {
    this.gets.push(key);
    return this.inner.get(key);
  }
  async list(prefix: string): Promise<ObjectInfo[]> {
    this.lists++;
    const out = await this.inner.list(prefix);
    if (this.phantom?.startsWith(prefix)) {
      out.push({ key: this.phantom, size: 1, modified: new Date() });
      this.phantom = undefined;
    }
    return out;
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  exists(key: string): Promise<boolean> {
    return this.inner.exists(key);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const DAY = BigInt(DAY_MS) * NS_PER_MS;
const HOUR = DAY / 24n;
const D0 = 19700n * DAY; // 2023-12-09, table index_19700
const D1 = 19701n * DAY; // table index_19701

const schema = new SchemaConfig([
  {
    from: '2023-01-01',
    store: 'tsdb',
    objectStore: 'filesystem',
    schema: 'v13',
    indexPrefix: 'index_',
    indexPeriodMs: DAY_MS,
  },
]);

interface Stream {
  labels: Labels;
  canonical: string;
  fp: string;
}

function stream(labels: Labels): Stream {
  const canonical = `{${labels.map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(', ')}}`;
  return { labels, canonical, fp: fingerprint(canonical) };
}

const A = stream([
  ['app', 'api'],
  ['env', 'prod'],
]);
const B = stream([
  ['app', 'api'],
  ['env', 'dev'],
]);
const C = stream([
  ['app', 'web'],
  ['env', 'prod'],
  ['team', 'x'],
]);
const D = stream([['app', 'db']]);

function chunk(tenant: string, s: Stream, from: bigint, through: bigint, checksum: number, entries = 10): IndexedChunk {
  const sizes = { entries, uncompressedBytes: entries * 100, compressedBytes: entries * 10 };
  return { tenant, fingerprint: s.fp, from, through, checksum, ...sizes };
}

let dir: string;
let client: CountingClient;
let seq = 0;

/** Writes one index file per table the chunks overlap, as an ingester flush does. */
async function upload(tenant: string, uploader: string, items: Array<[Stream, IndexedChunk]>): Promise<void> {
  const builders = new Map<string, TableIndexBuilder>();
  for (const [s, c] of items) {
    for (const { table } of schema.tablesBetween(c.from, c.through)) {
      let b = builders.get(table);
      if (!b) builders.set(table, (b = new TableIndexBuilder(tenant, table)));
      b.addChunk(s.labels, s.canonical, c, c);
    }
  }
  for (const [table, b] of builders) {
    await client.put(indexFileKey(table, tenant, uploader, 1702080000000, seq++), b.toBuffer());
  }
}

// Chunks of tenant t1. a2 spans midnight, so both tables index it; a1 is uploaded twice (two replicas).
const a1 = chunk('t1', A, D0 + 1n * HOUR, D0 + 2n * HOUR, 1);
const a2 = chunk('t1', A, D0 + 23n * HOUR, D1 + 1n * HOUR, 2);
const a3 = chunk('t1', A, D1 + 5n * HOUR, D1 + 6n * HOUR, 3);
const b1 = chunk('t1', B, D0 + 3n * HOUR, D0 + 4n * HOUR, 4);
const c1 = chunk('t1', C, D0 + 10n * HOUR, D0 + 11n * HOUR, 5);
const d1 = chunk('t1', D, D1 + 10n * HOUR, D1 + 12n * HOUR, 6);
// Tenant t2 has a stream with A's labels (same fingerprint) but its own chunk.
const t2a = chunk('t2', A, D0 + 1n * HOUR, D0 + 2n * HOUR, 99);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-index-'));
  client = new CountingClient(new FilesystemObjectClient(dir));
  await upload('t1', 'ingester-0', [
    [A, a1],
    [B, b1],
    [A, a2],
  ]);
  await upload('t1', 'ingester-1', [
    [A, a1],
    [C, c1],
  ]);
  await upload('t1', 'ingester-0', [
    [A, a3],
    [D, d1],
  ]);
  await upload('t2', 'ingester-0', [[A, t2a]]);
  client.gets = [];
  client.lists = 0;
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const m = (type: MatchType, name: string, value: string): LabelMatcher => new LabelMatcher(type, name, value);
const ALL: [bigint, bigint] = [D0, D1 + DAY - 1n];
const ids = (chunks: IndexedChunk[]): number[] => chunks.map((c) => c.checksum);

describe('IndexReader.series', () => {
  it('merges every file of every table and de-duplicates chunks', async () => {
    const r = new IndexReader(client, schema);
    const out = await r.series('t1', [m('=', 'app', 'api')], ...ALL);
    expect(out.map((s) => s.fingerprint)).toEqual([A.fp, B.fp].sort());
    const a = out.find((s) => s.fingerprint === A.fp)!;
    expect(a.labels).toEqual(A.labels);
    // a1 came from two uploaders, a2 from two tables: each appears once, sorted by from.
    expect(ids(a.chunks)).toEqual([1, 2, 3]);
    expect(a.chunks[1]).toEqual(a2);
    // Two tables with two files each (t1) were read.
    expect(client.gets.length).toBe(4);
  });

  it.each<[string, LabelMatcher[], Stream[]]>([
    ['=', [m('=', 'app', 'api')], [A, B]],
    ['= on two labels', [m('=', 'app', 'api'), m('=', 'env', 'prod')], [A]],
    ['= with no such value', [m('=', 'app', 'nope')], []],
    ['= with no such label', [m('=', 'zone', 'x')], []],
    ['=""', [m('=', 'env', '')], [D]],
    ['!= alone scans all series', [m('!=', 'app', 'api')], [C, D]],
    ['!="" requires the label', [m('!=', 'team', '')], [C]],
    ['=~ alternation', [m('=~', 'app', 'api|web')], [A, B, C]],
    ['=~ is anchored', [m('=~', 'app', 'a')], []],
    ['=~ prefix', [m('=~', 'app', 'a.*')], [A, B]],
    ['=~ that matches empty also matches absent labels', [m('=~', 'env', 'dev|')], [B, D]],
    ['=~".*" matches all', [m('=~', 'app', '.*')], [A, B, C, D]],
    ['!~', [m('!~', 'env', 'prod|dev')], [D]],
    ['= with !=', [m('=', 'app', 'api'), m('!=', 'env', 'dev')], [A]],
    ['=~ with !~', [m('=~', 'env', '.+'), m('!~', 'app', 'api')], [C]],
    ['no matchers: every series', [], [A, B, C, D]],
  ])('selects with %s', async (_name, matchers, want) => {
    const r = new IndexReader(client, schema);
    const out = await r.series('t1', matchers, ...ALL);
    expect(out.map((s) => s.fingerprint)).toEqual(want.map((s) => s.fp).sort());
  });

  it('returns only chunks overlapping [from, through], both ends inclusive', async () => {
    const r = new IndexReader(client, schema);
    // Day 1 only: a2 reaches into it, a3 and d1 are in it; b1 and c1 are not.
    let out = await r.series('t1', [], D1, D1 + DAY - 1n);
    expect(out.map((s) => [s.fingerprint, ids(s.chunks)])).toEqual(
      [
        [A.fp, [2, 3]],
        [D.fp, [6]],
      ].sort(),
    );
    // Touching a chunk's last nanosecond or first nanosecond counts.
    out = await r.series('t1', [m('=', 'app', 'api')], a1.through, b1.from);
    expect(out.map((s) => ids(s.chunks))).toEqual([A.fp, B.fp].sort().map((fp) => (fp === A.fp ? [1] : [4])));
    // Between chunks: nothing.
    out = await r.series('t1', [], b1.through + 1n, c1.from - 1n);
    expect(out).toEqual([]);
    expect(await r.series('t1', [], D1, D0)).toEqual([]);
  });

  it('keeps tenants apart', async () => {
    const r = new IndexReader(client, schema);
    const t2 = await r.series('t2', [m('=', 'app', 'api')], ...ALL);
    expect(t2.map((s) => [s.fingerprint, ids(s.chunks)])).toEqual([[A.fp, [99]]]);
    expect(t2[0]!.chunks[0]!.tenant).toBe('t2');
    const t1 = await r.series('t1', [m('=', 'env', 'prod')], ...ALL);
    expect(t1.flatMap((s) => ids(s.chunks))).not.toContain(99);
    // A tenant whose name is a prefix of another's sees nothing of it.
    expect(await r.series('t', [], ...ALL)).toEqual([]);
    await expect(r.series('../t1', [], ...ALL)).rejects.toThrow(/invalid tenant/);
  });

  it('round-trips hostile label names and values', async () => {
    const s = stream([
      ['__proto__', 'constructor'],
      ['app', 'toString'],
    ]);
    await upload('t3', 'u', [[s, chunk('t3', s, D0, D0 + 1n, 1)]]);
    const r = new IndexReader(client, schema);
    const out = await r.series('t3', [m('=', '__proto__', 'constructor')], ...ALL);
    expect(out.map((x) => x.labels)).toEqual([s.labels]);
    expect(await r.labelNames('t3', ...ALL)).toEqual(['__proto__', 'app']);
    expect(await r.labelValues('t3', 'hasOwnProperty', ...ALL)).toEqual([]);
  });
});

describe('IndexReader labels and stats', () => {
  it('lists label names of streams with data in the range', async () => {
    const r = new IndexReader(client, schema);
    expect(await r.labelNames('t1', ...ALL)).toEqual(['app', 'env', 'team']);
    // Only C has `team`, and C has no data on day 1; D (no env) and A do.
    expect(await r.labelNames('t1', D1 + 4n * HOUR, D1 + 11n * HOUR)).toEqual(['app', 'env']);
    expect(await r.labelNames('t1', D1 + 10n * HOUR, D1 + 11n * HOUR)).toEqual(['app']);
    expect(await r.labelNames('t1', ...ALL, [m('=', 'app', 'web')])).toEqual(['app', 'env', 'team']);
    expect(await r.labelNames('t2', ...ALL)).toEqual(['app', 'env']);
  });

  it('lists label values, optionally restricted by matchers', async () => {
    const r = new IndexReader(client, schema);
    expect(await r.labelValues('t1', 'app', ...ALL)).toEqual(['api', 'db', 'web']);
    expect(await r.labelValues('t1', 'env', ...ALL)).toEqual(['dev', 'prod']);
    expect(await r.labelValues('t1', 'env', ...ALL, [m('=', 'app', 'api')])).toEqual(['dev', 'prod']);
    expect(await r.labelValues('t1', 'env', ...ALL, [m('!=', 'app', 'api')])).toEqual(['prod']);
    expect(await r.labelValues('t1', 'app', ...ALL, [m('=~', 'env', 'p.*')])).toEqual(['api', 'web']);
    expect(await r.labelValues('t1', 'app', D1, D1 + DAY - 1n)).toEqual(['api', 'db']);
    expect(await r.labelValues('t1', 'missing', ...ALL)).toEqual([]);
  });

  it('reports stats over de-duplicated chunks', async () => {
    const r = new IndexReader(client, schema);
    const api = await r.stats('t1', [m('=', 'app', 'api')], ...ALL);
    expect(api).toEqual({ streams: 2, chunks: 4, entries: 40, bytes: 4000 });
    expect(await r.stats('t1', [], D1, D1 + DAY - 1n)).toEqual({ streams: 2, chunks: 3, entries: 30, bytes: 3000 });
    const none = await r.stats('t1', [m('=', 'app', 'none')], ...ALL);
    expect(none).toEqual({ streams: 0, chunks: 0, entries: 0, bytes: 0 });
  });
});

describe('IndexReader caching and freshness', () => {
  it('reuses parsed files, lists on every query, and sees new uploads', async () => {
    const r = new IndexReader(client, schema);
    await r.series('t1', [], ...ALL);
    expect(client.gets.length).toBe(4);
    expect(client.lists).toBe(2);

    await r.series('t1', [m('=', 'app', 'api')], ...ALL);
    await r.labelNames('t1', ...ALL);
    expect(client.gets.length).toBe(4);
    expect(client.lists).toBe(6);

    const e = stream([['app', 'new']]);
    await upload('t1', 'ingester-2', [[e, chunk('t1', e, D1 + HOUR, D1 + 2n * HOUR, 7)]]);
    expect(await r.labelValues('t1', 'app', ...ALL)).toEqual(['api', 'db', 'new', 'web']);
    expect(client.gets.length).toBe(5);
  });

  it('evicts least recently used files beyond cacheFiles', async () => {
    const r = new IndexReader(client, schema, { cacheFiles: 2 });
    await r.series('t1', [], D0, D0 + DAY - 1n); // two files of day 0
    await r.series('t1', [], D0, D0 + DAY - 1n);
    expect(client.gets.length).toBe(2);
    await r.series('t1', [], D1, D1 + DAY - 1n); // two more files evict the first two
    await r.series('t1', [], D0, D0 + DAY - 1n);
    expect(client.gets.length).toBe(6);
    const none = new IndexReader(client, schema, { cacheFiles: 0 });
    await none.series('t1', [], D0, D0 + DAY - 1n);
    await none.series('t1', [], D0, D0 + DAY - 1n);
    expect(client.gets.length).toBe(10);
  });

  it('loads a file once for concurrent queries', async () => {
    const r = new IndexReader(client, schema);
    await Promise.all([r.series('t1', [], ...ALL), r.labelNames('t1', ...ALL), r.stats('t1', [], ...ALL)]);
    expect(client.gets.length).toBe(4);
  });

  it('reuses a listing within listTtlMs', async () => {
    let now = 1_000;
    const r = new IndexReader(client, schema, { listTtlMs: 5_000, now: () => now });
    await r.labelValues('t1', 'app', ...ALL);
    const e = stream([['app', 'new']]);
    await upload('t1', 'ingester-2', [[e, chunk('t1', e, D1 + HOUR, D1 + 2n * HOUR, 7)]]);
    now += 4_999;
    expect(await r.labelValues('t1', 'app', ...ALL)).toEqual(['api', 'db', 'web']);
    expect(client.lists).toBe(2);
    now += 1;
    expect(await r.labelValues('t1', 'app', ...ALL)).toEqual(['api', 'db', 'new', 'web']);
    expect(client.lists).toBe(4);
  });

  it('lists again when a listed file disappeared (compaction)', async () => {
    const r = new IndexReader(client, schema);
    client.phantom = 'index/index_19700/t1/compacted-away-1-0.cbor';
    const out = await r.series('t1', [m('=', 'app', 'web')], ...ALL);
    expect(out.map((s) => s.fingerprint)).toEqual([C.fp]);
    expect(client.gets).toContain('index/index_19700/t1/compacted-away-1-0.cbor');
    expect(client.lists).toBe(3);
  });

  it('fails loudly on a corrupt file or a file of another tenant', async () => {
    const r = new IndexReader(client, schema);
    await client.put('index/index_19700/t4/u-1-0.cbor', Buffer.from('not cbor at all'));
    const err = await r.series('t4', [], ...ALL).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('internal');
    expect((err as EngineError).message).toMatch(/corrupt index file index\/index_19700\/t4\/u-1-0.cbor/);

    const b = new TableIndexBuilder('t1', 'index_19700');
    b.addChunk(A.labels, A.canonical, a1, a1);
    await client.put('index/index_19700/t5/u-1-0.cbor', b.toBuffer());
    await expect(r.series('t5', [], ...ALL)).rejects.toThrow(/holds tenant t1/);
  });

  it('ignores objects under the table prefix that are not index files', async () => {
    await client.put('index/index_19700/t1/readme.txt', Buffer.from('x'));
    await client.put('index/index_19700/t1/sub/u-1-0.cbor', Buffer.from('x'));
    const r = new IndexReader(client, schema);
    expect((await r.series('t1', [], ...ALL)).length).toBe(4);
    expect(client.gets.length).toBe(4);
  });
});
