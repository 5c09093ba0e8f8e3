// The operator issue's acceptance, against a real kube-apiserver + kube-controller-manager + etcd (no kubelet: pods
// stay Pending). The operator runs in-process through its composition root (startOperator) with the control plane's
// kubeconfig pointed at a TCP proxy, so the test can cut its connection; its admission webhook is registered with
// the apiserver (URL + caBundle, certificate signed by the control plane's CA) from config/webhook/manifests.yaml.
//
//   (a) kubectl apply of the sample 1x.small LokiStack + S3 Secret → every desired object, owned by the stack;
//       status Pending (pods never run here), observedGeneration, pods per component, schema history and timeline
//   (b) LokiTenants change only the runtime-overrides ConfigMap; DuplicateTenantID, ExceedsStackPolicy, StackNotFound
//   (c) the webhook denies retroactive schema edits and downgrades with clear messages; a future v13 entry is
//       accepted and rendered into config.yaml
//   (d) a broken or missing storage Secret → Degraded with the reason, workloads untouched; fixed → rolls the pods
//   (e) a cut apiserver connection does not kill the operator; it catches up on a change made meanwhile
//   (f) 1x.demo with filesystem storage → one StatefulSet running -target=all
//   (g) deleting the LokiStack garbage-collects its objects; its tenants report StackNotFound
//   (h) zone-aware replication: the engine config asks for zones, and a scheduled ingester pod gets its node's zone
import { request as httpGet } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { API_VERSION, type Condition, type LokiStack, type LokiTenant } from '../../operator/src/api/v1/index.js';
import { KubeRestClient, refOf } from '../../operator/src/kube/client.js';
import { silentLogger, type KubeLogger } from '../../operator/src/kube/logger.js';
import { logfmtLogger, startOperator, type Operator } from '../../operator/src/main.js';
import { buildDesired } from '../../operator/src/manifests/build.js';
import type { KubeObject, SecretLike } from '../../operator/src/manifests/kube-types.js';
import {
  ANNOTATION_CONFIG_HASH,
  ANNOTATION_SECRET_HASH,
  CONFIG_KEY,
  RUNTIME_KEY,
  configMapName,
  runtimeConfigMapName,
  stackSelector,
} from '../../operator/src/names.js';
import { earliestValidDate, formatDay } from '../../operator/src/validation/schemas.js';
import { secretFacts } from '../../operator/src/validation/secret.js';
import { ROOT, applyCrds, eventually, useControlPlane } from '../support/kube.js';
import { TcpProxy, apiserverPort, delay, kubeConfigVia, trackProcessFailures } from './kube-support.js';
import { makeServingCert } from './webhook-certs.js';

let direct: KubeRestClient;
let proxy: TcpProxy;
let operator: Operator;
const processFailures = trackProcessFailures();

// Declared before useControlPlane so it runs first: the operator stops while its apiserver is still there.
afterAll(async () => {
  await operator?.stop();
  await proxy?.close();
  await direct?.close();
  processFailures.dispose();
}, 30_000);

const plane = useControlPlane();
const SAMPLES = join(ROOT, 'config/samples');
const OPERATOR_NS = 'strata-operator-system';
const SHOP = 'shop'; // the sample 1x.small stack "logs"
const UPGRADE = 'upgrade'; // a 1x.demo stack whose schemas are edited
const DEMO = 'demo'; // the sample 1x.demo stack
const ZONES = 'zones'; // a 1x.pico stack with zone-aware replication
const ENGINE_IMAGE = 'registry.example/strata/engine:acceptance';
const LEASE = 'strata-operator-leader';

const STACK = { apiVersion: API_VERSION, kind: 'LokiStack' } as const;
const TENANT = { apiVersion: API_VERSION, kind: 'LokiTenant' } as const;
const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const SECRET = { apiVersion: 'v1', kind: 'Secret' } as const;
const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment' } as const;
const STATEFULSET = { apiVersion: 'apps/v1', kind: 'StatefulSet' } as const;
/** Every kind a stack owns (PDBs in the 1.20 API). */
const OWNED_KINDS = [
  CM,
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  DEPLOYMENT,
  STATEFULSET,
  { apiVersion: 'policy/v1beta1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
] as const;

// STRATA_TEST_LOG=1 shows the operator's log while debugging.
const log: KubeLogger = process.env.STRATA_TEST_LOG ? logfmtLogger('debug') : silentLogger;

const kubectl = (args: string[], input?: string) => plane().kubectl(args, input);
const cond = (obj: { status?: { conditions?: Condition[] } } | undefined, type: string) => obj?.status?.conditions?.find((c) => c.type === type);
const getStack = (ns: string, name: string) => direct.get<LokiStack>({ ...STACK, namespace: ns, name });
const getTenant = (ns: string, name: string) => direct.get<LokiTenant>({ ...TENANT, namespace: ns, name });

async function runtimeOverrides(ns: string, stack: string): Promise<Record<string, Record<string, unknown>>> {
  const cm = await direct.get<KubernetesObject & { data?: Record<string, string> }>({ ...CM, namespace: ns, name: runtimeConfigMapName(stack) });
  return (parse(cm?.data?.[RUNTIME_KEY] ?? '{}') as { overrides?: Record<string, Record<string, unknown>> }).overrides ?? {};
}

/** Everything labelled as one of the stack's objects, by `Kind/name`. */
async function ownedObjects(ns: string, stack: string): Promise<Map<string, KubernetesObject>> {
  const out = new Map<string, KubernetesObject>();
  for (const gvk of OWNED_KINDS) {
    for (const o of (await direct.list(gvk, { namespace: ns, labelSelector: stackSelector(stack) })).items) out.set(`${gvk.kind}/${o.metadata!.name}`, o);
  }
  return out;
}

type Workload = KubernetesObject & { spec: { template: { metadata: { annotations: Record<string, string> }; spec: unknown } } };

/** What a tenant change must not touch: config.yaml's ConfigMap and every workload's spec generation and pod template. */
async function podSideSnapshot(ns: string, stack: string) {
  const config = await direct.get({ ...CM, namespace: ns, name: configMapName(stack) });
  const runtime = await direct.get({ ...CM, namespace: ns, name: runtimeConfigMapName(stack) });
  const workloads: Record<string, { generation?: number; template: unknown }> = {};
  for (const gvk of [DEPLOYMENT, STATEFULSET]) {
    for (const w of (await direct.list<Workload>(gvk, { namespace: ns, labelSelector: stackSelector(stack) })).items) {
      workloads[`${gvk.kind}/${w.metadata!.name}`] = { generation: w.metadata!.generation, template: w.spec.template };
    }
  }
  return { config: config!.metadata!.resourceVersion, runtime: runtime!.metadata!.resourceVersion, workloads };
}

/** Waits for the stack's status to describe its current generation and satisfy `check`. */
function stackStatusWhere(ns: string, name: string, check: (s: LokiStack) => boolean, what: string, timeoutMs = 30_000): Promise<LokiStack> {
  return eventually(
    async () => {
      const s = await getStack(ns, name);
      return s && s.status?.observedGeneration === s.metadata.generation && check(s) ? s : undefined;
    },
    timeoutMs,
    what,
  );
}

function tenantWhere(ns: string, name: string, check: (t: LokiTenant) => boolean, what: string): Promise<LokiTenant> {
  return eventually(
    async () => {
      const t = await getTenant(ns, name);
      return t && t.status?.observedGeneration === t.metadata.generation && check(t) ? t : undefined;
    },
    30_000,
    what,
  );
}

function tenantManifest(ns: string, name: string, tenantId: string, spec: Record<string, unknown> = {}, stack = 'logs'): LokiTenant {
  return { apiVersion: API_VERSION, kind: 'LokiTenant', metadata: { name, namespace: ns }, spec: { stackRef: { name: stack }, tenantId, ...spec } };
}

/** A kubectl call that must fail; returns its error message (stderr). */
async function kubectlFails(args: string[], input?: string): Promise<string> {
  try {
    await kubectl(args, input);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded, expected a denial`);
}

function healthCheck(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The operator runs as its own ServiceAccount with config/rbac's ClusterRole (not as the test's admin), so a
 * permission missing from the deployable RBAC fails these tests. The token is the one the controller-manager minted.
 */
async function operatorKubeConfig(port: number): Promise<KubeConfig> {
  await kubectl(['apply', '-k', join(ROOT, 'config/rbac')]);
  const token = await eventually(async () => {
    const sa = await direct.get<KubernetesObject & { secrets?: Array<{ name: string }> }>({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      namespace: OPERATOR_NS,
      name: 'strata-operator',
    });
    const name = sa?.secrets?.[0]?.name;
    if (!name) return undefined;
    const secret = await direct.get<KubernetesObject & SecretLike>({ ...SECRET, namespace: OPERATOR_NS, name });
    return secret?.data?.token ? Buffer.from(secret.data.token, 'base64').toString('utf8') : undefined;
  }, 30_000, 'the operator ServiceAccount token');
  const base = kubeConfigVia(plane(), port);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: base.clusters,
    users: [{ name: 'strata-operator', token }],
    contexts: [{ name: 'operator', cluster: base.clusters[0]!.name, user: 'strata-operator' }],
    currentContext: 'operator',
  });
  return kc;
}

beforeAll(async () => {
  direct = new KubeRestClient(plane().kubeConfig());
  for (const name of [OPERATOR_NS, SHOP, UPGRADE, DEMO, ZONES]) await direct.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await applyCrds(plane());

  proxy = await TcpProxy.start('127.0.0.1', apiserverPort(plane()));
  const cert = await makeServingCert({ certFile: plane().caCertPath, keyFile: plane().caKeyPath });
  operator = await startOperator({
    kubeConfig: await operatorKubeConfig(proxy.port),
    engineImage: ENGINE_IMAGE,
    namespace: OPERATOR_NS,
    identity: 'acceptance-operator',
    // Short timings: after a cut connection it steps down and takes the Lease back within seconds.
    leaderElection: { leaseName: LEASE, leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 },
    webhook: { host: '127.0.0.1', port: 0, certFile: cert.certFile, keyFile: cert.keyFile },
    health: { host: '127.0.0.1', port: 0 },
    workers: 2,
    informerBackoff: { initialMs: 100, maxMs: 1000 },
    backoff: { baseMs: 100, maxMs: 2000 },
    log,
  });

  // The deployable webhook configuration, pointed at the in-process server instead of the in-cluster Service.
  const vwc = parse(readFileSync(join(ROOT, 'config/webhook/manifests.yaml'), 'utf8')) as {
    metadata: { name: string; annotations?: unknown };
    webhooks: Array<{ clientConfig: { service?: { path: string }; url?: string; caBundle?: string } }>;
  };
  delete vwc.metadata.annotations;
  for (const w of vwc.webhooks) {
    w.clientConfig = {
      url: `https://127.0.0.1:${operator.webhook!.port}${w.clientConfig.service!.path}`,
      caBundle: Buffer.from(cert.caPem).toString('base64'),
    };
  }
  await kubectl(['apply', '-f', '-'], stringify(vwc));
  // The apiserver picks the configuration up asynchronously: wait until an invalid LokiStack is denied by us.
  const invalid = stringify({
    apiVersion: API_VERSION,
    kind: 'LokiStack',
    metadata: { name: 'probe', namespace: SHOP },
    spec: { size: '1x.small', storage: { secret: { name: 'x', type: 'filesystem' } } },
  });
  await eventually(async () => {
    const message = await kubectlFails(['create', '--dry-run=server', '-f', '-'], invalid).catch(() => '');
    return message.includes('denied the request') ? true : undefined;
  }, 30_000, 'the webhook to be registered');
}, 120_000);

afterEach(() => {
  // Nothing escaped the operator as an unhandled rejection or uncaught exception (either would kill the process).
  expect(processFailures.failures).toEqual([]);
});

describe('the operator against a real control plane', () => {
  it('is ready once its caches are filled, leads through its Lease and serves health endpoints', async () => {
    await eventually(async () => (operator.ready() && operator.controller.isRunning() ? true : undefined), 30_000, 'the operator to run');
    expect(await healthCheck(operator.healthPort!, '/healthz')).toBe(200);
    expect(await healthCheck(operator.healthPort!, '/readyz')).toBe(200);
    const lease = await direct.get<KubernetesObject & { spec?: { holderIdentity?: string } }>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: OPERATOR_NS,
      name: LEASE,
    });
    expect(lease?.spec?.holderIdentity).toBe('acceptance-operator');
  }, 40_000);

  it('(a) turns a sample 1x.small LokiStack applied with kubectl into every expected object, owned by the stack, and reports Pending', async () => {
    await kubectl(['apply', '-n', SHOP, '-f', join(SAMPLES, 'loki_v1_lokistack_s3_secret.yaml'), '-f', join(SAMPLES, 'loki_v1_lokistack.yaml')]);
    // 14 pods: distributor 2, ingester 3, querier 2, query-frontend 2, query-scheduler 2, index-gateway 2, compactor 1.
    const stack = await stackStatusWhere(
      SHOP,
      'logs',
      (s) => cond(s, 'Pending')?.status === 'True' && Object.values(s.status?.components ?? {}).reduce((n, m) => n + (m.Pending?.length ?? 0), 0) === 14,
      'status Pending with all 14 pods',
      60_000,
    );

    // What the pure builders want for this stack is exactly what exists, each object owned by the LokiStack.
    const secret = await direct.get<KubernetesObject & SecretLike>({ ...SECRET, namespace: SHOP, name: 'loki-s3' });
    const facts = secretFacts(secret, stack.spec.storage);
    if (!facts.ok) throw new Error(facts.message);
    const desired: KubeObject[] = buildDesired({
      stack,
      tenants: [],
      secret: facts.facts,
      options: { engineImage: ENGINE_IMAGE, pdbApiVersion: 'policy/v1beta1' },
    }).objects;
    const live = await ownedObjects(SHOP, 'logs');
    expect([...live.keys()].sort()).toEqual(desired.map((o) => `${o.kind}/${o.metadata.name}`).sort());
    for (const o of desired) {
      const obj = (await direct.get(refOf(o as KubernetesObject)))!;
      expect([`${o.kind}/${o.metadata.name}`, obj.metadata!.ownerReferences]).toEqual([
        `${o.kind}/${o.metadata.name}`,
        [{ apiVersion: API_VERSION, kind: 'LokiStack', name: 'logs', uid: stack.metadata.uid, controller: true, blockOwnerDeletion: true }],
      ]);
    }
    expect(desired.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort()).toEqual([
      'logs-distributor',
      'logs-querier',
      'logs-query-frontend',
      'logs-query-scheduler',
    ]);
    expect(desired.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name).sort()).toEqual([
      'logs-compactor',
      'logs-index-gateway',
      'logs-ingester',
    ]);
    const ingester = (await direct.get<Workload & { spec: { template: { spec: { containers: Array<{ image: string; args: string[] }> } } } }>({
      ...STATEFULSET,
      namespace: SHOP,
      name: 'logs-ingester',
    }))!;
    expect(ingester.spec.template.spec.containers[0]!.image).toBe(ENGINE_IMAGE);
    expect(ingester.spec.template.spec.containers[0]!.args[0]).toBe('-target=ingester');

    // Status: no kubelet, so every component waits; the spec is valid; history and timeline recorded.
    const gen = stack.metadata.generation;
    expect(stack.status!.conditions!.map((c) => [c.type, c.status, c.reason, c.observedGeneration])).toEqual([
      ['Ready', 'False', 'PendingComponents', gen],
      ['Pending', 'True', 'PendingComponents', gen],
      ['Failed', 'False', 'NoFailedComponents', gen],
      ['Degraded', 'False', 'NotDegraded', gen],
    ]);
    expect(cond(stack, 'Pending')!.message).toContain('ingester (0/3 ready)');
    expect(stack.status!.components!.ingester!.Pending).toEqual(['logs-ingester-0', 'logs-ingester-1', 'logs-ingester-2']);
    expect(stack.status!.storage).toEqual({
      schemas: [{ version: 'v13', effectiveDate: '2024-06-01' }],
      timeline: { active: { version: 'v13', effectiveDate: '2024-06-01' }, upcoming: [] },
    });
  }, 90_000);

  it('(b) applies a LokiTenant and its edit through the runtime ConfigMap only: no pod template changes', async () => {
    const before = await podSideSnapshot(SHOP, 'logs');
    await kubectl(['apply', '-n', SHOP, '-f', join(SAMPLES, 'loki_v1_lokitenant.yaml')]);
    const tenant = await tenantWhere(SHOP, 'team-a', (t) => cond(t, 'Ready')?.status === 'True', 'team-a Ready');
    expect(cond(tenant, 'Rejected')).toMatchObject({ status: 'False' });
    expect(tenant.status!.effective).toMatchObject({
      limits: { ingestion: { ingestionRate: 10, ingestionBurstSize: 20 } },
      retention: { days: 14, streams: [{ selector: '{namespace="audit"}', days: 60, priority: 1 }] },
    });
    expect((await runtimeOverrides(SHOP, 'logs'))['team-a']).toMatchObject({ ingestion_rate_mb: 10, retention_period: '14d' });

    await direct.patch({ ...TENANT, namespace: SHOP, name: 'team-a' }, { spec: { retention: { days: 21 } } }, { type: 'merge' });
    await tenantWhere(SHOP, 'team-a', (t) => t.status?.effective?.retention?.days === 21, 'team-a edit applied');
    await eventually(async () => ((await runtimeOverrides(SHOP, 'logs'))['team-a']?.retention_period === '21d' ? true : undefined), 20_000, 'runtime overrides updated');

    const after = await podSideSnapshot(SHOP, 'logs');
    expect(after.runtime).not.toBe(before.runtime);
    expect(after.config).toBe(before.config);
    expect(after.workloads).toEqual(before.workloads);
  }, 60_000);

  it('(b) rejects a LokiTenant claiming a taken tenant ID, one over the stack\'s tenantPolicy and one naming no stack', async () => {
    const before = await podSideSnapshot(SHOP, 'logs');
    await direct.create(tenantManifest(SHOP, 'team-a-copy', 'team-a', { retention: { days: 7 } }));
    await direct.create(tenantManifest(SHOP, 'greedy', 'greedy', { retention: { days: 365 }, limits: { ingestion: { ingestionRate: 50 } } }));
    await direct.create(tenantManifest(SHOP, 'orphan', 'orphan', {}, 'nope'));

    const copy = await tenantWhere(SHOP, 'team-a-copy', (t) => cond(t, 'Rejected')?.status === 'True', 'team-a-copy Rejected');
    expect(cond(copy, 'Rejected')!.reason).toBe('DuplicateTenantID');
    expect(cond(copy, 'Rejected')!.message).toContain('tenant ID "team-a" is already claimed by LokiTenant shop/team-a');
    expect(cond(copy, 'Ready')).toMatchObject({ status: 'False', reason: 'DuplicateTenantID' });

    const greedy = await tenantWhere(SHOP, 'greedy', (t) => cond(t, 'Rejected')?.status === 'True', 'greedy Rejected');
    expect(cond(greedy, 'Rejected')!.reason).toBe('ExceedsStackPolicy');
    expect(cond(greedy, 'Rejected')!.message).toContain('spec.retention.days 365 exceeds the stack\'s maxRetentionDays 90');
    expect(cond(greedy, 'Rejected')!.message).toContain('spec.limits.ingestion.ingestionRate 50 exceeds the stack\'s maxIngestionRateMB 20');
    expect(greedy.status!.effective).toBeUndefined();

    const orphan = await tenantWhere(SHOP, 'orphan', (t) => cond(t, 'Rejected')?.status === 'True', 'orphan Rejected');
    expect(cond(orphan, 'Rejected')).toMatchObject({ reason: 'StackNotFound', message: 'LokiStack shop/nope does not exist' });

    // Only the accepted tenant reaches the engine, unchanged by the rejected copy; pods untouched.
    const overrides = await runtimeOverrides(SHOP, 'logs');
    expect(Object.keys(overrides)).toEqual(['team-a']);
    expect(overrides['team-a']!.retention_period).toBe('21d');
    const after = await podSideSnapshot(SHOP, 'logs');
    expect(after.config).toBe(before.config);
    expect(after.workloads).toEqual(before.workloads);
  }, 60_000);

  it('(c) the registered webhook denies retroactive schema edits and downgrades, accepts a future v13 entry and the engine config gets it', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      stringify({
        apiVersion: API_VERSION,
        kind: 'LokiStack',
        metadata: { name: 'upgrade', namespace: UPGRADE },
        spec: { size: '1x.demo', storage: { secret: { name: 'unused', type: 'filesystem' }, schemas: [{ version: 'v12', effectiveDate: '2023-01-01' }] } },
      }),
    );
    // Applied: the history is recorded, and the stack is told to move to v13.
    const applied = await stackStatusWhere(UPGRADE, 'upgrade', (s) => (s.status?.storage?.schemas?.length ?? 0) > 0, 'schema history recorded');
    expect(applied.status!.storage!.schemas).toEqual([{ version: 'v12', effectiveDate: '2023-01-01' }]);
    expect(cond(applied, 'Warning')).toMatchObject({ status: 'True', reason: 'StorageNeedsSchemaUpdate' });

    const now = new Date();
    const earliest = earliestValidDate(now);
    const yesterday = formatDay(now.getTime() - 86_400_000);
    const patch = (ops: unknown[]) => ['patch', 'lokistack', 'upgrade', '-n', UPGRADE, '--type=json', '-p', JSON.stringify(ops)];

    const changed = await kubectlFails(patch([{ op: 'replace', path: '/spec/storage/schemas/0/version', value: 'v11' }]));
    expect(changed).toContain('admission webhook "vlokistack.loki.strata.dev" denied the request');
    expect(changed).toContain('spec.storage.schemas[0].version: cannot change the schema in effect from 2023-01-01 (v12 → v11)');
    expect(changed).toContain(`use an effectiveDate on or after ${earliest}`);

    const addedBack = await kubectlFails(patch([{ op: 'add', path: '/spec/storage/schemas/-', value: { version: 'v13', effectiveDate: yesterday } }]));
    expect(addedBack).toContain(`cannot add the schema entry v13 from ${yesterday} retroactively`);
    expect(addedBack).toContain(`use an effectiveDate on or after ${earliest}`);

    const downgrade = await kubectlFails(patch([{ op: 'add', path: '/spec/storage/schemas/-', value: { version: 'v11', effectiveDate: earliest } }]));
    expect(downgrade).toContain(`v11 from ${earliest} would downgrade the schema from v12 from 2023-01-01; schema versions may only move forward`);

    // Nothing of that reached the stack.
    expect((await getStack(UPGRADE, 'upgrade'))!.spec.storage.schemas).toEqual([{ version: 'v12', effectiveDate: '2023-01-01' }]);

    await kubectl(patch([{ op: 'add', path: '/spec/storage/schemas/-', value: { version: 'v13', effectiveDate: earliest } }]));
    const upgraded = await stackStatusWhere(
      UPGRADE,
      'upgrade',
      (s) => s.status?.storage?.timeline?.upcoming?.length === 1 && cond(s, 'Warning') === undefined,
      'the v13 period recorded as upcoming',
    );
    expect(upgraded.status!.storage!.timeline).toEqual({
      active: { version: 'v12', effectiveDate: '2023-01-01' },
      upcoming: [{ version: 'v13', effectiveDate: earliest }],
    });
    const cm = await direct.get<KubernetesObject & { data: Record<string, string> }>({ ...CM, namespace: UPGRADE, name: configMapName('upgrade') });
    const config = parse(cm!.data[CONFIG_KEY]) as { schema_config: { configs: Array<Record<string, unknown>> } };
    expect(config.schema_config.configs.map((c) => [c.from, c.schema, c.store])).toEqual([
      ['2023-01-01', 'v12', 'boltdb-shipper'],
      [earliest, 'v13', 'tsdb'],
    ]);
  }, 60_000);

  it('(c) the registered webhook denies a LokiTenant with a retention selector that does not parse', async () => {
    const bad = tenantManifest(SHOP, 'bad-selector', 'bad', { retention: { streams: [{ selector: '{app="api"', days: 3 }] } });
    const message = await kubectlFails(['create', '-f', '-'], stringify(bad));
    expect(message).toContain('admission webhook "vlokitenant.loki.strata.dev" denied the request');
    expect(message).toContain('spec.retention.streams[0].selector: invalid stream selector "{app=\\"api\\""');
    expect(await getTenant(SHOP, 'bad-selector')).toBeUndefined();
  }, 30_000);

  it('(d) a broken or missing storage Secret degrades the stack without touching workloads; the fix recovers it and rolls the pods', async () => {
    const before = await podSideSnapshot(SHOP, 'logs');
    const hashOf = (snapshot: typeof before) =>
      Object.values(snapshot.workloads).map((w) => (w.template as { metadata: { annotations: Record<string, string> } }).metadata.annotations);
    const hashesBefore = hashOf(before);
    expect(new Set(hashesBefore.map((a) => a[ANNOTATION_SECRET_HASH])).size).toBe(1);

    await kubectl(['patch', 'secret', 'loki-s3', '-n', SHOP, '--type=json', '-p', '[{"op":"remove","path":"/data/endpoint"}]']);
    const broken = await stackStatusWhere(SHOP, 'logs', (s) => cond(s, 'Degraded')?.status === 'True', 'Degraded (invalid secret)');
    expect(cond(broken, 'Degraded')).toMatchObject({ reason: 'InvalidObjectStorageSecret' });
    expect(cond(broken, 'Degraded')!.message).toContain('missing secret field: endpoint');

    await kubectl(['delete', 'secret', 'loki-s3', '-n', SHOP]);
    const missing = await stackStatusWhere(SHOP, 'logs', (s) => cond(s, 'Degraded')?.reason === 'MissingObjectStorageSecret', 'Degraded (missing secret)');
    expect(cond(missing, 'Degraded')!.message).toContain('Secret "loki-s3" does not exist');
    expect((await podSideSnapshot(SHOP, 'logs')).workloads).toEqual(before.workloads);

    // Fixed with rotated credentials: back to normal, and every pod template carries the new secret hash.
    const sample = parse(readFileSync(join(SAMPLES, 'loki_v1_lokistack_s3_secret.yaml'), 'utf8')) as { stringData: Record<string, string> };
    sample.stringData.access_key_secret = 'rotated-secret-value';
    await kubectl(['apply', '-n', SHOP, '-f', '-'], stringify(sample));
    const fixed = await stackStatusWhere(SHOP, 'logs', (s) => cond(s, 'Degraded')?.status === 'False', 'Degraded cleared');
    expect(cond(fixed, 'Degraded')!.reason).toBe('NotDegraded');
    const after = await eventually(async () => {
      const s = await podSideSnapshot(SHOP, 'logs');
      return hashOf(s).every((a) => a[ANNOTATION_SECRET_HASH] !== hashesBefore[0]![ANNOTATION_SECRET_HASH]) ? s : undefined;
    }, 20_000, 'the new secret hash on every pod template');
    for (const [key, w] of Object.entries(after.workloads)) {
      expect([key, w.generation]).toEqual([key, before.workloads[key]!.generation! + 1]);
    }
    // config.yaml did not change: only the secret hash rolled the pods.
    expect(after.config).toBe(before.config);
    expect(new Set(hashOf(after).map((a) => a[ANNOTATION_CONFIG_HASH]))).toEqual(new Set(hashesBefore.map((a) => a[ANNOTATION_CONFIG_HASH])));
  }, 90_000);

  it('(e) survives a cut apiserver connection and reconciles a change made meanwhile', async () => {
    proxy.cut();
    try {
      await eventually(async () => (operator.controller.informers.some((i) => i.stats().errors > 0) ? true : undefined), 40_000, 'the operator to notice the cut');
      // The apiserver still reaches the webhook directly: the change is admitted while the operator is blind.
      await direct.create(tenantManifest(SHOP, 'late', 'late', { retention: { days: 3 } }));
      // Its Lease renewals fail past the deadline: it stops leading (and reconciling) rather than act blind.
      await eventually(async () => (operator.controller.isLeader() ? undefined : true), 10_000, 'the operator to step down');
      await delay(500);
      expect(Object.keys(await runtimeOverrides(SHOP, 'logs'))).not.toContain('late');
    } finally {
      proxy.restore();
    }
    await tenantWhere(SHOP, 'late', (t) => cond(t, 'Ready')?.status === 'True', 'late Ready after the connection is back');
    expect((await runtimeOverrides(SHOP, 'logs')).late).toMatchObject({ retention_period: '3d' });
    expect(operator.controller.isLeader()).toBe(true);
    expect(operator.ready()).toBe(true);
  }, 90_000);

  it('(f) runs a sample 1x.demo LokiStack with filesystem storage as one StatefulSet with -target=all', async () => {
    await kubectl(['apply', '-n', DEMO, '-f', join(SAMPLES, 'loki_v1_lokistack_demo.yaml')]);
    const stack = await stackStatusWhere(DEMO, 'demo', (s) => (s.status?.components?.singleBinary?.Pending?.length ?? 0) === 1, 'the demo pod');
    const objects = await ownedObjects(DEMO, 'demo');
    const workloads = [...objects.keys()].filter((k) => k.startsWith('Deployment/') || k.startsWith('StatefulSet/'));
    expect(workloads).toEqual(['StatefulSet/demo-single-binary']);
    const sts = objects.get('StatefulSet/demo-single-binary') as unknown as {
      spec: { replicas: number; template: { spec: { containers: Array<{ args: string[]; env: Array<{ name: string }> }> } } };
    };
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.template.spec.containers[0]!.args[0]).toBe('-target=all');
    expect(sts.spec.template.spec.containers[0]!.env.map((e) => e.name)).not.toContain('AWS_ACCESS_KEY_ID');
    expect(cond(stack, 'Pending')!.message).toContain('singleBinary (0/1 ready)');
    expect(cond(stack, 'Degraded')!.status).toBe('False');
  }, 60_000);

  it('(h) zone-aware replication: zone_awareness_enabled in config.yaml, and each scheduled ingester pod gets its node\'s zone', async () => {
    const zoneKey = 'topology.kubernetes.io/zone';
    await direct.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b', labels: { [zoneKey]: 'zone-b' } } } as KubernetesObject);
    await kubectl(['apply', '-n', ZONES, '-f', join(SAMPLES, 'loki_v1_lokistack_s3_secret.yaml')]);
    const manifest = {
      apiVersion: API_VERSION,
      kind: 'LokiStack',
      metadata: { name: 'zoned', namespace: ZONES },
      spec: {
        size: '1x.pico',
        storage: { secret: { name: 'loki-s3', type: 's3' }, schemas: [{ version: 'v13', effectiveDate: '2024-06-01' }] },
        replication: { factor: 2, zones: [{ topologyKey: zoneKey, maxSkew: 1 }] },
      },
    };
    await kubectl(['apply', '-f', '-'], stringify(manifest));
    // No scheduler here: bind the first ingester pod to the node as the scheduler would.
    const pod = await eventually(
      async () => (await direct.list<KubernetesObject>({ apiVersion: 'v1', kind: 'Pod' }, { namespace: ZONES, labelSelector: { ...stackSelector('zoned'), 'app.kubernetes.io/component': 'ingester' } })).items[0],
      60_000,
      'an ingester pod',
    );
    const config = parse(
      (await direct.get<KubernetesObject & { data?: Record<string, string> }>({ ...CM, namespace: ZONES, name: configMapName('zoned') }))!.data![CONFIG_KEY]!,
    ) as { ingester: { lifecycler: { availability_zone_file: string; ring: { zone_awareness_enabled: boolean } } } };
    expect(config.ingester.lifecycler.ring.zone_awareness_enabled).toBe(true);
    const sts = (await direct.get<KubernetesObject & { spec: { template: { spec: { volumes: Array<{ name: string; downwardAPI?: unknown }> } } } }>({
      ...STATEFULSET,
      namespace: ZONES,
      name: 'zoned-ingester',
    }))!;
    expect(sts.spec.template.spec.volumes.find((v) => v.name === 'zone')?.downwardAPI).toMatchObject({
      items: [{ path: 'zone', fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['loki.strata.dev/availability-zone']" } }],
    });
    expect(config.ingester.lifecycler.availability_zone_file).toBe('/etc/strata/zone/zone');
    const podName = pod.metadata!.name!;
    await kubectl(['create', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: podName, namespace: ZONES }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-b' } }));
    await eventually(async () => {
      const p = await direct.get<KubernetesObject>({ apiVersion: 'v1', kind: 'Pod', namespace: ZONES, name: podName });
      return p?.metadata?.annotations?.['loki.strata.dev/availability-zone'] === 'zone-b' ? true : undefined;
    }, 30_000, 'the zone annotation on the bound ingester pod');
  }, 90_000);

  it('(g) deleting the LokiStack garbage-collects its objects, and its tenants report StackNotFound', async () => {
    await kubectl(['delete', 'lokistack', 'logs', '-n', SHOP]);
    await eventually(async () => ((await ownedObjects(SHOP, 'logs')).size === 0 ? true : undefined), 60_000, 'the garbage collector to delete the stack\'s objects');
    const tenant = await tenantWhere(SHOP, 'team-a', (t) => cond(t, 'Rejected')?.reason === 'StackNotFound', 'team-a StackNotFound');
    expect(cond(tenant, 'Ready')).toMatchObject({ status: 'False', reason: 'StackNotFound', message: 'LokiStack shop/logs does not exist' });
    expect(tenant.status!.effective).toBeUndefined();
  }, 90_000);
});
