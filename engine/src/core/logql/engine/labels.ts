import { labelsString } from '../../distributor/labels.js';
import type { LabelPair, Labels } from '../../model.js';

/**
 * A series identity: its label set (sorted by name) and the set's Prometheus string, `{a="1", b="2"}`, which is
 * unique per set and is what Loki prints in its error messages. Nodes intern metrics so one series is one object
 * across steps, and per-series work (grouping keys, match signatures) is memoised by `key`.
 */
export interface Metric {
  readonly labels: Labels;
  readonly key: string;
}

export const EMPTY_METRIC: Metric = Object.freeze({ labels: Object.freeze([]) as Labels, key: '{}' });

export function metricOf(labels: Labels): Metric {
  return labels.length === 0 ? EMPTY_METRIC : { labels, key: labelsString(labels) };
}

/** One object per distinct label set. */
export class MetricTable {
  private readonly byKey = new Map<string, Metric>();

  intern(labels: Labels): Metric {
    if (labels.length === 0) return EMPTY_METRIC;
    const key = labelsString(labels);
    let m = this.byKey.get(key);
    if (m === undefined) {
      m = { labels, key };
      this.byKey.set(key, m);
    }
    return m;
  }

  get size(): number {
    return this.byKey.size;
  }
}

export function getLabel(labels: Labels, name: string): string | undefined {
  for (const [n, v] of labels) if (n === name) return v;
  return undefined;
}

/** The labels whose names are in `names` (`by (…)`, `on (…)`). */
export function keepLabels(labels: Labels, names: ReadonlySet<string>): LabelPair[] {
  const out: LabelPair[] = [];
  for (const p of labels) if (names.has(p[0])) out.push(p);
  return out;
}

/** The labels whose names are not in `names` (`without (…)`, `ignoring (…)`). */
export function dropLabels(labels: Labels, names: ReadonlySet<string>): LabelPair[] {
  const out: LabelPair[] = [];
  for (const p of labels) if (!names.has(p[0])) out.push(p);
  return out;
}

/** A copy of `labels` with `name` set to `value` (or removed when `value` is undefined or empty), still sorted. */
export function withLabel(labels: Labels, name: string, value: string | undefined): LabelPair[] {
  const out: LabelPair[] = [];
  let placed = value === undefined || value === '';
  for (const p of labels) {
    if (p[0] === name) continue;
    if (!placed && p[0] > name) {
      out.push([name, value!]);
      placed = true;
    }
    out.push(p);
  }
  if (!placed) out.push([name, value!]);
  return out;
}

/** Go's string order (bytewise UTF-8): compare code points, not UTF-16 units. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (code points above U+FFFF) sort after every BMP character in UTF-8.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Prometheus' labels.Compare: name, then value, label by label; a prefix sorts first. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const [an, av] = a[i]!;
    const [bn, bv] = b[i]!;
    if (an !== bn) return compareStrings(an, bn);
    if (av !== bv) return compareStrings(av, bv);
  }
  return a.length - b.length;
}
