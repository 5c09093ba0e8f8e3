/**
 * Runtime overrides: Loki's `-runtime-config.file`, a YAML file of per-tenant limits that is re-read while running
 * (no restart), e.g.
 *
 *   overrides:
 *     tenant-a:
 *       ingestion_rate_mb: 10
 *       retention_period: 744h
 *
 * A tenant's effective limits are `limits_config` with its entry laid over it, key by key (nested blocks such as
 * `shard_streams` merge key by key too; lists replace). Keys are validated exactly like `limits_config`.
 *
 * The watcher keeps serving the last good overrides when the file becomes invalid or unreadable, reports the error,
 * and re-reads only when the bytes change, so one bad edit produces one error rather than one per period.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';

import { deepFreeze, defaultLimits, type Limits } from '../limits/limits.js';
import { ConfigError } from './config-error.js';
import { LIMITS_SPEC } from './config-schema.js';
import { validateLimits } from './config.js';
import { decodeRoot, encodeValue, mapOf, obj, parseYamlDocument, setOwn, throwIfIssues } from './spec.js';

/** A tenant's entry: any subset of the limits; nested objects may be partial too. */
export type TenantLimits = {
  [K in keyof Limits]?: Limits[K] extends readonly unknown[]
    ? Limits[K]
    : Limits[K] extends object
      ? Partial<Limits[K]>
      : Limits[K];
};

export interface RuntimeOverrides {
  overrides: Record<string, TenantLimits>;
}

const RUNTIME_SPEC = obj('runtimeconfig.Values', { overrides: mapOf(LIMITS_SPEC) });

/** Parses one runtime overrides file. Throws `ConfigError` naming the key and line of every problem. */
export function parseRuntimeConfig(text: string, opts: { fileName?: string } = {}): RuntimeOverrides {
  const subject = 'runtime config';
  const { root, ctx } = parseYamlDocument(text, subject, opts.fileName);
  const rt: RuntimeOverrides = { overrides: {} };
  decodeRoot(root, RUNTIME_SPEC, rt as unknown as Record<string, unknown>, ctx, true);
  throwIfIssues(ctx, subject, opts.fileName);
  const issues = Object.entries(rt.overrides).flatMap(([tenant, o]) =>
    // Loki's defaults contribute no errors of their own, so every issue found here is the tenant's.
    validateLimits(mergeLimits(defaultLimits(), o), `overrides.${tenant}`, ctx.lines),
  );
  if (issues.length > 0) throw new ConfigError('validate', issues, subject, opts.fileName);
  return rt;
}

/** Prints overrides back as YAML (for a `/runtime_config` endpoint). */
export function runtimeConfigToYaml(rt: RuntimeOverrides): string {
  return stringify(encodeValue(rt, RUNTIME_SPEC), { lineWidth: 0 });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `base` with `o` laid over it. `ingestion_rate_strategy` cannot vary per tenant (as in Loki) and is ignored. */
export function mergeLimits(base: Readonly<Limits>, o: TenantLimits): Limits {
  const out = structuredClone(base) as Limits;
  const target = out as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || k === 'ingestion_rate_strategy') continue;
    const cur = target[k];
    target[k] = isPlainObject(cur) && isPlainObject(v) ? { ...cur, ...structuredClone(v) } : structuredClone(v);
  }
  return out;
}

/** Merges several files' overrides left to right (Loki's comma-separated `-runtime-config.file`). */
export function mergeRuntimeOverrides(files: readonly RuntimeOverrides[]): RuntimeOverrides {
  const out: RuntimeOverrides = { overrides: {} };
  for (const f of files) {
    for (const [tenant, o] of Object.entries(f.overrides)) {
      const prev = (Object.hasOwn(out.overrides, tenant) ? out.overrides[tenant] : {}) as Record<string, unknown>;
      const merged: Record<string, unknown> = { ...prev };
      for (const [k, v] of Object.entries(o)) {
        merged[k] = isPlainObject(prev[k]) && isPlainObject(v) ? { ...prev[k], ...v } : v;
      }
      setOwn(out.overrides, tenant, merged);
    }
  }
  return out;
}

/**
 * Effective limits per tenant. Results are frozen and cached until the next `set`; tenants without an entry share
 * the defaults object, so arbitrary tenant IDs never grow the cache.
 */
export class Overrides {
  readonly #defaults: Readonly<Limits>;
  #runtime: RuntimeOverrides = { overrides: {} };
  #cache = new Map<string, Readonly<Limits>>();

  constructor(defaults: Limits, runtime?: RuntimeOverrides) {
    this.#defaults = deepFreeze(structuredClone(defaults));
    if (runtime) this.set(runtime);
  }

  /** Replaces all tenant overrides (a reload). */
  set(runtime: RuntimeOverrides): void {
    this.#runtime = structuredClone(runtime);
    this.#cache = new Map();
  }

  forTenant(tenant: string): Readonly<Limits> {
    const cached = this.#cache.get(tenant);
    if (cached !== undefined) return cached;
    const o = Object.hasOwn(this.#runtime.overrides, tenant) ? this.#runtime.overrides[tenant] : undefined;
    if (o === undefined) return this.#defaults;
    const merged = deepFreeze(mergeLimits(this.#defaults, o));
    this.#cache.set(tenant, merged);
    return merged;
  }

  get defaults(): Readonly<Limits> {
    return this.#defaults;
  }

  /** Tenants that have an entry in the overrides file. */
  tenants(): string[] {
    return Object.keys(this.#runtime.overrides);
  }

  get runtime(): RuntimeOverrides {
    return structuredClone(this.#runtime);
  }
}

/**
 * Re-reads the runtime overrides file(s) every `periodMs`. `path` may be a comma-separated list, merged left to
 * right. Typical use: `await loadOrThrow()` at startup (Loki refuses to start on a bad runtime config), then
 * `start()`; later failures go to `onError` while the last good overrides stay in force.
 */
export class RuntimeConfigWatcher {
  readonly #paths: string[];
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<boolean> | undefined;
  /** Content key of the last attempt (good or bad), so unchanged files are neither re-parsed nor re-reported. */
  #lastAttempt: string | undefined;
  #current: RuntimeOverrides | undefined;
  #hash = '';
  #lastReloadSuccessful = true;

  constructor(
    path: string,
    readonly periodMs: number,
    private readonly onChange: (rt: RuntimeOverrides) => void,
    private readonly onError: (err: Error) => void,
  ) {
    this.#paths = path
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
  }

  /** The overrides last applied, if any. */
  get current(): RuntimeOverrides | undefined {
    return this.#current;
  }

  /** SHA-256 of the files last applied (Loki exposes it as the `loki_runtime_config_hash` metric). */
  get hash(): string {
    return this.#hash;
  }

  /** False after a failed reload until the next successful one (`loki_runtime_config_last_reload_successful`). */
  get lastReloadSuccessful(): boolean {
    return this.#lastReloadSuccessful;
  }

  /**
   * Loads the files now and throws on failure (a missing or invalid runtime config at startup is fatal in Loki).
   * On success `onChange` has been called with the overrides (unless they were already loaded and are unchanged).
   */
  async loadOrThrow(): Promise<RuntimeOverrides> {
    const rt = await this.#load();
    if (rt !== undefined) this.onChange(rt);
    return this.#current ?? { overrides: {} };
  }

  /**
   * Starts periodic reloads. Never throws or rejects: when nothing has been loaded yet it triggers a first reload
   * right away, whose failure (like any later one) goes to `onError`.
   */
  start(): void {
    if (this.#paths.length === 0 || this.#timer !== undefined) return;
    if (this.#current === undefined) void this.reloadNow();
    this.#timer = setInterval(() => {
      if (this.#reloading === undefined) void this.reloadNow();
    }, this.periodMs);
    // The watcher must not keep the process alive on its own.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the files now; resolves true when new overrides were applied. Errors go to `onError`. */
  reloadNow(): Promise<boolean> {
    // Concurrent callers share one read so a change is applied (and reported) once.
    this.#reloading ??= (async () => {
      try {
        const rt = await this.#load();
        if (rt === undefined) return false;
        this.onChange(rt);
        return true;
      } catch (e) {
        this.onError(e as Error);
        return false;
      } finally {
        this.#reloading = undefined;
      }
    })();
    return this.#reloading;
  }

  /** Returns new overrides, `undefined` when the files are unchanged, or throws. */
  async #load(): Promise<RuntimeOverrides | undefined> {
    if (this.#paths.length === 0) return undefined;
    let texts: string[];
    try {
      texts = await Promise.all(this.#paths.map((p) => readFile(p, 'utf8')));
    } catch (e) {
      this.#lastReloadSuccessful = false;
      this.#lastAttempt = undefined; // retry next period: the file may appear
      throw new Error(`failed to read runtime config: ${(e as Error).message}`, { cause: e });
    }
    const key = texts.join('\u0000');
    if (key === this.#lastAttempt) return undefined;
    this.#lastAttempt = key;
    try {
      const rt = mergeRuntimeOverrides(texts.map((t, i) => parseRuntimeConfig(t, { fileName: this.#paths[i] })));
      this.#current = rt;
      this.#hash = createHash('sha256').update(key).digest('hex');
      this.#lastReloadSuccessful = true;
      return rt;
    } catch (e) {
      this.#lastReloadSuccessful = false;
      throw e;
    }
  }
}
