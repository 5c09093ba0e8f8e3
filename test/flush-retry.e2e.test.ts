import { FilesystemObjectClient } from '../engine/src/core/storage/filesystem-client.js';
import type { ObjectClient, ObjectInfo } from '../engine/src/core/storage/object-client.js';
import { cleanup, entriesOf, nowNs, pushJson, queryRange, startEngine, tempDir, testConfig } from './support/engine.js';

/** A real filesystem store that refuses writes while `failing` is set, as an unreachable S3 would. */
class FlakyStore implements ObjectClient {
  failing = true;
  failedPuts = 0;
  constructor(private readonly inner: ObjectClient) {}
  async put(key: string, body: Buffer): Promise<void> {
    if (this.failing) {
      this.failedPuts++;
      throw new Error('connect ECONNREFUSED 127.0.0.1:9000');
    }
    return this.inner.put(key, body);
  }
  get(key: string): Promise<Buffer> {
    return this.inner.get(key);
  }
  list(prefix: string): Promise<ObjectInfo[]> {
    return this.inner.list(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  exists(key: string): Promise<boolean> {
    return this.inner.exists(key);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('a failed upload keeps the data and is retried', () => {
  it('data stays readable from memory while the store fails, then lands in the store', async () => {
    const dir = tempDir();
    const store = new FlakyStore(new FilesystemObjectClient(`${dir}/chunks`));
    const e = await startEngine(testConfig(dir), { store });
    try {
      const ts = nowNs();
      const values = [[String(ts), 'must not be lost']];
      expect((await pushJson(e.url, { streams: [{ stream: { app: 'flaky' }, values }] })).status).toBe(204);
      expect((await fetch(`${e.url}/flush`, { method: 'POST' })).status).toBe(204);
      expect(store.failedPuts).toBeGreaterThan(0);
      expect(e.engine.ingester.streamCount).toBe(1); // still in memory (and in the WAL)
      const q = async () => entriesOf((await queryRange(e.url, '{app="flaky"}', { start: String(ts - 1n), end: String(ts + 1n) })).body);
      expect((await q()).map((x) => x.line)).toEqual(['must not be lost']);
      const metrics = await (await fetch(`${e.url}/metrics`)).text();
      expect(metrics).toMatch(/^loki_ingester_chunks_flush_failures_total [1-9]/m);

      store.failing = false;
      await e.engine.ingester.flushAll();
      expect(e.engine.ingester.streamCount).toBe(0); // released only now that chunk and index are stored
      expect((await q()).map((x) => x.line)).toEqual(['must not be lost']);
    } finally {
      await e.stop();
      cleanup(dir);
    }
  });
});
