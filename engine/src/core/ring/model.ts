/**
 * The ring's vocabulary: an instance's descriptor as every backend stores it, its states, and the operations a
 * replication set is computed for. The descriptor's JSON form is the wire format between processes (etcd value,
 * Kubernetes Lease annotation); docs/ring.md shows it.
 */

/**
 * States an instance writes for itself (Loki's names). `UNHEALTHY` is not one of them: readers derive it when the
 * heartbeat is older than `heartbeat_timeout` (see {@link RING_UNHEALTHY}).
 *  - `PENDING`: registered without tokens. Strata's lifecycler never writes it; it is accepted from the store and
 *    treated as Loki does (readable, not writable, the walk extends past it).
 *  - `JOINING`: tokens claimed, not yet taking writes (during `join_after`).
 *  - `ACTIVE`: takes writes and reads.
 *  - `LEAVING`: shutting down and flushing: no writes, still read (it holds unflushed data).
 */
export type InstanceState = 'PENDING' | 'JOINING' | 'ACTIVE' | 'LEAVING';

export const INSTANCE_STATES: readonly InstanceState[] = ['PENDING', 'JOINING', 'ACTIVE', 'LEAVING'];

/** What the status page shows for an instance whose heartbeat is older than the heartbeat timeout. */
export const RING_UNHEALTHY = 'UNHEALTHY';

/** One instance of a ring, exactly as stored. Times are milliseconds since the Unix epoch (the writer's clock). */
export interface InstanceDesc {
  id: string;
  /** `host:port` other components use to reach it. */
  addr: string;
  /** Availability zone; '' when none. */
  zone: string;
  state: InstanceState;
  /** Sorted ascending, distinct, each a uint32. */
  tokens: number[];
  /** Last heartbeat. */
  heartbeat: number;
  /** When the instance first registered (kept across restarts that reuse its tokens). */
  registered: number;
}

/**
 * What a replication set is computed for:
 *  - `write`: only ACTIVE instances take writes; the token walk goes one instance further for each instance met in
 *    another state (JOINING, LEAVING, PENDING), so a key still gets `replication_factor` writable replicas;
 *  - `read`: ACTIVE, LEAVING and PENDING instances answer reads; the walk extends past JOINING and PENDING ones;
 *  - `reporting`: any state (status pages, counts of live members).
 * In every case an instance whose heartbeat is older than the heartbeat timeout is unhealthy and skipped.
 */
export type RingOp = 'write' | 'read' | 'reporting';

/** Whether `state` may serve `op` (heartbeat freshness is checked separately). */
export function stateServes(op: RingOp, state: InstanceState): boolean {
  switch (op) {
    case 'write':
      return state === 'ACTIVE';
    case 'read':
      return state === 'ACTIVE' || state === 'LEAVING' || state === 'PENDING';
    case 'reporting':
      return true;
  }
}

/** Whether meeting an instance in `state` during the token walk adds one more instance to the set. */
export function extendsReplicaSet(op: RingOp, state: InstanceState): boolean {
  switch (op) {
    case 'write':
      return state !== 'ACTIVE';
    case 'read':
      return state !== 'ACTIVE' && state !== 'LEAVING';
    case 'reporting':
      return false;
  }
}

const MAX_UINT32 = 0xffffffff;

/** A deep copy (descriptors cross process boundaries as JSON; in-process holders must not share arrays). */
export function cloneInstanceDesc(d: InstanceDesc): InstanceDesc {
  return { ...d, tokens: d.tokens.slice() };
}

/** The stored JSON of a descriptor. */
export function encodeInstanceDesc(d: InstanceDesc): string {
  return JSON.stringify({
    id: d.id,
    addr: d.addr,
    zone: d.zone,
    state: d.state,
    tokens: d.tokens,
    heartbeat: d.heartbeat,
    registered: d.registered,
  });
}

/**
 * Parses and checks a stored descriptor; `undefined` for anything malformed (a reader skips such a record rather
 * than trusting it: a bad token list would corrupt every replication set). Tokens are sorted and de-duplicated.
 */
export function decodeInstanceDesc(text: string): InstanceDesc | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.id !== 'string' || o.id === '') return undefined;
  if (typeof o.addr !== 'string' || typeof o.zone !== 'string') return undefined;
  if (typeof o.state !== 'string' || !(INSTANCE_STATES as readonly string[]).includes(o.state)) return undefined;
  if (!Number.isSafeInteger(o.heartbeat) || !Number.isSafeInteger(o.registered)) return undefined;
  if (!Array.isArray(o.tokens)) return undefined;
  for (const t of o.tokens) {
    if (!Number.isInteger(t) || (t as number) < 0 || (t as number) > MAX_UINT32) return undefined;
  }
  const tokens = normalizeTokens(o.tokens as number[]);
  return {
    id: o.id,
    addr: o.addr,
    zone: o.zone,
    state: o.state as InstanceState,
    tokens,
    heartbeat: o.heartbeat as number,
    registered: o.registered as number,
  };
}

/** Sorted ascending without duplicates (a new array). */
export function normalizeTokens(tokens: readonly number[]): number[] {
  const sorted = Uint32Array.from(tokens).sort();
  const out: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) out.push(sorted[i]!);
  return out;
}
