import { ManualClock } from '../util/clock.js';
import { LEASE_KEY, ObjectStoreLease } from './lease.js';
import { MemoryObjectClient } from './testing/memory-store.js';
import type { ObjectClient, ObjectInfo } from '../storage/object-client.js';

describe('ObjectStoreLease', () => {
  it('lets one holder act; another waits until it expires or is released', async () => {
    const store = new MemoryObjectClient();
    const clock = new ManualClock(1000);
    const a = new ObjectStoreLease(store, clock, { holder: 'a', ttlMs: 60_000, settleMs: 0 });
    const b = new ObjectStoreLease(store, clock, { holder: 'b', ttlMs: 60_000, settleMs: 0 });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    clock.advance(59_000);
    expect(await a.acquire()).toBe(true); // renewal
    expect(await a.holder()).toEqual({ holder: 'a', acquiredAtMs: 1000, renewedAtMs: 60_000, expiresAtMs: 120_000 });
    clock.advance(59_000);
    expect(await b.acquire()).toBe(false);
    clock.advance(1_001); // a is dead: its lease has expired
    expect(await b.acquire()).toBe(true);
    expect(await a.acquire()).toBe(false);
    await b.release();
    expect(await store.exists(LEASE_KEY)).toBe(false);
    expect(await a.acquire()).toBe(true);
    await b.release(); // not the holder: leaves a's lease alone
    expect((await a.holder())?.holder).toBe('a');
  });

  it('confirms a takeover by reading the lease back: of two racing writers only the last one acts', async () => {
    const inner = new MemoryObjectClient();
    // Both instances read "no lease" before either writes (the race a plain read-then-write cannot exclude).
    let gate: () => void = () => {};
    const bothRead = new Promise<void>((r) => (gate = r));
    let reads = 0;
    const racing: ObjectClient = {
      put: (k, b) => inner.put(k, b),
      get: async (k) => {
        const v = inner.get(k);
        if (++reads === 2) gate();
        if (reads <= 2) await bothRead;
        return v;
      },
      list: (p): Promise<ObjectInfo[]> => inner.list(p),
      delete: (k) => inner.delete(k),
      exists: (k) => inner.exists(k),
      close: () => inner.close(),
    };
    const clock = new ManualClock(0);
    const a = new ObjectStoreLease(racing, clock, { holder: 'a', settleMs: 20 });
    const b = new ObjectStoreLease(racing, clock, { holder: 'b', settleMs: 20 });
    const [ra, rb] = await Promise.all([a.acquire(), b.acquire()]);
    expect([ra, rb].filter(Boolean)).toHaveLength(1);
    expect((await a.holder())?.holder).toBe(ra ? 'a' : 'b');
  });

  it('a release abandons a takeover that is still settling', async () => {
    const store = new MemoryObjectClient();
    const a = new ObjectStoreLease(store, new ManualClock(0), { holder: 'a', settleMs: 60_000 });
    const started = Date.now();
    const p = a.acquire();
    await new Promise((r) => setTimeout(r, 10));
    await a.release();
    expect(await p).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await store.exists(LEASE_KEY)).toBe(false);
  });
});
