import { spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineProcess, ROOT, cleanup, freePort, tempDir, testConfig, writeConfig } from './support/engine.js';

const MAIN = join(ROOT, 'engine/dist/main.js');

function run(args: string[], env: Record<string, string> = {}): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { code: r.status, stderr: r.stderr };
}

describe('the engine CLI', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => cleanup(dir));

  it('stops at startup on an unknown key, naming the key and its line', () => {
    const file = writeConfig(dir, testConfig(dir).replace('ingester:\n', 'ingester:\n  chunk_encodng: lz4\n'));
    const r = run([`-config.file=${file}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line \d+: field chunk_encodng not found in type ingester\.Config/);
  });

  it('stops at startup on an invalid value, naming the key', () => {
    const file = writeConfig(dir, testConfig(dir).replace('ingester:\n', 'ingester:\n  chunk_encoding: fast\n'));
    const r = run([`-config.file=${file}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ingester\.chunk_encoding/);
    expect(r.stderr).toContain('fast');
  });

  it('refuses unsorted schema periods and unknown flags', () => {
    const periods = testConfig(dir).replace(
      '    - from: "2020-01-01"',
      '    - from: "2021-01-01"\n      store: tsdb\n      object_store: filesystem\n      schema: v13\n      index:\n        prefix: index_\n        period: 24h\n    - from: "2020-01-01"',
    );
    const r = run([`-config.file=${writeConfig(dir, periods)}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/schema_config/);
    const f = run(['-no.such.flag=1']);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain('flag provided but not defined: -no.such.flag');
  });

  it('expands ${VAR} and ${VAR:-default} with -config.expand-env and prints the config with -print-config-stderr', async () => {
    const port = await freePort();
    const yaml = testConfig(dir, '', port)
      .replace(`http_listen_port: ${port}`, 'http_listen_port: ${STRATA_TEST_PORT}')
      .replace('log_level: warn', 'log_level: ${STRATA_LOG_LEVEL:-warn}');
    const file = writeConfig(dir, yaml);
    const p = new EngineProcess(file, port, ['-config.expand-env=true', '-print-config-stderr'], {
      STRATA_TEST_PORT: String(port),
    });
    try {
      await p.start();
      expect(p.stderr).toContain(`http_listen_port: ${port}`);
      expect(p.stderr).toMatch(/log_level: warn/);
    } finally {
      await p.kill('SIGTERM');
    }
  });

  it('starts (and says so) on a WAL whose tail is torn or corrupt, keeping the records before it', async () => {
    const port = await freePort();
    const file = writeConfig(dir, testConfig(dir, '', port));
    const p = new EngineProcess(file, port);
    await p.start();
    const ts = BigInt(Date.now()) * 1_000_000n;
    const body = { streams: [{ stream: { app: 'wal' }, values: [[String(ts), 'before the damage']] }] };
    const res = await fetch(`${p.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(204);
    await p.kill('SIGKILL');

    // Damage the newest segment twice over: a torn half-frame of garbage after the last good record.
    const walDir = join(dir, 'wal');
    const segments = readdirSync(walDir).filter((f) => /^\d+$/.test(f)).sort();
    const last = join(walDir, segments[segments.length - 1]!);
    appendFileSync(last, Buffer.from([0x00, 0x00, 0x10, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]));
    truncateSync(last, statSync(last).size - 3);
    writeFileSync(join(walDir, '99999999'), Buffer.alloc(64, 0xff)); // a segment of pure garbage

    await p.start();
    try {
      expect(p.stderr).toMatch(/corrupt|torn|checksum/i);
      const q = new URLSearchParams({ query: '{app="wal"}', start: String(ts - 1000n), end: String(ts + 1000n) });
      const out = (await (await fetch(`${p.url}/loki/api/v1/query_range?${q}`)).json()) as any;
      expect(out.data.result[0].values).toEqual([[String(ts), 'before the damage']]);
    } finally {
      await p.kill('SIGTERM');
    }
  });

  it('flushes to the store on SIGTERM (graceful shutdown) and exits 0', async () => {
    const port = await freePort();
    const file = writeConfig(dir, testConfig(dir, '', port));
    const p = new EngineProcess(file, port);
    await p.start();
    const ts = BigInt(Date.now()) * 1_000_000n;
    const body = { streams: [{ stream: { app: 'term' }, values: [[String(ts), 'flushed at shutdown']] }] };
    await fetch(`${p.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(await p.kill('SIGTERM')).toBe(0);
    const chunks = readdirSync(join(dir, 'chunks', 'fake'), { recursive: true }).map(String);
    expect(chunks.some((c) => c.includes(':'))).toBe(true);
  });
});
