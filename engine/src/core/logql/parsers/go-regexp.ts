/**
 * Go (RE2) regular expressions on V8. LogQL regexes use Go's syntax and semantics; V8's are close but differ in
 * places that matter on log lines, so patterns are translated rather than passed through:
 *  - named groups `(?P<name>…)` / `(?<name>…)` become plain groups (Go allows names V8 rejects, e.g. `1a`, and
 *    duplicates); names are kept by group number;
 *  - `.` excludes only `\n` (V8 also excludes `\r`, U+2028, U+2029); `\s` is ASCII (`[\t\n\f\r ]`);
 *  - `(?m)` `^`/`$` break only at `\n`; `\A`, `\z`, `\Q…\E`, POSIX classes, `\pN`, `\x{…}`, octal escapes;
 *  - inline flags `(?i)`, `(?s)`, `(?m)`, `(?U)` anywhere, scoped to their group as in Go (`i` uses V8's
 *    modifier groups, the others are resolved during translation);
 *  - literal `{`, `}` and `]` that Go accepts but V8's `u` mode rejects.
 * Errors use Go's text: `error parsing regexp: missing closing ): \`(a\``.
 */

export class GoRegexpError extends Error {}

export interface GoRegexp {
  /** The translated pattern, with the `u` flag plus any flags asked for. */
  re: RegExp;
  /** Go's SubexpNames(): index = group number, "" for unnamed groups; [0] is "". */
  names: string[];
  /** Number of capturing groups (Go's NumSubexp). */
  numSubexp: number;
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

const ASCII_SPACE: [number, number][] = [
  [0x09, 0x0a],
  [0x0c, 0x0d],
  [0x20, 0x20],
];
const ASCII_DIGIT: [number, number][] = [[0x30, 0x39]];
const ASCII_WORD: [number, number][] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];

const POSIX: Record<string, [number, number][]> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: ASCII_WORD,
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

const UNICODE_CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(' '),
);

function complement(ranges: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

function classChar(cp: number): string {
  // Characters with a meaning inside a V8 `u`-mode class are escaped; the rest are written as code points.
  if (cp === 0x5c || cp === 0x5d || cp === 0x5b || cp === 0x5e || cp === 0x2d) return '\\' + String.fromCodePoint(cp);
  if (cp < 0x20 || cp === 0x7f || (cp >= 0xd800 && cp <= 0xdfff)) return `\\u{${cp.toString(16)}}`;
  return String.fromCodePoint(cp);
}

function rangesToClassBody(ranges: [number, number][]): string {
  let s = '';
  for (const [lo, hi] of ranges) s += lo === hi ? classChar(lo) : classChar(lo) + '-' + classChar(hi);
  return s;
}

const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

function literalChar(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if (SYNTAX.has(ch)) return '\\' + ch;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0xd800 && cp <= 0xdfff)) return `\\u{${cp.toString(16)}}`;
  return ch;
}

function isAlnum(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

function isPunct(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return cp < 0x80 && !isAlnum(c) && cp > 0x20 && cp !== 0x7f;
}

class Translator {
  private readonly cps: string[];
  private pos = 0;
  private out = '';
  private readonly names: string[] = [''];
  private flags: Flags;
  // Per open group: the flags to restore at its end and how many modifier groups were opened inside it.
  private readonly stack: { saved: Flags; extra: number; extraOpeners: string[] }[] = [];
  private extra = 0;
  private extraOpeners: string[] = [];
  // Start offset (in `out`) of the last atom, or -1 when a repetition operator has nothing to apply to.
  private atomStart = -1;
  private atomIsAssertion = false;
  private lastWasRepeat = false;
  private lastRepeatText = '';

  constructor(private readonly src: string) {
    this.cps = Array.from(src);
    this.flags = { i: false, m: false, s: false, U: false };
  }

  private err(code: string, expr: string): never {
    throw new GoRegexpError(`error parsing regexp: ${code}: \`${expr}\``);
  }

  private peek(k = 0): string | undefined {
    return this.cps[this.pos + k];
  }

  private rest(): string {
    return this.cps.slice(this.pos).join('');
  }

  run(): { source: string; names: string[] } {
    while (this.pos < this.cps.length) this.step();
    if (this.stack.length > 0) this.err('missing closing )', this.src);
    this.closeExtras();
    return { source: this.out, names: this.names };
  }

  private beginAtom(assertion = false): void {
    this.atomStart = this.out.length;
    this.atomIsAssertion = assertion;
    this.lastWasRepeat = false;
  }

  private noAtom(): void {
    this.atomStart = -1;
    this.lastWasRepeat = false;
  }

  private closeExtras(): void {
    for (let k = 0; k < this.extra; k++) this.out += ')';
  }

  private step(): void {
    const c = this.cps[this.pos]!;
    switch (c) {
      case '\\':
        this.escape();
        return;
      case '[':
        this.beginAtom();
        this.charClass();
        return;
      case '(':
        this.group();
        return;
      case ')': {
        const g = this.stack.pop();
        if (g === undefined) this.err('unexpected )', this.src);
        this.closeExtras();
        this.out += ')';
        this.flags = g.saved;
        this.extra = g.extra;
        this.extraOpeners = g.extraOpeners;
        this.pos++;
        // The whole group is the atom a following repetition applies to.
        this.atomStart = this.groupStarts.pop()!;
        this.atomIsAssertion = false;
        this.lastWasRepeat = false;
        return;
      }
      case '|':
        // Inline flags last to the end of the group, across alternatives: close and reopen the modifier groups.
        this.closeExtras();
        this.out += '|';
        for (const o of this.extraOpeners) this.out += o;
        this.pos++;
        this.noAtom();
        return;
      case '*':
      case '+':
      case '?':
        this.repeat(c, 1);
        return;
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.rest());
        if (m === null) {
          this.literal(0x7b);
          return;
        }
        const lo = Number(m[1]);
        const hi = m[2] === undefined ? lo : m[3] === '' ? -1 : Number(m[3]);
        if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) this.err('invalid repeat count', m[0]);
        this.repeat(m[0], Array.from(m[0]).length);
        return;
      }
      case '.':
        this.beginAtom();
        this.out += this.flags.s ? '[^]' : '[^\\n]';
        this.pos++;
        return;
      case '^':
        this.beginAtom(true);
        this.out += this.flags.m ? '(?:^|(?<=\\n))' : '^';
        this.pos++;
        return;
      case '$':
        this.beginAtom(true);
        this.out += this.flags.m ? '(?:$|(?=\\n))' : '$';
        this.pos++;
        return;
      default:
        this.literal(c.codePointAt(0)!);
    }
  }

  private readonly groupStarts: number[] = [];

  private literal(cp: number): void {
    this.beginAtom();
    this.out += literalChar(cp);
    this.pos++;
  }

  private repeat(op: string, len: number): void {
    if (this.lastWasRepeat) {
      // `a*?` is a lazy star; any other operator after a repetition is an error in Go.
      if (op === '?' && !this.lazyTaken) {
        this.lazyTaken = true;
        this.lastRepeatText += '?';
        this.out = this.flags.U ? this.out.slice(0, -1) : this.out + '?';
        this.pos += len;
        return;
      }
      this.err('invalid nested repetition operator', this.lastRepeatText + op);
    }
    if (this.atomStart < 0) this.err('missing argument to repetition operator', op);
    if (this.atomIsAssertion) {
      this.out = this.out.slice(0, this.atomStart) + '(?:' + this.out.slice(this.atomStart) + ')';
    }
    this.out += op;
    if (this.flags.U) this.out += '?';
    this.pos += len;
    this.lastWasRepeat = true;
    this.lazyTaken = false;
    this.lastRepeatText = op;
  }

  private lazyTaken = false;

  private group(): void {
    const start = this.pos;
    if (this.peek(1) !== '?') {
      this.openGroup('(');
      this.names.push('');
      this.pos++;
      return;
    }
    // (?P<name>re) and (?<name>re)
    const named = this.peek(2) === 'P' && this.peek(3) === '<' ? 4 : this.peek(2) === '<' ? 3 : 0;
    if (named > 0) {
      const rest = this.cps.slice(start).join('');
      const end = rest.indexOf('>');
      if (end < 0) this.err('invalid named capture', rest);
      const name = rest.slice(named, end);
      if (name.length === 0 || !/^[A-Za-z0-9_]+$/.test(name)) this.err('invalid named capture', rest.slice(0, end + 1));
      this.openGroup('(');
      this.names.push(name);
      this.pos = start + Array.from(rest.slice(0, end + 1)).length;
      return;
    }
    // Flags: (?flags) or (?flags:re)
    let k = start + 2;
    const nf: Flags = { ...this.flags };
    let neg = false;
    let sawFlag = false;
    for (;;) {
      const c = this.cps[k];
      if (c === undefined) this.err('missing closing )', this.src);
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        nf[c] = !neg;
        sawFlag = true;
        k++;
        continue;
      }
      if (c === '-') {
        if (neg) this.err('invalid or unsupported Perl syntax', this.cps.slice(start, k + 1).join(''));
        neg = true;
        sawFlag = false;
        k++;
        continue;
      }
      if (c === ':' || c === ')') {
        if (neg && !sawFlag) this.err('invalid or unsupported Perl syntax', this.cps.slice(start, k + 1).join(''));
        if (c === ')' && k === start + 2) this.err('missing argument to repetition operator', '(?)');
        break;
      }
      this.err('invalid or unsupported Perl syntax', this.cps.slice(start, k + 1).join(''));
    }
    if (this.cps[k] === ':') {
      this.openGroup('(?:');
      this.applyFlags(nf);
      this.pos = k + 1;
      return;
    }
    // (?flags): changes the flags until the end of the current group.
    this.applyFlags(nf);
    this.pos = k + 1;
    this.noAtom();
  }

  private openGroup(opener: string): void {
    this.stack.push({ saved: { ...this.flags }, extra: this.extra, extraOpeners: this.extraOpeners });
    this.groupStarts.push(this.out.length);
    this.extra = 0;
    this.extraOpeners = [];
    this.out += opener;
    this.noAtom();
  }

  private applyFlags(nf: Flags): void {
    if (nf.i !== this.flags.i) {
      const opener = nf.i ? '(?i:' : '(?-i:';
      this.out += opener;
      this.extra++;
      this.extraOpeners = [...this.extraOpeners, opener];
    }
    this.flags = nf;
  }

  /** Parses one escape outside a class and emits it. */
  private escape(): void {
    const start = this.pos;
    const c = this.peek(1);
    if (c === undefined) this.err('trailing backslash at end of expression', '');
    const emit = (s: string, assertion = false): void => {
      this.beginAtom(assertion);
      this.out += s;
    };
    switch (c) {
      case 'A':
        emit('^', true);
        this.pos += 2;
        return;
      case 'z':
        emit('$', true);
        this.pos += 2;
        return;
      case 'b':
      case 'B':
        emit('\\' + c, true);
        this.pos += 2;
        return;
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        emit('\\' + c);
        this.pos += 2;
        return;
      case 's':
        emit('[\\t\\n\\f\\r ]');
        this.pos += 2;
        return;
      case 'S':
        emit('[^\\t\\n\\f\\r ]');
        this.pos += 2;
        return;
      case 'Q': {
        this.pos += 2;
        const rest = this.rest();
        const e = rest.indexOf('\\E');
        const lit = e < 0 ? rest : rest.slice(0, e);
        for (const ch of lit) {
          this.beginAtom();
          this.out += literalChar(ch.codePointAt(0)!);
        }
        this.pos += Array.from(lit).length + (e < 0 ? 0 : 2);
        return;
      }
      case 'p':
      case 'P': {
        const { js, len } = this.unicodeClass(start, false);
        emit(js);
        this.pos += len;
        return;
      }
    }
    const { cp, len } = this.charEscape(start);
    this.beginAtom();
    this.out += literalChar(cp);
    this.pos += len;
  }

  /** `\p{..}` / `\pN` / `\P..` at `start`; returns the V8 form and the length in code points. */
  private unicodeClass(start: number, inClass: boolean): { js: string; len: number } {
    let neg = this.cps[start + 1] === 'P';
    let name: string;
    let len: number;
    if (this.cps[start + 2] === '{') {
      const rest = this.cps.slice(start).join('');
      const end = rest.indexOf('}');
      if (end < 0) this.err('invalid character class range', rest);
      name = rest.slice(3, end);
      len = Array.from(rest.slice(0, end + 1)).length;
    } else {
      const ch = this.cps[start + 2];
      if (ch === undefined) this.err('invalid character class range', this.cps.slice(start).join(''));
      name = ch;
      len = 3;
    }
    const text = this.cps.slice(start, start + len).join('');
    if (name.startsWith('^')) {
      neg = !neg;
      name = name.slice(1);
    }
    let prop: string;
    if (name === 'Any') prop = 'Any';
    else if (UNICODE_CATEGORIES.has(name)) prop = name;
    else if (/^[A-Z][A-Za-z_]*$/.test(name)) prop = `Script=${name}`;
    else this.err('invalid character class range', text);
    const js = `\\${neg ? 'P' : 'p'}{${prop}}`;
    try {
      new RegExp(inClass ? `[${js}]` : js, 'u');
    } catch {
      this.err('invalid character class range', text);
    }
    return { js, len };
  }

  /** A single-character escape at `start` (not a class escape). */
  private charEscape(start: number): { cp: number; len: number } {
    const c = this.cps[start + 1]!;
    const simple: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (simple[c] !== undefined) return { cp: simple[c]!, len: 2 };
    if (c >= '0' && c <= '7') {
      // Go: a single non-zero digit would be a backreference, which RE2 does not support.
      if (c !== '0' && !(this.cps[start + 2]! >= '0' && this.cps[start + 2]! <= '7')) {
        this.err('invalid escape sequence', '\\' + c);
      }
      let v = 0;
      let k = start + 1;
      while (k < start + 4 && this.cps[k] !== undefined && this.cps[k]! >= '0' && this.cps[k]! <= '7') {
        v = v * 8 + Number(this.cps[k]);
        k++;
      }
      return { cp: v, len: k - start };
    }
    if (c === 'x') {
      if (this.cps[start + 2] === '{') {
        const rest = this.cps.slice(start).join('');
        const m = /^\\x\{([0-9A-Fa-f]+)\}/.exec(rest);
        if (m === null || parseInt(m[1]!, 16) > 0x10ffff) this.err('invalid escape sequence', rest.slice(0, rest.indexOf('}') + 1) || rest);
        return { cp: parseInt(m[1]!, 16), len: Array.from(m[0]).length };
      }
      const h = this.cps.slice(start + 2, start + 4).join('');
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) this.err('invalid escape sequence', this.cps.slice(start, start + 4).join(''));
      return { cp: parseInt(h, 16), len: 4 };
    }
    if (isPunct(c)) return { cp: c.codePointAt(0)!, len: 2 };
    this.err('invalid escape sequence', '\\' + c);
  }

  private charClass(): void {
    const start = this.pos;
    let k = start + 1;
    let negated = false;
    if (this.cps[k] === '^') {
      negated = true;
      k++;
    }
    let body = '';
    let first = true;
    const classErr = (): never => this.err('missing closing ]', this.cps.slice(start).join(''));
    for (;;) {
      const c = this.cps[k];
      if (c === undefined) classErr();
      if (c === ']' && !first) {
        k++;
        break;
      }
      first = false;
      // POSIX class
      if (c === '[' && this.cps[k + 1] === ':') {
        const rest = this.cps.slice(k).join('');
        const m = /^\[:(\^?)([a-z]+):\]/.exec(rest);
        if (m !== null) {
          const r = POSIX[m[2]!];
          if (r === undefined) this.err('invalid character class range', m[0]);
          body += rangesToClassBody(m[1] === '^' ? complement(r) : r);
          k += m[0].length;
          continue;
        }
      }
      let lo: number;
      let loLen: number;
      if (c === '\\') {
        const e = this.cps[k + 1];
        if (e === undefined) classErr();
        const set: Record<string, [number, number][]> = {
          d: ASCII_DIGIT,
          D: complement(ASCII_DIGIT),
          s: ASCII_SPACE,
          S: complement(ASCII_SPACE),
          w: ASCII_WORD,
          W: complement(ASCII_WORD),
        };
        if (set[e] !== undefined) {
          body += rangesToClassBody(set[e]!);
          k += 2;
          continue;
        }
        if (e === 'p' || e === 'P') {
          const { js, len } = this.unicodeClass(k, true);
          body += js;
          k += len;
          continue;
        }
        const ce = this.charEscape(k);
        lo = ce.cp;
        loLen = ce.len;
      } else {
        lo = c.codePointAt(0)!;
        loLen = 1;
      }
      // A range lo-hi (a `-` right before `]` is literal)
      if (this.cps[k + loLen] === '-' && this.cps[k + loLen + 1] !== undefined && this.cps[k + loLen + 1] !== ']') {
        const hk = k + loLen + 1;
        let hi: number;
        let hiLen: number;
        if (this.cps[hk] === '\\') {
          const ce = this.charEscape(hk);
          hi = ce.cp;
          hiLen = ce.len;
        } else {
          hi = this.cps[hk]!.codePointAt(0)!;
          hiLen = 1;
        }
        if (hi < lo) this.err('invalid character class range', this.cps.slice(k, hk + hiLen).join(''));
        body += classChar(lo) + '-' + classChar(hi);
        k = hk + hiLen;
        continue;
      }
      body += classChar(lo);
      k += loLen;
    }
    this.out += negated ? `[^${body}]` : `[${body}]`;
    this.pos = k;
  }
}

/** Translates a Go regexp to a V8 source (to be used with the `u` flag) and Go's group names. */
export function translateGoRegexp(pattern: string): { source: string; names: string[] } {
  return new Translator(pattern).run();
}

/**
 * Compiles a Go regexp. `flags` are extra V8 flags (`g`, `y`, `d`); `u` is always set. Throws GoRegexpError with
 * Go's message when the pattern is invalid in Go.
 */
export function compileGoRegexp(pattern: string, flags = ''): GoRegexp {
  const { source, names } = translateGoRegexp(pattern);
  let re: RegExp;
  try {
    re = new RegExp(source, 'u' + flags);
  } catch (e) {
    throw new GoRegexpError(`error parsing regexp: ${(e as Error).message}: \`${pattern}\``);
  }
  return { re, names, numSubexp: names.length - 1 };
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

/**
 * Go's Regexp.Expand for one match: `$1`, `${1}`, `$name`, `${name}`, `$$`. A `$name` takes the longest run of
 * letters, digits and `_`; unknown names and groups expand to "".
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
    let j = brace ? i + 1 : i;
    const nameStart = j;
    while (j < template.length && /[\p{L}\p{Nd}_]/u.test(template[j]!)) j++;
    if (j === nameStart || (brace && template[j] !== '}')) {
      out += '$';
      continue;
    }
    const name = template.slice(nameStart, j);
    i = brace ? j + 1 : j;
    let num = -1;
    if (/^[0-9]+$/.test(name) && !(name[0] === '0' && name.length > 1) && name.length < 9) num = Number(name);
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
