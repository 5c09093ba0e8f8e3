import { ManualClock } from '../util/clock.js';
import { InMemoryKv, InMemoryKvRegistry } from './inmemory-kv.js';
import type { RingKv, RingKvWatch } from './kv.js';
import { Lifecycler, type LifecyclerOptions } from './lifecycler.js';
import type { InstanceDesc } from './model.js';
import { Ring } from './ring.js';
import { ManualTimers } from './timers.js';

const T0 = 1_700_000_000_000;

/** An in-memory store that records writes and can be told to fail. */
class RecordingKv implements RingKv {
  readonly kind = 'inmemory' as const;
  readonly inner: InMemoryKv;
  readonly writes: { op: 'put' | 'delete'; id: string; state?: string; heartbeat?: number }[] = [];
  failPuts = 0;
  failLists = 0;
  failDeletes = 0;

  constructor(registry = new InMemoryKvRegistry()) {
    this.inner = new InMemoryKv('collectors/ingester', registry);
  }
  get ringKey(): string {
    return this.inner.ringKey;
  }
  async put(desc: InstanceDesc): Promise<void> {
    if (this.failPuts > 0) {
      this.failPuts--;
      throw new Error('store unavailable');
    }
    this.writes.push({ op: 'put', id: desc.id, state: desc.state, heartbeat: desc.heartbeat });
    await this.inner.put(desc);
  }
  get(id: string): Promise<InstanceDesc | undefined> {
    return this.inner.get(id);
  }
  async delete(id: string): Promise<void> {
    if (this.failDeletes > 0) {
      this.failDeletes--;
      throw new Error('store unavailable');
    }
    this.writes.push({ op: 'delete', id });
    await this.inner.delete(id);
  }
  async list(): Promise<InstanceDesc[]> {
    if (this.failLists > 0) {
      this.failLists--;
      throw new Error('store unavailable');
    }
    return this.inner.list();
  }
  watch(onSnapshot: (instances: InstanceDesc[]) => void): RingKvWatch {
    return this.inner.watch(onSnapshot);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  states(id: string): string[] {
    return this.writes.filter((w) => w.id === id).map((w) => (w.op === 'delete' ? 'deleted' : w.state!));
  }
}

function setup(over: Partial<LifecyclerOptions> = {}, kv = new RecordingKv()) {
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const lifecycler = new Lifecycler({
    kv,
    id: 'ingester-0',
    addr: '10.0.0.1:9095',
    zone: 'z1',
    heartbeatPeriodMs: 5_000,
    clock,
    timers,
    retryBackoff: { initialMs: 100, maxMs: 1_000 },
    ...over,
  });
  return { kv, clock, timers, lifecycler };
}

/** A uint32 source that first returns `first`, then counts up from 1000. */
function scripted(first: number[]): () => number {
  let i = 0;
  let n = 1000;
  return () => (i < first.length ? first[i++]! : n++);
}

describe('Lifecycler', () => {
  it('registers with num_tokens tokens, JOINING then ACTIVE at once when join_after is 0', async () => {
    const { kv, lifecycler } = setup({ numTokens: 128 });
    expect(lifecycler.phase).toBe('new');
    await lifecycler.start();
    expect(lifecycler.phase).toBe('running');
    expect(lifecycler.state).toBe('ACTIVE');
    expect(kv.states('ingester-0')).toEqual(['JOINING', 'ACTIVE']);
    const stored = (await kv.get('ingester-0'))!;
    expect(stored).toMatchObject({ id: 'ingester-0', addr: '10.0.0.1:9095', zone: 'z1', state: 'ACTIVE', heartbeat: T0, registered: T0 });
    expect(stored.tokens).toHaveLength(128);
    expect(new Set(stored.tokens).size).toBe(128);
    expect(stored.tokens).toEqual([...stored.tokens].sort((a, b) => a - b));
    expect(lifecycler.tokens).toEqual(stored.tokens);
    expect(lifecycler.describe()).toEqual(stored);
  });

  it('stays JOINING for join_after (no writes routed to it), then turns ACTIVE', async () => {
    const { kv, timers, lifecycler } = setup({ joinAfterMs: 30_000, heartbeatPeriodMs: 0 });
    const ring = new Ring({ kv: kv.inner, replicationFactor: 1, clock: timers.clock });
    await ring.start();
    await lifecycler.start();
    expect(lifecycler.state).toBe('JOINING');
    await timers.advance(0);
    expect(() => ring.get(42, 'write')).toThrow('at least 1 live replicas required, could only find 0');
    await timers.advance(29_999);
    expect(lifecycler.state).toBe('JOINING');
    await timers.advance(1);
    expect(lifecycler.state).toBe('ACTIVE');
    expect(kv.states('ingester-0')).toEqual(['JOINING', 'ACTIVE']);
    expect(ring.get(42, 'write').instances.map((d) => d.id)).toEqual(['ingester-0']);
    await lifecycler.stop();
    await ring.stop();
  });

  it('heartbeats every heartbeat_period with the current time', async () => {
    const { kv, timers, lifecycler } = setup();
    await lifecycler.start();
    await timers.advance(5_000);
    await timers.advance(5_000);
    await timers.advance(4_999);
    const heartbeats = kv.writes.filter((w) => w.op === 'put').map((w) => w.heartbeat);
    expect(heartbeats).toEqual([T0, T0, T0 + 5_000, T0 + 10_000]);
    expect((await kv.get('ingester-0'))!.heartbeat).toBe(T0 + 10_000);
    await lifecycler.stop();
  });

  it('a reader sees the instance UNHEALTHY once heartbeats stop reaching the store, and healthy again after', async () => {
    const { kv, timers, lifecycler } = setup();
    const ring = new Ring({ kv: kv.inner, replicationFactor: 1, heartbeatTimeoutMs: 60_000, clock: timers.clock });
    await ring.start();
    await lifecycler.start();
    await timers.advance(0);
    expect(ring.describe().instances[0]!.state).toBe('ACTIVE');
    kv.failPuts = 1_000;
    await timers.advance(60_000);
    // The last heartbeat that reached the store is from T0: exactly 60 s old is still healthy.
    expect(ring.describe().instances[0]!.state).toBe('ACTIVE');
    await timers.advance(1);
    expect(ring.describe().instances[0]!.state).toBe('UNHEALTHY');
    expect(() => ring.get(1)).toThrow('at least 1 live replicas required, could only find 0 - unhealthy instances: 10.0.0.1:9095');
    kv.failPuts = 0;
    await timers.advance(5_000);
    expect(ring.describe().instances[0]!.state).toBe('ACTIVE');
    expect(ring.get(1).instances).toHaveLength(1);
    await lifecycler.stop();
    await ring.stop();
  });

  it('a heartbeat re-creates a record someone deleted (a forgotten live instance comes back)', async () => {
    const { kv, timers, lifecycler } = setup();
    await lifecycler.start();
    await kv.inner.delete('ingester-0');
    await timers.advance(5_000);
    expect(await kv.get('ingester-0')).toMatchObject({ state: 'ACTIVE', heartbeat: T0 + 5_000 });
    await lifecycler.stop();
  });

  it('draws tokens that collide with no other instance', async () => {
    const kv = new RecordingKv();
    await kv.inner.put({ id: 'other', addr: 'x', zone: '', state: 'ACTIVE', tokens: [7, 9], heartbeat: T0, registered: T0 });
    const { lifecycler } = setup({ numTokens: 3, random: scripted([7, 9, 9, 11, 7, 12, 13]) }, kv);
    await lifecycler.start();
    expect(lifecycler.tokens).toEqual([11, 12, 13]);
    await lifecycler.stop();
  });

  it('on restart with the same id reuses its tokens and registration time, topping up to num_tokens', async () => {
    const registry = new InMemoryKvRegistry();
    const first = setup({ numTokens: 4 }, new RecordingKv(registry));
    await first.lifecycler.start();
    const tokens = [...first.lifecycler.tokens];
    // A crash: the process dies without stop(); the record stays.
    const second = setup({ numTokens: 4 }, new RecordingKv(registry));
    second.clock.set(T0 + 3_600_000);
    await second.lifecycler.start();
    expect(second.lifecycler.tokens).toEqual(tokens);
    expect((await second.kv.get('ingester-0'))!).toMatchObject({ registered: T0, heartbeat: T0 + 3_600_000, state: 'ACTIVE' });
    // Now with more tokens configured, and one of its tokens taken meanwhile by another instance.
    await second.kv.inner.put({ id: 'other', addr: 'x', zone: '', state: 'ACTIVE', tokens: [tokens[0]!], heartbeat: T0, registered: T0 });
    const third = setup({ numTokens: 6, random: scripted([]) }, new RecordingKv(registry));
    await third.lifecycler.start();
    expect(third.lifecycler.tokens).toHaveLength(6);
    expect(third.lifecycler.tokens).toEqual(expect.arrayContaining(tokens.slice(1)));
    expect(third.lifecycler.tokens).not.toContain(tokens[0]);
    await third.lifecycler.stop();
  });

  it('stop(): LEAVING, then the flush (heartbeats continue meanwhile), then the record is removed', async () => {
    let releaseFlush!: () => void;
    const flushed = new Promise<void>((r) => (releaseFlush = r));
    const order: string[] = [];
    const { kv, timers, lifecycler } = setup({
      flush: async () => {
        order.push(`flush while ${(await kv.get('ingester-0'))!.state}`);
        await flushed;
      },
    });
    await lifecycler.start();
    const stopping = lifecycler.stop();
    await timers.advance(0);
    expect(lifecycler.phase).toBe('stopping');
    expect(lifecycler.state).toBe('LEAVING');
    expect(order).toEqual(['flush while LEAVING']);
    // A long flush: the instance keeps heartbeating as LEAVING, so readers still query it.
    await timers.advance(15_000);
    expect(await kv.get('ingester-0')).toMatchObject({ state: 'LEAVING', heartbeat: T0 + 15_000 });
    releaseFlush();
    await stopping;
    expect(await kv.get('ingester-0')).toBeUndefined();
    expect(kv.states('ingester-0')).toEqual(['JOINING', 'ACTIVE', 'LEAVING', 'LEAVING', 'LEAVING', 'LEAVING', 'deleted']);
    expect(lifecycler.phase).toBe('stopped');
    expect(lifecycler.state).toBeUndefined();
    expect(timers.size).toBe(0);
    // Idempotent.
    await lifecycler.stop();
    expect(kv.states('ingester-0').at(-1)).toBe('deleted');
  });

  it('a failed flush is reported after the instance left the ring', async () => {
    const { kv, lifecycler } = setup({ flush: () => Promise.reject(new Error('object store down')) });
    await lifecycler.start();
    await expect(lifecycler.stop()).rejects.toThrow('object store down');
    expect(await kv.get('ingester-0')).toBeUndefined();
  });

  it('retries registration with backoff while the store is unavailable', async () => {
    const kv = new RecordingKv();
    kv.failLists = 2;
    kv.failPuts = 1;
    const { timers, lifecycler } = setup({}, kv);
    let started = false;
    void lifecycler.start().then(() => (started = true));
    await timers.advance(0);
    expect(started).toBe(false);
    expect(lifecycler.phase).toBe('starting');
    await timers.advance(10_000);
    expect(started).toBe(true);
    expect(kv.states('ingester-0').slice(0, 2)).toEqual(['JOINING', 'ACTIVE']);
    await lifecycler.stop();
  });

  it('stop() during registration retries ends them; nothing is left in the store', async () => {
    const kv = new RecordingKv();
    kv.failLists = 1_000;
    const { timers, lifecycler } = setup({}, kv);
    const started = lifecycler.start();
    await timers.advance(1_000);
    await lifecycler.stop();
    await started;
    expect(lifecycler.phase).toBe('stopped');
    expect(kv.writes).toEqual([]);
    await expect(lifecycler.start()).rejects.toThrow(/already stopped/);
  });

  it('stop() before start() does nothing', async () => {
    const { kv, lifecycler } = setup();
    await lifecycler.stop();
    expect(lifecycler.phase).toBe('stopped');
    expect(kv.writes).toEqual([]);
  });

  it('retries the removal on stop(), and gives up after unregisterAttempts', async () => {
    const { kv, timers, lifecycler } = setup({ unregisterAttempts: 3 });
    await lifecycler.start();
    kv.failDeletes = 2;
    const stopping = lifecycler.stop();
    await timers.advance(10_000);
    await stopping;
    expect(await kv.get('ingester-0')).toBeUndefined();

    const again = setup({ unregisterAttempts: 2 });
    await again.lifecycler.start();
    again.kv.failDeletes = 5;
    const giveUp = again.lifecycler.stop();
    await again.timers.advance(10_000);
    await giveUp;
    expect(await again.kv.get('ingester-0')).toMatchObject({ state: 'LEAVING' });
  });

  it('refuses an empty id and a non-positive token count', () => {
    const kv = new RecordingKv();
    expect(() => new Lifecycler({ kv, id: '', addr: 'x' })).toThrow(RangeError);
    expect(() => new Lifecycler({ kv, id: 'a', addr: 'x', numTokens: 0 })).toThrow(RangeError);
  });
});
