/**
 * The engine's shared vocabulary. Timestamps are exact nanoseconds as `bigint` (a JavaScript `number` of
 * nanoseconds loses precision past 2^53 ≈ 104 days after the epoch).
 */

/** A label pair; a label set is an array of pairs sorted by name with no duplicate names. */
export type LabelPair = readonly [name: string, value: string];
export type Labels = readonly LabelPair[];

/** One log entry as it travels on the write path: the line stays as bytes (never decoded to a string). */
export interface PushEntry {
  /** Nanoseconds since the epoch. */
  ts: bigint;
  line: Buffer;
  /** Structured metadata, in the order the client sent it (undefined when there is none). */
  metadata?: LabelPair[];
}

/** One stream of a push request before validation: `labels` is the raw label string, e.g. `{app="x"}`. */
export interface PushStream {
  labels: string;
  entries: PushEntry[];
}

export interface PushRequest {
  streams: PushStream[];
}

/** One entry as a query returns it. */
export interface Entry {
  ts: bigint;
  line: string;
  metadata?: LabelPair[];
}

export type Direction = 'forward' | 'backward';

export const NS_PER_MS = 1_000_000n;
export const NS_PER_SECOND = 1_000_000_000n;
