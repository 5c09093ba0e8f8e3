import type { BinaryExpr, Expr, Grouping, LabelFilter, LogRange, LogSelectorExpr, Stage, Unwrap } from './ast.js';
import { formatHumanBytes } from '../../util/go/bytes.js';
import { formatGoDuration, formatPromDuration } from '../../util/go/duration.js';
import { goQuote } from '../../util/go/quote.js';
import { formatFloat } from '../../util/go/strconv.js';

/**
 * The canonical text of a query: Loki's String() form, character for character (what Loki logs, caches on and
 * returns from format_query for queries of up to 100 characters). Parsing the printed text gives the same tree.
 * Known differences from Loki: `ignoring () group_left` keeps its modifiers (Loki drops them, changing the query),
 * and a positive regex label filter Loki could not simplify is printed in double quotes (Loki uses backquotes).
 */
export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'log':
      return printLogSelector(e);
    case 'range_aggregation': {
      const param = e.param !== undefined ? formatFloat(e.param, 'f', -1) + ',' : '';
      return `${e.op}(${param}${printRange(e.range)})${e.grouping !== undefined ? printGrouping(e.grouping) : ''}`;
    }
    case 'vector_aggregation': {
      const params = e.param !== undefined ? `${e.param},` : '';
      // A grouping by nothing is the default and is not printed.
      const grouping = e.grouping.without || e.grouping.labels.length > 0 ? printGrouping(e.grouping) : '';
      return `${e.op}${grouping}(${params}${printExpr(e.inner)})`;
    }
    case 'binary':
      return printBinary(e);
    case 'literal':
      return formatFloat(e.value, 'g', -1);
    case 'vector':
      return `vector(${formatFloat(e.value, 'f', 6)})`;
    case 'label_replace':
      return `label_replace(${printExpr(e.inner)},${goQuote(e.dst)},${goQuote(e.replacement)},${goQuote(e.src)},${goQuote(e.regex)})`;
  }
}

export function printLogSelector(e: LogSelectorExpr): string {
  const selector = `{${e.matchers.map((m) => m.toString()).join(', ')}}`;
  return e.stages.length === 0 ? selector : `${selector} ${e.stages.map(printStage).join(' ')}`;
}

export function printStage(s: Stage): string {
  switch (s.kind) {
    case 'line_filter':
      return `${s.op} ${s.values.map((v) => (v.ip ? `ip(${goQuote(v.value)})` : goQuote(v.value))).join(' or ')}`;
    case 'json':
      return s.params.length === 0 ? '| json' : `| json ${printExtractions(s.params)}`;
    case 'logfmt': {
      const flags = (s.strict ? ' --strict' : '') + (s.keepEmpty ? ' --keep-empty' : '');
      return s.params.length === 0 ? `| logfmt${flags}` : `| logfmt${flags} ${printExtractions(s.params)}`;
    }
    case 'regexp':
    case 'pattern':
      return `| ${s.kind} ${goQuote(s.pattern)}`;
    case 'unpack':
      return '| unpack';
    case 'label_filter':
      return `| ${printLabelFilter(s.filter)}`;
    case 'line_format':
      return `| line_format ${goQuote(s.template)}`;
    case 'label_format':
      return `| label_format ${s.formats.map((f) => `${f.dst}=${f.kind === 'rename' ? f.src : goQuote(f.template)}`).join(',')}`;
    case 'drop':
    case 'keep':
      return `| ${s.kind} ${s.labels.map((l) => (l.matcher !== undefined ? l.matcher.toString() : l.name)).join(',')}`;
    case 'decolorize':
      return '| decolorize';
  }
}

function printExtractions(params: ReadonlyArray<{ label: string; expression: string }>): string {
  return params.map((p) => `${p.label}=${goQuote(p.expression)}`).join(',');
}

export function printLabelFilter(f: LabelFilter): string {
  switch (f.kind) {
    case 'and':
      return `( ${printLabelFilter(f.left)} , ${printLabelFilter(f.right)} )`;
    case 'or':
      return `( ${printLabelFilter(f.left)} or ${printLabelFilter(f.right)} )`;
    case 'string':
      return f.matcher.toString();
    case 'number':
      return `${f.name}${f.op}${formatFloat(f.value, 'f', -1)}`;
    case 'duration':
      return `${f.name}${f.op}${formatGoDuration(f.value)}`;
    case 'bytes':
      return `${f.name}${f.op}${formatHumanBytes(f.value)}`;
    case 'ip':
      return `${f.name}${f.op === '==' ? '=' : '!='}ip(${goQuote(f.pattern)})`;
  }
}

function printUnwrap(u: Unwrap): string {
  const head = u.conversion !== undefined ? ` | unwrap ${u.conversion}(${u.label})` : ` | unwrap ${u.label}`;
  return head + u.postFilters.map((f) => ` | ${printLabelFilter(f)}`).join('');
}

function printRange(r: LogRange): string {
  const unwrap = r.unwrap !== undefined ? printUnwrap(r.unwrap) : '';
  const offset = r.offset !== 0n ? ` offset ${formatGoDuration(r.offset)}` : '';
  return `${printLogSelector(r.selector)}${unwrap}[${formatPromDuration(r.interval)}]${offset}`;
}

function printGrouping(g: Grouping): string {
  return ` ${g.without ? 'without' : 'by'} (${g.labels.join(',')})`;
}

function printBinary(e: BinaryExpr): string {
  let op: string = e.op;
  if (e.returnBool) op += ' bool';
  const m = e.matching;
  if (m.on || m.labels.length > 0 || m.card !== 'one-to-one') {
    let group = m.card === 'many-to-one' ? 'group_left' : m.card === 'one-to-many' ? 'group_right' : '';
    if (m.include.length > 0) group += ` (${m.include.join(',')})`;
    // Loki leaves a trailing space when there is no group modifier, hence a double space before the operand.
    op = `${op} ${m.on ? 'on' : 'ignoring'} (${m.labels.join(',')}) ${group}`;
  }
  return `(${printExpr(e.lhs)} ${op} ${printExpr(e.rhs)})`;
}

// ---------------------------------------------------------------------------------------------------------------
// Pretty form (format_query)

/**
 * Loki's Prettify, what `/loki/api/v1/format_query` returns: an expression that prints in at most `maxChars`
 * characters stays on one line in its canonical form; a longer one is split, children indented by two spaces.
 * Where Loki's formatter would emit a different or invalid query (a split `or` line filter losing its alternatives,
 * `without ()` losing its parentheses, `on ()` vanishing, nested split operations losing their grouping), this one
 * keeps the query intact.
 */
export function prettify(e: Expr, maxChars = 100): string {
  return new Prettifier(maxChars).expr(e, 0);
}

const indent = (level: number): string => '  '.repeat(level);

class Prettifier {
  constructor(private readonly maxChars: number) {}

  private fits(text: string): boolean {
    return Buffer.byteLength(text, 'utf8') <= this.maxChars;
  }

  expr(e: Expr, level: number): string {
    const flat = printExpr(e);
    if (this.fits(flat)) return indent(level) + flat;
    switch (e.kind) {
      case 'log':
        return this.log(e, level);
      case 'range_aggregation': {
        let s = `${indent(level)}${e.op}(\n`;
        if (e.param !== undefined) s += `${indent(level + 1)}${formatFloat(e.param, 'g', -1)},\n`;
        s += this.range(e.range, level + 1);
        s += `\n${indent(level)})`;
        // Unlike a vector aggregation's, a range aggregation's `by ()` differs from no grouping.
        return e.grouping !== undefined ? s + (prettyGrouping(e.grouping) || ' by ()') : s;
      }
      case 'vector_aggregation': {
        const args = [this.expr(e.inner, level + 1)];
        if (e.param !== undefined) args.unshift(`${indent(level + 1)}${e.param}`);
        return `${indent(level)}${e.op}${prettyGrouping(e.grouping)}(\n${args.join(',\n')}\n${indent(level)})`;
      }
      case 'binary':
        return `${this.operand(e.lhs, level + 1)}\n${indent(level)}${prettyBinaryOp(e)}\n${this.operand(e.rhs, level + 1)}`;
      case 'label_replace': {
        const args = [
          this.expr(e.inner, level + 1),
          ...[e.dst, e.replacement, e.src, e.regex].map((s) => indent(level + 1) + goQuote(s)),
        ];
        return `${indent(level)}label_replace(\n${args.join(',\n')}\n${indent(level)})`;
      }
      case 'literal':
      case 'vector':
        return indent(level) + flat;
    }
  }

  /** A split operation inside a split operation keeps its parentheses, so that precedence survives. */
  private operand(e: Expr, level: number): string {
    if (e.kind !== 'binary' || this.fits(printExpr(e))) return this.expr(e, level);
    return `${indent(level)}(\n${this.expr(e, level + 1)}\n${indent(level)})`;
  }

  private log(e: LogSelectorExpr, level: number): string {
    const flat = printLogSelector(e);
    if (this.fits(flat) || e.stages.length === 0) return indent(level) + flat;
    const lines = [indent(level) + printLogSelector({ ...e, stages: [] })];
    // Loki keeps consecutive line filters together as one stage.
    for (let i = 0; i < e.stages.length; ) {
      const st = e.stages[i]!;
      if (st.kind !== 'line_filter') {
        // Loki prints decolorize without indentation.
        lines.push(st.kind === 'decolorize' ? printStage(st) : indent(level + 1) + printStage(st));
        i++;
        continue;
      }
      let j = i;
      while (j < e.stages.length && e.stages[j]!.kind === 'line_filter') j++;
      const group = e.stages.slice(i, j).map(printStage);
      if (this.fits(group.join(' '))) lines.push(indent(level + 1) + group.join(' '));
      else for (const f of group) lines.push(indent(level + 1) + f);
      i = j;
    }
    return lines.join('\n');
  }

  private range(r: LogRange, level: number): string {
    let s = this.log(r.selector, level);
    if (r.unwrap !== undefined) {
      const u = r.unwrap;
      s += `\n${indent(level + 1)}| unwrap ${u.conversion !== undefined ? `${u.conversion}(${u.label})` : u.label}`;
      for (const f of u.postFilters) s += `\n${indent(level + 1)}| ${printLabelFilter(f)}`;
    }
    s += ` [${formatPromDuration(r.interval)}]`;
    return r.offset !== 0n ? `${s} offset ${formatPromDuration(r.offset)}` : s;
  }
}

function prettyGrouping(g: Grouping): string {
  if (g.labels.length > 0) return ` ${g.without ? 'without' : 'by'} (${g.labels.join(', ')})`;
  return g.without ? ' without ()' : '';
}

function prettyBinaryOp(e: BinaryExpr): string {
  let op: string = e.op;
  if (e.returnBool) op += ' bool';
  const m = e.matching;
  if (m.on || m.labels.length > 0 || m.card !== 'one-to-one') {
    let group = m.card === 'many-to-one' ? 'group_left' : m.card === 'one-to-many' ? 'group_right' : '';
    if (m.include.length > 0) group += ` (${m.include.join(', ')})`;
    op = `${op} ${m.on ? 'on' : 'ignoring'} (${m.labels.join(', ')}) ${group}`;
  }
  return op;
}
