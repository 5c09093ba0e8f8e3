/**
 * The `kubernetes` ring store (a Strata extension): one coordination.k8s.io/v1 Lease per instance in one
 * namespace, for deployments made by the operator — the apiserver is the store, nothing else to run.
 *
 *   metadata.name          <prefix>-<ring>-<instance id>, made a valid DNS-1123 name, + 8 hex of a hash (see leaseName)
 *   metadata.labels        ring.strata.dev/name: <ring>, ring.strata.dev/prefix: <prefix>   (label-safe forms)
 *   metadata.annotations   ring.strata.dev/ring: <prefix><ring>  (exact; readers filter on it)
 *                          ring.strata.dev/instance: the descriptor's JSON (the record itself)
 *   spec                   holderIdentity = instance id, renewTime = heartbeat, acquireTime = registered,
 *                          leaseDurationSeconds = heartbeat timeout (informative: kubectl shows who is alive)
 *
 * Writes are JSON merge patches (no resourceVersion: each Lease has exactly one writer), falling back to create.
 * Readers list the Leases by label, then watch from the list's resourceVersion; a watch that ends or times out is
 * resumed from the last version seen, a 410 (version too old) or any failure leads to a relist after a backoff.
 * Nothing here throws out of a watch: the process never dies because the apiserver went away.
 */
import { createHash } from 'node:crypto';
import {
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  RequestContext,
  Watch,
  type HttpMethod,
} from '@kubernetes/client-node';
import { nopLogger, type Logger } from '../util/logger.js';
import { backoffDelay, RingKvError, type BackoffOptions, type RingKv, type RingKvWatch } from './kv.js';
import { decodeInstanceDesc, encodeInstanceDesc, type InstanceDesc } from './model.js';
import { WatchLoop, WatchSet } from './watch-loop.js';

export const RING_NAME_LABEL = 'ring.strata.dev/name';
export const RING_PREFIX_LABEL = 'ring.strata.dev/prefix';
export const RING_KEY_ANNOTATION = 'ring.strata.dev/ring';
export const RING_INSTANCE_ANNOTATION = 'ring.strata.dev/instance';

export interface KubernetesKvOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Ring name (`ingester`, `distributor`, ...). */
  ringName: string;
  /** `kvstore.prefix` (default `collectors/`). */
  prefix: string;
  logger?: Logger;
  /** Written to spec.leaseDurationSeconds; default 60. */
  leaseDurationSeconds?: number;
  /** Per-request timeout (watches excepted); default 10 s. */
  requestTimeoutMs?: number;
  /** Relist delays after a failure; default 200 ms … 5 s. */
  backoff?: BackoffOptions;
}

interface LeaseObject {
  metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
}

/** Lowercase alphanumerics and '-', no leading/trailing '-': a DNS-1123 label's alphabet. */
function dnsSafe(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * The Lease of one instance: readable (`collectors-ingester-ingester-0-1a2b3c4d`) and unique — the readable part
 * loses information (case, '/', '_', length), so 8 hex digits of SHA-256 over the exact ring key and id always end
 * the name. At most 63 characters, so it is also a valid DNS-1123 label.
 */
export function leaseName(ringKey: string, id: string): string {
  const hash = createHash('sha256').update(ringKey).update('\0').update(id).digest('hex').slice(0, 8);
  const readable = dnsSafe(`${ringKey}-${id}`).slice(0, 63 - 9).replace(/-+$/, '');
  return readable === '' ? `ring-${hash}` : `${readable}-${hash}`;
}

/** A label value (≤ 63 chars of [A-Za-z0-9-_.], alphanumeric at both ends); long or odd input gets a hash. */
export function labelValue(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (clean === s && s.length <= 63) return s;
  const hash = createHash('sha256').update(s).digest('hex').slice(0, 8);
  const head = clean.slice(0, 63 - 9).replace(/[^A-Za-z0-9]+$/, '');
  return head === '' ? hash : `${head}-${hash}`;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

type Dispatcher = ReturnType<RequestContext['getDispatcher']>;

export class KubernetesKv implements RingKv {
  readonly kind = 'kubernetes' as const;
  readonly ringKey: string;
  readonly namespace: string;
  private readonly kubeConfig: KubeConfig;
  private readonly server: string;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private dispatcher: Dispatcher;
  private readonly labels: Record<string, string>;
  private readonly selector: string;
  private readonly logger: Logger;
  private readonly leaseDurationSeconds: number;
  private readonly timeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly watches = new WatchSet();

  constructor(opts: KubernetesKvOptions) {
    const cluster = opts.kubeConfig.getCurrentCluster();
    if (!cluster) throw new RingKvError('kubernetes ring store: the kubeconfig has no current cluster');
    if (opts.namespace === '') throw new RingKvError('kubernetes ring store: no namespace');
    this.kubeConfig = opts.kubeConfig;
    this.server = cluster.server.replace(/\/+$/, '');
    this.namespace = opts.namespace;
    this.ringKey = `${opts.prefix}${opts.ringName}`;
    this.labels = {
      [RING_NAME_LABEL]: labelValue(opts.ringName),
      [RING_PREFIX_LABEL]: labelValue(opts.prefix.replace(/\/+$/, '')),
    };
    this.selector = Object.entries(this.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    this.logger = (opts.logger ?? nopLogger).with({ ring: this.ringKey, kv: 'kubernetes' });
    this.leaseDurationSeconds = Math.max(1, Math.round(opts.leaseDurationSeconds ?? 60));
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.backoff = opts.backoff ?? {};
  }

  /** `/apis/coordination.k8s.io/v1/namespaces/<ns>/leases[/<name>]` */
  collectionPath(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.namespace)}/leases`;
  }

  leaseName(id: string): string {
    return leaseName(this.ringKey, id);
  }

  /** The label selector of this ring's Leases. */
  get labelSelector(): string {
    return this.selector;
  }

  async put(desc: InstanceDesc): Promise<void> {
    const name = this.leaseName(desc.id);
    const path = `${this.collectionPath()}/${name}`;
    const body = {
      metadata: {
        labels: this.labels,
        annotations: { [RING_KEY_ANNOTATION]: this.ringKey, [RING_INSTANCE_ANNOTATION]: encodeInstanceDesc(desc) },
      },
      spec: {
        holderIdentity: desc.id,
        acquireTime: microTime(desc.registered),
        renewTime: microTime(desc.heartbeat),
        leaseDurationSeconds: this.leaseDurationSeconds,
      },
    };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.request('PATCH' as HttpMethod, path, {}, body, 'application/merge-patch+json', `patch lease ${name}`);
        return;
      } catch (err) {
        if (!(err instanceof RingKvError) || err.status !== 404 || attempt > 0) throw err;
      }
      try {
        const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, ...body.metadata }, spec: body.spec };
        await this.request('POST' as HttpMethod, this.collectionPath(), {}, lease, 'application/json', `create lease ${name}`);
        return;
      } catch (err) {
        // Created meanwhile (a retried call that had succeeded): patch it.
        if (!(err instanceof RingKvError) || err.status !== 409) throw err;
      }
    }
  }

  async get(id: string): Promise<InstanceDesc | undefined> {
    const name = this.leaseName(id);
    try {
      const lease = (await this.request('GET' as HttpMethod, `${this.collectionPath()}/${name}`, {}, undefined, undefined, `get lease ${name}`)) as LeaseObject;
      return this.decode(lease);
    } catch (err) {
      if (err instanceof RingKvError && err.status === 404) return undefined;
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    const name = this.leaseName(id);
    try {
      await this.request('DELETE' as HttpMethod, `${this.collectionPath()}/${name}`, {}, undefined, undefined, `delete lease ${name}`);
    } catch (err) {
      if (err instanceof RingKvError && err.status === 404) return;
      throw err;
    }
  }

  async list(): Promise<InstanceDesc[]> {
    return [...(await this.listWithVersion()).records.values()];
  }

  /** @internal Records by Lease name, and the list's resourceVersion. */
  async listWithVersion(): Promise<{ records: Map<string, InstanceDesc>; resourceVersion: string }> {
    const list = (await this.request('GET' as HttpMethod, this.collectionPath(), { labelSelector: this.selector }, undefined, undefined, 'list leases')) as {
      items?: LeaseObject[];
      metadata?: { resourceVersion?: string };
    };
    const records = new Map<string, InstanceDesc>();
    for (const lease of list.items ?? []) {
      const desc = this.decode(lease);
      if (desc) records.set(lease.metadata!.name!, desc);
    }
    return { records, resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  /** @internal The descriptor a Lease carries, when it belongs to this ring and is well-formed. */
  decode(lease: LeaseObject): InstanceDesc | undefined {
    const annotations = lease.metadata?.annotations ?? {};
    if (annotations[RING_KEY_ANNOTATION] !== this.ringKey) return undefined;
    const text = annotations[RING_INSTANCE_ANNOTATION];
    const desc = text === undefined ? undefined : decodeInstanceDesc(text);
    if (!desc) {
      this.logger.warn('ignoring a Lease without a valid ring descriptor', { lease: lease.metadata?.name });
      return undefined;
    }
    return desc;
  }

  /** @internal One watch request; see LeaseWatch. */
  startWatch(
    resourceVersion: string,
    onEvent: (type: string, obj: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<AbortController> {
    return new Watch(this.kubeConfig).watch(
      this.collectionPath(),
      { labelSelector: this.selector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 },
      onEvent,
      onDone,
    );
  }

  watch(onSnapshot: (instances: InstanceDesc[]) => void): RingKvWatch {
    return this.watches.open((forget) => new LeaseWatch(this, onSnapshot, this.logger, { initialMs: 200, maxMs: 5_000, ...this.backoff }, forget));
  }

  async close(): Promise<void> {
    await this.watches.close();
    const d = this.dispatcher;
    this.dispatcher = undefined;
    await d?.close().catch(() => undefined);
  }

  private async request(
    method: HttpMethod,
    path: string,
    query: Record<string, string>,
    body: unknown,
    contentType: string | undefined,
    what: string,
  ): Promise<unknown> {
    if (this.watches.closed) throw new RingKvError(`kubernetes ${what}: the ring store is closed`);
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), method);
    ctx.setHeaderParam('Accept', 'application/json');
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(body));
    }
    let status: number;
    let text: string;
    try {
      await this.kubeConfig.applySecurityAuthentication(ctx);
      // client-node builds a new connection pool per request; keep the first so requests reuse connections.
      if (this.dispatcher) ctx.setDispatcher(this.dispatcher);
      else this.dispatcher = ctx.getDispatcher();
      ctx.setSignal(AbortSignal.timeout(this.timeoutMs));
      const response = await this.http.send(ctx).toPromise();
      status = response.httpStatusCode;
      text = await response.body.text();
    } catch (err) {
      throw new RingKvError(`kubernetes ${what} in ${this.namespace}: ${(err as Error)?.message ?? String(err)}`, undefined, { cause: err });
    }
    if (status < 200 || status > 299) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new RingKvError(`kubernetes ${what} in ${this.namespace}: HTTP ${status}: ${message}`, status);
    }
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new RingKvError(`kubernetes ${what}: the apiserver answered with invalid JSON`, status, { cause: err });
    }
  }
}

/** A watch that reports TimeoutError (client-node's 30 s inactivity timer) or ends cleanly is simply resumed. */
function isQuietEnd(err: unknown): boolean {
  return err === null || err === undefined || (err instanceof Error && err.name === 'TimeoutError') || (err as { name?: string })?.name === 'TimeoutError';
}

class LeaseWatch extends WatchLoop {
  private controller: AbortController | undefined;

  constructor(
    private readonly kv: KubernetesKv,
    onSnapshot: (instances: InstanceDesc[]) => void,
    logger: Logger,
    backoff: BackoffOptions,
    onStopped: () => void,
  ) {
    super(onSnapshot, logger, backoff, onStopped);
  }

  protected override interrupt(): void {
    this.controller?.abort();
  }

  protected async run(): Promise<void> {
    let failures = 0;
    let records = new Map<string, InstanceDesc>();
    let version = '';
    let relist = true;
    while (!this.stopped) {
      try {
        if (relist) {
          const listed = await this.kv.listWithVersion();
          if (this.stopped) return;
          records = listed.records;
          version = listed.resourceVersion;
          relist = false;
          this.emit(records);
          this.resolveSynced();
        }
        const started = Date.now();
        const outcome = await this.watchOnce(records, version, (v) => (version = v));
        if (outcome.expired) {
          relist = true;
          this.logger.info('ring watch: resourceVersion expired; relisting');
        } else if (!outcome.events && Date.now() - started < 1_000) {
          // A watch that ends at once without news: do not spin.
          await this.sleep(backoffDelay(0, this.backoff));
        }
        if (outcome.events) failures = 0;
      } catch (err) {
        if (this.stopped) return;
        relist = true;
        const delay = backoffDelay(failures++, this.backoff);
        this.logger.warn('ring watch failed; relisting', { err, retry_in_ms: delay });
        await this.sleep(delay);
      }
    }
  }

  /** One watch request: applies its events; resolves when it ends quietly or expires, rejects on failure. */
  private watchOnce(
    records: Map<string, InstanceDesc>,
    version: string,
    setVersion: (v: string) => void,
  ): Promise<{ expired: boolean; events: boolean }> {
    return new Promise((resolve, reject) => {
      let expired = false;
      let events = false;
      let failure: unknown;
      const onEvent = (type: string, obj: unknown): void => {
        try {
          if (type === 'ERROR') {
            const status = obj as { code?: number; message?: string };
            if (status.code === 410) expired = true;
            else failure = new RingKvError(`ring watch error: ${status.message ?? JSON.stringify(obj)}`, status.code);
            return;
          }
          const lease = obj as LeaseObject;
          const v = lease.metadata?.resourceVersion;
          if (v) setVersion(v);
          if (type === 'BOOKMARK') return;
          const name = lease.metadata?.name;
          if (!name) return;
          events = true;
          if (type === 'DELETED') {
            if (records.delete(name)) this.emit(records);
            return;
          }
          const desc = this.kv.decode(lease);
          if (desc) records.set(name, desc);
          else records.delete(name);
          this.emit(records);
        } catch (err) {
          this.logger.error('ring watch event handling failed', { err });
        }
      };
      const onDone = (err: unknown): void => {
        this.controller = undefined;
        if (expired) resolve({ expired: true, events });
        else if (failure !== undefined) reject(failure);
        else if (this.stopped || isQuietEnd(err)) resolve({ expired: false, events });
        else if ((err as { statusCode?: number })?.statusCode === 410) resolve({ expired: true, events });
        else reject(err);
      };
      this.kv.startWatch(version, onEvent, onDone).then(
        (controller) => {
          this.controller = controller;
          if (this.stopped) controller.abort();
        },
        (err: unknown) => onDone(err ?? new RingKvError('the ring watch could not start')),
      );
    });
  }
}
