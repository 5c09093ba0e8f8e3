// The runtime overrides file (Loki's -runtime-config.file): per-tenant limits and retention from the accepted
// LokiTenants. The engine re-reads it while running, so it lives in its own ConfigMap whose content is NOT hashed
// into any pod template: a tenant change never restarts a pod.
import type { LokiTenant } from '../api/v1/index.js';
import { toYaml } from './config.js';
import { tenantOverrides, toLokiLimits } from './limits.js';

/** `overrides: {<tenantId>: {<Loki limit>: value}}`, tenants sorted by ID. Only the tenants' own settings appear. */
export function buildRuntimeConfig(accepted: readonly LokiTenant[]): { overrides: Record<string, Record<string, unknown>> } {
  const overrides: Record<string, Record<string, unknown>> = {};
  const sorted = [...accepted].sort((a, b) => (a.spec.tenantId < b.spec.tenantId ? -1 : a.spec.tenantId > b.spec.tenantId ? 1 : 0));
  for (const tenant of sorted) {
    // defineProperty: a tenant ID such as "__proto__" is valid in Loki and must stay an own key.
    Object.defineProperty(overrides, tenant.spec.tenantId, {
      value: toLokiLimits(tenantOverrides(tenant)),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { overrides };
}

/** runtime.yaml for the accepted tenants (deterministic). */
export function renderRuntimeConfig(accepted: readonly LokiTenant[]): string {
  return toYaml(buildRuntimeConfig(accepted));
}
