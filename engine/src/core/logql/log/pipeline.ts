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
} from '../parsers/index.js';
import type { CmpOp, LabelFilter, LineFilterStage, LogSelectorExpr, Stage } from '../syntax/ast.js';
import type { LabelMatcher } from '../syntax/matcher.js';
import {
  TEMPLATE_FORMAT_ERR,
  TemplateExecError,
  labelFormatTemplate,
  lineFormatTemplate,
  type Template,
} from '../template/index.js';
import { parseHumanBytes } from '../../util/go/bytes.js';
import { parseGoDuration } from '../../util/go/duration.js';
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

export function compileLogSelector(expr: LogSelectorExpr): CompiledLogQuery {
  let lead = 0;
  while (lead < expr.stages.length && isPlainTextFilter(expr.stages[lead]!)) lead++;
  const prefilter = compileLineFilters(expr.stages.slice(0, lead) as LineFilterStage[]);
  const rest = expr.stages.slice(lead);
  return { matchers: expr.matchers, prefilter, pipeline: rest.length > 0 ? new Pipeline(rest) : undefined };
}

/** Text and regex filters without ip(): the ones the byte-level prefilter runs. */
function isPlainTextFilter(s: Stage): boolean {
  return s.kind === 'line_filter' && (s.op === '|=' || s.op === '!=' || s.op === '|~' || s.op === '!~') && s.values.every((v) => !v.ip);
}

/** The stages of a query, compiled once; `forStream` gives the per-stream runner. */
export class Pipeline {
  private readonly stages: StageFn[];

  constructor(stages: readonly Stage[]) {
    this.stages = stages.map(compileStage);
  }

  forStream(labels: Labels): StreamPipeline {
    return new StreamPipeline(this.stages, labels);
  }
}

/** Runs entries of one stream through the stages, reusing one labels builder. */
export class StreamPipeline {
  readonly labels: LabelsBuilder;
  private readonly entry: Entry;

  constructor(
    private readonly stages: readonly StageFn[],
    streamLabels: Labels,
  ) {
    this.labels = new LabelsBuilder(streamLabels);
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

function compileStage(s: Stage): StageFn {
  switch (s.kind) {
    case 'line_filter': {
      const p = compileLineFilterStage(s);
      return (e) => p(e.line);
    }
    case 'json': {
      if (s.params.length > 0) {
        const p = build(() => new JsonExpressionParser(extractions(s.params)));
        return (e) => (p.process(e.line, e.labels), true);
      }
      const p = new JsonParser();
      return (e) => (p.process(e.line, e.labels), true);
    }
    case 'logfmt': {
      const p =
        s.params.length > 0
          ? build(() => new LogfmtExpressionParser(extractions(s.params), { strict: s.strict, keepEmpty: s.keepEmpty }))
          : new LogfmtParser({ strict: s.strict, keepEmpty: s.keepEmpty });
      return (e) => (p.process(e.line, e.labels), true);
    }
    case 'regexp': {
      const p = build(() => new RegexpParser(s.pattern));
      return (e) => (p.process(e.line, e.labels), true);
    }
    case 'pattern': {
      const p = build(() => new PatternParser(s.pattern));
      return (e) => (p.process(e.line, e.labels), true);
    }
    case 'unpack': {
      const p = new UnpackParser();
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
      const t = build(() => lineFormatTemplate(s.template));
      return (e) => {
        const out = runTemplate(t, e);
        if (out !== undefined) e.line = Buffer.from(out, 'utf8');
        return true;
      };
    }
    case 'label_format': {
      const formats = s.formats.map((f) =>
        f.kind === 'rename' ? { dst: f.dst, src: f.src, t: undefined } : { dst: f.dst, src: undefined, t: build(() => labelFormatTemplate(f.dst, f.template)) },
      );
      return (e) => {
        // Every format sees the labels as they were before this stage (Loki applies them together).
        const values: Array<[string, string | undefined]> = formats.map((f) =>
          f.t === undefined ? [f.dst, e.labels.get(f.src!)] : [f.dst, runTemplate(f.t, e)],
        );
        for (const f of formats) if (f.src !== undefined && f.src !== f.dst) e.labels.delete(f.src);
        for (const [dst, v] of values) if (v !== undefined) e.labels.set(dst, v);
        return true;
      };
    }
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
        const kept = new Set<string>();
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
        if (e.line.includes(0x1b)) e.line = Buffer.from(e.line.toString('utf8').replace(ANSI, ''), 'utf8');
        return true;
      };
  }
}

const extractions = (params: readonly { label: string; expression: string }[]) =>
  params.map((p) => ({ name: p.label, expr: p.expression }));

// ANSI escape sequences (CSI … final byte) as terminals and colouring libraries emit them.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

function runTemplate(t: Template, e: Entry): string | undefined {
  try {
    return t.execute(e.labels, e.line, e.ts);
  } catch (err) {
    if (!(err instanceof TemplateExecError)) throw err;
    e.labels.setError(TEMPLATE_FORMAT_ERR, err.message);
    return undefined;
  }
}

/** Builds a stage object; a bad pattern, regex or template is the query's 400, not a 500. */
function build<T>(make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw new EngineError('bad_request', (err as Error).message);
  }
}

export function compileLineFilterStage(s: LineFilterStage): LinePredicate {
  if (isPlainTextFilter(s)) return compileLineFilters([s])!;
  const negative = s.op === '!=' || s.op === '!~' || s.op === '!>';
  const tests: LinePredicate[] = s.values.map((v) => {
    if (v.ip) {
      const m = build(() => new IpMatcher(v.value));
      return (line) => m.matchesLine(line.toString('utf8'));
    }
    if (s.op === '|>' || s.op === '!>') {
      const m = build(() => PatternMatcher.compileLineFilter(v.value));
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
      const m = build(() => new IpMatcher(f.pattern));
      return (b) => {
        const hit = m.matches(b.get(f.name) ?? '');
        return f.op === '==' ? hit : !hit;
      };
    }
    case 'number':
      return numericFilter(f.name, f.op, f.value, (s) => {
        const v = parseGoFloat(s);
        return typeof v === 'number' ? v : undefined;
      });
    case 'duration': {
      const want = Number(f.value) / 1e9;
      return numericFilter(f.name, f.op, want, (s) => {
        const d = parseGoDuration(s);
        return typeof d === 'bigint' ? Number(d) / 1e9 : undefined;
      });
    }
    case 'bytes':
      return numericFilter(f.name, f.op, f.value, (s) => {
        const v = parseHumanBytes(s);
        return typeof v === 'number' ? v : undefined;
      });
  }
}

/**
 * A comparison on a label converted to a number. A value that does not convert keeps the entry and marks it with
 * `__error__=LabelFilterErr`, as Loki does (metric queries then refuse it unless the query filters errors out).
 */
function numericFilter(name: string, op: CmpOp, want: number, convert: (s: string) => number | undefined): LabelPredicate {
  const cmp = COMPARE[op];
  return (b) => {
    if (b.hasError()) return true;
    const raw = b.get(name);
    const v = raw === undefined ? undefined : convert(raw);
    if (v === undefined) {
      b.setError(LABEL_FILTER_ERR, `cannot convert ${JSON.stringify(raw ?? '')} of label ${name}`);
      return true;
    }
    return cmp(v, want);
  };
}

const COMPARE: Record<CmpOp, (a: number, b: number) => boolean> = {
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
};

export { ERROR, ERROR_DETAILS };
