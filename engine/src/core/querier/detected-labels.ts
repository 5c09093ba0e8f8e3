import type { Labels } from '../model.js';
import { parseGoFloat } from '../util/go/strconv.js';

/** One entry of `/detected_labels`: `{label, cardinality}`. */
export interface DetectedLabel {
  label: string;
  cardinality: number;
}

/** Labels Loki always reports when they have values, even when every value looks like an id. */
export const STATIC_LABELS: ReadonlySet<string> = new Set(['cluster', 'namespace', 'instance', 'pod']);

const UUID = /^(?:urn:uuid:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$|^[0-9a-f]{32}$/i;

/** Numbers and UUIDs (in any form Go's uuid.Parse reads) are ids: a label made only of them says little. */
function isId(v: string): boolean {
  return typeof parseGoFloat(v) === 'number' || UUID.test(v);
}

/**
 * Loki's rule for hiding a label from Drilldown: no values, or only id-like values (numbers, UUIDs), except that a
 * label with at most two values that are all `0`/`1` is a flag and is kept.
 */
export function shouldRejectLabel(values: readonly string[]): boolean {
  if (values.length === 0) return true;
  if (values.length > 2) return values.every(isId);
  if (values.every((v) => v === '0' || v === '1')) return false;
  return values.every(isId);
}

/**
 * Loki's `/detected_labels` from the label sets of the matching streams: each label with its number of distinct
 * values, minus those {@link shouldRejectLabel} hides (the static labels stay whenever they have a value). Sorted by
 * name.
 */
export function detectLabels(series: readonly Labels[]): DetectedLabel[] {
  const values = new Map<string, Set<string>>();
  for (const labels of series) {
    for (const [n, v] of labels) {
      let set = values.get(n);
      if (set === undefined) values.set(n, (set = new Set()));
      set.add(v);
    }
  }
  const out: DetectedLabel[] = [];
  for (const [label, set] of values) {
    const vs = [...set];
    if ((STATIC_LABELS.has(label) && vs.length > 0) || !shouldRejectLabel(vs)) out.push({ label, cardinality: vs.length });
  }
  return out.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}
