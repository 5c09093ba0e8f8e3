import { EngineError } from '../../errors.js';
import type { LabelPair, Labels } from '../../model.js';
import {
  JsonExpressionParser,
  JsonParser,
  LogfmtExpressionParser,
  LogfmtParser,
  PatternMatcher,
  PatternParser,
  RegexpParser,
  UnpackParser,
  type ParserHints,
} from '../parsers/index.js';
import type { CmpOp, LabelFilter, LabelFormat, LineFilterStage, LogSelectorExpr, Stage } from '../syntax/ast.js';
import { parseError } from '../syntax/lexer.js';
import { printStage } from '../syntax/printer.js';
import type { LabelMatcher } from '../syntax/matcher.js';
import {
  TEMPLATE_FORMAT_ERR,
  TemplateExecError,
  labelFormatTemplate,
  lineFormatTemplate,
  type Template,
  type TemplateData,
} from '../template/index.js';
import { parseHumanBytes } from '../../util/go/bytes.js';
import { parseGoDuration } from '../../util/go/duration.js';
import { GoSyntaxError } from '../../util/go/errors.js';
import { parseGoFloat } from '../../util/go/strconv.js';
import { IpMatcher } from './ip.js';
import { ERROR, ERROR_DETAILS, LabelsBuilder } from './labels-builder.js';
import { compileLineFilters, type LinePredicate } from './line-filter.js';

/** The state one stage sees: the current line (stages may rewrite it), its timestamp, and its labels. */
interface Entry {
  line: Buffer;
  ts: bigint;
  labels: LabelsBuilder;
}

/** A compiled stage: false drops the entry. */
type StageFn = (e: Entry) => boolean;

/** A log selector compiled once per query. */
export interface CompiledLogQuery {
  matchers: LabelMatcher[];
  /** The leading line filters as one predicate on raw bytes: chunk reads apply it before making any entry. */
  prefilter: LinePredicate | undefined;
  /** The stages after the leading line filters; undefined when there are none (entries pass through as stored). */
  pipeline: Pipeline | undefined;
}

/** `hints`: a metric query's parser hints (parsers/parser-hints.ts); log queries extract everything. */
export function compileLogSelector(expr: LogSelectorExpr, hints?: ParserHints): CompiledLogQuery {
  let lead = 0;
  while (lead < expr.stages.length && isPlainTextFilter(expr.stages[lead]!)) lead++;
  const prefilter = compileLineFilters(expr.stages.slice(0, lead) as LineFilterStage[]);
  const rest = expr.stages.slice(lead);
  return { matchers: expr.matchers, prefilter, pipeline: rest.length > 0 ? new Pipeline(rest, hints) : undefined };
}

/**
 * The label names stages read (Loki's RequiredLabelNames): label filters' names, the fields templates use and the
 * sources of label renames. Parsers, drop, keep and line filters need none. Stages that cannot be built are left
 * out (building the pipeline reports them).
 */
export function requiredLabelNames(stages: readonly Stage[]): string[] {
  const out = new Set<string>();
  const fromTemplate = (make: () => Template): void => {
    try {
      for (const n of make().requiredLabelNames) out.add(n);
    } catch {
      // reported when the stage is compiled
    }
  };
  const fromFilter = (f: LabelFilter): void => {
    switch (f.kind) {
      case 'and':
      case 'or':
        fromFilter(f.left);
        fromFilter(f.right);
        break;
      case 'string':
        out.add(f.matcher.name);
        break;
      default:
        out.add(f.name);
    }
  };
  for (const s of stages) {
    if (s.kind === 'label_filter') fromFilter(s.filter);
    else if (s.kind === 'line_format') fromTemplate(() => lineFormatTemplate(s.template));
    else if (s.kind === 'label_format') {
      for (const f of s.formats) {
        if (f.kind === 'rename') out.add(f.src);
        else fromTemplate(() => labelFormatTemplate(f.dst, f.template));
      }
    }
  }
  return [...out];
}

/** Text and regex filters without ip(): the ones the byte-level prefilter runs. */
function isPlainTextFilter(s: Stage): boolean {
  return s.kind === 'line_filter' && (s.op === '|=' || s.op === '!=' || s.op === '|~' || s.op === '!~') && s.values.every((v) => !v.ip);
}

/** The stages of a query, compiled once; `forStream` gives the per-stream runner. */
export class Pipeline {
  private readonly stages: StageFn[];

  constructor(
    stages: readonly Stage[],
    private readonly hints?: ParserHints,
  ) {
    this.stages = stages.map((s) => compileCheckedStage(s, hints));
  }

  forStream(labels: Labels): StreamPipeline {
    return new StreamPipeline(this.stages, labels, this.hints);
  }
}

/** Runs entries of one stream through the stages, reusing one labels builder. */
export class StreamPipeline {
  readonly labels: LabelsBuilder;
  private readonly entry: Entry;

  constructor(
    private readonly stages: readonly StageFn[],
    streamLabels: Labels,
    hints?: ParserHints,
  ) {
    this.labels = new LabelsBuilder(streamLabels, hints);
    this.entry = { line: EMPTY, ts: 0n, labels: this.labels };
  }

  /** The entry's final line, or undefined when a stage dropped it; `labels` then describes its labels. */
  process(ts: bigint, line: Buffer, metadata: readonly LabelPair[] | undefined): Buffer | undefined {
    this.labels.reset(metadata !== undefined && metadata.length > 0 ? metadata : undefined);
    const e = this.entry;
    e.line = line;
    e.ts = ts;
    for (const stage of this.stages) if (!stage(e)) return undefined;
    return e.line;
  }
}

const EMPTY = Buffer.alloc(0);

// ── stages ─────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * A stage that cannot be built (a bad template, JSON or logfmt expression, ip() pattern, or label_format) fails the
 * query as Loki's NewStageError does: `parse error : stage '<the stage's canonical text>' : <reason>`, a 400.
 */
function compileCheckedStage(s: Stage, hints: ParserHints | undefined): StageFn {
  try {
    return compileStage(s, hints);
  } catch (err) {
    // Parsers, templates and matchers report a bad argument with a plain Error; programming errors stay 500s.
    const internal = !(err instanceof Error) || err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;
    if (internal || (err instanceof EngineError && err.code !== 'bad_request')) throw err;
    throw parseError(0, 0, `stage '${printStage(s)}' : ${(err as Error).message}`);
  }
}

/** Why a stage cannot be built (wrapped into Loki's stage error). */
class StageBuildError extends Error {}

function compileStage(s: Stage, hints: ParserHints | undefined): StageFn {
  switch (s.kind) {
    case 'line_filter': {
      const p = compileLineFilterStage(s);
      return (e) => p(e.line);
    }
    case 'json': {
      if (s.params.length > 0) {
        const p = new JsonExpressionParser(extractions(s.params), hints);
        return (e) => (p.process(e.line, e.labels), true);
      }
      const p = new JsonParser(hints);
      return (e) => (p.process(e.line, e.labels), true);
    }
    case 'logfmt': {
      const p =
        s.params.length > 0
          ? new LogfmtExpressionParser(extractions(s.params), { strict: s.strict, keepEmpty: s.keepEmpty }, hints)
          : new LogfmtParser({ strict: s.strict, keepEmpty: s.keepEmpty }, hints);
      return (e) => (p.process(e.line, e.labels), true);
    }
    case 'regexp': {
      const p = new RegexpParser(s.pattern, hints);
      return (e) => (p.process(e.line, e.labels), true);
    }
    case 'pattern': {
      const p = new PatternParser(s.pattern, hints);
      return (e) => (p.process(e.line, e.labels), true);
    }
    case 'unpack': {
      const p = new UnpackParser(hints);
      return (e) => {
        const replaced = p.process(e.line, e.labels);
        if (replaced !== undefined) e.line = Buffer.from(replaced, 'utf8');
        return true;
      };
    }
    case 'label_filter': {
      const f = compileLabelFilter(s.filter);
      return (e) => f(e.labels);
    }
    case 'line_format': {
      const t = asStageError(() => lineFormatTemplate(s.template));
      return (e) => {
        const out = runTemplate(t, e);
        if (out !== undefined) e.line = Buffer.from(out, 'utf8');
        return true;
      };
    }
    case 'label_format':
      return compileLabelFormat(s.formats);
    case 'drop': {
      const items = s.labels;
      return (e) => {
        for (const { name, matcher } of items) {
          const v = e.labels.get(name);
          if (v !== undefined && (matcher === undefined || matcher.matches(v))) e.labels.delete(name);
        }
        return true;
      };
    }
    case 'keep': {
      const items = s.labels;
      return (e) => {
        // Loki's keep never drops the error labels the pipeline added.
        const kept = new Set<string>([ERROR, ERROR_DETAILS]);
        for (const { name, matcher } of items) {
          const v = e.labels.get(name);
          if (v !== undefined && (matcher === undefined || matcher.matches(v))) kept.add(name);
        }
        e.labels.keep(kept);
        return true;
      };
    }
    case 'decolorize':
      return (e) => {
        if (e.line.includes(0x1b) || e.line.includes(C1_CSI)) e.line = Buffer.from(e.line.toString('latin1').replace(ANSI, ''), 'latin1');
        return true;
      };
  }
}

const extractions = (params: readonly { label: string; expression: string }[]) =>
  params.map((p) => ({ name: p.label, expr: p.expression }));

// Loki's ANSI expression (from acarl005/stripansi), matched on the line's bytes: ESC, or the two-byte UTF-8 form of
// U+009B (C1 CSI); then the intermediate and parameter characters and a final byte, or an OSC-like run ended by BEL.
// Decoding as latin1 keeps every byte (invalid UTF-8 included) as one character, as Go's byte-wise matching does.
const C1_CSI = Buffer.from('\u009b', 'utf8');
const ANSI =
  // eslint-disable-next-line no-control-regex
  /(?:\x1b|\xc2\x9b)[[\]()#;?]*(?:(?:(?:[a-zA-Z\d]*(?:;[a-zA-Z\d]*)*)?\x07)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PRZcf-ntqry=><~]))/g;

function runTemplate(t: Template, e: Entry, data: TemplateData = e.labels): string | undefined {
  try {
    return t.execute(data, e.line, e.ts);
  } catch (err) {
    if (!(err instanceof TemplateExecError)) throw err;
    e.labels.setError(TEMPLATE_FORMAT_ERR, err.message);
    return undefined;
  }
}

/** Template parse errors become stage errors (any other failure stays what it is). */
function asStageError<T>(make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof Error && !(err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError)) {
      throw new StageBuildError(err.message);
    }
    throw err;
  }
}

/**
 * `| label_format`, as Loki's LabelsFormatter: a label name at most once and never `__error__` (checked before the
 * templates are parsed); formats apply in order — a rename moves the label at once (`a=a` removes it, as in Loki),
 * and every template reads the labels as they were when the stage's first template ran.
 */
function compileLabelFormat(formats: readonly LabelFormat[]): StageFn {
  const seen = new Set<string>();
  for (const f of formats) {
    if (f.dst === ERROR) throw new StageBuildError(`${ERROR} cannot be formatted`);
    if (seen.has(f.dst)) throw new StageBuildError(`multiple label name '${f.dst}' not allowed in a single format operation`);
    seen.add(f.dst);
  }
  const compiled = formats.map((f) =>
    f.kind === 'rename' ? { dst: f.dst, src: f.src, t: undefined } : { dst: f.dst, src: undefined, t: asStageError(() => labelFormatTemplate(f.dst, f.template)) },
  );
  const templates = compiled.filter((f) => f.t !== undefined).length;
  return (e) => {
    // One template reads the live labels; with several, later ones must not see what earlier ones set.
    let data: TemplateData | undefined = templates > 1 ? undefined : e.labels;
    for (const f of compiled) {
      if (f.t === undefined) {
        const v = e.labels.get(f.src!);
        if (v !== undefined) {
          e.labels.set(f.dst, v);
          e.labels.delete(f.src!);
        }
        continue;
      }
      data ??= snapshot(e.labels);
      const out = runTemplate(f.t, e, data);
      if (out !== undefined) e.labels.set(f.dst, out);
    }
    return true;
  };
}

function snapshot(labels: LabelsBuilder): TemplateData {
  const m = new Map<string, string>(labels.all());
  return { get: (name) => m.get(name), entries: () => m.entries() };
}

export function compileLineFilterStage(s: LineFilterStage): LinePredicate {
  if (isPlainTextFilter(s)) return compileLineFilters([s])!;
  const negative = s.op === '!=' || s.op === '!~' || s.op === '!>';
  const tests: LinePredicate[] = s.values.map((v) => {
    if (v.ip) {
      // Loki's ip() line filter exists for |= and != only.
      if (s.op !== '|=' && s.op !== '!=') throw new GoSyntaxError('ip: invalid operation');
      const m = new IpMatcher(v.value);
      return (line) => m.matchesLine(line);
    }
    if (s.op === '|>' || s.op === '!>') {
      const m = asStageError(() => PatternMatcher.compileLineFilter(v.value));
      return (line) => m.test(line);
    }
    return compileLineFilters([{ kind: 'line_filter', op: s.op === '!=' ? '|=' : s.op === '!~' ? '|~' : s.op, values: [v] }])!;
  });
  const any = tests.length === 1 ? tests[0]! : (line: Buffer) => tests.some((t) => t(line));
  return negative ? (line) => !any(line) : any;
}

// ── label filters ──────────────────────────────────────────────────────────────────────────────────────────────

type LabelPredicate = (b: LabelsBuilder) => boolean;

const LABEL_FILTER_ERR = 'LabelFilterErr';

function compileLabelFilter(f: LabelFilter): LabelPredicate {
  switch (f.kind) {
    case 'and': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      return (b) => l(b) && r(b);
    }
    case 'or': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      return (b) => l(b) || r(b);
    }
    case 'string': {
      const m = f.matcher;
      return (b) => m.matches(b.get(m.name) ?? '');
    }
    case 'ip': {
      const m = new IpMatcher(f.pattern);
      return (b) => {
        // Loki: with an error already set only string filters may drop the entry; a missing label drops it.
        if (b.hasError()) return true;
        const v = b.get(f.name);
        if (v === undefined) return false;
        const hit = m.matchesText(v);
        return f.op === '==' ? hit : !hit;
      };
    }
    case 'number': {
      const cmp = COMPARE[f.op];
      return convertingFilter<number>(f.name, parseGoFloat, (v) => cmp(v, f.value));
    }
    case 'duration': {
      // Go compares time.Duration values: exact integer nanoseconds.
      const cmp = COMPARE[f.op];
      return convertingFilter<bigint>(f.name, parseGoDuration, (v) => cmp(v, f.value));
    }
    case 'bytes': {
      const cmp = COMPARE[f.op];
      return convertingFilter<number>(f.name, parseHumanBytes, (v) => cmp(v, f.value));
    }
  }
}

/**
 * A comparison on a label converted to a number, duration or byte size, as Loki's numeric label filters do: a
 * missing label drops the entry; a value that does not convert keeps it and marks it `__error__=LabelFilterErr`
 * with Go's conversion error as `__error_details__` (unless an earlier stage already set an error); otherwise the
 * comparison decides, whatever error an earlier stage set.
 */
function convertingFilter<T>(name: string, convert: (s: string) => T | GoSyntaxError, test: (v: T) => boolean): LabelPredicate {
  return (b) => {
    const raw = b.get(name);
    if (raw === undefined) return false;
    const v = convert(raw);
    if (v instanceof GoSyntaxError) {
      if (!b.hasError()) b.setError(LABEL_FILTER_ERR, v.message);
      return true;
    }
    return test(v);
  };
}

/** One comparison table for numbers (number and bytes filters) and exact nanoseconds (duration filters). */
const COMPARE: Record<CmpOp, <T extends number | bigint>(a: T, b: T) => boolean> = {
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
};

export { ERROR, ERROR_DETAILS };
