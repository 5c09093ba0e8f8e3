// Lease-based leader election (coordination.k8s.io/v1 Lease), the algorithm of client-go's leaderelection:
// - A candidate reads the Lease every retryPeriod. It takes the Lease when it does not exist, has no holder, or its
//   record has not changed for leaseDuration as measured on OUR clock from when we last saw it change — never by
//   comparing the remote renewTime with our wall clock, so clock skew between replicas cannot elect two leaders.
// - Every write is an optimistic-concurrency update (resourceVersion), so of two candidates only one wins a race.
// - The leader renews every retryPeriod; if no renewal succeeds within renewDeadline of the last good one it stops
//   leading (onStoppedLeading) before any other candidate can take over (renewDeadline < leaseDuration).
// - stop() ends leadership (awaiting onStoppedLeading, so the work stops first) and releases the Lease by clearing
//   its holder, so a standby takes over at its next retry instead of after leaseDuration.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { KubeClient, ObjectRef } from './client.js';
import { realClock, sleep, type Clock } from './clock.js';
import { isKubeError } from './errors.js';
import { silentLogger, type KubeLogger } from './logger.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: V1ObjectMeta;
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  /** The Lease object; created when missing. */
  lease: { name: string; namespace: string };
  /** This replica's identity (pod name + a random suffix is typical); must differ between replicas. */
  identity: string;
  /** How long a non-renewed lease keeps others waiting. Whole seconds in the Lease. Default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up when it has not renewed for this long. Default 10 s. */
  renewDeadlineMs?: number;
  /** Interval between attempts (candidates) and renewals (leader). Default 2 s. */
  retryPeriodMs?: number;
  /** Became leader. */
  onStartedLeading?: () => void;
  /** Stopped leading: renewals failed past the deadline, or stop(). Awaited before the lease is released. */
  onStoppedLeading?: () => void | Promise<void>;
  /** The observed holder changed (undefined: nobody holds the lease). */
  onNewLeader?: (identity: string | undefined) => void;
  clock?: Clock;
  log?: KubeLogger;
}

const LEASE_API = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' } as const;

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly ref: ObjectRef;
  private readonly identity: string;
  private readonly leaseDurationMs: number;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly log: KubeLogger;
  private readonly options: LeaderElectionOptions;
  private readonly stopController = new AbortController();

  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private leading = false;
  private observed: { lease: Lease; at: number } | undefined;
  private observedHolder: string | undefined;

  constructor(options: LeaderElectionOptions) {
    this.options = options;
    this.client = options.client;
    this.ref = { ...LEASE_API, name: options.lease.name, namespace: options.lease.namespace };
    this.identity = options.identity;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.leaseDurationSeconds = Math.max(1, Math.ceil(this.leaseDurationMs / 1000));
    this.clock = options.clock ?? realClock;
    this.log = options.log ?? silentLogger;
    if (!this.identity) throw new Error('leader election: identity must not be empty');
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new Error('leader election: leaseDuration must exceed renewDeadline');
    if (!(this.renewDeadlineMs > this.retryPeriodMs)) throw new Error('leader election: renewDeadline must exceed retryPeriod');
  }

  /** Campaigns (and, once leading, renews) in the background until stop(). */
  start(): void {
    if (this.loop || this.stopController.signal.aborted) return;
    this.loop = this.run().catch((err: unknown) => {
      // run() handles every expected failure; this is a bug guard so the process never dies of it.
      this.log.error('leader election loop failed', { err: String(err) });
    });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder of the lease as last observed (this identity when leading). */
  leader(): string | undefined {
    return this.observedHolder;
  }

  /** Stops campaigning; if leading, stops leading (awaiting onStoppedLeading) and releases the lease. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopController.abort();
      await this.loop;
    })();
    return this.stopping;
  }

  private async run(): Promise<void> {
    const stopped = this.stopController.signal;
    while (!stopped.aborted) {
      // Candidate: try until we hold the lease.
      if (!(await this.tryAcquireOrRenew(this.retryPeriodMs))) {
        await sleep(this.clock, this.jittered(this.retryPeriodMs), stopped);
        continue;
      }
      this.leading = true;
      this.log.info('became leader', { lease: this.ref.name, identity: this.identity });
      this.safely(() => this.options.onStartedLeading?.());
      let lastRenew = this.clock.now();
      // Leader: renew until stopped or until renewals have failed for renewDeadline.
      while (!stopped.aborted) {
        await sleep(this.clock, this.retryPeriodMs, stopped);
        if (stopped.aborted) break;
        const remaining = lastRenew + this.renewDeadlineMs - this.clock.now();
        if (remaining > 0 && (await this.tryAcquireOrRenew(remaining))) {
          lastRenew = this.clock.now();
          continue;
        }
        if (this.clock.now() - lastRenew >= this.renewDeadlineMs) {
          this.log.warn('lost leadership: could not renew the lease in time', { lease: this.ref.name, identity: this.identity });
          break;
        }
      }
      this.leading = false;
      await this.safelyAsync(() => this.options.onStoppedLeading?.());
      if (stopped.aborted) await this.release();
    }
  }

  /** One attempt to create, take over or renew the lease; true when we hold it afterwards. */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const request = { signal: this.stopController.signal, timeoutMs: Math.max(1, timeoutMs) };
    const nowIso = microTime(new Date());
    try {
      const current = await this.client.get<Lease>(this.ref, request);
      if (!current) {
        const created = await this.client.create<Lease>(
          {
            ...LEASE_API,
            metadata: { name: this.ref.name, namespace: this.ref.namespace! },
            spec: {
              holderIdentity: this.identity,
              leaseDurationSeconds: this.leaseDurationSeconds,
              acquireTime: nowIso,
              renewTime: nowIso,
              leaseTransitions: 0,
            },
          },
          request,
        );
        this.observe(created);
        return true;
      }
      this.observe(current);
      const spec = current.spec ?? {};
      const holder = spec.holderIdentity || undefined;
      const durationMs = (spec.leaseDurationSeconds ?? this.leaseDurationSeconds) * 1000;
      if (holder && holder !== this.identity && this.clock.now() < this.observed!.at + durationMs) return false;
      const renewing = holder === this.identity;
      const updated = await this.client.replace<Lease>(
        {
          ...current,
          spec: {
            ...spec,
            holderIdentity: this.identity,
            leaseDurationSeconds: this.leaseDurationSeconds,
            acquireTime: renewing && spec.acquireTime ? spec.acquireTime : nowIso,
            renewTime: nowIso,
            leaseTransitions: (spec.leaseTransitions ?? 0) + (renewing ? 0 : 1),
          },
        },
        request,
      );
      this.observe(updated);
      return true;
    } catch (err) {
      // Conflict: another candidate wrote first. Anything else: the apiserver is unreachable or refuses; either way
      // this attempt failed and the caller's timing rules decide what that means.
      if (!this.stopController.signal.aborted && !isKubeError(err, 'Conflict')) {
        this.log.debug('lease attempt failed', { lease: this.ref.name, err: String(err) });
      }
      return false;
    }
  }

  private observe(lease: Lease): void {
    const changed = !this.observed || this.observed.lease.metadata.resourceVersion !== lease.metadata?.resourceVersion;
    if (changed) this.observed = { lease, at: this.clock.now() };
    const holder = lease.spec?.holderIdentity || undefined;
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      this.safely(() => this.options.onNewLeader?.(holder));
    }
  }

  /** Clears the holder so a standby can take over at once; skipped if someone else already holds the lease. */
  private async release(): Promise<void> {
    const request = { timeoutMs: this.retryPeriodMs };
    try {
      const current = await this.client.get<Lease>(this.ref, request);
      if (!current || current.spec?.holderIdentity !== this.identity) return;
      const nowIso = microTime(new Date());
      await this.client.replace<Lease>(
        {
          ...current,
          spec: {
            ...current.spec,
            holderIdentity: undefined,
            leaseDurationSeconds: 1,
            acquireTime: nowIso,
            renewTime: nowIso,
          },
        },
        request,
      );
      this.observedHolder = undefined;
      this.log.info('released the lease', { lease: this.ref.name, identity: this.identity });
    } catch (err) {
      // Not fatal: the lease simply expires after leaseDuration.
      this.log.warn('could not release the lease', { lease: this.ref.name, err: String(err) });
    }
  }

  private jittered(ms: number): number {
    return ms * (1 + Math.random() * 0.2);
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error('leader election callback failed', { err: String(err) });
    }
  }

  private async safelyAsync(fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.error('leader election callback failed', { err: String(err) });
    }
  }
}

/** A metav1.MicroTime: RFC 3339 with exactly six fractional digits (the apiserver rejects three). */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
