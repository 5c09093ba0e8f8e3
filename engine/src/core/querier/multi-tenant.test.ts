import { labelsString } from '../distributor/labels.js';
import { fingerprint } from '../index/fingerprint.js';
import { LabelMatcher } from '../logql/syntax/matcher.js';
import { parseExpr } from '../logql/syntax/parser.js';
import type { Labels } from '../model.js';
import {
  MULTIPLE_ORG_IDS,
  readStreamsForTenants,
  resolveTenants,
  selectLogsForTenants,
  selectTenants,
  withTenantLabel,
} from './multi-tenant.js';
import type { LogStream, Querier, SelectParams, SelectStreamsParams, StreamData } from './querier.js';

describe('resolveTenants', () => {
  it('reads one tenant, or `fake` without auth', () => {
    expect(resolveTenants('a', true, false)).toEqual(['a']);
    expect(resolveTenants('a|b', false, false)).toEqual(['fake']);
  });

  it('splits a|b into sorted, unique, valid tenants when multi-tenant queries are enabled', () => {
    expect(resolveTenants('b|a|b', true, true)).toEqual(['a', 'b']);
    expect(() => resolveTenants('a|b/c', true, true)).toThrow("tenant ID 'b/c' contains unsupported character '/'");
  });

  it("refuses several tenants when disabled, and a missing header, with Loki's messages", () => {
    expect(() => resolveTenants('a|b', true, false)).toThrow(MULTIPLE_ORG_IDS);
    // Loki validates and de-duplicates first: `a|a` is one tenant, and a bad ID is reported as such.
    expect(resolveTenants('a|a', true, false)).toEqual(['a']);
    expect(() => resolveTenants('a|b/c', true, false)).toThrow("tenant ID 'b/c' contains unsupported character '/'");
    expect(() => resolveTenants(undefined, true, true)).toThrow('no org id');
  });
});

describe('tenant labels', () => {
  it('picks tenants with __tenant_id__ matchers and removes them from the selector', () => {
    const m = [new LabelMatcher('=', 'app', 'x'), new LabelMatcher('=~', '__tenant_id__', 'a.*')];
    const s = selectTenants(['a1', 'a2', 'b'], m);
    expect(s.tenants).toEqual(['a1', 'a2']);
    expect(s.matchers.map(String)).toEqual(['app="x"']);
    // One tenant: no multi-tenant layer, the matcher stays (and matches no stream).
    expect(selectTenants(['a'], m)).toEqual({ tenants: ['a'], matchers: m });
  });

  it('adds __tenant_id__ in order and moves an existing one to original___tenant_id__', () => {
    expect(withTenantLabel([['app', 'x'], ['zone', 'z']], 't')).toEqual([
      ['__tenant_id__', 't'],
      ['app', 'x'],
      ['zone', 'z'],
    ]);
    expect(withTenantLabel([['__tenant_id__', 'orig']], 't')).toEqual([
      ['__tenant_id__', 't'],
      ['original___tenant_id__', 'orig'],
    ]);
  });
});

/** A querier whose tenants hold fixed streams; it records what each call asked. */
function fakeQuerier(data: Record<string, Array<{ labels: Labels; ts: bigint[] }>>): {
  q: Pick<Querier, 'selectLogs' | 'selectStreams'>;
  calls: Array<SelectParams | SelectStreamsParams>;
} {
  const calls: Array<SelectParams | SelectStreamsParams> = [];
  const streams = (tenant: string) =>
    (data[tenant] ?? []).map((s) => ({
      labels: s.labels,
      canonical: labelsString(s.labels),
      fingerprint: fingerprint(labelsString(s.labels)),
      entries: s.ts.map((ts) => ({ ts, line: Buffer.from(`${tenant}@${ts}`) })),
    }));
  return {
    calls,
    q: {
      async selectLogs(p: SelectParams): Promise<LogStream[]> {
        calls.push(p);
        return streams(p.tenant).map((s) => ({ ...s, entries: p.direction === 'backward' ? [...s.entries].reverse() : s.entries }));
      },
      async selectStreams(p: SelectStreamsParams): Promise<StreamData[]> {
        calls.push(p);
        return streams(p.tenant);
      },
    },
  };
}

describe('selectLogsForTenants', () => {
  const data = {
    a: [{ labels: [['app', 'x']] as Labels, ts: [1n, 4n] }],
    b: [{ labels: [['app', 'x']] as Labels, ts: [2n, 3n] }],
  };

  it('labels each tenant and cuts the limit across tenants in the direction order', async () => {
    const { q, calls } = fakeQuerier(data);
    const expr = parseExpr('{app="x", __tenant_id__=~"a|b"}');
    const out = await selectLogsForTenants(q, ['a', 'b'], { expr, from: 0n, through: 10n, direction: 'backward', limit: 3 });
    expect(out.map((s) => [s.labels, s.entries.map((e) => e.ts)])).toEqual([
      [[['__tenant_id__', 'a'], ['app', 'x']], [4n]],
      [[['__tenant_id__', 'b'], ['app', 'x']], [3n, 2n]],
    ]);
    expect(out[0]!.canonical).toBe('{__tenant_id__="a", app="x"}');
    // Each tenant's query ran without the tenant matcher.
    const selector = (c: SelectParams | SelectStreamsParams): string => {
      const e = (c as SelectParams).expr;
      return e.kind === 'log' ? e.matchers.map(String).join(',') : '';
    };
    expect(calls.map((c) => [c.tenant, selector(c)])).toEqual([
      ['a', 'app="x"'],
      ['b', 'app="x"'],
    ]);
  });

  it('is a plain single-tenant query for one tenant (no tenant label)', async () => {
    const { q } = fakeQuerier(data);
    const out = await selectLogsForTenants(q, ['a'], { expr: parseExpr('{app="x"}'), from: 0n, through: 10n, direction: 'forward', limit: 10 });
    expect(out[0]!.labels).toEqual([['app', 'x']]);
  });

  it('skips tenants the __tenant_id__ matcher excludes', async () => {
    const { q, calls } = fakeQuerier(data);
    await selectLogsForTenants(q, ['a', 'b'], { expr: parseExpr('{app="x", __tenant_id__="b"}'), from: 0n, through: 10n, direction: 'forward', limit: 10 });
    expect(calls.map((c) => c.tenant)).toEqual(['b']);
  });
});

describe('readStreamsForTenants', () => {
  it('keeps equal label sets of two tenants as two series, sorted by canonical labels', async () => {
    const { q } = fakeQuerier({
      b: [{ labels: [['app', 'x']], ts: [2n] }],
      a: [{ labels: [['app', 'x']], ts: [1n] }],
    });
    const out = await readStreamsForTenants(q, ['a', 'b'], { matchers: [new LabelMatcher('=', 'app', 'x')], from: 0n, through: 10n });
    expect(out.map((s) => s.canonical)).toEqual(['{__tenant_id__="a", app="x"}', '{__tenant_id__="b", app="x"}']);
    expect(out[0]!.fingerprint).not.toBe(out[1]!.fingerprint);
  });
});
