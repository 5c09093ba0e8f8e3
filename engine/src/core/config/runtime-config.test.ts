import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { defaultLimits } from '../limits/limits.js';
import { ConfigError } from './config-error.js';
import {
  mergeRuntimeOverrides,
  Overrides,
  parseRuntimeConfig,
  RuntimeConfigWatcher,
  runtimeConfigToYaml,
  type RuntimeOverrides,
} from './runtime-config.js';

const MB = 1024 * 1024;
const H = 3_600_000;

const OVERRIDES = `overrides:
  tenant-a:
    ingestion_rate_mb: 10
    ingestion_burst_size_mb: 20
    max_line_size: 1MB
    retention_period: 744h
    retention_stream:
      - selector: '{app="noisy"}'
        priority: 1
        period: 24h
    shard_streams:
      desired_rate: 3MB
  tenant-b:
    reject_old_samples: false
  tenant-c:
`;

describe('parseRuntimeConfig', () => {
  it('reads per-tenant limits with Loki units, keeping only the keys given', () => {
    const rt = parseRuntimeConfig(OVERRIDES);
    expect(rt.overrides).toEqual({
      'tenant-a': {
        ingestion_rate_mb: 10,
        ingestion_burst_size_mb: 20,
        max_line_size: MB,
        retention_period: 744 * H,
        retention_stream: [{ selector: '{app="noisy"}', priority: 1, period: 24 * H }],
        shard_streams: { desired_rate: 3 * MB },
      },
      'tenant-b': { reject_old_samples: false },
      'tenant-c': {},
    });
  });

  it('accepts an empty file and an empty overrides map', () => {
    expect(parseRuntimeConfig('')).toEqual({ overrides: {} });
    expect(parseRuntimeConfig('overrides:\n')).toEqual({ overrides: {} });
    expect(parseRuntimeConfig('overrides: {}\n')).toEqual({ overrides: {} });
  });

  it('rejects unknown keys, naming the key, type and line', () => {
    const text = 'overrides:\n  tenant-a:\n    ingestion_rate_mb: 10\n    max_line_sise: 1MB\n';
    expect(() => parseRuntimeConfig(text, { fileName: 'overrides.yaml' })).toThrow(
      'failed parsing runtime config: overrides.yaml: yaml: unmarshal errors:\n  line 4: field max_line_sise not found in type validation.Limits',
    );
    expect(() => parseRuntimeConfig('overides:\n  t: {}\n')).toThrow('line 1: field overides not found in type runtimeconfig.Values');
    expect(() => parseRuntimeConfig('overrides:\n  t:\n    shard_streams:\n      enable: true\n')).toThrow(
      'line 4: field enable not found in type shardstreams.Config',
    );
  });

  it('rejects invalid values like limits_config does', () => {
    try {
      parseRuntimeConfig('overrides:\n  t1:\n    max_line_size: huge\n    retention_period: 1h\n');
      throw new Error('expected an error');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).issues).toEqual([
        {
          path: 'overrides.t1.max_line_size',
          line: 3,
          message: 'invalid value "huge" for overrides.t1.max_line_size: not a valid byte size (e.g. 1024, 256KB, 1MB)',
        },
      ]);
    }
    expect(() => parseRuntimeConfig('overrides:\n  t1:\n    retention_period: 1h\n')).toThrow(
      'invalid runtime config: line 3: overrides.t1.retention_period: retention period must be >= 24h was 1h',
    );
    expect(() => parseRuntimeConfig('overrides:\n  - t1\n')).toThrow('invalid value for overrides: expected a mapping, got a sequence');
  });

  it('prints back as YAML that parses to the same overrides', () => {
    const rt = parseRuntimeConfig(OVERRIDES);
    const yaml = runtimeConfigToYaml(rt);
    expect(yaml).toContain('max_line_size: 1MB');
    expect(yaml).toContain('retention_period: 31d');
    expect(parseRuntimeConfig(yaml)).toEqual(rt);
  });
});

describe('Overrides', () => {
  const defaults = { ...defaultLimits(), ingestion_rate_mb: 8, max_line_size: 512 * 1024 };

  it('merges a tenant entry over the limits_config defaults, key by key', () => {
    const o = new Overrides(defaults, parseRuntimeConfig(OVERRIDES));
    const a = o.forTenant('tenant-a');
    expect(a.ingestion_rate_mb).toBe(10);
    expect(a.max_line_size).toBe(MB);
    expect(a.max_label_names_per_series).toBe(15); // untouched key: the defaults' value
    expect(a.shard_streams).toEqual({ enabled: true, logging_enabled: false, desired_rate: 3 * MB }); // nested merge
    expect(a.retention_stream).toEqual([{ selector: '{app="noisy"}', priority: 1, period: 24 * H }]);
    expect(o.forTenant('tenant-b').reject_old_samples).toBe(false);
    expect(o.forTenant('tenant-b').ingestion_rate_mb).toBe(8);
    expect(o.forTenant('tenant-c')).toEqual(o.defaults);
    expect(o.forTenant('unknown')).toBe(o.defaults);
    expect(o.tenants().sort()).toEqual(['tenant-a', 'tenant-b', 'tenant-c']);
  });

  it('caches merged limits until the next set, and returns frozen objects', () => {
    const o = new Overrides(defaults, parseRuntimeConfig(OVERRIDES));
    const a1 = o.forTenant('tenant-a');
    expect(o.forTenant('tenant-a')).toBe(a1);
    expect(Object.isFrozen(a1)).toBe(true);
    expect(Object.isFrozen(a1.shard_streams)).toBe(true);
    o.set(parseRuntimeConfig('overrides:\n  tenant-a:\n    ingestion_rate_mb: 1\n'));
    const a2 = o.forTenant('tenant-a');
    expect(a2).not.toBe(a1);
    expect(a2.ingestion_rate_mb).toBe(1);
    expect(a2.max_line_size).toBe(512 * 1024); // tenant-a's old max_line_size is gone
    expect(o.forTenant('tenant-b').reject_old_samples).toBe(true);
  });

  it('does not let callers mutate the defaults or a tenant through the inputs', () => {
    const input = defaultLimits();
    const rt: RuntimeOverrides = { overrides: { t: { max_query_series: 7 } } };
    const o = new Overrides(input, rt);
    input.max_query_series = 1;
    rt.overrides.t!.max_query_series = 2;
    expect(o.defaults.max_query_series).toBe(500);
    expect(o.forTenant('t').max_query_series).toBe(7);
  });

  it('treats tenant IDs as plain data, even "__proto__"', () => {
    const rt = parseRuntimeConfig('overrides:\n  __proto__:\n    max_query_series: 7\n  constructor:\n    max_query_series: 8\n');
    expect(Object.keys(rt.overrides).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(rt.overrides)).toBe(Object.prototype);
    const o = new Overrides(defaultLimits(), mergeRuntimeOverrides([rt, rt]));
    expect(o.forTenant('__proto__').max_query_series).toBe(7);
    expect(o.forTenant('constructor').max_query_series).toBe(8);
    expect(o.forTenant('toString')).toBe(o.defaults);
  });

  it('ignores ingestion_rate_strategy per tenant, as Loki does', () => {
    const o = new Overrides(defaults, parseRuntimeConfig('overrides:\n  t:\n    ingestion_rate_strategy: local\n'));
    expect(o.forTenant('t').ingestion_rate_strategy).toBe('global');
  });

  it('merges several files left to right', () => {
    const merged = mergeRuntimeOverrides([
      parseRuntimeConfig('overrides:\n  t:\n    max_query_series: 1\n    shard_streams: { enabled: false }\n'),
      parseRuntimeConfig('overrides:\n  t:\n    max_query_series: 2\n    shard_streams: { desired_rate: 1MB }\n  u:\n    max_query_series: 3\n'),
    ]);
    expect(merged.overrides).toEqual({
      t: { max_query_series: 2, shard_streams: { enabled: false, desired_rate: MB } },
      u: { max_query_series: 3 },
    });
  });
});

describe('RuntimeConfigWatcher', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-runtime-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function recorder() {
    const changes: RuntimeOverrides[] = [];
    const errors: Error[] = [];
    return { changes, errors, onChange: (rt: RuntimeOverrides) => changes.push(rt), onError: (e: Error) => errors.push(e) };
  }

  it('loads, applies a changed file, and skips an unchanged one', async () => {
    const file = join(dir, 'overrides.yaml');
    await writeFile(file, 'overrides:\n  t:\n    max_query_series: 1\n');
    const r = recorder();
    const w = new RuntimeConfigWatcher(file, 60_000, r.onChange, r.onError);
    await w.loadOrThrow();
    expect(r.changes.map((c) => c.overrides)).toEqual([{ t: { max_query_series: 1 } }]);
    const hash1 = w.hash;
    expect(await w.reloadNow()).toBe(false);
    await writeFile(file, 'overrides:\n  t:\n    max_query_series: 2\n');
    expect(await w.reloadNow()).toBe(true);
    expect(r.changes.map((c) => c.overrides)).toEqual([{ t: { max_query_series: 1 } }, { t: { max_query_series: 2 } }]);
    expect(w.hash).not.toBe(hash1);
    expect(r.errors).toEqual([]);
  });

  it('keeps the last good overrides on bad YAML, reports it once, and recovers', async () => {
    const file = join(dir, 'overrides.yaml');
    await writeFile(file, 'overrides:\n  t:\n    max_query_series: 1\n');
    const r = recorder();
    const w = new RuntimeConfigWatcher(file, 60_000, r.onChange, r.onError);
    await w.loadOrThrow();
    const good = w.current;

    await writeFile(file, 'overrides:\n  t:\n    max_query_series: [1\n');
    expect(await w.reloadNow()).toBe(false);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toBeInstanceOf(ConfigError);
    expect(r.errors[0]!.message).toContain(`failed parsing runtime config: ${file}: yaml: line`);
    expect(w.current).toBe(good);
    expect(w.lastReloadSuccessful).toBe(false);
    expect(r.changes).toHaveLength(1);

    expect(await w.reloadNow()).toBe(false); // same bad bytes: not re-reported
    expect(r.errors).toHaveLength(1);

    await writeFile(file, 'overrides:\n  t:\n    max_querry_series: 3\n');
    await w.reloadNow();
    expect(r.errors).toHaveLength(2);
    expect(r.errors[1]!.message).toContain('line 3: field max_querry_series not found in type validation.Limits');

    await writeFile(file, 'overrides:\n  t:\n    max_query_series: 3\n');
    expect(await w.reloadNow()).toBe(true);
    expect(w.lastReloadSuccessful).toBe(true);
    expect(w.current!.overrides).toEqual({ t: { max_query_series: 3 } });
  });

  it('reloads on its own period after the file changes', async () => {
    const file = join(dir, 'overrides.yaml');
    await writeFile(file, 'overrides:\n  t:\n    max_query_series: 1\n');
    let resolveChange: (rt: RuntimeOverrides) => void = () => {};
    const overrides = new Overrides(defaultLimits());
    const w = new RuntimeConfigWatcher(
      file,
      20,
      (rt) => {
        overrides.set(rt);
        resolveChange(rt);
      },
      () => {},
    );
    await w.loadOrThrow();
    w.start();
    try {
      expect(overrides.forTenant('t').max_query_series).toBe(1);
      const changed = new Promise<RuntimeOverrides>((res) => (resolveChange = res));
      await writeFile(file, 'overrides:\n  t:\n    max_query_series: 9\n');
      await changed;
      expect(overrides.forTenant('t').max_query_series).toBe(9);
    } finally {
      w.stop();
    }
  });

  it('start() loads by itself and reports a missing file instead of throwing', async () => {
    const r = recorder();
    const w = new RuntimeConfigWatcher(join(dir, 'missing.yaml'), 60_000, r.onChange, r.onError);
    await expect(w.loadOrThrow()).rejects.toThrow('failed to read runtime config');
    w.start();
    await w.reloadNow();
    w.stop();
    expect(r.errors.length).toBeGreaterThanOrEqual(1);
    expect(r.errors[0]!.message).toContain('failed to read runtime config');
    expect(w.current).toBeUndefined();

    await writeFile(join(dir, 'missing.yaml'), 'overrides:\n  t: {}\n');
    expect(await w.reloadNow()).toBe(true); // the file appeared
  });

  it('merges a comma-separated list of files left to right', async () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    await writeFile(a, 'overrides:\n  t:\n    max_query_series: 1\n    max_entries_limit_per_query: 10\n');
    await writeFile(b, 'overrides:\n  t:\n    max_query_series: 2\n');
    const r = recorder();
    const w = new RuntimeConfigWatcher(`${a}, ${b}`, 60_000, r.onChange, r.onError);
    const rt = await w.loadOrThrow();
    expect(rt.overrides).toEqual({ t: { max_query_series: 2, max_entries_limit_per_query: 10 } });
  });

  it('does nothing without a path', async () => {
    const r = recorder();
    const w = new RuntimeConfigWatcher('', 10, r.onChange, r.onError);
    w.start();
    expect(await w.reloadNow()).toBe(false);
    w.stop();
    expect(r.changes).toEqual([]);
  });
});
