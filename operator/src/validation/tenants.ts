// Which LokiTenants of a stack are applied. A tenant is Rejected when its namespace may not attach to the stack, a
// retention selector does not parse, it exceeds the stack's tenantPolicy, or an older LokiTenant already claims its
// tenant ID. Accepted tenants (and only they) reach the runtime overrides.
import type { EffectiveTenantSpec, LokiStack, LokiTenant, TenantRejectedReason } from '../api/v1/index.js';
import { effectiveTenantSpec } from '../manifests/limits.js';
import { selectorError } from './selector.js';

export interface TenantVerdict {
  tenant: LokiTenant;
  /** `namespace/name` of the LokiTenant. */
  key: string;
  accepted: boolean;
  /** Why it was rejected (absent when accepted). */
  reason?: TenantRejectedReason;
  /** For the Ready / Rejected condition. */
  message: string;
  /** What the stack enforces for this tenant; only for accepted tenants. */
  effective?: EffectiveTenantSpec;
}

export const tenantKey = (t: LokiTenant): string => `${t.metadata.namespace ?? ''}/${t.metadata.name ?? ''}`;

/** The LokiStack a LokiTenant refers to; the namespace defaults to the tenant's own. */
export function tenantStackRef(t: LokiTenant): { namespace: string; name: string } {
  return { namespace: t.spec.stackRef.namespace ?? t.metadata.namespace ?? '', name: t.spec.stackRef.name };
}

function refersTo(t: LokiTenant, stack: LokiStack): boolean {
  const ref = tenantStackRef(t);
  return ref.name === stack.metadata.name && ref.namespace === (stack.metadata.namespace ?? '');
}

/** creationTimestamp as milliseconds (client-node gives Date objects, raw JSON gives RFC 3339 strings). */
function createdAt(t: LokiTenant): number {
  const ts = t.metadata.creationTimestamp as unknown;
  const ms = ts instanceof Date ? ts.getTime() : typeof ts === 'string' ? Date.parse(ts) : NaN;
  return Number.isNaN(ms) ? Infinity : ms;
}

/** Older first; same second (the timestamp's resolution): by namespace/name, so the choice is stable. */
function olderFirst(a: LokiTenant, b: LokiTenant): number {
  return createdAt(a) - createdAt(b) || (tenantKey(a) < tenantKey(b) ? -1 : tenantKey(a) > tenantKey(b) ? 1 : 0);
}

/** The verdict for a LokiTenant whose stackRef names no existing LokiStack (decided by the caller). */
export function stackNotFoundVerdict(tenant: LokiTenant): TenantVerdict {
  const ref = tenantStackRef(tenant);
  return {
    tenant,
    key: tenantKey(tenant),
    accepted: false,
    reason: 'StackNotFound',
    message: `LokiStack ${ref.namespace}/${ref.name} does not exist`,
  };
}

/**
 * Verdicts for the LokiTenants referring to `stack` (others in `tenants` are ignored), sorted by namespace/name.
 * Checks, first failure wins: namespace allowed; duplicate tenant ID (among allowed tenants the older LokiTenant
 * keeps it, whatever its own state, so ownership never flips); retention selectors; tenantPolicy ceilings.
 */
export function validateTenants(stack: LokiStack, tenants: readonly LokiTenant[]): TenantVerdict[] {
  const mine = tenants.filter((t) => refersTo(t, stack));
  const policy = stack.spec.tenantPolicy;
  const stackNs = stack.metadata.namespace ?? '';
  const allowed = (t: LokiTenant): boolean => {
    const ns = t.metadata.namespace ?? '';
    return ns === stackNs || (policy?.allowedNamespaces ?? []).includes(ns);
  };
  // Only tenants from allowed namespaces compete for an ID: a foreign namespace cannot squat on one.
  const owner = new Map<string, LokiTenant>();
  for (const t of [...mine].filter(allowed).sort(olderFirst)) if (!owner.has(t.spec.tenantId)) owner.set(t.spec.tenantId, t);

  const verdicts = mine.map((tenant): TenantVerdict => {
    const key = tenantKey(tenant);
    const reject = (reason: TenantRejectedReason, message: string): TenantVerdict => ({ tenant, key, accepted: false, reason, message });

    if (!allowed(tenant)) {
      return reject(
        'NamespaceNotAllowed',
        `namespace ${JSON.stringify(tenant.metadata.namespace ?? '')} may not attach tenants to LokiStack ${stackNs}/${stack.metadata.name}; ` +
          `allowed: ${[stackNs, ...(policy?.allowedNamespaces ?? [])].map((n) => JSON.stringify(n)).join(', ')} (spec.tenantPolicy.allowedNamespaces)`,
      );
    }

    const winner = owner.get(tenant.spec.tenantId)!;
    if (winner !== tenant) {
      return reject(
        'DuplicateTenantID',
        `tenant ID ${JSON.stringify(tenant.spec.tenantId)} is already claimed by LokiTenant ${tenantKey(winner)} (the older one wins)`,
      );
    }

    const streams = tenant.spec.retention?.streams ?? [];
    for (const [i, s] of streams.entries()) {
      const why = selectorError(s.selector);
      if (why !== undefined) {
        return reject('InvalidSelector', `spec.retention.streams[${i}].selector: invalid stream selector ${JSON.stringify(s.selector)}: ${why}`);
      }
    }

    const over: string[] = [];
    const maxDays = policy?.maxRetentionDays;
    if (maxDays !== undefined) {
      const days = tenant.spec.retention?.days;
      if (days !== undefined && days > maxDays) over.push(`spec.retention.days ${days} exceeds the stack's maxRetentionDays ${maxDays}`);
      streams.forEach((s, i) => {
        if (s.days > maxDays) over.push(`spec.retention.streams[${i}].days ${s.days} exceeds the stack's maxRetentionDays ${maxDays}`);
      });
    }
    const maxRate = policy?.maxIngestionRateMB;
    const rate = tenant.spec.limits?.ingestion?.ingestionRate;
    if (maxRate !== undefined && rate !== undefined && rate > maxRate) {
      over.push(`spec.limits.ingestion.ingestionRate ${rate} exceeds the stack's maxIngestionRateMB ${maxRate}`);
    }
    if (over.length > 0) return reject('ExceedsStackPolicy', `${over.join('; ')} (LokiStack ${stackNs}/${stack.metadata.name} spec.tenantPolicy)`);

    return {
      tenant,
      key,
      accepted: true,
      message: `tenant ${JSON.stringify(tenant.spec.tenantId)} is applied to LokiStack ${stackNs}/${stack.metadata.name}`,
      effective: effectiveTenantSpec(stack, tenant),
    };
  });
  return verdicts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
