import { EngineError } from '../errors.js';
import { cancelledError } from '../frontend/retry.js';

/** Loki's answer (HTTP 429) when a tenant's queue already holds max_outstanding_requests_per_tenant requests. */
export const TOO_MANY_OUTSTANDING = 'too many outstanding requests';

/** Callbacks for metrics (names are Loki's, for dashboards): the scheduler itself has no metrics dependency. */
export interface SchedulerHooks {
  /** `loki_query_scheduler_queue_length{user}`: requests waiting in a tenant's queue. */
  queueLength?(tenant: string, length: number): void;
  /** `loki_query_scheduler_discarded_requests_total{user}`: refused with 429 (queue full). */
  discarded?(tenant: string): void;
  /** `loki_query_scheduler_queue_duration_seconds`: how long a request waited before a querier took it. */
  dequeued?(tenant: string, waitedMs: number): void;
  /** `loki_query_scheduler_inflight_requests`: requests handed to queriers and not answered yet. */
  inflight?(count: number): void;
  /** `loki_query_scheduler_connected_querier_clients`. */
  connectedQueriers?(count: number): void;
}

export interface QuerySchedulerOptions {
  /** `query_scheduler.max_outstanding_requests_per_tenant` (Loki's default 32000), or per tenant. */
  maxOutstandingPerTenant: number | ((tenant: string) => number);
  /**
   * Loki's `max_queriers_per_tenant` limit (shuffle sharding): a tenant's requests go only to this many of the
   * connected queriers, always the same ones while the set of queriers is unchanged; 0 = all queriers.
   */
  maxQueriersPerTenant?: (tenant: string) => number;
  /**
   * A request in flight on a querier that disconnects goes back to the front of its tenant's queue, at most this
   * many times (default 2); after that it fails with 503 (which the frontend retries like any 5xx).
   */
  maxRequeues?: number;
  hooks?: SchedulerHooks;
  /** Milliseconds, monotonic; for queue durations. */
  now?: () => number;
}

/** A request as a querier receives it from `next`. */
export interface ScheduledRequest<Req> {
  id: number;
  tenant: string;
  request: Req;
  /** Aborts when the frontend gives up on the request (or it is taken back): stop working on it. */
  signal: AbortSignal;
  enqueuedAt: number;
}

interface Item<Req, Res> {
  /** Identifies the request's current assignment to a querier. */
  id: number;
  tenant: string;
  request: Req;
  enqueuedAt: number;
  resolve(res: Res): void;
  reject(e: unknown): void;
  /** Cancels the querier's work on this request; replaced when the request is requeued. */
  work: AbortController;
  querier: string | undefined;
  requeues: number;
  detach(): void;
}

interface Waiter<Req> {
  querier: string;
  resolve(r: ScheduledRequest<Req>): void;
  reject(e: unknown): void;
  detach(): void;
}

/** FIFO with O(1) amortised push, shift and unshift. */
class Queue<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(x: T): void {
    this.items.push(x);
  }

  unshift(x: T): void {
    if (this.head > 0) this.items[--this.head] = x;
    else this.items.unshift(x);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  remove(x: T): boolean {
    const i = this.items.indexOf(x, this.head);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
}

/** Rendezvous hashing: a stable score of a querier for a tenant (FNV-1a, 32 bits). */
function score(tenant: string, querier: string): number {
  let h = 0x811c9dc5;
  const s = tenant + '\u0000' + querier;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Loki's query-scheduler queue, without the transport: a FIFO queue per tenant, and queriers pulling requests with
 * `next(querierId)`. Fairness: tenants with queued requests take turns — each dispatch serves the next tenant in
 * the rotation after the one served last — so a tenant with thousands of queued requests gets one dispatch in k
 * when k tenants are waiting, and no more (docs/query-frontend.md states the latency bound this gives). A tenant
 * whose queue is full is refused with 429 `too many outstanding requests`. The frontend cancels a request through
 * the signal given to `enqueue`: a queued request leaves the queue, a running one has its `signal` aborted. A
 * querier that disconnects has its running requests put back at the front of their queues (or failed with 503
 * after `maxRequeues`).
 */
export class QueryScheduler<Req, Res> {
  private readonly queues = new Map<string, Queue<Item<Req, Res>>>();
  /** Tenants with queued requests, in rotation order. */
  private readonly rotation: string[] = [];
  /** The rotation index of the next tenant to serve. */
  private cursor = 0;
  private readonly inflight = new Map<number, Item<Req, Res>>();
  private readonly waiters: Waiter<Req>[] = [];
  /** Queriers seen since they last disconnected (shuffle sharding picks among them). */
  private readonly queriers = new Set<string>();
  private queriersVersion = 0;
  private readonly shardCache = new Map<string, { version: number; size: number; set: ReadonlySet<string> }>();
  private nextId = 1;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly opts: QuerySchedulerOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Requests waiting in a tenant's queue (all tenants' when absent). */
  queueLength(tenant?: string): number {
    if (tenant !== undefined) return this.queues.get(tenant)?.length ?? 0;
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  get connectedQueriers(): number {
    return this.queriers.size;
  }

  /**
   * Queues a request for `tenant`; resolves with the querier's answer. Rejects with 429 when the tenant's queue
   * is full, and with the abort reason (or 499) when `signal` aborts first.
   */
  enqueue(tenant: string, request: Req, signal?: AbortSignal): Promise<Res> {
    if (this.stopped) return Promise.reject(new EngineError('unavailable', 'scheduler is not running'));
    if (signal?.aborted) return Promise.reject(cancelledError(signal));
    const max = typeof this.opts.maxOutstandingPerTenant === 'number' ? this.opts.maxOutstandingPerTenant : this.opts.maxOutstandingPerTenant(tenant);
    const queue = this.queues.get(tenant);
    if (max > 0 && (queue?.length ?? 0) >= max) {
      this.opts.hooks?.discarded?.(tenant);
      return Promise.reject(new EngineError('too_many_requests', TOO_MANY_OUTSTANDING));
    }
    return new Promise<Res>((resolve, reject) => {
      const item: Item<Req, Res> = {
        id: this.nextId++,
        tenant,
        request,
        enqueuedAt: this.now(),
        resolve,
        reject,
        work: new AbortController(),
        querier: undefined,
        requeues: 0,
        detach: () => undefined,
      };
      if (signal !== undefined) {
        const onAbort = (): void => this.cancel(item, cancelledError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        item.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.push(item, false);
      this.dispatch();
    });
  }

  /**
   * The next request for querier `querierId` (one call per free worker of the querier), waiting until there is
   * one. Rejects when `signal` aborts, when the querier is disconnected, or when the scheduler stops.
   */
  next(querierId: string, signal?: AbortSignal): Promise<ScheduledRequest<Req>> {
    if (this.stopped) return Promise.reject(new EngineError('unavailable', 'scheduler is not running'));
    if (signal?.aborted) return Promise.reject(cancelledError(signal));
    this.connect(querierId);
    const item = this.take(querierId);
    if (item !== undefined) return Promise.resolve(this.assign(item, querierId));
    return new Promise<ScheduledRequest<Req>>((resolve, reject) => {
      const waiter: Waiter<Req> = { querier: querierId, resolve, reject, detach: () => undefined };
      if (signal !== undefined) {
        const onAbort = (): void => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(cancelledError(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.waiters.push(waiter);
    });
  }

  /** The querier's answer to request `id`; false when the request is no longer waited for (cancelled, requeued). */
  complete(id: number, response: Res): boolean {
    const item = this.finish(id);
    if (item === undefined) return false;
    item.resolve(response);
    return true;
  }

  /** The querier's failure of request `id`; the frontend gets the error as it is (its code decides a retry). */
  fail(id: number, error: unknown): boolean {
    const item = this.finish(id);
    if (item === undefined) return false;
    item.reject(error);
    return true;
  }

  /**
   * A querier is gone (its connections closed, or it was declared dead): its waiting `next` calls are rejected and
   * its running requests go back to the front of their tenants' queues, or fail with 503 after `maxRequeues`.
   */
  querierDisconnected(querierId: string): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.querier !== querierId) continue;
      this.waiters.splice(i, 1);
      w.detach();
      w.reject(new EngineError('unavailable', 'querier disconnected'));
    }
    const maxRequeues = this.opts.maxRequeues ?? 2;
    // Newest first, each to the front of its queue: the requests keep their order.
    const taken = [...this.inflight.values()].filter((item) => item.querier === querierId).sort((a, b) => b.id - a.id);
    for (const item of taken) {
      this.inflight.delete(item.id);
      item.work.abort(new EngineError('unavailable', 'querier disconnected'));
      if (item.requeues >= maxRequeues) {
        item.detach();
        item.reject(new EngineError('unavailable', `querier ${querierId} disconnected while running the request`));
        continue;
      }
      item.requeues++;
      // A new id: the disconnected querier's late answer to the old one is ignored.
      item.id = this.nextId++;
      item.querier = undefined;
      item.work = new AbortController();
      this.push(item, true);
    }
    if (this.queriers.delete(querierId)) {
      this.queriersVersion++;
      this.opts.hooks?.connectedQueriers?.(this.queriers.size);
    }
    this.opts.hooks?.inflight?.(this.inflight.size);
    this.dispatch();
  }

  /** Stops: queued requests and waiting queriers are rejected with 503; running requests are cancelled. */
  stop(): void {
    this.stopped = true;
    const err = new EngineError('unavailable', 'scheduler is not running');
    for (const w of this.waiters.splice(0)) {
      w.detach();
      w.reject(err);
    }
    for (const [tenant, q] of this.queues) {
      for (let item = q.shift(); item !== undefined; item = q.shift()) {
        item.detach();
        item.reject(err);
      }
      this.opts.hooks?.queueLength?.(tenant, 0);
    }
    this.queues.clear();
    this.rotation.length = 0;
    for (const item of this.inflight.values()) {
      item.work.abort(err);
      item.detach();
      item.reject(err);
    }
    this.inflight.clear();
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────────────────────

  private connect(querierId: string): void {
    if (this.queriers.has(querierId)) return;
    this.queriers.add(querierId);
    this.queriersVersion++;
    this.opts.hooks?.connectedQueriers?.(this.queriers.size);
  }

  /** Adds to the tenant's queue (at the front for a requeue) and the tenant to the rotation. */
  private push(item: Item<Req, Res>, front: boolean): void {
    let q = this.queues.get(item.tenant);
    if (q === undefined) {
      q = new Queue();
      this.queues.set(item.tenant, q);
    }
    if (q.length === 0) {
      // A tenant joining the rotation goes just before the cursor: served after every tenant already waiting.
      this.rotation.splice(this.cursor, 0, item.tenant);
      this.cursor = (this.cursor + 1) % this.rotation.length;
    }
    if (front) q.unshift(item);
    else q.push(item);
    this.opts.hooks?.queueLength?.(item.tenant, q.length);
  }

  /** The queriers a tenant's requests may go to (all when shuffle sharding is off or there are few queriers). */
  private eligible(tenant: string, querierId: string): boolean {
    const n = this.opts.maxQueriersPerTenant?.(tenant) ?? 0;
    if (n <= 0 || n >= this.queriers.size) return true;
    let cached = this.shardCache.get(tenant);
    if (cached === undefined || cached.version !== this.queriersVersion || cached.size !== n) {
      const chosen = [...this.queriers].sort((a, b) => score(tenant, b) - score(tenant, a) || (a < b ? -1 : 1)).slice(0, n);
      cached = { version: this.queriersVersion, size: n, set: new Set(chosen) };
      this.shardCache.set(tenant, cached);
    }
    return cached.set.has(querierId);
  }

  /** The next request for a querier: from the next tenant in the rotation whose requests it may take. */
  private take(querierId: string): Item<Req, Res> | undefined {
    const r = this.rotation;
    for (let k = 0; k < r.length; k++) {
      const idx = (this.cursor + k) % r.length;
      const tenant = r[idx]!;
      if (!this.eligible(tenant, querierId)) continue;
      const q = this.queues.get(tenant)!;
      const item = q.shift()!;
      if (q.length === 0) {
        r.splice(idx, 1);
        this.queues.delete(tenant);
        this.cursor = r.length === 0 ? 0 : idx % r.length;
      } else {
        this.cursor = (idx + 1) % r.length;
      }
      this.opts.hooks?.queueLength?.(tenant, q.length);
      return item;
    }
    return undefined;
  }

  private assign(item: Item<Req, Res>, querierId: string): ScheduledRequest<Req> {
    item.querier = querierId;
    this.inflight.set(item.id, item);
    this.opts.hooks?.dequeued?.(item.tenant, this.now() - item.enqueuedAt);
    this.opts.hooks?.inflight?.(this.inflight.size);
    return { id: item.id, tenant: item.tenant, request: item.request, signal: item.work.signal, enqueuedAt: item.enqueuedAt };
  }

  /** Hands queued requests to waiting queriers, oldest waiter first, until no waiter can take one. */
  private dispatch(): void {
    for (let w = 0; w < this.waiters.length; ) {
      const waiter = this.waiters[w]!;
      const item = this.take(waiter.querier);
      if (item === undefined) {
        w++;
        continue;
      }
      this.waiters.splice(w, 1);
      waiter.detach();
      waiter.resolve(this.assign(item, waiter.querier));
    }
  }

  private finish(id: number): Item<Req, Res> | undefined {
    const item = this.inflight.get(id);
    if (item === undefined) return undefined;
    this.inflight.delete(id);
    item.detach();
    this.opts.hooks?.inflight?.(this.inflight.size);
    return item;
  }

  /** The frontend gave up: out of the queue, or the querier's work aborted. */
  private cancel(item: Item<Req, Res>, reason: EngineError): void {
    if (this.inflight.get(item.id) === item) {
      this.inflight.delete(item.id);
      item.work.abort(reason);
      this.opts.hooks?.inflight?.(this.inflight.size);
      item.reject(reason);
      return;
    }
    const q = this.queues.get(item.tenant);
    if (q !== undefined && q.remove(item)) {
      if (q.length === 0) {
        const idx = this.rotation.indexOf(item.tenant);
        this.rotation.splice(idx, 1);
        this.queues.delete(item.tenant);
        if (idx < this.cursor) this.cursor--;
        if (this.rotation.length === 0 || this.cursor >= this.rotation.length) this.cursor = 0;
      }
      this.opts.hooks?.queueLength?.(item.tenant, q.length);
      item.reject(reason);
    }
  }
}
