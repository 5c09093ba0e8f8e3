// The LokiStack and LokiTenant handlers against an in-memory KubeClient: what one reconcile reads and writes in each
// case (absent, Unmanaged, invalid, valid, re-run, prune), and the helpers that map events to stack keys.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LokiStack, LokiTenant } from '../../operator/src/api/v1/index.js';
import { LokiStackHandler, nextScheduleChange, withTimeline } from '../../operator/src/handlers/lokistack.js';
import { TenantStackIndex, markStackNotFound, stackKeyOfTenant } from '../../operator/src/handlers/lokitenant.js';
import { jsonEqual, mergePatchOf } from '../../operator/src/handlers/resources.js';
import { KubeError } from '../../operator/src/kube/errors.js';
import { buildDesired } from '../../operator/src/manifests/build.js';
import { FIELD_MANAGER, commonLabels } from '../../operator/src/names.js';
import { applyMergePatch, FakeKube } from './fake-kube.js';
import { NOW, STACK_NS, s3Facts, s3Secret, sampleStack, sampleTenant } from './lokistack-fixtures.js';

const STACK_REF = { apiVersion: 'loki.strata.dev/v1', kind: 'LokiStack', namespace: STACK_NS, name: 'logs' };
const KEY = `${STACK_NS}/logs`;
const IMAGE = 'registry.example/strata:test';

function secretObject(values: Record<string, string> = {}, drop: string[] = []): KubernetesObject {
  const s = s3Secret(values, drop);
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'loki-s3', namespace: STACK_NS }, data: s.data } as KubernetesObject;
}

function setup(options: { stack?: LokiStack; secret?: boolean; tenants?: LokiTenant[] } = {}) {
  const kube = new FakeKube();
  const stack = kube.seed(options.stack ?? sampleStack());
  if (options.secret !== false) kube.seed(secretObject());
  for (const t of options.tenants ?? []) kube.seed(t);
  const handler = new LokiStackHandler({ client: kube, engineImage: IMAGE, pdbApiVersion: 'policy/v1', now: () => NOW });
  return { kube, stack, handler };
}

const statusOf = (kube: FakeKube) => kube.find<LokiStack>(STACK_REF)!.status!;
const conditionOf = (obj: { status?: { conditions?: Array<{ type: string; reason?: string; message?: string }> } }, type: string) =>
  obj.status?.conditions?.find((c) => c.type === type);

describe('LokiStackHandler.reconcileKey', () => {
  it('applies every desired object with the operator\'s field manager (forced), then records status and tenant verdicts', async () => {
    const tenants = [sampleTenant('team-a', 'team-a', { retention: { days: 7 } }), sampleTenant('copy', 'team-a', {}, { created: '2025-02-01T00:00:00Z' })];
    const { kube, stack, handler } = setup({ tenants });
    const outcome = await handler.reconcileKey(KEY);

    const desired = buildDesired({ stack, tenants, secret: s3Facts(), options: { engineImage: IMAGE, pdbApiVersion: 'policy/v1', now: NOW } });
    const applies = kube.writesOf('apply');
    expect(applies.map((w) => (w.body as { metadata: { name: string } }).metadata.name)).toEqual(desired.objects.map((o) => o.metadata.name));
    expect(applies.every((w) => jsonEqual(w.options, { fieldManager: FIELD_MANAGER, force: true }))).toBe(true);
    expect(outcome).toMatchObject({ result: 'applied', applied: desired.objects.length, pruned: [], statusWritten: true, tenantStatusesWritten: 2 });

    const status = statusOf(kube);
    expect(status.observedGeneration).toBe(3);
    expect(conditionOf({ status }, 'Pending')).toMatchObject({ status: 'True', observedGeneration: 3 });
    expect(conditionOf({ status }, 'Degraded')).toMatchObject({ status: 'False', reason: 'NotDegraded' });
    expect(status.storage).toEqual({
      schemas: [
        { version: 'v12', effectiveDate: '2023-01-01' },
        { version: 'v13', effectiveDate: '2024-06-01' },
      ],
      timeline: { active: { version: 'v13', effectiveDate: '2024-06-01' }, upcoming: [] },
    });
    const copy = kube.find<LokiTenant>({ apiVersion: 'loki.strata.dev/v1', kind: 'LokiTenant', namespace: STACK_NS, name: 'copy' })!;
    expect(conditionOf(copy, 'Rejected')).toMatchObject({ status: 'True', reason: 'DuplicateTenantID' });
    const owner = kube.find<LokiTenant>({ apiVersion: 'loki.strata.dev/v1', kind: 'LokiTenant', namespace: STACK_NS, name: 'team-a' })!;
    expect(owner.status).toMatchObject({ observedGeneration: 1, effective: { retention: { days: 7 } } });
    // Every status write is a merge patch guarded by the resourceVersion it was computed from.
    expect(kube.writesOf('status').every((w) => typeof (w.options as { resourceVersion?: string }).resourceVersion === 'string')).toBe(true);
  });

  it('writes no status the second time when nothing changed (no event storm from its own writes)', async () => {
    const { kube, handler } = setup({ tenants: [sampleTenant('team-a', 'team-a')] });
    await handler.reconcileKey(KEY);
    const before = kube.writes.length;
    const again = await handler.reconcileKey(KEY);
    expect(again).toMatchObject({ result: 'applied', statusWritten: false, tenantStatusesWritten: 0 });
    expect(kube.writes.slice(before).every((w) => w.verb === 'apply')).toBe(true);
  });

  it('on a missing or invalid Secret sets Degraded with the reason and applies nothing', async () => {
    const { kube, handler } = setup({ secret: false });
    const missing = await handler.reconcileKey(KEY);
    expect(missing).toMatchObject({ result: 'degraded', applied: 0, statusWritten: true });
    expect(kube.writesOf('apply')).toEqual([]);
    expect(conditionOf({ status: statusOf(kube) }, 'Degraded')).toMatchObject({ status: 'True', reason: 'MissingObjectStorageSecret' });
    // No history is recorded for what was never applied.
    expect(statusOf(kube).storage).toEqual({ schemas: [], timeline: { upcoming: [] } });

    kube.seed(secretObject({}, ['region']));
    await handler.reconcileKey(KEY);
    const degraded = conditionOf({ status: statusOf(kube) }, 'Degraded') as { reason: string; message: string };
    expect(degraded).toMatchObject({ status: 'True', reason: 'InvalidObjectStorageSecret' });
    expect(degraded.message).toContain('missing secret field: region');
    expect(kube.writesOf('apply')).toEqual([]);
  });

  it('on an invalid spec sets Degraded InvalidObjectStorageSchema and keeps the recorded history', async () => {
    const stack = sampleStack();
    stack.status = { storage: { schemas: [{ version: 'v12', effectiveDate: '2023-01-01' }, { version: 'v13', effectiveDate: '2024-06-01' }] } };
    stack.spec.storage.schemas = [{ version: 'v11', effectiveDate: '2023-01-01' }, { version: 'v13', effectiveDate: '2024-06-01' }];
    const { kube, handler } = setup({ stack });
    const outcome = await handler.reconcileKey(KEY);
    expect(outcome.result).toBe('degraded');
    expect(kube.writesOf('apply')).toEqual([]);
    const degraded = conditionOf({ status: statusOf(kube) }, 'Degraded') as { reason: string; message: string };
    expect(degraded.reason).toBe('InvalidObjectStorageSchema');
    expect(degraded.message).toContain('cannot change the schema in effect from 2023-01-01 (v12 → v11)');
    expect(statusOf(kube).storage!.schemas).toEqual(stack.status.storage!.schemas);
  });

  it('leaves an Unmanaged stack entirely alone', async () => {
    const { kube, handler } = setup({ stack: sampleStack({ managementState: 'Unmanaged' }), tenants: [sampleTenant('team-a', 'team-a')] });
    expect(await handler.reconcileKey(KEY)).toMatchObject({ result: 'unmanaged' });
    expect(kube.writes).toEqual([]);
  });

  it('for a LokiStack that does not exist, rejects the LokiTenants naming it with StackNotFound', async () => {
    const kube = new FakeKube();
    kube.seed(sampleTenant('team-a', 'team-a'));
    kube.seed({ ...sampleTenant('other', 'other'), spec: { stackRef: { name: 'elsewhere' }, tenantId: 'other' } });
    const handler = new LokiStackHandler({ client: kube, engineImage: IMAGE, now: () => NOW });
    expect(await handler.reconcileKey(KEY)).toMatchObject({ result: 'absent', tenantStatusesWritten: 1 });
    const t = kube.find<LokiTenant>({ apiVersion: 'loki.strata.dev/v1', kind: 'LokiTenant', namespace: STACK_NS, name: 'team-a' })!;
    expect(conditionOf(t, 'Rejected')).toMatchObject({ status: 'True', reason: 'StackNotFound', message: 'LokiStack observability/logs does not exist' });
    expect(kube.writesOf('status').map((w) => w.ref)).toEqual([`loki.strata.dev/v1/LokiTenant/${STACK_NS}/team-a`]);
    // A bare name is no LokiStack key.
    expect(await handler.reconcileKey('logs')).toMatchObject({ result: 'absent', tenantStatusesWritten: 0 });
  });

  it('prunes only objects labelled as the stack\'s AND controlled by it that are no longer desired', async () => {
    const { kube, handler } = setup();
    const owner = [{ apiVersion: 'loki.strata.dev/v1', kind: 'LokiStack', name: 'logs', uid: 'x', controller: true }];
    const deployment = (name: string, extra: Record<string, unknown> = {}) =>
      kube.seed({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: STACK_NS, labels: commonLabels('logs'), ownerReferences: owner, ...extra } });
    deployment('logs-ruler'); // the ruler was turned off
    deployment('logs-hand-made', { ownerReferences: [] }); // labelled like ours, but nobody's dependent
    kube.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other-config', namespace: STACK_NS, labels: commonLabels('other'), ownerReferences: [{ ...owner[0], name: 'other' }] } });
    kube.seed({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'logs-old', namespace: STACK_NS, labels: commonLabels('logs'), ownerReferences: owner } });

    const outcome = await handler.reconcileKey(KEY);
    expect(outcome.pruned.sort()).toEqual(['Deployment/logs-ruler', 'PodDisruptionBudget/logs-old']);
    expect(kube.find({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: STACK_NS, name: 'logs-hand-made' })).toBeDefined();
    expect(kube.find({ apiVersion: 'v1', kind: 'ConfigMap', namespace: STACK_NS, name: 'other-config' })).toBeDefined();
    // Deleted with a uid precondition, so an object recreated meanwhile under the same name survives.
    expect(kube.writesOf('delete').every((w) => (w.options as { preconditions?: { uid?: string } }).preconditions?.uid)).toBe(true);
  });

  it('asks to run again when the next schema period starts', async () => {
    const stack = sampleStack();
    stack.spec.storage.schemas!.push({ version: 'v13', effectiveDate: '2025-06-16' });
    const { handler } = setup({ stack });
    const outcome = await handler.reconcileKey(KEY);
    // Midnight UTC, 12 h after NOW, plus a second so the period has begun.
    expect(outcome.requeueAfterMs).toBe(12 * 3_600_000 + 1000);
  });

  it('lets API failures through so the queue retries, and a stale read loses the status write', async () => {
    const { kube, handler } = setup();
    kube.failWith = (verb) => (verb === 'apply' ? new KubeError('Unavailable', 'apiserver unreachable') : undefined);
    await expect(handler.reconcileKey(KEY)).rejects.toMatchObject({ code: 'Unavailable' });

    kube.failWith = undefined;
    // The stack changes between the read and the status write: the write must not clobber it.
    const original = kube.patchStatus.bind(kube);
    let first = true;
    kube.patchStatus = (async (ref, status, options) => {
      if (first) {
        first = false;
        await kube.patch(STACK_REF, { metadata: { labels: { edited: 'yes' } } }, { type: 'merge' });
      }
      return original(ref, status, options);
    }) as FakeKube['patchStatus'];
    await expect(handler.reconcileKey(KEY)).rejects.toMatchObject({ code: 'Conflict' });
    expect(await handler.reconcileKey(KEY)).toMatchObject({ statusWritten: true });
  });
});

describe('status helpers', () => {
  it('mergePatchOf turns one status into another, removing what disappeared', () => {
    const before = { a: 1, nested: { keep: 1, drop: 2, deeper: { x: 1 } }, list: [1, 2], gone: { y: 1 } };
    const after = { a: 1, nested: { keep: 1, deeper: { x: 2 } }, list: [1], added: true };
    const patch = mergePatchOf(before, after);
    expect(patch).toEqual({ nested: { drop: null, deeper: { x: 2 } }, list: [1], gone: null, added: true });
    expect(applyMergePatch(before, patch)).toEqual(after);
    expect(mergePatchOf(after, after)).toEqual({});
  });

  it('jsonEqual ignores key order and undefined members', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined })).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: '1' })).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });

  it('withTimeline and nextScheduleChange follow the recorded history', () => {
    const schemas = [
      { version: 'v12' as const, effectiveDate: '2023-01-01' },
      { version: 'v13' as const, effectiveDate: '2025-07-01' },
    ];
    expect(withTimeline({ storage: { schemas } }, NOW).storage).toEqual({
      schemas,
      timeline: { active: schemas[0], upcoming: [schemas[1]] },
    });
    expect(nextScheduleChange([...schemas, { version: 'v13', effectiveDate: '2025-06-16' }], NOW)).toBe(12 * 3_600_000 + 1000);
    expect(nextScheduleChange(schemas.slice(0, 1), NOW)).toBeUndefined();
    // Dates further away than a day are capped (timers that long misfire; the handler simply looks again).
    expect(nextScheduleChange(schemas, NOW)).toBe(24 * 3_600_000);
  });
});

describe('LokiTenant events', () => {
  it('map to the stack they name (default: the tenant\'s namespace), and to both stacks when a tenant moves', () => {
    const t = sampleTenant('team-a', 'team-a');
    expect(stackKeyOfTenant(t)).toBe(`${STACK_NS}/logs`);
    expect(stackKeyOfTenant(sampleTenant('x', 'x', {}, { namespace: 'apps' }))).toBe(`${STACK_NS}/logs`);

    const index = new TenantStackIndex();
    expect(index.keysFor(t)).toEqual([`${STACK_NS}/logs`]);
    expect(index.keysFor(t)).toEqual([`${STACK_NS}/logs`]);
    const moved = { ...t, spec: { ...t.spec, stackRef: { name: 'other' } } };
    expect(index.keysFor(moved)).toEqual([`${STACK_NS}/other`, `${STACK_NS}/logs`]);
    index.forget(moved);
    expect(index.keysFor(t)).toEqual([`${STACK_NS}/logs`]);
  });

  it('markStackNotFound skips tenants being deleted and writes each status once', async () => {
    const kube = new FakeKube();
    kube.seed(sampleTenant('a', 'a'));
    const leaving = sampleTenant('b', 'b');
    leaving.metadata.deletionTimestamp = new Date();
    kube.seed(leaving);
    expect(await markStackNotFound(STACK_NS, 'logs', { client: kube, now: NOW })).toBe(1);
    expect(await markStackNotFound(STACK_NS, 'logs', { client: kube, now: NOW })).toBe(0);
  });
});
