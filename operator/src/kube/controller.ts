// The controller loop: informers feed keys into a work queue whose workers call `reconcile(key)`.
// - Informers start at once, leader or not, so a standby has warm caches when it takes over.
// - Workers run only while this replica leads AND every informer has synced: reconciling from a half-filled cache
//   would delete objects that merely have not been listed yet.
// - Each leadership term gets a fresh queue seeded with every key in the caches; losing leadership shuts the queue
//   down (aborting the reconciles' signal and waiting for those in flight) before the lease is released.
// - Nothing here throws on a watch error: informers restart themselves, reconcile failures retry with backoff.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Gvk, KubeClient } from './client.js';
import { Informer } from './informer.js';
import { LeaderElector, type LeaderElectionOptions } from './leader-election.js';
import { silentLogger, type KubeLogger } from './logger.js';
import { WorkQueue, objectKey, type BackoffOptions, type Reconciler } from './work-queue.js';

export interface InformerSpec<T extends KubernetesObject = KubernetesObject> {
  gvk: Gvk;
  /** Watch one namespace; omitted = all namespaces. */
  namespace?: string;
  labelSelector?: string | Record<string, string>;
  fieldSelector?: string;
  /**
   * The keys to reconcile when this object is added, updated or deleted (e.g. an owned ConfigMap → its LokiStack's
   * `namespace/name`). Default: the object's own key.
   */
  mapToKeys?(obj: T): Iterable<string> | string | undefined;
}

export interface ControllerOptions {
  client: KubeClient;
  informers: readonly InformerSpec[];
  reconcile: Reconciler;
  /** Concurrent reconciles (of different keys). Default 1. */
  workers?: number;
  /** Re-reconcile every key found in the caches this often. Default 10 min; 0 = never. */
  resyncMs?: number;
  /** Retry delays of a failing key. */
  backoff?: BackoffOptions;
  /** Restart delays of a failed informer. */
  informerBackoff?: { initialMs?: number; maxMs?: number };
  /** Lease-based leader election; omitted = this replica always leads. */
  leaderElection?: Omit<LeaderElectionOptions, 'client' | 'onStartedLeading' | 'onStoppedLeading' | 'log'>;
  log?: KubeLogger;
}

export interface Controller {
  readonly informers: readonly Informer[];
  /** The informer of a kind (and namespace, when several watch one kind). */
  informer<T extends KubernetesObject = KubernetesObject>(gvk: Gvk, namespace?: string): Informer<T> | undefined;
  isLeader(): boolean;
  /** Every informer has completed its first list. */
  hasSynced(): boolean;
  /** Leader, synced, and workers running. */
  isRunning(): boolean;
  /** Resolves when isRunning() (or when stopped). */
  whenRunning(): Promise<void>;
  /** The current term's queue (undefined while not running). */
  queue(): WorkQueue | undefined;
  /** Queues a key by hand (ignored while not running). */
  enqueue(key: string): void;
  /** Stops the workers (waiting for reconciles in flight), releases the lease, stops the informers. */
  stop(): Promise<void>;
}

export function runController(options: ControllerOptions): Controller {
  return new ControllerRuntime(options);
}

class ControllerRuntime implements Controller {
  readonly informers: readonly Informer[];
  private readonly specs: readonly InformerSpec[];
  private readonly options: ControllerOptions;
  private readonly log: KubeLogger;
  private readonly elector: LeaderElector | undefined;
  private leader = false;
  private current: WorkQueue | undefined;
  private term: AbortController | undefined;
  private stopping: Promise<void> | undefined;
  private runningWaiters: (() => void)[] = [];

  constructor(options: ControllerOptions) {
    this.options = options;
    this.specs = options.informers;
    this.log = options.log ?? silentLogger;
    this.informers = options.informers.map(
      (spec) =>
        new Informer({
          client: options.client,
          gvk: spec.gvk,
          namespace: spec.namespace,
          labelSelector: spec.labelSelector,
          fieldSelector: spec.fieldSelector,
          backoff: options.informerBackoff,
          log: this.log,
        }),
    );
    this.informers.forEach((informer, i) => {
      const spec = this.specs[i]!;
      const enqueue = (obj: KubernetesObject) => {
        for (const key of keysOf(spec, obj)) this.current?.add(key);
      };
      informer.on('add', enqueue);
      informer.on('update', enqueue);
      informer.on('delete', enqueue);
      informer.start();
    });

    if (options.leaderElection) {
      this.elector = new LeaderElector({
        ...options.leaderElection,
        client: options.client,
        log: this.log,
        onStartedLeading: () => void this.startTerm(),
        onStoppedLeading: () => this.endTerm(),
      });
      this.elector.start();
    } else {
      void this.startTerm();
    }
  }

  informer<T extends KubernetesObject = KubernetesObject>(gvk: Gvk, namespace?: string): Informer<T> | undefined {
    const found = this.informers.find(
      (inf) =>
        inf.gvk.apiVersion === gvk.apiVersion && inf.gvk.kind === gvk.kind && (namespace === undefined || inf.namespace === namespace),
    );
    return found as Informer<T> | undefined;
  }

  isLeader(): boolean {
    return this.leader;
  }

  hasSynced(): boolean {
    return this.informers.every((inf) => inf.hasSynced());
  }

  isRunning(): boolean {
    return this.current !== undefined;
  }

  whenRunning(): Promise<void> {
    if (this.current || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.runningWaiters.push(resolve));
  }

  queue(): WorkQueue | undefined {
    return this.current;
  }

  enqueue(key: string): void {
    this.current?.add(key);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.elector) await this.elector.stop();
      else await this.endTerm();
      await Promise.all(this.informers.map((inf) => inf.stop()));
      this.wakeRunningWaiters();
    })();
    return this.stopping;
  }

  private async startTerm(): Promise<void> {
    if (this.stopping || this.term) return;
    this.leader = true;
    const term = new AbortController();
    this.term = term;
    await Promise.all(this.informers.map((inf) => inf.waitForSync(term.signal)));
    if (term.signal.aborted || this.stopping) return;
    const queue = new WorkQueue({
      reconcile: this.options.reconcile,
      workers: this.options.workers,
      backoff: this.options.backoff,
      resyncMs: this.options.resyncMs ?? 600_000,
      resyncKeys: () => this.cachedKeys(),
      onError: (key, err, retryInMs) =>
        this.log.warn('reconcile failed', { key, err: err instanceof Error ? err.message : String(err), retryInMs }),
    });
    for (const key of this.cachedKeys()) queue.add(key);
    this.current = queue;
    queue.start();
    this.log.info('controller started', { workers: this.options.workers ?? 1 });
    this.wakeRunningWaiters();
  }

  private async endTerm(): Promise<void> {
    this.leader = false;
    this.term?.abort();
    this.term = undefined;
    const queue = this.current;
    this.current = undefined;
    if (queue) {
      await queue.shutdown();
      this.log.info('controller stopped');
    }
  }

  private cachedKeys(): Set<string> {
    const keys = new Set<string>();
    this.informers.forEach((informer, i) => {
      for (const obj of informer.list()) for (const key of keysOf(this.specs[i]!, obj)) keys.add(key);
    });
    return keys;
  }

  private wakeRunningWaiters(): void {
    for (const w of this.runningWaiters.splice(0)) w();
  }
}

function keysOf(spec: InformerSpec, obj: KubernetesObject): Iterable<string> {
  if (!spec.mapToKeys) return [objectKey(obj)];
  try {
    const keys = spec.mapToKeys(obj);
    if (keys === undefined) return [];
    return typeof keys === 'string' ? [keys] : keys;
  } catch {
    // A mapping that cannot handle an object (a half-formed one) maps it to nothing rather than breaking the feed.
    return [];
  }
}
