import type { Limits } from '../limits/limits.js';
import type { ReadFilter, TenantReadFilter } from '../querier/querier.js';
import type { Clock } from '../util/clock.js';
import { ActiveDelete, deletePredicate, type DeleteRequest, type DeleteRequestStore } from './delete-requests.js';
import { retentionOf } from './retention.js';

export interface RetentionReadFilterOptions {
  /** `compactor.retention_enabled`: without it neither retention nor delete requests apply (as in Loki). */
  retentionEnabled: boolean;
  limits: (tenant: string) => Readonly<Limits>;
  deletes: DeleteRequestStore;
  clock: Clock;
}

/**
 * What queries must hide before the compactor gets to it: entries older than their stream's retention, and entries
 * deleted by any delete request of the tenant (received or processed; a processed request still hides lines an
 * ingester flushed after processing). Tenants with neither cost one cached lookup per query.
 */
export class RetentionReadFilter implements ReadFilter {
  // Delete request lists are cached objects: compile each request once.
  private readonly compiled = new WeakMap<DeleteRequest, ActiveDelete>();

  constructor(private readonly opts: RetentionReadFilterOptions) {}

  async forTenant(tenant: string): Promise<TenantReadFilter | undefined> {
    const o = this.opts;
    if (!o.retentionEnabled) return undefined;
    const limits = o.limits(tenant);
    const retention = retentionOf(limits);
    let deletes: ActiveDelete[] = [];
    if (limits.deletion_mode !== 'disabled') deletes = (await o.deletes.list(tenant)).map((r) => this.compile(r));
    if (retention.keepsForever && deletes.length === 0) return undefined;
    const nowMs = o.clock.now();
    return {
      minTime: (labels) => (retention.keepsForever ? undefined : retention.cutoffFor(labels, nowMs)),
      deleted: (labels) => {
        if (deletes.length === 0) return undefined;
        return deletePredicate(
          deletes.filter((d) => d.appliesTo(labels)),
          labels,
        );
      },
    };
  }

  private compile(r: DeleteRequest): ActiveDelete {
    let d = this.compiled.get(r);
    if (d === undefined) this.compiled.set(r, (d = new ActiveDelete(r)));
    return d;
  }
}
