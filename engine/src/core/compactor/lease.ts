import { isObjectNotFound, type ObjectClient } from '../storage/object-client.js';
import type { Clock } from '../util/clock.js';

/**
 * Who may act as the compactor. Only the holder compacts, applies retention, processes deletes and sweeps; every
 * other instance stays idle until the holder is gone. An interface so that a ring-based owner (Loki's compactor ring)
 * can replace the lease without touching the compactor.
 */
export interface CompactorLock {
  /** Takes the lock, or renews it when already held; resolves whether this instance holds it now. */
  acquire(): Promise<boolean>;
  /** Gives the lock up so another instance can take over at once (graceful stop). */
  release(): Promise<void>;
  /** The holder as stored, for status pages; undefined when nobody holds it. */
  holder(): Promise<LeaseState | undefined>;
}

export interface LeaseState {
  holder: string;
  acquiredAtMs: number;
  renewedAtMs: number;
  expiresAtMs: number;
}

export const LEASE_KEY = 'compactor/lease.json';
const LEASE_FORMAT = 1;

export interface ObjectStoreLeaseOptions {
  /** This instance's identity (the ring instance ID, default the hostname). */
  holder: string;
  /** How long a lease lasts without renewal (ms); a dead holder is replaced this long after its last renewal. */
  ttlMs?: number;
  /**
   * After writing a lease it did not hold, wait this long (real ms) and read it back before acting: two instances
   * taking an expired lease at once both write, and only the last writer reads its own name.
   */
  settleMs?: number;
}

/**
 * A lease in the object store: `compactor/lease.json` names the holder and when the lease expires (docs/compactor.md).
 * The holder renews it on every heartbeat; another instance takes it only once it has expired. Object stores offer no
 * compare-and-swap here, so a takeover is confirmed by reading the lease back after `settleMs`; what remains of the race
 * is harmless because every compactor step is idempotent and only ever deletes what it has itself merged (ADR 0009).
 */
export class ObjectStoreLease implements CompactorLock {
  readonly holderId: string;
  private readonly ttlMs: number;
  private readonly settleMs: number;
  private cancelSettle: (() => void) | undefined;

  constructor(
    private readonly store: ObjectClient,
    private readonly clock: Clock,
    opts: ObjectStoreLeaseOptions,
  ) {
    this.holderId = opts.holder;
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.settleMs = opts.settleMs ?? 1_000;
  }

  async holder(): Promise<LeaseState | undefined> {
    let buf: Buffer;
    try {
      buf = await this.store.get(LEASE_KEY);
    } catch (e) {
      if (isObjectNotFound(e)) return undefined;
      throw e;
    }
    try {
      const d = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
      if (d.format !== LEASE_FORMAT || typeof d.holder !== 'string') return undefined;
      return {
        holder: d.holder,
        acquiredAtMs: Number(d.acquired_at_ms),
        renewedAtMs: Number(d.renewed_at_ms),
        expiresAtMs: Number(d.expires_at_ms),
      };
    } catch {
      // A damaged lease is treated as no lease: the next writer replaces it.
      return undefined;
    }
  }

  async acquire(): Promise<boolean> {
    const now = this.clock.now();
    const cur = await this.holder();
    const mine = cur?.holder === this.holderId;
    if (cur !== undefined && !mine && cur.expiresAtMs > now) return false;
    const acquiredAtMs = mine ? cur.acquiredAtMs : now;
    await this.write({ holder: this.holderId, acquiredAtMs, renewedAtMs: now, expiresAtMs: now + this.ttlMs });
    if (!mine) {
      if (this.settleMs > 0 && !(await this.settle())) return false;
      const after = await this.holder();
      if (after?.holder !== this.holderId) return false;
    }
    return true;
  }

  /** Also abandons a takeover waiting to settle (its acquire resolves false), so a stop is never delayed by it. */
  async release(): Promise<void> {
    this.cancelSettle?.();
    const cur = await this.holder();
    if (cur?.holder === this.holderId) await this.store.delete(LEASE_KEY);
  }

  private settle(): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.cancelSettle = undefined;
        resolve(true);
      }, this.settleMs);
      this.cancelSettle = () => {
        clearTimeout(t);
        this.cancelSettle = undefined;
        resolve(false);
      };
    });
  }

  private write(s: LeaseState): Promise<void> {
    const doc = {
      format: LEASE_FORMAT,
      holder: s.holder,
      acquired_at_ms: s.acquiredAtMs,
      renewed_at_ms: s.renewedAtMs,
      expires_at_ms: s.expiresAtMs,
    };
    return this.store.put(LEASE_KEY, Buffer.from(JSON.stringify(doc) + '\n'));
  }
}
