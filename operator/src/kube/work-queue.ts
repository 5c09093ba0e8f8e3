// The controller's work queue: keys (`namespace/name`), never objects, so a burst of events for one object collapses
// into one reconcile of its latest state. Semantics follow client-go's workqueue:
// - a key waiting in the queue is not queued twice;
// - a key is reconciled by at most one worker at a time; re-added while in flight, it runs again once that ends;
// - a failed reconcile retries after an exponential per-key backoff (base · 2^(failures-1), capped at max), and a
//   success forgets the failures;
// - every `resyncMs` all known keys are queued again (drift repair: someone edits an object we do not watch);
// - shutdown stops starting work, aborts the reconciles' signal and waits for those in flight to finish.
import { realClock, type Clock, type TimerHandle } from './clock.js';

export interface ReconcileContext {
  /** Aborted when the queue shuts down (leadership lost, process stopping): stop early if convenient. */
  signal: AbortSignal;
  /** Consecutive failures of this key before this attempt (0 on a first try or after a success). */
  failures: number;
}

export interface ReconcileResult {
  /** Reconcile this key again after this delay even without any event (e.g. waiting for pods to become ready). */
  requeueAfterMs?: number;
}

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult | void> | ReconcileResult | void;

export interface BackoffOptions {
  /** First retry delay. Default 500 ms. */
  baseMs?: number;
  /** Longest retry delay. Default 5 min. */
  maxMs?: number;
}

export interface WorkQueueOptions {
  reconcile: Reconciler;
  /** Keys reconciled concurrently (different keys only). Default 1. */
  workers?: number;
  backoff?: BackoffOptions;
  /** Re-queue every known key this often; 0 or omitted = never. */
  resyncMs?: number;
  /** The keys a resync queues. Default: every key ever added and not `remove`d. */
  resyncKeys?: () => Iterable<string>;
  clock?: Clock;
  /** A reconcile failed; it will run again in `retryInMs` (undefined while shutting down). */
  onError?: (key: string, err: unknown, retryInMs: number | undefined) => void;
}

export interface WorkQueueStats {
  /** Keys waiting for a worker. */
  queued: number;
  /** Keys waiting for a timer (backoff, requeueAfter). */
  delayed: number;
  inFlight: number;
  /** Keys with at least one unforgiven failure. */
  failing: number;
  reconciles: number;
  errors: number;
}

/** Exponential backoff delay after `failures` consecutive failures (failures ≥ 1). */
export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  // 2^n overflows to Infinity for large n, which Math.min caps.
  return Math.min(maxMs, baseMs * 2 ** (failures - 1));
}

export class WorkQueue {
  private readonly reconcile: Reconciler;
  private readonly workers: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly resyncMs: number;
  private readonly resyncKeys: () => Iterable<string>;
  private readonly clock: Clock;
  private readonly onError?: WorkQueueOptions['onError'];

  private readonly queue: string[] = [];
  /** Keys that need a reconcile and have not started one: the queued ones plus in-flight ones re-added. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; handle: TimerHandle }>();
  private readonly failureCounts = new Map<string, number>();
  private readonly known = new Set<string>();
  private readonly abort = new AbortController();
  private resyncTimer: TimerHandle | undefined;
  private started = false;
  private shuttingDown = false;
  private reconciles = 0;
  private errors = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions) {
    this.reconcile = options.reconcile;
    this.workers = Math.max(1, options.workers ?? 1);
    this.baseMs = options.backoff?.baseMs ?? 500;
    this.maxMs = options.backoff?.maxMs ?? 300_000;
    this.resyncMs = options.resyncMs ?? 0;
    this.resyncKeys = options.resyncKeys ?? (() => this.known);
    this.clock = options.clock ?? realClock;
    this.onError = options.onError;
  }

  /** Starts the workers (keys added before are kept) and the resync timer. */
  start(): void {
    if (this.started || this.shuttingDown) return;
    this.started = true;
    this.scheduleResync();
    this.dispatch();
  }

  /** Queues `key` now. No-op once shutting down. */
  add(key: string): void {
    if (this.shuttingDown) return;
    this.known.add(key);
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    // In flight: it runs again when the current reconcile ends (see finish), never concurrently.
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.dispatch();
  }

  /** Queues `key` after `ms`; an earlier pending delay for the key wins over a later one. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    this.known.add(key);
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing) {
      if (existing.at <= at) return;
      this.clock.clearTimeout(existing.handle);
    }
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Counts a failure of `key` and queues it after its backoff delay; returns that delay. */
  addRateLimited(key: string): number {
    const failures = (this.failureCounts.get(key) ?? 0) + 1;
    this.failureCounts.set(key, failures);
    const delay = backoffDelay(failures, this.baseMs, this.maxMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the failure count of `key` (its next failure starts again at the base delay). */
  forget(key: string): void {
    this.failureCounts.delete(key);
  }

  /** Consecutive failures of `key` so far. */
  failures(key: string): number {
    return this.failureCounts.get(key) ?? 0;
  }

  /** Stops tracking `key`: no resync, no pending retry; a queued or in-flight run still completes. */
  remove(key: string): void {
    this.known.delete(key);
    this.failureCounts.delete(key);
    const d = this.delayed.get(key);
    if (d) {
      this.clock.clearTimeout(d.handle);
      this.delayed.delete(key);
    }
  }

  /** Queues every key of the resync set now. */
  resync(): void {
    // Copy first: the default set grows while we add.
    for (const key of [...this.resyncKeys()]) this.add(key);
  }

  stats(): WorkQueueStats {
    return {
      queued: this.queue.length,
      delayed: this.delayed.size,
      inFlight: this.processing.size,
      failing: this.failureCounts.size,
      reconciles: this.reconciles,
      errors: this.errors,
    };
  }

  /** Resolves when nothing is queued or in flight (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops taking and starting work, drops queued and delayed keys, aborts the reconcile signal and resolves once
   * every in-flight reconcile has finished.
   */
  async shutdown(): Promise<void> {
    if (!this.shuttingDown) {
      this.shuttingDown = true;
      if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
      this.resyncTimer = undefined;
      for (const d of this.delayed.values()) this.clock.clearTimeout(d.handle);
      this.delayed.clear();
      this.queue.length = 0;
      this.dirty.clear();
      this.abort.abort();
    }
    await this.idle();
  }

  private isIdle(): boolean {
    return this.processing.size === 0 && (this.queue.length === 0 || !this.started || this.shuttingDown);
  }

  private dispatch(): void {
    if (!this.started || this.shuttingDown) return;
    while (this.processing.size < this.workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.dirty.delete(key);
      this.processing.add(key);
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    const failures = this.failures(key);
    this.reconciles++;
    try {
      // A synchronous throw becomes a rejection like any other failure.
      const result = await Promise.resolve().then(() => this.reconcile(key, { signal: this.abort.signal, failures }));
      this.forget(key);
      if (result && typeof result.requeueAfterMs === 'number') this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      this.errors++;
      const retryIn = this.shuttingDown ? undefined : this.addRateLimited(key);
      try {
        this.onError?.(key, err, retryIn);
      } catch {
        // A broken error hook must not wedge the queue.
      }
    } finally {
      this.processing.delete(key);
      if (this.dirty.has(key) && !this.shuttingDown) this.queue.push(key);
      this.dispatch();
      if (this.isIdle()) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private scheduleResync(): void {
    if (this.resyncMs <= 0 || this.shuttingDown) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      this.resync();
      this.scheduleResync();
    }, this.resyncMs);
  }
}

/** The queue key of an object: `namespace/name`, or `name` for a cluster-scoped object. */
export function objectKey(obj: { metadata?: { name?: string; namespace?: string } }): string {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** Inverse of objectKey. */
export function parseObjectKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
