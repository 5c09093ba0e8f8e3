import {
  compareKeys,
  ObjectNotFoundError,
  validateListPrefix,
  validateObjectKey,
  type ObjectClient,
  type ObjectInfo,
} from '../../storage/object-client.js';

/**
 * An object store in memory with the contract of the real clients (atomic puts, sorted recursive listing, idempotent
 * deletes, the same key rules), for unit tests and benchmarks of the compactor. `snapshot()` and `restore()` let a
 * test replay a run from the same starting point.
 */
export class MemoryObjectClient implements ObjectClient {
  private objects = new Map<string, { body: Buffer; modified: Date }>();

  async put(key: string, body: Buffer): Promise<void> {
    validateObjectKey(key);
    // Copy: a caller reusing its buffer must not change a stored object.
    this.objects.set(key, { body: Buffer.from(body), modified: new Date(0) });
  }

  async get(key: string): Promise<Buffer> {
    validateObjectKey(key);
    const o = this.objects.get(key);
    if (o === undefined) throw new ObjectNotFoundError(key);
    return o.body;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    validateListPrefix(prefix);
    const out: ObjectInfo[] = [];
    for (const [key, o] of this.objects) if (key.startsWith(prefix)) out.push({ key, size: o.body.length, modified: o.modified });
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  async delete(key: string): Promise<void> {
    validateObjectKey(key);
    this.objects.delete(key);
  }

  async exists(key: string): Promise<boolean> {
    validateObjectKey(key);
    return this.objects.has(key);
  }

  async close(): Promise<void> {}

  get size(): number {
    return this.objects.size;
  }

  keys(): string[] {
    return [...this.objects.keys()].sort(compareKeys);
  }

  snapshot(): Map<string, Buffer> {
    return new Map([...this.objects].map(([k, o]) => [k, o.body]));
  }

  restore(s: ReadonlyMap<string, Buffer>): void {
    this.objects = new Map([...s].map(([k, body]) => [k, { body, modified: new Date(0) }]));
  }
}

/**
 * Wraps a store and fails every mutating call (put, delete) after `budget` of them succeeded, as a process killed in
 * the middle of a run would stop writing: the calls before the failure are done, none after it.
 */
export class CrashingObjectClient implements ObjectClient {
  /** Mutations left before the "crash"; Infinity disarms. */
  budget = Infinity;
  mutations = 0;

  constructor(private readonly inner: ObjectClient) {}

  private spend(what: string): void {
    if (this.budget <= 0) throw new Error(`simulated crash before ${what}`);
    this.budget--;
    this.mutations++;
  }

  async put(key: string, body: Buffer): Promise<void> {
    this.spend(`put ${key}`);
    return this.inner.put(key, body);
  }

  get(key: string): Promise<Buffer> {
    return this.inner.get(key);
  }

  list(prefix: string): Promise<ObjectInfo[]> {
    return this.inner.list(prefix);
  }

  async delete(key: string): Promise<void> {
    this.spend(`delete ${key}`);
    return this.inner.delete(key);
  }

  exists(key: string): Promise<boolean> {
    return this.inner.exists(key);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
