import { EngineError } from '../../errors.js';
import { parseHumanBytes } from '../../util/go/bytes.js';
import { parseLokiDuration, parsePromDuration } from '../../util/go/duration.js';

/**
 * LogQL's lexer, reproducing Loki's (a Go text/scanner with LogQL rules on top) token for token, because Loki's
 * error messages name tokens and positions. Token kinds are the names Loki's parser prints: the keyword or
 * operator text for tokens Loki maps to text (`{`, `|=`, `by`, `json`, `ip`…), the grammar name for the rest
 * (IDENTIFIER, STRING, NUMBER, DURATION, BYTES, RANGE, FUNCTION_FLAG, SUM, RATE, VECTOR, BYTES_CONV…), `$end` at
 * the end. A lexical error becomes an ERROR token so that it is reported only if the parser gets that far, as Loki
 * reports whichever error comes first in the text.
 */

export type TokenKind = string;

export interface Token {
  kind: TokenKind;
  /** Source text; for STRING the unquoted value; for ERROR the message. */
  text: string;
  /** Line as Loki reports it: 0 for tokens its lexer reads ahead for (two-character operators, ranges, units). */
  line: number;
  col: number;
  /** Nanoseconds for DURATION and RANGE. */
  duration?: bigint;
  /** Bytes for BYTES. */
  bytes?: number;
}

/** A LogQL syntax error in Loki's form: `parse error at line L, col C: <message>` (`parse error : <message>` at 0,0). */
export function parseError(line: number, col: number, message: string): EngineError {
  return new EngineError(
    'bad_request',
    line === 0 && col === 0 ? `parse error : ${message}` : `parse error at line ${line}, col ${col}: ${message}`,
  );
}

/** Keywords wherever they appear (Loki's `tokens` map, matched case-insensitively). */
const KEYWORDS = new Set([
  'by',
  'without',
  'bool',
  'offset',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'or',
  'and',
  'unless',
  'json',
  'regexp',
  'logfmt',
  'unpack',
  'pattern',
  'label_format',
  'line_format',
  'decolorize',
  'drop',
  'keep',
  'unwrap',
]);

/** Keywords only when a `(` follows, possibly after `by (…)`/`without (…)` (Loki's `functionTokens`). */
const FUNCTION_TOKENS: Record<string, TokenKind> = {
  rate: 'RATE',
  rate_counter: 'RATE_COUNTER',
  count_over_time: 'COUNT_OVER_TIME',
  bytes_rate: 'BYTES_RATE',
  bytes_over_time: 'BYTES_OVER_TIME',
  avg_over_time: 'AVG_OVER_TIME',
  sum_over_time: 'SUM_OVER_TIME',
  min_over_time: 'MIN_OVER_TIME',
  max_over_time: 'MAX_OVER_TIME',
  stdvar_over_time: 'STDVAR_OVER_TIME',
  stddev_over_time: 'STDDEV_OVER_TIME',
  quantile_over_time: 'QUANTILE_OVER_TIME',
  first_over_time: 'FIRST_OVER_TIME',
  last_over_time: 'LAST_OVER_TIME',
  absent_over_time: 'ABSENT_OVER_TIME',
  vector: 'VECTOR',
  sum: 'SUM',
  avg: 'AVG',
  max: 'MAX',
  min: 'MIN',
  count: 'COUNT',
  stddev: 'STDDEV',
  stdvar: 'STDVAR',
  bottomk: 'BOTTOMK',
  topk: 'TOPK',
  sort: 'SORT',
  sort_desc: 'SORT_DESC',
  approx_topk: 'APPROX_TOPK',
  // Both a function and a keyword in Loki, so printed by its text.
  label_replace: 'label_replace',
  ip: 'ip',
  bytes: 'BYTES_CONV',
  duration: 'DURATION_CONV',
  duration_seconds: 'DURATION_SECONDS_CONV',
};

/** Two-character operators; Loki's lexer reads the second character ahead, which reports them at line 0. */
const TWO_CHAR = new Set(['!=', '=~', '!~', '!>', '|=', '|~', '|>', '==', '>=', '<=']);
const ONE_CHAR = new Set([',', '.', '{', '}', '=', '|', '(', ')', ']', '+', '-', '*', '/', '%', '^', '>', '<']);

const PARSER_FLAGS = new Set(['--strict', '--keep-empty']);

const DURATION_RUNE = /[0-9.nuµmshdwy]/u;
const BYTES_RUNE = /[0-9.BikKMGTP]/;
const IDENT_START = /[\p{L}_]/u;
const IDENT_PART = /[\p{L}\p{Nd}_]/u;
const GO_SPACE = /[ \t\n\r]/;
const UNICODE_SPACE = /\s/u;

class Lexer {
  private i = 0;
  private line = 1;
  private lineStart = 0;
  // Columns are counted incrementally: tokens come in order, and long one-line queries must stay linear.
  private colAt = 0;
  private colValue = 1;
  private readonly out: Token[] = [];

  constructor(private readonly src: string) {}

  /** Column (1-based, in code points) of index `at` on the current line. */
  private col(at: number): number {
    if (this.colAt < this.lineStart || at < this.colAt) {
      this.colAt = this.lineStart;
      this.colValue = 1;
    }
    for (let k = this.colAt; k < at; k++) {
      const c = this.src.charCodeAt(k);
      if (c < 0xdc00 || c > 0xdfff) this.colValue++;
    }
    this.colAt = at;
    return this.colValue;
  }

  /** Moves to `to`, keeping line numbers right across newlines (raw strings, comments). */
  private advance(to: number): void {
    for (let k = this.i; k < to; k++) {
      if (this.src[k] === '\n') {
        this.line++;
        this.lineStart = k + 1;
      }
    }
    this.i = to;
  }

  private push(kind: TokenKind, text: string, start: number, lookahead: boolean, extra?: Partial<Token>): void {
    this.out.push({ kind, text, line: lookahead ? 0 : this.line, col: this.col(start), ...extra });
  }

  /** Stops lexing with an error token; the parser reports it when it reaches it. */
  private fail(message: string, start: number, lookahead = false): void {
    this.push('ERROR', message, start, lookahead);
  }

  run(): Token[] {
    const s = this.src;
    for (;;) {
      while (this.i < s.length && GO_SPACE.test(s[this.i]!)) this.advance(this.i + 1);
      if (this.i >= s.length) {
        if (s.length === 0) this.out.push({ kind: '$end', text: '', line: 0, col: 0 });
        else this.out.push({ kind: '$end', text: '', line: this.line, col: this.col(this.i) });
        return this.out;
      }
      const start = this.i;
      const c = s[start]!;
      if (c === '#') {
        const nl = s.indexOf('\n', start);
        this.i = nl < 0 ? s.length : nl;
        continue;
      }
      if (c === '/' && s[start + 1] === '/') {
        const nl = s.indexOf('\n', start);
        this.i = nl < 0 ? s.length : nl;
        continue;
      }
      if (c === '/' && s[start + 1] === '*') {
        const end = s.indexOf('*/', start + 2);
        if (end < 0) {
          this.fail('comment not terminated', start);
          return this.out;
        }
        this.advance(end + 2);
        continue;
      }
      if (IDENT_START.test(String.fromCodePoint(s.codePointAt(start)!))) {
        this.identifier(start);
        continue;
      }
      if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(s[start + 1] ?? ''))) {
        if (!this.number(start)) return this.out;
        continue;
      }
      if (c === '"' || c === '`' || c === "'") {
        if (!this.string(start)) return this.out;
        continue;
      }
      if (c === '[') {
        this.range(start);
        if (this.out[this.out.length - 1]!.kind === 'ERROR') return this.out;
        continue;
      }
      if (c === '-' && this.negative(start)) continue;
      const two = s.slice(start, start + 2);
      if (TWO_CHAR.has(two)) {
        this.i += 2;
        this.push(two, two, start, true);
        continue;
      }
      if (ONE_CHAR.has(c)) {
        this.i++;
        this.push(c, c, start, false);
        continue;
      }
      // Loki's lexer returns any other character as an IDENTIFIER, which the parser then rejects.
      const ch = String.fromCodePoint(s.codePointAt(start)!);
      this.i += ch.length;
      this.push('IDENTIFIER', ch, start, false);
    }
  }

  private identifier(start: number): void {
    const s = this.src;
    let j = start;
    while (j < s.length) {
      const ch = String.fromCodePoint(s.codePointAt(j)!);
      if (!IDENT_PART.test(ch)) break;
      j += ch.length;
    }
    const text = s.slice(start, j);
    this.i = j;
    const lower = text.toLowerCase();
    const fn = FUNCTION_TOKENS[lower];
    if (fn !== undefined) {
      this.push(isFunction(s, j) ? fn : 'IDENTIFIER', text, start, false);
      return;
    }
    this.push(KEYWORDS.has(lower) ? lower : 'IDENTIFIER', text, start, false);
  }

  /** A Go number literal, then Loki's attempt to read a duration (`5m`) or a byte size (`10KB`) on from it. */
  private number(start: number): boolean {
    const s = this.src;
    const m = /^(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]*)?|[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]*)?)/.exec(
      s.slice(start),
    )!;
    const text = m[0];
    const expo = /[eE]([+-]?)(.*)$/.exec(text);
    if (!/^0[xX]/.test(text) && expo !== null && !/[0-9]/.test(expo[2]!)) {
      this.fail('exponent has no digits', start);
      return false;
    }
    const octal = /^0([0-7]*)([89])[0-9]*$/.exec(text);
    if (octal !== null) {
      this.fail(`invalid digit '${octal[2]}' in octal literal`, start);
      return false;
    }
    const j = start + text.length;
    const run = (re: RegExp): string => {
      let k = j;
      while (k < s.length && !UNICODE_SPACE.test(s[k]!) && re.test(s[k]!)) k++;
      return s.slice(j, k);
    };
    const dur = run(DURATION_RUNE);
    if (dur !== '') {
      const d = parseLokiDuration(text + dur);
      if (d !== undefined) {
        this.i = j + dur.length;
        this.push('DURATION', text + dur, start, true, { duration: d });
        return true;
      }
    }
    const size = run(BYTES_RUNE);
    if (size !== '') {
      const b = parseHumanBytes(text + size);
      if (typeof b === 'number') {
        this.i = j + size.length;
        this.push('BYTES', text + size, start, true, { bytes: b });
        return true;
      }
    }
    this.i = j;
    this.push('NUMBER', text, start, false);
    return true;
  }

  /** `-` may start a parser flag (`--strict`) or a negative duration (`offset -5m`); else it is a minus. */
  private negative(start: number): boolean {
    const s = this.src;
    if (s[start + 1] === '-') {
      const flag = /^-[\p{L}-]*/u.exec(s.slice(start))![0];
      if (PARSER_FLAGS.has(flag)) {
        this.i = start + flag.length;
        this.push('FUNCTION_FLAG', flag, start, true);
        return true;
      }
    }
    let k = start + 1;
    while (k < s.length && !UNICODE_SPACE.test(s[k]!) && DURATION_RUNE.test(s[k]!)) k++;
    if (k === start + 1) return false;
    const d = parseLokiDuration(s.slice(start, k));
    if (d === undefined) return false;
    this.i = k;
    this.push('DURATION', s.slice(start, k), start, true, { duration: d });
    return true;
  }

  /** `[5m]`: read whole, as Loki's lexer does, and parsed as a Prometheus duration. */
  private range(start: number): void {
    const s = this.src;
    const end = s.indexOf(']', start + 1);
    if (end < 0) {
      this.fail("missing closing ']' in duration", start, true);
      return;
    }
    const body = s.slice(start + 1, end);
    const d = parsePromDuration(body);
    if (typeof d !== 'bigint') {
      this.fail(d.message, start, true);
      return;
    }
    this.advance(end + 1);
    this.push('RANGE', s.slice(start, end + 1), start, true, { duration: d });
  }

  /** "…" with Go escapes, `…` raw, '…' a Go character literal (which LogQL then rejects as an IDENTIFIER). */
  private string(start: number): boolean {
    const s = this.src;
    const quote = s[start]!;
    if (quote === '`') {
      const end = s.indexOf('`', start + 1);
      if (end < 0) {
        this.fail('literal not terminated', start);
        return false;
      }
      // Go drops carriage returns from raw strings.
      const value = s.slice(start + 1, end).replace(/\r/g, '');
      const line = this.line;
      const col = this.col(start);
      this.advance(end + 1);
      this.out.push({ kind: 'STRING', text: value, line, col });
      return true;
    }
    const r = readQuoted(s, start + 1, quote);
    if (typeof r === 'string') {
      this.fail(r, start);
      return false;
    }
    this.i = r.end;
    if (quote === "'") {
      if (r.runes !== 1) {
        this.fail('invalid char literal', start);
        return false;
      }
      this.push('IDENTIFIER', s.slice(start, r.end), start, false);
      return true;
    }
    this.push('STRING', r.value, start, false);
    return true;
  }
}

/**
 * Reads a Go-quoted string body from `i` (after the opening quote): returns the value and the index after the
 * closing quote, or Go's error text. Escaped bytes (`\xc3\xa9`) are decoded as UTF-8, as Go's strings hold bytes.
 */
function readQuoted(s: string, i: number, quote: string): { value: string; end: number; runes: number } | string {
  const bytes: number[] = [];
  let runes = 0;
  // Go's scanner reports bad escapes before strconv's unquoting reports bad values.
  let scanError: string | undefined;
  let valueError: string | undefined;
  const pushText = (t: string): void => {
    for (const b of Buffer.from(t, 'utf8')) bytes.push(b);
  };
  while (i < s.length) {
    const c = s[i]!;
    if (c === quote) {
      if (scanError !== undefined) return scanError;
      if (valueError !== undefined) return valueError;
      return { value: Buffer.from(bytes).toString('utf8'), end: i + 1, runes };
    }
    if (c === '\n') break;
    runes++;
    if (c !== '\\') {
      const ch = String.fromCodePoint(s.codePointAt(i)!);
      pushText(ch);
      i += ch.length;
      continue;
    }
    const e = s[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        bytes.push(7);
        continue;
      case 'b':
        bytes.push(8);
        continue;
      case 'f':
        bytes.push(12);
        continue;
      case 'n':
        bytes.push(10);
        continue;
      case 'r':
        bytes.push(13);
        continue;
      case 't':
        bytes.push(9);
        continue;
      case 'v':
        bytes.push(11);
        continue;
      case '\\':
        bytes.push(92);
        continue;
      case undefined:
        break;
    }
    if (e === undefined) break;
    if (e === quote) {
      pushText(e);
      continue;
    }
    if (e >= '0' && e <= '7') {
      const oct = s.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(oct)) {
        scanError ??= 'invalid char escape';
        continue;
      }
      i += 2;
      const v = parseInt(oct, 8);
      if (v > 255) valueError ??= 'invalid syntax';
      else bytes.push(v);
      continue;
    }
    const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (width === 0) {
      scanError ??= 'invalid char escape';
      continue;
    }
    const hexDigits = s.slice(i, i + width);
    if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hexDigits)) {
      scanError ??= 'invalid char escape';
      continue;
    }
    i += width;
    const v = parseInt(hexDigits, 16);
    if (e === 'x') bytes.push(v);
    else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) valueError ??= 'invalid syntax';
    else pushText(String.fromCodePoint(v));
  }
  return scanError ?? 'literal not terminated';
}

/**
 * Loki's isFunction: after a function name, the next non-space text is `(`, or `by`/`without` followed by `(`
 * (as in `sum by (x) (…)`).
 */
function isFunction(s: string, i: number): boolean {
  const skip = (k: number): number => {
    while (k < s.length && UNICODE_SPACE.test(s[k]!)) k++;
    return k;
  };
  let k = skip(i);
  if (s[k] === '(') return true;
  const word = /^(by|without)/i.exec(s.slice(k));
  if (word === null) return false;
  k = skip(k + word[0].length);
  return s[k] === '(';
}

/** Splits a query into Loki's tokens, ending with `$end` (or an ERROR token where lexing failed). */
export function tokenize(src: string): Token[] {
  return new Lexer(src).run();
}
