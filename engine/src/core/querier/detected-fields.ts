import type { LabelPair, Labels } from '../model.js';
import { json, logfmt, sanitizeLabelKey, ERROR_DETAILS_LABEL, ERROR_LABEL, EXTRACTED_SUFFIX } from '../logql/parsers/index.js';
import { formatHumanBytes, parseHumanBytes } from '../util/go/bytes.js';
import { parseGoDuration } from '../util/go/duration.js';
import { parseGoFloat } from '../util/go/strconv.js';
import type { LogStream } from './querier.js';

/** Loki's detected field types. */
export type DetectedFieldType = 'string' | 'int' | 'float' | 'boolean' | 'duration' | 'bytes';

/** One entry of `/detected_fields`: `{label, type, cardinality, parsers, jsonPath?}`. */
export interface DetectedField {
  label: string;
  type: DetectedFieldType;
  cardinality: number;
  /** `["json"]`, `["logfmt"]` (or both); null for structured metadata, which needs no parser. */
  parsers: string[] | null;
  /** The field's path in the JSON line (original keys, before sanitising), for fields the json parser found. */
  jsonPath?: string[];
}

/** Loki's defaults: `line_limit` 100, `limit` (or `field_limit`) 1000. */
export const DEFAULT_LINE_LIMIT = 100;
export const DEFAULT_FIELD_LIMIT = 1000;

const PRESERVE_ERROR_LABEL = '__preserve_error__';
const SKIPPED = new Set([ERROR_LABEL, ERROR_DETAILS_LABEL, PRESERVE_ERROR_LABEL]);

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;
const GO_BOOLS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * The type Loki reports for a value, trying in its order: a base-10 int64, a float, a Go bool, a Go duration, then a
 * go-humanize byte size; anything else is a string.
 */
export function determineType(v: string): DetectedFieldType {
  if (/^[+-]?\d+$/.test(v)) {
    const n = BigInt(v);
    if (n >= MIN_INT64 && n <= MAX_INT64) return 'int';
  }
  if (typeof parseGoFloat(v) === 'number') return 'float';
  if (GO_BOOLS.has(v)) return 'boolean';
  if (typeof parseGoDuration(v) === 'bigint') return 'duration';
  if (typeof parseHumanBytes(v) === 'number') return 'bytes';
  return 'string';
}

/** The fields one entry yields: structured metadata, labels the query's own parsers added, and a json/logfmt parse. */
export interface EntryFields {
  metadata: Map<string, string>;
  /** Parsed fields (query parsers and the auto-detected parser), one value each. */
  parsed: Map<string, string>;
  /** The parser that read the line, or undefined when neither json nor logfmt did. */
  parser: 'json' | 'logfmt' | undefined;
  /** JSON paths of the fields the json parser found. */
  jsonPaths: Map<string, string[]>;
}

/**
 * Parses one entry as Loki's detected-fields handler does: the line is tried as JSON, and if that fails as logfmt;
 * a parsed name that clashes with a stream label gets `_extracted`. Error labels are never fields.
 */
export function entryFields(
  line: Buffer,
  streamLabels: Labels,
  metadata: readonly LabelPair[] | undefined,
  queryParsed: readonly LabelPair[] | undefined,
): EntryFields {
  const md = new Map<string, string>();
  for (const [k, v] of metadata ?? []) md.set(k, v);
  const parsed = new Map<string, string>();
  for (const [k, v] of queryParsed ?? []) if (!SKIPPED.has(k)) parsed.set(k, v);
  // Labels the query's parsers produced are not stream labels: they must not trigger `_extracted`.
  const base = new Set<string>();
  for (const [k] of streamLabels) if (!parsed.has(k)) base.add(k);

  const jsonPaths = new Map<string, string[]>();
  let parser: EntryFields['parser'] = 'json';
  let r = json(line, undefined, base);
  if (r.error !== undefined) {
    parser = 'logfmt';
    r = logfmt(line, {}, undefined, base);
    if (r.error !== undefined) return { metadata: md, parsed, parser: undefined, jsonPaths };
  } else {
    collectJsonPaths(line, base, jsonPaths);
  }
  for (const [k, v] of r.labels) if (!SKIPPED.has(k)) parsed.set(k, v);
  return { metadata: md, parsed, parser, jsonPaths };
}

/**
 * Maps each label name the json parser produces to the keys that led to it (`{"user":{"name":…}}` gives
 * `user_name` → `["user", "name"]`). Only objects are walked, as the parser skips arrays.
 */
function collectJsonPaths(line: Buffer, base: ReadonlySet<string>, out: Map<string, string[]>): void {
  let doc: unknown;
  try {
    doc = JSON.parse(line.toString('utf8'));
  } catch {
    return;
  }
  const walk = (obj: Record<string, unknown>, prefix: string, path: string[]): void => {
    for (const [key, value] of Object.entries(obj)) {
      const name = prefix === '' ? sanitizeLabelKey(key, true) : prefix + '_' + sanitizeLabelKey(key, false);
      const p = [...path, key];
      if (value !== null && typeof value === 'object') {
        if (!Array.isArray(value)) walk(value as Record<string, unknown>, name, p);
        continue;
      }
      if (value === null) continue;
      out.set(base.has(name) ? name + EXTRACTED_SUFFIX : name, p);
    }
  };
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) walk(doc as Record<string, unknown>, '', []);
}

interface FieldState {
  type: DetectedFieldType;
  values: Set<string>;
  parsers: string[];
  jsonPath?: string[];
}

/** The labels an entry's stream has: the pipeline's final stream labels, or the stream's own. */
const labelsOf = (s: LogStream, e: LogStream['entries'][number]): Labels => e.stream ?? s.labels;

/**
 * Loki's `/detected_fields` over the entries a log query returned: every structured metadata key and parsed field
 * (up to `limit` distinct names, first come first kept), with its type (from the latest entry that had it), the
 * number of distinct values and the parsers that found it. Sorted by name.
 */
export function detectFields(streams: readonly LogStream[], limit: number): DetectedField[] {
  const fields = new Map<string, FieldState>();
  const field = (name: string, parsers: readonly string[]): FieldState | undefined => {
    let f = fields.get(name);
    if (f === undefined) {
      if (fields.size >= limit) return undefined;
      f = { type: 'string', values: new Set(), parsers: [...parsers] };
      fields.set(name, f);
    }
    return f;
  };
  for (const s of streams) {
    for (const e of s.entries) {
      const ef = entryFields(e.line, labelsOf(s, e), e.metadata, e.parsed);
      for (const [k, v] of ef.metadata) {
        const f = field(k, []);
        if (f === undefined) continue;
        f.type = determineType(v);
        f.values.add(v);
      }
      const parsers = ef.parser === undefined ? [] : [ef.parser];
      for (const [k, v] of ef.parsed) {
        const f = field(k, parsers);
        if (f === undefined) continue;
        for (const p of parsers) if (!f.parsers.includes(p)) f.parsers.push(p);
        if (f.jsonPath === undefined) {
          const path = ef.jsonPaths.get(k);
          if (path !== undefined) f.jsonPath = path;
        }
        f.type = determineType(v);
        f.values.add(v);
      }
    }
  }
  return [...fields.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([label, f]) => {
      const out: DetectedField = { label, type: f.type, cardinality: f.values.size, parsers: f.parsers.length > 0 ? f.parsers : null };
      if (f.jsonPath !== undefined) out.jsonPath = f.jsonPath;
      return out;
    });
}

// go-humanize units Loki accepts as a byte-size suffix when it rewrites values (longest first is not needed: any
// suffix match counts).
const BYTE_UNITS = ['b', 'kib', 'kb', 'mib', 'mb', 'gib', 'gb', 'tib', 'tb', 'pib', 'pb', 'eib', 'eb', 'ki', 'k', 'mi', 'm', 'gi', 'g', 'ti', 't', 'pi', 'p', 'ei', 'e'];

/**
 * Loki's `/detected_field/<name>/values`: the distinct values of one field in the entries (structured metadata and
 * parsed fields), at most `limit` (the check runs per entry, as Loki's does). Parsed byte sizes are rewritten in
 * go-humanize's SI form without the space (`1.5MiB` → `1.6MB`) so they paste into a query. Sorted.
 */
export function detectFieldValues(streams: readonly LogStream[], name: string, limit: number): string[] {
  const values = new Set<string>();
  outer: for (const s of streams) {
    for (const e of s.entries) {
      if (values.size >= limit) break outer;
      for (const [k, v] of e.metadata ?? []) if (k === name) values.add(v);
      const ef = entryFields(e.line, labelsOf(s, e), undefined, e.parsed);
      const v = ef.parsed.get(name);
      if (v === undefined) continue;
      const bytes = parseHumanBytes(v);
      const lower = v.toLowerCase();
      if (typeof bytes === 'number' && BYTE_UNITS.some((u) => lower.endsWith(u))) values.add(formatHumanBytes(bytes));
      else values.add(v);
    }
  }
  return [...values].sort();
}
