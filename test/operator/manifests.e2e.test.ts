// buildDesired's output for a sample 1x.small stack against a real kube-apiserver (1.20) and controller-manager:
// every object is accepted by server-side apply with every field we set intact, re-applying is a no-op, the
// Deployment and StatefulSet controllers create pods and claims from our templates, the observed pods give the
// expected status, and deleting the LokiStack garbage-collects everything through the owner references.
import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, VersionApi } from '@kubernetes/client-node';
import { GROUP, VERSION, type LokiStack } from '../../operator/src/api/v1/index.js';
import { buildDesired } from '../../operator/src/manifests/build.js';
import type { KubeObject, PodLike } from '../../operator/src/manifests/kube-types.js';
import { FIELD_MANAGER, labelSelectorString, stackSelector } from '../../operator/src/names.js';
import { stackConditions } from '../../operator/src/status/stack.js';
import { secretFacts } from '../../operator/src/validation/secret.js';
import { validateStack } from '../../operator/src/validation/stack.js';
import { applyCrds, eventually, useControlPlane } from '../support/kube.js';
import { STACK_NS, s3Secret, sampleStack, sampleTenant } from './lokistack-fixtures.js';

const plane = useControlPlane();

let objects: KubernetesObjectApi;
let core: CoreV1Api;
let customObjects: CustomObjectsApi;
let stored: LokiStack;
let desired: KubeObject[];

/** The JSON the apiserver stores, as kubectl prints it. */
async function getJson(kind: string, name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await plane().kubectl(['get', kind, name, '-n', STACK_NS, '-o', 'json']));
}

/** Kubernetes quantities in base units, so `13.25Gi` equals the canonical `13568Mi` the apiserver stores. */
function quantity(v: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(v));
  if (!m) return undefined;
  const unit = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

/** Paths where `actual` lacks or differs from a value of `expected` (a subset check; lists compared item by item). */
function missing(expected: unknown, actual: unknown, path = ''): string[] {
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return [`${path}: missing`];
    return Object.entries(expected).flatMap(([k, v]) => missing(v, (actual as Record<string, unknown>)[k], `${path}.${k}`));
  }
  if (expected === actual) return [];
  const [e, a] = [quantity(expected), quantity(actual)];
  if (e !== undefined && a !== undefined && Math.abs(e - a) < 1e-9) return [];
  return [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

beforeAll(async () => {
  const kc = plane().kubeConfig();
  objects = KubernetesObjectApi.makeApiClient(kc);
  core = kc.makeApiClient(CoreV1Api);
  customObjects = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: STACK_NS } } });
  await applyCrds(plane(), FIELD_MANAGER);

  // The owner must exist for real: the garbage collector deletes dependents whose owner UID it cannot find.
  const stack = sampleStack({
    replication: { factor: 2, zones: [{ topologyKey: 'topology.kubernetes.io/zone' }, { topologyKey: 'kubernetes.io/hostname' }] },
    rules: { enabled: true },
    storageClassName: 'standard',
    limits: { global: { retention: { days: 30, streams: [{ selector: '{namespace="audit"}', days: 365 }] } } },
    template: {
      querier: {
        nodeSelector: { 'node-role/logs': 'true' },
        tolerations: [{ key: 'logs', operator: 'Exists', effect: 'NoSchedule' }],
        resources: { limits: { memory: '6Gi' } },
      },
    },
    storage: {
      secret: { name: 'loki-s3', type: 's3' },
      tls: { caName: 'storage-ca' },
      schemas: [
        { version: 'v12', effectiveDate: '2023-01-01' },
        { version: 'v13', effectiveDate: '2024-06-01' },
      ],
    },
  });
  delete stack.metadata.uid;
  delete stack.metadata.generation;
  stored = (await customObjects.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: STACK_NS,
    plural: 'lokistacks',
    body: stack,
  })) as LokiStack;
  const secret = s3Secret();
  await core.createNamespacedSecret({ namespace: STACK_NS, body: { metadata: { name: 'loki-s3' }, data: secret.data! } });

  const check = secretFacts(secret, stored.spec.storage);
  if (!check.ok) throw new Error(check.message);
  const version = await kc.makeApiClient(VersionApi).getCode();
  const pdbApiVersion = Number.parseInt(version.minor, 10) < 21 ? 'policy/v1beta1' : 'policy/v1';
  desired = buildDesired({
    stack: stored,
    tenants: [sampleTenant('team-a', 'team-a', { retention: { days: 7 } })],
    secret: check.facts,
    options: { engineImage: 'registry.example/strata:test', pdbApiVersion },
  }).objects;
}, 120_000);

describe('desired objects on a real apiserver', () => {
  it('are valid: server-side apply accepts each one and stores every field we set', async () => {
    expect(validateStack(stored, new Date())).toEqual([]);
    for (const o of desired) {
      await objects.patch(o, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    }
    for (const o of desired) {
      const json = await getJson(`${o.kind}.${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}`.replace(/\.$/, ''), o.metadata.name);
      expect([`${o.kind}/${o.metadata.name}`, missing(o, json)]).toEqual([`${o.kind}/${o.metadata.name}`, []]);
      expect((json.metadata as { ownerReferences: Array<{ uid: string }> }).ownerReferences[0]!.uid).toBe(stored.metadata.uid);
    }
  }, 60_000);

  it('re-applying the same objects changes nothing', async () => {
    // Controllers keep writing workload status, so compare the spec generation where there is one.
    const version = (o: object) => {
      const meta = (o as { metadata?: { generation?: number; resourceVersion?: string } }).metadata;
      return meta?.generation ?? meta?.resourceVersion;
    };
    for (const o of desired) {
      const before = await objects.read(o);
      const after = await objects.patch(o, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      expect([`${o.kind}/${o.metadata.name}`, version(after)]).toEqual([`${o.kind}/${o.metadata.name}`, version(before)]);
    }
  }, 60_000);

  it('lets the controllers create pods and claims from the templates, and status reads them', async () => {
    const selector = labelSelectorString(stackSelector(stored.metadata.name!));
    const expectedPods = 2 + 3 + 2 + 2 + 2 + 2 + 1 + 2; // distributor, ingester, querier, frontend, scheduler, index gateway, compactor, ruler
    const pods = await eventually(async () => {
      const list = await core.listNamespacedPod({ namespace: STACK_NS, labelSelector: selector });
      return list.items.length === expectedPods ? list.items : undefined;
    }, 60_000, `${expectedPods} pods`);
    const ingester = pods.find((p) => p.metadata!.name === 'logs-ingester-0')!;
    expect(ingester.spec!.containers[0]!.args![0]).toBe('-target=ingester');
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: STACK_NS });
    expect(claims.items.map((c) => c.metadata!.name).sort()).toEqual(
      expect.arrayContaining(['storage-logs-ingester-0', 'wal-logs-ingester-0', 'storage-logs-compactor-0', 'storage-logs-ruler-1']),
    );
    expect(claims.items.every((c) => c.spec!.storageClassName === 'standard')).toBe(true);

    // No scheduler or kubelet here: every pod stays Pending, and status says which components wait.
    const conditions = stackConditions({ stack: stored, pods: pods as PodLike[], problems: [], now: new Date() });
    const pending = conditions.find((c) => c.type === 'Pending')!;
    expect(pending.status).toBe('True');
    expect(pending.message).toContain('ingester (0/3 ready)');
    expect(pending.message).toContain('ruler (0/2 ready)');
  }, 90_000);

  it('are garbage-collected when the LokiStack is deleted', async () => {
    await customObjects.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: STACK_NS, plural: 'lokistacks', name: 'logs' });
    await eventually(async () => {
      const [cms, sts, deps] = await Promise.all([
        plane().kubectl(['get', 'configmaps,services,serviceaccounts,roles,rolebindings,poddisruptionbudgets', '-n', STACK_NS, '-l', labelSelectorString(stackSelector('logs')), '-o', 'name']),
        plane().kubectl(['get', 'statefulsets', '-n', STACK_NS, '-o', 'name']),
        plane().kubectl(['get', 'deployments', '-n', STACK_NS, '-o', 'name']),
      ]);
      return cms.trim() === '' && sts.trim() === '' && deps.trim() === '' ? true : undefined;
    }, 60_000, 'the garbage collector to delete the stack\'s objects');
  }, 90_000);
});
