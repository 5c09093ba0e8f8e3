// (LokiStack, its LokiTenants, storage Secret facts, options) → every object the stack owns. Pure: the handler
// applies the result with server-side apply and deletes owned objects that are no longer in it.
//
// Rolling rules: pod templates carry the sha256 of config.yaml and of the storage Secret, and nothing else that
// changes with LokiTenants, so a tenant edit changes only the runtime ConfigMap (reloaded by the engine).
import { createHash } from 'node:crypto';
import { applyDefaults } from '../api/schema.js';
import { API_VERSION, lokiStackSpec, type LokiStack, type LokiTenant } from '../api/v1/index.js';
import {
  ANNOTATION_CONFIG_HASH,
  ANNOTATION_SECRET_HASH,
  ANNOTATION_ZONE,
  CONFIG_DIR,
  CONFIG_FILE,
  CONFIG_KEY,
  COMPONENT_SLUGS,
  DATA_DIR,
  ENV_ACCESS_KEY_ID,
  ENV_ACCESS_KEY_SECRET,
  ENV_POD_IP,
  ENV_POD_NAME,
  HTTP_PORT,
  HTTP_PORT_NAME,
  RUNTIME_DIR,
  RUNTIME_FILE,
  RUNTIME_KEY,
  STORAGE_CA_DIR,
  STORAGE_VOLUME,
  WAL_DIR,
  WAL_VOLUME,
  ZONE_DIR,
  commonLabels,
  componentName,
  componentSelector,
  configMapName,
  headlessServiceName,
  podDisruptionBudgetName,
  roleBindingName,
  roleName,
  runtimeConfigMapName,
  serviceAccountName,
  serviceName,
} from '../names.js';
import type { SecretFacts } from '../validation/secret.js';
import { validateTenants, type TenantVerdict } from '../validation/tenants.js';
import { renderConfig } from './config.js';
import type {
  Affinity,
  ConfigMap,
  Container,
  Deployment,
  EnvVar,
  KubeObject,
  ObjectMeta,
  OwnerReference,
  PersistentVolumeClaimTemplate,
  PodDisruptionBudget,
  PodDisruptionBudgetApiVersion,
  PodSecurityContext,
  PodTemplateSpec,
  Role,
  RoleBinding,
  SecurityContext,
  Service,
  ServiceAccount,
  StatefulSet,
  TopologySpreadConstraint,
  Volume,
} from './kube-types.js';
import { isDistributed, isZoneAware, planComponents, type ComponentPlan } from './plan.js';
import { renderRuntimeConfig } from './runtime-config.js';

export interface BuildOptions {
  /** The engine image (from the operator's RELATED_IMAGE_ENGINE-style environment variable). */
  engineImage: string;
  /** Reserved: the operator's own namespace (not used by the builders yet). */
  operatorNamespace?: string;
  /** PodDisruptionBudget API: `policy/v1` (Kubernetes ≥ 1.21, default) or `policy/v1beta1` (1.20, removed in 1.25). */
  pdbApiVersion?: PodDisruptionBudgetApiVersion;
  /** The container command; default: none (the image's entrypoint runs the engine). */
  engineCommand?: string[];
  /** Clock for the parts of config.yaml that depend on the schema period in effect; default: now. */
  now?: Date;
}

export interface BuildInput {
  stack: LokiStack;
  /** LokiTenants referring to the stack (others are ignored). */
  tenants: readonly LokiTenant[];
  /** From `secretFacts`; required for s3 storage. */
  secret?: SecretFacts;
  options: BuildOptions;
}

export interface DesiredState {
  /** Every object the stack owns, in apply order (RBAC and ConfigMaps before the workloads that use them). */
  objects: KubeObject[];
  /** One verdict per LokiTenant referring to the stack; accepted ones are in the runtime ConfigMap. */
  tenants: TenantVerdict[];
}

/** The engine image's numeric user and group (engine/Dockerfile's USER). */
export const ENGINE_UID = 10001;

/**
 * Engine pods run as the image's non-root user; fsGroup makes the PVC-backed /var/strata (storage, WAL) writable by
 * it, since volumes are mounted root-owned.
 */
export const ENGINE_POD_SECURITY_CONTEXT: Readonly<PodSecurityContext> = {
  runAsNonRoot: true,
  runAsUser: ENGINE_UID,
  runAsGroup: ENGINE_UID,
  fsGroup: ENGINE_UID,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The engine needs no Linux capability and no privilege escalation. */
export const ENGINE_CONTAINER_SECURITY_CONTEXT: Readonly<SecurityContext> = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
};

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The desired objects of a stack; none when the stack is Unmanaged (tenant verdicts are still computed). */
export function buildDesired(input: BuildInput): DesiredState {
  const stack: LokiStack = { ...input.stack, spec: applyDefaults(lokiStackSpec, input.stack.spec) };
  const verdicts = validateTenants(stack, input.tenants);
  if (stack.spec.managementState === 'Unmanaged') return { objects: [], tenants: verdicts };

  const ctx = new Context(stack, input.secret, input.options);
  const accepted = verdicts.filter((v) => v.accepted).map((v) => v.tenant);
  const config = renderConfig(stack, input.secret, { now: input.options.now ?? new Date() });
  const runtime = renderRuntimeConfig(accepted);
  const plan = planComponents(stack);

  const objects: KubeObject[] = [
    ctx.serviceAccount(),
    ...(ctx.distributed ? [ctx.role(), ctx.roleBinding()] : []),
    ctx.configMap(configMapName(ctx.name), CONFIG_KEY, config),
    ctx.configMap(runtimeConfigMapName(ctx.name), RUNTIME_KEY, runtime),
  ];
  const configHash = sha256(config);
  for (const p of plan) {
    objects.push(ctx.service(p, false), ctx.service(p, true));
    objects.push(p.kind === 'StatefulSet' ? ctx.statefulSet(p, configHash) : ctx.deployment(p, configHash));
  }
  for (const p of plan) if (p.replicas > 1) objects.push(ctx.pdb(p));
  return { objects, tenants: verdicts };
}

/** Builders sharing the stack's name, namespace, owner reference and options. */
class Context {
  readonly name: string;
  readonly namespace: string;
  readonly distributed: boolean;
  private readonly owner: OwnerReference;

  constructor(
    readonly stack: LokiStack,
    readonly secret: SecretFacts | undefined,
    readonly options: BuildOptions,
  ) {
    this.name = stack.metadata.name!;
    this.namespace = stack.metadata.namespace!;
    this.distributed = isDistributed(stack);
    this.owner = {
      apiVersion: API_VERSION,
      kind: 'LokiStack',
      name: this.name,
      uid: stack.metadata.uid ?? '',
      controller: true,
      blockOwnerDeletion: true,
    };
  }

  meta(name: string, component?: ComponentPlan['component']): ObjectMeta {
    return {
      name,
      namespace: this.namespace,
      labels: commonLabels(this.name, component),
      ownerReferences: [{ ...this.owner }],
    };
  }

  serviceAccount(): ServiceAccount {
    return {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: this.meta(serviceAccountName(this.name)),
      automountServiceAccountToken: this.distributed,
    };
  }

  /** The engine's pods keep the ring in Leases (distributed sizes only). */
  role(): Role {
    return {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: this.meta(roleName(this.name)),
      rules: [
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
        },
      ],
    };
  }

  roleBinding(): RoleBinding {
    return {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: this.meta(roleBindingName(this.name)),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName(this.name) },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccountName(this.name), namespace: this.namespace }],
    };
  }

  configMap(name: string, key: string, text: string): ConfigMap {
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: this.meta(name), data: { [key]: text } };
  }

  service(p: ComponentPlan, headless: boolean): Service {
    const name = headless ? headlessServiceName(this.name, p.component) : serviceName(this.name, p.component);
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: this.meta(name, p.component),
      spec: {
        ...(headless
          ? // Ring members and StatefulSet pods must be resolvable before they are ready (they join the ring first).
            { clusterIP: 'None', publishNotReadyAddresses: true }
          : { type: 'ClusterIP' as const }),
        selector: componentSelector(this.name, p.component),
        ports: [{ name: HTTP_PORT_NAME, port: HTTP_PORT, targetPort: HTTP_PORT_NAME, protocol: 'TCP' }],
      },
    };
  }

  deployment(p: ComponentPlan, configHash: string): Deployment {
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: this.meta(componentName(this.name, p.component), p.component),
      spec: {
        replicas: p.replicas,
        selector: { matchLabels: componentSelector(this.name, p.component) },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
        revisionHistoryLimit: 5,
        template: this.podTemplate(p, configHash),
      },
    };
  }

  statefulSet(p: ComponentPlan, configHash: string): StatefulSet {
    const claims: PersistentVolumeClaimTemplate[] = [];
    if (p.storage !== undefined) claims.push(this.claim(STORAGE_VOLUME, p));
    if (p.wal !== undefined) claims.push(this.claim(WAL_VOLUME, p));
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: this.meta(componentName(this.name, p.component), p.component),
      spec: {
        replicas: p.replicas,
        serviceName: headlessServiceName(this.name, p.component),
        selector: { matchLabels: componentSelector(this.name, p.component) },
        // Ring members start together; OrderedReady would wait for a ring that needs them all.
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        revisionHistoryLimit: 5,
        template: this.podTemplate(p, configHash),
        volumeClaimTemplates: claims,
      },
    };
  }

  claim(volume: string, p: ComponentPlan): PersistentVolumeClaimTemplate {
    const size = volume === WAL_VOLUME ? p.wal! : p.storage!;
    const storageClassName = this.stack.spec.storageClassName;
    return {
      metadata: { name: volume, labels: componentSelector(this.name, p.component) },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: size } },
        ...(storageClassName ? { storageClassName } : {}),
        volumeMode: 'Filesystem',
      },
    };
  }

  pdb(p: ComponentPlan): PodDisruptionBudget {
    return {
      apiVersion: this.options.pdbApiVersion ?? 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: this.meta(podDisruptionBudgetName(this.name, p.component), p.component),
      // One pod at a time: with replication factor ≥ 2 every stream keeps a copy while an ingester is evicted.
      spec: { selector: { matchLabels: componentSelector(this.name, p.component) }, maxUnavailable: 1 },
    };
  }

  podTemplate(p: ComponentPlan, configHash: string): PodTemplateSpec {
    const selector = componentSelector(this.name, p.component);
    const annotations: Record<string, string> = { [ANNOTATION_CONFIG_HASH]: configHash };
    if (this.secret?.hash) annotations[ANNOTATION_SECRET_HASH] = this.secret.hash;
    const tls = this.stack.spec.storage.tls;
    // Zone-aware replication: the ingester learns its node's zone from an annotation the operator sets.
    const zoneAware = p.component === 'ingester' && isZoneAware(this.stack);

    const volumes: Volume[] = [
      { name: 'config', configMap: { name: configMapName(this.name) } },
      // Mounted as a directory (not subPath) so the kubelet updates the file in place and the engine reloads it.
      { name: 'runtime', configMap: { name: runtimeConfigMapName(this.name) } },
      ...(tls ? [{ name: 'storage-ca', configMap: { name: tls.caName } }] : []),
      ...(zoneAware
        ? [{ name: 'zone', downwardAPI: { items: [{ path: 'zone', fieldRef: { fieldPath: `metadata.annotations['${ANNOTATION_ZONE}']` } }] } }]
        : []),
    ];
    const mounts = [
      { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
      { name: 'runtime', mountPath: RUNTIME_DIR, readOnly: true },
      ...(tls ? [{ name: 'storage-ca', mountPath: STORAGE_CA_DIR, readOnly: true }] : []),
      ...(p.storage !== undefined ? [{ name: STORAGE_VOLUME, mountPath: DATA_DIR }] : []),
      ...(p.wal !== undefined ? [{ name: WAL_VOLUME, mountPath: WAL_DIR }] : []),
      ...(zoneAware ? [{ name: 'zone', mountPath: ZONE_DIR, readOnly: true }] : []),
    ];

    const container: Container = {
      name: COMPONENT_SLUGS[p.component],
      image: this.options.engineImage,
      imagePullPolicy: 'IfNotPresent',
      ...(this.options.engineCommand ? { command: [...this.options.engineCommand] } : {}),
      args: [`-target=${p.target}`, `-config.file=${CONFIG_FILE}`, `-runtime-config.file=${RUNTIME_FILE}`, '-config.expand-env=true'],
      env: this.env(),
      ports: [{ name: HTTP_PORT_NAME, containerPort: HTTP_PORT, protocol: 'TCP' }],
      ...(Object.keys(p.resources).length > 0 ? { resources: structuredClone(p.resources) } : {}),
      volumeMounts: mounts,
      readinessProbe: { httpGet: { path: '/ready', port: HTTP_PORT_NAME, scheme: 'HTTP' }, initialDelaySeconds: 15, periodSeconds: 10, timeoutSeconds: 1 },
      livenessProbe: {
        httpGet: { path: '/loki/api/v1/status/buildinfo', port: HTTP_PORT_NAME, scheme: 'HTTP' },
        periodSeconds: 30,
        timeoutSeconds: 2,
        failureThreshold: 10,
      },
      securityContext: structuredClone(ENGINE_CONTAINER_SECURITY_CONTEXT),
    };

    const t = p.template;
    const spread: TopologySpreadConstraint[] =
      p.component === 'ingester'
        ? (this.stack.spec.replication?.zones ?? []).map((z) => ({
            maxSkew: z.maxSkew ?? 1,
            topologyKey: z.topologyKey,
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector: { matchLabels: { ...selector } },
          }))
        : [];
    const affinity: Affinity = {
      podAntiAffinity: t?.podAntiAffinity
        ? structuredClone(t.podAntiAffinity)
        : {
            // Default: spread a component's pods over nodes when possible.
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { ...selector } }, topologyKey: 'kubernetes.io/hostname' } },
            ],
          },
    };

    return {
      metadata: { labels: commonLabels(this.name, p.component), annotations },
      spec: {
        serviceAccountName: serviceAccountName(this.name),
        automountServiceAccountToken: this.distributed,
        // Ingesters flush and leave the ring on shutdown; the WAL covers anything cut short.
        terminationGracePeriodSeconds: p.component === 'ingester' || p.component === 'singleBinary' ? 300 : 30,
        securityContext: structuredClone(ENGINE_POD_SECURITY_CONTEXT),
        containers: [container],
        volumes,
        ...(t?.nodeSelector ? { nodeSelector: { ...t.nodeSelector } } : {}),
        ...(t?.tolerations ? { tolerations: structuredClone(t.tolerations) } : {}),
        affinity,
        ...(spread.length > 0 ? { topologySpreadConstraints: spread } : {}),
      },
    };
  }

  env(): EnvVar[] {
    const out: EnvVar[] = [
      { name: ENV_POD_NAME, valueFrom: { fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } } },
      { name: ENV_POD_IP, valueFrom: { fieldRef: { fieldPath: 'status.podIP', apiVersion: 'v1' } } },
    ];
    if (this.stack.spec.storage.secret.type === 's3') {
      const name = this.stack.spec.storage.secret.name;
      out.push(
        { name: ENV_ACCESS_KEY_ID, valueFrom: { secretKeyRef: { name, key: 'access_key_id' } } },
        { name: ENV_ACCESS_KEY_SECRET, valueFrom: { secretKeyRef: { name, key: 'access_key_secret' } } },
      );
    }
    return out;
  }
}
