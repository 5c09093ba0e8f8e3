/**
 * `| json` and `| json a="x.y[0]"`: label extraction from JSON lines with Loki's exact semantics. Loki walks the
 * line with grafana/jsonparser, which is lazy (it validates only what it walks) and has its own error texts; this
 * scanner walks the bytes the same way so the same lines fail with the same `__error_details__`.
 */
import {
  CollectingTarget,
  isValidLabelName,
  JSON_PARSER_ERR,
  KeyCache,
  PRESERVE_ERROR_LABEL,
  sanitizeKeyBytes,
  EXTRACTED_SUFFIX,
  type ParseResult,
  type ParseTarget,
} from './label-names.js';
import type { ParserHints } from './parser-hints.js';
import { asBuffer, labelValue, putRune } from './utf8.js';

// grafana/jsonparser error texts (they become `__error_details__`).
export const JSON_ERRORS = {
  keyPathNotFound: 'Key path not found',
  unknownValueType: 'Unknown value type',
  malformedJson: 'Malformed JSON error',
  malformedString: "Value is string, but can't find closing '\"' symbol",
  malformedArray: "Value is array, but can't find closing ']' symbol",
  malformedObject: "Value looks like object, but can't find closing '}' symbol",
  malformedStringEscape: 'Encountered an invalid escape sequence in a string',
} as const;

const enum T {
  NotExist = 0,
  String = 1,
  Number = 2,
  Object = 3,
  Array = 4,
  Boolean = 5,
  Null = 6,
}

const Q = 0x22; // "
const BS = 0x5c; // \

/** Index of the next non-whitespace byte in [i, end), or -1. */
function nextToken(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
  return -1;
}

// Scan state reported by stringEnd (module-level to avoid allocating a result object per string).
let sEscaped = false;
let sAscii = true;

/**
 * jsonparser's stringEnd: from just after an opening quote, the index just past the closing quote, or -1. A quote
 * closes the string unless an odd number of backslashes precedes it.
 */
function stringEnd(b: Uint8Array, i: number, end: number): number {
  let escaped = false;
  let ascii = true;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === Q) {
      if (!escaped) {
        sEscaped = false;
        sAscii = ascii;
        return i + 1;
      }
      let j = i - 1;
      let n = 0;
      while (b[j] === BS) {
        n++;
        j--;
      }
      if ((n & 1) === 0) {
        sEscaped = true;
        sAscii = ascii;
        return i + 1;
      }
    } else if (c === BS) {
      escaped = true;
    } else if (c >= 0x80) {
      ascii = false;
    }
  }
  sEscaped = escaped;
  sAscii = ascii;
  return -1;
}

/** jsonparser's blockEnd: index just past the matching close symbol (strings skipped), or -1. */
function blockEnd(b: Uint8Array, i: number, end: number, open: number, close: number): number {
  let level = 0;
  while (i < end) {
    const c = b[i]!;
    if (c === Q) {
      const se = stringEnd(b, i + 1, end);
      if (se === -1) return -1;
      i = se;
      continue;
    }
    if (c === open) level++;
    else if (c === close) {
      level--;
      if (level === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

/** jsonparser's tokenEnd: end of a number/boolean/null token. */
function tokenEnd(b: Uint8Array, i: number, end: number): number {
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c || c === 0x7d || c === 0x5d) return i;
  }
  return end;
}

function isLit(b: Uint8Array, s: number, e: number, lit: string): boolean {
  if (e - s !== lit.length) return false;
  for (let k = 0; k < lit.length; k++) if (b[s + k] !== lit.charCodeAt(k)) return false;
  return true;
}

// Result of getType (module-level scratch).
let vType: T = T.NotExist;
let vStart = 0; // value start (after the opening quote for strings)
let vEnd = 0; // value end (before the closing quote for strings)
let vNext = 0; // index just past the value
let vEscaped = false;
let vAscii = true;

/** jsonparser's getType at `i` (a non-space byte). Returns an error text or null. */
function getType(b: Uint8Array, i: number, end: number): string | null {
  const c = b[i]!;
  if (c === Q) {
    const se = stringEnd(b, i + 1, end);
    if (se === -1) return JSON_ERRORS.malformedString;
    vType = T.String;
    vStart = i + 1;
    vEnd = se - 1;
    vNext = se;
    vEscaped = sEscaped;
    vAscii = sAscii;
    return null;
  }
  if (c === 0x5b) {
    const be = blockEnd(b, i, end, 0x5b, 0x5d);
    if (be === -1) return JSON_ERRORS.malformedArray;
    vType = T.Array;
    vStart = i;
    vEnd = be;
    vNext = be;
    return null;
  }
  if (c === 0x7b) {
    const be = blockEnd(b, i, end, 0x7b, 0x7d);
    if (be === -1) return JSON_ERRORS.malformedObject;
    vType = T.Object;
    vStart = i;
    vEnd = be;
    vNext = be;
    return null;
  }
  const te = tokenEnd(b, i, end);
  if (c === 0x74 || c === 0x66) {
    if (!isLit(b, i, te, 'true') && !isLit(b, i, te, 'false')) return JSON_ERRORS.unknownValueType;
    vType = T.Boolean;
  } else if (c === 0x75 || c === 0x6e) {
    if (!isLit(b, i, te, 'null')) return JSON_ERRORS.unknownValueType;
    vType = T.Null;
  } else if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
    vType = T.Number;
  } else {
    return JSON_ERRORS.unknownValueType;
  }
  vStart = i;
  vEnd = te;
  vNext = te;
  vAscii = true;
  for (let k = i; k < te; k++) if (b[k]! >= 0x80) vAscii = false;
  return null;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function u4(b: Uint8Array, i: number, end: number): number {
  if (i + 6 > end || b[i] !== BS || b[i + 1] !== 0x75) return -1;
  let r = 0;
  for (let k = 2; k < 6; k++) {
    const h = hexVal(b[i + k]!);
    if (h < 0) return -1;
    r = (r << 4) | h;
  }
  return r;
}

let scratch = Buffer.allocUnsafe(256);
let uAscii = true;

/**
 * jsonparser.Unescape of [s, e) into the shared scratch buffer; returns the output length or -1 on an invalid
 * escape. Surrogates must come in valid pairs (jsonparser's rule).
 */
function unescape(b: Uint8Array, s: number, e: number): number {
  if (scratch.length < e - s) scratch = Buffer.allocUnsafe(Math.max(e - s, scratch.length * 2));
  const out = scratch;
  let w = 0;
  let ascii = true;
  let i = s;
  while (i < e) {
    const c = b[i]!;
    if (c !== BS) {
      if (c >= 0x80) ascii = false;
      out[w++] = c;
      i++;
      continue;
    }
    if (i + 1 >= e) return -1;
    const x = b[i + 1]!;
    switch (x) {
      case 0x22:
      case 0x5c:
      case 0x2f:
        out[w++] = x;
        i += 2;
        continue;
      case 0x62:
        out[w++] = 0x08;
        i += 2;
        continue;
      case 0x66:
        out[w++] = 0x0c;
        i += 2;
        continue;
      case 0x6e:
        out[w++] = 0x0a;
        i += 2;
        continue;
      case 0x72:
        out[w++] = 0x0d;
        i += 2;
        continue;
      case 0x74:
        out[w++] = 0x09;
        i += 2;
        continue;
      case 0x75: {
        const r = u4(b, i, e);
        if (r < 0) return -1;
        if (r < 0xd800 || r > 0xdfff) {
          if (r >= 0x80) ascii = false;
          w = putRune(out, w, r);
          i += 6;
          continue;
        }
        const r2 = u4(b, i + 6, e);
        if (r2 < 0xdc00) return -1;
        w = putRune(out, w, ((r - 0xd800) << 10) + (r2 - 0xdc00) + 0x10000);
        ascii = false;
        i += 12;
        continue;
      }
      default:
        return -1;
    }
  }
  uAscii = ascii;
  return w;
}

/** Loki's unescapeJSONString: a string value with escapes resolved; an invalid escape yields "". */
function stringValue(b: Buffer, s: number, e: number, escaped: boolean, ascii: boolean): string {
  if (!escaped) return labelValue(b, s, e, ascii);
  const n = unescape(b, s, e);
  if (n < 0) return '';
  return labelValue(scratch, 0, n, uAscii);
}

/** A cached label name for one key under one prefix, with the cache for its children when it holds an object. */
interface KeyNode {
  name: string;
  children: KeyCache<KeyNode> | undefined;
  /** With parser hints: whether the label is wanted as `name` / as `name_extracted`; whether to walk into it. */
  plain: boolean;
  suffixed: boolean;
  descend: boolean;
}

/** objectEach's result when the hints' labels are all extracted: parsing stops, and it is not an error. */
const FOUND_ALL = 'found all required labels';

/**
 * `| json` without parameters: every string, number and boolean property becomes a label; nested objects are
 * flattened with `_`; arrays and nulls are skipped. Compile once per query; `process` runs per line.
 */
export class JsonParser {
  private readonly root = new KeyCache<KeyNode>();
  private target!: ParseTarget;
  private line!: Buffer;

  /** `hints`: a metric query's parser hints (parsers/parser-hints.ts); without them every property is extracted. */
  constructor(private readonly hints?: ParserHints) {}

  /** Extracts into `target`; on malformed JSON the labels found before the error stay and `__error__` is set. */
  process(line: Buffer, target: ParseTarget): void {
    const hints = this.hints;
    if (hints !== undefined && hints.skip()) return;
    this.target = target;
    this.line = line;
    const err = this.objectEach(0, line.length, this.root, '');
    if (err !== null && err !== FOUND_ALL) {
      target.setError(JSON_PARSER_ERR, err);
      if (hints?.preserveError === true) target.set(PRESERVE_ERROR_LABEL, 'true');
    }
  }

  private node(cache: KeyCache<KeyNode>, b: Uint8Array, s: number, e: number, prefix: string): KeyNode {
    const h = KeyCache.hash(b, s, e);
    let n = cache.get(b, s, e, h);
    if (n === undefined) {
      const name = prefix === '' ? sanitizeKeyBytes(b, s, e, true) : prefix + '_' + sanitizeKeyBytes(b, s, e, false);
      const hints = this.hints;
      n = {
        name,
        children: undefined,
        plain: hints === undefined || hints.wants(name),
        suffixed: hints === undefined || hints.wants(name + EXTRACTED_SUFFIX),
        descend: hints === undefined || hints.wantsPrefix(name),
      };
      cache.set(b, s, e, h, n);
    }
    return n;
  }

  /** jsonparser.ObjectEach over [start, end) with Loki's callback inlined. Returns an error text or null. */
  private objectEach(start: number, end: number, cache: KeyCache<KeyNode>, prefix: string): string | null {
    const b = this.line;
    let off = nextToken(b, start, end);
    if (off === -1 || b[off] !== 0x7b) return JSON_ERRORS.malformedObject;
    off = nextToken(b, off + 1, end);
    if (off === -1) return JSON_ERRORS.malformedJson;
    if (b[off] === 0x7d) return null;
    let lastComma = -1;
    while (off < end) {
      const c = b[off]!;
      if (c === 0x7d) return lastComma !== -1 && lastComma + 1 === off ? JSON_ERRORS.malformedObject : null;
      if (c !== Q) return JSON_ERRORS.malformedObject;
      off++;
      const se = stringEnd(b, off, end);
      if (se === -1) return JSON_ERRORS.malformedJson;
      let node: KeyNode;
      if (sEscaped) {
        const n = unescape(b, off, se - 1);
        if (n < 0) return JSON_ERRORS.malformedStringEscape;
        node = this.node(cache, scratch, 0, n, prefix);
      } else {
        node = this.node(cache, b, off, se - 1, prefix);
      }
      off = nextToken(b, se, end);
      if (off === -1 || b[off] !== 0x3a) return JSON_ERRORS.malformedJson;
      off++;
      const vo = nextToken(b, off, end);
      if (vo === -1) return JSON_ERRORS.malformedJson;
      const terr = getType(b, vo, end);
      if (terr !== null) return terr;
      const next = vNext;
      switch (vType) {
        case T.String:
        case T.Number:
        case T.Boolean: {
          const name = this.labelName(node);
          if (name === undefined) break;
          const v =
            vType === T.String
              ? stringValue(b, vStart, vEnd, vEscaped, vAscii)
              : vType === T.Number
                ? labelValue(b, vStart, vEnd, vAscii)
                : b[vStart] === 0x74
                  ? 'true'
                  : 'false';
          this.target.set(name, v);
          break;
        }
        case T.Object: {
          if (!node.descend) break;
          if (node.children === undefined) node.children = new KeyCache<KeyNode>();
          const err = this.objectEach(vStart, vEnd, node.children, node.name);
          if (err !== null) return err;
          break;
        }
        default:
          break; // arrays and nulls are skipped
      }
      if (this.hints !== undefined && this.hints.allExtracted()) return FOUND_ALL;
      off = nextToken(b, next, end);
      if (off === -1) return JSON_ERRORS.malformedArray;
      const d = b[off]!;
      if (d === 0x7d) return null;
      if (d !== 0x2c) return JSON_ERRORS.malformedObject;
      lastComma = off;
      off++;
      const n2 = nextToken(b, off, end);
      if (n2 === -1) return JSON_ERRORS.malformedArray;
      if (n2 > off) lastComma += n2 - off - 1;
      off = n2;
    }
    return JSON_ERRORS.malformedObject;
  }

  /** The label a key's value is extracted as (`_extracted` on a clash), or undefined when the hints skip it. */
  private labelName(node: KeyNode): string | undefined {
    if (!node.plain && !node.suffixed) return undefined;
    const clash = this.target.baseHas(node.name);
    if (clash ? !node.suffixed : !node.plain) return undefined;
    return clash ? node.name + EXTRACTED_SUFFIX : node.name;
  }
}

/** One `label="expression"` parameter of `| json` or `| logfmt`. */
export interface LabelExtraction {
  name: string;
  expr: string;
}

export type JsonPath = (string | number)[];

/** A JSON path expression error, with goyacc's message form (`syntax error: unexpected DOT, expecting FIELD`). */
export class JsonPathError extends Error {}

type Tok = 'DOT' | 'LSB' | 'RSB' | 'STRING' | 'FIELD' | 'INDEX' | '$end';

/**
 * Parses Loki's JSON expression language: `a.b`, `a["b c"]`, `list[0]`, `["a"].b`. Errors carry goyacc's text
 * (Loki's grammar is generated by goyacc, whose message lists expected tokens only when the state has no default
 * reduction).
 */
export function parseJsonPath(expr: string): JsonPath {
  let pos = 0;
  let lexErr: string | undefined;
  let tokVal: string | number = '';
  const isStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
  const next = (): Tok => {
    if (lexErr !== undefined) return '$end';
    for (;;) {
      if (pos >= expr.length) return '$end';
      const c = expr[pos]!;
      if (c === '\0') return '$end';
      if (c === ' ' || c === '\t' || c === '\n') {
        pos++;
        continue;
      }
      if (c >= '0' && c <= '9') {
        let num = '';
        for (;;) {
          const d = expr[pos];
          if (d === '.' && num.length > 0) {
            lexErr = 'cannot use float as array index';
            return '$end';
          }
          if (d === undefined || d === ' ' || d === '\t' || d === '\n' || d === '.' || d === ']') break;
          if (!(d >= '0' && d <= '9')) {
            lexErr = `non-integer value: ${d}`;
            return '$end';
          }
          num += d;
          pos++;
        }
        tokVal = Number(num);
        return 'INDEX';
      }
      pos++;
      if (c === '[') return 'LSB';
      if (c === ']') return 'RSB';
      if (c === '.') return 'DOT';
      if (isStart(c)) {
        let f = c;
        while (pos < expr.length) {
          const d = expr[pos]!;
          if (!(isStart(d) || (d >= '0' && d <= '9'))) break;
          f += d;
          pos++;
        }
        tokVal = f;
        return 'FIELD';
      }
      if (c === '"') {
        // Loki's scanner ends a quoted key at the next `"` or `]`.
        let s = '';
        while (pos < expr.length) {
          const d = expr[pos++]!;
          if (d === '\0' || d === '"' || d === ']') break;
          s += d;
        }
        tokVal = s;
        return 'STRING';
      }
      lexErr = `unexpected char ${c}`;
      return '$end';
    }
  };
  const fail = (got: Tok, expecting?: string): never => {
    throw new JsonPathError(`syntax error: unexpected ${got}${expecting ? `, expecting ${expecting}` : ''}`);
  };
  const out: JsonPath = [];
  let t = next();
  const access = (): void => {
    // after LSB
    const k = next();
    if (k !== 'STRING' && k !== 'INDEX') fail(k, 'STRING or INDEX');
    const v = tokVal;
    const r = next();
    if (r !== 'RSB') fail(r, 'RSB');
    out.push(v);
  };
  if (t === 'FIELD') out.push(tokVal);
  else if (t === 'LSB') access();
  else fail(t, 'LSB or FIELD');
  for (;;) {
    t = next();
    if (t === '$end') break;
    if (t === 'LSB') access();
    else if (t === 'DOT') {
      const f = next();
      if (f !== 'FIELD') fail(f, 'FIELD');
      out.push(tokVal);
    } else fail(t);
  }
  if (lexErr !== undefined) throw new JsonPathError(lexErr);
  return out;
}

interface CompiledPath {
  id: string;
  path: JsonPath;
}

/**
 * Validates `| json` parameters the way Loki builds its JSONExpressionParser; the messages are Loki's
 * (`cannot parse expression [x]: syntax error: ...`, `invalid extracted label name 'x'`).
 */
export function compileJsonExpressions(params: readonly LabelExtraction[]): CompiledPath[] {
  return params.map(({ name, expr }) => {
    let path: JsonPath;
    try {
      path = parseJsonPath(expr);
    } catch (e) {
      throw new JsonPathError(`cannot parse expression [${expr}]: ${(e as Error).message}`);
    }
    if (!isValidLabelName(name)) throw new JsonPathError(`invalid extracted label name '${name}'`);
    return { id: name, path };
  });
}

// Result of findPath.
let fType: T = T.NotExist;
let fStart = 0;
let fEnd = 0;
let fEscaped = false;
let fAscii = true;

/**
 * Finds `path` in the JSON value starting at or after `i`: the first matching key at each level, array elements by
 * index, never searching inside arrays otherwise (jsonparser.EachKey's rules). Returns an error text, null when
 * found (result in the f* scratch), or undefined when absent.
 */
function findPath(b: Uint8Array, i: number, end: number, path: JsonPath, depth: number): string | null | undefined {
  const o = nextToken(b, i, end);
  if (o === -1) return depth === path.length ? JSON_ERRORS.malformedJson : undefined;
  if (depth === path.length) {
    const err = getType(b, o, end);
    if (err !== null) return err;
    fType = vType;
    fStart = vStart;
    fEnd = vEnd;
    fEscaped = vEscaped;
    fAscii = vAscii;
    return null;
  }
  const want = path[depth]!;
  const c = b[o]!;
  if (c === 0x7b && typeof want === 'string') {
    let off = o + 1;
    for (;;) {
      off = nextToken(b, off, end);
      if (off === -1 || b[off] === 0x7d) return undefined;
      if (b[off] === 0x2c) {
        off++;
        continue;
      }
      if (b[off] !== Q) return undefined;
      const se = stringEnd(b, off + 1, end);
      if (se === -1) return JSON_ERRORS.malformedString;
      let match: boolean;
      if (sEscaped) {
        const n = unescape(b, off + 1, se - 1);
        match = n >= 0 && scratch.toString('utf8', 0, n) === want;
      } else {
        match = keyEquals(b, off + 1, se - 1, want);
      }
      off = nextToken(b, se, end);
      if (off === -1 || b[off] !== 0x3a) return undefined;
      off++;
      const vo = nextToken(b, off, end);
      if (vo === -1) return JSON_ERRORS.malformedJson;
      if (match) {
        const r = findPath(b, vo, end, path, depth + 1);
        if (r !== undefined) return r;
      }
      const err = getType(b, vo, end);
      if (err !== null) return match ? err : undefined;
      off = vNext;
    }
  }
  if (c === 0x5b && typeof want === 'number') {
    let off = o + 1;
    let idx = 0;
    for (;;) {
      off = nextToken(b, off, end);
      if (off === -1 || b[off] === 0x5d) return undefined;
      if (idx === want) return findPath(b, off, end, path, depth + 1);
      const err = getType(b, off, end);
      if (err !== null) return undefined;
      off = nextToken(b, vNext, end);
      if (off === -1 || b[off] !== 0x2c) return undefined;
      off++;
      idx++;
    }
  }
  return undefined;
}

function keyEquals(b: Uint8Array, s: number, e: number, want: string): boolean {
  // Keys are compared as UTF-8 bytes; ASCII keys (the common case) compare without decoding.
  if (e - s === want.length) {
    let ascii = true;
    for (let k = 0; k < want.length; k++) {
      const w = want.charCodeAt(k);
      if (w >= 0x80) {
        ascii = false;
        break;
      }
      if (b[s + k] !== w) return false;
    }
    if (ascii) return true;
  }
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('utf8') === want;
}

/**
 * `| json a="x.y[0]", ...`: extracts only the given paths. Objects are kept as their JSON text, null as "", and a
 * path that matches nothing still creates its label with "" (unless the label already exists).
 */
export class JsonExpressionParser {
  private readonly paths: CompiledPath[];

  constructor(
    params: readonly LabelExtraction[],
    private readonly hints?: ParserHints,
  ) {
    this.paths = compileJsonExpressions(params);
  }

  /** `has(name)`: whether the label exists at this point of the pipeline (stream, metadata or parsed so far). */
  process(line: Buffer, target: ParseTarget & { has(name: string): boolean }): void {
    if (line.length === 0 || (this.hints !== undefined && this.hints.skip())) return;
    const c = line[0];
    if (c !== Q && c !== 0x7b && c !== 0x5b) {
      target.setError(JSON_PARSER_ERR);
      return;
    }
    let matches = 0;
    for (const { id, path } of this.paths) {
      const r = findPath(line, 0, line.length, path, 0);
      if (r === undefined) continue;
      if (r !== null) {
        target.setError(JSON_PARSER_ERR, r);
        continue;
      }
      const key = target.baseHas(id) ? id + EXTRACTED_SUFFIX : id;
      let value: string;
      switch (fType) {
        case T.Null:
          value = '';
          break;
        case T.Object:
          value = labelValue(line, fStart, fEnd, isAscii(line, fStart, fEnd));
          break;
        case T.String:
          value = stringValue(line, fStart, fEnd, fEscaped, fAscii);
          break;
        default: {
          // numbers, booleans and arrays go through Loki's unescapeJSONString as raw text
          let esc = false;
          for (let k = fStart; k < fEnd; k++) if (line[k] === BS) esc = true;
          value = stringValue(line, fStart, fEnd, esc, isAscii(line, fStart, fEnd));
        }
      }
      target.set(key, value);
      matches++;
    }
    if (matches < this.paths.length) {
      for (const { id } of this.paths) if (!target.has(id)) target.set(id, '');
    }
  }
}

function isAscii(b: Uint8Array, s: number, e: number): boolean {
  for (let k = s; k < e; k++) if (b[k]! >= 0x80) return false;
  return true;
}

class ExpressionTarget extends CollectingTarget {
  has(name: string): boolean {
    return this.baseHas(name) || this.labels.has(name);
  }
}

/**
 * Convenience form of `| json` for callers off the hot path: returns the labels (and error) for one line.
 * `existing` are the stream's labels, used for the `_extracted` rule.
 */
export function json(
  line: Buffer | string,
  params?: readonly LabelExtraction[],
  existing: ReadonlySet<string> | ((name: string) => boolean) = new Set(),
): ParseResult {
  const buf = asBuffer(line);
  const target = new ExpressionTarget(existing);
  if (params !== undefined && params.length > 0) new JsonExpressionParser(params).process(buf, target);
  else new JsonParser().process(buf, target);
  return target.result();
}

/**
 * jsonparser.ObjectEach over the top level of `line`, reporting only string properties: `value` is the unescaped
 * string as a Go string would hold it (no RuneError mapping), or null when its escapes are invalid. `cb` may return
 * an error text to stop. Returns the first error text, or null. Used by `| unpack`.
 */
export function eachStringProperty(line: Buffer, cb: (key: string, value: string | null) => string | null): string | null {
  const b = line;
  const end = line.length;
  let off = nextToken(b, 0, end);
  if (off === -1 || b[off] !== 0x7b) return JSON_ERRORS.malformedObject;
  off = nextToken(b, off + 1, end);
  if (off === -1) return JSON_ERRORS.malformedJson;
  if (b[off] === 0x7d) return null;
  let lastComma = -1;
  while (off < end) {
    const c = b[off]!;
    if (c === 0x7d) return lastComma !== -1 && lastComma + 1 === off ? JSON_ERRORS.malformedObject : null;
    if (c !== Q) return JSON_ERRORS.malformedObject;
    off++;
    const se = stringEnd(b, off, end);
    if (se === -1) return JSON_ERRORS.malformedJson;
    let key: string;
    if (sEscaped) {
      const n = unescape(b, off, se - 1);
      if (n < 0) return JSON_ERRORS.malformedStringEscape;
      key = scratch.toString('utf8', 0, n);
    } else {
      key = b.toString('utf8', off, se - 1);
    }
    off = nextToken(b, se, end);
    if (off === -1 || b[off] !== 0x3a) return JSON_ERRORS.malformedJson;
    off++;
    const vo = nextToken(b, off, end);
    if (vo === -1) return JSON_ERRORS.malformedJson;
    const terr = getType(b, vo, end);
    if (terr !== null) return terr;
    const next = vNext;
    if (vType === T.String) {
      let value: string | null;
      if (!vEscaped) value = b.toString('utf8', vStart, vEnd);
      else {
        const n = unescape(b, vStart, vEnd);
        value = n < 0 ? null : scratch.toString('utf8', 0, n);
      }
      const err = cb(key, value);
      if (err !== null) return err;
    }
    off = nextToken(b, next, end);
    if (off === -1) return JSON_ERRORS.malformedArray;
    const d = b[off]!;
    if (d === 0x7d) return null;
    if (d !== 0x2c) return JSON_ERRORS.malformedObject;
    lastComma = off;
    off++;
    const n2 = nextToken(b, off, end);
    if (n2 === -1) return JSON_ERRORS.malformedArray;
    if (n2 > off) lastComma += n2 - off - 1;
    off = n2;
  }
  return JSON_ERRORS.malformedObject;
}
