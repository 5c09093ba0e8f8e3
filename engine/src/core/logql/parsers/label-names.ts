/**
 * Label naming rules shared by every parser: Loki's key sanitising, the `_extracted` suffix for names that clash
 * with stream labels, and the error labels parsers set.
 */
import { utf8SeqLen } from './utf8.js';

export const ERROR_LABEL = '__error__';
export const ERROR_DETAILS_LABEL = '__error_details__';
/** Set next to `__error__` when the query reads `__error__` itself (parser hints): the error does not fail the query. */
export const PRESERVE_ERROR_LABEL = '__preserve_error__';
/** `__error__` values set by the parsers (Loki's errJSON / errLogfmt). */
export const JSON_PARSER_ERR = 'JSONParserErr';
export const LOGFMT_PARSER_ERR = 'LogfmtParserErr';
/** Suffix Loki appends to an extracted label whose name the stream labels already use. */
export const EXTRACTED_SUFFIX = '_extracted';

/** Where a parser writes what it extracts; mirrors the part of Loki's LabelsBuilder the parsers use. */
export interface ParseTarget {
  /** Whether the stream's own (base) labels have `name`: an extracted label of that name gets `_extracted`. */
  baseHas(name: string): boolean;
  /** Sets an extracted label; a later call with the same name overwrites the value, as in Loki. */
  set(name: string, value: string): void;
  /** Sets `__error__` (and `__error_details__` when `details` is given). */
  setError(error: string, details?: string): void;
}

/**
 * Resolves a name clash the way Loki's parsers do: when the stream labels already have `name`, the extracted
 * label is called `<name>_extracted`.
 */
export function addExtracted(existing: ReadonlySet<string> | ((name: string) => boolean), name: string): string {
  const has = typeof existing === 'function' ? existing(name) : existing.has(name);
  return has ? name + EXTRACTED_SUFFIX : name;
}

/** Prometheus' legacy label name rule `[a-zA-Z_][a-zA-Z0-9_]*`, which Loki applies to names a query declares. */
export function isValidLabelName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = c === 95 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (i > 0 && c >= 48 && c <= 57);
    if (!ok) return false;
  }
  return true;
}

// Go's unicode.IsSpace (strings.TrimSpace trims exactly these).
function isGoSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return (
    c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

/**
 * Loki's `sanitizeLabelKey(key, true)`: trims spaces, prefixes `_` when the key starts with a digit, and turns
 * every character outside `[a-zA-Z0-9_]` into `_` (one `_` per character).
 */
export function sanitizeLabelKey(key: string, isPrefix = true): string {
  if (key.length === 0) return key;
  let start = 0;
  let end = key.length;
  while (start < end && isGoSpace(key.codePointAt(start)!)) start += key.codePointAt(start)! > 0xffff ? 2 : 1;
  while (end > start) {
    const c = key.charCodeAt(end - 1);
    const cp = c >= 0xdc00 && c <= 0xdfff && end - 2 >= start ? key.codePointAt(end - 2)! : c;
    if (!isGoSpace(cp)) break;
    end -= cp > 0xffff ? 2 : 1;
  }
  if (start === end) return '';
  let out = '';
  const first = key.charCodeAt(start);
  if (isPrefix && first >= 48 && first <= 57) out = '_';
  let clean = true;
  for (let i = start; i < end; i++) {
    const c = key.charCodeAt(i);
    if (!(c === 95 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57))) {
      clean = false;
      break;
    }
  }
  if (clean) return out + (start === 0 && end === key.length ? key : key.slice(start, end));
  for (const ch of key.slice(start, end)) {
    const c = ch.charCodeAt(0);
    out += ch.length === 1 && (c === 95 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57)) ? ch : '_';
  }
  return out;
}

function isSpaceByte(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

/**
 * `sanitizeLabelKey` on raw bytes. Invalid UTF-8 bytes each become one `_` (Go ranges over them as RuneError), a
 * valid multi-byte character becomes one `_`. `digitPrefix` adds `_` before a leading digit.
 */
export function sanitizeKeyBytes(buf: Uint8Array, start: number, end: number, digitPrefix: boolean): string {
  // Go's TrimSpace also trims U+0085, U+00A0 and other Unicode spaces; those are decoded on the slow path.
  while (start < end && isSpaceByte(buf[start]!)) start++;
  while (end > start && isSpaceByte(buf[end - 1]!)) end--;
  let plain = true;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (!(c === 95 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57))) {
      plain = false;
      break;
    }
  }
  if (plain) {
    if (start === end) return '';
    const s = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
    return digitPrefix && buf[start]! >= 48 && buf[start]! <= 57 ? '_' + s : s;
  }
  // Slow path: decode runes as Go does (invalid byte = one rune) and sanitise the string form.
  let decoded = '';
  for (let i = start; i < end; ) {
    const n = utf8SeqLen(buf, i, end);
    if (n === 0) {
      decoded += '\ufffd';
      i++;
    } else {
      decoded += Buffer.from(buf.buffer, buf.byteOffset + i, n).toString('utf8');
      i += n;
    }
  }
  return sanitizeLabelKey(decoded, digitPrefix);
}

/**
 * A small open-addressing table from raw key bytes to a derived value, so the hot loop never makes a string for a
 * key it has seen before (Loki's internedStringSet plays the same role).
 */
export class KeyCache<V> {
  private keys: (Uint8Array | undefined)[];
  private vals: (V | undefined)[];
  private hashes: Int32Array;
  private mask: number;
  private count = 0;

  constructor(
    private readonly limit = 4096,
    capacity = 64,
  ) {
    this.keys = new Array(capacity);
    this.vals = new Array(capacity);
    this.hashes = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  static hash(buf: Uint8Array, start: number, end: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    return h | 0;
  }

  get(buf: Uint8Array, start: number, end: number, h: number): V | undefined {
    const len = end - start;
    let i = h & this.mask;
    for (;;) {
      const k = this.keys[i];
      if (k === undefined) return undefined;
      if (this.hashes[i] === h && k.length === len) {
        let j = 0;
        while (j < len && k[j] === buf[start + j]) j++;
        if (j === len) return this.vals[i];
      }
      i = (i + 1) & this.mask;
    }
  }

  set(buf: Uint8Array, start: number, end: number, h: number, v: V): void {
    if (this.count >= this.limit) return; // unbounded key sets (ids as keys) must not grow memory forever
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    let i = h & this.mask;
    while (this.keys[i] !== undefined) i = (i + 1) & this.mask;
    this.keys[i] = Uint8Array.prototype.slice.call(buf, start, end);
    this.vals[i] = v;
    this.hashes[i] = h;
    this.count++;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const oldHashes = this.hashes;
    const cap = oldKeys.length * 2;
    this.keys = new Array(cap);
    this.vals = new Array(cap);
    this.hashes = new Int32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const k = oldKeys[j];
      if (k === undefined) continue;
      let i = oldHashes[j]! & this.mask;
      while (this.keys[i] !== undefined) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.vals[i] = oldVals[j];
      this.hashes[i] = oldHashes[j]!;
    }
  }
}

/** A `ParseTarget` that collects into arrays; for callers that are not on a hot path (and for tests). */
export class CollectingTarget implements ParseTarget {
  readonly labels = new Map<string, string>();
  error?: string;
  errorDetails?: string;

  constructor(private readonly base: ReadonlySet<string> | ((name: string) => boolean) = new Set()) {}

  baseHas(name: string): boolean {
    return typeof this.base === 'function' ? this.base(name) : this.base.has(name);
  }

  set(name: string, value: string): void {
    this.labels.set(name, value);
  }

  setError(error: string, details?: string): void {
    this.error = error;
    if (details !== undefined) this.errorDetails = details;
  }

  result(): ParseResult {
    const r: ParseResult = { labels: [...this.labels] };
    if (this.error !== undefined) r.error = this.error;
    if (this.errorDetails !== undefined) r.errorDetails = this.errorDetails;
    return r;
  }
}

/** What the convenience functions (`json()`, `logfmt()`, …) return. */
export interface ParseResult {
  /** Extracted labels in first-set order; a repeated name keeps its last value. */
  labels: [string, string][];
  /** `__error__` value, when the parser failed. */
  error?: string;
  /** `__error_details__` value. */
  errorDetails?: string;
  /** The replacement log line (unpack with `_entry`). */
  line?: string;
}
