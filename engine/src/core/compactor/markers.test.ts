import { ManualClock } from '../util/clock.js';
import { ChunkMarker, decodeMarker, encodeMarker, markerKey, MARKERS_PREFIX } from './markers.js';
import { MemoryObjectClient } from './testing/memory-store.js';

const H = 3_600_000;

describe('ChunkMarker', () => {
  it('deletes marked chunks only once the delay has passed, then the marker', async () => {
    const store = new MemoryObjectClient();
    const clock = new ManualClock(1_000_000);
    const m = new ChunkMarker(store, clock, 2 * H, 4);
    const keys = Array.from({ length: 25 }, (_, i) => `t/${String(i).padStart(16, '0')}/1:2:${i}`);
    for (const k of keys) await store.put(k, Buffer.from('chunk'));
    await store.put('t/keep/1:2:3', Buffer.from('not marked'));
    await m.mark(keys, 'retention', 'index_1', 't');

    const pending = await m.pending();
    expect(pending).toHaveLength(1);
    expect(pending[0]!.deleteAfterMs).toBe(1_000_000 + 2 * H);
    const marker = await m.read(pending[0]!.key);
    expect(marker).toMatchObject({ reason: 'retention', table: 'index_1', tenant: 't', chunks: keys, createdAtMs: 1_000_000 });

    clock.advance(2 * H - 1);
    expect(await m.sweep()).toEqual({ markers: 0, chunks: 0 });
    expect(store.keys().filter((k) => k.startsWith('t/'))).toHaveLength(26);

    clock.advance(1);
    expect(await m.sweep()).toEqual({ markers: 1, chunks: 25 });
    expect(store.keys()).toEqual(['t/keep/1:2:3']);
    // Idempotent: nothing left, nothing done.
    expect(await m.sweep()).toEqual({ markers: 0, chunks: 0 });
  });

  it('sweeps due markers in due order and stops when the lock is lost', async () => {
    const store = new MemoryObjectClient();
    const clock = new ManualClock(0);
    const m = new ChunkMarker(store, clock, 10, 2);
    await m.mark(['a/1'], 'delete', 'x', 'a');
    clock.advance(5);
    await m.mark(['a/2'], 'delete', 'x', 'a');
    clock.advance(100);
    let calls = 0;
    expect(await m.sweep(() => ++calls <= 1)).toEqual({ markers: 1, chunks: 1 });
    const left = await m.pending();
    expect(left.map((p) => p.deleteAfterMs)).toEqual([15]);
    expect(await m.sweep()).toEqual({ markers: 1, chunks: 1 });
  });

  it('splits large marks into several markers and survives a crash in the middle of a sweep', async () => {
    const store = new MemoryObjectClient();
    const clock = new ManualClock(0);
    const m = new ChunkMarker(store, clock, 0, 8);
    const keys = Array.from({ length: 25_000 }, (_, i) => `t/c${i}`);
    await m.mark(keys, 'table-manager', 'index_1', 't');
    expect(await m.pending()).toHaveLength(3);
    // The marker was not deleted (crash after some chunk deletes): the next sweep repeats them harmlessly.
    const first = (await m.pending())[0]!;
    await store.delete('t/c0');
    expect((await m.sweep()).chunks).toBe(25_000);
    expect(await store.exists(first.key)).toBe(false);
    expect(store.size).toBe(0);
  });

  it('has a documented, zero-padded name and JSON body', () => {
    expect(markerKey(1_700_000_000_000, '0123456789abcdef')).toBe(`${MARKERS_PREFIX}001700000000000-0123456789abcdef.json`);
    const body = encodeMarker({ deleteAfterMs: 5, createdAtMs: 1, reason: 'delete', table: 'index_1', tenant: 't', chunks: ['t/a'] });
    expect(JSON.parse(body.toString())).toEqual({
      format: 1,
      created_at_ms: 1,
      delete_after_ms: 5,
      reason: 'delete',
      table: 'index_1',
      tenant: 't',
      chunks: ['t/a'],
    });
    expect(decodeMarker(body, 'k').chunks).toEqual(['t/a']);
    expect(() => decodeMarker(Buffer.from('{}'), 'k')).toThrow('corrupt marker k');
  });
});
