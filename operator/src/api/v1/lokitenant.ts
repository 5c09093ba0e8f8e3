// LokiTenant: one tenant of a LokiStack, with its own limits and retention (Strata; upstream keeps a map inside the
// LokiStack). Rendered into the stack's runtime-overrides ConfigMap, which the engine reloads without a restart.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { t, type Infer } from '../schema.js';
import type { ResourceDefinition } from '../crd.js';
import {
  API_VERSION,
  GROUP,
  MAX_TENANT_ID_LENGTH,
  NAME_PATTERN,
  TENANT_ID_PATTERN,
  VERSION,
  conditions,
  ingestionLimitSpec,
  queryLimitSpec,
  tenantRetentionSpec,
} from './common.js';

/** Condition types of a LokiTenant. */
export const TENANT_CONDITION_TYPES = ['Ready', 'Rejected'] as const;

/** Reasons a LokiTenant is Rejected. */
export const TENANT_REJECTED_REASONS = [
  'DuplicateTenantID',
  'ExceedsStackPolicy',
  'StackNotFound',
  'InvalidSelector',
  'NamespaceNotAllowed',
] as const;

export const tenantLimitsSpec = t
  .object({
    ingestion: ingestionLimitSpec,
    queries: queryLimitSpec,
  })
  .describe('This tenant\'s limits; fields left out keep the stack\'s global limits.');

export const lokiTenantSpec = t
  .object({
    stackRef: t
      .object({
        name: t
          .string({ minLength: 1, maxLength: 253, pattern: NAME_PATTERN })
          .describe('Name of the LokiStack.')
          .required(),
        namespace: t
          .string({ maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' })
          .describe('Namespace of the LokiStack; default: the LokiTenant\'s namespace.'),
      })
      .describe('The LokiStack this tenant belongs to.')
      .required(),
    tenantId: t
      .string({ minLength: 1, maxLength: MAX_TENANT_ID_LENGTH, pattern: TENANT_ID_PATTERN, notIn: ['.', '..'] })
      .describe(
        'The Loki tenant ID (X-Scope-OrgID): up to 150 characters from letters, digits and ! - _ . * \' ( ), ' +
          'not "." or "..". Unique per stack: when two LokiTenants claim it, the older one wins.',
      )
      .required(),
    limits: tenantLimitsSpec,
    retention: tenantRetentionSpec,
  })
  .describe('The desired limits and retention of one tenant.');

export const effectiveTenantSpec = t
  .object({
    limits: tenantLimitsSpec.describe('The stack\'s global limits merged with this tenant\'s overrides.'),
    retention: tenantRetentionSpec.describe('The retention applied to this tenant.'),
  })
  .describe('What the stack enforces for this tenant after merging.');

export const lokiTenantStatus = t
  .object({
    observedGeneration: t.integer({ format: 'int64' }).describe('The .metadata.generation the status describes.'),
    conditions,
    effective: effectiveTenantSpec,
  })
  .describe('The observed state of a LokiTenant.');

export type TenantConditionType = (typeof TENANT_CONDITION_TYPES)[number];
export type TenantRejectedReason = (typeof TENANT_REJECTED_REASONS)[number];
export type TenantLimitsSpec = Infer<typeof tenantLimitsSpec>;
export type LokiTenantSpec = Infer<typeof lokiTenantSpec>;
export type EffectiveTenantSpec = Infer<typeof effectiveTenantSpec>;
export type LokiTenantStatus = Infer<typeof lokiTenantStatus>;

export interface LokiTenant {
  apiVersion: typeof API_VERSION;
  kind: 'LokiTenant';
  metadata: V1ObjectMeta;
  spec: LokiTenantSpec;
  status?: LokiTenantStatus;
}

export const lokiTenantDefinition: ResourceDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'LokiTenant',
  listKind: 'LokiTenantList',
  plural: 'lokitenants',
  singular: 'lokitenant',
  categories: ['strata'],
  description: 'LokiTenant is one tenant of a LokiStack: its tenant ID, limits and retention.',
  spec: lokiTenantSpec,
  status: lokiTenantStatus,
  printerColumns: [
    { name: 'Stack', type: 'string', jsonPath: '.spec.stackRef.name', description: 'The LokiStack.' },
    { name: 'Tenant', type: 'string', jsonPath: '.spec.tenantId', description: 'The Loki tenant ID.' },
    {
      name: 'Ready',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: 'Whether the tenant\'s settings are applied.',
    },
    {
      name: 'Reason',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Rejected")].reason',
      description: 'Why the tenant was rejected.',
    },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
