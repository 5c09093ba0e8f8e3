// LokiStack: one whole Strata installation. Field names are the Grafana Loki Operator's LokiStack v1 (migrating is
// a change of apiVersion); Strata's additions are marked "Strata:" in their descriptions.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { t, type Infer } from '../schema.js';
import type { ResourceDefinition } from '../crd.js';
import {
  API_VERSION,
  GROUP,
  NAME_PATTERN,
  VERSION,
  conditions,
  ingestionLimitSpec,
  podAntiAffinity,
  queryLimitSpec,
  resourceRequirements,
  retentionLimitSpec,
  toleration,
} from './common.js';

export const LOKISTACK_SIZES = ['1x.demo', '1x.pico', '1x.extra-small', '1x.small', '1x.medium'] as const;
export const SCHEMA_VERSIONS = ['v11', 'v12', 'v13'] as const;
export const STORAGE_TYPES = ['s3', 'filesystem'] as const;
export const MANAGEMENT_STATES = ['Managed', 'Unmanaged'] as const;

/** The components a LokiStack runs; `singleBinary` is the one StatefulSet of size 1x.demo (-target=all). */
export const COMPONENTS = [
  'distributor',
  'ingester',
  'querier',
  'queryFrontend',
  'queryScheduler',
  'indexGateway',
  'compactor',
  'ruler',
  'singleBinary',
] as const;

/** Pod phases as the Loki Operator reports them per component (Ready is Running and ready). */
export const POD_STATUSES = ['Pending', 'Running', 'Ready', 'Failed', 'Unknown'] as const;

export const DEFAULT_SCHEMA = { version: 'v13', effectiveDate: '2020-10-11' } as const;

// ── spec ────────────────────────────────────────────────────────────────────────────────────────────────────────

export const objectStorageSchema = t
  .object({
    version: t.enum(SCHEMA_VERSIONS).describe('Schema version for writing and reading logs.').required(),
    effectiveDate: t
      .string({ pattern: '^([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' })
      .describe(
        'Date (YYYY-MM-DD, UTC) from which this version is used. At least one entry must already be in effect; ' +
          'new versions are added with a future date so the engine switches at midnight UTC.',
      )
      .required(),
  })
  .describe('A schema version and the date it takes effect.');

export const objectStorageSpec = t
  .object({
    schemas: t
      .array(objectStorageSchema, { minItems: 1 })
      .default([{ ...DEFAULT_SCHEMA }])
      .describe('Schema periods for reading and writing logs, one per effective date.'),
    secret: t
      .object({
        name: t
          .string({ minLength: 1, maxLength: 253, pattern: NAME_PATTERN })
          .describe('Name of a Secret in the LokiStack\'s namespace.')
          .required(),
        type: t
          .enum(STORAGE_TYPES)
          .describe('Object storage type. filesystem is allowed only with size 1x.demo (one single-binary pod).')
          .required(),
      })
      .describe('The Secret holding the object storage settings and credentials.')
      .required(),
    tls: t
      .object({
        caName: t.string({ minLength: 1 }).describe('Name of a ConfigMap with the CA bundle, in the LokiStack\'s namespace.').required(),
        caKey: t.string().describe('Key of the CA bundle in that ConfigMap; default service-ca.crt.'),
      })
      .describe('TLS settings for reaching the object storage endpoint.'),
  })
  .describe('Object storage for chunks and index.');

export const lokiComponentSpec = t
  .object({
    replicas: t.integer({ format: 'int32', minimum: 0 }).describe('Number of pods; overrides the size table.'),
    nodeSelector: t.map(t.string()).describe('Node labels the pods must be scheduled on.'),
    tolerations: t.array(toleration).describe('Tolerations of the pods.'),
    resources: resourceRequirements,
    podAntiAffinity,
  })
  .describe('Scheduling and resources of one component.');

const templateComponents = Object.fromEntries(
  COMPONENTS.map((name) => [name, lokiComponentSpec.describe(`The ${name} component.`)]),
) as Record<LokiComponentName, typeof lokiComponentSpec>;

export const lokiTemplateSpec = t.object(templateComponents).describe('Per-component replicas, placement and resources.');

export const zoneSpec = t
  .object({
    maxSkew: t.integer({ minimum: 1 }).default(1).describe('Maximum difference in pods between two zones.'),
    topologyKey: t.string({ minLength: 1 }).describe('Node label that defines a zone.').required(),
  })
  .describe('A topology domain replicas are spread across.');

export const replicationSpec = t
  .object({
    factor: t.integer({ format: 'int32', minimum: 1 }).describe('Copies of every stream across ingesters; default from the size.'),
    zones: t.array(zoneSpec).describe('Spread ingesters across these zones (factor ≤ number of zones).'),
  })
  .describe('Replication of ingested data.');

export const limitsTemplateSpec = t
  .object({
    ingestion: ingestionLimitSpec,
    queries: queryLimitSpec,
    retention: retentionLimitSpec,
  })
  .describe('Limits for every tenant; LokiTenants override them per tenant.');

export const tenantPolicySpec = t
  .object({
    maxRetentionDays: t.integer({ minimum: 1 }).describe('Longest retention (days, also per stream) a LokiTenant may set.'),
    maxIngestionRateMB: t.integer({ format: 'int32', minimum: 1 }).describe('Highest ingestionRate (MB/s) a LokiTenant may set.'),
    allowedNamespaces: t
      .array(t.string({ minLength: 1 }), { listType: 'set' })
      .describe('Namespaces whose LokiTenants may attach to this stack; absent: only the stack\'s own namespace.'),
  })
  .describe('Strata: ceilings LokiTenants referring to this stack may not exceed; a LokiTenant over them is Rejected.');

export const lokiStackSpec = t
  .object({
    managementState: t
      .enum(MANAGEMENT_STATES)
      .default('Managed')
      .describe('Managed: the operator reconciles this stack. Unmanaged: it leaves the stack\'s objects alone.'),
    size: t
      .enum(LOKISTACK_SIZES)
      .describe('One of the supported sizes; each sets replicas, resources, PVC sizes, replication and default limits.')
      .required(),
    storage: objectStorageSpec.required(),
    storageClassName: t.string().describe('Storage class of the PVCs (ingester WAL, index gateway, compactor, ruler); default: the cluster\'s.'),
    replication: replicationSpec,
    rules: t
      .object({ enabled: t.boolean().describe('Run the ruler.').required() })
      .describe('The ruler component.'),
    limits: t
      .object({ global: limitsTemplateSpec })
      .describe('Limits on log stream processing (per-tenant overrides come from LokiTenants).'),
    template: lokiTemplateSpec,
    tenantPolicy: tenantPolicySpec,
  })
  .describe('The desired state of a Strata installation.');

// ── status ──────────────────────────────────────────────────────────────────────────────────────────────────────

const podNames = t.array(t.string());

export const podStatusMap = t
  .object(
    Object.fromEntries(POD_STATUSES.map((status) => [status, podNames.describe(`Pods in status ${status}.`)])) as Record<
      PodStatus,
      typeof podNames
    >,
  )
  .describe('Pod names of one component, by status.');

export const lokiStackStatus = t
  .object({
    observedGeneration: t.integer({ format: 'int64' }).describe('The .metadata.generation the status describes.'),
    conditions,
    components: t
      .object(
        Object.fromEntries(COMPONENTS.map((name) => [name, podStatusMap.describe(`Pods of the ${name} component.`)])) as Record<
          LokiComponentName,
          typeof podStatusMap
        >,
      )
      .describe('Pods per component and status.'),
    storage: t
      .object({
        schemas: t
          .array(objectStorageSchema)
          .describe('The schema periods applied so far; entries already in effect can no longer change.'),
        timeline: t
          .object({
            active: objectStorageSchema.describe('The applied schema period in effect now: new data is written with it.'),
            upcoming: t
              .array(objectStorageSchema)
              .describe('Applied schema periods not yet in effect, soonest first; the engine switches at each date (00:00 UTC).'),
          })
          .describe('Strata: where the applied schema history stands today.'),
      })
      .describe('Applied object storage settings.'),
  })
  .describe('The observed state of a LokiStack.');

export type LokiStackSize = (typeof LOKISTACK_SIZES)[number];
export type ObjectStorageSchemaVersion = (typeof SCHEMA_VERSIONS)[number];
export type LokiComponentName = (typeof COMPONENTS)[number];
export type PodStatus = (typeof POD_STATUSES)[number];
export type ObjectStorageSchema = Infer<typeof objectStorageSchema>;
export type ObjectStorageSpec = Infer<typeof objectStorageSpec>;
export type LokiComponentSpec = Infer<typeof lokiComponentSpec>;
export type LokiTemplateSpec = Infer<typeof lokiTemplateSpec>;
export type ReplicationSpec = Infer<typeof replicationSpec>;
export type LimitsTemplateSpec = Infer<typeof limitsTemplateSpec>;
export type TenantPolicySpec = Infer<typeof tenantPolicySpec>;
export type LokiStackSpec = Infer<typeof lokiStackSpec>;
export type PodStatusMap = Infer<typeof podStatusMap>;
export type LokiStackStatus = Infer<typeof lokiStackStatus>;

export interface LokiStack {
  apiVersion: typeof API_VERSION;
  kind: 'LokiStack';
  metadata: V1ObjectMeta;
  spec: LokiStackSpec;
  status?: LokiStackStatus;
}

export const lokiStackDefinition: ResourceDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'LokiStack',
  listKind: 'LokiStackList',
  plural: 'lokistacks',
  singular: 'lokistack',
  categories: ['strata'],
  description: 'LokiStack is a Strata installation: a Loki-compatible log store run by the Strata operator.',
  spec: lokiStackSpec,
  status: lokiStackStatus,
  printerColumns: [
    { name: 'Size', type: 'string', jsonPath: '.spec.size', description: 'The LokiStack size.' },
    { name: 'Storage', type: 'string', jsonPath: '.spec.storage.secret.type', description: 'Object storage type.' },
    {
      name: 'Ready',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: 'Whether every component is ready.',
    },
    {
      name: 'Management',
      type: 'string',
      jsonPath: '.spec.managementState',
      description: 'Managed or Unmanaged.',
      priority: 1,
    },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
