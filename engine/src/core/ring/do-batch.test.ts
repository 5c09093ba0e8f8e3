import { EngineError } from '../errors.js';
import { ManualClock } from '../util/clock.js';
import { doBatch, doUntilQuorum } from './do-batch.js';
import { InMemoryKv, InMemoryKvRegistry } from './inmemory-kv.js';
import type { InstanceDesc } from './model.js';
import { Ring, type ReplicationSet } from './ring.js';

const NOW = 1_700_000_000_000;

function inst(id: string, tokens: number[], zone = ''): InstanceDesc {
  return { id, addr: `${id}:9095`, zone, state: 'ACTIVE', tokens, heartbeat: NOW, registered: NOW };
}

async function ringOf(instances: InstanceDesc[], replicationFactor = 3): Promise<Ring> {
  const kv = new InMemoryKv('collectors/batch', new InMemoryKvRegistry());
  for (const d of instances) await kv.put(d);
  const ring = new Ring({ kv, replicationFactor, clock: new ManualClock(NOW) });
  await ring.start();
  return ring;
}

/** A promise the test settles by hand. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

// Four instances; with RF 3 key 50 → a,b,c; key 150 → b,c,d; key 250 → c,d,a; key 350 → d,a,b.
const four = (): InstanceDesc[] => [inst('a', [100]), inst('b', [200]), inst('c', [300]), inst('d', [400])];

describe('doBatch', () => {
  it('calls each instance once with the indexes of every key it holds a replica of', async () => {
    const ring = await ringOf(four());
    const calls: Record<string, number[]> = {};
    await doBatch(ring, [50, 150, 250, 350, 50], async (instance, indexes) => {
      calls[instance.id] = indexes;
    });
    expect(calls).toEqual({ a: [0, 2, 3, 4], b: [0, 1, 3, 4], c: [0, 1, 2, 4], d: [1, 2, 3] });
  });

  it('succeeds when every key reached its quorum, tolerating one failed replica per key with RF 3', async () => {
    const ring = await ringOf(four());
    await expect(
      doBatch(ring, [50, 150, 250, 350], async (instance) => {
        if (instance.id === 'c') throw new Error('c is down');
      }),
    ).resolves.toBeUndefined();
  });

  it('resolves as soon as every key has a quorum, without waiting for a slow replica', async () => {
    const ring = await ringOf(four());
    const slow = deferred();
    let cleanedUp = false;
    const done = doBatch(
      ring,
      [50, 150],
      (instance) => (instance.id === 'b' ? slow.promise : Promise.resolve()),
      { cleanup: () => (cleanedUp = true) },
    );
    await expect(done).resolves.toBeUndefined();
    // The slow call is not abandoned: cleanup runs only once it settled.
    expect(cleanedUp).toBe(false);
    slow.resolve();
    await tick();
    expect(cleanedUp).toBe(true);
  });

  it('fails fast with the error that took a key past its tolerated failures', async () => {
    const ring = await ringOf(four());
    const never = deferred();
    const seen: string[] = [];
    const done = doBatch(ring, [50], async (instance) => {
      seen.push(instance.id);
      if (instance.id === 'a') throw new EngineError('unavailable', 'a refused');
      if (instance.id === 'b') throw new EngineError('bad_request', 'b refused');
      return never.promise;
    });
    await expect(done).rejects.toThrow('b refused');
    expect(seen.sort()).toEqual(['a', 'b', 'c']);
  });

  it('one bad key fails the batch even when all others succeed', async () => {
    const ring = await ringOf(four());
    // a and b fail: key 50 (a,b,c) loses its quorum; keys 150 (b,c,d) and 250 (c,d,a) keep theirs.
    await expect(
      doBatch(ring, [150, 250, 50], async (instance) => {
        if (instance.id === 'a' || instance.id === 'b') throw new Error(`${instance.id} failed`);
      }),
    ).rejects.toThrow(/failed/);
    await expect(
      doBatch(ring, [150, 250], async (instance) => {
        if (instance.id === 'a' || instance.id === 'b') throw new Error(`${instance.id} failed`);
      }),
    ).resolves.toBeUndefined();
  });

  it('treats a synchronous throw like a rejection', async () => {
    const ring = await ringOf(four(), 1);
    await expect(
      doBatch(ring, [50], () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
  });

  it("rejects with the ring's error and calls nobody when a key cannot reach a quorum", async () => {
    const ring = await ringOf([inst('a', [100])]);
    let called = false;
    let cleanedUp = false;
    const err = await doBatch(
      ring,
      [50],
      async () => {
        called = true;
      },
      { cleanup: () => (cleanedUp = true) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).message).toBe('at least 2 live replicas required, could only find 1');
    expect(called).toBe(false);
    expect(cleanedUp).toBe(true);
  });

  it('an empty batch succeeds without calls', async () => {
    const ring = await ringOf(four());
    await expect(doBatch(ring, [], () => Promise.reject(new Error('no')))).resolves.toBeUndefined();
  });
});

describe('doUntilQuorum', () => {
  const instances = four();
  const set = (over: Partial<ReplicationSet>): ReplicationSet => ({
    instances,
    maxErrors: 1,
    minSuccess: 3,
    quorum: 'instance',
    maxUnavailableZones: 0,
    ...over,
  });

  it('returns the first minSuccess results and aborts the calls still running', async () => {
    const slow = deferred<string>();
    const signals: AbortSignal[] = [];
    const results = await doUntilQuorum(set({}), (instance, signal) => {
      signals.push(signal);
      return instance.id === 'c' ? slow.promise : Promise.resolve(instance.id);
    });
    expect(results.sort()).toEqual(['a', 'b', 'd']);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it('tolerates maxErrors failures and rejects on one more', async () => {
    await expect(
      doUntilQuorum(set({}), async (instance) => {
        if (instance.id === 'a') throw new Error('a down');
        return instance.id;
      }),
    ).resolves.toHaveLength(3);
    await expect(
      doUntilQuorum(set({}), async (instance) => {
        if (instance.id === 'a' || instance.id === 'd') throw new Error(`${instance.id} down`);
        return instance.id;
      }),
    ).rejects.toThrow(/down/);
  });

  it('zone quorum: waits for every instance of all zones but maxUnavailableZones; a failure skips its whole zone', async () => {
    const zoned = [inst('a1', [1], 'a'), inst('a2', [2], 'a'), inst('b1', [3], 'b'), inst('c1', [4], 'c')];
    const zset: ReplicationSet = { instances: zoned, maxErrors: 0, minSuccess: 4, quorum: 'zone', maxUnavailableZones: 1 };
    const results = await doUntilQuorum(zset, async (instance) => {
      if (instance.id === 'a2') throw new Error('a2 down');
      return instance.id;
    });
    // b and c complete the quorum; a1 may have answered before its zone failed (still valid data), a2 never did.
    expect(results).toEqual(expect.arrayContaining(['b1', 'c1']));
    expect(results).not.toContain('a2');
    await expect(
      doUntilQuorum(zset, async (instance) => {
        if (instance.id === 'a2' || instance.id === 'b1') throw new Error(`${instance.id} down`);
        return instance.id;
      }),
    ).rejects.toThrow(/down/);
  });

  it('works on a real ring read set', async () => {
    const ring = await ringOf(four());
    const results = await doUntilQuorum(ring.replicationSetForOperation('read'), async (instance) => instance.addr);
    expect(results).toHaveLength(3);
  });
});
