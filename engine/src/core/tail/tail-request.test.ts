import { EngineError } from '../errors.js';
import { printExpr } from '../logql/syntax/printer.js';
import { MAX_DELAY_FOR_SECONDS, parseTailRequest, requireOrgId, resolveTailTenant } from './tail-request.js';

const NOW = 1_700_000_000_000_000_000n;
const HOUR = 3_600_000_000_000n;

function fails(p: Record<string, string>): EngineError {
  try {
    parseTailRequest(p, NOW);
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected a failure');
}

describe('parseTailRequest', () => {
  it("applies Loki's defaults: limit 100, start an hour ago, no delay", () => {
    const r = parseTailRequest({ query: '{app="a"}' }, NOW);
    expect(r).toMatchObject({ limit: 100, start: NOW - HOUR, delayForSeconds: 0 });
    expect(r.expr.kind).toBe('log');
    expect(r.expr.matchers.map((m) => [m.name, m.value])).toEqual([['app', 'a']]);
  });

  it('reads limit, start in every time form, and delay_for up to 5 seconds', () => {
    expect(parseTailRequest({ query: '{a="b"}', limit: '7', start: '1700000000', delay_for: '5' }, NOW)).toMatchObject({
      limit: 7,
      start: 1_700_000_000_000_000_000n,
      delayForSeconds: 5,
    });
    expect(parseTailRequest({ query: '{a="b"}', start: '1699999999123456789' }, NOW).start).toBe(1_699_999_999_123_456_789n);
    expect(parseTailRequest({ query: '{a="b"}', start: '2023-11-14T22:13:19.5Z' }, NOW).start).toBe(1_699_999_999_500_000_000n);
    expect(MAX_DELAY_FOR_SECONDS).toBe(5);
  });

  it('accepts a start after now (no history) and takes the default start from `since` before the earlier of end and now', () => {
    expect(parseTailRequest({ query: '{a="b"}', start: String(NOW + 1n) }, NOW).start).toBe(NOW + 1n);
    expect(parseTailRequest({ query: '{a="b"}', since: '5m' }, NOW).start).toBe(NOW - 300_000_000_000n);
    expect(parseTailRequest({ query: '{a="b"}', end: String(NOW + HOUR) }, NOW).start).toBe(NOW - HOUR);
    expect(parseTailRequest({ query: '{a="b"}', end: String(NOW - HOUR) }, NOW).start).toBe(NOW - 2n * HOUR);
  });

  it('keeps the whole pipeline of the query', () => {
    const r = parseTailRequest({ query: '{app="a"} |= "x" | logfmt | level="error" | line_format "{{.msg}}"' }, NOW);
    expect(r.expr.stages.map((s) => s.kind)).toEqual(['line_filter', 'logfmt', 'label_filter', 'line_format']);
  });

  it('appends the legacy regexp parameter as a |~ filter', () => {
    const r = parseTailRequest({ query: '{app="a"} |= "x"', regexp: 'err.*' }, NOW);
    expect(printExpr(r.expr)).toBe('{app="a"} |= "x" |~ "err.*"');
  });

  it("refuses bad parameters with Loki's messages", () => {
    expect(fails({ query: '{app="a"}', delay_for: '6' }).message).toBe("delay_for can't be greater than 5");
    expect(fails({ query: '{app="a"}', delay_for: '-1' }).message).toBe("delay_for can't be greater than 5");
    expect(fails({ query: '{app="a"}', delay_for: 'x' }).message).toBe('strconv.Atoi: parsing "x": invalid syntax');
    expect(fails({ query: '{app="a"}', limit: '0' }).message).toBe('limit must be a positive value');
    expect(fails({ query: 'count_over_time({app="a"}[1m])' }).message).toBe('parse error : only log selector is supported');
    expect(fails({ query: '{app=' }).message).toMatch(/^parse error at line 1, col \d+: /);
    expect(fails({ query: '{app="a"}', start: 'yesterday' }).status).toBe(400);
  });
});

describe('the tenant of a tail', () => {
  const status = (f: () => unknown): [number, string] => {
    try {
      f();
    } catch (e) {
      return [(e as EngineError).status, (e as Error).message];
    }
    throw new Error('expected a failure');
  };

  it('is one tenant: several are refused as Loki does (tail is not a multi-tenant endpoint), duplicates fold', () => {
    expect(resolveTailTenant('a', true)).toBe('a');
    expect(resolveTailTenant('a|a', true)).toBe('a');
    expect(status(() => resolveTailTenant('a|b', true))).toEqual([400, 'multiple org IDs present']);
    expect(status(() => resolveTailTenant('b|a|b', true))).toEqual([400, 'multiple org IDs present']);
    // Each ID is validated before they are counted.
    expect(status(() => resolveTailTenant('a|b/c', true))).toEqual([400, "tenant ID 'b/c' contains unsupported character '/'"]);
    // Without auth every request reads `fake`, whatever the header says.
    expect(resolveTailTenant('a|b', false)).toBe('fake');
  });

  it('must be named when auth is enabled (401 before anything else)', () => {
    expect(status(() => requireOrgId(undefined, true))).toEqual([401, 'no org id']);
    expect(status(() => requireOrgId('', true))).toEqual([401, 'no org id']);
    expect(() => requireOrgId(undefined, false)).not.toThrow();
    expect(() => requireOrgId('a|b', true)).not.toThrow();
  });
});
