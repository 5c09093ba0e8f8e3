import { parse } from 'yaml';
import type { LokiComponentName, LokiStack } from '../../operator/src/api/v1/index.js';
import { buildDesired, ENGINE_UID, sha256, type BuildInput } from '../../operator/src/manifests/build.js';
import { buildConfig, renderConfig } from '../../operator/src/manifests/config.js';
import { ofKind, type KubeObject, type StatefulSet } from '../../operator/src/manifests/kube-types.js';
import { SIZES } from '../../operator/src/manifests/sizes.js';
import { ANNOTATION_CONFIG_HASH, ANNOTATION_SECRET_HASH, componentName } from '../../operator/src/names.js';
import { NOW, s3Facts, sampleStack, sampleTenant } from './lokistack-fixtures.js';

const OPTIONS = { engineImage: 'registry.example/strata:1.0', now: NOW };

function build(stack: LokiStack = sampleStack(), extra: Partial<BuildInput> = {}) {
  return buildDesired({ stack, tenants: [], secret: s3Facts(), options: OPTIONS, ...extra });
}

const find = <K extends KubeObject['kind']>(objects: KubeObject[], kind: K, name: string) => {
  const found = ofKind(objects, kind).find((o) => o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
};

/** Every pod template of the desired state, by workload. */
const podTemplates = (objects: KubeObject[]) =>
  Object.fromEntries(
    [...ofKind(objects, 'Deployment'), ...ofKind(objects, 'StatefulSet')].map((w) => [w.metadata.name, w.spec.template]),
  );

describe('buildDesired for a distributed stack (1x.small)', () => {
  const { objects } = build();

  it('emits RBAC, the two ConfigMaps, Services, workloads and PDBs in apply order', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/logs-engine',
      'Role/logs-engine',
      'RoleBinding/logs-engine',
      'ConfigMap/logs-config',
      'ConfigMap/logs-runtime',
      'Service/logs-distributor',
      'Service/logs-distributor-headless',
      'Deployment/logs-distributor',
      'Service/logs-ingester',
      'Service/logs-ingester-headless',
      'StatefulSet/logs-ingester',
      'Service/logs-querier',
      'Service/logs-querier-headless',
      'Deployment/logs-querier',
      'Service/logs-query-frontend',
      'Service/logs-query-frontend-headless',
      'Deployment/logs-query-frontend',
      'Service/logs-query-scheduler',
      'Service/logs-query-scheduler-headless',
      'Deployment/logs-query-scheduler',
      'Service/logs-index-gateway',
      'Service/logs-index-gateway-headless',
      'StatefulSet/logs-index-gateway',
      'Service/logs-compactor',
      'Service/logs-compactor-headless',
      'StatefulSet/logs-compactor',
      // The compactor runs one pod: no PDB for it.
      'PodDisruptionBudget/logs-distributor',
      'PodDisruptionBudget/logs-ingester',
      'PodDisruptionBudget/logs-querier',
      'PodDisruptionBudget/logs-query-frontend',
      'PodDisruptionBudget/logs-query-scheduler',
      'PodDisruptionBudget/logs-index-gateway',
    ]);
  });

  it('makes the LokiStack the controlling owner of every object', () => {
    for (const o of objects) {
      expect(o.metadata.namespace).toBe('observability');
      expect(o.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'loki.strata.dev/v1',
          kind: 'LokiStack',
          name: 'logs',
          uid: '6f1c1b8e-0000-4000-8000-000000000001',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': 'logs', 'app.kubernetes.io/managed-by': 'strata-operator' });
    }
  });

  it('runs the ingester as a StatefulSet with WAL and storage claims, args and env for the engine', () => {
    const sts = find(objects, 'StatefulSet', 'logs-ingester');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.serviceName).toBe('logs-ingester-headless');
    expect(sts.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'strata',
      'app.kubernetes.io/instance': 'logs',
      'app.kubernetes.io/component': 'ingester',
    });
    expect(sts.spec.volumeClaimTemplates.map((c) => [c.metadata.name, c.spec.resources.requests.storage, c.spec.storageClassName])).toEqual([
      ['storage', '10Gi', undefined],
      ['wal', '150Gi', undefined],
    ]);
    const [c] = sts.spec.template.spec.containers;
    expect(c!.image).toBe('registry.example/strata:1.0');
    expect(c!.command).toBeUndefined();
    expect(c!.args).toEqual([
      '-target=ingester',
      '-config.file=/etc/strata/config/config.yaml',
      '-runtime-config.file=/etc/strata/runtime/runtime.yaml',
      '-config.expand-env=true',
    ]);
    expect(c!.resources).toEqual({ requests: { cpu: '2.5', memory: '13.25Gi' } });
    expect(c!.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP', apiVersion: 'v1' } } },
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'loki-s3', key: 'access_key_id' } } },
      { name: 'AWS_ACCESS_KEY_SECRET', valueFrom: { secretKeyRef: { name: 'loki-s3', key: 'access_key_secret' } } },
    ]);
    expect(c!.volumeMounts).toEqual([
      { name: 'config', mountPath: '/etc/strata/config', readOnly: true },
      { name: 'runtime', mountPath: '/etc/strata/runtime', readOnly: true },
      { name: 'storage', mountPath: '/var/strata' },
      { name: 'wal', mountPath: '/var/strata/wal' },
    ]);
    expect(sts.spec.template.spec.volumes).toEqual([
      { name: 'config', configMap: { name: 'logs-config' } },
      { name: 'runtime', configMap: { name: 'logs-runtime' } },
    ]);
    expect(sts.spec.template.spec.serviceAccountName).toBe('logs-engine');
  });

  it('runs stateless components as Deployments with their -target', () => {
    for (const [name, target, replicas] of [
      ['logs-distributor', 'distributor', 2],
      ['logs-querier', 'querier', 2],
      ['logs-query-frontend', 'query-frontend', 2],
      ['logs-query-scheduler', 'query-scheduler', 2],
    ] as const) {
      const d = find(objects, 'Deployment', name);
      expect(d.spec.replicas).toBe(replicas);
      expect(d.spec.template.spec.containers[0]!.args[0]).toBe(`-target=${target}`);
    }
    expect(find(objects, 'StatefulSet', 'logs-compactor').spec.template.spec.containers[0]!.args[0]).toBe('-target=compactor');
  });

  it('runs every engine pod as the image user 10001, non-root, without capabilities or privilege escalation', () => {
    const demo = buildDesired({
      stack: sampleStack({ size: '1x.demo', storage: { secret: { name: 'unused', type: 'filesystem' }, schemas: [{ version: 'v13', effectiveDate: '2024-06-01' }] } }),
      tenants: [],
      options: OPTIONS,
    }).objects;
    const templates = Object.entries({ ...podTemplates(objects), ...podTemplates(demo) });
    expect(templates.map(([name]) => name).sort()).toEqual(
      ['logs-compactor', 'logs-distributor', 'logs-index-gateway', 'logs-ingester', 'logs-querier', 'logs-query-frontend', 'logs-query-scheduler', 'logs-single-binary'],
    );
    for (const [name, t] of templates) {
      // fsGroup: the kubelet makes the storage and WAL volumes (mounted root-owned) group-writable for 10001.
      expect([name, t.spec.securityContext]).toEqual([
        name,
        { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      ]);
      for (const c of t.spec.containers) {
        expect([name, c.securityContext]).toEqual([name, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }]);
      }
    }
    expect(ENGINE_UID).toBe(10001);
  });

  it('puts the config hash and the secret hash (and nothing tenant-related) on every pod template', () => {
    const config = find(objects, 'ConfigMap', 'logs-config').data['config.yaml']!;
    for (const template of Object.values(podTemplates(objects))) {
      expect(template.metadata.annotations).toEqual({
        [ANNOTATION_CONFIG_HASH]: sha256(config),
        [ANNOTATION_SECRET_HASH]: s3Facts().hash,
      });
    }
  });

  it('exposes HTTP on client and headless Services', () => {
    const client = find(objects, 'Service', 'logs-ingester');
    const headless = find(objects, 'Service', 'logs-ingester-headless');
    expect(client.spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'http', port: 3100, targetPort: 'http', protocol: 'TCP' }] });
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(headless.spec.selector).toEqual(client.spec.selector);
  });

  it('gives the engine a Role for ring Leases, bound to its ServiceAccount', () => {
    expect(find(objects, 'Role', 'logs-engine').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
    ]);
    expect(find(objects, 'RoleBinding', 'logs-engine')).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'logs-engine' },
      subjects: [{ kind: 'ServiceAccount', name: 'logs-engine', namespace: 'observability' }],
    });
  });

  it('bounds disruptions to one pod per component (policy/v1 by default, v1beta1 for Kubernetes 1.20)', () => {
    expect(find(objects, 'PodDisruptionBudget', 'logs-ingester')).toMatchObject({
      apiVersion: 'policy/v1',
      spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/component': 'ingester' } } },
    });
    const old = build(sampleStack(), { options: { ...OPTIONS, pdbApiVersion: 'policy/v1beta1' } }).objects;
    expect(ofKind(old, 'PodDisruptionBudget').map((p) => p.apiVersion)).toEqual(Array(6).fill('policy/v1beta1'));
  });
});

describe('buildDesired rolling rules', () => {
  const stack = sampleStack({ limits: { global: { retention: { days: 30 } } } });

  it('a tenant edit changes only the runtime ConfigMap and no pod template', () => {
    const tenantA = sampleTenant('a', 'team-a', { limits: { ingestion: { ingestionRate: 4 } } });
    const before = build(stack, { tenants: [tenantA] }).objects;
    const edited = sampleTenant('a', 'team-a', {
      limits: { ingestion: { ingestionRate: 8 } },
      retention: { days: 7, streams: [{ selector: '{app="debug"}', days: 1 }] },
    });
    const added = sampleTenant('b', 'team-b', { retention: { days: 90 } });
    const after = build(stack, { tenants: [edited, added] }).objects;

    const changed = after.filter((o, i) => JSON.stringify(o) !== JSON.stringify(before[i])).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(changed).toEqual(['ConfigMap/logs-runtime']);
    expect(podTemplates(after)).toEqual(podTemplates(before));
    expect(parse(find(after, 'ConfigMap', 'logs-runtime').data['runtime.yaml']!)).toEqual({
      overrides: {
        'team-a': {
          ingestion_rate_mb: 8,
          retention_period: '7d',
          retention_stream: [{ selector: '{app="debug"}', priority: 1, period: '1d' }],
        },
        'team-b': { retention_period: '90d' },
      },
    });
  });

  it('a rejected tenant does not reach the runtime overrides', () => {
    const strict = sampleStack({ tenantPolicy: { maxIngestionRateMB: 5 } });
    const result = build(strict, { tenants: [sampleTenant('a', 'greedy', { limits: { ingestion: { ingestionRate: 50 } } })] });
    expect(result.tenants.map((v) => [v.key, v.reason])).toEqual([['observability/a', 'ExceedsStackPolicy']]);
    expect(parse(find(result.objects, 'ConfigMap', 'logs-runtime').data['runtime.yaml']!)).toEqual({ overrides: {} });
  });

  it('a secret change changes the secret hash annotation, a config change the config hash', () => {
    const before = podTemplates(build(stack).objects);
    const rotated = podTemplates(build(stack, { secret: s3Facts({ access_key_secret: 'rotated' }) }).objects);
    for (const [name, t] of Object.entries(rotated)) {
      expect(t.metadata.annotations![ANNOTATION_SECRET_HASH]).not.toBe(before[name]!.metadata.annotations![ANNOTATION_SECRET_HASH]);
      expect(t.metadata.annotations![ANNOTATION_CONFIG_HASH]).toBe(before[name]!.metadata.annotations![ANNOTATION_CONFIG_HASH]);
    }
    const moreRetention = podTemplates(build(sampleStack({ limits: { global: { retention: { days: 31 } } } })).objects);
    for (const [name, t] of Object.entries(moreRetention)) {
      expect(t.metadata.annotations![ANNOTATION_CONFIG_HASH]).not.toBe(before[name]!.metadata.annotations![ANNOTATION_CONFIG_HASH]);
    }
  });

  it('is deterministic', () => {
    expect(JSON.stringify(build(stack).objects)).toBe(JSON.stringify(build(stack).objects));
  });
});

describe('buildDesired templates and sizes', () => {
  it('applies template.<component>: replicas, resources over the size table, placement and anti-affinity', () => {
    const antiAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'querier' } }, topologyKey: 'kubernetes.io/hostname' },
      ],
    };
    const { objects } = build(
      sampleStack({
        storageClassName: 'fast-ssd',
        template: {
          querier: {
            replicas: 5,
            nodeSelector: { 'node-role/logs': 'true' },
            tolerations: [{ key: 'logs', operator: 'Exists', effect: 'NoSchedule' }],
            resources: { requests: { memory: '6Gi' }, limits: { memory: 8589934592 } },
            podAntiAffinity: antiAffinity,
          },
        },
      }),
    );
    const q = find(objects, 'Deployment', 'logs-querier');
    expect(q.spec.replicas).toBe(5);
    expect(q.spec.template.spec.nodeSelector).toEqual({ 'node-role/logs': 'true' });
    expect(q.spec.template.spec.tolerations).toEqual([{ key: 'logs', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(q.spec.template.spec.containers[0]!.resources).toEqual({ requests: { cpu: '4', memory: '6Gi' }, limits: { memory: 8589934592 } });
    expect(q.spec.template.spec.affinity).toEqual({ podAntiAffinity: antiAffinity });
    // Other components keep the default soft spread over nodes.
    expect(find(objects, 'Deployment', 'logs-distributor').spec.template.spec.affinity!.podAntiAffinity).toEqual({
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            labelSelector: {
              matchLabels: { 'app.kubernetes.io/name': 'strata', 'app.kubernetes.io/instance': 'logs', 'app.kubernetes.io/component': 'distributor' },
            },
            topologyKey: 'kubernetes.io/hostname',
          },
        },
      ],
    });
    for (const sts of ofKind(objects, 'StatefulSet')) {
      for (const claim of sts.spec.volumeClaimTemplates) expect(claim.spec.storageClassName).toBe('fast-ssd');
    }
  });

  it('spreads ingesters over the replication zones', () => {
    const { objects } = build(sampleStack({ replication: { factor: 2, zones: [{ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1 }] } }));
    expect(find(objects, 'StatefulSet', 'logs-ingester').spec.template.spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: {
          matchLabels: { 'app.kubernetes.io/name': 'strata', 'app.kubernetes.io/instance': 'logs', 'app.kubernetes.io/component': 'ingester' },
        },
      },
    ]);
    expect(find(objects, 'StatefulSet', 'logs-compactor').spec.template.spec.topologySpreadConstraints).toBeUndefined();
  });

  it('adds the ruler StatefulSet only when rules are enabled', () => {
    expect(ofKind(build().objects, 'StatefulSet').map((s) => s.metadata.name)).not.toContain('logs-ruler');
    const { objects } = build(sampleStack({ rules: { enabled: true } }));
    const ruler = find(objects, 'StatefulSet', 'logs-ruler');
    expect(ruler.spec.replicas).toBe(2);
    expect(ruler.spec.template.spec.containers[0]!.args[0]).toBe('-target=ruler');
    expect(find(objects, 'PodDisruptionBudget', 'logs-ruler').spec.maxUnavailable).toBe(1);
  });

  it('mounts the storage CA bundle when storage.tls is set', () => {
    const stack = sampleStack();
    stack.spec.storage.tls = { caName: 'object-store-ca' };
    const sts = find(build(stack).objects, 'StatefulSet', 'logs-ingester') as StatefulSet;
    expect(sts.spec.template.spec.volumes).toContainEqual({ name: 'storage-ca', configMap: { name: 'object-store-ca' } });
    expect(sts.spec.template.spec.containers[0]!.volumeMounts).toContainEqual({ name: 'storage-ca', mountPath: '/etc/strata/storage-ca', readOnly: true });
  });

  it('runs 1x.demo as one single-binary StatefulSet (-target=all) on the filesystem', () => {
    const stack = sampleStack({ size: '1x.demo', storage: { secret: { name: 'unused', type: 'filesystem' }, schemas: [{ version: 'v13', effectiveDate: '2024-06-01' }] } });
    const { objects } = buildDesired({ stack, tenants: [], options: OPTIONS });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/logs-engine',
      'ConfigMap/logs-config',
      'ConfigMap/logs-runtime',
      'Service/logs-single-binary',
      'Service/logs-single-binary-headless',
      'StatefulSet/logs-single-binary',
    ]);
    const sts = find(objects, 'StatefulSet', 'logs-single-binary');
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.template.spec.containers[0]!.args[0]).toBe('-target=all');
    expect(sts.spec.template.spec.containers[0]!.env!.map((e) => e.name)).toEqual(['POD_NAME', 'POD_IP']);
    expect(sts.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(sts.spec.volumeClaimTemplates.map((c) => [c.metadata.name, c.spec.resources.requests.storage])).toEqual([
      ['storage', '10Gi'],
      ['wal', '10Gi'],
    ]);
    // No Secret: no secret hash.
    expect(Object.keys(sts.spec.template.metadata.annotations!)).toEqual([ANNOTATION_CONFIG_HASH]);
  });

  it('uses the engine command when one is given', () => {
    const { objects } = build(sampleStack(), { options: { ...OPTIONS, engineCommand: ['node', 'engine/dist/main.js'] } });
    expect(find(objects, 'Deployment', 'logs-querier').spec.template.spec.containers[0]!.command).toEqual(['node', 'engine/dist/main.js']);
  });

  it('builds nothing for an Unmanaged stack but still judges its tenants', () => {
    const result = build(sampleStack({ managementState: 'Unmanaged' }), { tenants: [sampleTenant('a', 'a')] });
    expect(result.objects).toEqual([]);
    expect(result.tenants.map((v) => v.accepted)).toEqual([true]);
  });

  it('refuses to build S3 storage without the secret facts', () => {
    expect(() => buildDesired({ stack: sampleStack(), tenants: [], options: OPTIONS })).toThrow('s3 storage needs the storage secret');
  });

  it('follows the size table for every size', () => {
    for (const profile of Object.values(SIZES)) {
      if (profile.singleBinary) continue;
      const { objects } = build(sampleStack({ size: profile.size }));
      for (const [component, size] of Object.entries(profile.components)) {
        if (component === 'ruler') continue;
        const name = componentName('logs', component as LokiComponentName);
        const w = [...ofKind(objects, 'Deployment'), ...ofKind(objects, 'StatefulSet')].find((o) => o.metadata.name === name)!;
        expect([profile.size, component, w.spec.replicas, w.spec.template.spec.containers[0]!.resources!.requests]).toEqual([
          profile.size,
          component,
          size.replicas,
          size.requests,
        ]);
      }
      const config = buildConfig(sampleStack({ size: profile.size }), s3Facts(), { now: NOW }) as { common: { replication_factor: number } };
      expect(config.common.replication_factor).toBe(profile.replicationFactor);
    }
  });
});

describe('renderConfig', () => {
  it('writes one period per schema entry in date order and never the credentials', () => {
    const stack = sampleStack();
    stack.spec.storage.schemas = [
      { version: 'v13', effectiveDate: '2025-07-01' },
      { version: 'v12', effectiveDate: '2023-01-01' },
    ];
    const text = renderConfig(stack, s3Facts(), { now: NOW });
    const cfg = parse(text);
    expect(cfg.schema_config.configs.map((p: { from: string; schema: string }) => `${p.schema}@${p.from}`)).toEqual(['v12@2023-01-01', 'v13@2025-07-01']);
    expect(text).not.toContain('wJalrXUtnFEMI');
    expect(text).not.toContain('AKIAEXAMPLE');
    expect(text).toContain('secret_access_key: |-\n      ${AWS_ACCESS_KEY_SECRET}');
    // v12 is in effect at NOW: structured metadata stays off until the v13 period starts.
    expect(cfg.limits_config.allow_structured_metadata).toBe(false);
    expect(Object.keys(cfg)).toEqual([
      'auth_enabled',
      'server',
      'common',
      'querier',
      'frontend',
      'frontend_worker',
      'query_range',
      'ingester',
      'storage_config',
      'schema_config',
      'compactor',
      'limits_config',
      'runtime_config',
      'analytics',
    ]);
  });

  it('lays spec.limits.global over the size defaults', () => {
    const cfg = buildConfig(
      sampleStack({ size: '1x.medium', limits: { global: { ingestion: { maxLineSize: 1024 }, queries: { maxQuerySeries: 2000 } } } }),
      s3Facts(),
      { now: NOW },
    ) as { limits_config: Record<string, unknown> };
    expect(cfg.limits_config).toMatchObject({
      ingestion_rate_mb: 50,
      ingestion_burst_size_mb: 20,
      max_global_streams_per_user: 25000,
      max_line_size: 1024,
      max_query_series: 2000,
      query_timeout: '3m',
    });
    expect(cfg.limits_config.retention_period).toBeUndefined();
  });
});
