/**
 * `| logfmt [--strict] [--keep-empty] [params]`: Loki's logfmt decoder (a fork of go-logfmt working on bytes) and
 * the two parser stages built on it. Positions in error messages are 1-based byte offsets, as in Loki.
 */
import { quoteRune } from '../../util/go/quote.js';
import {
  CollectingTarget,
  EXTRACTED_SUFFIX,
  isValidLabelName,
  KeyCache,
  LOGFMT_PARSER_ERR,
  PRESERVE_ERROR_LABEL,
  sanitizeKeyBytes,
  type ParseResult,
  type ParseTarget,
} from './label-names.js';
import type { LabelExtraction } from './json.js';
import type { ParserHints } from './parser-hints.js';
import { asBuffer, hasRuneError, labelValue, putRune } from './utf8.js';

/**
 * Scans one line of key/value pairs. After `scan()` returns true, the key is bytes [keyStart, keyEnd) and the value
 * is [valStart, valEnd) of `valBuf` (the line itself, or an unquoting scratch buffer); `valEnd < 0` means no value.
 */
export class LogfmtDecoder {
  line: Buffer = Buffer.alloc(0);
  pos = 0;
  keyStart = 0;
  keyEnd = -1;
  /** KeyCache.hash of the key bytes. */
  keyHash = 0;
  valBuf: Buffer = this.line;
  valStart = 0;
  valEnd = -1;
  valAscii = true;
  /** Last syntax error (`logfmt syntax error at pos N : msg`), overwritten by later ones as in Loki. */
  err: string | undefined;
  private scratch = Buffer.allocUnsafe(256);

  reset(line: Buffer): void {
    this.line = line;
    this.pos = 0;
    this.err = undefined;
  }

  eol(): boolean {
    return this.pos >= this.line.length;
  }

  private syntaxError(msg: string): void {
    this.err = `logfmt syntax error at pos ${this.pos + 1} : ${msg}`;
  }

  private unexpected(c: number): void {
    // go-logfmt formats the byte with %q, which quotes it as the rune of the same value.
    this.syntaxError(`unexpected ${quoteRune(c)}`);
  }

  /** Loki's Decoder.ScanKeyval. */
  scan(): boolean {
    this.keyEnd = -1;
    this.valEnd = -1;
    const line = this.line;
    const n = line.length;
    let p = this.pos;
    while (p < n && line[p]! <= 0x20) p++;
    if (p >= n) {
      this.pos = n;
      return false;
    }
    // key (its FNV-1a hash is computed on the way, for the parsers' key caches)
    const start = p;
    let multibyte = false;
    let h = 0x811c9dc5 | 0;
    for (; p < n; p++) {
      const c = line[p]!;
      if (c > 0x3d) {
        // fast path: letters and `_`, the bulk of key bytes
        if (c >= 0x80) multibyte = true;
        h = Math.imul(h ^ c, 0x01000193);
        continue;
      }
      if (c === 0x3d) {
        this.keyHash = h;
        this.pos = p;
        if (p > start) {
          if (multibyte && hasRuneError(line, start, p)) {
            this.syntaxError('invalid key');
            return this.skipValue();
          }
          this.keyStart = start;
          this.keyEnd = p;
        }
        if (this.keyEnd < 0) {
          this.unexpected(c);
          return this.skipValue();
        }
        return this.equal();
      }
      if (c === 0x22) {
        this.pos = p;
        this.unexpected(c);
        return this.skipValue();
      }
      if (c <= 0x20) {
        this.pos = p;
        this.keyHash = h;
        if (p > start) {
          if (multibyte && hasRuneError(line, start, p)) {
            this.syntaxError('invalid key');
            return false;
          }
          this.keyStart = start;
          this.keyEnd = p;
        }
        return true;
      }
      h = Math.imul(h ^ c, 0x01000193);
    }
    this.pos = n;
    this.keyHash = h;
    if (n > start) {
      if (multibyte && hasRuneError(line, start, n)) {
        this.syntaxError('invalid key');
        return false;
      }
      this.keyStart = start;
      this.keyEnd = n;
    }
    return true;
  }

  private equal(): boolean {
    const line = this.line;
    const n = line.length;
    let p = ++this.pos;
    if (p >= n) return true;
    const c0 = line[p]!;
    if (c0 <= 0x20) return true;
    if (c0 === 0x22) return this.qvalue();
    const start = p;
    let ascii = true;
    for (; p < n; p++) {
      const c = line[p]!;
      if (c === 0x3d || c === 0x22) {
        this.pos = p;
        this.unexpected(c);
        return this.skipValue();
      }
      if (c <= 0x20) break;
      if (c >= 0x80) ascii = false;
    }
    this.pos = p;
    if (p > start) {
      this.valBuf = line;
      this.valStart = start;
      this.valEnd = p;
      this.valAscii = ascii;
    }
    return true;
  }

  private skipValue(): false {
    const line = this.line;
    let p = this.pos;
    while (p < line.length && line[p]! > 0x20) p++;
    this.pos = p;
    return false;
  }

  private qvalue(): boolean {
    const line = this.line;
    const n = line.length;
    const start = this.pos;
    let hasEsc = false;
    let esc = false;
    let ascii = true;
    for (let p = start + 1; p < n; p++) {
      const c = line[p]!;
      if (esc) {
        esc = false;
      } else if (c === 0x5c) {
        hasEsc = true;
        esc = true;
      } else if (c === 0x22) {
        this.pos = p + 1;
        if (hasEsc) {
          const w = this.unquote(start + 1, p);
          if (w < 0) {
            this.syntaxError('invalid quoted value');
            return false;
          }
          if (w > 0) {
            this.valBuf = this.scratch;
            this.valStart = 0;
            this.valEnd = w;
            this.valAscii = false;
          }
        } else if (p > start + 1) {
          this.valBuf = line;
          this.valStart = start + 1;
          this.valEnd = p;
          this.valAscii = ascii;
        }
        return true;
      } else if (c >= 0x80) {
        ascii = false;
      }
    }
    this.pos = n;
    this.syntaxError('unterminated quoted value');
    return false;
  }

  /** go-logfmt's unquoteBytes (JSON-style escapes, plus `\'`) into the scratch buffer; -1 when invalid. */
  private unquote(s: number, e: number): number {
    const b = this.line;
    if (this.scratch.length < (e - s) * 2 + 8) this.scratch = Buffer.allocUnsafe((e - s) * 2 + 8);
    const out = this.scratch;
    let w = 0;
    let r = s;
    while (r < e) {
      const c = b[r]!;
      if (c === 0x5c) {
        r++;
        if (r >= e) return -1;
        const x = b[r]!;
        switch (x) {
          case 0x22:
          case 0x5c:
          case 0x2f:
          case 0x27:
            out[w++] = x;
            r++;
            break;
          case 0x62:
            out[w++] = 0x08;
            r++;
            break;
          case 0x66:
            out[w++] = 0x0c;
            r++;
            break;
          case 0x6e:
            out[w++] = 0x0a;
            r++;
            break;
          case 0x72:
            out[w++] = 0x0d;
            r++;
            break;
          case 0x74:
            out[w++] = 0x09;
            r++;
            break;
          case 0x75: {
            let rr = getu4(b, r - 1, e);
            if (rr < 0) return -1;
            r += 5;
            if (rr >= 0xd800 && rr <= 0xdfff) {
              const rr1 = getu4(b, r, e);
              if (rr < 0xdc00 && rr1 >= 0xdc00 && rr1 <= 0xdfff) {
                r += 6;
                w = putRune(out, w, ((rr - 0xd800) << 10) + (rr1 - 0xdc00) + 0x10000);
                break;
              }
              rr = 0xfffd;
            }
            w = putRune(out, w, rr);
            break;
          }
          default:
            return -1;
        }
      } else if (c === 0x22) {
        return -1;
      } else {
        // Literal control characters are kept (Loki's fork accepts them; see its parser tests).
        out[w++] = c;
        r++;
      }
    }
    return w;
  }
}

function getu4(b: Uint8Array, i: number, e: number): number {
  if (i + 6 > e || b[i] !== 0x5c || b[i + 1] !== 0x75) return -1;
  let r = 0;
  for (let k = 2; k < 6; k++) {
    const c = b[i + k]!;
    const h = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (h < 0) return -1;
    r = (r << 4) | h;
  }
  return r;
}

export interface LogfmtOptions {
  /** `--strict`: stop at the first malformed pair and set `__error__=LogfmtParserErr`. */
  strict?: boolean;
  /** `--keep-empty`: keep standalone keys as labels with an empty value. */
  keepEmpty?: boolean;
}

/** `| logfmt` without parameters. Compile once per query; `process` runs per line. */
export class LogfmtParser {
  private readonly dec = new LogfmtDecoder();
  private readonly keys = new KeyCache<string>();
  private readonly strict: boolean;
  private readonly keepEmpty: boolean;

  /** `hints`: a metric query's parser hints (parser-hints.ts); without them every key is extracted. */
  constructor(
    opts: LogfmtOptions = {},
    private readonly hints?: ParserHints,
  ) {
    this.strict = opts.strict === true;
    this.keepEmpty = opts.keepEmpty === true;
  }

  process(line: Buffer, target: ParseTarget): void {
    const hints = this.hints;
    if (hints !== undefined && hints.skip()) return;
    const dec = this.dec;
    dec.reset(line);
    while (!dec.eol()) {
      if (!dec.scan()) {
        if (this.strict) break;
        continue;
      }
      const ks = dec.keyStart;
      const ke = dec.keyEnd;
      if (ke < 0) continue;
      const h = dec.keyHash;
      let name = this.keys.get(line, ks, ke, h);
      if (name === undefined) {
        name = sanitizeKeyBytes(line, ks, ke, true);
        this.keys.set(line, ks, ke, h, name);
      }
      if (name.length === 0) continue;
      const label = target.baseHas(name) ? name + EXTRACTED_SUFFIX : name;
      if (hints !== undefined && !hints.wants(label)) continue;
      if (dec.valEnd < 0) {
        if (!this.keepEmpty) continue;
        target.set(label, '');
      } else {
        target.set(label, labelValue(dec.valBuf, dec.valStart, dec.valEnd, dec.valAscii));
      }
      if (hints !== undefined && hints.allExtracted()) break;
    }
    if (this.strict && dec.err !== undefined) {
      target.setError(LOGFMT_PARSER_ERR, dec.err);
      if (hints?.preserveError === true) target.set(PRESERVE_ERROR_LABEL, 'true');
    }
  }
}

/** Validates `| logfmt` parameters (Loki's messages) and gives, per label, the logfmt key it extracts. */
function compileLogfmtExpressions(params: readonly LabelExtraction[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const { name, expr } of params) {
    const path = parseLogfmtExpression(expr);
    if (typeof path === 'string') throw new Error(`cannot parse expression [${expr}]: ${path}`);
    if (!isValidLabelName(name)) throw new Error(`invalid extracted label name '${name}'`);
    // Loki looks the key up as fmt.Sprintf("%v", path...): the first element, any others appended as EXTRA.
    const extra = path.slice(1).map((p) => `string=${p}`);
    out.set(name, extra.length === 0 ? path[0]! : `${path[0]}%!(EXTRA ${extra.join(', ')})`);
  }
  return out;
}

/**
 * Loki's logfmt expression grammar (pkg/logql/log/logfmt): a KEY ([A-Za-z_][A-Za-z0-9_]*), then any number of
 * "strings" (a string runs to `"`, `]` or the end), or strings alone; spaces, tabs and newlines separate tokens.
 * Returns the tokens' values, or the error text Loki reports: a bad character ends the input with
 * `unexpected char X` unless the tokens read so far cannot stand alone, which is the parser's syntax error.
 */
export function parseLogfmtExpression(expr: string): string[] | string {
  const chars = [...expr];
  let i = 0;
  let lexError: string | undefined;
  const next = (): { kind: 'KEY' | 'STRING'; value: string } | undefined => {
    for (;;) {
      const c = chars[i];
      if (c === undefined || c === '\0') return undefined;
      i++;
      if (c === ' ' || c === '\t' || c === '\n') continue;
      if (/[A-Za-z_]/.test(c)) {
        let v = c;
        while (i < chars.length && /[A-Za-z0-9_]/.test(chars[i]!)) v += chars[i++];
        return { kind: 'KEY', value: v };
      }
      if (c === '"') {
        let v = '';
        while (i < chars.length && chars[i] !== '\0') {
          const d = chars[i++]!;
          if (d === '"' || d === ']') break;
          v += d;
        }
        return { kind: 'STRING', value: v };
      }
      lexError = `unexpected char ${c}`;
      return undefined;
    }
  };
  const values: string[] = [];
  for (let t = next(); t !== undefined; t = next()) {
    if (t.kind === 'KEY' && values.length > 0) return 'syntax error: unexpected KEY';
    values.push(t.value);
  }
  if (values.length === 0) return 'syntax error: unexpected $end, expecting STRING or KEY';
  return lexError ?? values;
}

/**
 * `| logfmt a="key", b`: extracts only the named keys (renaming them). Requested labels are created empty up
 * front unless the stream has them, and values holding invalid UTF-8 become "" (Loki's behaviour).
 */
export class LogfmtExpressionParser {
  private readonly dec = new LogfmtDecoder();
  private readonly exprs: Map<string, string>;
  private readonly strict: boolean;

  constructor(
    params: readonly LabelExtraction[],
    opts: LogfmtOptions = {},
    private readonly hints?: ParserHints,
  ) {
    if (params.length === 0) throw new Error('no logfmt expression provided');
    this.exprs = compileLogfmtExpressions(params);
    this.strict = opts.strict === true;
  }

  process(line: Buffer, target: ParseTarget): void {
    if (this.hints !== undefined && this.hints.skip()) return;
    for (const id of this.exprs.keys()) if (!target.baseHas(id)) target.set(id, '');
    const dec = this.dec;
    dec.reset(line);
    while (!dec.eol()) {
      if (!dec.scan()) {
        if (this.strict) break;
        continue;
      }
      if (dec.keyEnd < 0) continue;
      let key = sanitizeKeyBytes(line, dec.keyStart, dec.keyEnd, true);
      if (key.length === 0) continue;
      let value = '';
      if (dec.valEnd >= 0 && !hasRuneError(dec.valBuf, dec.valStart, dec.valEnd)) {
        value = labelValue(dec.valBuf, dec.valStart, dec.valEnd, dec.valAscii);
      }
      for (const [id, orig] of this.exprs) {
        if (key === orig) {
          key = id;
          break;
        }
      }
      if (!this.exprs.has(key)) continue;
      if (target.baseHas(key)) key += EXTRACTED_SUFFIX;
      target.set(key, value);
    }
    if (this.strict && dec.err !== undefined) target.setError(LOGFMT_PARSER_ERR, dec.err);
  }
}

/**
 * Convenience form of `| logfmt` for callers off the hot path. `existing` are the stream's labels (for
 * `_extracted`).
 */
export function logfmt(
  line: Buffer | string,
  opts: LogfmtOptions = {},
  params?: readonly LabelExtraction[],
  existing: ReadonlySet<string> | ((name: string) => boolean) = new Set(),
): ParseResult {
  const target = new CollectingTarget(existing);
  const buf = asBuffer(line);
  if (params !== undefined && params.length > 0) new LogfmtExpressionParser(params, opts).process(buf, target);
  else new LogfmtParser(opts).process(buf, target);
  return target.result();
}
