/**
 * The read side of a ring: the current membership (initial list + watch of a RingKv) and the replication sets
 * computed from it. Everything a request needs (`get`, `replicationSetForOperation`) is synchronous and works on
 * the last snapshot; the store is never consulted on a request path.
 *
 * Behaviour follows Loki's ring (docs/ring.md): a key belongs to the first token strictly greater than it,
 * clockwise with wrap-around; the walk collects `replication_factor` distinct instances (distinct zones with zone
 * awareness), one more for each instance met in a state that cannot serve the operation; then instances that
 * cannot serve it (state, or heartbeat older than `heartbeat_timeout`) are dropped but still count towards the
 * quorum `floor(max(RF, set size) / 2) + 1`.
 */
import { EngineError } from '../errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { nopLogger, type Logger } from '../util/logger.js';
import type { RingKv, RingKvWatch } from './kv.js';
import { extendsReplicaSet, RING_UNHEALTHY, stateServes, type InstanceDesc, type InstanceState, type RingOp } from './model.js';

/** The instances to call for one operation and how many of them may fail. */
export interface ReplicationSet {
  /** Healthy instances to call (unhealthy ones were already left out; they count as failures). */
  instances: InstanceDesc[];
  /** `instance` quorum: how many of `instances` may fail. `zone` quorum: 0. */
  maxErrors: number;
  /** `instance` quorum: successes needed (`instances.length - maxErrors`). `zone` quorum: `instances.length`. */
  minSuccess: number;
  /**
   * `instance`: count successes (per-key sets, and read sets without zone awareness).
   * `zone`: a read set with zone awareness — every instance of a zone must answer, and up to `maxUnavailableZones`
   * zones may fail entirely (see `doUntilQuorum`).
   */
  quorum: 'instance' | 'zone';
  maxUnavailableZones: number;
}

/** What a distributor or querier needs from a ring (a fake can stand in for it in tests). */
export interface ReadRing {
  readonly name: string;
  readonly replicationFactor: number;
  /** The replicas of `key` for `op`; throws EngineError `unavailable` when a quorum cannot be reached. */
  get(key: number, op?: RingOp): ReplicationSet;
  /** Every instance to query for `op` (reads over all ingesters); throws `unavailable` like `get`. */
  replicationSetForOperation(op?: RingOp): ReplicationSet;
  /** Instances whose heartbeat is fresh and whose state serves `op` (default `reporting`: any state). */
  healthyInstances(op?: RingOp): InstanceDesc[];
  /** Every known instance, healthy or not, sorted by id. */
  instances(): InstanceDesc[];
}

export interface RingOptions {
  kv: RingKv;
  /** For logs and the status page; defaults to the store's ring key. */
  name?: string;
  /** Default 3 (Loki's `replication_factor`). */
  replicationFactor?: number;
  /** Milliseconds; default 60 000. 0 = never unhealthy (Loki's meaning of 0). */
  heartbeatTimeoutMs?: number;
  zoneAwarenessEnabled?: boolean;
  clock?: Clock;
  logger?: Logger;
}

/** One instance on the status page (`GET /ring`, JSON). */
export interface RingInstanceStatus {
  id: string;
  addr: string;
  zone: string;
  /** The stored state, or `UNHEALTHY` when the heartbeat is older than the heartbeat timeout. */
  state: InstanceState | typeof RING_UNHEALTHY;
  storedState: InstanceState;
  /** Number of tokens. */
  tokens: number;
  /** Fraction of the token space (0..1) whose keys this instance is the first owner of. */
  ownership: number;
  /** ISO-8601. */
  heartbeat: string;
  heartbeatAgeMs: number;
  registered: string;
}

export interface RingStatus {
  name: string;
  /** ISO-8601, the reader's clock. */
  now: string;
  replicationFactor: number;
  zoneAwarenessEnabled: boolean;
  heartbeatTimeoutMs: number;
  instances: RingInstanceStatus[];
}

const TOKEN_SPACE = 2 ** 32;
/** token · 2^20 + instance index stays below 2^53: exact in a float64 for up to a million instances. */
const PAIR_SHIFT = 2 ** 20;

const unavailable = (message: string): EngineError => new EngineError('unavailable', message);

export class Ring implements ReadRing {
  readonly name: string;
  readonly replicationFactor: number;
  readonly heartbeatTimeoutMs: number;
  readonly zoneAwarenessEnabled: boolean;
  private readonly kv: RingKv;
  private readonly clock: Clock;
  private readonly logger: Logger;

  private byId = new Map<string, InstanceDesc>();
  /** Sorted ascending, no duplicates; `owners[i]` is the id owning `tokens[i]`. */
  private tokens = new Uint32Array(0);
  private owners: string[] = [];
  /** Distinct non-empty zones, and whether some instance has none. */
  private zoneCount = 0;
  private hasZonelessInstance = false;
  private watch: RingKvWatch | undefined;
  private readonly listeners = new Set<(ring: Ring) => void>();

  constructor(opts: RingOptions) {
    this.kv = opts.kv;
    this.name = opts.name ?? opts.kv.ringKey;
    this.replicationFactor = opts.replicationFactor ?? 3;
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 60_000;
    this.zoneAwarenessEnabled = opts.zoneAwarenessEnabled ?? false;
    this.clock = opts.clock ?? systemClock;
    this.logger = (opts.logger ?? nopLogger).with({ ring: this.name });
    if (!Number.isInteger(this.replicationFactor) || this.replicationFactor < 1) {
      throw new RangeError(`replication factor must be a positive integer, got ${this.replicationFactor}`);
    }
  }

  /** Starts following the store; resolves once the first complete snapshot is applied (waits through outages). */
  async start(): Promise<void> {
    if (!this.watch) this.watch = this.kv.watch((instances) => this.apply(instances));
    await this.watch.synced;
  }

  async stop(): Promise<void> {
    const w = this.watch;
    this.watch = undefined;
    await w?.stop();
  }

  /** Called after every applied snapshot (membership, state, heartbeat changes). Returns an unsubscribe function. */
  onChange(listener: (ring: Ring) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Removes an instance's record from the store (Loki's "Forget" on the ring page): for dead instances. */
  async forget(id: string): Promise<void> {
    await this.kv.delete(id);
  }

  get instanceCount(): number {
    return this.byId.size;
  }

  instance(id: string): InstanceDesc | undefined {
    return this.byId.get(id);
  }

  instances(): InstanceDesc[] {
    return [...this.byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  isHealthy(instance: InstanceDesc, op: RingOp, now: number = this.clock.now()): boolean {
    return stateServes(op, instance.state) && this.heartbeatFresh(instance, now);
  }

  healthyInstances(op: RingOp = 'reporting'): InstanceDesc[] {
    const now = this.clock.now();
    return this.instances().filter((d) => this.isHealthy(d, op, now));
  }

  get(key: number, op: RingOp = 'write'): ReplicationSet {
    const tokens = this.tokens;
    const len = tokens.length;
    if (len === 0) throw unavailable('empty ring');
    const now = this.clock.now();
    const zoneAware = this.zoneAwarenessEnabled;
    const total = this.byId.size;
    let n = this.replicationFactor;
    const picked: InstanceDesc[] = [];
    const pickedIds: string[] = [];
    const zones: string[] = [];

    let i = upperBound(tokens, key >>> 0);
    for (let seen = 0; seen < len && picked.length < Math.min(n, total); seen++, i++) {
      if (i === len) i = 0;
      const id = this.owners[i]!;
      if (pickedIds.includes(id)) continue;
      const d = this.byId.get(id)!;
      if (zoneAware && d.zone !== '' && zones.includes(d.zone)) continue;
      pickedIds.push(id);
      picked.push(d);
      if (extendsReplicaSet(op, d.state)) {
        // The extra replica goes to the next instance; with zones, to one in the same zone (its zone stays open).
        n++;
      } else if (zoneAware && d.zone !== '') {
        zones.push(d.zone);
        // Every zone has a replica: the rest of the walk could only skip.
        if (zones.length >= this.zoneCount && !this.hasZonelessInstance) break;
      }
    }

    const rf = Math.max(this.replicationFactor, picked.length);
    const minSuccess = Math.floor(rf / 2) + 1;
    const healthy: InstanceDesc[] = [];
    const unhealthy: string[] = [];
    for (const d of picked) {
      if (this.isHealthy(d, op, now)) healthy.push(d);
      else unhealthy.push(d.addr || d.id);
    }
    if (healthy.length < minSuccess) {
      const across = zoneAware ? ' across different availability zones' : '';
      const which = unhealthy.length > 0 ? ` - unhealthy instances: ${unhealthy.join(',')}` : '';
      throw unavailable(`at least ${minSuccess} live replicas required${across}, could only find ${healthy.length}${which}`);
    }
    return {
      instances: healthy,
      maxErrors: healthy.length - minSuccess,
      minSuccess,
      quorum: 'instance',
      maxUnavailableZones: 0,
    };
  }

  replicationSetForOperation(op: RingOp = 'read'): ReplicationSet {
    if (this.byId.size === 0) throw unavailable('empty ring');
    const now = this.clock.now();
    const all = this.instances();
    let healthy = all.filter((d) => this.isHealthy(d, op, now));
    const rf = this.replicationFactor;

    if (this.zoneAwarenessEnabled) {
      const zones = new Set(all.map((d) => d.zone));
      const replicatedZones = Math.min(zones.size, rf);
      let maxUnavailableZones = Math.floor(replicatedZones / 2);
      const failedZones = new Set(all.filter((d) => !this.isHealthy(d, op, now)).map((d) => d.zone));
      if (failedZones.size > maxUnavailableZones) throw unavailable('too many unhealthy instances in the ring');
      // A zone with one unhealthy instance is skipped whole: every key has a replica in each of the other zones.
      healthy = healthy.filter((d) => !failedZones.has(d.zone));
      maxUnavailableZones -= failedZones.size;
      return { instances: healthy, maxErrors: 0, minSuccess: healthy.length, quorum: 'zone', maxUnavailableZones };
    }

    // Any `all - floor(RF/2)` instances hold at least one replica of every key.
    const required = Math.max(all.length, rf) - Math.floor(rf / 2);
    if (healthy.length < required) throw unavailable('too many unhealthy instances in the ring');
    return {
      instances: healthy,
      maxErrors: healthy.length - required,
      minSuccess: required,
      quorum: 'instance',
      maxUnavailableZones: 0,
    };
  }

  /** The status page's content. */
  describe(): RingStatus {
    const now = this.clock.now();
    const owned = new Map<string, number>();
    const len = this.tokens.length;
    for (let i = 0; i < len; i++) {
      // Keys in [previous token, this token) belong to this token's owner.
      const span = i === 0 ? this.tokens[0]! + (TOKEN_SPACE - this.tokens[len - 1]!) : this.tokens[i]! - this.tokens[i - 1]!;
      owned.set(this.owners[i]!, (owned.get(this.owners[i]!) ?? 0) + span);
    }
    return {
      name: this.name,
      now: new Date(now).toISOString(),
      replicationFactor: this.replicationFactor,
      zoneAwarenessEnabled: this.zoneAwarenessEnabled,
      heartbeatTimeoutMs: this.heartbeatTimeoutMs,
      instances: this.instances().map((d) => ({
        id: d.id,
        addr: d.addr,
        zone: d.zone,
        state: this.heartbeatFresh(d, now) ? d.state : RING_UNHEALTHY,
        storedState: d.state,
        tokens: d.tokens.length,
        ownership: (owned.get(d.id) ?? 0) / TOKEN_SPACE,
        heartbeat: new Date(d.heartbeat).toISOString(),
        heartbeatAgeMs: now - d.heartbeat,
        registered: new Date(d.registered).toISOString(),
      })),
    };
  }

  private heartbeatFresh(d: InstanceDesc, now: number): boolean {
    return this.heartbeatTimeoutMs <= 0 || now - d.heartbeat <= this.heartbeatTimeoutMs;
  }

  /** Replaces the membership with a store snapshot. */
  private apply(instances: readonly InstanceDesc[]): void {
    const next = new Map<string, InstanceDesc>();
    for (const d of instances) next.set(d.id, d);
    // Heartbeats change a record every few seconds; the token table only when membership or tokens change.
    let topologyChanged = next.size !== this.byId.size;
    if (!topologyChanged) {
      for (const [id, d] of next) {
        const prev = this.byId.get(id);
        if (!prev || prev.zone !== d.zone || !sameTokens(prev.tokens, d.tokens)) {
          topologyChanged = true;
          break;
        }
      }
    }
    const before = this.byId;
    this.byId = next;
    if (topologyChanged) this.rebuild();
    for (const [id, d] of next) {
      const prev = before.get(id);
      if (!prev) this.logger.info('instance joined the ring', { instance: id, state: d.state, tokens: d.tokens.length });
      else if (prev.state !== d.state) this.logger.info('ring instance changed state', { instance: id, from: prev.state, to: d.state });
    }
    for (const id of before.keys()) if (!next.has(id)) this.logger.info('instance left the ring', { instance: id });
    for (const l of this.listeners) {
      try {
        l(this);
      } catch (err) {
        this.logger.error('ring change listener failed', { err });
      }
    }
  }

  private rebuild(): void {
    // Ids in sorted order give each instance a small index; a token claimed twice goes to the smaller id on every
    // reader alike (pairs sort by token, then by that index).
    const ids = [...this.byId.keys()].sort();
    let total = 0;
    for (const id of ids) total += this.byId.get(id)!.tokens.length;
    const pairs = new Float64Array(total);
    let p = 0;
    for (let idx = 0; idx < ids.length; idx++) {
      for (const t of this.byId.get(ids[idx]!)!.tokens) pairs[p++] = t * PAIR_SHIFT + idx;
    }
    pairs.sort();
    const tokens = new Uint32Array(total);
    const owners: string[] = [];
    let n = 0;
    for (let k = 0; k < total; k++) {
      const token = Math.floor(pairs[k]! / PAIR_SHIFT);
      if (n > 0 && tokens[n - 1] === token) continue;
      tokens[n] = token;
      owners.push(ids[pairs[k]! - token * PAIR_SHIFT]!);
      n++;
    }
    this.tokens = tokens.slice(0, n);
    this.owners = owners;
    const zones = new Set<string>();
    this.hasZonelessInstance = false;
    for (const d of this.byId.values()) {
      if (d.zone === '') this.hasZonelessInstance = true;
      else zones.add(d.zone);
    }
    this.zoneCount = zones.size;
  }
}

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Index of the first token strictly greater than `key`, wrapping to 0 past the end. */
function upperBound(tokens: Uint32Array, key: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tokens[mid]! > key) hi = mid;
    else lo = mid + 1;
  }
  return lo === tokens.length ? 0 : lo;
}
