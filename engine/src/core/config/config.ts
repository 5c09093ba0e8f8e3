/**
 * Loading Strata's configuration: Loki's `config.yaml` format, `-config.expand-env`, command-line flags on top,
 * and the `common:` section applied to the component sections the way Loki's config wrapper does it.
 *
 *   loadConfig({ text, fileName, flags, env })
 *     = resolveConfig(applyFlags(parseConfig(text, { expandEnv: flags.expandEnv, env }), flags)), validated.
 *
 * Everything here is pure: the caller reads the file and passes the environment (core never reads process.env).
 */
import { posix } from 'node:path';
import { stringify } from 'yaml';

import { deepFreeze, type Limits } from '../limits/limits.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { CONFIG_SPEC, defaultConfig, type Config, type KvConfig, type PeriodConfig, type S3Config } from './config-schema.js';
import { applyFlags, type Flags } from './flags.js';
import { decodeRoot, encodeValue, parseDay, parseYamlDocument, throwIfIssues } from './spec.js';
import { formatDuration } from './duration.js';
import { tableRetentionProblem } from '../compactor/table-manager.js';
import { parseMatchers } from '../logql/syntax/parser.js';

export * from './config-schema.js';
export { ConfigError, type ConfigIssue, type ConfigErrorKind } from './config-error.js';
export { parseDuration, formatDuration, UnitParseError } from './duration.js';
export { parseBytes, formatBytes } from './bytes.js';
export { resolveS3Config, type ResolvedS3Config } from './s3-config.js';
export { parseDay } from './spec.js';

/**
 * The single-binary configuration used when no `-config.file` is given: no auth (tenant `fake`), HTTP on 3100,
 * everything under ./data on the local filesystem, one TSDB v13 schema period.
 */
export const EMBEDDED_DEFAULT_CONFIG_YAML = `# Strata single-binary defaults (used when no -config.file is given).
target: all
auth_enabled: false

server:
  http_listen_port: 3100
  grpc_listen_port: 9095
  log_level: info

common:
  path_prefix: ./data
  replication_factor: 1
  instance_addr: 127.0.0.1
  ring:
    kvstore:
      store: inmemory
  storage:
    filesystem:
      chunks_directory: ./data/chunks
      rules_directory: ./data/rules

ingester:
  chunk_encoding: snappy
  wal:
    enabled: true
    dir: ./data/wal

schema_config:
  configs:
    - from: 2024-01-01
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h

storage_config:
  tsdb_shipper:
    active_index_directory: ./data/tsdb-index
    cache_location: ./data/tsdb-cache

compactor:
  working_directory: ./data/compactor

ruler:
  rule_path: ./data/rules-temp

analytics:
  reporting_enabled: false
`;

/** The components one process can run (Loki's module names). */
export const COMPONENTS = [
  'distributor',
  'ingester',
  'querier',
  'query-frontend',
  'query-scheduler',
  'index-gateway',
  'compactor',
  'ruler',
] as const;

/** What `-target` accepts: a component, or a group (`all`; `read`, `write`, `backend` are Loki's simple-scalable groups). */
export const KNOWN_TARGETS = ['all', 'read', 'write', 'backend', ...COMPONENTS] as const;

export interface ParseConfigOptions {
  /** Shown in error messages, e.g. `config.yaml`. */
  fileName?: string;
  /** Loki's `-config.expand-env`: replace `${VAR}`, `${VAR:-default}` and `$VAR` before parsing. */
  expandEnv?: boolean;
  /** The environment for `expandEnv` (never read from process.env here). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Clock for choosing the active schema period (tests); defaults to Date.now(). */
  now?: number;
}

/**
 * Parses a Loki-format config over Loki's defaults and validates it. Throws `ConfigError` naming every bad key with
 * its line.
 */
export function parseConfig(text: string, opts: ParseConfigOptions = {}): Config {
  const source = opts.expandEnv ? expandEnv(text, opts.env ?? {}) : text;
  const { root, ctx } = parseYamlDocument(source, 'config', opts.fileName);
  const cfg = defaultConfig();
  decodeRoot(root, CONFIG_SPEC, cfg as unknown as Record<string, unknown>, ctx);
  throwIfIssues(ctx, 'config', opts.fileName);
  const issues = collectValidationIssues(cfg, ctx.lines, opts.now ?? Date.now());
  if (issues.length > 0) throw new ConfigError('validate', issues, 'config', opts.fileName);
  return cfg;
}

export interface LoadConfigOptions {
  /** The config file's contents; `undefined` uses EMBEDDED_DEFAULT_CONFIG_YAML. */
  text?: string;
  fileName?: string;
  flags?: Partial<Flags>;
  env?: Readonly<Record<string, string | undefined>>;
  now?: number;
}

/** File (or the embedded default) → flags on top → common section applied → validated. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const flags: Flags = {
    expandEnv: false,
    printConfigStderr: false,
    logConfigReverseOrder: false,
    help: false,
    version: false,
    ...opts.flags,
  };
  const embedded = opts.text === undefined;
  const parsed = parseConfig(embedded ? EMBEDDED_DEFAULT_CONFIG_YAML : opts.text!, {
    fileName: embedded ? 'embedded default config' : opts.fileName,
    expandEnv: flags.expandEnv,
    env: opts.env,
    now: opts.now,
  });
  const cfg = resolveConfig(applyFlags(parsed, flags));
  validateConfig(cfg, { now: opts.now });
  return cfg;
}

/** Throws `ConfigError` when `cfg` (e.g. after flags were applied) is not a valid combination. */
export function validateConfig(cfg: Config, opts: { now?: number; fileName?: string } = {}): void {
  const issues = collectValidationIssues(cfg, new Map(), opts.now ?? Date.now());
  if (issues.length > 0) throw new ConfigError('validate', issues, 'config', opts.fileName);
}

// ------------------------------------------------------------------------------------------------ env expansion

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*/;
const VAR_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Loki's `-config.expand-env` (Go's os.Expand with Loki's mapping): `${VAR}`, `$VAR`, and `${VAR:-default}` (also
 * `${VAR:default}`), where the default applies when VAR is unset *or empty*. Unlike Go, a `$` that is not followed
 * by a variable name or a well-formed `${NAME...}` is kept as is instead of being swallowed.
 */
export function expandEnv(text: string, env: Readonly<Record<string, string | undefined>>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    if (text[i + 1] === '{') {
      const close = text.indexOf('}', i + 2);
      const inner = close > i + 2 ? text.slice(i + 2, close) : '';
      const colon = inner.indexOf(':');
      const name = colon >= 0 ? inner.slice(0, colon) : inner;
      if (VAR_RE.test(name)) {
        const def = colon >= 0 ? inner.slice(colon + 1).replace(/^-/, '') : undefined;
        const v = env[name];
        out += v === undefined || v === '' ? (def ?? '') : v;
        i = close + 1;
        continue;
      }
    } else {
      const m = NAME_RE.exec(text.slice(i + 1));
      if (m !== null) {
        out += env[m[0]] ?? '';
        i += 1 + m[0].length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ printing

/**
 * The config as Loki-format YAML, for `/config` and `-print-config-stderr`: every key, durations as `1h30m`, sizes as
 * `256KB`, secrets and URL passwords masked as `********`.
 */
export function configToYaml(cfg: Config): string {
  return stringify(encodeValue(cfg, CONFIG_SPEC), { lineWidth: 0 });
}

// ------------------------------------------------------------------------------------------------ common section

function join(prefix: string, dir: string): string {
  return posix.join(prefix, dir);
}

function isDefaultS3(s3: S3Config, defaults: S3Config): boolean {
  return JSON.stringify(s3) === JSON.stringify(defaults);
}

/**
 * Applies `common:` to the component sections where they were left at their defaults, as Loki's config wrapper
 * does (a more specific setting always wins):
 *  - `path_prefix` places the WAL (`<prefix>/wal`), compactor working dir (`<prefix>/compactor`), ruler temp rules
 *    (`<prefix>/rules-temp`), ruler WAL and TSDB/boltdb shipper directories (`<prefix>/tsdb-index`, ...);
 *  - `storage.filesystem` / `storage.s3` become `storage_config.filesystem` / `storage_config.aws` and the ruler's
 *    rule storage;
 *  - `replication_factor`, `instance_addr` and `ring` reach the ingester lifecycler and the distributor ring;
 *  - `memberlist.join_members` switches rings left at the default store to `memberlist`.
 * Returns a new object; idempotent.
 */
export function resolveConfig(input: Config): Config {
  const cfg = structuredClone(input);
  const d = defaultConfig();
  const prefix = cfg.common.path_prefix.replace(/\/+$/, '');

  if (prefix !== '') {
    if (cfg.ingester.wal.dir === d.ingester.wal.dir) cfg.ingester.wal.dir = join(prefix, 'wal');
    if (cfg.compactor.working_directory === d.compactor.working_directory) {
      cfg.compactor.working_directory = join(prefix, 'compactor');
    }
    if (cfg.ruler.rule_path === d.ruler.rule_path) cfg.ruler.rule_path = join(prefix, 'rules-temp');
    if (cfg.ruler.wal.dir === d.ruler.wal.dir) cfg.ruler.wal.dir = join(prefix, 'ruler-wal');
    const shippers = [
      [cfg.storage_config.tsdb_shipper, 'tsdb'],
      [cfg.storage_config.boltdb_shipper, 'boltdb'],
    ] as const;
    for (const [shipper, name] of shippers) {
      if (shipper.active_index_directory === '') shipper.active_index_directory = join(prefix, `${name}-index`);
      if (shipper.cache_location === '') shipper.cache_location = join(prefix, `${name}-cache`);
    }
  }

  const fs = cfg.common.storage.filesystem;
  if (fs.chunks_directory !== '' && cfg.storage_config.filesystem.directory === '') {
    cfg.storage_config.filesystem.directory = fs.chunks_directory;
  }
  if (fs.rules_directory !== '' && cfg.ruler.storage.local.directory === '') {
    cfg.ruler.storage.local.directory = fs.rules_directory;
    if (cfg.ruler.storage.type === '') cfg.ruler.storage.type = 'local';
  }
  if (!isDefaultS3(cfg.common.storage.s3, d.common.storage.s3)) {
    if (isDefaultS3(cfg.storage_config.aws, d.storage_config.aws)) cfg.storage_config.aws = structuredClone(cfg.common.storage.s3);
    if (cfg.ruler.storage.type === '' && isDefaultS3(cfg.ruler.storage.s3, d.ruler.storage.s3)) {
      cfg.ruler.storage.type = 's3';
      cfg.ruler.storage.s3 = structuredClone(cfg.common.storage.s3);
    }
  }

  // Rings: memberlist join members imply memberlist wherever no store was chosen (Loki's documented behaviour).
  const defaultStore = d.common.ring.kvstore.store;
  if (cfg.memberlist.join_members.length > 0 && cfg.common.ring.kvstore.store === defaultStore) {
    cfg.common.ring.kvstore.store = 'memberlist';
  }
  const inheritKv = (kv: KvConfig): void => {
    if (kv.store === defaultStore && cfg.common.ring.kvstore.store !== defaultStore) {
      kv.store = cfg.common.ring.kvstore.store;
      kv.etcd = structuredClone(cfg.common.ring.kvstore.etcd);
      kv.kubernetes = structuredClone(cfg.common.ring.kvstore.kubernetes);
    }
  };
  inheritKv(cfg.ingester.lifecycler.ring.kvstore);
  inheritKv(cfg.distributor.ring.kvstore);

  const lifecyclerRing = cfg.ingester.lifecycler.ring;
  if (lifecyclerRing.replication_factor === d.ingester.lifecycler.ring.replication_factor) {
    lifecyclerRing.replication_factor = cfg.common.replication_factor;
  }
  if (cfg.ingester.lifecycler.id === '' && cfg.common.ring.instance_id !== '') {
    cfg.ingester.lifecycler.id = cfg.common.ring.instance_id;
  }
  const addr = cfg.common.ring.instance_addr !== '' ? cfg.common.ring.instance_addr : cfg.common.instance_addr;
  if (addr !== '') {
    if (cfg.common.ring.instance_addr === '') cfg.common.ring.instance_addr = addr;
    if (cfg.ingester.lifecycler.address === '') cfg.ingester.lifecycler.address = addr;
    if (cfg.distributor.ring.instance_addr === '') cfg.distributor.ring.instance_addr = addr;
  }
  return cfg;
}

// ------------------------------------------------------------------------------------------------ schema helpers

/** Milliseconds at which a period starts (00:00 UTC of its `from` day). */
export function periodStart(p: PeriodConfig): number {
  return parseDay(p.from) ?? Number.NaN;
}

/** The schema period in force at `timeMs` (the last one starting at or before it), or undefined before the first. */
export function periodAt(configs: readonly PeriodConfig[], timeMs: number): PeriodConfig | undefined {
  let found: PeriodConfig | undefined;
  for (const p of configs) {
    if (periodStart(p) <= timeMs) found = p;
    else break;
  }
  return found;
}

// ------------------------------------------------------------------------------------------------ validation

const DAY_MS = 24 * 60 * 60 * 1000;

/** Checks that concern values Loki validates after decoding. `lines` maps key paths to source lines. */
function collectValidationIssues(cfg: Config, lines: ReadonlyMap<string, number>, now: number): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string, linePath = path): void => {
    issues.push({ path, line: lines.get(linePath), message });
  };

  for (const t of cfg.target.split(',').map((s) => s.trim())) {
    if (!(KNOWN_TARGETS as readonly string[]).includes(t)) {
      add('target', `target: unrecognised module name: ${JSON.stringify(t)} (known: ${KNOWN_TARGETS.join(', ')})`);
    }
  }

  const configs = cfg.schema_config.configs;
  if (configs.length === 0) {
    add('schema_config.configs', 'schema_config.configs: at least one period config is required', 'schema_config');
  }
  configs.forEach((p, i) => {
    const at = `schema_config.configs[${i}]`;
    for (const key of ['from', 'store', 'object_store', 'schema'] as const) {
      if (p[key] === '') add(`${at}.${key}`, `${at}.${key} is required`, at);
    }
    if (p.index.period <= 0 || p.index.period % DAY_MS !== 0) {
      add(
        `${at}.index.period`,
        `${at}.index.period must be a positive multiple of 24h, got ${JSON.stringify(formatDuration(p.index.period))}`,
        p.index.period === 0 ? at : `${at}.index.period`,
      );
    }
    if (i > 0 && p.from !== '' && configs[i - 1]!.from !== '' && periodStart(p) <= periodStart(configs[i - 1]!)) {
      add(
        `${at}.from`,
        `${at}.from ${JSON.stringify(p.from)} is not after the previous period's from ` +
          `${JSON.stringify(configs[i - 1]!.from)}: schema periods must be listed in strictly increasing date order`,
      );
    }
  });

  // Loki 3 refuses to start when structured metadata is allowed but the active period cannot store it.
  const active = periodAt(configs, now) ?? configs[0];
  if (cfg.limits_config.allow_structured_metadata && active !== undefined) {
    const at = `schema_config.configs[${configs.indexOf(active)}]`;
    if ((active.schema as string) !== '' && active.schema !== 'v13') {
      add(
        `${at}.schema`,
        `CONFIG ERROR: schema v13 is required to store Structured Metadata and use native OTLP ingestion, your ` +
          `schema version is ${active.schema}. Set \`allow_structured_metadata: false\` in the \`limits_config\` ` +
          `section and restart, then add a schema period with v13 before re-enabling it`,
      );
    }
    if (active.store === 'boltdb-shipper') {
      add(
        `${at}.store`,
        `CONFIG ERROR: \`tsdb\` index type is required to store Structured Metadata and use native OTLP ingestion, ` +
          `your index type is \`boltdb-shipper\` (defined in the \`store\` parameter of the schema_config). Set ` +
          `\`allow_structured_metadata: false\` in the \`limits_config\` section and restart, then add a schema ` +
          `period with index type \`tsdb\` before re-enabling it`,
      );
    }
  }

  if (cfg.compactor.retention_enabled && cfg.compactor.delete_request_store === '') {
    add(
      'compactor.delete_request_store',
      'compactor.delete_request_store should be configured when retention is enabled',
      'compactor.retention_enabled',
    );
  }

  // Table manager: deleting whole tables needs a retention of whole tables (and whole days).
  if (active !== undefined && active.index.period > 0) {
    const tm = cfg.table_manager;
    const problem = tableRetentionProblem(tm.retention_deletes_enabled, tm.retention_period, active.index.period, formatDuration);
    if (problem !== undefined) add('table_manager.retention_period', problem);
  }

  issues.push(...validateLimits(cfg.limits_config, 'limits_config', lines));
  return issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}

/** Loki's `validation.Limits` checks; shared with the runtime overrides (`path` = `overrides.<tenant>`). */
export function validateLimits(limits: Limits, path: string, lines: ReadonlyMap<string, number> = new Map()): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (limits.retention_period !== 0 && limits.retention_period < DAY_MS) {
    const p = `${path}.retention_period`;
    issues.push({ path: p, line: lines.get(p), message: `${p}: retention period must be >= 24h was ${formatDuration(limits.retention_period)}` });
  }
  limits.retention_stream.forEach((r, i) => {
    const at = `${path}.retention_stream[${i}]`;
    if (r.selector.trim() === '') issues.push({ path: `${at}.selector`, line: lines.get(at), message: `${at}.selector is required` });
    else {
      // The compactor and the querier compile these selectors: a bad one must stop the config, not a later run.
      try {
        parseMatchers(r.selector);
      } catch (e) {
        const p = `${at}.selector`;
        issues.push({ path: p, line: lines.get(p) ?? lines.get(at), message: `${p}: invalid labels matchers: ${(e as Error).message}` });
      }
    }
    if (r.period < DAY_MS) {
      issues.push({
        path: `${at}.period`,
        line: lines.get(`${at}.period`) ?? lines.get(at),
        message: `${at}.period: retention period must be >= 24h was ${formatDuration(r.period)}`,
      });
    }
  });
  return issues;
}

/** A frozen copy, for sharing a config between components without defensive copies. */
export function freezeConfig(cfg: Config): Readonly<Config> {
  return deepFreeze(structuredClone(cfg));
}
