import type { LabelPair, Labels } from '../model.js';
import { Drain, patternString, type DrainOptions } from './drain.js';

/** One detected pattern: Loki's `{pattern, level, samples: [[seconds, count], …]}`. */
export interface PatternSeries {
  pattern: string;
  level: string;
  samples: Array<[number, number]>;
}

export interface PatternMinerOptions {
  /** Sample resolution in milliseconds; Loki's pattern samples are never finer than 10 s. */
  stepMs: number;
  /**
   * Patterns seen on fewer lines are dropped (Loki's querier prunes clusters under 30 lines): rare templates are
   * mostly noise, and Drilldown lists the frequent ones.
   */
  minClusterSize?: number;
  /** Fields consulted for a line's level (Loki's `log_level_fields`). */
  levelFields?: readonly string[];
  drain?: DrainOptions;
}

/** Loki's pattern sample resolution. */
export const PATTERN_RESOLUTION_MS = 10_000;
export const DEFAULT_MIN_CLUSTER_SIZE = 30;
export const UNKNOWN_LEVEL = 'unknown';

const DETECTED_LEVEL = 'detected_level';

/**
 * Mines patterns from log lines: one Drain per level (as Loki's pattern ingester keys its miners by level), samples
 * counted per step bucket. Feed lines with {@link add}, read the patterns with {@link result}.
 */
export class PatternMiner {
  private readonly stepMs: number;
  private readonly minClusterSize: number;
  private readonly levels: LevelDetector;
  private readonly drains = new Map<string, Drain>();

  constructor(private readonly opts: PatternMinerOptions) {
    this.stepMs = Math.max(PATTERN_RESOLUTION_MS, Math.floor(opts.stepMs));
    this.minClusterSize = opts.minClusterSize ?? DEFAULT_MIN_CLUSTER_SIZE;
    this.levels = new LevelDetector(opts.levelFields ?? []);
  }

  /** Adds one entry; its level comes from structured metadata, the stream labels, or the line. */
  add(ts: bigint, line: Buffer | string, streamLabels: Labels, metadata?: readonly LabelPair[]): void {
    const text = typeof line === 'string' ? line : line.toString('utf8');
    const level = this.levels.detect(text, streamLabels, metadata);
    let d = this.drains.get(level);
    if (d === undefined) {
      d = new Drain(this.opts.drain);
      this.drains.set(level, d);
    }
    const ms = Number(ts / 1_000_000n);
    d.train(text, ms - mod(ms, this.stepMs));
  }

  /**
   * The patterns, most frequent first. Clusters that print the same template (reached through different tree paths)
   * are merged; samples are ascending, with zero counts filling the steps between the first and the last.
   */
  result(): PatternSeries[] {
    const merged = new Map<string, { pattern: string; level: string; size: number; samples: Map<number, number> }>();
    for (const [level, d] of this.drains) {
      for (const c of d.clusters()) {
        const pattern = patternString(c);
        if (pattern === '') continue;
        const key = level + '\u0000' + pattern;
        let m = merged.get(key);
        if (m === undefined) {
          m = { pattern, level, size: 0, samples: new Map() };
          merged.set(key, m);
        }
        m.size += c.size;
        for (const [b, n] of c.samples) m.samples.set(b, (m.samples.get(b) ?? 0) + n);
      }
    }
    const out: Array<PatternSeries & { size: number }> = [];
    for (const m of merged.values()) {
      if (m.size < this.minClusterSize) continue;
      const buckets = [...m.samples.keys()].sort((a, b) => a - b);
      const samples: Array<[number, number]> = [];
      for (let b = buckets[0]!; b <= buckets[buckets.length - 1]!; b += this.stepMs) {
        samples.push([Math.floor(b / 1000), m.samples.get(b) ?? 0]);
      }
      out.push({ pattern: m.pattern, level: m.level, samples, size: m.size });
    }
    out.sort((a, b) => b.size - a.size || cmpStr(a.pattern, b.pattern) || cmpStr(a.level, b.level));
    return out.map(({ pattern, level, samples }) => ({ pattern, level, samples }));
  }
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;
const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Loki's level names; anything else is reported as `unknown`. */
export function normalizeLevel(v: string): string {
  switch (v.toLowerCase()) {
    case 'trace':
    case 'trc':
      return 'trace';
    case 'debug':
    case 'dbg':
      return 'debug';
    case 'info':
    case 'inf':
    case 'information':
    case 'notice':
      return 'info';
    case 'warn':
    case 'warning':
    case 'wrn':
      return 'warn';
    case 'error':
    case 'err':
    case 'eror':
      return 'error';
    case 'critical':
    case 'crit':
      return 'critical';
    case 'fatal':
    case 'panic':
      return 'fatal';
    default:
      return UNKNOWN_LEVEL;
  }
}

const KEYWORDS: Array<[RegExp, string]> = [
  [/\b(?:critical|crit)\b/i, 'critical'],
  [/\b(?:fatal|panic)\b/i, 'fatal'],
  [/\b(?:error|err)\b/i, 'error'],
  [/\b(?:warn|warning)\b/i, 'warn'],
  [/\binfo\b/i, 'info'],
  [/\bdebug\b/i, 'debug'],
  [/\btrace\b/i, 'trace'],
];

/**
 * A line's level: `detected_level` metadata or label first (the distributor's discovery), then a `level`-like field
 * of a JSON or logfmt line (Loki's `log_level_fields`), then a level word in the text.
 */
export class LevelDetector {
  private readonly field: RegExp | undefined;

  constructor(fields: readonly string[]) {
    const names = fields.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    // `level=info`, `"level":"info"`, `level: info`; the field name must start a token.
    this.field = names.length > 0 ? new RegExp(`(?:^|[\\s{,])"?(?:${names.join('|')})"?\\s*[=:]\\s*"?([A-Za-z]+)`) : undefined;
  }

  detect(line: string, streamLabels: Labels, metadata?: readonly LabelPair[]): string {
    for (const [n, v] of metadata ?? []) if (n === DETECTED_LEVEL) return normalizeLevel(v);
    for (const [n, v] of streamLabels) if (n === DETECTED_LEVEL) return normalizeLevel(v);
    const m = this.field?.exec(line);
    if (m) return normalizeLevel(m[1]!);
    for (const [re, level] of KEYWORDS) if (re.test(line)) return level;
    return UNKNOWN_LEVEL;
  }
}
