import { EngineError } from '../errors.js';
import type { AppendListener, AppendedStream } from '../ingester/ingester.js';
import type { Limits } from '../limits/limits.js';
import type { PushEntry } from '../model.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { TailRequest } from './tail-request.js';
import {
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  DEFAULT_TAIL_BOUNDS,
  Tailer,
  type TailBounds,
  type TailFlags,
  type TailMetrics,
  type TailQuerier,
  type TailSink,
} from './tailer.js';

/** Where live entries come from: the ingester, which calls the listener after each append. */
export interface TailSource {
  setAppendListener(listener: AppendListener | undefined): void;
}

export interface TailManagerOptions {
  source: TailSource;
  querier: TailQuerier;
  limits: (tenant: string) => Pick<Limits, 'max_concurrent_tail_requests'>;
  clock: Clock;
  logger: Logger;
  /** Per-connection bounds; Loki's values by default. `maxDurationMs` is `querier.tail_max_duration`. */
  bounds?: Partial<TailBounds>;
  /** Loki's loki_querier_tail_* metrics; see {@link TailManager.useMetrics}. */
  metrics?: TailMetrics;
}

/**
 * The tails of every tenant. It listens to the ingester only while at least one tail is open, so pushes cost
 * nothing extra otherwise, and enforces `max_concurrent_tail_requests` per tenant.
 */
export class TailManager implements AppendListener {
  private readonly byTenant = new Map<string, Set<Tailer>>();
  private total = 0;
  private readonly bounds: TailBounds;
  private metrics: TailMetrics | undefined;

  constructor(private readonly opts: TailManagerOptions) {
    this.bounds = { ...DEFAULT_TAIL_BOUNDS, ...opts.bounds };
    this.metrics = opts.metrics;
  }

  /**
   * Reports tails opened from now on in these metrics. The HTTP layer that serves tails attaches the process's
   * metrics when it starts (each tail keeps the metrics it was opened with, so a gauge never goes below zero).
   */
  useMetrics(metrics: TailMetrics): void {
    this.metrics = metrics;
  }

  /**
   * Opens a tail for a tenant. Throws Loki's error when the tenant already has `max_concurrent_tail_requests` tails
   * (Loki answers it after the upgrade, as a close frame).
   */
  open(tenant: string, request: TailRequest, sink: TailSink, flags: TailFlags): Tailer {
    const limit = this.opts.limits(tenant).max_concurrent_tail_requests;
    const active = this.byTenant.get(tenant)?.size ?? 0;
    if (active >= limit) {
      throw new EngineError('bad_request', `max concurrent tail requests limit exceeded, count > limit (${active + 1} > ${limit})`);
    }
    const tailer = new Tailer({
      tenant,
      request,
      flags,
      sink,
      querier: this.opts.querier,
      bounds: this.bounds,
      clock: this.opts.clock,
      logger: this.opts.logger,
      onClose: (t) => this.remove(t),
      ...(this.metrics !== undefined ? { metrics: this.metrics } : {}),
    });
    let set = this.byTenant.get(tenant);
    if (set === undefined) {
      set = new Set();
      this.byTenant.set(tenant, set);
    }
    set.add(tailer);
    if (this.total++ === 0) this.opts.source.setAppendListener(this);
    tailer.start();
    return tailer;
  }

  /** The ingester's notification: hands the entries to the tenant's tails. */
  appended(tenant: string, stream: AppendedStream, entries: readonly PushEntry[]): void {
    const set = this.byTenant.get(tenant);
    if (set === undefined) return;
    for (const t of set) {
      try {
        t.appended(stream, entries);
      } catch (err) {
        // A failing tail must never fail the push that fed it.
        this.opts.logger.error('tail: processing entries failed, closing the tail', { tenant, err });
        t.close(CLOSE_INTERNAL_ERROR, err instanceof Error ? err.message : String(err));
      }
    }
  }

  /** The tenants with at least one open tail. */
  activeTenants(): string[] {
    return [...this.byTenant.keys()];
  }

  /** Open tails of a tenant. */
  activeTails(tenant: string): number {
    return this.byTenant.get(tenant)?.size ?? 0;
  }

  /** Closes every tail (shutdown): clients get 1001 "going away". */
  stop(): void {
    for (const set of [...this.byTenant.values()]) for (const t of [...set]) t.close(CLOSE_GOING_AWAY, 'server shutting down');
  }

  private remove(t: Tailer): void {
    const set = this.byTenant.get(t.tenant);
    if (set === undefined || !set.delete(t)) return;
    if (set.size === 0) this.byTenant.delete(t.tenant);
    if (--this.total === 0) this.opts.source.setAppendListener(undefined);
  }
}
