import type { LineFilterSpec } from '../../chunk/block-filter.js';
import type { EntrySink } from '../../chunk/block-reader.js';
import type { LabelPair, Labels } from '../../model.js';
import { badRequest } from '../../errors.js';
import type { Deadline } from '../../querier/deadline.js';
import type { LabelMatcher } from '../syntax/matcher.js';
import type { Metric } from './labels.js';

/** One element of an instant vector while a query is evaluated. */
export interface Sample {
  metric: Metric;
  value: number;
}

export type StepVector = Sample[];

/** One raw log entry as the engine reads it. */
export interface SourceEntry {
  ts: bigint;
  line: Buffer;
  metadata?: readonly LabelPair[];
}

export interface SourceStream {
  labels: Labels;
  /** Oldest first, deduplicated. */
  entries: readonly SourceEntry[];
}

/** What a scan reads: streams matching `matchers`, entries in [from, through) passing the leading line filters. */
export interface ScanRequest {
  matchers: LabelMatcher[];
  lineFilters: LineFilterSpec[];
  from: bigint;
  /** Exclusive. */
  through: bigint;
}

/**
 * Receives one stream's entries during a scan. Most entries come through `raw`, straight from a decompressed
 * block (no entry object, no BigInt: see chunk/block-reader.ts `EntrySink`); entries of a stream whose chunks
 * overlap in time come merged and deduplicated through `entry`, oldest first.
 */
export interface ScanVisitor {
  raw: EntrySink;
  entry(e: SourceEntry): void;
  /**
   * True when `raw` never keeps `data` (nor a view of it, such as the line) past the call: the reader may then
   * decompress every block into one reused buffer.
   */
  readonly transientData?: boolean;
}

/** Where range aggregations read their logs: the querier, bound to a tenant (or a fixture in tests). */
export interface SampleSource {
  /**
   * Every stream matching `matchers` with its entries in [from, through) that pass `prefilter`, oldest first.
   * Streams should come in a stable order (Loki merges them in label order); ties between streams merged into one
   * series are broken by that order.
   */
  readStreams(matchers: LabelMatcher[], prefilter: ((line: Buffer) => boolean) | undefined, from: bigint, through: bigint): Promise<SourceStream[]>;
  /**
   * The fast path, when the source has one: every matching stream once, in the same stable order as
   * `readStreams`, its entries handed to the visitor `visit` returns for it — raw entries block by block (not
   * necessarily in timestamp order when appends came out of order), merged entries oldest first.
   */
  scanStreams?(req: ScanRequest, visit: (stream: { labels: Labels }) => ScanVisitor): Promise<void>;
}

/**
 * The evaluation steps: `start`, `start + step`, … up to and including `end`. An instant query is one step
 * (`start == end`, `step == 0`).
 */
export class StepGrid {
  readonly count: number;

  constructor(
    readonly start: bigint,
    readonly end: bigint,
    readonly step: bigint,
  ) {
    // The HTTP layer refuses such a range with this message; internal callers (sub-queries, tools) get the same.
    if (end < start) throw badRequest('end timestamp must not be before or equal to start time');
    this.count = step > 0n ? Number((end - start) / step) + 1 : 1;
  }

  ns(i: number): bigint {
    return this.start + BigInt(i) * this.step;
  }

  /** The step's timestamp in milliseconds, as Loki reports sample times (nanoseconds truncated). */
  ms(i: number): number {
    return Number(this.ns(i) / 1_000_000n);
  }
}

export interface EvalContext {
  grid: StepGrid;
  source: SampleSource;
  deadline: Deadline;
}

/** A compiled node of a metric query: loads its data once, then yields one vector per step, in step order. */
export interface StepNode {
  load(): Promise<void>;
  /** The vector at step `i`; called with i = 0, 1, 2, … exactly once each. */
  at(i: number): StepVector;
}
