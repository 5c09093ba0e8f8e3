import type { Stage } from '../logql/syntax/ast.js';
import { compileGoRegexp } from '../util/go/regexp.js';
import { indexOfBytes } from '../util/native.js';
import { requiredLiterals } from './regex-literals.js';

/**
 * Line filters run on a whole decompressed block at once (DESIGN.md §4): a literal is searched in the block's bytes
 * with one native search (memmem, util/native.ts) that jumps from occurrence to occurrence, so a line that does not contain it costs an
 * integer comparison — no Buffer view, no string, no object. Regexps first rule lines out by the literals every
 * match must contain (regex-literals.ts) and decode only the remaining lines to run the regexp on.
 *
 * Semantics are exactly those of the per-line predicates of logql/log/line-filter.ts: `|=`/`!=` look for the UTF-8
 * bytes of any of the values in the raw line; `|~`/`!~` run the Go regexp on the line decoded as UTF-8.
 */

export type LineFilterOp = '|=' | '!=' | '|~' | '!~';

/** One line filter: `op` with one value, or an `or` chain of values (the line passes when any value matches). */
export interface LineFilterSpec {
  readonly op: LineFilterOp;
  readonly values: readonly string[];
}

/**
 * A compiled chain of line filters over the lines of one block. The reader calls `reset` before the first line
 * of every block and then `test` for lines in increasing offset order, synchronously: one instance can serve
 * reads that interleave between blocks (concurrent chunk reads of one query), never within one.
 */
export interface BlockFilter {
  reset(data: Buffer): void;
  /** Whether the line at [start, end) of the current block passes. */
  test(start: number, end: number): boolean;
  /** Set by a failing `test` when no later line of the current block can pass: the reader may skip the rest. */
  readonly exhausted: boolean;
}

const EMPTY: Buffer = Buffer.alloc(0);
// The two non-ASCII runes that fold to ASCII letters in Unicode simple case folding (and so in `(?i)`): a
// case-insensitive literal with an `s` or `k` may match them, so their presence turns literal pruning off.
const LONG_S = Buffer.from('\u017f');
const KELVIN = Buffer.from('\u212a');

/** The current block and what matchers derive from it lazily (at most once per block). */
class BlockText {
  data: Buffer = EMPTY;
  private lower: string | undefined;
  private foldRunes = -1;

  reset(data: Buffer): void {
    this.data = data;
    this.lower = undefined;
    this.foldRunes = -1;
  }

  /**
   * The block as a Latin-1 string in lower case: one byte per character, so offsets are byte offsets, and only
   * ASCII letters map to ASCII (Latin-1 upper case letters stay above 0x7f), so ASCII-case-insensitive searches
   * of ASCII needles are exact on it.
   */
  lowerText(): string {
    return (this.lower ??= this.data.toString('latin1').toLowerCase());
  }

  hasFoldRunes(): boolean {
    if (this.foldRunes < 0) this.foldRunes = this.data.indexOf(LONG_S) >= 0 || this.data.indexOf(KELVIN) >= 0 ? 1 : 0;
    return this.foldRunes === 1;
  }

  /** The line decoded as the per-line predicates decode it. */
  line(start: number, end: number): string {
    return this.data.toString('utf8', start, end);
  }
}

interface Matcher {
  reset(): void;
  matches(start: number, end: number): boolean;
  /** True when no line after the last tested one can match in this block. */
  exhausted(): boolean;
}

/** Lines containing any of the needles (exact bytes). */
class ExactLiterals implements Matcher {
  private readonly next: Int32Array;
  private readonly lens: Int32Array;

  constructor(
    private readonly text: BlockText,
    private readonly needles: readonly Buffer[],
  ) {
    this.next = new Int32Array(needles.length);
    this.lens = Int32Array.from(needles, (n) => n.length);
  }

  reset(): void {
    // -2: not searched yet (below every offset, so the first test searches); -1: no further occurrence.
    this.next.fill(-2);
  }

  matches(start: number, end: number): boolean {
    const next = this.next;
    for (let i = 0; i < next.length; i++) {
      let p = next[i]!;
      if (p === -1) continue;
      if (p < start) {
        const data = this.text.data;
        p = indexOfBytes(data, this.needles[i]!, start, data.length);
        next[i] = p;
        if (p < 0) continue;
      }
      if (p + this.lens[i]! <= end) return true;
    }
    return false;
  }

  exhausted(): boolean {
    for (let i = 0; i < this.next.length; i++) if (this.next[i] !== -1) return false;
    return true;
  }
}

/** One needle: the common case, without the loop. */
class ExactLiteral implements Matcher {
  private next = -2;
  private readonly len: number;

  constructor(
    private readonly text: BlockText,
    private readonly needle: Buffer,
  ) {
    this.len = needle.length;
  }

  reset(): void {
    this.next = -2;
  }

  matches(start: number, end: number): boolean {
    let p = this.next;
    if (p === -1) return false;
    if (p < start) {
      const data = this.text.data;
      p = this.next = indexOfBytes(data, this.needle, start, data.length);
      if (p < 0) return false;
    }
    return p + this.len <= end;
  }

  exhausted(): boolean {
    return this.next === -1;
  }
}

/** Lines containing any of the lower-case ASCII needles, ignoring ASCII case (a regexp's `(?i)` literals). */
class FoldLiterals implements Matcher {
  private readonly next: Int32Array;
  /** A needle has `s` or `k` and the block holds ſ or K: no pruning in this block. */
  private blind = false;
  private readonly foldSensitive: boolean;

  constructor(
    private readonly text: BlockText,
    private readonly needles: readonly string[],
  ) {
    this.next = new Int32Array(needles.length);
    this.foldSensitive = needles.some((n) => n.includes('s') || n.includes('k'));
  }

  reset(): void {
    this.next.fill(-2);
    this.blind = false;
    if (this.foldSensitive && this.text.hasFoldRunes()) this.blind = true;
  }

  matches(start: number, end: number): boolean {
    if (this.blind) return true;
    const next = this.next;
    for (let i = 0; i < next.length; i++) {
      let p = next[i]!;
      if (p === -1) continue;
      if (p < start) {
        p = this.text.lowerText().indexOf(this.needles[i]!, start);
        next[i] = p;
        if (p < 0) continue;
      }
      if (p + this.needles[i]!.length <= end) return true;
    }
    return false;
  }

  exhausted(): boolean {
    if (this.blind) return false;
    for (let i = 0; i < this.next.length; i++) if (this.next[i] !== -1) return false;
    return true;
  }
}

const ALWAYS: Matcher = { reset() {}, matches: () => true, exhausted: () => false };

/** A regexp on the decoded line, tried only on lines that contain one of its required literals. */
class RegexMatcher implements Matcher {
  constructor(
    private readonly text: BlockText,
    private readonly re: RegExp,
    private readonly literals: Matcher | undefined,
  ) {}

  reset(): void {
    this.literals?.reset();
  }

  matches(start: number, end: number): boolean {
    if (this.literals !== undefined && !this.literals.matches(start, end)) return false;
    return this.re.test(this.text.line(start, end));
  }

  exhausted(): boolean {
    return this.literals !== undefined && this.literals.exhausted();
  }
}

/** An `or` chain of regexps. */
class AnyMatcher implements Matcher {
  constructor(private readonly parts: readonly Matcher[]) {}

  reset(): void {
    for (const p of this.parts) p.reset();
  }

  matches(start: number, end: number): boolean {
    for (const p of this.parts) if (p.matches(start, end)) return true;
    return false;
  }

  exhausted(): boolean {
    for (const p of this.parts) if (!p.exhausted()) return false;
    return true;
  }
}

class SingleFilter implements BlockFilter {
  exhausted = false;

  constructor(
    private readonly text: BlockText,
    private readonly m: Matcher,
    private readonly negate: boolean,
  ) {}

  reset(data: Buffer): void {
    this.text.reset(data);
    this.m.reset();
    this.exhausted = false;
  }

  test(start: number, end: number): boolean {
    if (this.m.matches(start, end) !== this.negate) return true;
    if (!this.negate && this.m.exhausted()) this.exhausted = true;
    return false;
  }
}

class ChainFilter implements BlockFilter {
  exhausted = false;

  constructor(
    private readonly text: BlockText,
    private readonly ms: readonly Matcher[],
    private readonly negates: readonly boolean[],
  ) {}

  reset(data: Buffer): void {
    this.text.reset(data);
    for (const m of this.ms) m.reset();
    this.exhausted = false;
  }

  test(start: number, end: number): boolean {
    for (let i = 0; i < this.ms.length; i++) {
      const m = this.ms[i]!;
      const neg = this.negates[i]!;
      if (m.matches(start, end) === neg) {
        if (!neg && m.exhausted()) this.exhausted = true;
        return false;
      }
    }
    return true;
  }
}

function literalMatcher(text: BlockText, values: readonly string[]): Matcher {
  if (values.some((v) => v === '')) return ALWAYS;
  const needles = [...new Set(values)].map((v) => Buffer.from(v, 'utf8'));
  return needles.length === 1 ? new ExactLiteral(text, needles[0]!) : new ExactLiterals(text, needles);
}

function regexMatcher(text: BlockText, pattern: string): Matcher {
  const re = compileGoRegexp(pattern).re;
  const req = requiredLiterals(pattern);
  let lits: Matcher | undefined;
  if (req !== undefined) lits = req.fold ? new FoldLiterals(text, req.literals) : literalMatcher(text, req.literals);
  return new RegexMatcher(text, re, lits === ALWAYS ? undefined : lits);
}

/**
 * Compiles line filters (all must pass, in order) into one block filter; undefined when there are none. Throws
 * what compileGoRegexp throws for an invalid regexp (the query parser has rejected those already).
 */
export function compileBlockFilter(specs: readonly LineFilterSpec[]): BlockFilter | undefined {
  if (specs.length === 0) return undefined;
  const text = new BlockText();
  const ms: Matcher[] = [];
  const negates: boolean[] = [];
  for (const s of specs) {
    const regex = s.op === '|~' || s.op === '!~';
    const m = regex
      ? s.values.length === 1
        ? regexMatcher(text, s.values[0]!)
        : new AnyMatcher(s.values.map((v) => regexMatcher(text, v)))
      : literalMatcher(text, s.values);
    ms.push(m);
    negates.push(s.op === '!=' || s.op === '!~');
  }
  return ms.length === 1 ? new SingleFilter(text, ms[0]!, negates[0]!) : new ChainFilter(text, ms, negates);
}

/** A per-line predicate on raw line bytes as a block filter (it sees a view of each line in range). */
export function predicateFilter(pred: (line: Buffer) => boolean): BlockFilter {
  let data = EMPTY;
  return {
    exhausted: false,
    reset(d: Buffer) {
      data = d;
    },
    test: (start, end) => pred(data.subarray(start, end)),
  };
}

/**
 * The line filters a block scan can run for a query: its leading text and regexp filters without `ip()` — the
 * same stages logql/log/pipeline.ts `compileLogSelector` turns into its `prefilter` (the stages after them stay in
 * the pipeline).
 */
export function leadingLineFilters(stages: readonly Stage[]): LineFilterSpec[] {
  const out: LineFilterSpec[] = [];
  for (const s of stages) {
    if (s.kind !== 'line_filter' || !(s.op === '|=' || s.op === '!=' || s.op === '|~' || s.op === '!~')) break;
    if (s.values.some((v) => v.ip)) break;
    out.push({ op: s.op, values: s.values.map((v) => v.value) });
  }
  return out;
}
