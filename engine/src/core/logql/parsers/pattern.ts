/**
 * Loki's pattern language, used by `| pattern "<expr>"` and by the `|>` / `!>` line filters. A pattern is literal
 * text and captures: `<name>` (an identifier `[A-Za-z_][A-Za-z0-9_]*`) or `<_>`; any other `<` is literal text.
 * Matching works on the line bytes with `Buffer.indexOf`, as Loki's matcher does with `bytes.Index`.
 */
import { CollectingTarget, EXTRACTED_SUFFIX, type ParseResult, type ParseTarget } from './label-names.js';
import type { ParserHints } from './parser-hints.js';
import { asBuffer } from './utf8.js';

export class PatternError extends Error {}

type Node = { capture: string } | { literal: Buffer };

const CAPTURE = /<([A-Za-z_][A-Za-z0-9_]*)>/y;

function isCapture(n: Node): n is { capture: string } {
  return 'capture' in n;
}

function nodeString(n: Node): string {
  return isCapture(n) ? `<${n.capture}>` : n.literal.toString('utf8');
}

/** Tokenises a pattern; an empty pattern is the grammar's only syntax error. */
function parseNodes(pattern: string): Node[] {
  if (pattern.length === 0) {
    throw new PatternError('parse error at line 1, col 1: syntax error: unexpected $end, expecting IDENTIFIER or LITERAL');
  }
  const nodes: Node[] = [];
  let lit = '';
  let i = 0;
  while (i < pattern.length) {
    if (pattern.charCodeAt(i) === 60) {
      CAPTURE.lastIndex = i;
      const m = CAPTURE.exec(pattern);
      if (m !== null) {
        if (lit.length > 0) nodes.push({ literal: Buffer.from(lit, 'utf8') });
        lit = '';
        nodes.push({ capture: m[1]! });
        i += m[0].length;
        continue;
      }
    }
    lit += pattern[i];
    i++;
  }
  if (lit.length > 0) nodes.push({ literal: Buffer.from(lit, 'utf8') });
  return nodes;
}

function validateNoConsecutiveCaptures(nodes: Node[]): void {
  for (let i = 0; i + 1 < nodes.length; i++) {
    if (isCapture(nodes[i]!) && isCapture(nodes[i + 1]!)) {
      throw new PatternError(
        `found consecutive capture '${nodeString(nodes[i]!)}${nodeString(nodes[i + 1]!)}': invalid expression`,
      );
    }
  }
}

/** A compiled pattern. */
export class PatternMatcher {
  /** Names of the named captures, in order. */
  readonly names: readonly string[];

  private constructor(private readonly nodes: Node[]) {
    this.names = nodes.filter((n): n is { capture: string } => isCapture(n) && n.capture !== '_').map((n) => n.capture);
  }

  /**
   * Compiles a `| pattern` expression. Errors are Loki's: no named capture (`at least one capture is required`),
   * consecutive captures, duplicate names, empty pattern.
   */
  static compile(pattern: string): PatternMatcher {
    const nodes = parseNodes(pattern);
    const m = new PatternMatcher(nodes);
    if (m.names.length === 0) throw new PatternError('at least one capture is required');
    validateNoConsecutiveCaptures(nodes);
    const seen = new Set<string>();
    for (const n of m.names) {
      if (seen.has(n)) throw new PatternError(`duplicate capture name (${n}): invalid expression`);
      seen.add(n);
    }
    return m;
  }

  /**
   * Compiles the pattern of a `|>` / `!>` line filter: only `<_>` captures are allowed, and the empty pattern is
   * valid (it matches empty lines).
   */
  static compileLineFilter(pattern: string): PatternMatcher {
    if (pattern.length === 0) return new PatternMatcher([]);
    const nodes = parseNodes(pattern);
    validateNoConsecutiveCaptures(nodes);
    for (const n of nodes) {
      if (isCapture(n) && n.capture !== '_') {
        throw new PatternError(`named captures are not allowed: found '${nodeString(n)}'`);
      }
    }
    return new PatternMatcher(nodes);
  }

  /**
   * Loki's Matcher.Matches: the named captures' byte ranges, as [start, end) pairs into `out` (flattened). Returns
   * how many captures were found; matching stops early (fewer captures) where a literal is missing, and a leading
   * literal must start the line.
   */
  matchRanges(line: Uint8Array, out: number[]): number {
    out.length = 0;
    const nodes = this.nodes;
    if (line.length === 0 || nodes.length === 0) return 0;
    const buf = line as Buffer;
    let pos = 0;
    let k = 0;
    const first = nodes[0]!;
    if (!isCapture(first)) {
      if (!startsWith(buf, first.literal)) return 0;
      pos = first.literal.length;
      k = 1;
    }
    if (k >= nodes.length) return 0;
    let count = 0;
    while (k < nodes.length) {
      const cap = (nodes[k] as { capture: string }).capture;
      if (k + 1 === nodes.length) {
        if (cap !== '_') {
          out.push(pos, line.length);
          count++;
        }
        return count;
      }
      const lit = (nodes[k + 1] as { literal: Buffer }).literal;
      k += 2;
      const i = buf.indexOf(lit, pos);
      if (i < 0) {
        if (cap !== '_') {
          out.push(pos, line.length);
          count++;
        }
        return count;
      }
      if (cap !== '_') {
        out.push(pos, i);
        count++;
      }
      pos = i + lit.length;
    }
    return count;
  }

  /** The named captures of `line` as strings (Loki's Matches). */
  matches(line: Buffer | string): string[] {
    const buf = asBuffer(line);
    const ranges: number[] = [];
    const n = this.matchRanges(buf, ranges);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(buf.toString('utf8', ranges[2 * i], ranges[2 * i + 1]));
    return out;
  }

  /**
   * Loki's Matcher.Test, the predicate of `|>` (and, negated, `!>`): every literal must appear in order, captures
   * must not be empty, and the line must end with the last literal unless the pattern ends with a capture.
   */
  test(line: Uint8Array): boolean {
    const nodes = this.nodes;
    if (line.length === 0 || nodes.length === 0) return line.length === 0 && nodes.length === 0;
    const buf = line as Buffer;
    let off = 0;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      if (isCapture(n)) continue;
      const j = buf.indexOf(n.literal, off);
      if (j < 0) return false;
      if (i !== 0 && j === off) return false;
      off = j + n.literal.length;
    }
    const endsOnCapture = isCapture(nodes[nodes.length - 1]!);
    return endsOnCapture === (off !== line.length);
  }
}

function startsWith(buf: Buffer, lit: Buffer): boolean {
  if (lit.length > buf.length) return false;
  for (let i = 0; i < lit.length; i++) if (buf[i] !== lit[i]) return false;
  return true;
}

/** `| pattern "<expr>"` as a pipeline stage. */
export class PatternParser {
  readonly matcher: PatternMatcher;
  private readonly ranges: number[] = [];

  constructor(
    pattern: string,
    private readonly hints?: ParserHints,
  ) {
    this.matcher = PatternMatcher.compile(pattern);
  }

  process(line: Buffer, target: ParseTarget): void {
    const hints = this.hints;
    if (hints !== undefined && hints.skip()) return;
    const r = this.ranges;
    const n = this.matcher.matchRanges(line, r);
    const names = this.matcher.names;
    for (let i = 0; i < n; i++) {
      let name = names[i]!;
      if (target.baseHas(name)) name += EXTRACTED_SUFFIX;
      if (hints !== undefined && !hints.wants(name)) continue;
      // Loki keeps the captured bytes as they are (no RuneError mapping here, unlike json/logfmt).
      target.set(name, line.toString('utf8', r[2 * i], r[2 * i + 1]));
    }
  }
}

/**
 * Whether `line` matches the pattern of a `|>` line filter (`!>` is the negation). Compile with
 * `PatternMatcher.compileLineFilter` once per query on hot paths; this form compiles on every call.
 */
export function matchesPattern(pattern: string | PatternMatcher, line: Buffer | string): boolean {
  const m = typeof pattern === 'string' ? PatternMatcher.compileLineFilter(pattern) : pattern;
  return m.test(asBuffer(line));
}

/** Convenience form of `| pattern` for callers off the hot path. */
export function pattern(
  expr: string,
  line: Buffer | string,
  existing: ReadonlySet<string> | ((name: string) => boolean) = new Set(),
): ParseResult {
  const target = new CollectingTarget(existing);
  new PatternParser(expr).process(asBuffer(line), target);
  return target.result();
}
