/**
 * The `etcd` ring store (etcd v3 API through the `etcd3` client). One key per instance:
 *
 *   <kvstore.prefix><ring name>/<instance id>  →  the descriptor's JSON   (e.g. collectors/ingester/ingester-0)
 *
 * No etcd lease/TTL: a crashed instance's record stays and turns UNHEALTHY by its heartbeat, as in Loki, so its
 * keys do not silently move to other ingesters (see docs/adr/0010-ring.md).
 *
 * Watching: list the prefix (revision R), then watch from R+1. etcd3 reconnects a broken watch stream by itself and
 * resumes from the last revision it saw, so no change is lost across an etcd restart; when etcd cancels the watch
 * (e.g. the revision was compacted) this module relists and starts a new one.
 */
import { Etcd3, type IOptions, type IKeyValue, type Watcher } from 'etcd3';
import type { EtcdConfig } from '../config/config-schema.js';
import { nopLogger, type Logger } from '../util/logger.js';
import { backoffDelay, RingKvError, type BackoffOptions, type RingKv, type RingKvWatch } from './kv.js';
import { decodeInstanceDesc, encodeInstanceDesc, type InstanceDesc } from './model.js';
import { WatchLoop, WatchSet } from './watch-loop.js';

export interface EtcdKvOptions {
  etcd: EtcdConfig;
  /** `<prefix><ring name>`; records live under `<ringKey>/`. */
  ringKey: string;
  logger?: Logger;
  /** Deadline of one unary call; default `etcd.dial_timeout` (10 s). */
  requestTimeoutMs?: number;
  /** Relist/restart delays after a failed watch, and the watch stream's reconnect delays. Default 200 ms … 2 s. */
  backoff?: BackoffOptions;
}

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/** etcd3's watch reconnect schedule (its default waits up to 30 s, too long for a ring). */
class CappedBackoff {
  constructor(
    private readonly opts: BackoffOptions,
    private readonly attempt = 0,
  ) {}
  get duration(): number {
    return backoffDelay(this.attempt, this.opts);
  }
  next(): CappedBackoff {
    return new CappedBackoff(this.opts, this.attempt + 1);
  }
}

/** `host:port` (Loki's form) or a URL → the URL etcd3 wants. */
export function etcdHostUrl(endpoint: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
}

export class EtcdKv implements RingKv {
  readonly kind = 'etcd' as const;
  readonly ringKey: string;
  private readonly prefix: string;
  private readonly client: Etcd3;
  private readonly logger: Logger;
  private readonly backoff: BackoffOptions;
  private readonly watches = new WatchSet();

  constructor(opts: EtcdKvOptions) {
    if (opts.etcd.endpoints.length === 0) throw new RingKvError('etcd ring store: no endpoints configured');
    this.ringKey = opts.ringKey;
    this.prefix = `${opts.ringKey}/`;
    this.logger = (opts.logger ?? nopLogger).with({ ring: opts.ringKey, kv: 'etcd' });
    this.backoff = { initialMs: 200, maxMs: 2_000, ...opts.backoff };
    const timeout = opts.requestTimeoutMs ?? (opts.etcd.dial_timeout > 0 ? opts.etcd.dial_timeout : 10_000);
    this.client = new Etcd3({
      hosts: opts.etcd.endpoints.map(etcdHostUrl),
      dialTimeout: opts.etcd.dial_timeout > 0 ? opts.etcd.dial_timeout : undefined,
      auth: opts.etcd.username !== '' ? { username: opts.etcd.username, password: opts.etcd.password } : undefined,
      // Streams (watches) live forever; unary calls get a deadline so a hung etcd cannot stall a heartbeat forever.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
      faultHandling: { watchBackoff: new CappedBackoff(this.backoff) as unknown as WatchBackoff },
    });
  }

  private key(id: string): string {
    return this.prefix + id;
  }

  async put(desc: InstanceDesc): Promise<void> {
    await this.call(`put ${desc.id}`, () => this.client.put(this.key(desc.id)).value(encodeInstanceDesc(desc)).exec());
  }

  async get(id: string): Promise<InstanceDesc | undefined> {
    const text = await this.call(`get ${id}`, () => this.client.get(this.key(id)).string());
    return text === null ? undefined : decodeInstanceDesc(text);
  }

  async delete(id: string): Promise<void> {
    await this.call(`delete ${id}`, () => this.client.delete().key(this.key(id)).exec());
  }

  async list(): Promise<InstanceDesc[]> {
    return [...(await this.listWithRevision()).records.values()];
  }

  /** @internal Every record under the prefix by key, and the store revision of that read. */
  async listWithRevision(): Promise<{ records: Map<string, InstanceDesc>; revision: bigint }> {
    const res = await this.call('list', () => this.client.getAll().prefix(this.prefix).exec());
    const records = new Map<string, InstanceDesc>();
    for (const kv of res.kvs) this.decodeInto(records, kv);
    return { records, revision: BigInt(res.header.revision) };
  }

  /** @internal */
  decodeInto(records: Map<string, InstanceDesc>, kv: IKeyValue): void {
    const key = kv.key.toString();
    const desc = decodeInstanceDesc(kv.value.toString());
    if (desc && key === this.key(desc.id)) records.set(key, desc);
    else {
      records.delete(key);
      this.logger.warn('ignoring a malformed ring record', { key });
    }
  }

  /** @internal */
  newWatcher(startRevision: bigint): Watcher {
    // watcher() attaches synchronously, so error listeners are in place before anything can be emitted.
    return this.client.watch().prefix(this.prefix).startRevision(startRevision.toString()).watcher();
  }

  watch(onSnapshot: (instances: InstanceDesc[]) => void): RingKvWatch {
    return this.watches.open((forget) => new EtcdRingWatch(this, onSnapshot, this.logger, this.backoff, forget));
  }

  async close(): Promise<void> {
    await this.watches.close();
    this.client.close();
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.watches.closed) throw new RingKvError(`etcd ${what}: the ring store is closed`);
    try {
      return await fn();
    } catch (err) {
      throw new RingKvError(`etcd ${what} under ${this.prefix}: ${(err as Error)?.message ?? String(err)}`, undefined, { cause: err });
    }
  }
}

class EtcdRingWatch extends WatchLoop {
  constructor(
    private readonly kv: EtcdKv,
    onSnapshot: (instances: InstanceDesc[]) => void,
    logger: Logger,
    backoff: BackoffOptions,
    onStopped: () => void,
  ) {
    super(onSnapshot, logger, backoff, onStopped);
  }

  protected async run(): Promise<void> {
    for (let failures = 0; !this.stopped; ) {
      try {
        const { records, revision } = await this.kv.listWithRevision();
        if (this.stopped) return;
        this.emit(records);
        this.resolveSynced();
        failures = 0;
        await this.follow(records, revision + 1n);
      } catch (err) {
        if (this.stopped) return;
        const delay = backoffDelay(failures++, this.backoff);
        this.logger.warn('ring watch failed; relisting', { err, retry_in_ms: delay });
        await this.sleep(delay);
      }
    }
  }

  /** Applies watch events until etcd cancels the watch (rejects) or stop() (resolves). */
  private follow(records: Map<string, InstanceDesc>, from: bigint): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const watcher = this.kv.newWatcher(from);
      let disconnected = false;
      const finish = (err?: unknown): void => {
        this.wake = undefined;
        watcher.removeAllListeners();
        // Keep a no-op error listener: a late emit without one would throw out of etcd3's stream handler.
        watcher.on('error', () => undefined);
        void watcher.cancel().catch(() => undefined);
        if (err === undefined) resolve();
        else reject(err);
      };
      this.wake = () => finish();
      watcher.on('put', (kv: IKeyValue) => this.guard(() => {
        this.kv.decodeInto(records, kv);
        this.emit(records);
      }));
      watcher.on('delete', (kv: IKeyValue) => this.guard(() => {
        if (records.delete(kv.key.toString())) this.emit(records);
      }));
      watcher.on('disconnected', (err: unknown) => {
        if (!disconnected) this.logger.warn('ring watch disconnected from etcd; reconnecting', { err });
        disconnected = true;
      });
      watcher.on('connected', () => {
        if (disconnected) this.logger.info('ring watch reconnected to etcd');
        disconnected = false;
      });
      watcher.on('error', (err: unknown) => finish(err ?? new RingKvError('etcd cancelled the ring watch')));
      watcher.on('end', () => finish(new RingKvError('the etcd ring watch ended')));
      if (this.stopped) finish();
    });
  }
}
