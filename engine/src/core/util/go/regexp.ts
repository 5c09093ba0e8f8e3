/**
 * Go regular expressions (RE2 syntax, as Loki and Prometheus compile them) on V8. LogQL users write `(?i)`,
 * `(?P<name>…)`, `\z` and POSIX classes; V8 reads some of these differently or not at all, and Loki reports Go's
 * exact error texts. The translation parses the Go syntax itself (mirroring Go's regexp/syntax checks and messages)
 * and emits an equivalent pattern for the `v` flag:
 *  - `.` excludes only `\n` (V8 also excludes `\r`, U+2028, U+2029); `\s`, `\d`, `\w`, `\b` are ASCII;
 *  - `(?m)` `^`/`$` break only at `\n`; `\A`, `\z`, `\Q…\E`, POSIX classes, `\pN`, `\x{…}`, octal escapes;
 *  - inline flags `(?i)`, `(?s)`, `(?m)`, `(?U)` anywhere, scoped to their group as in Go (`i` becomes the `i` flag
 *    when it covers the whole pattern, else V8's `(?i:…)` modifier groups; the others are resolved here);
 *  - literal `{`, `}` and `]` that Go accepts but V8's `u`/`v` modes reject.
 * Capturing groups keep their numbers; names are returned separately (Go's SubexpNames) because Go allows names
 * V8 does not (duplicates, leading digits).
 */

/**
 * A Go regexp compile error; `message` is Go's: `error parsing regexp: <code>: \`<expr>\``, the expression between
 * plain backquotes whatever it holds (not `%#q`, which would switch to "…" for a newline or a backquote).
 */
export class GoRegexpError extends Error {
  constructor(
    readonly code: string,
    readonly expr: string,
  ) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
    this.name = 'GoRegexpError';
  }
}

export interface GoRegexpSource {
  /** JavaScript pattern source, to be compiled with `flags`. */
  source: string;
  /** `v`, plus `i` when the whole pattern folds case. */
  flags: string;
  /** Go's SubexpNames(): index = group number, "" for unnamed groups; [0] is "". */
  names: string[];
}

export interface GoRegexp extends GoRegexpSource {
  re: RegExp;
  /** Number of capturing groups (Go's NumSubexp). */
  numSubexp: number;
}

export interface GoRegexpOptions {
  /** `.` matches `\n` from the start, as `(?s)` does (Prometheus label matchers). */
  dotNL?: boolean;
  /** Extra JavaScript flags for the compiled RegExp (`g`, `y`, `d`). */
  flags?: string;
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

interface Atom {
  src: string;
  /** An empty-width assertion, or an already repeated atom: JavaScript refuses to quantify these bare. */
  wrap: boolean;
}

interface Frame {
  alternatives: Atom[][];
  savedFlags: Flags;
  open: string;
}

const ERR_MISSING_BRACKET = 'missing closing ]';
const ERR_MISSING_PAREN = 'missing closing )';
const ERR_UNEXPECTED_PAREN = 'unexpected )';
const ERR_INVALID_ESCAPE = 'invalid escape sequence';
const ERR_INVALID_CHAR_RANGE = 'invalid character class range';
const ERR_INVALID_PERL_OP = 'invalid or unsupported Perl syntax';
const ERR_INVALID_NAMED_CAPTURE = 'invalid named capture';
const ERR_INVALID_REPEAT_OP = 'invalid nested repetition operator';
const ERR_INVALID_REPEAT_SIZE = 'invalid repeat count';
const ERR_MISSING_REPEAT_ARG = 'missing argument to repetition operator';
const ERR_TRAILING_BACKSLASH = 'trailing backslash at end of expression';

const ANY = '[\\u{0}-\\u{10FFFF}]';
const NOT_NL = '[^\\n]';

/** POSIX classes as Go defines them (ASCII only), in `v`-flag class syntax. */
const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\u{0}-\\u{7f}',
  blank: '\\t\\u{20}',
  cntrl: '\\u{0}-\\u{1f}\\u{7f}',
  digit: '0-9',
  graph: '\\u{21}-\\u{7e}',
  lower: 'a-z',
  print: '\\u{20}-\\u{7e}',
  punct: '\\u{21}-\\u{2f}\\u{3a}-\\u{40}\\u{5b}-\\u{60}\\u{7b}-\\u{7e}',
  space: '\\t\\n\\v\\f\\r\\u{20}',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Perl classes as Go defines them: ASCII only (JavaScript's \s is wider). */
const PERL: Record<string, string> = { d: '0-9', s: '\\t\\n\\f\\r\\u{20}', w: '0-9A-Za-z_' };

const GENERAL_CATEGORIES = new Set(
  'L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Cs Co'.split(' '),
);

const SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/'.split(''));

function hex(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/** A literal code point outside a class. */
function litOut(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if (SYNTAX_CHARS.has(ch)) return '\\' + ch;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && !/[\p{L}\p{N}]/u.test(ch))) return hex(cp);
  return ch;
}

/** A literal code point inside a `v`-flag class: everything but ASCII letters and digits is escaped. */
function litIn(cp: number): string {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)
    ? String.fromCodePoint(cp)
    : hex(cp);
}

function caseFreeCp(cp: number): boolean {
  const ch = String.fromCodePoint(cp);
  return ch.toLowerCase() === ch && ch.toUpperCase() === ch;
}

function isAlnum(ch: string): boolean {
  return /^[0-9A-Za-z]$/.test(ch);
}

function unicodeClass(name: string): string | undefined {
  if (name === 'Any') return ANY;
  // Go's C excludes unassigned code points (Cn), which JavaScript's \p{C} includes.
  if (name === 'C') return '[\\p{Cc}\\p{Cf}\\p{Cs}\\p{Co}]';
  if (GENERAL_CATEGORIES.has(name)) return `\\p{${name}}`;
  if (!/^[A-Za-z_]+$/.test(name)) return undefined;
  try {
    new RegExp(`\\p{Script=${name}}`, 'v');
    return `\\p{Script=${name}}`;
  } catch {
    return undefined;
  }
}

class Translator {
  private pos = 0;
  private flags: Flags;
  private readonly stack: Frame[] = [];
  private readonly names: string[] = [''];
  /** Text from the previous repetition operator to the end of the input (Go's lastRepeat), for `a**` errors. */
  private lastRepeat = '';
  /** Whether a case-folding and a case-sensitive atom were emitted (decides between the `i` flag and `(?i:…)`). */
  sawFold = false;
  sawExact = false;
  /** Whether `\b` or `\B` was emitted: V8's are Unicode-aware under the `i` flag, Go's are ASCII. */
  sawBoundary = false;

  constructor(
    private readonly src: string,
    dotNL: boolean,
    private readonly foldMode: 'global' | 'wrap',
    /** Emit `\b` as `(?-i:\b)`, for a pattern compiled with the `i` flag. */
    private readonly guardBoundaries = false,
  ) {
    this.flags = { i: false, m: false, s: dotNL, U: false };
  }

  translate(): GoRegexpSource {
    this.stack.push({ alternatives: [[]], savedFlags: { ...this.flags }, open: '' });
    const s = this.src;
    while (this.pos < s.length) {
      const start = this.pos;
      let repeat = '';
      const c = s[this.pos]!;
      switch (c) {
        case '(':
          this.openGroup();
          break;
        case '|':
          this.top().alternatives.push([]);
          this.pos++;
          break;
        case ')':
          this.closeGroup();
          break;
        case '^':
          this.pos++;
          this.push(this.flags.m ? '(?<![^\\n])' : '^', true);
          break;
        case '$':
          this.pos++;
          this.push(this.flags.m ? '(?![^\\n])' : '$', true);
          break;
        case '.':
          this.pos++;
          this.pushChar(this.flags.s ? ANY : NOT_NL, true);
          break;
        case '[':
          this.pushChar(this.parseClass());
          break;
        case '*':
        case '+':
        case '?':
          this.pos++;
          this.repeat(c, start);
          repeat = s.slice(start);
          break;
        case '{': {
          const r = this.parseRepeat();
          if (r === undefined) {
            this.pos++;
            this.pushChar(litOut(0x7b), true);
            break;
          }
          const text = s.slice(start, this.pos);
          if (r.min < 0 || r.min > 1000 || r.max > 1000 || (r.max >= 0 && r.min > r.max)) {
            throw new GoRegexpError(ERR_INVALID_REPEAT_SIZE, text);
          }
          this.repeat(r.max === r.min ? `{${r.min}}` : r.max < 0 ? `{${r.min},}` : `{${r.min},${r.max}}`, start);
          repeat = s.slice(start);
          break;
        }
        case '\\':
          this.parseEscapeOutside();
          break;
        default: {
          const cp = s.codePointAt(this.pos)!;
          this.pos += cp > 0xffff ? 2 : 1;
          this.pushChar(litOut(cp), caseFreeCp(cp));
          break;
        }
      }
      this.lastRepeat = repeat;
    }
    if (this.stack.length !== 1) throw new GoRegexpError(ERR_MISSING_PAREN, s);
    const source = this.join(this.stack[0]!.alternatives);
    const flags = 'v' + (this.foldMode === 'global' && this.sawFold ? 'i' : '');
    return { source, flags, names: this.names };
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  private join(alternatives: Atom[][]): string {
    return alternatives.map((atoms) => atoms.map((a) => a.src).join('')).join('|');
  }

  private push(src: string, wrap = false): void {
    const alts = this.top().alternatives;
    alts[alts.length - 1]!.push({ src, wrap });
  }

  /** Pushes a character-matching atom, honouring case folding; case-free atoms (digits, `.`) need none. */
  private pushChar(src: string, caseFree = false): void {
    if (!caseFree) {
      if (this.flags.i) this.sawFold = true;
      else this.sawExact = true;
    }
    this.push(this.flags.i && !caseFree && this.foldMode === 'wrap' ? `(?i:${src})` : src);
  }

  private repeat(op: string, start: number): void {
    const s = this.src;
    let lazy = this.flags.U;
    if (s[this.pos] === '?') {
      this.pos++;
      lazy = !lazy;
    }
    if (this.lastRepeat !== '') {
      throw new GoRegexpError(ERR_INVALID_REPEAT_OP, this.lastRepeat.slice(0, this.lastRepeat.length - (s.length - this.pos)));
    }
    const alts = this.top().alternatives;
    const atoms = alts[alts.length - 1]!;
    const last = atoms[atoms.length - 1];
    if (last === undefined) throw new GoRegexpError(ERR_MISSING_REPEAT_ARG, s.slice(start, this.pos));
    // Go allows a repetition of a repetition when something came between (`a*(?i)*`); V8 needs a group for it.
    const base = last.wrap ? `(?:${last.src})` : last.src;
    atoms[atoms.length - 1] = { src: base + op + (lazy ? '?' : ''), wrap: true };
  }

  private parseRepeat(): { min: number; max: number } | undefined {
    const m = /^\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}/.exec(this.src.slice(this.pos));
    if (m === null) return undefined;
    this.pos += m[0].length;
    const num = (t: string): number => (t.length > 9 ? -1 : Number(t));
    const min = num(m[1]!);
    if (m[2] === undefined) return { min, max: min };
    if (m[3] === undefined) return { min, max: -1 };
    const max = num(m[3]);
    return { min: max < 0 ? -1 : min, max };
  }

  private openGroup(): void {
    const s = this.src;
    const start = this.pos;
    if (s[this.pos + 1] !== '?') {
      this.pos++;
      this.names.push('');
      this.stack.push({ alternatives: [[]], savedFlags: { ...this.flags }, open: '(' });
      return;
    }
    const t = s.slice(this.pos);
    if ((t.length > 4 && t[2] === 'P' && t[3] === '<') || (t.length > 3 && t[2] === '<')) {
      const begin = t[2] === 'P' ? 4 : 3;
      const end = t.indexOf('>');
      if (end < 0) throw new GoRegexpError(ERR_INVALID_NAMED_CAPTURE, t);
      const name = t.slice(begin, end);
      if (!/^[A-Za-z0-9_]+$/.test(name)) throw new GoRegexpError(ERR_INVALID_NAMED_CAPTURE, t.slice(0, end + 1));
      this.pos += end + 1;
      this.names.push(name);
      this.stack.push({ alternatives: [[]], savedFlags: { ...this.flags }, open: '(' });
      return;
    }
    // Flags, optionally opening a non-capturing group: (?i) (?i-s:…) (?:…)
    this.pos += 2;
    const flags = { ...this.flags };
    let negate = false;
    let sawFlag = false;
    while (this.pos < s.length) {
      const c = s[this.pos++]!;
      switch (c) {
        case 'i':
        case 'm':
        case 's':
        case 'U':
          flags[c] = !negate;
          sawFlag = true;
          continue;
        case '-':
          if (negate) break;
          negate = true;
          sawFlag = false;
          continue;
        case ':':
        case ')':
          if (negate && !sawFlag) break;
          if (c === ':') this.stack.push({ alternatives: [[]], savedFlags: { ...this.flags }, open: '(?:' });
          this.flags = flags;
          return;
      }
      break;
    }
    throw new GoRegexpError(ERR_INVALID_PERL_OP, s.slice(start, this.pos));
  }

  private closeGroup(): void {
    if (this.stack.length < 2) throw new GoRegexpError(ERR_UNEXPECTED_PAREN, this.src);
    this.pos++;
    const frame = this.stack.pop()!;
    this.flags = frame.savedFlags;
    this.push(frame.open + this.join(frame.alternatives) + ')');
  }

  private parseEscapeOutside(): void {
    const s = this.src;
    const next = s[this.pos + 1];
    switch (next) {
      case 'A':
        this.pos += 2;
        this.push('^', true);
        return;
      case 'z':
        this.pos += 2;
        this.push('$', true);
        return;
      case 'b':
      case 'B':
        this.pos += 2;
        this.sawBoundary = true;
        this.push(this.guardBoundaries ? `(?-i:\\${next})` : `\\${next}`, true);
        return;
      case 'C':
        throw new GoRegexpError(ERR_INVALID_ESCAPE, '\\C');
      case 'Q': {
        const end = s.indexOf('\\E', this.pos + 2);
        const lit = end < 0 ? s.slice(this.pos + 2) : s.slice(this.pos + 2, end);
        this.pos = end < 0 ? s.length : end + 2;
        for (const ch of lit) this.pushChar(litOut(ch.codePointAt(0)!), caseFreeCp(ch.codePointAt(0)!));
        return;
      }
      case 'p':
      case 'P':
        this.pushChar(this.parseUnicodeClass());
        return;
      case 'd':
      case 's':
      case 'w':
        this.pos += 2;
        this.pushChar(`[${PERL[next]}]`, next !== 'w');
        return;
      case 'D':
      case 'S':
      case 'W':
        this.pos += 2;
        this.pushChar(`[^${PERL[next.toLowerCase()]}]`, next !== 'W');
        return;
    }
    const cp = this.parseEscape();
    this.pushChar(litOut(cp), caseFreeCp(cp));
  }

  /** Go's parseEscape: a single escaped code point (octal, hex, C escapes, escaped punctuation). */
  private parseEscape(): number {
    const s = this.src;
    const start = this.pos;
    this.pos++;
    if (this.pos >= s.length) throw new GoRegexpError(ERR_TRAILING_BACKSLASH, '');
    const c = String.fromCodePoint(s.codePointAt(this.pos)!);
    this.pos += c.length;
    const invalid = (): GoRegexpError => new GoRegexpError(ERR_INVALID_ESCAPE, s.slice(start, this.pos));
    const isOct = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '7';
    if (c.codePointAt(0)! < 0x80 && !isAlnum(c)) return c.codePointAt(0)!;
    if (isOct(c)) {
      // A single non-zero digit would be a backreference, which RE2 does not support; \0 and \12 are octal.
      if (c !== '0' && !isOct(s[this.pos])) throw invalid();
      let r = Number(c);
      for (let i = 1; i < 3 && isOct(s[this.pos]); i++) r = r * 8 + Number(s[this.pos++]);
      return r;
    }
    switch (c) {
      case 'x': {
        if (this.pos >= s.length) throw invalid();
        if (s[this.pos] === '{') {
          this.pos++;
          let r = 0;
          let n = 0;
          for (;;) {
            if (this.pos >= s.length) throw invalid();
            const h = s[this.pos++]!;
            if (h === '}') break;
            if (!/[0-9A-Fa-f]/.test(h)) throw invalid();
            r = r * 16 + parseInt(h, 16);
            if (r > 0x10ffff) throw invalid();
            n++;
          }
          if (n === 0) throw invalid();
          return r;
        }
        const x = s[this.pos++]!;
        const y = s[this.pos++];
        if (y === undefined || !/[0-9A-Fa-f]/.test(x) || !/[0-9A-Fa-f]/.test(y)) throw invalid();
        return parseInt(x + y, 16);
      }
      case 'a':
        return 7;
      case 'f':
        return 12;
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 't':
        return 9;
      case 'v':
        return 11;
    }
    throw invalid();
  }

  /** `\pL`, `\p{Greek}`, `\P{^Lu}` starting at pos (which is at the backslash). */
  private parseUnicodeClass(): string {
    const s = this.src;
    const start = this.pos;
    let negated = s[this.pos + 1] === 'P';
    this.pos += 2;
    let name: string;
    let seq: string;
    if (s[this.pos] !== '{') {
      if (this.pos >= s.length) throw new GoRegexpError(ERR_INVALID_CHAR_RANGE, s.slice(start));
      const ch = String.fromCodePoint(s.codePointAt(this.pos)!);
      this.pos += ch.length;
      name = ch;
      seq = s.slice(start, this.pos);
    } else {
      const end = s.indexOf('}', this.pos);
      if (end < 0) throw new GoRegexpError(ERR_INVALID_CHAR_RANGE, s.slice(start));
      name = s.slice(this.pos + 1, end);
      this.pos = end + 1;
      seq = s.slice(start, this.pos);
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const cls = unicodeClass(name);
    if (cls === undefined) throw new GoRegexpError(ERR_INVALID_CHAR_RANGE, seq);
    if (!negated) return cls;
    return `[^${cls.startsWith('[') ? cls : `[${cls}]`}]`;
  }

  /** A bracketed class starting at pos; returns it in `v`-flag syntax. */
  private parseClass(): string {
    const s = this.src;
    const whole = s.slice(this.pos);
    this.pos++;
    let negated = false;
    if (s[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    let out = '';
    let first = true;
    while (this.pos >= s.length || s[this.pos] !== ']' || first) {
      first = false;
      if (s.startsWith('[:', this.pos)) {
        const end = s.indexOf(':]', this.pos + 2);
        if (end >= 0) {
          let name = s.slice(this.pos + 2, end);
          const text = s.slice(this.pos, end + 2);
          let neg = false;
          if (name.startsWith('^')) {
            neg = true;
            name = name.slice(1);
          }
          const cls = POSIX[name];
          if (cls === undefined) throw new GoRegexpError(ERR_INVALID_CHAR_RANGE, text);
          out += neg ? `[^${cls}]` : cls;
          this.pos = end + 2;
          continue;
        }
      }
      if (s[this.pos] === '\\') {
        const next = s[this.pos + 1];
        if (next === 'p' || next === 'P') {
          const cls = this.parseUnicodeClass();
          out += cls.startsWith('[') || cls.startsWith('\\p') ? cls : `[${cls}]`;
          continue;
        }
        if (next !== undefined && 'dswDSW'.includes(next)) {
          const lower = next.toLowerCase();
          out += next === lower ? PERL[lower] : `[^${PERL[lower]}]`;
          this.pos += 2;
          continue;
        }
      }
      const rangeStart = this.pos;
      const lo = this.classChar(whole);
      let hi = lo;
      if (s[this.pos] === '-' && this.pos + 1 < s.length && s[this.pos + 1] !== ']') {
        this.pos++;
        hi = this.classChar(whole);
        if (hi < lo) throw new GoRegexpError(ERR_INVALID_CHAR_RANGE, s.slice(rangeStart, this.pos));
      }
      out += lo === hi ? litIn(lo) : `${litIn(lo)}-${litIn(hi)}`;
    }
    this.pos++;
    return `[${negated ? '^' : ''}${out}]`;
  }

  private classChar(whole: string): number {
    const s = this.src;
    if (this.pos >= s.length) throw new GoRegexpError(ERR_MISSING_BRACKET, whole);
    if (s[this.pos] === '\\') return this.parseEscape();
    const cp = s.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }
}

/** Translates a Go regexp; throws GoRegexpError with Go's message when Go would refuse it. */
export function translateGoRegexp(pattern: string, opts: GoRegexpOptions = {}): GoRegexpSource {
  const dotNL = opts.dotNL ?? false;
  const probe = new Translator(pattern, dotNL, 'global');
  const global = probe.translate();
  // `(?i)` over the whole pattern (the usual case) becomes the `i` flag; a partial one needs scoped modifiers.
  if (probe.sawFold && probe.sawExact) return new Translator(pattern, dotNL, 'wrap').translate();
  if (probe.sawFold && probe.sawBoundary) return new Translator(pattern, dotNL, 'global', true).translate();
  return global;
}

/**
 * Compiles a Go regexp to a JavaScript RegExp with the same matching behaviour (Go's regexp.Compile); throws
 * GoRegexpError with Go's message when Go would refuse the pattern.
 */
export function compileGoRegexp(pattern: string, opts: GoRegexpOptions = {}): GoRegexp {
  const t = translateGoRegexp(pattern, opts);
  let re: RegExp;
  try {
    re = new RegExp(t.source, t.flags + (opts.flags ?? ''));
  } catch (e) {
    // Not expected (the translation emits valid V8 syntax); reported in Go's form rather than as a crash.
    throw new GoRegexpError((e as Error).message, pattern);
  }
  return { ...t, re, numSubexp: t.names.length - 1 };
}

/** Width in UTF-16 units of the code point at `i` (0 at the end). */
function cpWidth(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
}

/**
 * Go's FindAll iteration: successive non-overlapping matches, where an empty match right after the previous match
 * is skipped. `re` must have the `g` flag.
 */
export function goFindAll(re: RegExp, s: string, deliver: (m: RegExpExecArray) => void, limit = -1): void {
  let pos = 0;
  let prevEnd = -1;
  let n = 0;
  while ((limit < 0 || n < limit) && pos <= s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (m === null) break;
    const mStart = m.index;
    const mEnd = mStart + m[0].length;
    let accept = true;
    if (mEnd === pos) {
      if (mStart === prevEnd) accept = false;
      pos += cpWidth(s, pos) || 1;
    } else {
      pos = mEnd;
    }
    prevEnd = mEnd;
    if (accept) {
      deliver(m);
      n++;
    }
  }
}

/**
 * Go's Regexp.ReplaceAllString family: `repl` computes the text for one match. An empty match right after the
 * previous match is not replaced. `re` must have the `g` flag.
 */
export function goReplaceAll(re: RegExp, src: string, repl: (m: RegExpExecArray) => string): string {
  let out = '';
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    re.lastIndex = searchPos;
    const m = re.exec(src);
    if (m === null) break;
    const a0 = m.index;
    const a1 = a0 + m[0].length;
    out += src.slice(lastEnd, a0);
    if (a1 > lastEnd || a0 === 0) out += repl(m);
    lastEnd = a1;
    const width = cpWidth(src, searchPos);
    if (searchPos + width > a1) searchPos += width;
    else if (searchPos + 1 > a1) searchPos++;
    else searchPos = a1;
  }
  return out + src.slice(lastEnd);
}

/** Letters, decimal digits and `_`: the characters of a `$name` in an expansion template. */
const NAME_CHARS = /[\p{L}\p{Nd}_]*/uy;

/**
 * Go's Regexp.Expand for one match: `$1`, `${1}`, `$name`, `${name}`, `$$`. A `$name` takes the longest run of
 * letters, digits and `_`; unknown names and groups expand to "". `names` is Go's SubexpNames.
 */
export function goExpand(template: string, m: RegExpExecArray, names: readonly string[]): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const d = template.indexOf('$', i);
    if (d < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, d);
    i = d + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    const brace = template[i] === '{';
    const nameStart = brace ? i + 1 : i;
    NAME_CHARS.lastIndex = nameStart;
    const j = nameStart + (NAME_CHARS.exec(template)?.[0].length ?? 0);
    if (j === nameStart || (brace && template[j] !== '}')) {
      out += '$';
      continue;
    }
    const name = template.slice(nameStart, j);
    i = brace ? j + 1 : j;
    // A number has at most 9 digits and no leading zero (Go stops at 1e8 before adding a digit); else it is a name.
    const num = /^(?:0|[1-9][0-9]{0,8})$/.test(name) ? Number(name) : -1;
    if (num >= 0) {
      if (num < m.length && m[num] !== undefined) out += m[num];
    } else {
      for (let g = 1; g < names.length; g++) {
        if (names[g] === name && m[g] !== undefined) {
          out += m[g];
          break;
        }
      }
    }
  }
  return out;
}
