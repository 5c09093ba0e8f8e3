// Sample LokiStacks, LokiTenants and storage Secrets for the operator's pure-code tests.
import { API_VERSION, type LokiStack, type LokiStackSpec, type LokiTenant, type LokiTenantSpec } from '../../operator/src/api/v1/index.js';
import type { SecretLike } from '../../operator/src/manifests/kube-types.js';
import { secretFacts, type SecretFacts } from '../../operator/src/validation/secret.js';

/** A fixed clock: 2025-06-15 12:00 UTC. */
export const NOW = new Date('2025-06-15T12:00:00Z');

export const STACK_NS = 'observability';

export function sampleStack(spec: Partial<LokiStackSpec> = {}, name = 'logs'): LokiStack {
  return {
    apiVersion: API_VERSION,
    kind: 'LokiStack',
    metadata: { name, namespace: STACK_NS, uid: '6f1c1b8e-0000-4000-8000-000000000001', generation: 3 },
    spec: {
      size: '1x.small',
      storage: {
        secret: { name: 'loki-s3', type: 's3' },
        schemas: [
          { version: 'v12', effectiveDate: '2023-01-01' },
          { version: 'v13', effectiveDate: '2024-06-01' },
        ],
      },
      ...spec,
    },
  };
}

export function sampleTenant(
  name: string,
  tenantId: string,
  spec: Partial<LokiTenantSpec> = {},
  meta: { namespace?: string; created?: string; generation?: number } = {},
): LokiTenant {
  return {
    apiVersion: API_VERSION,
    kind: 'LokiTenant',
    metadata: {
      name,
      namespace: meta.namespace ?? STACK_NS,
      generation: meta.generation ?? 1,
      creationTimestamp: (meta.created ?? '2025-01-01T00:00:00Z') as unknown as Date,
    },
    // A tenant outside the stack's namespace names the stack's namespace explicitly.
    spec: { stackRef: meta.namespace && meta.namespace !== STACK_NS ? { name: 'logs', namespace: STACK_NS } : { name: 'logs' }, tenantId, ...spec },
  };
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export function s3Secret(values: Record<string, string> = {}, drop: string[] = []): SecretLike {
  const all: Record<string, string> = {
    bucketnames: 'chunks',
    endpoint: 'https://s3.eu-west-1.amazonaws.com',
    region: 'eu-west-1',
    access_key_id: 'AKIAEXAMPLE',
    access_key_secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    forcepathstyle: 'false',
    ...values,
  };
  for (const k of drop) delete all[k];
  return { metadata: { name: 'loki-s3' }, data: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, b64(v)])) };
}

export function s3Facts(values: Record<string, string> = {}): SecretFacts {
  const check = secretFacts(s3Secret(values), { secret: { name: 'loki-s3', type: 's3' } });
  if (!check.ok) throw new Error(check.message);
  return check.facts;
}
