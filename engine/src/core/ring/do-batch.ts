/**
 * Fan-out helpers over replication sets, callback-based so the distributor and querier bring their own transport
 * (a direct call in one process, HTTP between processes).
 */
import type { InstanceDesc, RingOp } from './model.js';
import type { ReadRing, ReplicationSet } from './ring.js';

export interface DoBatchOptions {
  /** Default `write`. */
  op?: RingOp;
  /**
   * Called once after every instance call has settled, success or not — also when `doBatch` already resolved or
   * rejected (calls are never abandoned: a replica that answers late still gets its data).
   */
  cleanup?: () => void;
}

/**
 * Sends many keys (e.g. the streams of one push) to their replicas, calling each instance once with the indexes
 * (into `keys`) of every key it holds a replica of. Resolves when every key has reached its quorum; rejects with
 * the error that took some key past the failures it tolerates (without waiting for the other calls), or at once
 * with the ring's `unavailable` EngineError when some key cannot reach a quorum at all (no instance is called then).
 * `callback` receives ascending indexes; it may throw or reject.
 */
export function doBatch(
  ring: Pick<ReadRing, 'get'>,
  keys: ArrayLike<number>,
  callback: (instance: InstanceDesc, indexes: number[]) => Promise<void>,
  opts: DoBatchOptions = {},
): Promise<void> {
  const op = opts.op ?? 'write';
  const n = keys.length;
  const need = new Int32Array(n);
  const tolerate = new Int32Array(n);
  const byInstance = new Map<string, { instance: InstanceDesc; indexes: number[] }>();
  try {
    for (let i = 0; i < n; i++) {
      const set = ring.get(keys[i]!, op);
      need[i] = set.minSuccess;
      tolerate[i] = set.maxErrors;
      for (const instance of set.instances) {
        let entry = byInstance.get(instance.id);
        if (!entry) {
          entry = { instance, indexes: [] };
          byInstance.set(instance.id, entry);
        }
        entry.indexes.push(i);
      }
    }
  } catch (err) {
    opts.cleanup?.();
    return Promise.reject(err);
  }
  if (n === 0 || byInstance.size === 0) {
    opts.cleanup?.();
    return Promise.resolve();
  }

  const succeeded = new Int32Array(n);
  const failed = new Int32Array(n);
  let remaining = n;
  let pending = byInstance.size;
  return new Promise<void>((resolve, reject) => {
    let decided = false;
    for (const { instance, indexes } of byInstance.values()) {
      invoke(() => callback(instance, indexes))
        .then(
          () => {
            if (decided) return;
            for (const i of indexes) {
              if (++succeeded[i]! === need[i]! && --remaining === 0) {
                decided = true;
                resolve();
                return;
              }
            }
          },
          (err: unknown) => {
            if (decided) return;
            for (const i of indexes) {
              if (++failed[i]! > tolerate[i]!) {
                decided = true;
                reject(err);
                return;
              }
            }
          },
        )
        .finally(() => {
          if (--pending === 0) opts.cleanup?.();
        });
    }
  });
}

/**
 * Calls every instance of a replication set (typically `ring.replicationSetForOperation('read')`) and resolves with
 * the results as soon as enough instances answered:
 *  - `instance` quorum: `minSuccess` successes; rejects once more than `maxErrors` calls failed;
 *  - `zone` quorum: every instance of all zones but `maxUnavailableZones`; rejects once failures span more zones.
 * `signal` aborts once the outcome is decided, so the callback can cancel calls whose answer is no longer needed.
 */
export function doUntilQuorum<T>(
  set: ReplicationSet,
  call: (instance: InstanceDesc, signal: AbortSignal) => Promise<T>,
): Promise<T[]> {
  const controller = new AbortController();
  const results: T[] = [];
  if (set.instances.length === 0) return Promise.resolve(results);
  return new Promise<T[]>((resolve, reject) => {
    let decided = false;
    const finish = (err?: unknown): void => {
      if (decided) return;
      decided = true;
      controller.abort();
      if (err === undefined) resolve(results.slice());
      else reject(err);
    };

    if (set.quorum === 'instance') {
      let failures = 0;
      if (set.minSuccess <= 0) return finish();
      for (const instance of set.instances) {
        invoke(() => call(instance, controller.signal)).then(
          (r) => {
            if (decided) return;
            results.push(r);
            if (results.length >= set.minSuccess) finish();
          },
          (err: unknown) => {
            if (!decided && ++failures > set.maxErrors) finish(err);
          },
        );
      }
      return;
    }

    const zonePending = new Map<string, number>();
    for (const d of set.instances) zonePending.set(d.zone, (zonePending.get(d.zone) ?? 0) + 1);
    const zonesNeeded = Math.max(0, zonePending.size - set.maxUnavailableZones);
    const failedZones = new Set<string>();
    let doneZones = 0;
    if (zonesNeeded === 0) return finish();
    for (const instance of set.instances) {
      invoke(() => call(instance, controller.signal)).then(
        (r) => {
          if (decided || failedZones.has(instance.zone)) return;
          results.push(r);
          const left = zonePending.get(instance.zone)! - 1;
          zonePending.set(instance.zone, left);
          if (left === 0 && ++doneZones >= zonesNeeded) finish();
        },
        (err: unknown) => {
          if (decided) return;
          failedZones.add(instance.zone);
          if (failedZones.size > set.maxUnavailableZones) finish(err);
        },
      );
    }
  });
}

/** Runs `fn` so a synchronous throw becomes a rejection. */
function invoke<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}
