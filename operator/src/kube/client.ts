// KubeClient: the operator's only door to the apiserver. Objects travel as plain JSON in both directions — no
// ObjectSerializer round trip — because server-side apply must send exactly the fields we mean to own (a typed
// serializer silently drops unknown ones) and hashes/diffs need stable values (timestamps stay strings even though
// client-node's V1ObjectMeta types them as Date).
//
// Transport, TLS and credentials are client-node's (KubeConfig.applySecurityAuthentication + its undici fetch); the
// resource paths come from API discovery, cached per apiVersion and refreshed when a kind is missing (a CRD
// installed after start-up).
import {
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  RequestContext,
  Watch,
  type HttpMethod,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { KubeError } from './errors.js';

/** A kind in an API group version, as objects carry it: `{ apiVersion: 'apps/v1', kind: 'Deployment' }`. */
export interface Gvk {
  apiVersion: string;
  kind: string;
}

/** One object: its kind plus name (and namespace for namespaced kinds). */
export interface ObjectRef extends Gvk {
  name: string;
  namespace?: string;
}

/** How the apiserver names a kind: the plural resource and whether it lives in namespaces. */
export interface ResourceMapping extends Gvk {
  plural: string;
  namespaced: boolean;
}

/** Options every call accepts. */
export interface RequestOptions {
  /** Aborts the request (rejects with an `Unavailable` KubeError). */
  signal?: AbortSignal;
  /** Per-call timeout; defaults to the client's `timeoutMs`. */
  timeoutMs?: number;
}

export interface ListOptions extends RequestOptions {
  /** Omit for a namespaced kind to list across all namespaces. */
  namespace?: string;
  /** `a=b,c!=d` or matchLabels `{ a: 'b' }`. */
  labelSelector?: string | Record<string, string>;
  fieldSelector?: string;
}

export interface KubeList<T> {
  items: T[];
  /** The list's resourceVersion: watch from here to see every later change. */
  metadata: { resourceVersion: string };
}

export interface WriteOptions extends RequestOptions {
  fieldManager?: string;
  dryRun?: boolean;
}

export interface ApplyOptions extends RequestOptions {
  dryRun?: boolean;
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export interface PatchOptions extends WriteOptions {
  type: PatchType;
  /** `status`, `scale`, …: patch that subresource instead of the main resource. */
  subresource?: string;
  /** Only for `apply`: take ownership of fields other managers own instead of failing with Conflict. */
  force?: boolean;
}

export interface StatusPatchOptions extends RequestOptions {
  /**
   * `merge` (default): JSON merge patch of `{ status }` — keys not mentioned are kept, `null` removes one, arrays are
   * replaced. `apply`: server-side apply of the status under `fieldManager` (fields this manager applied before and
   * omits now are removed).
   */
  strategy?: 'merge' | 'apply';
  /** Required for `apply`; recorded as the manager of a merge patch. */
  fieldManager?: string;
  /** Only for `apply`. */
  force?: boolean;
  /** Only for `merge`: fail with Conflict unless the object is still at this resourceVersion. */
  resourceVersion?: string;
}

export interface DeleteOptions extends RequestOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /** Delete only if the object still has this uid / resourceVersion (else Conflict). */
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string | Record<string, string>;
  fieldSelector?: string;
  /** Start after this version; empty or omitted = "now" (the apiserver first sends the current objects as ADDED). */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
}

/** The operations the operator performs on any kind, built-in or custom (LokiStack, LokiTenant). */
export interface KubeClient {
  /** The object, or undefined when it does not exist (404). */
  get<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef, options?: RequestOptions): Promise<T | undefined>;
  /** Every matching object (all pages), each with apiVersion and kind filled in. */
  list<T extends KubernetesObject = KubernetesObject>(gvk: Gvk, options?: ListOptions): Promise<KubeList<T>>;
  /** POST; Conflict (reason AlreadyExists) when it exists. */
  create<T extends KubernetesObject>(obj: T, options?: WriteOptions): Promise<T>;
  /** PUT; Conflict when `metadata.resourceVersion` is stale. */
  replace<T extends KubernetesObject>(obj: T, options?: WriteOptions): Promise<T>;
  /**
   * Server-side apply (`application/apply-patch+yaml`): creates the object or makes the fields `fieldManager` owns
   * exactly those in `obj` (fields it applied before and omits now are removed). Without `force`, a field owned by
   * another manager with a different value fails with Conflict naming that manager.
   */
  serverSideApply<T extends KubernetesObject>(obj: T, fieldManager: string, force?: boolean, options?: ApplyOptions): Promise<T>;
  /** Any patch type, optionally on a subresource. */
  patch<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef, patch: unknown, options: PatchOptions): Promise<T>;
  /** Writes `status` through the status subresource (which ignores spec and metadata changes). */
  patchStatus<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef, status: unknown, options?: StatusPatchOptions): Promise<T>;
  /** True when deleted (or deletion started), false when it was already gone. */
  delete(ref: ObjectRef, options?: DeleteOptions): Promise<boolean>;
  /**
   * One watch request. Events go to `onEvent`; `onDone` is called exactly once when the stream ends (null) or fails
   * (the error; an HTTP failure carries `statusCode`). Never rejects: even discovery errors arrive through `onDone`.
   * Abort the returned controller to stop.
   */
  watch(
    gvk: Gvk,
    options: WatchOptions,
    onEvent: (type: WatchEventType, obj: KubernetesObject) => void,
    onDone: (err: unknown) => void,
  ): Promise<AbortController>;
}

export interface KubeRestClientOptions {
  /** Default per-request timeout (watches excepted). Default 30 s. */
  timeoutMs?: number;
  /** Known kinds, so they need no discovery request (and work before discovery answers). */
  resources?: readonly ResourceMapping[];
  /** Page size of list calls. Default 500. */
  pageSize?: number;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

type Dispatcher = ReturnType<RequestContext['getDispatcher']>;

const CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** KubeClient over @kubernetes/client-node's KubeConfig and HTTP stack. */
export class KubeRestClient implements KubeClient {
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly timeoutMs: number;
  private readonly pageSize: number;
  private readonly server: string;
  private readonly mappings = new Map<string, ResourceMapping>();
  private readonly discovery = new Map<string, Promise<ApiResource[]>>();
  // client-node builds a new undici Agent (a new connection pool) for every request; we keep the first one so
  // requests reuse keep-alive connections. Credentials are still applied per request (tokens rotate).
  private dispatcher: Dispatcher;
  private closed = false;

  constructor(
    readonly kubeConfig: KubeConfig,
    options: KubeRestClientOptions = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new KubeError('Invalid', 'the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.pageSize = options.pageSize ?? 500;
    for (const m of options.resources ?? []) this.mappings.set(gvkKey(m), m);
  }

  /** Releases pooled connections. */
  async close(): Promise<void> {
    this.closed = true;
    const d = this.dispatcher;
    this.dispatcher = undefined;
    await d?.close().catch(() => undefined);
  }

  async get<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef, options: RequestOptions = {}): Promise<T | undefined> {
    const path = await this.objectPath(ref);
    try {
      return (await this.request('GET', path, {}, undefined, undefined, options, `get ${describe(ref)}`)) as T;
    } catch (err) {
      if (err instanceof KubeError && err.code === 'NotFound') return undefined;
      throw err;
    }
  }

  async list<T extends KubernetesObject = KubernetesObject>(gvk: Gvk, options: ListOptions = {}): Promise<KubeList<T>> {
    const path = await this.collectionPath(gvk, options.namespace, true);
    const items: T[] = [];
    let resourceVersion = '';
    let continueToken: string | undefined;
    do {
      const query: Record<string, string | undefined> = {
        labelSelector: selectorString(options.labelSelector),
        fieldSelector: options.fieldSelector,
        limit: String(this.pageSize),
        continue: continueToken,
      };
      const page = (await this.request('GET', path, query, undefined, undefined, options, `list ${gvk.kind}`)) as {
        items?: T[] | null;
        metadata?: { resourceVersion?: string; continue?: string };
      };
      // The first page's version is the snapshot every later page belongs to.
      if (!continueToken) resourceVersion = page.metadata?.resourceVersion ?? '';
      for (const item of page.items ?? []) {
        // Items of a list of built-in kinds come without apiVersion/kind; watches and gets have them.
        item.apiVersion ??= gvk.apiVersion;
        item.kind ??= gvk.kind;
        items.push(item);
      }
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    return { items, metadata: { resourceVersion } };
  }

  async create<T extends KubernetesObject>(obj: T, options: WriteOptions = {}): Promise<T> {
    const ref = refOf(obj);
    const path = await this.collectionPath(ref, ref.namespace, false);
    return (await this.request('POST', path, writeQuery(options), obj, 'application/json', options, `create ${describe(ref)}`)) as T;
  }

  async replace<T extends KubernetesObject>(obj: T, options: WriteOptions = {}): Promise<T> {
    const ref = refOf(obj);
    const path = await this.objectPath(ref);
    return (await this.request('PUT', path, writeQuery(options), obj, 'application/json', options, `replace ${describe(ref)}`)) as T;
  }

  async serverSideApply<T extends KubernetesObject>(obj: T, fieldManager: string, force = false, options: ApplyOptions = {}): Promise<T> {
    const ref = refOf(obj);
    // The apiserver refuses an apply that carries managedFields; an object read back from a cache has them.
    const body = obj.metadata?.managedFields ? { ...obj, metadata: { ...obj.metadata, managedFields: undefined } } : obj;
    return this.patch<T>(ref, body, { ...options, type: 'apply', fieldManager, force });
  }

  async patch<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef, patch: unknown, options: PatchOptions): Promise<T> {
    if (options.type === 'apply' && !options.fieldManager) {
      throw new KubeError('Invalid', `apply ${describe(ref)}: a field manager is required for server-side apply`);
    }
    let path = await this.objectPath(ref);
    if (options.subresource) path += `/${encodeURIComponent(options.subresource)}`;
    const query = writeQuery(options);
    if (options.type === 'apply' && options.force) query.force = 'true';
    const verb = options.type === 'apply' ? 'apply' : 'patch';
    return (await this.request(
      'PATCH',
      path,
      query,
      patch,
      CONTENT_TYPES[options.type],
      options,
      `${verb} ${describe(ref)}${options.subresource ? `/${options.subresource}` : ''}`,
    )) as T;
  }

  async patchStatus<T extends KubernetesObject = KubernetesObject>(
    ref: ObjectRef,
    status: unknown,
    options: StatusPatchOptions = {},
  ): Promise<T> {
    const common = { signal: options.signal, timeoutMs: options.timeoutMs, subresource: 'status', fieldManager: options.fieldManager };
    if (options.strategy === 'apply') {
      const body = {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
        status,
      };
      return this.patch<T>(ref, body, { ...common, type: 'apply', force: options.force });
    }
    const body = options.resourceVersion ? { metadata: { resourceVersion: options.resourceVersion }, status } : { status };
    return this.patch<T>(ref, body, { ...common, type: 'merge' });
  }

  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<boolean> {
    const path = await this.objectPath(ref);
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.preconditions) body.preconditions = options.preconditions;
    if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
    try {
      await this.request('DELETE', path, {}, body, 'application/json', options, `delete ${describe(ref)}`);
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.code === 'NotFound') return false;
      throw err;
    }
  }

  async watch(
    gvk: Gvk,
    options: WatchOptions,
    onEvent: (type: WatchEventType, obj: KubernetesObject) => void,
    onDone: (err: unknown) => void,
  ): Promise<AbortController> {
    let path: string;
    try {
      if (this.closed) throw new KubeError('Unavailable', `watch ${gvk.kind}: the client is closed`);
      path = await this.collectionPath(gvk, options.namespace, true);
    } catch (err) {
      onDone(err);
      return new AbortController();
    }
    const query: Record<string, string | boolean | undefined> = {
      resourceVersion: options.resourceVersion || undefined,
      labelSelector: selectorString(options.labelSelector),
      fieldSelector: options.fieldSelector,
      allowWatchBookmarks: options.allowWatchBookmarks || undefined,
    };
    try {
      // client-node's Watch: streaming JSON lines, 30 s inactivity timeout (done gets a TimeoutError), done once.
      return await new Watch(this.kubeConfig).watch(path, query, (type, obj) => onEvent(type as WatchEventType, obj), onDone);
    } catch (err) {
      onDone(err);
      return new AbortController();
    }
  }

  /** The resource behind a kind (discovery, cached). NotFound when the apiserver does not serve it. */
  async resourceFor(gvk: Gvk): Promise<ResourceMapping> {
    const key = gvkKey(gvk);
    const known = this.mappings.get(key);
    if (known) return known;
    let found = findResource(await this.discover(gvk.apiVersion, false), gvk.kind);
    // A cached answer may predate the CRD that serves this kind: ask again once before giving up.
    if (!found) found = findResource(await this.discover(gvk.apiVersion, true), gvk.kind);
    if (!found) {
      throw new KubeError('NotFound', `the server does not serve kind ${gvk.kind} in ${gvk.apiVersion}`, 404, 'NotFound');
    }
    const mapping: ResourceMapping = { apiVersion: gvk.apiVersion, kind: gvk.kind, plural: found.name, namespaced: found.namespaced };
    this.mappings.set(key, mapping);
    return mapping;
  }

  /** `/api/v1/namespaces/ns/configmaps` (or cluster-wide for an all-namespaces list/watch). */
  async collectionPath(gvk: Gvk, namespace: string | undefined, allowAllNamespaces: boolean): Promise<string> {
    const res = await this.resourceFor(gvk);
    const prefix = gvk.apiVersion.includes('/') ? `/apis/${gvk.apiVersion}` : `/api/${gvk.apiVersion}`;
    if (!res.namespaced || (!namespace && allowAllNamespaces)) return `${prefix}/${res.plural}`;
    if (!namespace) throw new KubeError('Invalid', `${gvk.kind} is namespaced: metadata.namespace is required`);
    return `${prefix}/namespaces/${encodeURIComponent(namespace)}/${res.plural}`;
  }

  private async objectPath(ref: ObjectRef): Promise<string> {
    if (!ref.name) throw new KubeError('Invalid', `${ref.kind}: metadata.name is required`);
    return `${await this.collectionPath(ref, ref.namespace, false)}/${encodeURIComponent(ref.name)}`;
  }

  private discover(apiVersion: string, refresh: boolean): Promise<ApiResource[]> {
    let pending = refresh ? undefined : this.discovery.get(apiVersion);
    if (!pending) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      pending = this.request('GET', path, {}, undefined, undefined, {}, `discover ${apiVersion}`).then(
        (list) => ((list as { resources?: ApiResource[] }).resources ?? []),
        (err: unknown) => {
          // Never cache a failure; an unknown group version is "no such kind", not an outage.
          this.discovery.delete(apiVersion);
          if (err instanceof KubeError && err.code === 'NotFound') return [];
          throw err;
        },
      );
      this.discovery.set(apiVersion, pending);
    }
    return pending;
  }

  private async request(
    method: HttpMethod,
    path: string,
    query: Record<string, string | undefined>,
    body: unknown,
    contentType: string | undefined,
    options: RequestOptions,
    what: string,
  ): Promise<unknown> {
    if (this.closed) throw new KubeError('Unavailable', `${what}: the client is closed`);
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), method);
    ctx.setHeaderParam('Accept', 'application/json');
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(body));
    }
    let text: string;
    let status: number;
    try {
      await this.kubeConfig.applySecurityAuthentication(ctx);
      if (this.dispatcher) ctx.setDispatcher(this.dispatcher);
      else this.dispatcher = ctx.getDispatcher();
      // AbortSignal.timeout takes whole milliseconds only.
      const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(options.timeoutMs ?? this.timeoutMs)));
      ctx.setSignal(options.signal ? AbortSignal.any([options.signal, timeout]) : timeout);
      const response = await this.http.send(ctx).toPromise();
      status = response.httpStatusCode;
      text = await response.body.text();
    } catch (err) {
      throw KubeError.unavailable(err, what);
    }
    if (status < 200 || status > 299) throw KubeError.fromResponse(status, text, what);
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new KubeError('Unavailable', `${what}: the apiserver answered with invalid JSON`, status, undefined, [], { cause: err });
    }
  }
}

/** `apps/v1 Deployment` → `apps/v1/Deployment`: a map key. */
export function gvkKey(gvk: Gvk): string {
  return `${gvk.apiVersion}/${gvk.kind}`;
}

/** The ObjectRef of an object (apiVersion, kind and metadata.name are required). */
export function refOf(obj: KubernetesObject): ObjectRef {
  if (!obj.apiVersion || !obj.kind) throw new KubeError('Invalid', 'the object has no apiVersion or kind');
  if (!obj.metadata?.name) throw new KubeError('Invalid', `${obj.kind}: metadata.name is required`);
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace || undefined };
}

/** matchLabels → `a=b,c=d`; strings pass through. */
export function selectorString(selector: string | Record<string, string> | undefined): string | undefined {
  if (selector === undefined || typeof selector === 'string') return selector || undefined;
  const parts = Object.entries(selector).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? parts.join(',') : undefined;
}

function findResource(resources: ApiResource[], kind: string): ApiResource | undefined {
  // Subresources (`deployments/status`) share the kind; only the top-level resource has no slash.
  return resources.find((r) => r.kind === kind && !r.name.includes('/'));
}

function writeQuery(options: WriteOptions): Record<string, string | undefined> {
  return { fieldManager: options.fieldManager, dryRun: options.dryRun ? 'All' : undefined };
}

function describe(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}
