import { cleanup, nowNs, pushJson, startEngine, tempDir, testConfig, type RunningEngine } from './support/engine.js';

describe('operational endpoints', () => {
  let dir: string;
  let e: RunningEngine;
  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(testConfig(dir));
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  it('/ready answers `ready` once running, and 503 with the reason before', async () => {
    const res = await fetch(`${e.url}/ready`);
    expect([res.status, await res.text()]).toEqual([200, 'ready\n']);
    e.engine.state = 'Starting';
    e.engine.stateReason = 'Ingester not ready: replaying the WAL';
    try {
      const starting = await fetch(`${e.url}/ready`);
      expect([starting.status, await starting.text()]).toEqual([503, 'Ingester not ready: replaying the WAL\n']);
      const push = await pushJson(e.url, { streams: [{ stream: { a: 'b' }, values: [[String(nowNs()), 'x']] }] });
      expect(push.status).toBe(503);
    } finally {
      e.engine.state = 'Running';
    }
  });

  it('/metrics exposes Loki metric names that move with pushes and flushes', async () => {
    const values = [[String(nowNs()), 'metric line']];
    expect((await pushJson(e.url, { streams: [{ stream: { app: 'metrics' }, values }] })).status).toBe(204);
    await pushJson(e.url, { streams: [{ stream: { app: 'metrics' }, values: [[String(nowNs()), 'x'.repeat(300 * 1024)]] }] });
    expect((await fetch(`${e.url}/flush`, { method: 'POST' })).status).toBe(204);
    const text = await (await fetch(`${e.url}/metrics`)).text();
    expect(text).toMatch(/^loki_distributor_bytes_received_total\{tenant="fake"\} [1-9]\d*$/m);
    expect(text).toMatch(/^loki_distributor_lines_received_total\{tenant="fake"\} [1-9]\d*$/m);
    expect(text).toMatch(/^loki_ingester_chunks_flushed_total\{reason="forced"\} [1-9]\d*$/m);
    expect(text).toMatch(/^loki_discarded_samples_total\{reason="line_too_long",tenant="fake"\} 1$/m);
    expect(text).toMatch(/^loki_ingester_memory_streams\{tenant="fake"\} 0$/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });

  it('/config prints the running configuration as YAML, /services the modules, buildinfo the version', async () => {
    const config = await (await fetch(`${e.url}/config`)).text();
    expect(config).toMatch(/^auth_enabled: false$/m);
    expect(config).toMatch(/chunk_encoding: /);
    const services = await (await fetch(`${e.url}/services`)).text();
    expect(services).toContain('ingester => Running\n');
    expect(services).toContain('distributor => Running\n');
    const build = (await (await fetch(`${e.url}/loki/api/v1/status/buildinfo`)).json()) as Record<string, string>;
    expect(Object.keys(build).sort()).toEqual(['branch', 'buildDate', 'buildUser', 'goVersion', 'revision', 'version']);
    const health = await fetch(`${e.url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
  });
});
