import { EngineProcess, cleanup, freePort, tempDir, testConfig, writeConfig } from './support/engine.js';

// Short flush and idle periods and small chunks make flushes, uploads and WAL checkpoints happen DURING the load,
// so the kill lands between them as well as between pushes.
const EXTRA = `
ingester:
  wal:
    dir: WALDIR
  chunk_idle_period: 300ms
  flush_check_period: 200ms
  chunk_target_size: 8192
  chunk_block_size: 2048
limits_config:
  max_entries_limit_per_query: 1000000
  ingestion_rate_mb: 1000
  ingestion_burst_size_mb: 1000
  per_stream_rate_limit: 1GB
  per_stream_rate_limit_burst: 1GB
`;

interface Sent {
  stream: string;
  ts: string;
  line: string;
}

describe('durability: every acknowledged entry survives SIGKILL exactly once', () => {
  it('concurrent push load, SIGKILL mid-load, restart on the same directory', async () => {
    const dir = tempDir();
    const port = await freePort();
    const yaml = testConfig(dir, EXTRA.replace('WALDIR', `${dir}/wal`), port).replace(/ingester:\n {2}wal:\n {4}dir: .*\n/, '');
    const file = writeConfig(dir, yaml);
    const engine = new EngineProcess(file, port);
    await engine.start();

    const acked: Sent[] = [];
    const attempted = new Set<string>();
    const started = BigInt(Date.now()) * 1_000_000n;
    let stop = false;
    let seq = 0;
    const pusher = async (w: number): Promise<void> => {
      while (!stop) {
        const stream = `w${w}-s${seq % 3}`;
        const values: Array<[string, string]> = [];
        for (let i = 0; i < 40; i++) {
          const n = seq++;
          const ts = String(started + BigInt(n) * 1000n + BigInt(w));
          // Varied bytes: UTF-8, quotes, long and empty-ish lines.
          values.push([ts, `w${w} n=${n} ✓ "${'x'.repeat(n % 200)}"`]);
        }
        for (const [ts, line] of values) attempted.add(`${stream}\u0000${ts}\u0000${line}`);
        try {
          const res = await fetch(`${engine.url}/loki/api/v1/push`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ streams: [{ stream: { job: 'durability', stream }, values }] }),
          });
          if (res.status === 204) for (const [ts, line] of values) acked.push({ stream, ts, line });
          else if (!stop) throw new Error(`push failed: ${res.status} ${await res.text()}`);
        } catch (err) {
          if (!stop) throw err;
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => pusher(w));
    await new Promise((r) => setTimeout(r, 2500));
    await engine.kill('SIGKILL');
    stop = true;
    await Promise.allSettled(workers);
    expect(acked.length).toBeGreaterThan(500);

    await engine.start();
    try {
      const p = new URLSearchParams({
        query: '{job="durability"}',
        start: String(started - 1_000_000_000n),
        end: String(BigInt(Date.now()) * 1_000_000n + 1_000_000_000n),
        limit: '1000000',
        direction: 'forward',
      });
      const res = await fetch(`${engine.url}/loki/api/v1/query_range?${p}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { result: Array<{ stream: Record<string, string>; values: [string, string][] }> } };
      const seen = new Map<string, number>();
      for (const s of body.data.result) {
        for (const [ts, line] of s.values) {
          const key = `${s.stream.stream}\u0000${ts}\u0000${line}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        }
      }
      const missing = acked.filter((a) => seen.get(`${a.stream}\u0000${a.ts}\u0000${a.line}`) !== 1);
      expect(missing.slice(0, 5)).toEqual([]);
      // Nothing is returned twice, and nothing appears that was never sent.
      for (const [key, n] of seen) {
        expect(n).toBe(1);
        expect(attempted.has(key)).toBe(true);
      }
    } finally {
      await engine.kill('SIGTERM');
      cleanup(dir);
    }
  }, 90_000);
});
