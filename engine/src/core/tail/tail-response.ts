import { labelsString } from '../distributor/labels.js';
import type { LabelPair, Labels } from '../model.js';
import { CATEGORIZE_LABELS } from '../querier/response.js';
import { formatTs } from '../util/time.js';

/** One entry on its way to a tail client: already through the query's pipeline, line decoded. */
export interface TailEntry {
  /** Nanoseconds. */
  ts: bigint;
  line: string;
  /** The stream labels after the pipeline (drop/keep), sorted by name. */
  stream: Labels;
  /** Structured metadata, sorted by name (absent when none). */
  metadata?: Labels;
  /** Labels the pipeline's parsers and label_format added, sorted by name (absent when none). */
  parsed?: Labels;
}

/** An entry the client was too slow to receive: reported later by its labels and timestamp. */
export interface DroppedEntry {
  ts: bigint;
  labels: Labels;
}

/**
 * The label set a client sees for an entry. Without `categorize-labels` Loki folds structured metadata and parsed
 * labels into the stream labels (a later category wins a name clash), as on the query path.
 */
export function visibleLabels(e: TailEntry, categorize: boolean): Labels {
  if (categorize || (e.metadata === undefined && e.parsed === undefined)) return e.stream;
  const m = new Map<string, string>();
  for (const [k, v] of e.stream) m.set(k, v);
  if (e.metadata) for (const [k, v] of e.metadata) m.set(k, v);
  if (e.parsed) for (const [k, v] of e.parsed) m.set(k, v);
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const object = (labels: Labels): Record<string, string> => {
  const o: Record<string, string> = {};
  for (const [k, v] of labels) o[k] = v;
  return o;
};

const sameLabels = (a: Labels, b: Labels): boolean =>
  a === b || (a.length === b.length && a.every(([k, v], i) => b[i]![0] === k && b[i]![1] === v));

/**
 * Loki's v1 tail message: `{"streams":[{"stream":{…},"values":[["<ns>","<line>"]]}],"dropped_entries":[{"labels":{…},
 * "timestamp":"<ns>"}]}`. Entries keep their order (oldest first across all streams): consecutive entries of one label
 * set share a stream object, so a client reading streams in order sees every entry in timestamp order, as with Loki's
 * one-entry streams. `dropped_entries` appears only when something was dropped; with `categorize-labels` each value
 * carries a third element `{structuredMetadata, parsed}` and the message ends with `encodingFlags`.
 */
export function tailMessage(entries: readonly TailEntry[], dropped: readonly DroppedEntry[], categorize: boolean): string {
  const streams: Array<{ stream: Record<string, string>; values: unknown[][] }> = [];
  let last: Labels | undefined;
  let values: unknown[][] = [];
  for (const e of entries) {
    const labels = visibleLabels(e, categorize);
    if (last === undefined || !sameLabels(last, labels)) {
      values = [];
      streams.push({ stream: object(labels), values });
      last = labels;
    }
    const ts = e.ts.toString();
    if (!categorize) {
      values.push([ts, e.line]);
      continue;
    }
    const extra: Record<string, Record<string, string>> = {};
    if (e.metadata !== undefined && e.metadata.length > 0) extra.structuredMetadata = object(e.metadata);
    if (e.parsed !== undefined && e.parsed.length > 0) extra.parsed = object(e.parsed);
    values.push([ts, e.line, extra]);
  }
  const msg: Record<string, unknown> = { streams };
  if (dropped.length > 0) msg.dropped_entries = dropped.map((d) => ({ labels: object(d.labels), timestamp: d.ts.toString() }));
  if (categorize) msg.encodingFlags = [CATEGORIZE_LABELS];
  return JSON.stringify(msg);
}

/**
 * The legacy `/api/prom/tail` message: `{"streams":[{"labels":"{a=\"b\"}","entries":[{"ts":"<RFC3339Nano>",
 * "line":"…"}]}],"dropped_entries":null}`; dropped entries as `{"Timestamp":"<RFC3339Nano>","Labels":"{…}"}` (Go's
 * field names: the legacy type has no JSON tags for them).
 */
export function legacyTailMessage(entries: readonly TailEntry[], dropped: readonly DroppedEntry[]): string {
  const streams: Array<{ labels: string; entries: Array<{ ts: string; line: string }> }> = [];
  let last: Labels | undefined;
  let list: Array<{ ts: string; line: string }> = [];
  for (const e of entries) {
    const labels = visibleLabels(e, false);
    if (last === undefined || !sameLabels(last, labels)) {
      list = [];
      streams.push({ labels: labelsString(labels), entries: list });
      last = labels;
    }
    list.push({ ts: formatTs(e.ts), line: e.line });
  }
  const droppedEntries = dropped.length > 0 ? dropped.map((d) => ({ Timestamp: formatTs(d.ts), Labels: labelsString(d.labels) })) : null;
  return JSON.stringify({ streams, dropped_entries: droppedEntries });
}

/** Sorts label pairs by name (pipeline output and metadata arrive in insertion order). */
export function sortLabels(pairs: readonly LabelPair[]): LabelPair[] {
  return [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
