import { leadingLineFilters } from '../../chunk/block-filter.js';
import { readMetadata } from '../../chunk/block-reader.js';
import { joinInt64, MAX_INT64, MIN_INT64 } from '../../chunk/varint.js';
import type { LabelPair, Labels } from '../../model.js';
import { parseGoDuration, durationSeconds } from '../../util/go/duration.js';
import { parseHumanBytes } from '../../util/go/bytes.js';
import { parseGoFloat } from '../../util/go/strconv.js';
import { ERROR, ERROR_DETAILS, LabelsBuilder } from '../log/labels-builder.js';
import { Pipeline, compileLogSelector, requiredLabelNames, type StreamPipeline } from '../log/pipeline.js';
import { ParserHints } from '../parsers/parser-hints.js';
import type { Grouping, LogSelectorExpr, RangeAggregationExpr, RangeOp, Stage, Unwrap } from '../syntax/ast.js';
import { pipelineError } from './errors.js';
import { EMPTY_METRIC, MetricTable, dropLabels, getLabel, keepLabels, metricOf, withLabel, type Metric } from './labels.js';
import { windowFunction, type WindowFn } from './range-functions.js';
import type { EvalContext, ScanVisitor, SourceStream, StepNode, StepVector } from './types.js';

const PRESERVE_ERROR = '__preserve_error__';
const SAMPLE_EXTRACTION_ERR = 'SampleExtractionErr';
/** Check the query deadline this often while extracting samples. */
const DEADLINE_EVERY = 8192;

/** The samples of one series over the whole query window, oldest first. */
export interface SeriesSamples {
  metric: Metric;
  /** Timestamps relative to the query's base, in `unitNs` units; non-decreasing after loading. */
  ts: number[];
  values: number[];
  /** The series' labels carry `__error__` (not preserved): the query fails if any of its samples is in a window. */
  error: string | undefined;
  /** Window pointers: samples [lo, hi) are in the current window. */
  lo: number;
  hi: number;
  sorted: boolean;
  /** Smallest and largest relative timestamp seen. */
  first: number;
  last: number;
  /** Set when the series switched to window sums (see WindowSums); `ts`/`values` are then empty. */
  sums: WindowSums | undefined;
  /** The step layout for window sums, when the range function allows them (undefined: samples only). */
  grid: SumGrid | undefined;
}

/** The steps of a query in relative units, for window sums. */
interface SumGrid {
  readonly step: number;
  readonly range: number;
  /** Number of steps (windows). */
  readonly n: number;
}

/**
 * Window sums for additive range functions (count_over_time, rate, bytes_over_time, bytes_rate, absent_over_time
 * without unwrap): instead of keeping every sample, each sample adds its count and value to the windows it falls in,
 * as two difference arrays over the steps — +1 at the first window holding it, −1 after the last. A window's sums
 * are then prefix sums, every sample costs O(1) and nothing needs sorting. The sums are of integers (counts, line
 * lengths), so they are exact and equal to summing the window's samples. A series switches to this form once it
 * has more samples than steps, so it never uses more memory than its samples would.
 */
interface WindowSums {
  count: Float64Array;
  sum: Float64Array;
  /** Prefix sums up to and including step `at - 1`. */
  at: number;
  cumCount: number;
  cumSum: number;
  /**
   * Consecutive samples mostly fall in the same windows: the windows [lo, hi) of the last sample hold for every x
   * in (xMin, xMax], and samples there are only counted (pendCount, pendSum) until one falls elsewhere.
   */
  lo: number;
  hi: number;
  xMin: number;
  xMax: number;
  pendCount: number;
  pendSum: number;
}

/**
 * A range aggregation (`count_over_time({…} | … [5m] offset 1h)` and the unwrapped ones). Every stream is read once
 * for the whole query, [start − range − offset, end − offset]; each entry becomes one sample of the series named by
 * the entry's final labels (after the pipeline, unwrap and grouping). Steps then slide a (t − offset − range,
 * t − offset] window over each series with two pointers, so every sample is visited a bounded number of times.
 */
export class RangeAggregationNode implements StepNode {
  private readonly series: SeriesSamples[] = [];
  private readonly fn: WindowFn;
  /** The base of relative timestamps: the lower bound of the first window. */
  private readonly base: bigint;
  private readonly unitNs: bigint;
  private readonly stepRel: number;
  private readonly rangeRel: number;
  /** Series ordered by first sample; `next` is the first not yet active. */
  private next = 0;
  private active: SeriesSamples[] = [];
  private readonly absentMetric: Metric | undefined;

  /**
   * `pushdown` is the grouping of an enclosing `sum`, applied at extraction as Loki does (fewer, larger series;
   * the same result).
   */
  constructor(
    private readonly expr: RangeAggregationExpr,
    private readonly ctx: EvalContext,
    private readonly pushdown?: Grouping,
  ) {
    const { interval, offset } = expr.range;
    const grid = ctx.grid;
    this.base = grid.start - offset - interval;
    // Relative timestamps are exact integers below 2^53; a query spanning more than ~104 days of nanoseconds uses a
    // coarser unit (window boundaries then round to that unit).
    const span = grid.end - offset - this.base;
    this.unitNs = span < 2n ** 53n ? 1n : span / 2n ** 53n + 1n;
    this.stepRel = Number(grid.step / this.unitNs);
    this.rangeRel = Number(interval / this.unitNs);
    this.fn = windowFunction(expr.op, interval, expr.range.unwrap !== undefined, expr.param, this.unitNs);
    if (expr.op === 'absent_over_time') this.absentMetric = absentMetric(expr);
    const rangeSeconds = durationSeconds(interval);
    // Same formulas as range-functions.ts on the window's samples: (hi − lo) is the count, sum(v) the sum.
    switch (expr.range.unwrap === undefined ? expr.op : undefined) {
      case 'count_over_time':
      case 'absent_over_time':
        this.sumFn = (c) => c;
        break;
      case 'rate':
        this.sumFn = (c) => c / rangeSeconds;
        break;
      case 'bytes_over_time':
        this.sumFn = (_c, v) => v;
        break;
      case 'bytes_rate':
        this.sumFn = (_c, v) => v / rangeSeconds;
        break;
      default:
        this.sumFn = undefined;
    }
    if (this.sumFn !== undefined) this.sumGrid = { step: this.stepRel, range: this.rangeRel, n: grid.count };
  }

  /** The range function on window sums (count, sum), when it is additive. */
  private readonly sumFn: ((count: number, sum: number) => number) | undefined;
  private readonly sumGrid: SumGrid | undefined;

  async load(): Promise<void> {
    const { offset, unwrap } = this.expr.range;
    const selector = withoutUnusedLineFormats(this.expr.op, this.expr.range.selector);
    const compiled = compileLogSelector(selector, parserHints(this.expr, this.pushdown, selector.stages));
    const through = this.ctx.grid.end - offset + 1n;
    const extractor = new Extractor(this.expr, this.pushdown, this.base, this.unitNs, compiled.pipeline, unwrap, this.sumGrid);
    const source = this.ctx.source;
    if (source.scanStreams !== undefined) {
      // Blocks are scanned with the line filters applied to their bytes; entries become samples without an entry
      // object when the query has no stages.
      const lineFilters = leadingLineFilters(selector.stages);
      await source.scanStreams({ matchers: compiled.matchers, lineFilters, from: this.base, through }, (s) => extractor.open(s.labels, this.ctx));
    } else {
      const streams = await source.readStreams(compiled.matchers, compiled.prefilter, this.base, through);
      this.ctx.deadline.check();
      for (const s of streams) {
        extractor.stream(s, this.ctx);
        this.ctx.deadline.check();
      }
    }
    this.ctx.deadline.check();
    for (const s of extractor.series()) {
      if (s.sums !== undefined) flushPending(s.sums);
      if (s.sums === undefined && s.ts.length === 0) continue;
      if (s.sums === undefined && !s.sorted) sortSeries(s);
      this.series.push(s);
    }
    this.series.sort((a, b) => a.first - b.first);
  }

  at(i: number): StepVector {
    const wStart = i * this.stepRel;
    const wEnd = wStart + this.rangeRel;
    while (this.next < this.series.length && this.series[this.next]!.first <= wEnd) this.active.push(this.series[this.next++]!);
    const out: StepVector = [];
    let anySample = false;
    let keep = 0;
    for (let k = 0; k < this.active.length; k++) {
      const s = this.active[k]!;
      const sums = s.sums;
      if (sums !== undefined) {
        while (sums.at <= i) {
          sums.cumCount += sums.count[sums.at]!;
          sums.cumSum += sums.sum[sums.at]!;
          sums.at++;
        }
        if (s.last > wStart) this.active[keep++] = s;
        if (sums.cumCount === 0) continue;
        if (s.error !== undefined) throw pipelineError(s.error, s.metric.key);
        anySample = true;
        if (this.absentMetric === undefined) out.push({ metric: s.metric, value: this.sumFn!(sums.cumCount, sums.cumSum) });
        continue;
      }
      const ts = s.ts;
      while (s.hi < ts.length && ts[s.hi]! <= wEnd) s.hi++;
      while (s.lo < s.hi && ts[s.lo]! <= wStart) s.lo++;
      if (s.lo < ts.length) this.active[keep++] = s;
      if (s.hi === s.lo) continue;
      if (s.error !== undefined) throw pipelineError(s.error, s.metric.key);
      anySample = true;
      if (this.absentMetric === undefined) out.push({ metric: s.metric, value: this.fn(ts, s.values, s.lo, s.hi) });
    }
    this.active.length = keep;
    if (this.absentMetric !== undefined) return anySample ? [] : [{ metric: this.absentMetric, value: 1 }];
    return out;
  }
}

/**
 * Sorts a series merged from several streams by timestamp. Its samples are runs that are each sorted (one per
 * stream, in stream order), so runs are merged pairwise; on equal timestamps the earlier run wins, which keeps
 * stream order for ties.
 */
function sortSeries(s: SeriesSamples): void {
  const n = s.ts.length;
  const starts: number[] = [0];
  for (let i = 1; i < n; i++) if (s.ts[i]! < s.ts[i - 1]!) starts.push(i);
  starts.push(n);
  let ts = Float64Array.from(s.ts);
  let vs = Float64Array.from(s.values);
  let ts2 = new Float64Array(n);
  let vs2 = new Float64Array(n);
  let runs = starts;
  while (runs.length > 2) {
    const next: number[] = [0];
    for (let r = 0; r + 1 < runs.length; r += 2) {
      const a = runs[r]!;
      const m = runs[r + 1]!;
      const b = r + 2 < runs.length ? runs[r + 2]! : m;
      let i = a;
      let j = m;
      let k = a;
      while (i < m && j < b) {
        if (ts[j]! < ts[i]!) {
          ts2[k] = ts[j]!;
          vs2[k++] = vs[j++]!;
        } else {
          ts2[k] = ts[i]!;
          vs2[k++] = vs[i++]!;
        }
      }
      while (i < m) {
        ts2[k] = ts[i]!;
        vs2[k++] = vs[i++]!;
      }
      while (j < b) {
        ts2[k] = ts[j]!;
        vs2[k++] = vs[j++]!;
      }
      next.push(b);
    }
    runs = next;
    [ts, ts2] = [ts2, ts];
    [vs, vs2] = [vs2, vs];
  }
  s.ts = Array.from(ts);
  s.values = Array.from(vs);
  s.sorted = true;
}

/**
 * The labels absent_over_time reports: the selector's equality matchers, minus any name that also appears in
 * another matcher (its value would be ambiguous), as Loki derives them.
 */
function absentMetric(expr: RangeAggregationExpr): Metric {
  const eq = new Map<string, string>();
  const ambiguous = new Set<string>();
  for (const m of expr.range.selector.matchers) {
    if (m.type === '=' && !eq.has(m.name)) eq.set(m.name, m.value);
    else ambiguous.add(m.name);
  }
  for (const n of ambiguous) eq.delete(n);
  const labels = [...eq.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return metricOf(labels);
}

// ── sample extraction ──────────────────────────────────────────────────────────────────────────────────────────

type Converter = (s: string) => number | Error;

const CONVERTERS: Record<'float' | 'duration' | 'bytes', Converter> = {
  float: (s) => parseGoFloat(s),
  duration: (s) => {
    const d = parseGoDuration(s);
    return typeof d === 'bigint' ? durationSeconds(d) : d;
  },
  bytes: (s) => parseHumanBytes(s),
};

/**
 * The grouping applied at extraction, as Loki's extractors have it: the range aggregation's own, else the one pushed
 * down from a `sum`; no labels at all for absent_over_time and for `by ()`. With unwrap, the unwrapped label leaves
 * the series unless a `by (…)` keeps it explicitly.
 */
function extractionGrouping(expr: RangeAggregationExpr, pushdown: Grouping | undefined): { groups: string[]; without: boolean; noLabels: boolean } {
  const grouping = expr.grouping ?? pushdown;
  const noLabels = expr.op === 'absent_over_time' || (grouping !== undefined && !grouping.without && grouping.labels.length === 0);
  let groups = grouping?.labels ?? [];
  let without = grouping?.without ?? false;
  const unwrap = expr.range.unwrap;
  if (unwrap !== undefined && (groups.length === 0 || without)) {
    without = true;
    groups = [...groups, unwrap.label];
  }
  return { groups, without, noLabels };
}

/**
 * Loki's parser hints for this aggregation (parsers/parser-hints.ts): the labels the stages, the grouping and the
 * unwrap need. The unwrap's post filters are counted too, so they always see the labels they test.
 */
function parserHints(expr: RangeAggregationExpr, pushdown: Grouping | undefined, stages: readonly Stage[]): ParserHints | undefined {
  const { groups, without, noLabels } = extractionGrouping(expr, pushdown);
  const unwrap = expr.range.unwrap;
  const required = requiredLabelNames([...stages, ...(unwrap?.postFilters ?? []).map((filter): Stage => ({ kind: 'label_filter', filter }))]);
  return ParserHints.of(required, noLabels ? [] : groups, without, noLabels, unwrap?.label);
}

/**
 * Turns entries into samples: the value (1, the line's byte length, or the unwrapped label converted), and the
 * series it belongs to. Mirrors Loki's sample extractors, including the grouping shortcut: a `by`/`without`
 * grouping is applied here unless the entry carries an error, whose full labels must survive for the error check.
 */
class Extractor {
  private readonly table = new MetricTable();
  private readonly byKey = new Map<string, SeriesSamples>();
  /** `by (…)` names, sorted. */
  private readonly groupBy: readonly string[] | undefined;
  private readonly groupBySet: ReadonlySet<string> | undefined;
  private readonly groupWithout: ReadonlySet<string> | undefined;
  private readonly byGroupValues = new Map<string, Metric>();
  /** Only the empty label set (absent_over_time, or `by ()`), unless an error keeps the full labels. */
  private readonly noLabels: boolean;
  private readonly convert: Converter | undefined;
  private readonly post: Pipeline | undefined = undefined;
  private readonly postByKey = new Map<string, StreamPipeline>();
  private readonly bytes: boolean;

  constructor(
    expr: RangeAggregationExpr,
    pushdown: Grouping | undefined,
    private readonly base: bigint,
    private readonly unitNs: bigint,
    private readonly pipeline: Pipeline | undefined,
    private readonly unwrap: Unwrap | undefined,
    private readonly sumGrid: SumGrid | undefined,
  ) {
    const { groups, without, noLabels } = extractionGrouping(expr, pushdown);
    this.noLabels = noLabels;
    if (unwrap !== undefined) {
      this.convert = CONVERTERS[unwrap.conversion === 'duration_seconds' ? 'duration' : (unwrap.conversion ?? 'float')];
      if (unwrap.postFilters.length > 0) {
        this.post = new Pipeline(unwrap.postFilters.map((filter): Stage => ({ kind: 'label_filter', filter })));
      }
    }
    if (!this.noLabels && groups.length > 0) {
      if (without) this.groupWithout = new Set(groups);
      else {
        this.groupBySet = new Set(groups);
        this.groupBy = [...this.groupBySet].sort();
      }
    }
    this.bytes = expr.op === 'bytes_over_time' || expr.op === 'bytes_rate';
  }

  series(): Iterable<SeriesSamples> {
    return this.byKey.values();
  }

  stream(s: SourceStream, ctx: EvalContext): void {
    const v = this.open(s.labels, ctx);
    const entries = s.entries;
    for (let i = 0; i < entries.length; i++) {
      if ((i & (DEADLINE_EVERY - 1)) === DEADLINE_EVERY - 1) ctx.deadline.check();
      v.entry(entries[i]!);
    }
  }

  /**
   * A visitor turning one stream's entries into samples. Without stages, a raw entry becomes a sample straight
   * from the block (its relative time computed from the timestamp halves, its value 1 or the line's length); with
   * stages, an entry is made for the ones that reach the pipeline (those that passed the line filters).
   */
  open(streamLabels: Labels, ctx: EvalContext): ScanVisitor {
    let n = 0;
    const tick = (): void => {
      if ((++n & (DEADLINE_EVERY - 1)) === 0) ctx.deadline.check();
    };
    if (this.pipeline === undefined && this.unwrap === undefined) return this.plainVisitor(streamLabels, tick);
    const sp = this.pipeline?.forStream(streamLabels);
    // Without a pipeline, a builder still gives the unwrap its view of stream labels plus structured metadata.
    const lb = sp?.labels ?? new LabelsBuilder(streamLabels);
    const entry = (ts: bigint, line: Buffer, metadata: readonly LabelPair[] | undefined): void => {
      tick();
      this.entry(sp, lb, streamLabels, ts, line, metadata);
    };
    return {
      raw: (data, hi, lo, ls, le, ms) => entry(joinInt64(hi, lo), data.subarray(ls, le), ms >= 0 ? readMetadata(data, ms) : undefined),
      entry: (e) => entry(e.ts, e.line, e.metadata),
      // Samples keep numbers and label strings, never the line.
      transientData: true,
    };
  }

  private entry(
    sp: StreamPipeline | undefined,
    lb: LabelsBuilder,
    streamLabels: Labels,
    ts: bigint,
    entryLine: Buffer,
    metadata: readonly LabelPair[] | undefined,
  ): void {
    let line: Buffer | undefined = entryLine;
    if (sp !== undefined) {
      line = sp.process(ts, entryLine, metadata);
      if (line === undefined) return;
    } else {
      lb.reset(metadata !== undefined && metadata.length > 0 ? metadata : undefined);
    }
    let value: number;
    let labels: Labels | undefined;
    if (this.unwrap !== undefined) {
      const raw = lb.get(this.unwrap.label);
      // An entry without the label is not a sample (Loki, issue 6713), and not an error.
      if (raw === undefined || raw === '') return;
      const v = this.convert!(raw);
      if (typeof v === 'number') {
        value = v;
      } else {
        value = 0;
        labels = withLabel(withLabel(lb.all(), ERROR, SAMPLE_EXTRACTION_ERR), ERROR_DETAILS, v.message);
      }
      if (this.post !== undefined) {
        labels ??= lb.all();
        const post = this.postFor(labels);
        if (post.process(ts, line, undefined) === undefined) return;
        if (!post.labels.unchanged()) labels = post.labels.all();
      }
    } else {
      value = this.bytes ? line.length : 1;
    }
    this.add(this.metricFor(lb, labels, streamLabels), ts, value);
  }

  /**
   * No stages: the series is the stream (plus structured metadata), so it is resolved once per metadata set, and
   * a raw entry without metadata costs a few integer operations.
   */
  private plainVisitor(streamLabels: Labels, tick: () => void): ScanVisitor {
    let plain: SeriesSamples | undefined;
    let lb: LabelsBuilder | undefined;
    const byMetadata = new Map<string, SeriesSamples>();
    const bytes = this.bytes;
    const withMetadata = (md: readonly LabelPair[]): SeriesSamples => {
      const mk = metadataKey(md);
      let t = byMetadata.get(mk);
      if (t === undefined) {
        lb ??= new LabelsBuilder(streamLabels);
        lb.reset(md);
        t = this.seriesFor(this.metricFor(lb, undefined, streamLabels));
        byMetadata.set(mk, t);
      }
      return t;
    };
    const target = (md: readonly LabelPair[] | undefined): SeriesSamples =>
      md === undefined || md.length === 0 ? (plain ??= this.seriesFor(this.groupMetric(streamLabels))) : withMetadata(md);
    // Relative times straight from the halves: exact while the query spans less than 2^53 ns (unitNs 1).
    const exact = this.unitNs === 1n && this.base >= MIN_INT64 && this.base <= MAX_INT64;
    split(exact ? this.base : 0n);
    const baseHi = splitHi;
    const baseLo = splitLo;
    return {
      raw: (data, hi, lo, ls, le, ms) => {
        tick();
        const t = ms < 0 ? (plain ??= this.seriesFor(this.groupMetric(streamLabels))) : withMetadata(readMetadata(data, ms)!);
        const rel = exact ? (hi - baseHi) * 4294967296 + (lo - baseLo) : this.rel(joinInt64(hi, lo));
        push(t, rel, bytes ? le - ls : 1);
      },
      entry: (e) => {
        tick();
        push(target(e.metadata), this.rel(e.ts), bytes ? e.line.length : 1);
      },
      transientData: true,
    };
  }

  private add(metric: Metric, ts: bigint, value: number): void {
    push(this.seriesFor(metric), this.rel(ts), value);
  }

  private rel(ts: bigint): number {
    return this.unitNs === 1n ? Number(ts - this.base) : Number((ts - this.base) / this.unitNs);
  }

  private seriesFor(metric: Metric): SeriesSamples {
    let s = this.byKey.get(metric.key);
    if (s === undefined) {
      const err = getLabel(metric.labels, ERROR);
      const error = err !== undefined && getLabel(metric.labels, PRESERVE_ERROR) !== 'true' ? err : undefined;
      s = { metric, ts: [], values: [], error, lo: 0, hi: 0, sorted: true, first: Infinity, last: -Infinity, sums: undefined, grid: this.sumGrid };
      this.byKey.set(metric.key, s);
    }
    return s;
  }

  /**
   * The series of an entry: its full labels when they carry an error, otherwise the labels after grouping.
   * `labels` is given when the caller already built them (unwrap errors, post filters).
   */
  private metricFor(lb: LabelsBuilder, labels: Labels | undefined, streamLabels: Labels): Metric {
    if (labels !== undefined) {
      if (getLabel(labels, ERROR) !== undefined) return this.table.intern(labels);
      return this.groupMetric(labels);
    }
    if (lb.hasError()) return this.table.intern(lb.all());
    if (this.noLabels) return EMPTY_METRIC;
    if (this.groupBy !== undefined) {
      // The series is named by a few label values: look it up by those, without building a label set per entry.
      let key = '';
      for (const name of this.groupBy) {
        const v = lb.get(name);
        key += v === undefined ? '\u0001' : v + '\u0000';
      }
      let m = this.byGroupValues.get(key);
      if (m === undefined) {
        const picked: LabelPair[] = [];
        for (const name of this.groupBy) {
          const v = lb.get(name);
          if (v !== undefined) picked.push([name, v]);
        }
        m = this.table.intern(picked);
        this.byGroupValues.set(key, m);
      }
      return m;
    }
    const all = lb.unchanged() ? streamLabels : lb.all();
    return this.groupMetric(all);
  }

  private groupMetric(labels: Labels): Metric {
    if (getLabel(labels, ERROR) !== undefined) return this.table.intern(labels);
    if (this.noLabels) return EMPTY_METRIC;
    if (this.groupBy !== undefined) return this.table.intern(keepLabels(labels, this.groupBySet!));
    if (this.groupWithout !== undefined) return this.table.intern(dropLabels(labels, this.groupWithout));
    return this.table.intern(labels);
  }

  /** Post-unwrap label filters run on a builder holding the entry's labels (one per distinct label set). */
  private postFor(labels: Labels): StreamPipeline {
    const key = this.table.intern(labels).key;
    let p = this.postByKey.get(key);
    if (p === undefined) {
      p = this.post!.forStream(labels);
      this.postByKey.set(key, p);
    }
    return p;
  }
}

const splitView = new DataView(new ArrayBuffer(8));
let splitHi = 0;
let splitLo = 0;

/** A signed 64-bit timestamp as its high (signed) and low (unsigned) 32-bit halves, in splitHi/splitLo. */
function split(v: bigint): void {
  splitView.setBigInt64(0, v);
  splitHi = splitView.getInt32(0);
  splitLo = splitView.getUint32(4);
}

function push(s: SeriesSamples, ts: number, value: number): void {
  if (ts < s.first) s.first = ts;
  if (ts > s.last) s.last = ts;
  if (s.sums !== undefined) {
    addToWindows(s.sums, s.grid!, ts, value);
    return;
  }
  const n = s.ts.length;
  if (n > 0 && ts < s.ts[n - 1]!) s.sorted = false;
  s.ts.push(ts);
  s.values.push(value);
  if (s.grid !== undefined && n >= s.grid.n + 16) toWindowSums(s, s.grid);
}

function toWindowSums(s: SeriesSamples, g: SumGrid): void {
  const sums: WindowSums = {
    count: new Float64Array(g.n + 1),
    sum: new Float64Array(g.n + 1),
    at: 0,
    cumCount: 0,
    cumSum: 0,
    lo: 0,
    hi: 0,
    xMin: Infinity,
    xMax: -Infinity,
    pendCount: 0,
    pendSum: 0,
  };
  for (let i = 0; i < s.ts.length; i++) addToWindows(sums, g, s.ts[i]!, s.values[i]!);
  s.sums = sums;
  s.ts = [];
  s.values = [];
}

/** Adds a sample at relative time x to every window (i·step, i·step + range] holding it. */
function addToWindows(w: WindowSums, g: SumGrid, x: number, value: number): void {
  if (x > w.xMin && x <= w.xMax) {
    w.pendCount++;
    w.pendSum += value;
    return;
  }
  flushPending(w);
  let lo: number;
  let hi: number;
  if (g.n === 1 || g.step === 0) {
    // One window, (0, range].
    lo = 0;
    if (x <= 0) {
      hi = 0;
      w.xMin = -Infinity;
      w.xMax = 0;
    } else if (x <= g.range) {
      hi = 1;
      w.xMin = 0;
      w.xMax = g.range;
    } else {
      hi = 0;
      w.xMin = g.range;
      w.xMax = Infinity;
    }
  } else {
    // Windows i with i·step < x ≤ i·step + range: lo = ⌈(x − range)/step⌉, hi = ⌈x/step⌉ (exclusive), clamped to
    // [0, n]. Each bound holds while x stays in the step-long interval it was computed from.
    const step = g.step;
    const rawLo = ceilDiv(x - g.range, step);
    const rawHi = ceilDiv(x, step);
    let xMin: number;
    let xMax: number;
    if (rawLo <= 0) {
      lo = 0;
      xMin = -Infinity;
      xMax = g.range;
    } else {
      lo = rawLo;
      xMin = (rawLo - 1) * step + g.range;
      xMax = rawLo * step + g.range;
    }
    if (rawHi >= g.n) {
      hi = g.n;
      xMin = Math.max(xMin, (g.n - 1) * step);
    } else {
      hi = rawHi;
      xMin = Math.max(xMin, (rawHi - 1) * step);
      xMax = Math.min(xMax, rawHi * step);
    }
    w.xMin = xMin;
    w.xMax = xMax;
  }
  w.lo = lo;
  w.hi = hi;
  w.pendCount = 1;
  w.pendSum = value;
}

/** Moves the samples counted for the current windows into the difference arrays. */
function flushPending(w: WindowSums): void {
  if (w.pendCount > 0 && w.lo < w.hi) {
    w.count[w.lo]! += w.pendCount;
    w.count[w.hi]! -= w.pendCount;
    w.sum[w.lo]! += w.pendSum;
    w.sum[w.hi]! -= w.pendSum;
  }
  w.pendCount = 0;
  w.pendSum = 0;
}

/** ⌈a / b⌉ for integers below 2^53 (b > 0), corrected for the rounding of the division. */
function ceilDiv(a: number, b: number): number {
  let q = Math.ceil(a / b);
  if ((q - 1) * b >= a) q--;
  else if (q * b < a) q++;
  return q;
}

function metadataKey(md: readonly LabelPair[]): string {
  let k = '';
  for (const [n, v] of md) k += n + '\u0000' + v + '\u0001';
  return k;
}


/** Stages a line_format can feed: Loki keeps a line_format in a metric query only when one of them follows it. */
const READS_LINE: ReadonlySet<Stage['kind']> = new Set(['line_filter', 'json', 'logfmt', 'regexp', 'pattern', 'unpack']);

/**
 * Loki's removeLineformat optimisation, applied to every range aggregation but bytes_over_time and bytes_rate (which
 * measure the line): a line_format that no later parser or line filter reads cannot change the samples, so it is
 * dropped — its template is then neither validated nor executed (no TemplateFormatErr can fail the query).
 */
export function withoutUnusedLineFormats(op: RangeOp, selector: LogSelectorExpr): LogSelectorExpr {
  if (op === 'bytes_over_time' || op === 'bytes_rate') return selector;
  const stages = selector.stages;
  const kept = stages.filter((st, i) => st.kind !== 'line_format' || stages.slice(i + 1).some((later) => READS_LINE.has(later.kind)));
  return kept.length === stages.length ? selector : { ...selector, stages: kept };
}
