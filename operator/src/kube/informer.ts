// A resilient informer: client-node's ListWatch (cache + list-then-watch + add/update/delete events) with the one
// property an operator needs and ListWatch lacks — it never gives up. ListWatch reconnects by itself after a clean
// end of a watch and after its 30 s inactivity timeout, and relists after a 410 (resourceVersion too old), but on
// any other error (apiserver down, connection cut, 5xx, list failure) it reports `error` and stops for good. Here that
// report schedules a restart with exponential backoff, from the last resourceVersion seen (so nothing that happened
// meanwhile is missed; if that version is gone the apiserver answers 410 and ListWatch relists, emitting deletes for
// objects that vanished while we were away).
//
// Every cluster call goes through the KubeClient role (list, watch), so a fake client can stand in.
import { KubeConfig, ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Gvk, KubeClient } from './client.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { describeError } from './errors.js';
import { silentLogger, type KubeLogger } from './logger.js';
import { backoffDelay } from './work-queue.js';

export type InformerEventType = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (obj: T) => void;

export interface InformerOptions {
  client: KubeClient;
  gvk: Gvk;
  /** Watch one namespace; omitted = all namespaces (or a cluster-scoped kind). */
  namespace?: string;
  labelSelector?: string | Record<string, string>;
  fieldSelector?: string;
  /** Restart delays after a failure: initial · 2^(n-1), capped. Defaults 500 ms and 30 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  log?: KubeLogger;
  /** Every failure that stopped the list/watch (a restart follows). */
  onError?: (err: unknown) => void;
  clock?: Clock;
}

export interface InformerStats {
  /** Full lists (the first one, and each relist after a 410). */
  lists: number;
  /** Watch requests started. */
  watches: number;
  /** Restarts after a failure. */
  restarts: number;
  /** 410 answers (resourceVersion too old) that caused a relist. */
  expired: number;
  /** Failures that stopped the list/watch. */
  errors: number;
  lastError?: string;
}

// A watch that survives this long counts as a recovery: the next failure starts again at the initial delay.
const HEALTHY_WATCH_MS = 5_000;

export class Informer<T extends KubernetesObject = KubernetesObject> {
  readonly gvk: Gvk;
  readonly namespace?: string;
  private readonly client: KubeClient;
  private readonly opts: InformerOptions;
  private readonly log: KubeLogger;
  private readonly clock: Clock;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly listWatch: ListWatch<T>;
  private readonly handlers: Record<InformerEventType, Set<InformerHandler<T>>> = {
    add: new Set(),
    update: new Set(),
    delete: new Set(),
  };
  private started = false;
  private stopped = false;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private attempt = 0;
  private restartTimer: TimerHandle | undefined;
  private currentWatch: AbortController | undefined;
  private readonly counters: InformerStats = { lists: 0, watches: 0, restarts: 0, expired: 0, errors: 0 };

  constructor(options: InformerOptions) {
    this.opts = options;
    this.client = options.client;
    this.gvk = { apiVersion: options.gvk.apiVersion, kind: options.gvk.kind };
    this.namespace = options.namespace;
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? realClock;
    this.initialMs = options.backoff?.initialMs ?? 500;
    this.maxMs = options.backoff?.maxMs ?? 30_000;

    const label = `${this.gvk.apiVersion}/${this.gvk.kind}${this.namespace ? ` in ${this.namespace}` : ''}`;
    this.listWatch = new ListWatch<T>(label, new ClientWatch(this), () => this.listObjects(), false);
    for (const type of ['add', 'update', 'delete'] as const) {
      this.listWatch.on(type, (obj: T) => this.emit(type, obj));
    }
    this.listWatch.on('error', (err?: unknown) => this.failed(err));
  }

  /** Registers a handler; returns a function that unregisters it. Handlers run synchronously, in order. */
  on(type: InformerEventType, handler: InformerHandler<T>): () => void {
    this.handlers[type].add(handler);
    return () => this.handlers[type].delete(handler);
  }

  /** Lists, then watches; restarts by itself until stop(). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.runListWatch();
  }

  /** Stops watching for good (the cache keeps its last contents). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.currentWatch?.abort();
    await this.listWatch.stop();
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** True once the first full list is in the cache (and forever after). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves when hasSynced() (or when the informer is stopped or `signal` aborts). */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced || this.stopped || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.syncWaiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  get(name: string, namespace?: string): T | undefined {
    return this.listWatch.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.listWatch.list(namespace);
  }

  /** The resourceVersion the cache is at. */
  resourceVersion(): string {
    return this.listWatch.latestResourceVersion();
  }

  stats(): InformerStats {
    return { ...this.counters };
  }

  // --- internals ---

  private runListWatch(): void {
    // ListWatch.start keeps the last resourceVersion: it relists only when it has none (or after a 410).
    this.listWatch.start().catch((err: unknown) => this.failed(err));
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    this.counters.errors++;
    this.counters.lastError = describeError(err);
    try {
      this.opts.onError?.(err);
    } catch {
      // The hook is for reporting only.
    }
    if (this.restartTimer !== undefined) return;
    const delay = backoffDelay(++this.attempt, this.initialMs, this.maxMs);
    this.log.warn('informer stopped; restarting', {
      kind: this.gvk.kind,
      namespace: this.namespace,
      err: this.counters.lastError,
      retryInMs: delay,
    });
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.counters.restarts++;
      this.runListWatch();
    }, delay);
  }

  private async listObjects(): Promise<KubernetesListObject<T>> {
    this.counters.lists++;
    const list = await this.client.list<T>(this.gvk, {
      namespace: this.namespace,
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
    });
    this.attempt = 0;
    return list;
  }

  /**
   * Internal (called by ListWatch through ClientWatch) each time it (re)opens the watch — always after the cache
   * holds a complete list, which is what makes it the moment the informer has synced.
   */
  async openWatch(
    resourceVersion: string | undefined,
    callback: (phase: string, obj: KubernetesObject) => void,
    done: (err: unknown) => unknown,
  ): Promise<AbortController> {
    if (this.stopped) return new AbortController();
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    this.counters.watches++;
    const openedAt = this.clock.now();
    const controller = await this.client.watch(
      this.gvk,
      {
        namespace: this.namespace,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        resourceVersion,
      },
      (type, obj) => {
        if (type === 'ERROR') {
          if ((obj as { code?: unknown }).code === 410) this.counters.expired++;
        } else {
          this.attempt = 0;
        }
        callback(type, obj);
      },
      (err) => {
        if (err && statusOf(err) === 410) this.counters.expired++;
        if (this.clock.now() - openedAt >= HEALTHY_WATCH_MS) this.attempt = 0;
        // ListWatch's done handler is async; never let a rejection escape as an unhandled one.
        const result = done(err);
        if (result instanceof Promise) result.catch((e: unknown) => this.failed(e));
      },
    );
    if (this.stopped) controller.abort();
    this.currentWatch = controller;
    return controller;
  }

  private emit(type: InformerEventType, obj: T): void {
    for (const handler of this.handlers[type]) {
      // ListWatch calls us inside its stream parser, which swallows exceptions, or inside its list step, where one
      // would become an unhandled rejection: contain each handler's failure here.
      try {
        handler(obj);
      } catch (err) {
        this.log.error('informer handler failed', { kind: this.gvk.kind, event: type, err: describeError(err) });
      }
    }
  }
}

/** ListWatch wants a client-node Watch; this one opens each watch through the informer's KubeClient. */
interface WatchOpener {
  openWatch(
    resourceVersion: string | undefined,
    callback: (phase: string, obj: KubernetesObject) => void,
    done: (err: unknown) => unknown,
  ): Promise<AbortController>;
}

class ClientWatch extends Watch {
  constructor(private readonly informer: WatchOpener) {
    // The base class's KubeConfig is never used: every request goes through the KubeClient.
    super(new KubeConfig());
  }

  override watch(
    _path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: KubernetesObject) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const rv = queryParams.resourceVersion;
    return this.informer.openWatch(rv === undefined || rv === '' ? undefined : String(rv), callback, done);
  }
}

function statusOf(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { statusCode?: unknown; code?: unknown; status?: unknown };
  for (const v of [e.statusCode, e.status, e.code]) if (typeof v === 'number') return v;
  return undefined;
}
