import { goBackquote } from './go-fmt.js';

/**
 * Go regular expressions (RE2 syntax, as Loki and Prometheus compile them) translated to JavaScript. LogQL users
 * write `(?i)`, `(?P<name>…)`, `\z` and POSIX classes; JavaScript reads some of these differently or not at all, and
 * Loki reports Go's exact error texts. The translation parses the Go syntax itself (mirroring Go's regexp/syntax
 * checks and messages) and emits an equivalent pattern for the `v` flag. Capturing groups keep their numbers; names
 * are returned separately because Go allows names JavaScript does not (duplicates, leading digits).
 */

/** A Go regexp compile error; `message` is Go's: `error parsing regexp: <code>: \`<expr>\``. */
export class GoRegexpError extends Error {
  constructor(
    readonly code: string,
    readonly expr: string,
  ) {
    super(`error parsing regexp: ${code}: ${goBackquote(expr)}`);
    this.name = 'GoRegexpError';
  }
}

export interface GoRegexp {
  /** JavaScript pattern source, to be compiled with `flags`. */
  source: string;
  flags: string;
  /** The name of each capturing group (index 0 is group 1); undefined for unnamed groups. */
  names: Array<string | undefined>;
}

export interface GoRegexpOptions {
  /** `.` matches `\n` from the start, as `(?s)` does (Prometheus label matchers). */
  dotNL?: boolean;
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

interface Atom {
  src: string;
  /** An empty-width assertion: JavaScript refuses to quantify these bare. */
  assertion: boolean;
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
  private readonly names: Array<string | undefined> = [];
  /** Text from the previous repetition operator to the end of the input (Go's lastRepeat), for `a**` errors. */
  private lastRepeat = '';
  /** Whether a case-folding and a case-sensitive atom were emitted (decides between the `i` flag and `(?i:…)`). */
  sawFold = false;
  sawExact = false;

  constructor(
    private readonly src: string,
    dotNL: boolean,
    private readonly foldMode: 'global' | 'wrap',
  ) {
    this.flags = { i: false, m: false, s: dotNL, U: false };
  }

  translate(): GoRegexp {
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

  private push(src: string, assertion = false): void {
    const alts = this.top().alternatives;
    alts[alts.length - 1]!.push({ src, assertion });
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
    const base = last.assertion ? `(?:${last.src})` : last.src;
    atoms[atoms.length - 1] = { src: base + op + (lazy ? '?' : ''), assertion: false };
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
      this.names.push(undefined);
      this.stack.push({ alternatives: [[]], savedFlags: { ...this.flags }, open: '(' });
      return;
    }
    const t = s.slice(this.pos);
    if ((t.length > 4 && t[2] === 'P' && t[3] === '<') || (t.length > 3 && t[2] === '<')) {
      const begin = t[2] === 'P' ? 4 : 3;
      const end = t.indexOf('>');
      if (end < 0) throw new GoRegexpError(ERR_INVALID_NAMED_CAPTURE, s);
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
        this.pos += 2;
        this.push('\\b', true);
        return;
      case 'B':
        this.pos += 2;
        this.push('\\B', true);
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
export function translateGoRegexp(pattern: string, opts: GoRegexpOptions = {}): GoRegexp {
  const probe = new Translator(pattern, opts.dotNL ?? false, 'global');
  const global = probe.translate();
  // `(?i)` over the whole pattern (the usual case) becomes the `i` flag; a partial one needs scoped modifiers.
  if (!(probe.sawFold && probe.sawExact)) return global;
  return new Translator(pattern, opts.dotNL ?? false, 'wrap').translate();
}

/** Compiles a Go regexp to a JavaScript RegExp with the same matching behaviour. */
export function compileGoRegexp(pattern: string, opts: GoRegexpOptions = {}): RegExp {
  const t = translateGoRegexp(pattern, opts);
  return new RegExp(t.source, t.flags);
}
