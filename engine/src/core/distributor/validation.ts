import { EngineError, type Rejection } from '../errors.js';
import type { Limits } from '../limits/limits.js';
import type { LabelPair, PushEntry } from '../model.js';
import { formatRfc3339 } from '../util/time.js';


const reject = (reason: string, message: string, lines: number, bytes: number): Rejection => ({
  error: new EngineError('bad_request', message),
  reason,
  lines,
  bytes,
});

export function entryBytes(e: PushEntry): number {
  let n = e.line.length;
  if (e.metadata) for (const [k, v] of e.metadata) n += k.length + v.length;
  return n;
}

function streamBytes(entries: readonly PushEntry[]): number {
  let n = 0;
  for (const e of entries) n += entryBytes(e);
  return n;
}

/** Checks a parsed (sorted) label set against the tenant's limits; returns the rejection or undefined. */
export function validateLabels(
  lim: Limits,
  pairs: readonly LabelPair[],
  stream: string,
  entries: readonly PushEntry[],
): Rejection | undefined {
  const n = entries.length;
  if (pairs.length === 0) {
    return reject('missing_labels', 'error at least one label pair is required per stream', n, streamBytes(entries));
  }
  // Loki does not count the service_name label it adds itself.
  const counted = pairs.some(([n]) => n === 'service_name') ? pairs.length - 1 : pairs.length;
  if (lim.max_label_names_per_series > 0 && counted > lim.max_label_names_per_series) {
    return reject(
      'max_label_names_per_series',
      `entry for stream '${stream}' has ${counted} label names; limit ${lim.max_label_names_per_series}`,
      n,
      streamBytes(entries),
    );
  }
  let prev = '';
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!;
    if (lim.max_label_name_length > 0 && name.length > lim.max_label_name_length) {
      return reject('label_name_too_long', `stream '${stream}' has label name too long: '${name}'`, n, streamBytes(entries));
    }
    if (lim.max_label_value_length > 0 && value.length > lim.max_label_value_length) {
      return reject(
        'label_value_too_long',
        `stream '${stream}' has label value too long: '${value}'`,
        n,
        streamBytes(entries),
      );
    }
    if (i > 0 && name === prev) {
      return reject('duplicate_label_names', `stream '${stream}' has duplicate label name: '${name}'`, n, streamBytes(entries));
    }
    prev = name;
  }
  return undefined;
}

export interface EntryCheck {
  /** Oldest accepted timestamp (ns) when reject_old_samples is on, else undefined. */
  oldest: bigint | undefined;
  /** Newest accepted timestamp (ns): now + creation_grace_period. */
  newest: bigint;
  /** Whether the entry's period stores structured metadata (schema v13). */
  metadataAllowedAt: (ts: bigint) => boolean;
}

export function entryCheck(lim: Limits, nowMs: number, metadataAllowedAt: (ts: bigint) => boolean): EntryCheck {
  const now = BigInt(nowMs) * 1_000_000n;
  return {
    oldest: lim.reject_old_samples ? now - BigInt(lim.reject_old_samples_max_age) * 1_000_000n : undefined,
    newest: now + BigInt(lim.creation_grace_period) * 1_000_000n,
    metadataAllowedAt,
  };
}

/**
 * Validates one entry; may truncate its line in place when max_line_size_truncate is set (as Loki does). Returns
 * a rejection or undefined.
 */
export function validateEntry(lim: Limits, check: EntryCheck, e: PushEntry, stream: string): Rejection | undefined {
  if (check.oldest !== undefined && e.ts < check.oldest) {
    return reject(
      'greater_than_max_sample_age',
      `entry for stream '${stream}' has timestamp too old: ${formatRfc3339(e.ts)}, oldest acceptable timestamp is: ${formatRfc3339(check.oldest)}`,
      1,
      entryBytes(e),
    );
  }
  if (e.ts > check.newest) {
    return reject('too_far_in_future', `entry for stream '${stream}' has timestamp too new: ${formatRfc3339(e.ts)}`, 1, entryBytes(e));
  }
  const max = lim.max_line_size;
  if (max > 0 && e.line.length > max) {
    if (lim.max_line_size_truncate) {
      e.line = truncateUtf8(e.line, max);
    } else {
      return reject(
        'line_too_long',
        `Max entry size '${max}' bytes exceeded for stream '${stream}' while adding an entry with length '${e.line.length}' bytes`,
        1,
        entryBytes(e),
      );
    }
  }
  const md = e.metadata;
  if (md !== undefined && md.length > 0) {
    if (!lim.allow_structured_metadata) {
      return reject(
        'disallowed_structured_metadata',
        `stream '${stream}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.structured_metadata\` or contact your Loki administrator to enable it.`,
        1,
        entryBytes(e),
      );
    }
    let size = 0;
    for (const [k, v] of md) size += k.length + v.length;
    if (lim.max_structured_metadata_size > 0 && size > lim.max_structured_metadata_size) {
      return reject(
        'structured_metadata_too_large',
        `stream '${stream}' has structured metadata too large: '${size}' bytes, limit: '${lim.max_structured_metadata_size}' bytes. Please see \`limits_config.max_structured_metadata_size\` or contact your Loki administrator to increase it.`,
        1,
        entryBytes(e),
      );
    }
    if (lim.max_structured_metadata_entries_count > 0 && md.length > lim.max_structured_metadata_entries_count) {
      return reject(
        'structured_metadata_too_many',
        `stream '${stream}' has too many structured metadata labels: '${md.length}', limit: '${lim.max_structured_metadata_entries_count}'. Please see \`limits_config.max_structured_metadata_entries_count\` or contact your Loki administrator to increase it.`,
        1,
        entryBytes(e),
      );
    }
    if (!check.metadataAllowedAt(e.ts)) {
      return reject(
        'disallowed_structured_metadata',
        `stream '${stream}' includes structured metadata at ${formatRfc3339(e.ts)}, but the schema period of that time is older than v13, which is required to store structured metadata`,
        1,
        entryBytes(e),
      );
    }
  }
  return undefined;
}

/** Cuts a line to at most `max` bytes without splitting a UTF-8 character. */
export function truncateUtf8(line: Buffer, max: number): Buffer {
  let end = max;
  // Back off over continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && (line[end]! & 0xc0) === 0x80) end--;
  return line.subarray(0, end);
}

/**
 * Loki 3's service_name discovery: when a stream has no `service_name`, copy it from the first label in
 * `discover_service_name` that is present, else set it to `unknown_service`. An empty list disables it.
 */
export function withServiceName(pairs: readonly LabelPair[], discover: readonly string[]): readonly LabelPair[] {
  if (discover.length === 0) return pairs;
  let value: string | undefined;
  for (const [n] of pairs) if (n === 'service_name') return pairs;
  for (const want of discover) {
    for (const [n, v] of pairs) {
      if (n === want && v !== '') {
        value = v;
        break;
      }
    }
    if (value !== undefined) break;
  }
  const out = [...pairs, ['service_name', value ?? 'unknown_service'] as const];
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return out;
}
