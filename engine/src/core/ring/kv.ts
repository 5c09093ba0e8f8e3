/**
 * RingKv: where a ring's membership lives. One record per instance, written only by that instance (its lifecycler)
 * and read by everyone (list + watch). No compare-and-swap is needed because no two writers share a record; see
 * docs/adr/0010-ring.md. Backends: in-memory (one process), etcd, Kubernetes Leases.
 */
import type { InstanceDesc } from './model.js';

export type RingKvKind = 'inmemory' | 'etcd' | 'kubernetes';

export interface RingKv {
  readonly kind: RingKvKind;
  /** `<kvstore.prefix><ring name>`, e.g. `collectors/ingester`: what this store holds, for logs and status pages. */
  readonly ringKey: string;
  /** Creates or replaces the record of `desc.id`. */
  put(desc: InstanceDesc): Promise<void>;
  /** The record of `id`, or undefined when there is none (or it is malformed). */
  get(id: string): Promise<InstanceDesc | undefined>;
  /** Removes the record of `id`; resolves also when there was none. */
  delete(id: string): Promise<void>;
  /** Every well-formed record now. */
  list(): Promise<InstanceDesc[]>;
  /**
   * Follows the ring: `onSnapshot` receives every record after the initial list and again after each change. The
   * watch survives store outages and restarts (it reconnects with backoff, and relists when it may have missed
   * changes); errors go to the logger, never to the caller. `onSnapshot` must not throw (a throw is logged).
   */
  watch(onSnapshot: (instances: InstanceDesc[]) => void): RingKvWatch;
  /** Stops every watch and releases connections. */
  close(): Promise<void>;
}

export interface RingKvWatch {
  /** Resolves once the first complete snapshot has been delivered (never rejects; it waits through outages). */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

/** A store operation that failed (network, permissions, unexpected answers). Not a request-path error. */
export class RingKvError extends Error {
  constructor(
    message: string,
    /** HTTP status for the Kubernetes backend, when the apiserver answered. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RingKvError';
  }
}

/** Restart delays after a failure: `initialMs · 2^n`, capped at `maxMs`, with ±20 % jitter. */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const initial = opts.initialMs ?? 200;
  const max = opts.maxMs ?? 5_000;
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
