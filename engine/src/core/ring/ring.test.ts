import { EngineError } from '../errors.js';
import { ManualClock } from '../util/clock.js';
import { InMemoryKv, InMemoryKvRegistry } from './inmemory-kv.js';
import type { InstanceDesc, InstanceState } from './model.js';
import { Ring, type RingOptions } from './ring.js';

const NOW = 1_700_000_000_000;

function inst(id: string, tokens: number[], extra: Partial<InstanceDesc> = {}): InstanceDesc {
  return { id, addr: `${id}:9095`, zone: '', state: 'ACTIVE', tokens, heartbeat: NOW, registered: NOW - 1000, ...extra };
}

async function ringOf(instances: InstanceDesc[], opts: Partial<RingOptions> = {}): Promise<{ ring: Ring; kv: InMemoryKv; clock: ManualClock }> {
  const kv = new InMemoryKv('collectors/test', new InMemoryKvRegistry());
  for (const d of instances) await kv.put(d);
  const clock = new ManualClock(NOW);
  const ring = new Ring({ kv, clock, heartbeatTimeoutMs: 60_000, ...opts });
  await ring.start();
  return { ring, kv, clock };
}

const ids = (set: { instances: InstanceDesc[] }): string[] => set.instances.map((d) => d.id);

function unavailable(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('unavailable');
    expect((err as EngineError).status).toBe(503);
    return (err as Error).message;
  }
  throw new Error('expected an unavailable error');
}

// Three instances, interleaved tokens: a owns 100/400, b 200/500, c 300/600.
const abc = (): InstanceDesc[] => [inst('a', [100, 400]), inst('b', [200, 500]), inst('c', [300, 600])];

describe('Ring.get: token walk', () => {
  it('starts at the first token strictly greater than the key and walks clockwise, wrapping around', async () => {
    const { ring } = await ringOf(abc(), { replicationFactor: 1 });
    expect(ids(ring.get(0))).toEqual(['a']);
    expect(ids(ring.get(99))).toEqual(['a']);
    expect(ids(ring.get(100))).toEqual(['b']); // 100 itself belongs to the next token
    expect(ids(ring.get(250))).toEqual(['c']);
    expect(ids(ring.get(600))).toEqual(['a']); // past the last token: wrap to the first
    expect(ids(ring.get(0xffffffff))).toEqual(['a']);
  });

  it('collects replication_factor distinct instances, skipping further tokens of one already picked', async () => {
    const { ring } = await ringOf([inst('a', [100, 150, 160]), inst('b', [200]), inst('c', [300])], { replicationFactor: 2 });
    expect(ids(ring.get(90))).toEqual(['a', 'b']);
    const set = ring.get(90);
    expect(set).toMatchObject({ minSuccess: 2, maxErrors: 0, quorum: 'instance' });
    expect(ids(ring.get(250, 'write'))).toEqual(['c', 'a']);
  });

  it('quorum is floor(RF/2)+1: RF 3 tolerates one failure, RF 5 two', async () => {
    const { ring } = await ringOf(abc(), { replicationFactor: 3 });
    expect(ring.get(150)).toMatchObject({ minSuccess: 2, maxErrors: 1 });
    expect(ids(ring.get(150))).toEqual(['b', 'c', 'a']);
    const five = await ringOf(['a', 'b', 'c', 'd', 'e'].map((id, i) => inst(id, [(i + 1) * 100])), { replicationFactor: 5 });
    expect(five.ring.get(0)).toMatchObject({ minSuccess: 3, maxErrors: 2 });
  });

  it('small rings keep the configured RF for the quorum (Loki): RF 3 over two instances needs both', async () => {
    const two = await ringOf([inst('a', [100]), inst('b', [200])], { replicationFactor: 3 });
    expect(two.ring.get(0)).toMatchObject({ minSuccess: 2, maxErrors: 0 });
    expect(ids(two.ring.get(0))).toEqual(['a', 'b']);
    const one = await ringOf([inst('a', [100])], { replicationFactor: 3 });
    expect(unavailable(() => one.ring.get(0))).toBe('at least 2 live replicas required, could only find 1');
    const single = await ringOf([inst('a', [100])], { replicationFactor: 1 });
    expect(single.ring.get(0)).toMatchObject({ minSuccess: 1, maxErrors: 0 });
  });

  it('an empty ring answers unavailable', async () => {
    const { ring } = await ringOf([]);
    expect(unavailable(() => ring.get(1))).toBe('empty ring');
    expect(unavailable(() => ring.replicationSetForOperation('read'))).toBe('empty ring');
  });

  it('gives a duplicated token to the smaller instance id on every reader', async () => {
    const { ring } = await ringOf([inst('b', [100]), inst('a', [100, 300])], { replicationFactor: 1 });
    expect(ids(ring.get(50))).toEqual(['a']);
    expect(ids(ring.get(150))).toEqual(['a']);
  });
});

describe('Ring.get: unhealthy instances and states', () => {
  it('skips an instance whose heartbeat is older than heartbeat_timeout; it still counts towards the quorum', async () => {
    const { ring, clock } = await ringOf([inst('a', [100]), inst('b', [200], { heartbeat: NOW - 61_000 }), inst('c', [300])]);
    const set = ring.get(150);
    expect(ids(set)).toEqual(['c', 'a']);
    expect(set).toMatchObject({ minSuccess: 2, maxErrors: 0 });
    // The same for reads.
    expect(ids(ring.get(150, 'read'))).toEqual(['c', 'a']);
    // Exactly at the timeout an instance is still healthy; a millisecond later not.
    clock.set(NOW + 60_000);
    expect(ids(ring.get(150))).toEqual(['c', 'a']);
    clock.set(NOW + 60_001);
    expect(unavailable(() => ring.get(150))).toBe(
      'at least 2 live replicas required, could only find 0 - unhealthy instances: b:9095,c:9095,a:9095',
    );
    clock.set(NOW - 1_000);
    expect(ids(ring.get(150))).toEqual(['b', 'c', 'a']);
  });

  it('fails once fewer than a quorum of the replicas are healthy, naming them', async () => {
    const { ring } = await ringOf([
      inst('a', [100]),
      inst('b', [200], { heartbeat: NOW - 120_000 }),
      inst('c', [300], { heartbeat: NOW - 120_000 }),
    ]);
    expect(unavailable(() => ring.get(150))).toBe('at least 2 live replicas required, could only find 1 - unhealthy instances: b:9095,c:9095');
  });

  it('heartbeat_timeout 0 never marks an instance unhealthy', async () => {
    const { ring } = await ringOf([inst('a', [100], { heartbeat: 0 })], { replicationFactor: 1, heartbeatTimeoutMs: 0 });
    expect(ids(ring.get(0))).toEqual(['a']);
  });

  it('with RF 1 a key of a LEAVING instance cannot be written: the set grew to 2, so its quorum is 2 (Loki)', async () => {
    const { ring } = await ringOf([inst('a', [100]), inst('b', [200], { state: 'LEAVING' })], { replicationFactor: 1 });
    expect(ids(ring.get(50))).toEqual(['a']);
    expect(unavailable(() => ring.get(150))).toBe('at least 2 live replicas required, could only find 1 - unhealthy instances: b:9095');
  });

  it.each<[InstanceState]>([['JOINING'], ['LEAVING'], ['PENDING']])(
    'writes walk past a %s instance to the next one and do not write to it',
    async (state) => {
      const { ring } = await ringOf([...abc(), inst('d', [700]), inst('b', [200, 500], { state })]);
      const set = ring.get(150, 'write');
      // b was met and extended the set: replicas c, a, d; RF counts the 4 walked instances → quorum 3.
      expect(ids(set)).toEqual(['c', 'a', 'd']);
      expect(set).toMatchObject({ minSuccess: 3, maxErrors: 0 });
    },
  );

  it('reads include LEAVING instances (they still hold data) but walk past JOINING ones', async () => {
    const leaving = await ringOf([...abc(), inst('d', [700]), inst('b', [200, 500], { state: 'LEAVING' })]);
    expect(ids(leaving.ring.get(150, 'read'))).toEqual(['b', 'c', 'a']);
    const joining = await ringOf([...abc(), inst('d', [700]), inst('b', [200, 500], { state: 'JOINING' })]);
    expect(ids(joining.ring.get(150, 'read'))).toEqual(['c', 'a', 'd']);
  });
});

describe('Ring.get: zone awareness', () => {
  const zoned = (): InstanceDesc[] => [
    inst('a1', [100], { zone: 'a' }),
    inst('a2', [200], { zone: 'a' }),
    inst('b1', [300], { zone: 'b' }),
    inst('b2', [400], { zone: 'b' }),
    inst('c1', [500], { zone: 'c' }),
    inst('c2', [600], { zone: 'c' }),
  ];

  it('places the replicas of a key in distinct zones', async () => {
    const { ring } = await ringOf(zoned(), { zoneAwarenessEnabled: true });
    expect(ids(ring.get(50))).toEqual(['a1', 'b1', 'c1']);
    expect(ids(ring.get(450))).toEqual(['c1', 'a1', 'b1']);
    for (let key = 0; key < 700; key += 7) {
      const zones = ring.get(key).instances.map((d) => d.zone);
      expect(new Set(zones).size).toBe(3);
    }
    // Without zone awareness the same ring puts two replicas in zone a.
    const plain = await ringOf(zoned());
    expect(ids(plain.ring.get(50))).toEqual(['a1', 'a2', 'b1']);
  });

  it('an extended replica stays in the zone of the instance that could not take it', async () => {
    const { ring } = await ringOf(
      zoned().map((d) => (d.id === 'a1' ? { ...d, state: 'LEAVING' as const } : d)),
      { zoneAwarenessEnabled: true },
    );
    // a1 was met first and extended the set; a2, in the same zone, takes its replica.
    expect(ids(ring.get(50))).toEqual(['a2', 'b1', 'c1']);
    expect(ring.get(50)).toMatchObject({ minSuccess: 3, maxErrors: 0 });
  });

  it('with fewer zones than RF every zone gets one replica and the quorum still counts RF', async () => {
    const { ring } = await ringOf(zoned().filter((d) => d.zone !== 'c'), { zoneAwarenessEnabled: true });
    const set = ring.get(50);
    expect(ids(set)).toEqual(['a1', 'b1']);
    expect(set).toMatchObject({ minSuccess: 2, maxErrors: 0 });
  });
});

describe('Ring.replicationSetForOperation', () => {
  it('reads every healthy instance; with RF 3 over n instances n-1 must answer', async () => {
    const { ring } = await ringOf([...abc(), inst('d', [700])]);
    const set = ring.replicationSetForOperation('read');
    expect(ids(set)).toEqual(['a', 'b', 'c', 'd']);
    expect(set).toMatchObject({ minSuccess: 3, maxErrors: 1, quorum: 'instance' });
  });

  it('leaves unhealthy instances out and fails when too many are', async () => {
    const stale = { heartbeat: NOW - 120_000 };
    const one = await ringOf([...abc(), inst('d', [700], stale)]);
    expect(one.ring.replicationSetForOperation('read')).toMatchObject({ minSuccess: 3, maxErrors: 0 });
    expect(ids(one.ring.replicationSetForOperation('read'))).toEqual(['a', 'b', 'c']);
    const two = await ringOf([inst('a', [100]), inst('b', [200]), inst('c', [300], stale), inst('d', [700], stale)]);
    expect(unavailable(() => two.ring.replicationSetForOperation('read'))).toBe('too many unhealthy instances in the ring');
  });

  it('includes LEAVING instances for reads but not for writes', async () => {
    const { ring } = await ringOf([...abc(), inst('d', [700], { state: 'LEAVING' })]);
    expect(ids(ring.replicationSetForOperation('read'))).toEqual(['a', 'b', 'c', 'd']);
    expect(ring.replicationSetForOperation('read')).toMatchObject({ minSuccess: 3, maxErrors: 1 });
    expect(ids(ring.replicationSetForOperation('write'))).toEqual(['a', 'b', 'c']);
    expect(ring.replicationSetForOperation('write')).toMatchObject({ minSuccess: 3, maxErrors: 0 });
  });

  it('with zone awareness drops every zone holding an unhealthy instance and tolerates floor(zones/2) such zones', async () => {
    const zoned = [
      inst('a1', [100], { zone: 'a' }),
      inst('a2', [200], { zone: 'a', heartbeat: NOW - 120_000 }),
      inst('b1', [300], { zone: 'b' }),
      inst('c1', [500], { zone: 'c' }),
    ];
    const { ring } = await ringOf(zoned, { zoneAwarenessEnabled: true });
    const set = ring.replicationSetForOperation('read');
    expect(ids(set)).toEqual(['b1', 'c1']);
    expect(set).toMatchObject({ quorum: 'zone', maxUnavailableZones: 0, maxErrors: 0, minSuccess: 2 });
    const healthy = await ringOf(zoned.map((d) => ({ ...d, heartbeat: NOW })), { zoneAwarenessEnabled: true });
    expect(healthy.ring.replicationSetForOperation('read')).toMatchObject({ quorum: 'zone', maxUnavailableZones: 1 });
    const twoZonesDown = await ringOf(
      zoned.map((d) => (d.id === 'b1' ? { ...d, heartbeat: NOW - 120_000 } : d)),
      { zoneAwarenessEnabled: true },
    );
    expect(unavailable(() => twoZonesDown.ring.replicationSetForOperation('read'))).toBe('too many unhealthy instances in the ring');
  });
});

describe('Ring membership and status', () => {
  it('follows the store: joins, state changes, heartbeats and leaves show up after the watch delivers them', async () => {
    const { ring, kv } = await ringOf([inst('a', [100])], { replicationFactor: 1 });
    const changes: number[] = [];
    const off = ring.onChange((r) => changes.push(r.instanceCount));
    await kv.put(inst('b', [200]));
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(ring.instances().map((d) => d.id)).toEqual(['a', 'b']);
    expect(ids(ring.get(150))).toEqual(['b']);
    await kv.put(inst('b', [200], { state: 'LEAVING', heartbeat: NOW + 5_000 }));
    await new Promise((r) => setImmediate(r));
    expect(ring.instance('b')).toMatchObject({ state: 'LEAVING', heartbeat: NOW + 5_000 });
    expect(ids(ring.get(50, 'read'))).toEqual(['a']);
    await ring.forget('b');
    await new Promise((r) => setImmediate(r));
    expect(ring.instance('b')).toBeUndefined();
    off();
    await kv.put(inst('c', [300]));
    await new Promise((r) => setImmediate(r));
    expect(changes).toEqual([2, 2, 1]);
    await ring.stop();
    await kv.put(inst('d', [400]));
    await new Promise((r) => setImmediate(r));
    expect(ring.instance('d')).toBeUndefined();
  });

  it('healthyInstances filters by heartbeat and, for an operation, by state', async () => {
    const { ring } = await ringOf([
      inst('a', [100]),
      inst('b', [200], { state: 'JOINING' }),
      inst('c', [300], { state: 'LEAVING' }),
      inst('d', [400], { heartbeat: NOW - 120_000 }),
    ]);
    expect(ring.healthyInstances().map((d) => d.id)).toEqual(['a', 'b', 'c']);
    expect(ring.healthyInstances('write').map((d) => d.id)).toEqual(['a']);
    expect(ring.healthyInstances('read').map((d) => d.id)).toEqual(['a', 'c']);
  });

  it('describe() reports each instance with its state (UNHEALTHY past the timeout), tokens, ownership and times', async () => {
    const { ring } = await ringOf([
      inst('a', [0x40000000, 0xc0000000], { zone: 'z1' }),
      inst('b', [0x80000000], { state: 'LEAVING', heartbeat: NOW - 90_000 }),
    ]);
    const status = ring.describe();
    expect(status).toMatchObject({ name: 'collectors/test', replicationFactor: 3, heartbeatTimeoutMs: 60_000, zoneAwarenessEnabled: false });
    expect(status.now).toBe(new Date(NOW).toISOString());
    expect(status.instances).toEqual([
      {
        id: 'a',
        addr: 'a:9095',
        zone: 'z1',
        state: 'ACTIVE',
        storedState: 'ACTIVE',
        tokens: 2,
        ownership: 0.75,
        heartbeat: new Date(NOW).toISOString(),
        heartbeatAgeMs: 0,
        registered: new Date(NOW - 1000).toISOString(),
      },
      expect.objectContaining({ id: 'b', state: 'UNHEALTHY', storedState: 'LEAVING', tokens: 1, ownership: 0.25, heartbeatAgeMs: 90_000 }),
    ]);
    expect(JSON.parse(JSON.stringify(status))).toEqual(status);
  });

  it('refuses a replication factor below 1', async () => {
    const kv = new InMemoryKv('x', new InMemoryKvRegistry());
    expect(() => new Ring({ kv, replicationFactor: 0 })).toThrow(RangeError);
  });
});
