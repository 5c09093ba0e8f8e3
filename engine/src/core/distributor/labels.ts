import { badRequest } from '../errors.js';
import { goQuote, isPrint, quoteRune } from '../util/go/quote.js';
import type { LabelPair, Labels } from '../model.js';

/**
 * Stream label strings as clients send them on push: `{app="api", env="prod"}`.
 *
 * Loki parses them with the Prometheus metric parser (only `name="value"` pairs, an optional metric name before
 * the braces becomes `__name__`, values are Go string literals in "", '' or ``), drops pairs whose value is empty
 * (an empty value means "absent" and must not change the stream's identity) and prints them back in canonical
 * form. Errors use the Prometheus parser's `line:col: parse error: ...` text, because that is what Loki returns
 * inside `error parsing labels '<s>' with error: <msg>`.
 *
 * Clients resend the same label strings on every push, so the distributor goes through {@link LabelsCache}.
 */

const CH_TAB = 9;
const CH_LF = 10;
const CH_CR = 13;
const CH_SPACE = 32;
const CH_DQUOTE = 34;
const CH_SQUOTE = 39;
const CH_COMMA = 44;
const CH_EQ = 61;
const CH_BACKSLASH = 92;
const CH_BACKTICK = 96;
const CH_LBRACE = 123;
const CH_RBRACE = 125;

const isSpace = (c: number): boolean => c === CH_SPACE || c === CH_TAB || c === CH_LF || c === CH_CR;
const isAlpha = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Parses a stream label string into pairs sorted by name. Duplicate names are KEPT (adjacent, in input order) so
 * the validator can report them with Loki's message; pairs with an empty value are dropped, as Loki does.
 */
export function parseLabels(s: string): LabelPair[] {
  return new LabelParser(s).parse();
}

class LabelParser {
  private pos = 0;
  private readonly pairs: LabelPair[] = [];

  constructor(private readonly s: string) {}

  parse(): LabelPair[] {
    const s = this.s;
    this.skipSpace();
    if (this.pos < s.length && isAlpha(s.charCodeAt(this.pos))) {
      // `up{...}` is a valid metric for the Prometheus parser: the name is the `__name__` label.
      const name = this.metricName();
      this.add('__name__', name);
      this.skipSpace();
      if (s.charCodeAt(this.pos) !== CH_LBRACE) return this.remaining();
    }
    if (this.pos >= s.length) throw this.fail(this.pos, 'unexpected end of input');
    if (s.charCodeAt(this.pos) !== CH_LBRACE) {
      throw this.fail(this.pos, `unexpected character: ${quoteRune(s.codePointAt(this.pos)!)}`);
    }
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.pos >= s.length) throw this.fail(this.pos, 'unexpected end of input inside braces');
      let c = s.charCodeAt(this.pos);
      if (c === CH_RBRACE) {
        this.pos++;
        break;
      }
      if (!isAlpha(c)) throw this.unexpected('identifier or "}"');
      const nameStart = this.pos;
      do this.pos++;
      while (this.pos < s.length && (isAlpha((c = s.charCodeAt(this.pos))) || isDigit(c)));
      const name = s.slice(nameStart, this.pos);
      this.skipSpace();
      if (this.pos >= s.length) throw this.fail(this.pos, 'unexpected end of input inside braces');
      if (s.charCodeAt(this.pos) !== CH_EQ || s.charCodeAt(this.pos + 1) === 126 /* =~ */) {
        throw this.unexpected('"="');
      }
      this.pos++;
      this.skipSpace();
      if (this.pos >= s.length) throw this.fail(this.pos, 'unexpected end of input inside braces');
      c = s.charCodeAt(this.pos);
      if (c !== CH_DQUOTE && c !== CH_SQUOTE && c !== CH_BACKTICK) throw this.unexpected('string');
      this.add(name, this.string());
      this.skipSpace();
      if (this.pos >= s.length) throw this.fail(this.pos, 'unexpected end of input inside braces');
      c = s.charCodeAt(this.pos);
      if (c === CH_COMMA) {
        this.pos++; // a trailing comma before "}" is allowed
      } else if (c === CH_RBRACE) {
        this.pos++;
        break;
      } else {
        throw this.unexpected('"," or "}"');
      }
    }
    this.skipSpace();
    return this.remaining();
  }

  private remaining(): LabelPair[] {
    const s = this.s;
    if (this.pos < s.length) {
      throw this.fail(this.pos, `could not parse remaining input ${goQuote(truncateRunes(s.slice(this.pos), 15))}...`);
    }
    return this.finish();
  }

  private finish(): LabelPair[] {
    const pairs = this.pairs;
    // Clients usually send sorted labels: check before paying for a sort. Array.prototype.sort is stable, which
    // keeps duplicates in input order.
    for (let i = 1; i < pairs.length; i++) {
      if (pairs[i - 1]![0] > pairs[i]![0]) {
        pairs.sort(byName);
        break;
      }
    }
    return pairs;
  }

  private add(name: string, value: string): void {
    if (value !== '') this.pairs.push([name, value]);
  }

  private metricName(): string {
    const s = this.s;
    const start = this.pos;
    let c: number;
    while (this.pos < s.length && (isAlpha((c = s.charCodeAt(this.pos))) || isDigit(c) || c === 58 /* : */)) {
      this.pos++;
    }
    return s.slice(start, this.pos);
  }

  private skipSpace(): void {
    const s = this.s;
    while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
  }

  /** Reads a quoted string starting at `pos` (on the opening quote) and returns its unquoted value. */
  private string(): string {
    const s = this.s;
    const open = s.charCodeAt(this.pos);
    const start = this.pos + 1;
    if (open === CH_BACKTICK) {
      const end = s.indexOf('`', start);
      if (end < 0) throw this.fail(this.pos, 'unterminated raw string');
      this.pos = end + 1;
      return s.slice(start, end);
    }
    // Fast path: no escapes. A newline ends a quoted string in the Prometheus lexer (it is an error).
    for (let i = start; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === open) {
        this.pos = i + 1;
        return s.slice(start, i);
      }
      if (c === CH_BACKSLASH) return this.escapedString(open, start);
      if (c === CH_LF) break;
    }
    throw this.fail(this.pos, 'unterminated quoted string');
  }

  /** Slow path: Go escapes (`\n`, `\x41`, `\101`, `\u00e9`, `\U0001F600`). `\x` and octal escapes are raw bytes. */
  private escapedString(open: number, start: number): string {
    const s = this.s;
    const quotePos = this.pos;
    const bytes: number[] = [];
    const pushCodePoint = (cp: number): void => {
      if (cp < 0x80) bytes.push(cp);
      else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
      else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
      else bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    };
    let i = start;
    for (;;) {
      if (i >= s.length) throw this.fail(quotePos, 'unterminated quoted string');
      const cp = s.codePointAt(i)!;
      if (cp === open) {
        this.pos = i + 1;
        return Buffer.from(bytes).toString('utf8');
      }
      if (cp === CH_LF) throw this.fail(quotePos, 'unterminated quoted string');
      if (cp !== CH_BACKSLASH) {
        pushCodePoint(cp);
        i += cp > 0xffff ? 2 : 1;
        continue;
      }
      i++;
      if (i >= s.length) throw this.fail(quotePos, 'escape sequence not terminated');
      const e = s.codePointAt(i)!;
      i += e > 0xffff ? 2 : 1;
      switch (e) {
        case 97: bytes.push(7); continue; // \a
        case 98: bytes.push(8); continue; // \b
        case 102: bytes.push(12); continue; // \f
        case 110: bytes.push(10); continue; // \n
        case 114: bytes.push(13); continue; // \r
        case 116: bytes.push(9); continue; // \t
        case 118: bytes.push(11); continue; // \v
        case CH_BACKSLASH: bytes.push(CH_BACKSLASH); continue;
        case open: bytes.push(open); continue;
      }
      let digits: number;
      let base: number;
      let max: number;
      let first: number;
      if (e >= 48 && e <= 55) {
        [digits, base, max, first] = [3, 8, 255, e];
      } else if (e === 120 /* x */ || e === 117 /* u */ || e === 85 /* U */) {
        [digits, base, max] = e === 120 ? [2, 16, 255] : e === 117 ? [4, 16, 0x10ffff] : [8, 16, 0x10ffff];
        if (i >= s.length) throw this.fail(quotePos, 'escape sequence not terminated');
        first = s.codePointAt(i)!;
        i += first > 0xffff ? 2 : 1;
      } else {
        throw this.fail(quotePos, `unknown escape sequence ${goRuneU(e)}`);
      }
      let x = 0;
      let ch = first;
      for (;;) {
        const d = digitVal(ch);
        if (d >= base) throw this.fail(quotePos, `illegal character ${goRuneU(ch)} in escape sequence`);
        x = x * base + d;
        if (--digits === 0) break;
        if (i >= s.length) throw this.fail(quotePos, 'escape sequence not terminated');
        ch = s.codePointAt(i)!;
        i += ch > 0xffff ? 2 : 1;
      }
      if (x > max || (x >= 0xd800 && x < 0xe000)) {
        throw this.fail(quotePos, 'escape sequence is an invalid Unicode code point');
      }
      if (e === 117 || e === 85) pushCodePoint(x);
      else bytes.push(x);
    }
  }

  private unexpected(expected: string): Error {
    return this.fail(this.pos, `unexpected ${this.describeToken()} in label set, expected ${expected}`);
  }

  /** Describes the token at `pos` the way the Prometheus parser names it in its errors. */
  private describeToken(): string {
    const s = this.s;
    const c = s.charCodeAt(this.pos);
    if (isAlpha(c)) {
      let end = this.pos + 1;
      while (end < s.length && (isAlpha(s.charCodeAt(end)) || isDigit(s.charCodeAt(end)))) end++;
      return `identifier ${goQuote(s.slice(this.pos, end))}`;
    }
    if (c === CH_DQUOTE || c === CH_SQUOTE || c === CH_BACKTICK) return 'string';
    const two = s.slice(this.pos, this.pos + 2);
    if (two === '!=' || two === '=~' || two === '!~') return `"${two}"`;
    if (c === CH_EQ || c === CH_COMMA || c === CH_RBRACE || c === CH_LBRACE) return `"${s[this.pos]}"`;
    if (isDigit(c)) return 'number';
    return `character ${quoteRune(s.codePointAt(this.pos)!)}`;
  }

  /** Prometheus reports the 1-based line and byte column of the offending token. */
  private fail(pos: number, msg: string): Error {
    const before = this.s.slice(0, pos);
    const lastLf = before.lastIndexOf('\n');
    let line = 1;
    for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++;
    const col = Buffer.byteLength(before.slice(lastLf + 1)) + 1;
    return badRequest(`${line}:${col}: parse error: ${msg}`);
  }
}

function digitVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 97 + 10;
  if (c >= 65 && c <= 70) return c - 65 + 10;
  return 16;
}

const byName = (a: LabelPair, b: LabelPair): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

function truncateRunes(s: string, n: number): string {
  return Array.from(s).slice(0, n).join('');
}

/** Go's `%#U`: `U+0071 'q'`. */
function goRuneU(cp: number): string {
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return isPrint(cp) ? `U+${hex} '${String.fromCodePoint(cp)}'` : `U+${hex}`;
}

// --- printing -------------------------------------------------------------------------------------------------

/** Canonical form of a label set, as Prometheus' labels.String(): `{a="b", c="d"}`. Pairs are printed in order. */
export function labelsString(pairs: Labels): string {
  let out = '{';
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!;
    if (i > 0) out += ', ';
    out += name + '=' + goQuote(value);
  }
  return out + '}';
}

// --- cache ----------------------------------------------------------------------------------------------------

export interface ParsedLabels {
  /** Sorted by name; duplicates kept; frozen because the same object is shared by every push that hits it. */
  readonly pairs: Labels;
  /** {@link labelsString} of `pairs`. */
  readonly canonical: string;
}

/**
 * Raw label string → parsed labels. Bounded to about `maxEntries`; two generations approximate LRU without
 * per-hit bookkeeping: when the young generation fills up it becomes the old one and the previous old one is
 * dropped; an entry found in the old generation is promoted. Parse errors are not cached.
 */
export class LabelsCache {
  private young = new Map<string, ParsedLabels>();
  private old = new Map<string, ParsedLabels>();
  private readonly generationSize: number;

  /** `transform` rewrites parsed labels before they are cached (the distributor adds `service_name`). */
  constructor(
    maxEntries = 65_536,
    private readonly transform: (pairs: LabelPair[]) => readonly LabelPair[] = (pairs) => pairs,
  ) {
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2));
  }

  /** Parsed labels for `raw`; throws EngineError('bad_request') when `raw` does not parse. */
  get(raw: string): ParsedLabels {
    let hit = this.young.get(raw);
    if (hit !== undefined) return hit;
    hit = this.old.get(raw);
    if (hit === undefined) {
      const pairs = [...this.transform(parseLabels(raw))];
      for (const p of pairs) Object.freeze(p);
      hit = Object.freeze({ pairs: Object.freeze(pairs), canonical: labelsString(pairs) });
    }
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(raw, hit);
    return hit;
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
