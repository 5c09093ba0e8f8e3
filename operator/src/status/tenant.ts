// LokiTenant status from its verdict: Ready and Rejected conditions (one True, one False), the effective limits and
// retention the stack enforces, and observedGeneration.
import type { LokiTenantStatus } from '../api/v1/index.js';
import type { TenantVerdict } from '../validation/tenants.js';
import { mergeConditions } from './conditions.js';

export function tenantStatus(verdict: TenantVerdict, now: Date): LokiTenantStatus {
  const { tenant } = verdict;
  const generation = tenant.metadata.generation;
  const conditions = verdict.accepted
    ? mergeConditions(
        tenant.status?.conditions,
        [
          { type: 'Ready', status: 'True', reason: 'Applied', message: verdict.message },
          { type: 'Rejected', status: 'False', reason: 'Accepted', message: 'The tenant is within the stack\'s policy and its tenant ID is its own' },
        ],
        generation,
        now,
      )
    : mergeConditions(
        tenant.status?.conditions,
        [
          { type: 'Ready', status: 'False', reason: verdict.reason!, message: verdict.message },
          { type: 'Rejected', status: 'True', reason: verdict.reason!, message: verdict.message },
        ],
        generation,
        now,
      );
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions,
    ...(verdict.effective ? { effective: verdict.effective } : {}),
  };
}
