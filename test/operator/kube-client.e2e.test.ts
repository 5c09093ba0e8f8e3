// KubeRestClient against a real kube-apiserver: get/list/create/replace/delete on built-in kinds, server-side apply
// ownership (a field the manager stops applying is removed; another manager's conflicting apply fails unless
// forced), the status subresource of the loki.strata.dev CRDs (merge patch and apply), error mapping with the
// apiserver's own messages, and discovery of a CRD installed after the client started.
import { createServer } from 'node:net';
import { KubeConfig, type KubernetesObject, type V1ConfigMap } from '@kubernetes/client-node';
import { KubeRestClient } from '../../operator/src/kube/client.js';
import { KubeError } from '../../operator/src/kube/errors.js';
import { Informer } from '../../operator/src/kube/informer.js';
import { applyCrds, useControlPlane } from '../support/kube.js';

const plane = useControlPlane();
const NS = 'kube-client';
const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const STACK = { apiVersion: 'loki.strata.dev/v1', kind: 'LokiStack' } as const;
const TENANT = { apiVersion: 'loki.strata.dev/v1', kind: 'LokiTenant' } as const;

type CustomObject = KubernetesObject & { spec?: unknown; status?: unknown };

let client: KubeRestClient;

async function expectKubeError(promise: Promise<unknown>): Promise<KubeError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(KubeError);
    return err as KubeError;
  }
  throw new Error('expected the call to fail');
}

function configMap(name: string, data: Record<string, string>, labels?: Record<string, string>): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, ...(labels ? { labels } : {}) }, data };
}

beforeAll(async () => {
  client = new KubeRestClient(plane().kubeConfig(), { pageSize: 2 });
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
});

afterAll(async () => {
  await client?.close();
});

describe('KubeRestClient on built-in kinds', () => {
  it('creates, gets, replaces and deletes; a missing object is undefined / false', async () => {
    const created = await client.create(configMap('basic', { a: '1' }));
    expect(created.metadata?.uid).toBeTruthy();
    // Plain JSON, not client-node's typed models: timestamps stay strings.
    expect(typeof created.metadata?.creationTimestamp).toBe('string');

    const got = await client.get<V1ConfigMap>({ ...CM, name: 'basic', namespace: NS });
    expect(got?.data).toEqual({ a: '1' });
    const replaced = await client.replace<V1ConfigMap>({ ...got!, data: { a: '2' } });
    expect(replaced.data).toEqual({ a: '2' });

    expect(await client.delete({ ...CM, name: 'basic', namespace: NS })).toBe(true);
    expect(await client.get({ ...CM, name: 'basic', namespace: NS })).toBeUndefined();
    expect(await client.delete({ ...CM, name: 'basic', namespace: NS })).toBe(false);
  });

  it('maps apiserver errors to typed errors carrying the Status message', async () => {
    await client.create(configMap('dup', {}));
    const exists = await expectKubeError(client.create(configMap('dup', {})));
    expect(exists).toMatchObject({ code: 'Conflict', status: 409, reason: 'AlreadyExists' });
    expect(exists.message).toBe('configmaps "dup" already exists');

    const current = (await client.get<V1ConfigMap>({ ...CM, name: 'dup', namespace: NS }))!;
    await client.replace({ ...current, data: { x: 'newer' } });
    const stale = await expectKubeError(client.replace({ ...current, data: { x: 'stale' } }));
    expect(stale).toMatchObject({ code: 'Conflict', reason: 'Conflict' });
    expect(stale.message).toContain('the object has been modified');
    expect(stale.retryable).toBe(true);

    const invalid = await expectKubeError(client.create(configMap('Not_A_Name', {})));
    expect(invalid).toMatchObject({ code: 'Invalid', status: 422, reason: 'Invalid' });
    expect(invalid.message).toContain('ConfigMap "Not_A_Name" is invalid');
    expect(invalid.causes.some((c) => c.field === 'metadata.name')).toBe(true);

    const missingNs = await expectKubeError(client.create({ ...configMap('x', {}), metadata: { name: 'x', namespace: 'no-such-ns' } }));
    expect(missingNs).toMatchObject({ code: 'NotFound', status: 404 });
    expect(missingNs.message).toBe('namespaces "no-such-ns" not found');

    const unknownKind = await expectKubeError(client.get({ apiVersion: 'v1', kind: 'NoSuchKind', name: 'x', namespace: NS }));
    expect(unknownKind).toMatchObject({ code: 'NotFound' });
    expect(unknownKind.message).toBe('the server does not serve kind NoSuchKind in v1');
  });

  it('maps a refused connection to Unavailable and bad credentials to Forbidden', async () => {
    const base = plane().kubeConfig();
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const closedPort = new KubeConfig();
    closedPort.loadFromOptions({
      clusters: base.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${port}` })),
      users: base.users,
      contexts: base.contexts,
      currentContext: base.currentContext,
    });
    const down = new KubeRestClient(closedPort, { resources: [{ ...CM, plural: 'configmaps', namespaced: true }] });
    const unavailable = await expectKubeError(down.get({ ...CM, name: 'x', namespace: NS }));
    expect(unavailable).toMatchObject({ code: 'Unavailable', status: 0 });
    expect(unavailable.message).toContain('ECONNREFUSED');
    await down.close();

    const badToken = new KubeConfig();
    badToken.loadFromOptions({
      clusters: base.clusters,
      users: [{ name: 'intruder', token: 'not-a-valid-token' }],
      contexts: [{ name: 'intruder', cluster: base.clusters[0]!.name, user: 'intruder' }],
      currentContext: 'intruder',
    });
    const intruder = new KubeRestClient(badToken);
    const forbidden = await expectKubeError(intruder.list(CM, { namespace: NS }));
    expect(forbidden).toMatchObject({ code: 'Forbidden', status: 401 });
    await intruder.close();
  });

  it('lists across pages, by label selector, with apiVersion and kind on every item', async () => {
    for (let i = 0; i < 5; i++) await client.create(configMap(`page-${i}`, {}, { suite: 'paging', odd: String(i % 2 === 1) }));
    const all = await client.list<V1ConfigMap>(CM, { namespace: NS, labelSelector: 'suite=paging' });
    expect(all.items.map((c) => c.metadata?.name).sort()).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(all.items.every((c) => c.apiVersion === 'v1' && c.kind === 'ConfigMap')).toBe(true);
    expect(Number(all.metadata.resourceVersion)).toBeGreaterThan(0);

    const odd = await client.list(CM, { namespace: NS, labelSelector: { suite: 'paging', odd: 'true' } });
    expect(odd.items.map((c) => c.metadata?.name).sort()).toEqual(['page-1', 'page-3']);
    const setBased = await client.list(CM, { namespace: NS, labelSelector: 'suite=paging,odd notin (true)' });
    expect(setBased.items).toHaveLength(3);

    // All namespaces: the kube-system / default objects plus ours.
    const everywhere = await client.list(CM, { labelSelector: 'suite=paging' });
    expect(everywhere.items).toHaveLength(5);
  });
});

describe('server-side apply', () => {
  const ref = { ...CM, name: 'applied', namespace: NS };

  it('owns exactly the applied fields: a field the manager stops applying is removed, others are kept', async () => {
    await client.serverSideApply(configMap('applied', { keep: 'k', drop: 'd' }, { team: 'logs' }), 'strata-operator');
    // Another actor (kubectl) adds a key of its own; our next apply must leave it alone.
    await client.patch(ref, { data: { theirs: 't' } }, { type: 'merge', fieldManager: 'someone-else' });

    const second = await client.serverSideApply(configMap('applied', { keep: 'k2' }), 'strata-operator');
    expect(second.data).toEqual({ keep: 'k2', theirs: 't' });
    expect(second.metadata?.labels).toBeUndefined();
    const managers = (second.metadata?.managedFields ?? []).map((m) => m.manager).sort();
    expect(managers).toEqual(['someone-else', 'strata-operator']);

    // Applying the same content again changes nothing (no new resourceVersion).
    const third = await client.serverSideApply(configMap('applied', { keep: 'k2' }), 'strata-operator');
    expect(third.metadata?.resourceVersion).toBe(second.metadata?.resourceVersion);
  });

  it('fails with Conflict naming the owner when another manager applies a different value, unless forced', async () => {
    const conflict = await expectKubeError(client.serverSideApply(configMap('applied', { keep: 'mine' }), 'intruder'));
    expect(conflict).toMatchObject({ code: 'Conflict', status: 409 });
    expect(conflict.message).toContain('conflict with "strata-operator"');
    expect(conflict.message).toContain('.data.keep');

    const forced = await client.serverSideApply(configMap('applied', { keep: 'mine' }), 'intruder', true);
    expect(forced.data?.keep).toBe('mine');
    // The operator gets its value back the same way: apply with force.
    const back = await client.serverSideApply(configMap('applied', { keep: 'k2' }), 'strata-operator', true);
    expect(back.data?.keep).toBe('k2');
  });

  it('accepts an object read back from the apiserver (managedFields are stripped) and refuses an apply without a manager', async () => {
    const current = (await client.get<V1ConfigMap>(ref))!;
    expect(current.metadata?.managedFields?.length).toBeGreaterThan(0);
    const reapplied = await client.serverSideApply({ ...current, data: { keep: 'k3' } }, 'readback', true);
    expect(reapplied.data?.keep).toBe('k3');
    const noManager = await expectKubeError(client.serverSideApply(configMap('applied', {}), ''));
    expect(noManager.code).toBe('Invalid');
  });

  it('supports dry run', async () => {
    const dry = await client.serverSideApply(configMap('dry', { a: '1' }), 'strata-operator', false, { dryRun: true });
    expect(dry.data).toEqual({ a: '1' });
    expect(await client.get({ ...CM, name: 'dry', namespace: NS })).toBeUndefined();
  });
});

describe('the loki.strata.dev CRDs', () => {
  let early: Informer;
  const earlyErrors: unknown[] = [];

  beforeAll(async () => {
    // Before the CRDs exist: the kind is unknown, and an informer for it keeps retrying instead of giving up.
    const missing = await expectKubeError(client.get({ ...STACK, name: 'x', namespace: NS }));
    expect(missing.code).toBe('NotFound');
    early = new Informer({
      client,
      gvk: TENANT,
      namespace: NS,
      backoff: { initialMs: 100, maxMs: 500 },
      onError: (err) => earlyErrors.push(err),
    });
    early.start();

    await applyCrds(plane(), 'strata-test');
  }, 60_000);

  afterAll(async () => {
    await early?.stop();
  });

  it('discovers a CRD installed after the client first asked for its group', async () => {
    const stack = await client.serverSideApply<CustomObject>(
      {
        ...STACK,
        metadata: { name: 'discovered', namespace: NS },
        spec: { size: '1x.demo', storage: { secret: { name: 'loki-fs', type: 'filesystem' } } },
      },
      'strata-operator',
    );
    expect(stack.metadata?.uid).toBeTruthy();
    // The informer that started before the CRD existed syncs by itself once it does.
    await early.waitForSync();
    expect(earlyErrors.length).toBeGreaterThan(0);
    expect(early.stats().restarts).toBeGreaterThan(0);
  });

  it('patches status through the status subresource (merge), leaving spec and generation alone', async () => {
    const ref = { ...STACK, name: 'status-merge', namespace: NS };
    const applied = await client.serverSideApply<CustomObject>(
      { ...STACK, metadata: { name: ref.name, namespace: NS }, spec: { size: '1x.small', storage: { secret: { name: 's3', type: 's3' } } } },
      'strata-operator',
    );
    const generation = applied.metadata?.generation;

    // The main resource ignores status: applying one there does not set it.
    const ignored = await client.serverSideApply(
      {
        ...STACK,
        metadata: { name: ref.name, namespace: NS },
        spec: { size: '1x.small', storage: { secret: { name: 's3', type: 's3' } } },
        status: { observedGeneration: 99 },
      } as KubernetesObject,
      'strata-operator',
    );
    expect((ignored as { status?: unknown }).status).toBeUndefined();

    const condition = {
      type: 'Pending',
      status: 'True',
      reason: 'PendingComponents',
      message: 'ingester not ready',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: generation,
    };
    const patched = await client.patchStatus<KubernetesObject & { status?: any; spec?: any }>(
      ref,
      { observedGeneration: generation, conditions: [condition] },
      { fieldManager: 'strata-operator' },
    );
    expect(patched.status).toEqual({ observedGeneration: generation, conditions: [condition] });
    expect(patched.spec.size).toBe('1x.small');
    expect(patched.metadata?.generation).toBe(generation);

    // Merge patch keeps keys it does not mention and removes one set to null.
    const merged = await client.patchStatus<KubernetesObject & { status?: any }>(ref, { observedGeneration: null, storage: { schemas: [] } });
    expect(merged.status).toEqual({ conditions: [condition], storage: { schemas: [] } });

    // Optimistic concurrency on status.
    const stale = await expectKubeError(client.patchStatus(ref, { observedGeneration: 1 }, { resourceVersion: applied.metadata!.resourceVersion }));
    expect(stale.code).toBe('Conflict');

    // Schema validation applies to status too.
    const invalid = await expectKubeError(
      client.patchStatus(ref, { conditions: [{ ...condition, status: 'Maybe' }] }),
    );
    expect(invalid.code).toBe('Invalid');
    expect(invalid.message).toContain('Unsupported value: "Maybe"');

    const missing = await expectKubeError(client.patchStatus({ ...ref, name: 'no-such-stack' }, { observedGeneration: 1 }));
    expect(missing.code).toBe('NotFound');
  });

  it('server-side applies status: fields the manager stops applying are removed', async () => {
    const ref = { ...TENANT, name: 'status-apply', namespace: NS };
    await client.serverSideApply(
      { ...TENANT, metadata: { name: ref.name, namespace: NS }, spec: { stackRef: { name: 'discovered' }, tenantId: 'team-a' } },
      'strata-operator',
    );
    const ready = {
      type: 'Ready',
      status: 'True',
      reason: 'Accepted',
      message: 'tenant accepted',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    const first = await client.patchStatus<KubernetesObject & { status?: any }>(
      ref,
      { observedGeneration: 1, conditions: [ready] },
      { strategy: 'apply', fieldManager: 'strata-operator' },
    );
    expect(first.status).toEqual({ observedGeneration: 1, conditions: [ready] });

    const second = await client.patchStatus<KubernetesObject & { status?: any }>(
      ref,
      { conditions: [ready] },
      { strategy: 'apply', fieldManager: 'strata-operator' },
    );
    expect(second.status).toEqual({ conditions: [ready] });
    expect((second as { spec?: unknown }).spec).toEqual({ stackRef: { name: 'discovered' }, tenantId: 'team-a' });
  });
});
