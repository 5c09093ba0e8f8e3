import { decodeChunk } from '../chunk/mem-chunk.js';
import { decodeIndexFile, parseIndexFileKey } from '../index/index-file.js';
import type { Limits } from '../limits/limits.js';
import type { Labels } from '../model.js';
import type { ObjectClient } from '../storage/object-client.js';
import { ManualClock } from '../util/clock.js';
import { nopLogger } from '../util/logger.js';
import { Compactor, type CompactorOptions } from './compactor.js';
import { DeleteRequestStore } from './delete-requests.js';
import { LEASE_KEY } from './lease.js';
import {
  DAY_MS,
  flushChunk,
  HOUR_MS,
  limitsOf,
  ms,
  readAll,
  storeQuerier,
  testCompactorConfig,
  testSchema,
  testTableManagerConfig,
} from './testing/fixtures.js';
import { CrashingObjectClient, MemoryObjectClient } from './testing/memory-store.js';

const NOW = Date.UTC(2024, 0, 10, 12); // noon, so "days ago" never sits on a table boundary
const schema = testSchema();
// Not from 0: every table of the range is listed, and there are ~20k days since 1970.
const ALL = [ms(NOW - 60 * DAY_MS), ms(NOW + DAY_MS)] as const;

const API_PROD: Labels = [['app', 'api'], ['env', 'prod']];
const API_DEV: Labels = [['app', 'api'], ['env', 'dev']];
const WEB: Labels = [['app', 'web']];

function compactor(store: ObjectClient, clock: ManualClock, over: Partial<CompactorOptions> = {}): Compactor {
  return new Compactor({
    store,
    schema,
    limits: limitsOf({}),
    compactor: testCompactorConfig({ retention_enabled: false }),
    tableManager: testTableManagerConfig(),
    chunkBlockSize: 1024,
    clock,
    logger: nopLogger,
    instanceId: 'compactor-0',
    leaseSettleMs: 0,
    ...over,
  });
}

/**
 * Three streams in two tenants over six days: several flushes per day (one index file each), chunks crossing
 * midnight (indexed in two tables), lines with "secret" for the delete tests.
 */
async function seed(store: ObjectClient, shape = { days: [40, 5, 3, 1], flushes: 3, streams: [API_PROD, API_DEV, WEB] }): Promise<void> {
  let seq = 0;
  for (const tenant of ['a', 'b']) {
    for (const [si, labels] of shape.streams.entries()) {
      const name = labels.map(([, v]) => v).join('-');
      for (const daysAgo of shape.days) {
        for (let flush = 0; flush < shape.flushes; flush++) {
          const base = NOW - daysAgo * DAY_MS + flush * HOUR_MS + si * 1000;
          const entries = Array.from({ length: 20 }, (_, i) => ({
            ts: ms(base) + BigInt(i) * 1_000_000_000n,
            line: `${tenant} ${name} d${daysAgo} f${flush} #${i}${i % 5 === 0 ? ' secret' : ''}`,
          }));
          await flushChunk(store, schema, tenant, labels, entries, { uploader: `ingester-${flush % 2}`, seq: seq++ });
        }
      }
      // A chunk across midnight, three days ago.
      const midnight = Date.UTC(2024, 0, 7);
      const cross = Array.from({ length: 10 }, (_, i) => ({ ts: ms(midnight - 5 * 60_000) + BigInt(i) * 60_000_000_000n, line: `${tenant} ${name} cross ${i} secret` }));
      await flushChunk(store, schema, tenant, labels, cross, { seq: seq++ });
    }
  }
}

function indexFiles(store: MemoryObjectClient): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const k of store.keys()) {
    const p = parseIndexFileKey(k);
    if (p === undefined) continue;
    const id = `${p.table}/${p.tenant}`;
    out.set(id, [...(out.get(id) ?? []), k]);
  }
  return out;
}

/** The distinct chunk keys a tenant's index files name, sorted. */
async function indexedChunks(store: MemoryObjectClient, tenant: string): Promise<string[]> {
  const keys = new Set<string>();
  for (const [id, files] of indexFiles(store)) {
    if (!id.endsWith(`/${tenant}`)) continue;
    for (const k of files) for (const s of decodeIndexFile(await store.get(k), k).series) for (const c of s.chunks) keys.add(schema.chunkKey(c));
  }
  return [...keys].sort();
}

async function everything(store: ObjectClient, tenant: string, filter?: Compactor): Promise<string[]> {
  return readAll(storeQuerier(store, schema, filter?.readFilter), tenant, '{app=~".+"}', ...ALL);
}

describe('compaction', () => {
  it('merges every table of every tenant into one index file without changing any query', async () => {
    const store = new MemoryObjectClient();
    await seed(store);
    const before = { a: await everything(store, 'a'), b: await everything(store, 'b') };
    const filesBefore = indexFiles(store);
    expect(Math.max(...[...filesBefore.values()].map((k) => k.length))).toBeGreaterThan(1);

    const c = compactor(store, new ManualClock(NOW));
    const run = await c.runOnce();
    expect(run.active).toBe(true);
    expect(run.failures).toBe(0);
    expect(run.tablesCompacted).toBe([...filesBefore.values()].filter((k) => k.length > 1).length);

    const after = indexFiles(store);
    expect([...after.keys()].sort()).toEqual([...filesBefore.keys()].sort());
    for (const [id, keys] of after) {
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(/\/compactor-\d+-\d+\.cbor$/);
      const f = decodeIndexFile(await store.get(keys[0]!), keys[0]!);
      expect(`${f.table}/${f.tenant}`).toBe(id);
    }
    expect({ a: await everything(store, 'a'), b: await everything(store, 'b') }).toEqual(before);

    // Idempotent: a second run finds nothing to do and writes nothing.
    const snap = store.snapshot();
    expect((await c.runOnce()).tablesCompacted).toBe(0);
    const again = store.snapshot();
    expect([...again.keys()].filter((k) => k !== LEASE_KEY)).toEqual([...snap.keys()].filter((k) => k !== LEASE_KEY));
  });

  it('a compactor killed at any write and restarted leaves a store whose queries equal the uncompacted one', async () => {
    const store = new MemoryObjectClient();
    const clock = new ManualClock(NOW);
    await seed(store);
    // Retention and an eligible delete request too, so every kind of write is interrupted somewhere.
    const limits = limitsOf({ retention_period: 30 * DAY_MS });
    clock.set(NOW - 2 * DAY_MS);
    await new DeleteRequestStore(store, clock).add('a', { query: '{app="api"} |= "secret"', startMs: NOW - 4 * DAY_MS, endMs: NOW - DAY_MS, maxIntervalMs: 0 });
    clock.set(NOW);
    const opts = { limits, compactor: testCompactorConfig({ retention_delete_delay: HOUR_MS }) };
    const initial = store.snapshot();
    const expected = { a: await everything(store, 'a', compactor(store, clock, opts)), b: await everything(store, 'b', compactor(store, clock, opts)) };
    expect(expected.a.some((l) => l.includes(' d40 '))).toBe(false); // past retention, hidden already
    expect(expected.a.some((l) => l.includes('api') && l.includes('secret') && l.includes(' d3 '))).toBe(false);

    // How many writes an uninterrupted run makes.
    const counting = new CrashingObjectClient(store);
    await compactor(counting, clock, opts).runOnce();
    const total = counting.mutations;
    expect(total).toBeGreaterThan(20);
    const cleanRaw = { a: await everything(store, 'a'), b: await everything(store, 'b') };

    for (let budget = 0; budget < total; budget++) {
      store.restore(initial);
      clock.set(NOW);
      const crashing = new CrashingObjectClient(store);
      crashing.budget = budget;
      await compactor(crashing, clock, opts)
        .runOnce()
        .catch(() => undefined);
      // Queries right after the crash, and after a fresh compactor (same instance ID: a restarted pod) has run.
      const fresh = compactor(store, clock, opts);
      expect({ a: await everything(store, 'a', fresh), b: await everything(store, 'b', fresh) }).toEqual(expected);
      const run = await fresh.runOnce();
      expect(run.failures).toBe(0);
      expect({ a: await everything(store, 'a', fresh), b: await everything(store, 'b', fresh) }).toEqual(expected);
      // The recovered store is the one a clean run makes: one file per table and tenant, the same raw contents.
      for (const keys of indexFiles(store).values()) expect(keys).toHaveLength(1);
      expect({ a: await everything(store, 'a'), b: await everything(store, 'b') }).toEqual(cleanRaw);
      // Once the sweeper has run, every chunk the index names still exists.
      clock.advance(HOUR_MS);
      await fresh.runOnce();
      for (const keys of indexFiles(store).values()) {
        const f = decodeIndexFile(await store.get(keys[0]!), keys[0]!);
        for (const s of f.series) for (const ch of s.chunks) expect(await store.exists(schema.chunkKey(ch))).toBe(true);
      }
    }
  });

  it('only the lease holder acts; the second instance stays idle until the first is gone', async () => {
    const store = new MemoryObjectClient();
    await seed(store);
    const clock = new ManualClock(NOW);
    const a = compactor(store, clock, { instanceId: 'a', leaseTtlMs: 60_000 });
    const b = compactor(store, clock, { instanceId: 'b', leaseTtlMs: 60_000 });
    expect((await a.syncTables()) !== undefined).toBe(true);
    const snap = store.keys();
    expect(await b.runOnce()).toMatchObject({ active: false, tablesCompacted: 0 });
    expect(await b.syncTables()).toBeUndefined();
    expect(store.keys()).toEqual(snap);
    expect(b.active).toBe(false);

    expect((await a.runOnce()).active).toBe(true);
    // a dies without releasing: b takes over once the lease expires.
    clock.advance(60_001);
    expect((await b.runOnce()).active).toBe(true);
    expect((await a.runOnce()).active).toBe(false);
    // A graceful stop hands over at once.
    await b.stop();
    expect((await a.runOnce()).active).toBe(true);
  });
});

describe('retention', () => {
  const perTenant: Record<string, Partial<Limits>> = {
    a: { retention_period: 2 * DAY_MS, retention_stream: [{ selector: '{env="prod"}', priority: 1, period: 4 * DAY_MS }] },
  };
  const opts = (over: Partial<CompactorOptions> = {}): Partial<CompactorOptions> => ({
    limits: limitsOf({ retention_period: 30 * DAY_MS }, perTenant),
    compactor: testCompactorConfig({ retention_delete_delay: 2 * HOUR_MS }),
    ...over,
  });
  const days = (lines: string[]): string[] => [...new Set(lines.map((l) => /(\S+) (d\d+|cross) /.exec(l.split('|')[2]!)!.slice(1).join(' ')))].sort();

  it('hides expired data from queries at once, removes it from the index on the run, deletes the chunks after the delay', async () => {
    const store = new MemoryObjectClient();
    await seed(store);
    const clock = new ManualClock(NOW);
    const c = compactor(store, clock, opts());
    // Tenant a: prod streams keep 4 days (its rule), the others 2 days (its period); the chunk across midnight three
    // days ago survives on the prod stream only. Tenant b has no override: the global 30 days.
    const expectedA = ['api-dev d1', 'api-prod cross', 'api-prod d1', 'api-prod d3', 'web d1'];
    const expectedB = [
      ...['api-dev', 'api-prod', 'web'].flatMap((s) => [`${s} cross`, `${s} d1`, `${s} d3`, `${s} d5`]),
    ].sort();

    // Before any compaction: the read filter alone.
    expect(days(await everything(store, 'a', c))).toEqual(expectedA);
    expect(days(await everything(store, 'b', c))).toEqual(expectedB); // no override: the global 30 days
    expect(days(await everything(store, 'a'))).toContain('web d40'); // still stored

    const chunksBefore = store.keys().filter((k) => k.startsWith('a/')).length;
    const run = await c.runOnce();
    expect(run.expiredChunks).toBeGreaterThan(0);
    // The index no longer names them: even a reader without the filter does not see them.
    expect(days(await everything(store, 'a'))).toEqual([...expectedA]);
    expect(days(await everything(store, 'b'))).toEqual(expectedB);
    expect(store.keys().filter((k) => k.startsWith('a/')).length).toBe(chunksBefore); // not deleted yet

    clock.advance(2 * HOUR_MS);
    const later = await c.runOnce();
    expect(later.swept.chunks).toBe(run.expiredChunks); // one key per table that unindexed it
    // Exactly the chunks the index still names are left.
    for (const tenant of ['a', 'b']) expect(store.keys().filter((k) => k.startsWith(`${tenant}/`))).toEqual(await indexedChunks(store, tenant));
    expect(days(await everything(store, 'a', c))).toEqual(expectedA);
  });

  it('clamps a chunk that straddles the cutoff at query time and keeps it until wholly expired', async () => {
    const store = new MemoryObjectClient();
    const clock = new ManualClock(NOW);
    const start = NOW - 2 * DAY_MS - HOUR_MS; // one hour before the 2-day cutoff
    const entries = Array.from({ length: 4 }, (_, i) => ({ ts: ms(start + i * HOUR_MS), line: `h${i}` }));
    await flushChunk(store, schema, 'a', WEB, entries, { seq: 0 });
    const c = compactor(store, clock, opts());
    const lines = async (f?: Compactor) => (await everything(store, 'a', f)).map((l) => l.split('|')[2]);
    expect(await lines(c)).toEqual(['h1', 'h2', 'h3']); // h0 is past retention (h1 sits exactly on the cutoff)
    expect((await c.runOnce()).expiredChunks).toBe(0);
    expect(await lines()).toEqual(['h0', 'h1', 'h2', 'h3']);
    clock.advance(3 * HOUR_MS);
    expect(await lines(c)).toEqual([]);
    expect((await c.runOnce()).expiredChunks).toBe(1);
    expect(await lines()).toEqual([]);
  });

  it('follows live changes of the overrides and does nothing with retention disabled', async () => {
    const store = new MemoryObjectClient();
    await seed(store);
    const clock = new ManualClock(NOW);
    let current: Partial<Limits> = { retention_period: 30 * DAY_MS };
    const base = limitsOf({});
    const live = (t: string): Readonly<Limits> => ({ ...base(t), ...current });
    const off = compactor(store, clock, opts({ limits: live, compactor: testCompactorConfig({ retention_enabled: false }) }));
    expect(days(await everything(store, 'b', off))).toContain('web d40');
    expect((await off.runOnce()).expiredChunks).toBe(0);

    const on = compactor(store, clock, opts({ limits: live }));
    expect(days(await everything(store, 'b', on))).not.toContain('web d40');
    current = { retention_period: 2 * DAY_MS };
    expect(days(await everything(store, 'b', on))).toEqual(['api-dev d1', 'api-prod d1', 'web d1']);
    await on.runOnce();
    expect(days(await everything(store, 'b'))).toEqual(['api-dev d1', 'api-prod d1', 'web d1']);
  });
});

describe('delete requests', () => {
  const opts = (mode: Limits['deletion_mode'] = 'filter-and-delete'): Partial<CompactorOptions> => ({
    limits: limitsOf({ deletion_mode: mode }),
    compactor: testCompactorConfig({ retention_delete_delay: HOUR_MS, delete_request_cancel_period: DAY_MS }),
  });

  async function chunkLines(store: MemoryObjectClient, tenant: string): Promise<string[]> {
    const out: string[] = [];
    for (const k of store.keys().filter((x) => x.startsWith(`${tenant}/`))) {
      const r = await decodeChunk(await store.get(k));
      for (const e of await r.readEntries(-(1n << 62n), 1n << 62n, 'forward')) out.push(e.line.toString());
    }
    return out;
  }

  it('hides matching lines at once, rewrites the chunks after the cancel period, deletes the originals after the delay', async () => {
    const store = new MemoryObjectClient();
    await seed(store);
    const clock = new ManualClock(NOW);
    const c = compactor(store, clock, opts());
    const before = await everything(store, 'a');
    const req = await c.deletes.add('a', { query: '{app="api"} |= "secret"', startMs: NOW - 4 * DAY_MS, endMs: NOW - DAY_MS + 2 * HOUR_MS, maxIntervalMs: 0 });
    const gone = (l: string): boolean => {
      const [canonical, ts, line] = l.split('|') as [string, string, string];
      const t = BigInt(ts);
      return canonical.includes('app="api"') && line.includes('secret') && t >= ms(req.startMs) && t <= ms(req.endMs);
    };
    const expected = before.filter((l) => !gone(l));
    expect(expected.length).toBeLessThan(before.length);
    expect(before.filter(gone).some((l) => l.includes('cross'))).toBe(true); // the two-table chunk is affected
    expect(await everything(store, 'a', c)).toEqual(expected);
    expect(await everything(store, 'b', c)).toEqual(await everything(store, 'b')); // other tenant untouched

    // Within the cancel period nothing is rewritten.
    expect((await c.runOnce()).requestsProcessed).toBe(0);
    expect((await chunkLines(store, 'a')).filter((l) => l.includes('api') && l.includes('secret')).length).toBeGreaterThan(0);

    clock.advance(DAY_MS);
    const run = await c.runOnce();
    expect(run).toMatchObject({ requestsProcessed: 1, failures: 0 });
    expect(run.rewrittenChunks).toBeGreaterThan(0);
    expect((await c.deletes.get('a', req.requestId))?.status).toBe('processed');
    // The index now names rewritten chunks: a reader without any filter sees exactly the expected lines.
    expect(await everything(store, 'a')).toEqual(expected);
    expect(await everything(store, 'a', c)).toEqual(expected);

    clock.advance(HOUR_MS);
    const swept = await c.runOnce();
    expect(swept.swept.chunks).toBe(run.deletedChunks);
    const stored = await chunkLines(store, 'a');
    const deletedLines = before.filter(gone).map((l) => l.split('|')[2]!);
    for (const l of deletedLines) expect(stored).not.toContain(l);
    // Lines outside the request survive in the store, including "secret" lines of other streams or days.
    expect(stored).toContain('a web d3 f0 #0 secret');
    expect(stored).toContain('a api-prod d5 f0 #0 secret');
    expect(stored).toContain('a api-prod d3 f0 #1');
  });

  it('drops chunks a filterless request covers whole without reading them, and leaves filter-only tenants in the store', async () => {
    const store = new MemoryObjectClient();
    await seed(store);
    const clock = new ManualClock(NOW - DAY_MS - 1);
    const c = compactor(store, clock, opts());
    await c.deletes.add('a', { query: '{app="web"}', startMs: NOW - 6 * DAY_MS, endMs: NOW - 2 * DAY_MS, maxIntervalMs: 0 });
    clock.set(NOW);
    const run = await c.runOnce();
    expect(run.rewrittenChunks).toBe(0);
    // 3 flushes on each of d5 and d3, and the chunk across midnight, unindexed from both its tables.
    expect(run.deletedChunks).toBe(8);
    expect((await everything(store, 'a')).filter((l) => l.includes('app="web"') && / d[35] /.test(l))).toEqual([]);

    const onlyFilter = compactor(store, clock, { ...opts('filter-only'), instanceId: 'compactor-0' });
    clock.set(NOW - 2 * DAY_MS);
    await onlyFilter.deletes.add('b', { query: '{app="web"}', startMs: 0, endMs: NOW - 2 * DAY_MS, maxIntervalMs: 0 });
    clock.set(NOW);
    const rawBefore = await everything(store, 'b');
    expect((await onlyFilter.runOnce()).requestsProcessed).toBe(0);
    expect(await everything(store, 'b')).toEqual(rawBefore); // nothing removed from the store
    expect((await everything(store, 'b', onlyFilter)).some((l) => l.includes('app="web"') && !l.includes(' d1 '))).toBe(false);
    // With deletion disabled the request is ignored by queries too.
    const disabled = compactor(store, clock, opts('disabled'));
    expect(await everything(store, 'b', disabled)).toEqual(rawBefore);
  });
});
