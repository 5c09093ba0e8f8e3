// The operator's work queue, on a fake clock: de-duplication, one reconcile in flight per key, N workers, per-key
// exponential backoff, requeueAfter, periodic resync and draining shutdown.
import { FakeClock, settle } from '../../operator/src/kube/clock.js';
import { WorkQueue, backoffDelay, objectKey, parseObjectKey, type ReconcileContext } from '../../operator/src/kube/work-queue.js';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A reconciler that records each call and blocks until the test releases it. */
function gatedReconciler() {
  const calls: { key: string; at: number; ctx: ReconcileContext; gate: Deferred }[] = [];
  let active = 0;
  let maxActive = 0;
  const activePerKey = new Map<string, number>();
  let maxPerKey = 0;
  return {
    calls,
    maxActive: () => maxActive,
    maxPerKey: () => maxPerKey,
    reconciler(clock: FakeClock) {
      return async (key: string, ctx: ReconcileContext) => {
        const gate = deferred();
        calls.push({ key, at: clock.now(), ctx, gate });
        active++;
        maxActive = Math.max(maxActive, active);
        activePerKey.set(key, (activePerKey.get(key) ?? 0) + 1);
        maxPerKey = Math.max(maxPerKey, activePerKey.get(key)!);
        try {
          await gate.promise;
        } finally {
          active--;
          activePerKey.set(key, activePerKey.get(key)! - 1);
        }
      };
    },
  };
}

describe('WorkQueue', () => {
  it('reconciles a key added many times before a worker is free only once', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const q = new WorkQueue({ clock, reconcile: (key) => void seen.push(key) });
    for (let i = 0; i < 5; i++) q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    expect(q.stats().queued).toBe(2);
    q.start();
    await q.idle();
    expect(seen).toEqual(['ns/a', 'ns/b']);
  });

  it('never runs one key twice at once; a key re-added while in flight runs again afterwards, once', async () => {
    const clock = new FakeClock();
    const r = gatedReconciler();
    const q = new WorkQueue({ clock, workers: 4, reconcile: r.reconciler(clock) });
    q.start();
    q.add('ns/a');
    await settle();
    expect(r.calls).toHaveLength(1);
    // Three events while the first reconcile is in flight: collapse into one follow-up.
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/a');
    await settle();
    expect(r.calls).toHaveLength(1);
    expect(q.stats()).toMatchObject({ inFlight: 1, queued: 0 });
    r.calls[0]!.gate.resolve();
    await settle();
    expect(r.calls).toHaveLength(2);
    r.calls[1]!.gate.resolve();
    await q.idle();
    expect(r.calls).toHaveLength(2);
    expect(r.maxPerKey()).toBe(1);
  });

  it('runs different keys concurrently, up to the number of workers', async () => {
    const clock = new FakeClock();
    const r = gatedReconciler();
    const q = new WorkQueue({ clock, workers: 2, reconcile: r.reconciler(clock) });
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    q.start();
    await settle();
    expect(r.calls.map((c) => c.key)).toEqual(['a', 'b']);
    expect(q.stats()).toMatchObject({ inFlight: 2, queued: 3 });
    r.calls[1]!.gate.resolve();
    await settle();
    expect(r.calls.map((c) => c.key)).toEqual(['a', 'b', 'c']);
    for (let i = 0; i < 5; i++) {
      for (const c of r.calls) c.gate.resolve();
      await settle();
    }
    await q.idle();
    expect(r.calls.map((c) => c.key).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(r.maxActive()).toBe(2);
  });

  it('retries a failing key with exponential backoff capped at max, and forgets failures on success', async () => {
    const clock = new FakeClock();
    const attempts: { at: number; failures: number }[] = [];
    let failUntil = 6;
    const errors: (number | undefined)[] = [];
    const q = new WorkQueue({
      clock,
      backoff: { baseMs: 100, maxMs: 1000 },
      onError: (_key, _err, retryIn) => errors.push(retryIn),
      reconcile: (_key, ctx) => {
        attempts.push({ at: clock.now(), failures: ctx.failures });
        if (attempts.length <= failUntil) throw new Error('apiserver said no');
      },
    });
    q.start();
    q.add('ns/a');
    await clock.advance(10_000);
    // Delays 100, 200, 400, 800, 1000 (capped), 1000, then success.
    expect(attempts.map((a) => a.at)).toEqual([0, 100, 300, 700, 1500, 2500, 3500]);
    expect(attempts.map((a) => a.failures)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(errors).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(q.failures('ns/a')).toBe(0);
    expect(q.stats()).toMatchObject({ failing: 0, delayed: 0, errors: 6, reconciles: 7 });

    // After a success the next failure starts again at the base delay.
    failUntil = attempts.length + 1;
    q.add('ns/a');
    await clock.advance(10_000);
    expect(attempts.slice(7).map((a) => a.at - attempts[7]!.at)).toEqual([0, 100]);
  });

  it('keeps per-key backoff independent', async () => {
    const clock = new FakeClock();
    const attempts: string[] = [];
    const q = new WorkQueue({
      clock,
      backoff: { baseMs: 100, maxMs: 10_000 },
      reconcile: (key) => {
        attempts.push(`${key}@${clock.now()}`);
        if (key === 'bad') throw new Error('boom');
      },
    });
    q.start();
    q.add('bad');
    await clock.advance(250); // bad @0, @100; next @300
    q.add('good');
    await clock.advance(0);
    expect(attempts).toEqual(['bad@0', 'bad@100', 'good@250']);
    expect(q.failures('bad')).toBe(2);
    expect(q.failures('good')).toBe(0);
    await q.shutdown();
  });

  it('treats a synchronous throw as a failure', async () => {
    const clock = new FakeClock();
    let n = 0;
    const q = new WorkQueue({
      clock,
      backoff: { baseMs: 50, maxMs: 50 },
      reconcile: () => {
        n++;
        if (n === 1) throw new Error('sync');
      },
    });
    q.start();
    q.add('k');
    await clock.advance(50);
    expect(n).toBe(2);
  });

  it('requeues after requeueAfterMs, keeping the earliest of several delays', async () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const q = new WorkQueue({
      clock,
      reconcile: () => {
        at.push(clock.now());
        return at.length === 1 ? { requeueAfterMs: 5000 } : undefined;
      },
    });
    q.start();
    q.add('k');
    await clock.advance(1000);
    q.addAfter('k', 9000); // later than the pending 5000 → ignored
    q.addAfter('k', 2000); // earlier → wins (due at 3000)
    await clock.advance(20_000);
    expect(at).toEqual([0, 3000]);
  });

  it('resyncs every known key periodically', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const q = new WorkQueue({ clock, resyncMs: 1000, reconcile: (key) => void seen.push(`${key}@${clock.now()}`) });
    q.add('a');
    q.add('b');
    q.start();
    await clock.advance(2500);
    expect(seen).toEqual(['a@0', 'b@0', 'a@1000', 'b@1000', 'a@2000', 'b@2000']);
    q.remove('a');
    await clock.advance(1000);
    expect(seen.slice(6)).toEqual(['b@3000']);
    await q.shutdown();
    expect(clock.pending()).toBe(0);
  });

  it('resyncs the keys a provider returns', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    let keys = ['x', 'y'];
    const q = new WorkQueue({ clock, resyncMs: 500, resyncKeys: () => keys, reconcile: (key) => void seen.push(key) });
    q.start();
    await clock.advance(500);
    keys = ['z'];
    await clock.advance(500);
    expect(seen).toEqual(['x', 'y', 'z']);
    await q.shutdown();
  });

  it('shuts down by draining: in-flight reconciles finish, queued and delayed keys are dropped, signal aborts', async () => {
    const clock = new FakeClock();
    const r = gatedReconciler();
    const q = new WorkQueue({ clock, workers: 1, resyncMs: 1000, reconcile: r.reconciler(clock) });
    q.start();
    q.add('a');
    q.add('b');
    q.addAfter('c', 100);
    await settle();
    expect(r.calls.map((c) => c.key)).toEqual(['a']);
    q.add('a'); // re-added while in flight: would run again, but shutdown drops it
    let drained = false;
    const done = q.shutdown().then(() => (drained = true));
    await settle();
    expect(r.calls[0]!.ctx.signal.aborted).toBe(true);
    expect(drained).toBe(false);
    r.calls[0]!.gate.resolve();
    await done;
    q.add('d');
    await clock.advance(5000);
    expect(r.calls.map((c) => c.key)).toEqual(['a']);
    expect(clock.pending()).toBe(0);
    expect(q.stats()).toMatchObject({ queued: 0, delayed: 0, inFlight: 0 });
  });

  it('does not schedule a retry for a reconcile that fails during shutdown', async () => {
    const clock = new FakeClock();
    const gate = deferred();
    const retries: (number | undefined)[] = [];
    const q = new WorkQueue({ clock, reconcile: () => gate.promise, onError: (_k, _e, retryIn) => retries.push(retryIn) });
    q.start();
    q.add('a');
    await settle();
    const done = q.shutdown();
    gate.reject(new Error('aborted'));
    await done;
    expect(retries).toEqual([undefined]);
    expect(clock.pending()).toBe(0);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base and caps at max, without overflowing', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 5, 1000))).toEqual([5, 10, 20, 40]);
    expect(backoffDelay(2000, 5, 1000)).toBe(1000);
    expect(backoffDelay(0, 5, 1000)).toBe(0);
  });
});

describe('object keys', () => {
  it('are namespace/name, or name for cluster-scoped objects, and parse back', () => {
    expect(objectKey({ metadata: { namespace: 'logs', name: 'stack' } })).toBe('logs/stack');
    expect(objectKey({ metadata: { name: 'node-1' } })).toBe('node-1');
    expect(parseObjectKey('logs/stack')).toEqual({ namespace: 'logs', name: 'stack' });
    expect(parseObjectKey('node-1')).toEqual({ name: 'node-1' });
  });
});
