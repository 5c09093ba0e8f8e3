import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemObjectClient } from './filesystem-client.js';
import { ObjectNotFoundError } from './object-client.js';
import { ReadBufferPool } from './read-buffer-pool.js';

describe('ReadBufferPool', () => {
  it('hands out views of the requested size and reuses a released buffer for a read that fits', () => {
    const pool = new ReadBufferPool();
    const a = pool.take(1000);
    expect(a.length).toBe(1000);
    pool.release(a);
    expect(pool.size).toBe(1);
    const b = pool.take(5000);
    expect(b.length).toBe(5000);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.size).toBe(0);
  });

  it('never keeps buffers it did not allocate, too large ones, or more than maxFree; a double release is one', () => {
    const pool = new ReadBufferPool(2, 1024 * 1024);
    pool.release(Buffer.from('a shared pool slab must never be written to'));
    expect(pool.size).toBe(0);
    const big = pool.take(2 * 1024 * 1024);
    pool.release(big);
    expect(pool.size).toBe(0);
    const [x, y, z] = [pool.take(10), pool.take(10), pool.take(10)];
    pool.release(x);
    pool.release(x);
    expect(pool.size).toBe(1);
    pool.release(y);
    pool.release(z);
    expect(pool.size).toBe(2);
  });
});

describe('FilesystemObjectClient.get into a pooled buffer', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strata-rbp-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the same bytes as a plain get, into the buffer the pool gives', async () => {
    const store = new FilesystemObjectClient(dir);
    const pool = new ReadBufferPool();
    const body = Buffer.alloc(700_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    await store.put('t/a', body);
    await store.put('t/empty', Buffer.alloc(0));
    const first = await store.get('t/a', pool.take);
    expect(first.equals(body)).toBe(true);
    pool.release(first);
    const again = await store.get('t/a', pool.take);
    expect(again.buffer).toBe(first.buffer);
    expect(again.equals(await store.get('t/a'))).toBe(true);
    expect((await store.get('t/empty', pool.take)).length).toBe(0);
    await expect(store.get('t/missing', pool.take)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.get('t', pool.take)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });
});
