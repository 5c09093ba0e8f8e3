import type { Limits } from '../limits/limits.js';
import type { Labels } from '../model.js';
import { NS_PER_MS } from '../model.js';
import { parseMatchers } from '../logql/syntax/parser.js';
import { matchesAll, type LabelMatcher } from '../logql/syntax/matcher.js';

interface Rule {
  matchers: LabelMatcher[];
  priority: number;
  periodMs: number;
}

/**
 * A tenant's retention, compiled from its effective limits: which period applies to a stream. As in Loki, the
 * matching `retention_stream` rule with the highest priority wins (on equal priority, the shorter period), then the
 * tenant's `retention_period` (its runtime override, else the global `limits_config` value, which the overrides
 * merge already resolved). A period of 0 keeps data forever.
 */
export class TenantRetention {
  private readonly rules: Rule[];
  readonly periodMs: number;
  /** The shortest period any stream of the tenant can have; 0 when nothing ever expires. */
  readonly shortestMs: number;

  constructor(limits: Readonly<Limits>) {
    this.periodMs = limits.retention_period;
    this.rules = limits.retention_stream.map((r) => ({
      // Selectors were validated when the config or overrides file was loaded.
      matchers: parseMatchers(r.selector),
      priority: r.priority,
      periodMs: r.period,
    }));
    let shortest = this.periodMs;
    for (const r of this.rules) if (r.periodMs > 0 && (shortest === 0 || r.periodMs < shortest)) shortest = r.periodMs;
    this.shortestMs = shortest;
  }

  /** True when no stream of the tenant ever expires: reads and compaction skip retention entirely. */
  get keepsForever(): boolean {
    return this.shortestMs === 0;
  }

  /** The retention period of a stream in milliseconds; 0 = forever. */
  periodFor(labels: Labels): number {
    let found: Rule | undefined;
    for (const r of this.rules) {
      if (!matchesAll(r.matchers, labels)) continue;
      if (found !== undefined && (found.priority > r.priority || (found.priority === r.priority && found.periodMs <= r.periodMs))) continue;
      found = r;
    }
    return found !== undefined ? found.periodMs : this.periodMs;
  }

  /**
   * The oldest timestamp (ns) of a stream still inside retention at `nowMs`: entries before it have expired, and a
   * chunk expires when its last entry is before it (Loki: now − through > period). Undefined when kept forever.
   */
  cutoffFor(labels: Labels, nowMs: number): bigint | undefined {
    const p = this.periodFor(labels);
    return p > 0 ? BigInt(nowMs - p) * NS_PER_MS : undefined;
  }
}

// Overrides hands out one frozen Limits object per tenant until the next reload, so compiling once per object
// follows runtime-config reloads without any invalidation.
const compiled = new WeakMap<object, TenantRetention>();

export function retentionOf(limits: Readonly<Limits>): TenantRetention {
  let r = compiled.get(limits);
  if (r === undefined) compiled.set(limits, (r = new TenantRetention(limits)));
  return r;
}
