import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SCHEMA_CONFIG_YAML } from '../../engine/src/bench/engine-process.js';
import { loadConfig } from '../../engine/src/core/config/config.js';
import { Engine, type EngineDeps } from '../../engine/src/core/engine.js';
import { nopLogger } from '../../engine/src/core/util/logger.js';
import { createApp } from '../../engine/src/modules/http/app-factory.js';

export const ROOT = resolve(import.meta.dirname, '../..');

export function tempDir(prefix = 'strata-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A config for tests: everything under `dir`, auth off unless asked, small limits the tests can hit. */
export function testConfig(dir: string, extra = '', port = 0): string {
  return `
auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: ${port}
  log_level: warn
common:
  path_prefix: ${dir}
  storage:
    filesystem:
      chunks_directory: ${dir}/chunks
      rules_directory: ${dir}/rules
${SCHEMA_CONFIG_YAML}
ingester:
  wal:
    dir: ${dir}/wal
${extra}`;
}

/** Merges `extra` YAML sections into the test config text (later keys override: the yaml parser keeps the last). */
export interface RunningEngine {
  url: string;
  engine: Engine;
  app: NestFastifyApplication;
  stop(): Promise<void>;
}

/** Starts the engine in this process with a real HTTP server on a loopback port. */
export async function startEngine(configYaml: string, deps: Partial<EngineDeps> = {}, runtimeFile?: string): Promise<RunningEngine> {
  const config = loadConfig({ text: configYaml, fileName: 'test.yaml' });
  const engine = new Engine(config, 'all', { logger: nopLogger, ...deps }, runtimeFile);
  const app = await createApp(engine, nopLogger);
  await app.listen(0, '127.0.0.1');
  await engine.start();
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    engine,
    app,
    async stop() {
      await engine.stop();
      await app.close();
    },
  };
}

// One free-port helper and one engine child process for tests and benchmarks (EngineProcess runs the compiled
// engine as a user would: `npm run build` first).
export { EngineProcess, freePort } from '../../engine/src/bench/engine-process.js';

export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number, detail?: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs}ms${detail ? `: ${detail()}` : ''}`);
}

export function writeConfig(dir: string, yaml: string): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

// ── HTTP helpers ──────────────────────────────────────────────────────────────────────────────────────────────

export interface StreamValue {
  stream: Record<string, string>;
  values: Array<[string, string] | [string, string, Record<string, unknown>]>;
}

export async function pushJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function queryRange(
  url: string,
  query: string,
  opts: { start?: string; end?: string; limit?: number; direction?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; text: string }> {
  const p = new URLSearchParams({ query });
  p.set('start', opts.start ?? '0');
  if (opts.end) p.set('end', opts.end);
  if (opts.limit) p.set('limit', String(opts.limit));
  if (opts.direction) p.set('direction', opts.direction);
  const res = await fetch(`${url}/loki/api/v1/query_range?${p}`, { headers: opts.headers });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

/** All [ts, line] pairs of a streams result, flattened, with the stream labels as JSON. */
export function entriesOf(body: any): Array<{ labels: Record<string, string>; ts: string; line: string; extra?: unknown }> {
  const out: Array<{ labels: Record<string, string>; ts: string; line: string; extra?: unknown }> = [];
  for (const s of body.data.result as StreamValue[]) {
    for (const v of s.values) out.push({ labels: s.stream, ts: v[0], line: v[1], ...(v[2] ? { extra: v[2] } : {}) });
  }
  return out;
}

export const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
