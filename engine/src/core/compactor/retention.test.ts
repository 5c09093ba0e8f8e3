import { defaultLimits, type Limits } from '../limits/limits.js';
import type { Labels } from '../model.js';
import { retentionOf, TenantRetention } from './retention.js';

const D = 86_400_000;
const limits = (o: Partial<Limits>): Limits => ({ ...defaultLimits(), ...o });
const L = (o: Record<string, string>): Labels => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));

describe('TenantRetention', () => {
  // Loki's documented example for tenant 29: prod (priority 2) beats loki (priority 1), else the tenant period.
  const t29 = new TenantRetention(
    limits({
      retention_period: 7 * D,
      retention_stream: [
        { selector: '{namespace="prod"}', priority: 2, period: 14 * D },
        { selector: '{container="loki"}', priority: 1, period: 3 * D },
      ],
    }),
  );

  it('picks the highest-priority matching rule, then the tenant period', () => {
    expect(t29.periodFor(L({ namespace: 'prod', container: 'loki' }))).toBe(14 * D);
    expect(t29.periodFor(L({ namespace: 'dev', container: 'loki' }))).toBe(3 * D);
    expect(t29.periodFor(L({ namespace: 'dev', container: 'nginx' }))).toBe(7 * D);
  });

  it('breaks a priority tie with the shorter period, whatever the rule order', () => {
    for (const order of [0, 1]) {
      const rules = [
        { selector: '{app=~".+"}', priority: 1, period: 10 * D },
        { selector: '{app="api"}', priority: 1, period: 2 * D },
      ];
      if (order === 1) rules.reverse();
      const r = new TenantRetention(limits({ retention_stream: rules }));
      expect(r.periodFor(L({ app: 'api' }))).toBe(2 * D);
      expect(r.periodFor(L({ app: 'web' }))).toBe(10 * D);
    }
  });

  it('uses regex and negative matchers on absent labels as Prometheus does', () => {
    const r = new TenantRetention(limits({ retention_stream: [{ selector: '{app=~"x|y", env!="prod"}', priority: 1, period: D }] }));
    expect(r.periodFor(L({ app: 'x' }))).toBe(D); // env absent = ""
    expect(r.periodFor(L({ app: 'y', env: 'dev' }))).toBe(D);
    expect(r.periodFor(L({ app: 'x', env: 'prod' }))).toBe(0);
    expect(r.periodFor(L({ app: 'xy' }))).toBe(0); // anchored
  });

  it('computes the cutoff from now and keeps forever with period 0', () => {
    const r = new TenantRetention(limits({ retention_period: 2 * D }));
    expect(r.cutoffFor(L({ a: 'b' }), 10 * D)).toBe(BigInt(8 * D) * 1_000_000n);
    expect(r.shortestMs).toBe(2 * D);
    const forever = new TenantRetention(limits({}));
    expect(forever.keepsForever).toBe(true);
    expect(forever.cutoffFor(L({ a: 'b' }), 10 * D)).toBeUndefined();
    // A stream rule alone makes retention apply to the matching streams only.
    const onlyRule = new TenantRetention(limits({ retention_stream: [{ selector: '{a="b"}', priority: 1, period: 3 * D }] }));
    expect(onlyRule.keepsForever).toBe(false);
    expect(onlyRule.shortestMs).toBe(3 * D);
    expect(onlyRule.cutoffFor(L({ a: 'c' }), 10 * D)).toBeUndefined();
  });

  it('compiles once per limits object, so a runtime reload (new object) takes effect', () => {
    const a = limits({ retention_period: D });
    expect(retentionOf(a)).toBe(retentionOf(a));
    const b = limits({ retention_period: 5 * D });
    expect(retentionOf(b).periodFor(L({ x: 'y' }))).toBe(5 * D);
  });
});
