// An in-memory KubeClient for the handlers' unit tests: objects by kind/namespace/name, resourceVersions, label
// selectors, merge patches with resourceVersion preconditions, deletes with uid preconditions, and a log of every
// write. Server-side apply stores the applied object as is (no field ownership): enough to see what was applied.
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeError } from '../../operator/src/kube/errors.js';
import type {
  ApplyOptions,
  DeleteOptions,
  Gvk,
  KubeClient,
  KubeList,
  ListOptions,
  ObjectRef,
  PatchOptions,
  RequestOptions,
  StatusPatchOptions,
  WatchEventType,
  WatchOptions,
  WriteOptions,
} from '../../operator/src/kube/client.js';

type Obj = KubernetesObject & Record<string, unknown>;

const key = (r: { apiVersion?: string; kind?: string; namespace?: string; name?: string }) =>
  `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}/${r.name}`;

function matches(labels: Record<string, string> | undefined, selector: string | Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const wanted =
    typeof selector === 'string'
      ? Object.fromEntries(selector.split(',').filter(Boolean).map((p) => p.split('=') as [string, string]))
      : selector;
  return Object.entries(wanted).every(([k, v]) => labels?.[k] === v);
}

/** RFC 7386. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

export interface Write {
  verb: 'create' | 'apply' | 'patch' | 'status' | 'delete';
  ref: string;
  body?: unknown;
  options?: unknown;
}

export class FakeKube implements KubeClient {
  readonly objects = new Map<string, Obj>();
  readonly writes: Write[] = [];
  private version = 1;
  private uids = 1;
  /** Makes the next calls fail (e.g. an outage): return an error to throw, or undefined to proceed. */
  failWith?: (verb: string, ref: string) => Error | undefined;

  /** Puts an object in place without recording a write. */
  seed<T extends KubernetesObject>(obj: T): T {
    const copy = structuredClone(obj) as Obj;
    copy.metadata = { ...copy.metadata, uid: copy.metadata?.uid ?? `uid-${this.uids++}`, resourceVersion: String(this.version++) };
    copy.metadata.generation ??= 1;
    this.objects.set(key({ ...copy, ...copy.metadata }), copy);
    return structuredClone(copy) as unknown as T;
  }

  find<T = Obj>(ref: ObjectRef): T | undefined {
    const o = this.objects.get(key(ref));
    return o ? (structuredClone(o) as T) : undefined;
  }

  writesOf(verb: Write['verb']): Write[] {
    return this.writes.filter((w) => w.verb === verb);
  }

  private check(verb: string, ref: string): void {
    const err = this.failWith?.(verb, ref);
    if (err) throw err;
  }

  async get<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef, _options?: RequestOptions): Promise<T | undefined> {
    this.check('get', key(ref));
    return this.find<T>(ref);
  }

  async list<T extends KubernetesObject = KubernetesObject>(gvk: Gvk, options: ListOptions = {}): Promise<KubeList<T>> {
    this.check('list', `${gvk.apiVersion}/${gvk.kind}`);
    const items = [...this.objects.values()].filter(
      (o) =>
        o.apiVersion === gvk.apiVersion &&
        o.kind === gvk.kind &&
        (options.namespace === undefined || o.metadata?.namespace === options.namespace) &&
        matches(o.metadata?.labels, options.labelSelector),
    );
    return { items: structuredClone(items) as unknown as T[], metadata: { resourceVersion: String(this.version) } };
  }

  async create<T extends KubernetesObject>(obj: T, _options?: WriteOptions): Promise<T> {
    const k = key({ ...obj, ...obj.metadata });
    this.check('create', k);
    if (this.objects.has(k)) throw new KubeError('Conflict', `${k} already exists`, 409, 'AlreadyExists');
    this.writes.push({ verb: 'create', ref: k, body: structuredClone(obj) });
    return this.seed(obj);
  }

  async replace<T extends KubernetesObject>(obj: T): Promise<T> {
    return this.create(obj);
  }

  async serverSideApply<T extends KubernetesObject>(obj: T, fieldManager: string, force?: boolean, _options?: ApplyOptions): Promise<T> {
    const k = key({ ...obj, ...obj.metadata });
    this.check('apply', k);
    this.writes.push({ verb: 'apply', ref: k, body: structuredClone(obj), options: { fieldManager, force } });
    const existing = this.objects.get(k);
    const next = structuredClone(obj) as Obj;
    next.metadata = { ...next.metadata, uid: existing?.metadata?.uid ?? `uid-${this.uids++}`, resourceVersion: String(this.version++) };
    if (existing && 'status' in existing) next.status = existing.status;
    this.objects.set(k, next);
    return structuredClone(next) as unknown as T;
  }

  async patch<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef, patch: unknown, options: PatchOptions): Promise<T> {
    const k = key(ref);
    this.check('patch', k);
    const existing = this.objects.get(k);
    if (!existing) throw new KubeError('NotFound', `${k} not found`, 404, 'NotFound');
    this.writes.push({ verb: 'patch', ref: k, body: structuredClone(patch), options });
    const next = applyMergePatch(existing, patch) as Obj;
    next.metadata = { ...next.metadata, resourceVersion: String(this.version++) };
    this.objects.set(k, next);
    return structuredClone(next) as unknown as T;
  }

  async patchStatus<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef, status: unknown, options: StatusPatchOptions = {}): Promise<T> {
    const k = key(ref);
    this.check('status', k);
    const existing = this.objects.get(k);
    if (!existing) throw new KubeError('NotFound', `${k} not found`, 404, 'NotFound');
    if (options.resourceVersion && options.resourceVersion !== existing.metadata?.resourceVersion) {
      throw new KubeError('Conflict', `${k}: the object has been modified`, 409, 'Conflict');
    }
    this.writes.push({ verb: 'status', ref: k, body: structuredClone(status), options });
    const next = structuredClone(existing);
    next.status = applyMergePatch(existing.status, status);
    next.metadata = { ...next.metadata, resourceVersion: String(this.version++) };
    this.objects.set(k, next);
    return structuredClone(next) as unknown as T;
  }

  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<boolean> {
    const k = key(ref);
    this.check('delete', k);
    const existing = this.objects.get(k);
    if (!existing) return false;
    if (options.preconditions?.uid && options.preconditions.uid !== existing.metadata?.uid) {
      throw new KubeError('Conflict', `${k}: uid precondition failed`, 409, 'Conflict');
    }
    this.writes.push({ verb: 'delete', ref: k, options });
    this.objects.delete(k);
    return true;
  }

  async watch(
    _gvk: Gvk,
    _options: WatchOptions,
    _onEvent: (type: WatchEventType, obj: KubernetesObject) => void,
    onDone: (err: unknown) => void,
  ): Promise<AbortController> {
    onDone(new KubeError('Unavailable', 'the fake client does not watch'));
    return new AbortController();
  }
}
