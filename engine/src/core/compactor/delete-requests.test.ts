import { EngineError } from '../errors.js';
import type { Labels } from '../model.js';
import { ManualClock } from '../util/clock.js';
import {
  ActiveDelete,
  decodeDeleteRequest,
  DeleteRequestStore,
  deletePredicate,
  encodeDeleteRequest,
  parseDeleteRequestParams,
  toApiJson,
  type DeleteRequest,
} from './delete-requests.js';
import { MemoryObjectClient } from './testing/memory-store.js';

const NOW = Date.UTC(2024, 0, 10); // 1704844800000
const H = 3_600_000;
const D = 24 * H;

function err(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).status).toBe(400);
    return (e as EngineError).message;
  }
  throw new Error('no error');
}

describe('delete request parameters (Loki validation, in its order)', () => {
  const parse = (p: Record<string, string>, max = D) => parseDeleteRequestParams(p, NOW, max);

  it('accepts a selector with Unix seconds and RFC3339 times; end defaults to now', () => {
    expect(parse({ query: '{app="a"}', start: '1704758400', end: '2024-01-09T12:00:00Z' })).toEqual({
      query: '{app="a"}',
      startMs: 1704758400000,
      endMs: Date.UTC(2024, 0, 9, 12),
      maxIntervalMs: 0,
    });
    expect(parse({ query: '{app="a"}', start: '2024-01-09T00:00:00.5Z' }).endMs).toBe(NOW);
  });

  it("answers Loki's messages", () => {
    expect(err(() => parse({}))).toBe('query not set');
    expect(err(() => parse({ query: '{app="a"', start: '1704758400' }))).toMatch(/^invalid query expression: parse error/);
    expect(err(() => parse({ query: 'count_over_time({app="a"}[1m])', start: '1704758400' }))).toBe(
      'invalid query expression: only log selector is supported',
    );
    expect(err(() => parse({ query: '{app="a"} |~ "("', start: '1704758400' }))).toMatch(/^invalid query expression: /);
    expect(err(() => parse({ query: '{app="a"}' }))).toBe('start time not set');
    expect(err(() => parse({ query: '{app="a"}', start: '170475840' }))).toBe('invalid start time: require unix seconds or RFC3339 format');
    expect(err(() => parse({ query: '{app="a"}', start: '1704758400', end: 'x' }))).toBe('invalid end time: require unix seconds or RFC3339 format');
    expect(err(() => parse({ query: '{app="a"}', start: '1704758400', end: '1704931200' }))).toBe('deletes in the future are not allowed');
    expect(err(() => parse({ query: '{app="a"}', start: '1704844000', end: '1704758400' }))).toBe("start time can't be greater than end time");
  });

  it('checks max_interval only for queries with filters', () => {
    const base = { query: '{app="a"} |= "x"', start: '1704758400', end: '1704844800' };
    expect(parse({ ...base, max_interval: '1h' }).maxIntervalMs).toBe(H);
    expect(parse(base).maxIntervalMs).toBe(D); // min(span, delete_max_interval)
    expect(err(() => parse({ ...base, max_interval: '500ms' }))).toBe("invalid max_interval: valid time units are 's', 'm', 'h'");
    expect(err(() => parse({ ...base, max_interval: 'soon' }))).toBe("invalid max_interval: valid time units are 's', 'm', 'h'");
    expect(err(() => parse({ ...base, max_interval: '25h' }, 48 * H))).toBe("max_interval can't be greater than the interval to be deleted (24h0m0s)");
    expect(err(() => parse({ ...base, max_interval: '13h' }, 12 * H))).toBe("max_interval can't be greater than 12h0m0s");
    expect(err(() => parse({ ...base, start: '1704844800' }))).toBe('difference between start time and end time must be at least one second');
    // Without a filter the same values are not looked at.
    expect(parse({ query: '{app="a"}', start: '1704844800', end: '1704844800', max_interval: 'x' }).maxIntervalMs).toBe(0);
  });
});

describe('delete request records', () => {
  const r: DeleteRequest = {
    requestId: '0a1b2c3d',
    tenant: 't',
    query: '{app="a"} |= "secret"',
    startMs: 1000,
    endMs: 2500,
    maxIntervalMs: 0,
    status: 'received',
    createdAtMs: 3001,
  };

  it('round-trips and lists as Loki does (times in seconds)', () => {
    expect(decodeDeleteRequest(encodeDeleteRequest(r), 'k')).toEqual(r);
    const done = { ...r, status: 'processed' as const, processedAtMs: 9000 };
    expect(decodeDeleteRequest(encodeDeleteRequest(done), 'k')).toEqual(done);
    expect(JSON.stringify(toApiJson(r))).toBe(
      '{"request_id":"0a1b2c3d","start_time":1,"end_time":2.5,"query":"{app=\\"a\\"} |= \\"secret\\"","status":"received","created_at":3.001}',
    );
    expect(() => decodeDeleteRequest(Buffer.from('{"format":2}'), 'k')).toThrow('corrupt delete request k');
  });

  it('stores, lists, marks processed and cancels through the object store', async () => {
    const store = new MemoryObjectClient();
    const clock = new ManualClock(NOW);
    const a = new DeleteRequestStore(store, clock);
    const other = new DeleteRequestStore(store, clock, { cacheTtlMs: 10_000 });
    const r1 = await a.add('t', { query: '{app="a"}', startMs: 0, endMs: 1000, maxIntervalMs: 0 });
    clock.advance(1);
    const r2 = await a.add('t', { query: '{app="b"}', startMs: 0, endMs: 1000, maxIntervalMs: 0 });
    await a.add('u', { query: '{app="c"}', startMs: 0, endMs: 1000, maxIntervalMs: 0 });
    expect(r1.requestId).toMatch(/^[0-9a-f]{8}$/);
    expect(store.keys()).toContain(`delete_requests/t/${r1.requestId}.json`);
    expect((await a.list('t')).map((x) => x.requestId)).toEqual([r1.requestId, r2.requestId]);
    expect(await a.tenants()).toEqual(['t', 'u']);

    // Another process sees changes after its cache expires; the writing process at once.
    expect(await other.list('t')).toHaveLength(2);
    await a.remove('t', r2.requestId);
    expect(await a.list('t')).toHaveLength(1);
    expect(await other.list('t')).toHaveLength(2);
    clock.advance(10_000);
    expect(await other.list('t')).toHaveLength(1);

    expect(await a.markProcessed(r1)).toBe(true);
    expect((await a.get('t', r1.requestId))?.status).toBe('processed');
    expect(await a.markProcessed(r2)).toBe(false); // cancelled meanwhile: not resurrected
    expect(await a.get('t', r2.requestId)).toBeUndefined();
    expect(await a.get('t', 'nope')).toBeUndefined();
  });

  it('ignores objects that are not its records (a tenant named delete_requests)', async () => {
    const store = new MemoryObjectClient();
    await store.put('delete_requests/0123456789abcdef/18d:18e:1a2b3c', Buffer.from('chunk'));
    const s = new DeleteRequestStore(store, new ManualClock(NOW));
    expect(await s.tenants()).toEqual([]);
    expect(await s.list('0123456789abcdef')).toEqual([]);
  });
});

describe('delete predicates', () => {
  const L = (app: string): Labels => [['app', app]];
  const req = (query: string, startMs: number, endMs: number): ActiveDelete =>
    new ActiveDelete({ requestId: '00000000', tenant: 't', query, startMs, endMs, maxIntervalMs: 0, status: 'received', createdAtMs: 0 });
  const ns = (msv: number): bigint => BigInt(msv) * 1_000_000n;

  it('deletes entries in the inclusive range whose line the query keeps', () => {
    const d = req('{app="a"} |= "secret" != "keep"', 1000, 2000);
    expect(d.appliesTo(L('a'))).toBe(true);
    expect(d.appliesTo(L('b'))).toBe(false);
    const p = deletePredicate([d], L('a'))!;
    expect(p(ns(1000), Buffer.from('a secret'), undefined)).toBe(true);
    expect(p(ns(2000), Buffer.from('a secret'), undefined)).toBe(true);
    expect(p(ns(2000) + 1n, Buffer.from('a secret'), undefined)).toBe(false);
    expect(p(ns(999), Buffer.from('a secret'), undefined)).toBe(false);
    expect(p(ns(1500), Buffer.from('public'), undefined)).toBe(false);
    expect(p(ns(1500), Buffer.from('secret keep'), undefined)).toBe(false);
    expect(deletePredicate([], L('a'))).toBeUndefined();
  });

  it('runs parser and label-filter stages, structured metadata included', () => {
    const p = deletePredicate([req('{app="a"} | logfmt | level="debug"', 0, 10_000)], L('a'))!;
    expect(p(ns(1), Buffer.from('level=debug msg=x'), undefined)).toBe(true);
    expect(p(ns(1), Buffer.from('level=info msg=x'), undefined)).toBe(false);
    const sm = deletePredicate([req('{app="a"} | user="bob"', 0, 10_000)], L('a'))!;
    expect(sm(ns(1), Buffer.from('x'), [['user', 'bob']])).toBe(true);
    expect(sm(ns(1), Buffer.from('x'), [['user', 'alice']])).toBe(false);
  });

  it('says when a request removes a whole chunk without reading it', () => {
    const whole = req('{app="a"}', 1000, 2000);
    expect(whole.covers(ns(1000), ns(2000))).toBe(true);
    expect(whole.covers(ns(999), ns(2000))).toBe(false);
    expect(whole.overlaps(ns(0), ns(1000))).toBe(true);
    expect(whole.overlaps(ns(2001), ns(3000))).toBe(false);
    expect(req('{app="a"} |= "x"', 0, 5000).covers(ns(1000), ns(2000))).toBe(false);
  });
});
