/**
 * The write side of a ring for one instance: registers it with tokens, moves it JOINING → ACTIVE, heartbeats, and
 * on stop moves it to LEAVING, awaits the caller's flush (heartbeating meanwhile: a flush may take minutes and the
 * instance still answers reads), then removes its record.
 *
 * Every store write carries the whole descriptor as it is when the write runs, and writes are serialised, so the
 * last write always reflects the latest state (a heartbeat can never overwrite LEAVING with ACTIVE). A failed write
 * is logged and repaired by the next heartbeat; registration retries with backoff until it succeeds or stop().
 */
import { systemClock, type Clock } from '../util/clock.js';
import { nopLogger, type Logger } from '../util/logger.js';
import { backoffDelay, type BackoffOptions, type RingKv } from './kv.js';
import { cloneInstanceDesc, normalizeTokens, type InstanceDesc, type InstanceState } from './model.js';
import { realTimers, type RingTimers, type TimerHandle } from './timers.js';
import { cryptoTokenRandom, generateTokens, type TokenRandom } from './tokens.js';

export interface LifecyclerOptions {
  kv: RingKv;
  /** Unique in the ring and stable across restarts (a pod name), so a restart finds and reuses its tokens. */
  id: string;
  /** `host:port` other components reach this instance at. */
  addr: string;
  /** Availability zone; '' (default) when none. */
  zone?: string;
  /** Default 128 (Loki's `num_tokens`). */
  numTokens?: number;
  /** Milliseconds between heartbeats; default 5 000. 0 disables heartbeats (Loki's meaning of 0). */
  heartbeatPeriodMs?: number;
  /** Milliseconds spent JOINING before ACTIVE; default 0 (ACTIVE right after registering). */
  joinAfterMs?: number;
  /** Awaited by stop() while LEAVING, before the record is removed: flush in-memory data here. */
  flush?: () => Promise<void>;
  /** Registration and unregistration retry delays. */
  retryBackoff?: BackoffOptions;
  /** Attempts to remove the record on stop() before giving up (it then turns UNHEALTHY for readers). Default 5. */
  unregisterAttempts?: number;
  clock?: Clock;
  timers?: RingTimers;
  logger?: Logger;
  /** Token source (tests make it deterministic). */
  random?: TokenRandom;
}

export type LifecyclerPhase = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class Lifecycler {
  readonly id: string;
  private readonly kv: RingKv;
  private readonly opts: LifecyclerOptions;
  private readonly clock: Clock;
  private readonly timers: RingTimers;
  private readonly logger: Logger;
  private readonly numTokens: number;
  private readonly heartbeatPeriodMs: number;
  private readonly joinAfterMs: number;

  private desc: InstanceDesc | undefined;
  private phaseValue: LifecyclerPhase = 'new';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private joinTimer: TimerHandle | undefined;
  private retryWake: (() => void) | undefined;
  private retryTimer: TimerHandle | undefined;
  private writes: Promise<void> = Promise.resolve();
  private heartbeatStopped = false;

  constructor(opts: LifecyclerOptions) {
    if (opts.id === '') throw new RangeError('a ring instance needs an id');
    this.opts = opts;
    this.id = opts.id;
    this.kv = opts.kv;
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? realTimers;
    this.logger = (opts.logger ?? nopLogger).with({ ring: opts.kv.ringKey, instance: opts.id });
    this.numTokens = opts.numTokens ?? 128;
    this.heartbeatPeriodMs = opts.heartbeatPeriodMs ?? 5_000;
    this.joinAfterMs = opts.joinAfterMs ?? 0;
    if (!Number.isInteger(this.numTokens) || this.numTokens < 1) {
      throw new RangeError(`num_tokens must be a positive integer, got ${this.numTokens}`);
    }
  }

  get phase(): LifecyclerPhase {
    return this.phaseValue;
  }

  /** The state last set locally (undefined before registration and after unregistering). */
  get state(): InstanceState | undefined {
    return this.phaseValue === 'stopped' ? undefined : this.desc?.state;
  }

  get tokens(): readonly number[] {
    return this.desc?.tokens ?? [];
  }

  /** A copy of the descriptor this instance writes (undefined before registration). */
  describe(): InstanceDesc | undefined {
    return this.desc ? cloneInstanceDesc(this.desc) : undefined;
  }

  /**
   * Registers the instance: reuses the tokens of an existing record with this id (a restart), tops them up to
   * `num_tokens`, and draws new ones that collide with no other instance's. Writes JOINING, then ACTIVE at once when
   * `join_after` is 0 (start() resolves after that) or after `join_after` (start() resolves when JOINING is
   * written). Retries the store until it answers; stop() ends the retries.
   */
  start(): Promise<void> {
    if (this.stopping) return Promise.reject(new Error(`lifecycler ${this.id} was already stopped`));
    if (!this.starting) {
      this.phaseValue = 'starting';
      this.starting = this.register();
    }
    return this.starting;
  }

  /** Writes a heartbeat now (timers call this every heartbeat period). Never rejects; a failure is logged. */
  async heartbeat(): Promise<void> {
    // Once stop() stopped heartbeating, a write could re-create the record it is about to delete.
    if (!this.desc || this.heartbeatStopped) return;
    await this.write('heartbeat');
  }

  /**
   * Leaves the ring: LEAVING → `flush` (heartbeats continue) → record removed. Resolves once the record is gone
   * (or the removal gave up after `unregisterAttempts`). A flush failure is logged and re-thrown after the record
   * was removed: the data is still in the WAL. Idempotent.
   */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.leave();
    return this.stopping;
  }

  private async register(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopping) return;
      try {
        const all = await this.kv.list();
        if (this.stopping) return;
        const own = all.find((d) => d.id === this.id);
        const taken = new Set<number>();
        for (const d of all) if (d.id !== this.id) for (const t of d.tokens) taken.add(t);
        const kept = (own?.tokens ?? []).filter((t) => !taken.has(t));
        const tokens = normalizeTokens(
          kept.length >= this.numTokens
            ? kept
            : [...kept, ...generateTokens(this.numTokens - kept.length, [...taken, ...kept], this.opts.random ?? cryptoTokenRandom)],
        );
        const now = this.clock.now();
        const desc: InstanceDesc = {
          id: this.id,
          addr: this.opts.addr,
          zone: this.opts.zone ?? '',
          state: 'JOINING',
          tokens,
          heartbeat: now,
          registered: own?.registered ?? now,
        };
        await this.kv.put(cloneInstanceDesc(desc));
        this.desc = desc;
        this.logger.info(own ? 'instance re-registered in the ring, reusing its tokens' : 'instance registered in the ring', {
          tokens: tokens.length,
          reused: kept.length,
        });
        break;
      } catch (err) {
        const delay = backoffDelay(attempt, this.opts.retryBackoff);
        this.logger.warn('ring registration failed; retrying', { err, retry_in_ms: delay });
        await this.pause(delay);
      }
    }
    if (this.stopping) return;
    this.phaseValue = 'running';
    this.scheduleHeartbeat();
    if (this.joinAfterMs <= 0) {
      await this.setState('ACTIVE');
    } else {
      this.joinTimer = this.timers.setTimeout(() => {
        this.joinTimer = undefined;
        if (this.phaseValue === 'running') void this.setState('ACTIVE');
      }, this.joinAfterMs);
    }
  }

  private async leave(): Promise<void> {
    if (this.phaseValue === 'new') {
      this.phaseValue = 'stopped';
      return;
    }
    // Let a registration in flight finish (or give up) first: the record is either written or never will be.
    this.retryWake?.();
    await this.starting;
    if (this.joinTimer !== undefined) this.timers.clearTimeout(this.joinTimer);
    this.joinTimer = undefined;
    if (!this.desc) {
      this.clearHeartbeat();
      this.phaseValue = 'stopped';
      return;
    }
    this.phaseValue = 'stopping';
    await this.setState('LEAVING');
    let flushError: unknown;
    if (this.opts.flush) {
      try {
        await this.opts.flush();
      } catch (err) {
        flushError = err;
        this.logger.error('flush before leaving the ring failed; the data stays in the WAL', { err });
      }
    }
    this.clearHeartbeat();
    await this.writes;
    const attempts = this.opts.unregisterAttempts ?? 5;
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        await this.kv.delete(this.id);
        this.logger.info('instance left the ring');
        break;
      } catch (err) {
        if (attempt === attempts - 1) {
          this.logger.error('could not remove the instance from the ring; it will show as UNHEALTHY', { err });
          break;
        }
        await this.pause(backoffDelay(attempt, this.opts.retryBackoff), true);
      }
    }
    this.phaseValue = 'stopped';
    if (flushError !== undefined) throw flushError;
  }

  private async setState(state: InstanceState): Promise<void> {
    if (!this.desc || this.desc.state === state) return;
    this.desc.state = state;
    this.logger.info('ring state changed', { state });
    await this.write(`state ${state}`);
  }

  /** Queues a write of the current descriptor; resolves true when the store took it. */
  private write(what: string): Promise<boolean> {
    const result = this.writes.then(async () => {
      if (!this.desc) return false;
      this.desc.heartbeat = Math.max(this.desc.heartbeat, this.clock.now());
      try {
        await this.kv.put(cloneInstanceDesc(this.desc));
        return true;
      } catch (err) {
        this.logger.warn(`ring ${what} write failed`, { err });
        return false;
      }
    });
    this.writes = result.then(() => undefined);
    return result;
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeatPeriodMs <= 0 || this.heartbeatStopped) return;
    this.heartbeatTimer = this.timers.setTimeout(() => {
      this.heartbeatTimer = undefined;
      // The next one is scheduled after this write settles, so heartbeats never pile up behind a slow store.
      void this.heartbeat().finally(() => this.scheduleHeartbeat());
    }, this.heartbeatPeriodMs);
  }

  private clearHeartbeat(): void {
    this.heartbeatStopped = true;
    if (this.heartbeatTimer !== undefined) this.timers.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** Sleeps on the injected timers; stop() wakes a registration retry early (unless `uninterruptible`). */
  private pause(ms: number, uninterruptible = false): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.retryWake = undefined;
        resolve();
      };
      this.retryTimer = this.timers.setTimeout(wake, ms);
      if (!uninterruptible) this.retryWake = wake;
    });
  }
}
