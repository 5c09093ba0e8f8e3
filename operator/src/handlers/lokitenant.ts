// LokiTenants are reconciled as part of their LokiStack: the stack's runtime overrides hold every accepted tenant,
// and which tenant owns a tenant ID depends on the others. So a LokiTenant event queues its stack's key, and the
// stack's reconcile writes every tenant's status. This file maps tenant events to stack keys and sets the
// StackNotFound status when the stack a tenant names does not exist.
import { FIELD_MANAGER } from '../names.js';
import type { LokiTenant } from '../api/v1/index.js';
import { type KubeClient, type KubeLogger, silentLogger, describeError } from '../kube/index.js';
import { tenantStatus } from '../status/tenant.js';
import { stackNotFoundVerdict, tenantKey, tenantStackRef } from '../validation/tenants.js';
import { LOKITENANT, writeStatus } from './resources.js';

/** The queue key (`namespace/name`) of the LokiStack a LokiTenant refers to. */
export function stackKeyOfTenant(tenant: LokiTenant): string {
  const ref = tenantStackRef(tenant);
  return `${ref.namespace}/${ref.name}`;
}

/**
 * Remembers the stack each LokiTenant referred to when last seen, so an edit that moves a tenant to another stack
 * queues both: the old stack must drop it from its runtime overrides, the new one must add it.
 */
export class TenantStackIndex {
  private readonly last = new Map<string, string>();

  /** The stack keys to reconcile for this (added, updated or deleted) LokiTenant. */
  keysFor(tenant: LokiTenant): string[] {
    const key = tenantKey(tenant);
    const stack = stackKeyOfTenant(tenant);
    const before = this.last.get(key);
    this.last.set(key, stack);
    return before !== undefined && before !== stack ? [stack, before] : [stack];
  }

  /** The tenant is gone: nothing to remember (its delete event was already mapped). */
  forget(tenant: LokiTenant): void {
    this.last.delete(tenantKey(tenant));
  }
}

/** Every LokiTenant (all namespaces) that refers to the stack `namespace/name`. */
export async function tenantsOfStack(client: KubeClient, namespace: string, name: string, signal?: AbortSignal): Promise<LokiTenant[]> {
  const list = await client.list<LokiTenant>(LOKITENANT, { signal });
  return list.items.filter((t) => {
    const ref = tenantStackRef(t);
    return ref.namespace === namespace && ref.name === name;
  });
}

export interface StackNotFoundOptions {
  client: KubeClient;
  now: Date;
  log?: KubeLogger;
  signal?: AbortSignal;
}

/**
 * The LokiStack `namespace/name` does not exist (or is being deleted): every LokiTenant naming it is Rejected with
 * StackNotFound. Returns how many statuses were written.
 */
export async function markStackNotFound(namespace: string, name: string, options: StackNotFoundOptions): Promise<number> {
  const log = options.log ?? silentLogger;
  let written = 0;
  for (const tenant of await tenantsOfStack(options.client, namespace, name, options.signal)) {
    if (tenant.metadata.deletionTimestamp) continue;
    try {
      if (await writeStatus(options.client, tenant, tenantStatus(stackNotFoundVerdict(tenant), options.now), FIELD_MANAGER, options.signal)) {
        written++;
      }
    } catch (err) {
      // A tenant deleted meanwhile has no status to write.
      if ((err as { code?: unknown }).code === 'NotFound') continue;
      log.warn('could not write LokiTenant status', { tenant: tenantKey(tenant), err: describeError(err) });
      throw err;
    }
  }
  return written;
}
