// The generated CRDs (crds/*.yaml) against a real kube-apiserver: they install, the apiserver applies their
// defaults and rejects invalid specs with messages naming the field, and status is a subresource.
import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { applyDefaults, toOpenAPI } from '../../operator/src/api/schema.js';
import {
  API_VERSION,
  GROUP,
  VERSION,
  lokiStackSpec,
  lokiTenantSpec,
  type LokiStack,
  type LokiStackStatus,
  type LokiTenant,
  type LokiTenantStatus,
} from '../../operator/src/api/v1/index.js';
import { apiError, applyCrds, eventually, useControlPlane } from '../support/kube.js';

const plane = useControlPlane();
const NS = 'strata-crds';
const FIELD_MANAGER = 'strata-test';

let customObjects: CustomObjectsApi;
let objects: KubernetesObjectApi;

beforeAll(async () => {
  const kc = plane().kubeConfig();
  customObjects = kc.makeApiClient(CustomObjectsApi);
  objects = KubernetesObjectApi.makeApiClient(kc);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
  // The committed files, through kubectl, exactly as a user installs them (check:crds keeps them current).
  await applyCrds(plane(), FIELD_MANAGER);
}, 60_000);

function sampleStack(name: string): LokiStack {
  return {
    apiVersion: API_VERSION,
    kind: 'LokiStack',
    metadata: { name, namespace: NS },
    spec: {
      size: '1x.small',
      storage: { secret: { name: 'loki-s3', type: 's3' } },
      replication: { factor: 2, zones: [{ topologyKey: 'topology.kubernetes.io/zone' }] },
      limits: {
        global: {
          ingestion: { ingestionRate: 8, maxLineSize: 262144 },
          queries: { queryTimeout: '3m', maxEntriesLimitPerQuery: 5000 },
          retention: { days: 30, streams: [{ selector: '{namespace="audit"}', days: 365 }] },
        },
      },
      template: {
        ingester: {
          replicas: 3,
          nodeSelector: { 'node-role/logs': 'true' },
          tolerations: [{ key: 'logs', operator: 'Exists', effect: 'NoSchedule' }],
          resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: 4294967296 } },
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: {
                  labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'ingester' } },
                  topologyKey: 'kubernetes.io/hostname',
                },
              },
            ],
          },
        },
      },
      tenantPolicy: { maxRetentionDays: 400, maxIngestionRateMB: 20, allowedNamespaces: ['team-a', NS] },
    },
  };
}

function sampleTenant(name: string, tenantId = 'team-a'): LokiTenant {
  return {
    apiVersion: API_VERSION,
    kind: 'LokiTenant',
    metadata: { name, namespace: NS },
    spec: {
      stackRef: { name: 'sample' },
      tenantId,
      limits: { ingestion: { ingestionRate: 4 }, queries: { maxQuerySeries: 1000 } },
      retention: { streams: [{ selector: '{app="debug"}', days: 3 }] },
    },
  };
}

/** Server-side apply, as the operator will do it. */
function apply<T extends KubernetesObject>(obj: T): Promise<T> {
  return objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
}

async function get<T>(plural: string, name: string): Promise<T> {
  return (await customObjects.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, name })) as T;
}

/** `kubectl get` output as rows of column name → cell, cut at the header's column offsets (cells may be empty). */
async function printed(plural: string, ...args: string[]): Promise<Array<Record<string, string>>> {
  const [header, ...rows] = (await plane().kubectl(['get', plural, '-n', NS, ...args])).trimEnd().split('\n');
  const starts = [...header!.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
  return rows.map((row) =>
    Object.fromEntries(starts.map((c, i) => [c.name, row.slice(c.at, starts[i + 1]?.at ?? row.length).trim()])),
  );
}

/** Creates the object and returns the apiserver's rejection (fails the test when it is accepted). */
async function rejection(plural: string, body: object): Promise<{ code: number; message: string }> {
  try {
    await customObjects.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural, body });
  } catch (err) {
    return apiError(err);
  }
  throw new Error(`the apiserver accepted an invalid ${plural} object: ${JSON.stringify(body)}`);
}

describe('LokiStack CRD', () => {
  it('accepts a valid LokiStack by server-side apply and fills in the schema defaults', async () => {
    const stack = sampleStack('sample');
    await apply(stack);
    const stored = await get<LokiStack>('lokistacks', 'sample');

    expect(stored.spec.managementState).toBe('Managed');
    expect(stored.spec.storage.schemas).toEqual([{ version: 'v13', effectiveDate: '2020-10-11' }]);
    expect(stored.spec.replication!.zones).toEqual([{ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1 }]);
    expect(stored.spec.limits!.global!.retention!.streams).toEqual([{ selector: '{namespace="audit"}', days: 365, priority: 1 }]);
    // Quantities keep their written form (string or integer); the rest round-trips unchanged.
    expect(stored.spec.template!.ingester!.resources).toEqual({ requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: 4294967296 } });
    // The operator's own defaulting agrees with the apiserver's.
    expect(stored.spec).toEqual(applyDefaults(lokiStackSpec, stack.spec));
  });

  it('shows size, storage type and readiness as printer columns', async () => {
    expect(await printed('lokistacks', 'sample')).toEqual([{ NAME: 'sample', SIZE: '1x.small', STORAGE: 's3', READY: '', AGE: expect.any(String) }]);
    const [wide] = await printed('lokistacks', 'sample', '-o', 'wide');
    expect(wide).toMatchObject({ NAME: 'sample', MANAGEMENT: 'Managed' });
  });

  it('publishes field descriptions for kubectl explain', async () => {
    const explained = await eventually(async () => {
      const text = await plane().kubectl(['explain', '--output=plaintext-openapiv2', 'lokistack.spec.size']);
      return text.includes('FIELD:') ? text : undefined;
    }, 20_000, 'the LokiStack OpenAPI to be published');
    expect(explained.replace(/\s+/g, ' ')).toContain(toOpenAPI(lokiStackSpec).properties!.size!.description);
  });

  it.each([
    ['an unknown size', (s: any) => (s.size = '2x.huge'), ['spec.size', 'Unsupported value: "2x.huge"', '"1x.demo"']],
    [
      'an unknown schema version',
      (s: any) => (s.storage.schemas = [{ version: 'v10', effectiveDate: '2024-01-01' }]),
      ['spec.storage.schemas.version', 'Unsupported value: "v10"'],
    ],
    [
      'a malformed effective date',
      (s: any) => (s.storage.schemas = [{ version: 'v13', effectiveDate: '2024-13-01' }]),
      ['spec.storage.schemas.effectiveDate', 'should match'],
    ],
    ['an empty schema list', (s: any) => (s.storage.schemas = []), ['spec.storage.schemas', 'should have at least 1 items']],
    ['an unknown storage type', (s: any) => (s.storage.secret.type = 'gcs'), ['spec.storage.secret.type', 'Unsupported value: "gcs"']],
    ['a missing size', (s: any) => delete s.size, ['spec.size', 'Required value']],
    ['a missing storage secret name', (s: any) => delete s.storage.secret.name, ['spec.storage.secret.name', 'Required value']],
    ['a missing storage', (s: any) => delete s.storage, ['spec.storage', 'Required value']],
    ['an unknown managementState', (s: any) => (s.managementState = 'Paused'), ['spec.managementState', 'Unsupported value: "Paused"']],
    [
      'a zero retention',
      (s: any) => (s.limits.global.retention.days = 0),
      ['spec.limits.global.retention.days', 'should be greater than or equal to 1'],
    ],
    [
      'a retention stream without selector',
      (s: any) => (s.limits.global.retention.streams = [{ days: 3 }]),
      ['spec.limits.global.retention.streams.selector', 'Required value'],
    ],
    [
      'a malformed query timeout',
      (s: any) => (s.limits.global.queries.queryTimeout = 'three minutes'),
      ['spec.limits.global.queries.queryTimeout', 'should match'],
    ],
    [
      'a malformed resource quantity',
      (s: any) => (s.template.ingester.resources.requests.cpu = 'lots'),
      ['spec.template.ingester.resources.requests.cpu', 'should match'],
    ],
    ['a negative replica count', (s: any) => (s.template.ingester.replicas = -1), ['spec.template.ingester.replicas', 'greater than or equal to 0']],
  ])('rejects %s with a message naming the field', async (_what, mutate, expected) => {
    const stack = sampleStack('invalid');
    mutate(stack.spec);
    const { code, message } = await rejection('lokistacks', stack);
    expect(code).toBe(422);
    for (const text of expected as string[]) expect(message).toContain(text);
  });

  it('rejects a LokiStack without spec', async () => {
    const { code, message } = await rejection('lokistacks', { apiVersion: API_VERSION, kind: 'LokiStack', metadata: { name: 'nospec' } });
    expect(code).toBe(422);
    expect(message).toContain('spec: Required value');
  });

  it('updates status only through the status subresource', async () => {
    const before = await get<LokiStack>('lokistacks', 'sample');
    const status: LokiStackStatus = {
      observedGeneration: before.metadata.generation!,
      conditions: [
        {
          type: 'Pending',
          status: 'True',
          reason: 'PendingComponents',
          message: 'Some LokiStack components pending on dependencies',
          lastTransitionTime: '2025-01-01T00:00:00Z',
          observedGeneration: before.metadata.generation!,
        },
      ],
      components: { ingester: { Pending: ['sample-ingester-0', 'sample-ingester-1'] } },
      storage: { schemas: [{ version: 'v13', effectiveDate: '2020-10-11' }] },
    };
    const updated = (await customObjects.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'lokistacks',
      name: 'sample',
      body: { ...before, status },
    })) as LokiStack;
    expect(updated.status).toEqual(status);
    // A status write is not a spec change.
    expect(updated.metadata.generation).toBe(before.metadata.generation);
    expect(updated.spec).toEqual(before.spec);

    // Status sent through the main resource is ignored.
    const replaced = (await customObjects.replaceNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'lokistacks',
      name: 'sample',
      body: { ...updated, status: { observedGeneration: 99 } },
    })) as LokiStack;
    expect(replaced.status).toEqual(status);

    const [row] = await printed('lokistacks', 'sample');
    expect(row!.READY).toBe(''); // no Ready condition yet

    // The status schema is enforced too.
    const bad = { ...replaced, status: { conditions: [{ ...status.conditions![0], status: 'Maybe' }] } };
    const err = await customObjects
      .replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: NS, plural: 'lokistacks', name: 'sample', body: bad })
      .then(() => undefined, apiError);
    expect(err?.code).toBe(422);
    expect(err?.message).toContain('status.conditions.status: Unsupported value: "Maybe"');
  });
});

describe('LokiTenant CRD', () => {
  it('accepts a valid LokiTenant and fills in the schema defaults', async () => {
    const tenant = sampleTenant('team-a');
    await apply(tenant);
    const stored = await get<LokiTenant>('lokitenants', 'team-a');
    expect(stored.spec.retention!.streams).toEqual([{ selector: '{app="debug"}', days: 3, priority: 1 }]);
    expect(stored.spec).toEqual(applyDefaults(lokiTenantSpec, tenant.spec));

    expect(await printed('lokitenants', 'team-a')).toEqual([
      { NAME: 'team-a', STACK: 'sample', TENANT: 'team-a', READY: '', REASON: '', AGE: expect.any(String) },
    ]);
  });

  it("accepts Loki's tenant ID alphabet", async () => {
    const id = "Team_1.prod-(eu)!*'";
    await apply(sampleTenant('odd-id', id));
    expect((await get<LokiTenant>('lokitenants', 'odd-id')).spec.tenantId).toBe(id);
    await apply(sampleTenant('long-id', 'a'.repeat(150)));
  });

  it.each([
    ['a tenant ID with a slash', (s: any) => (s.tenantId = 'team/a'), ['spec.tenantId', 'should match']],
    ['a tenant ID with a pipe (multi-tenant query syntax)', (s: any) => (s.tenantId = 'a|b'), ['spec.tenantId', 'should match']],
    ['the tenant ID ".."', (s: any) => (s.tenantId = '..'), ['"spec.tenantId" must not validate the schema']],
    ['the tenant ID "."', (s: any) => (s.tenantId = '.'), ['"spec.tenantId" must not validate the schema']],
    ['an empty tenant ID', (s: any) => (s.tenantId = ''), ['spec.tenantId', 'should be at least 1 chars long']],
    ['a tenant ID over 150 characters', (s: any) => (s.tenantId = 'a'.repeat(151)), ['spec.tenantId', 'should be at most 150 chars long']],
    ['a missing tenant ID', (s: any) => delete s.tenantId, ['spec.tenantId', 'Required value']],
    ['a missing stackRef', (s: any) => delete s.stackRef, ['spec.stackRef', 'Required value']],
    ['a stackRef without name', (s: any) => (s.stackRef = { namespace: NS }), ['spec.stackRef.name', 'Required value']],
    ['an invalid stack namespace', (s: any) => (s.stackRef.namespace = 'Not_A_Namespace'), ['spec.stackRef.namespace', 'should match']],
    ['a zero retention', (s: any) => (s.retention.days = 0), ['spec.retention.days', 'should be greater than or equal to 1']],
  ])('rejects %s with a message naming the field', async (_what, mutate, expected) => {
    const tenant = sampleTenant('invalid');
    mutate(tenant.spec);
    const { code, message } = await rejection('lokitenants', tenant);
    expect(code).toBe(422);
    for (const text of expected as string[]) expect(message).toContain(text);
  });

  it('updates status through the status subresource', async () => {
    const before = await get<LokiTenant>('lokitenants', 'team-a');
    const status: LokiTenantStatus = {
      observedGeneration: before.metadata.generation!,
      conditions: [
        {
          type: 'Rejected',
          status: 'True',
          reason: 'DuplicateTenantID',
          message: 'tenant ID team-a is already claimed by LokiTenant strata-crds/other',
          lastTransitionTime: '2025-01-01T00:00:00Z',
        },
      ],
      effective: { limits: { ingestion: { ingestionRate: 4 } }, retention: { days: 30 } },
    };
    const updated = (await customObjects.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: 'lokitenants',
      name: 'team-a',
      body: { ...before, status },
    })) as LokiTenant;
    expect(updated.status).toEqual(status);
    expect(updated.metadata.generation).toBe(before.metadata.generation);
    const [row] = await printed('lokitenants', 'team-a');
    expect(row).toMatchObject({ NAME: 'team-a', STACK: 'sample', TENANT: 'team-a', READY: '', REASON: 'DuplicateTenantID' });
  });
});
