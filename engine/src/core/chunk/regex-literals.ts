/**
 * Required literals of a Go regular expression: a set of strings such that every line the regexp matches contains
 * at least one of them. A block scan searches the decompressed block bytes for these before it decodes any line
 * and runs the regexp, so lines that cannot match cost nothing (Loki simplifies regexps into literal filters for
 * the same reason; here the regexp still decides, the literals only rule lines out).
 *
 * The analysis is conservative: anything it does not understand contributes no literal, and an answer of
 * `undefined` means "no pruning". Being wrong in the other direction would drop matching lines, so every rule
 * below only ever forgets literals, never invents them.
 */

export interface RequiredLiterals {
  /**
   * True when the pattern folds case somewhere (`(?i)`): the literals are lower-case ASCII and are to be searched
   * ASCII-case-insensitively (callers also handle the two non-ASCII runes that fold to ASCII letters: U+017F ſ → s
   * and U+212A K → k).
   */
  fold: boolean;
  /** Non-empty strings; a match contains at least one. */
  literals: string[];
}

/** Shortest common substring worth replacing a set of literals with. */
const MIN_COMMON = 5;

/** The longest string contained in every one of `xs` (by code points; "" when none). */
function longestCommonSubstring(xs: readonly string[]): string {
  const shortest = [...xs].sort((a, b) => a.length - b.length)[0]!;
  const cps = Array.from(shortest);
  for (let len = cps.length; len > 0; len--) {
    for (let i = 0; i + len <= cps.length; i++) {
      const sub = cps.slice(i, i + len).join('');
      if (xs.every((x) => x.includes(sub))) return sub;
    }
  }
  return '';
}

/** Largest literal set kept for one node (each literal costs one search per block). */
const MAX_SET = 16;
/** Longest literal kept (longer ones are cut: a prefix of a required literal is required too). */
const MAX_LEN = 64;

/**
 * What a regexp node is known to match: `exact` when it matches exactly one of a few strings, `req` when every
 * match contains one of a few strings. Both undefined: nothing known.
 */
interface Info {
  exact?: string[];
  req?: string[];
}

const NOTHING: Info = {};

class Bail extends Error {}

/** Score of a literal set: the shortest literal (longer is more selective), then fewer literals. */
function better(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (b === undefined || b.length === 0 || minLen(b) === 0) return a;
  if (a === undefined || a.length === 0 || minLen(a) === 0) return b;
  const la = minLen(a);
  const lb = minLen(b);
  if (lb !== la) return lb > la ? b : a;
  return b.length < a.length ? b : a;
}

function minLen(xs: readonly string[]): number {
  let m = Infinity;
  for (const x of xs) m = Math.min(m, Buffer.byteLength(x));
  return m;
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

function cross(a: readonly string[], b: readonly string[]): string[] | undefined {
  if (a.length * b.length > MAX_SET) return undefined;
  const out: string[] = [];
  for (const x of a) for (const y of b) out.push(x + y);
  for (const s of out) if (s.length > MAX_LEN) return undefined;
  return dedupe(out);
}

const PUNCT = /^[!-/:-@[-`{-~]$/;
const FLAG_GROUP = /^\(\?([imsU-]*)([):])/;
const REPEAT = /^\{(\d+)(?:(,)(\d*))?\}/;

class Analyzer {
  private pos = 0;
  fold = false;

  constructor(private readonly src: string) {
    // Case folding anywhere makes every literal case-insensitive: an exact match also matches without case, so
    // searching without case everywhere is still a necessary condition.
    for (let i = 0; i < src.length; i++) {
      if (src[i] === '\\') {
        i++;
        continue;
      }
      const m = src[i] === '(' ? FLAG_GROUP.exec(src.slice(i)) : null;
      if (m !== null) {
        const on = m[1]!.split('-')[0]!;
        if (on.includes('i')) this.fold = true;
      }
    }
  }

  run(): Info {
    const info = this.alternation();
    if (this.pos !== this.src.length) throw new Bail();
    return info;
  }

  private alternation(): Info {
    const branches: Info[] = [this.concat()];
    while (this.src[this.pos] === '|') {
      this.pos++;
      branches.push(this.concat());
    }
    if (branches.length === 1) return branches[0]!;
    let exact: string[] | undefined = [];
    let req: string[] | undefined = [];
    for (const b of branches) {
      if (exact !== undefined && b.exact !== undefined) exact.push(...b.exact);
      else exact = undefined;
      const r = b.exact ?? b.req;
      if (req !== undefined && r !== undefined && minLen(r) > 0) req.push(...r);
      else req = undefined;
    }
    exact = exact !== undefined ? dedupe(exact) : undefined;
    req = req !== undefined ? dedupe(req) : undefined;
    return {
      exact: exact !== undefined && exact.length <= MAX_SET ? exact : undefined,
      req: req !== undefined && req.length <= MAX_SET ? req : undefined,
    };
  }

  private concat(): Info {
    let run: string[] | undefined = [''];
    let allExact = true;
    let best: string[] | undefined;
    while (this.pos < this.src.length && this.src[this.pos] !== '|' && this.src[this.pos] !== ')') {
      const child = this.repeat();
      if (child.exact !== undefined) {
        const next: string[] | undefined = run !== undefined ? cross(run, child.exact) : undefined;
        if (next !== undefined) {
          run = next;
          continue;
        }
        allExact = false;
        best = better(best, run);
        run = child.exact;
        continue;
      }
      allExact = false;
      best = better(best, run);
      best = better(best, child.req);
      run = [''];
    }
    best = better(best, run);
    return { exact: allExact ? run : undefined, req: best };
  }

  private repeat(): Info {
    let info = this.atom();
    for (;;) {
      const c = this.src[this.pos];
      let min: number;
      let max: number;
      if (c === '*' || c === '+' || c === '?') {
        this.pos++;
        min = c === '+' ? 1 : 0;
        max = c === '?' ? 1 : Infinity;
      } else if (c === '{') {
        const m = REPEAT.exec(this.src.slice(this.pos));
        if (m === null) return info; // a literal '{' (Go reads an invalid repeat as text); the caller reads it next
        this.pos += m[0].length;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      } else {
        return info;
      }
      if (this.src[this.pos] === '?') this.pos++; // non-greedy
      if (min === 0) info = NOTHING;
      else if (!(min === 1 && max === 1)) info = { req: info.exact ?? info.req };
    }
  }

  private atom(): Info {
    const s = this.src;
    const c = s[this.pos]!;
    switch (c) {
      case '(': {
        this.pos++;
        if (s[this.pos] === '?') {
          const flags = FLAG_GROUP.exec(s.slice(this.pos - 1));
          if (flags !== null) {
            this.pos += flags[0].length - 1;
            if (flags[2] === ')') return NOTHING; // (?i) etc.: no text of its own
          } else if (s.startsWith('?P<', this.pos) || s.startsWith('?<', this.pos)) {
            const close = s.indexOf('>', this.pos);
            if (close < 0) throw new Bail();
            this.pos = close + 1;
          } else {
            throw new Bail();
          }
        }
        const inner = this.alternation();
        if (s[this.pos] !== ')') throw new Bail();
        this.pos++;
        return inner;
      }
      case '[':
        return this.charClass();
      case '.':
      case '^':
      case '$':
        this.pos++;
        return NOTHING;
      case '\\':
        return this.escape();
      case '*':
      case '+':
      case '?':
      case ')':
      case '|':
        throw new Bail();
      default: {
        const cp = s.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return this.literal(cp);
      }
    }
  }

  /** One literal code point: exact, unless case folding makes it unusable (a non-ASCII letter). */
  private literal(cp: number): Info {
    if (cp === 0xfffd) return NOTHING; // the line decoder's replacement rune: not in the bytes
    const ch = String.fromCodePoint(cp);
    if (!this.fold) return { exact: [ch] };
    if (cp >= 0x80) return NOTHING;
    return { exact: [ch.toLowerCase()] };
  }

  private escape(): Info {
    const s = this.src;
    this.pos++; // the backslash
    const c = s[this.pos];
    if (c === undefined) throw new Bail();
    this.pos++;
    switch (c) {
      case 'a':
        return this.literal(7);
      case 'f':
        return this.literal(12);
      case 't':
        return this.literal(9);
      case 'n':
        return this.literal(10);
      case 'r':
        return this.literal(13);
      case 'v':
        return this.literal(11);
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W':
      case 'b':
      case 'B':
      case 'A':
      case 'z':
        return NOTHING;
      case 'p':
      case 'P':
        if (s[this.pos] === '{') {
          const close = s.indexOf('}', this.pos);
          if (close < 0) throw new Bail();
          this.pos = close + 1;
        } else {
          this.pos++;
        }
        return NOTHING;
      case 'x': {
        let hex: string;
        if (s[this.pos] === '{') {
          const close = s.indexOf('}', this.pos);
          if (close < 0) throw new Bail();
          hex = s.slice(this.pos + 1, close);
          this.pos = close + 1;
        } else {
          hex = s.slice(this.pos, this.pos + 2);
          this.pos += 2;
        }
        if (!/^[0-9a-fA-F]{1,6}$/.test(hex)) throw new Bail();
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) throw new Bail();
        return this.literal(cp);
      }
      case 'Q': {
        const close = s.indexOf('\\E', this.pos);
        const text = close < 0 ? s.slice(this.pos) : s.slice(this.pos, close);
        this.pos = close < 0 ? s.length : close + 2;
        let info: Info = { exact: [''] };
        for (const ch of text) {
          const l = this.literal(ch.codePointAt(0)!);
          const next = info.exact !== undefined && l.exact !== undefined ? cross(info.exact, l.exact) : undefined;
          if (next === undefined) return { req: info.exact };
          info = { exact: next };
        }
        return info;
      }
      default:
        if (PUNCT.test(c)) return this.literal(c.charCodeAt(0));
        throw new Bail(); // octal and anything unusual: give up on the whole pattern
    }
  }

  /** `[...]`: a few plain characters become an exact set; anything else is skipped (correctly) as unknown. */
  private charClass(): Info {
    const s = this.src;
    this.pos++; // [
    let negated = false;
    if (s[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    const chars: number[] = [];
    let simple = !negated;
    let first = true;
    for (;;) {
      if (this.pos >= s.length) throw new Bail();
      const c = s[this.pos]!;
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      let lo: number;
      if (c === '[' && s[this.pos + 1] === ':') {
        const close = s.indexOf(':]', this.pos + 2);
        if (close < 0) throw new Bail();
        this.pos = close + 2;
        simple = false;
        continue;
      }
      if (c === '\\') {
        const e = s[this.pos + 1];
        if (e === undefined) throw new Bail();
        if (PUNCT.test(e)) {
          lo = e.charCodeAt(0);
          this.pos += 2;
        } else if ('dDsSwW'.includes(e)) {
          this.pos += 2;
          simple = false;
          continue;
        } else if ((e === 'p' || e === 'P') && s[this.pos + 2] === '{') {
          const close = s.indexOf('}', this.pos);
          if (close < 0) throw new Bail();
          this.pos = close + 1;
          simple = false;
          continue;
        } else if (e === 'p' || e === 'P') {
          this.pos += 3;
          simple = false;
          continue;
        } else {
          throw new Bail();
        }
      } else {
        lo = s.codePointAt(this.pos)!;
        this.pos += lo > 0xffff ? 2 : 1;
      }
      if (s[this.pos] === '-' && s[this.pos + 1] !== undefined && s[this.pos + 1] !== ']') {
        this.pos++;
        const hc = s[this.pos]!;
        let hi: number;
        if (hc === '\\') {
          const e = s[this.pos + 1];
          if (e === undefined || !PUNCT.test(e)) throw new Bail();
          hi = e.charCodeAt(0);
          this.pos += 2;
        } else {
          hi = s.codePointAt(this.pos)!;
          this.pos += hi > 0xffff ? 2 : 1;
        }
        if (hi < lo) throw new Bail();
        if (hi - lo >= MAX_SET) simple = false;
        else for (let x = lo; x <= hi; x++) chars.push(x);
        continue;
      }
      chars.push(lo);
    }
    if (!simple || chars.length === 0) return NOTHING;
    const set: string[] = [];
    for (const cp of chars) {
      const l = this.literal(cp);
      if (l.exact === undefined) return NOTHING;
      set.push(l.exact[0]!);
    }
    const out = dedupe(set);
    return out.length <= MAX_SET ? { exact: out } : NOTHING;
  }
}

/**
 * The literals every match of the Go regexp `pattern` contains (one of them at least), or undefined when none
 * could be found. The pattern is assumed valid (the query parser compiled it already); an unexpected construct
 * makes the answer undefined rather than an error.
 */
export function requiredLiterals(pattern: string): RequiredLiterals | undefined {
  let info: Info;
  let fold: boolean;
  try {
    const a = new Analyzer(pattern);
    fold = a.fold;
    info = a.run();
  } catch (e) {
    if (e instanceof Bail) return undefined;
    throw e;
  }
  let lits = info.exact ?? info.req;
  if (lits === undefined || lits.length === 0 || minLen(lits) === 0) return undefined;
  // Each literal costs a pass over the block; a long enough substring common to all of them is required too and
  // costs one (`(GET|POST) /api/v[12]/orders` → "/orders" instead of four literals).
  if (lits.length > 1) {
    const common = longestCommonSubstring(lits);
    if (Buffer.byteLength(common) >= MIN_COMMON) lits = [common];
  }
  return { fold, literals: lits.map((l) => (l.length > MAX_LEN ? Array.from(l).slice(0, MAX_LEN).join('') : l)) };
}
