import { stackNotFoundVerdict, validateTenants } from '../../operator/src/validation/tenants.js';
import { sampleStack, sampleTenant } from './lokistack-fixtures.js';

const policyStack = () =>
  sampleStack({
    limits: { global: { ingestion: { ingestionRate: 10 }, retention: { days: 30, streams: [{ selector: '{ns="audit"}', days: 90 }] } } },
    tenantPolicy: { maxRetentionDays: 60, maxIngestionRateMB: 20, allowedNamespaces: ['team-a'] },
  });

describe('validateTenants', () => {
  it('accepts tenants within policy and computes what the stack enforces for them', () => {
    const tenant = sampleTenant('a', 'team-a', {
      limits: { ingestion: { ingestionRate: 12 }, queries: { maxQuerySeries: 1000 } },
      retention: { days: 14 },
    });
    const [v] = validateTenants(policyStack(), [tenant]);
    expect(v).toMatchObject({ key: 'observability/a', accepted: true });
    expect(v!.reason).toBeUndefined();
    // Size defaults (1x.small) ← global ← tenant.
    expect(v!.effective!.limits!.ingestion).toMatchObject({ ingestionRate: 12, ingestionBurstSize: 20, maxGlobalStreamsPerTenant: 10000 });
    expect(v!.effective!.limits!.queries).toMatchObject({ maxQuerySeries: 1000, queryTimeout: '3m' });
    // Days from the tenant; the global stream rules still apply (the tenant set none).
    expect(v!.effective!.retention).toEqual({ days: 14, streams: [{ selector: '{ns="audit"}', days: 90, priority: 1 }] });
  });

  it('lets the older of two LokiTenants keep a tenant ID and rejects the newer, naming the older', () => {
    const older = sampleTenant('first', 'shared', {}, { created: '2025-01-01T00:00:00Z' });
    const newer = sampleTenant('second', 'shared', {}, { created: '2025-02-01T00:00:00Z', namespace: 'team-a' });
    const verdicts = validateTenants(policyStack(), [newer, older]);
    expect(verdicts.map((v) => [v.key, v.accepted, v.reason])).toEqual([
      ['observability/first', true, undefined],
      ['team-a/second', false, 'DuplicateTenantID'],
    ]);
    expect(verdicts[1]!.message).toBe('tenant ID "shared" is already claimed by LokiTenant observability/first (the older one wins)');
    expect(verdicts[1]!.effective).toBeUndefined();
  });

  it('breaks a creation-time tie by namespace/name, and keeps the owner even when the owner is itself rejected', () => {
    const same = '2025-01-01T00:00:00Z';
    const b = sampleTenant('b', 'x', {}, { created: same });
    const a = sampleTenant('a', 'x', { retention: { days: 999 } }, { created: same });
    const verdicts = validateTenants(policyStack(), [b, a]);
    expect(verdicts.map((v) => [v.key, v.reason])).toEqual([
      ['observability/a', 'ExceedsStackPolicy'],
      ['observability/b', 'DuplicateTenantID'],
    ]);
  });

  it('rejects a namespace the policy does not allow, and such a tenant claims no ID', () => {
    const foreign = sampleTenant('squatter', 'x', {}, { namespace: 'elsewhere', created: '2024-01-01T00:00:00Z' });
    const mine = sampleTenant('real', 'x', {}, { created: '2025-01-01T00:00:00Z' });
    const verdicts = validateTenants(policyStack(), [foreign, mine]);
    expect(verdicts.map((v) => [v.key, v.accepted, v.reason])).toEqual([
      ['elsewhere/squatter', false, 'NamespaceNotAllowed'],
      ['observability/real', true, undefined],
    ]);
    expect(verdicts[0]!.message).toContain('namespace "elsewhere" may not attach tenants to LokiStack observability/logs; allowed: "observability", "team-a"');
    // Without allowedNamespaces only the stack's own namespace may attach.
    const open = validateTenants(sampleStack(), [sampleTenant('t', 'y', {}, { namespace: 'team-a' })]);
    expect(open[0]!.reason).toBe('NamespaceNotAllowed');
  });

  it('rejects a retention selector that does not parse', () => {
    const [v] = validateTenants(policyStack(), [sampleTenant('a', 'a', { retention: { streams: [{ selector: '{app="x"', days: 3 }] } })]);
    expect(v!.reason).toBe('InvalidSelector');
    expect(v!.message).toContain('spec.retention.streams[0].selector: invalid stream selector "{app=\\"x\\"":');
  });

  it('rejects limits over the stack policy, naming every field over it', () => {
    const [v] = validateTenants(policyStack(), [
      sampleTenant('a', 'a', {
        limits: { ingestion: { ingestionRate: 25 } },
        retention: { days: 61, streams: [{ selector: '{app="x"}', days: 7 }, { selector: '{app="y"}', days: 365 }] },
      }),
    ]);
    expect(v!.reason).toBe('ExceedsStackPolicy');
    expect(v!.message).toBe(
      "spec.retention.days 61 exceeds the stack's maxRetentionDays 60; spec.retention.streams[1].days 365 exceeds the stack's " +
        "maxRetentionDays 60; spec.limits.ingestion.ingestionRate 25 exceeds the stack's maxIngestionRateMB 20 " +
        '(LokiStack observability/logs spec.tenantPolicy)',
    );
  });

  it('ignores tenants of other stacks and reports StackNotFound for the caller', () => {
    const other = sampleTenant('o', 'o', { stackRef: { name: 'other' } });
    const elsewhere = sampleTenant('e', 'e', { stackRef: { name: 'logs', namespace: 'team-a' } });
    expect(validateTenants(sampleStack(), [other, elsewhere])).toEqual([]);
    expect(stackNotFoundVerdict(other)).toMatchObject({ accepted: false, reason: 'StackNotFound', message: 'LokiStack observability/other does not exist' });
  });

  it('reads creationTimestamp as a Date (client-node) as well as a string', () => {
    const older = sampleTenant('z', 'id', {});
    older.metadata.creationTimestamp = new Date('2020-01-01T00:00:00Z');
    const newer = sampleTenant('a', 'id', {}, { created: '2021-01-01T00:00:00Z' });
    expect(validateTenants(sampleStack(), [newer, older]).find((v) => v.accepted)!.key).toBe('observability/z');
  });
});
