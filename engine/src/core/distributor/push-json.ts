import { badRequest, type EngineError } from '../errors.js';
import type { LabelPair, PushEntry, PushRequest, PushStream } from '../model.js';
import { labelsString } from './labels.js';

/**
 * Decoder for Loki's JSON push bodies, both formats:
 *
 *   v1 (/loki/api/v1/push):
 *     {"streams":[{"stream":{"app":"api"},"values":[["<ns>","line"],["<ns>","line",{"trace_id":"x"}]]}]}
 *   legacy (/api/prom/push):
 *     {"streams":[{"labels":"{app=\"api\"}","entries":[{"ts":"2023-01-01T00:00:00.123456789Z","line":"..."}]}]}
 *
 * The format is recognised per stream by its keys, so one decoder serves both endpoints.
 *
 * It is a byte-level scanner instead of JSON.parse: a line without escapes becomes a zero-copy `subarray` of the
 * body and timestamps go from digits to bigint without an intermediate string; lines with escapes are unescaped
 * straight into a shared arena. Key matching follows Loki: `streams`, `labels`, `entries`, `ts`, `line` are
 * matched case-insensitively (Loki decodes those into Go structs), `stream` and `values` exactly; unknown keys are
 * skipped; a later duplicate key wins. Control characters inside strings are accepted (Go's decoder is equally
 * lenient with them); anything else that is not JSON is a 400.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_DEPTH = 512;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const NS_PER_SECOND = 1_000_000_000n;

// Decoder state as module variables: the hot loops read them like locals. Decoding is synchronous.
let b: Buffer = Buffer.alloc(0);
let p = 0;
/** Position of the next backslash at or after the last place we looked, or b.length when there is none. */
let nextBackslash = 0;
/** Where the body bytes of the last string scanned start/end, and whether it contains escapes. */
let strStart = 0;
let strEnd = 0;
let strEscaped = false;

export function decodePushJson(body: Buffer | string): PushRequest {
  b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  p = 0;
  nextBackslash = -1;
  arena = EMPTY;
  arenaPos = 0;
  try {
    // A UTF-8 byte order mark is tolerated.
    if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) p = 3;
    skipWs();
    if (p >= b.length) throw badRequest('push request body is empty: expected a JSON object like {"streams":[...]}');
    if (b[p] !== 0x7b) throw badRequest(`push request must be a JSON object like {"streams":[...]}, got ${describeValue()}`);
    let streams: PushStream[] = [];
    forEachKey(() => {
      if (strEquals('streams', true)) {
        streams = readStreams();
      } else {
        skipValue(1);
      }
    });
    skipWs();
    if (p < b.length) throw syntaxError('after the top-level value');
    return { streams };
  } finally {
    b = EMPTY;
    arena = EMPTY;
  }
}

// --- structure ------------------------------------------------------------------------------------------------

function readStreams(): PushStream[] {
  const streams: PushStream[] = [];
  if (isNull()) return streams;
  if (b[p] !== 0x5b) throw badRequest(`"streams" must be an array, got ${describeValue()}`);
  forEachElement(() => {
    const i = streams.length;
    if (isNull()) {
      streams.push({ labels: '', entries: [] });
      return;
    }
    if (b[p] !== 0x7b) throw badRequest(`streams[${i}] must be an object, got ${describeValue()}`);
    streams.push(readStream(i));
  });
  return streams;
}

function readStream(i: number): PushStream {
  let labels = '';
  let entries: PushEntry[] = [];
  forEachKey(() => {
    if (strEquals('stream', false)) {
      labels = readLabelObject(i);
    } else if (strEquals('values', false)) {
      entries = readValues(i);
    } else if (strEquals('labels', true)) {
      if (isNull()) return;
      if (b[p] !== QUOTE) throw badRequest(`streams[${i}].labels must be a string like "{app=\\"api\\"}", got ${describeValue()}`);
      labels = readString();
    } else if (strEquals('entries', true)) {
      entries = readLegacyEntries(i);
    } else {
      skipValue(2);
    }
  });
  return { labels, entries };
}

/** `{"app":"api","env":"prod"}` → `{app="api", env="prod"}` (sorted; a later duplicate key wins). */
function readLabelObject(i: number): string {
  if (isNull()) return '';
  if (b[p] !== 0x7b) throw badRequest(`streams[${i}].stream must be an object of label names to values, got ${describeValue()}`);
  const pairs: [string, string][] = [];
  forEachKey(() => {
    const name = keyString();
    const c = b[p];
    let value: string;
    if (c === QUOTE) {
      value = readString();
    } else if (c === 0x2d || (c! >= 0x30 && c! <= 0x39) || c === 0x74 || c === 0x66) {
      // Loki accepts numbers and booleans as label values (their JSON text), see grafana/loki#10550.
      const start = p;
      skipValue(3);
      value = b.toString('latin1', start, p);
    } else {
      throw badRequest(`streams[${i}].stream: value of label ${JSON.stringify(name)} must be a string, got ${describeValue()}`);
    }
    for (const pair of pairs) {
      if (pair[0] === name) {
        pair[1] = value;
        return;
      }
    }
    pairs.push([name, value]);
  });
  pairs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return labelsString(pairs);
}

const VALUE_SHAPE = '["<unix epoch in nanoseconds>", "<log line>"] or ["<ns>", "<log line>", {<structured metadata>}]';

function readValues(i: number): PushEntry[] {
  const entries: PushEntry[] = [];
  if (isNull()) return entries;
  if (b[p] !== 0x5b) throw badRequest(`streams[${i}].values must be an array of ${VALUE_SHAPE}, got ${describeValue()}`);
  // The hottest loop of the decoder: written out instead of going through forEachElement's callback.
  p++;
  skipWs();
  if (b[p] === 0x5d) {
    p++;
    return entries;
  }
  for (let j = 0; ; j++) {
    if (b[p] === 0x5b) entries.push(readValue(i, j));
    else if (!isNull()) throw badRequest(`streams[${i}].values[${j}] must be an array ${VALUE_SHAPE}, got ${describeValue()}`);
    // (null values are skipped, as Loki does)
    skipWs();
    const c = b[p];
    if (c === 0x2c) {
      p++;
      skipWs();
    } else if (c === 0x5d) {
      p++;
      return entries;
    } else {
      throw syntaxError('after an array element (expected "," or "]")');
    }
  }
}

/** `["<ns>", "<line>"]` or `["<ns>", "<line>", {<structured metadata>}]`, at `p` (on "["). */
function readValue(i: number, j: number): PushEntry {
  p++;
  skipWs();
  if (b[p] !== QUOTE) {
    if (b[p] === 0x5d) throw badRequest(`streams[${i}].values[${j}]: empty value; expected ${VALUE_SHAPE}`);
    throw badRequest(`streams[${i}].values[${j}]: timestamp must be a string of nanoseconds since the epoch (e.g. "1700000000000000000"), got ${describeValue()}`);
  }
  scanString();
  const ts = parseNanos(i, j); // stream i, value j
  skipWs();
  if (b[p] !== 0x2c) {
    if (b[p] === 0x5d) throw badRequest(`streams[${i}].values[${j}]: log line is missing; expected ${VALUE_SHAPE}`);
    throw syntaxError('after an array element (expected "," or "]")');
  }
  p++;
  skipWs();
  if (b[p] !== QUOTE) throw badRequest(`streams[${i}].values[${j}]: log line must be a string, got ${describeValue()}`);
  const line = readLine();
  skipWs();
  if (b[p] === 0x5d) {
    p++;
    return { ts, line };
  }
  if (b[p] !== 0x2c) throw syntaxError('after an array element (expected "," or "]")');
  p++;
  skipWs();
  const metadata = readStructuredMetadata(`streams[${i}].values[${j}]`);
  skipWs();
  // Loki ignores anything after the structured metadata.
  while (b[p] === 0x2c) {
    p++;
    skipWs();
    skipValue(5);
    skipWs();
  }
  if (b[p] !== 0x5d) throw syntaxError('after an array element (expected "," or "]")');
  p++;
  return metadata === undefined ? { ts, line } : { ts, line, metadata };
}

function readStructuredMetadata(where: string): LabelPair[] | undefined {
  if (b[p] !== 0x7b) {
    throw badRequest(`${where}: structured metadata must be an object of string values, got ${describeValue()}`);
  }
  const pairs: LabelPair[] = [];
  forEachKey(() => {
    const name = keyString();
    if (b[p] !== QUOTE) {
      throw badRequest(`${where}: structured metadata ${JSON.stringify(name)} must be a string, got ${describeValue()}`);
    }
    pairs.push([name, readString()]);
  });
  return pairs.length > 0 ? pairs : undefined;
}

function readLegacyEntries(i: number): PushEntry[] {
  const entries: PushEntry[] = [];
  if (isNull()) return entries;
  if (b[p] !== 0x5b) throw badRequest(`streams[${i}].entries must be an array of {"ts": "<RFC3339Nano>", "line": "<log line>"}, got ${describeValue()}`);
  let j = 0;
  forEachElement(() => {
    const where = `streams[${i}].entries[${j}]`;
    if (b[p] !== 0x7b) throw badRequest(`${where} must be an object {"ts": "<RFC3339Nano>", "line": "<log line>"}, got ${describeValue()}`);
    let ts: bigint | undefined;
    let line: Buffer | undefined;
    forEachKey(() => {
      if (strEquals('ts', true)) {
        if (b[p] !== QUOTE) throw badRequest(`${where}: ts must be an RFC3339 string like "2023-01-01T00:00:00.123456789Z", got ${describeValue()}`);
        ts = parseRfc3339Nano(readString(), where);
      } else if (strEquals('line', true)) {
        if (b[p] !== QUOTE) throw badRequest(`${where}: line must be a string, got ${describeValue()}`);
        line = readLine();
      } else {
        skipValue(4);
      }
    });
    if (ts === undefined) throw badRequest(`${where}: ts is missing`);
    if (line === undefined) throw badRequest(`${where}: line is missing`);
    entries.push({ ts, line });
    j++;
  });
  return entries;
}

// --- JSON primitives ------------------------------------------------------------------------------------------

function skipWs(): void {
  for (;;) {
    const c = b[p];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
    else return;
  }
}

function isNull(): boolean {
  if (b[p] === 0x6e && b[p + 1] === 0x75 && b[p + 2] === 0x6c && b[p + 3] === 0x6c) {
    p += 4;
    return true;
  }
  return false;
}

/**
 * Iterates an object at `p` (on "{"): for each key, scans the key string (see strEquals/keyString), positions
 * `p` on the value and calls `onKey`, which must consume the value.
 */
function forEachKey(onKey: () => void): void {
  p++; // {
  skipWs();
  if (b[p] === 0x7d) {
    p++;
    return;
  }
  for (;;) {
    if (b[p] !== QUOTE) throw syntaxError('where an object key was expected');
    scanString();
    const keyStart = strStart;
    const keyEnd = strEnd;
    const keyEscaped = strEscaped;
    skipWs();
    if (b[p] !== 0x3a) throw syntaxError('after an object key (expected ":")');
    p++;
    skipWs();
    if (p >= b.length) throw syntaxError('where a value was expected');
    // Restore the key's scan state for strEquals/keyString inside onKey.
    strStart = keyStart;
    strEnd = keyEnd;
    strEscaped = keyEscaped;
    onKey();
    skipWs();
    const c = b[p];
    if (c === 0x2c) {
      p++;
      skipWs();
    } else if (c === 0x7d) {
      p++;
      return;
    } else {
      throw syntaxError('after an object value (expected "," or "}")');
    }
  }
}

/** Iterates an array at `p` (on "["), positioning `p` on each element; `onElement` must consume it. */
function forEachElement(onElement: () => void): void {
  p++; // [
  skipWs();
  if (b[p] === 0x5d) {
    p++;
    return;
  }
  for (;;) {
    if (p >= b.length) throw syntaxError('where a value was expected');
    onElement();
    skipWs();
    const c = b[p];
    if (c === 0x2c) {
      p++;
      skipWs();
    } else if (c === 0x5d) {
      p++;
      return;
    } else {
      throw syntaxError('after an array element (expected "," or "]")');
    }
  }
}

/**
 * Scans the string at `p` (on its opening quote) without decoding it: sets strStart/strEnd (body bytes between
 * the quotes) and strEscaped, and leaves `p` after the closing quote. Short strings are probed byte by byte; for
 * long ones the end is found with native indexOf, and `nextBackslash` is kept across strings so the search for
 * backslashes stays linear over the whole body.
 */
function scanString(): void {
  const start = p + 1;
  const len = b.length;
  const probeEnd = start + 32 < len ? start + 32 : len;
  let i = start;
  for (; i < probeEnd; i++) {
    const c = b[i];
    if (c === QUOTE) {
      strStart = start;
      strEnd = i;
      strEscaped = false;
      p = i + 1;
      return;
    }
    if (c === BACKSLASH) break;
  }
  if (i === probeEnd) {
    const q = b.indexOf(QUOTE, i);
    if (q < 0) throw badRequest('invalid JSON in push request: unterminated string');
    if (nextBackslash < i) {
      nextBackslash = b.indexOf(BACKSLASH, i);
      if (nextBackslash < 0) nextBackslash = len;
    }
    if (nextBackslash > q) {
      strStart = start;
      strEnd = q;
      strEscaped = false;
      p = q + 1;
      return;
    }
    i = nextBackslash;
  }
  // Escapes: from the first backslash, step over each escaped character to the real closing quote.
  for (;;) {
    if (i >= len) throw badRequest('invalid JSON in push request: unterminated string');
    const c = b[i];
    if (c === BACKSLASH) i += 2;
    else if (c === QUOTE) break;
    else i++;
  }
  strStart = start;
  strEnd = i;
  strEscaped = true;
  p = i + 1;
}

/**
 * Reads the log line string at `p` as bytes: a zero-copy subarray of the body when it has no escapes, otherwise
 * unescaped in one pass into the arena (runs without escapes are copied natively).
 */
function readLine(): Buffer {
  const start = p + 1;
  const len = b.length;
  const probeEnd = start + 32 < len ? start + 32 : len;
  let i = start;
  for (; i < probeEnd; i++) {
    const c = b[i];
    if (c === QUOTE) {
      p = i + 1;
      return b.subarray(start, i);
    }
    if (c === BACKSLASH) return readEscapedLine(start, i);
  }
  const q = b.indexOf(QUOTE, i);
  if (q < 0) throw badRequest('invalid JSON in push request: unterminated string');
  if (nextBackslash < i) {
    nextBackslash = b.indexOf(BACKSLASH, i);
    if (nextBackslash < 0) nextBackslash = len;
  }
  if (nextBackslash > q) {
    p = q + 1;
    return b.subarray(start, q);
  }
  return readEscapedLine(start, nextBackslash);
}

/**
 * Unescapes the line starting at `start` whose first backslash is at `first` into the arena; sets `p`. A tight
 * byte loop handles stretches with dense escapes (JSON logs); after 32 plain bytes in a row it switches to native
 * search and copy for the rest of the run (logfmt lines with a few quotes).
 */
function readEscapedLine(start: number, first: number): Buffer {
  const src = b; // a local: the loop below is the hottest one for escape-heavy lines
  const len = src.length;
  lineStart = arenaPos;
  // Unescaping only shrinks; reserveArena grows the room when a line is longer than this first guess.
  let o = reserveArena(first - start + 256, arenaPos);
  o = copyRun(start, first, o);
  let out = arena;
  let room = out.length - 4; // unescapeOne writes at most 4 bytes
  let i = first;
  let plain = 0;
  let q = -1;
  while (i < len) {
    if (o >= room) {
      // Grow geometrically: the line is longer than the first guess.
      o = reserveArena(Math.max(256, o - lineStart), o);
      out = arena;
      room = out.length - 4;
    }
    const c = src[i]!;
    if (c === BACKSLASH) {
      const r = SIMPLE_ESCAPES[src[i + 1]!]; // undefined past the end, 0 for \u and invalid escapes
      if (r) {
        out[o++] = r;
        i += 2;
      } else {
        o = unescapeOne(out, i, len, o);
        i = escapeEnd;
      }
      plain = 0;
    } else if (c === QUOTE) {
      p = i + 1;
      arenaPos = o;
      return out.subarray(lineStart, o);
    } else {
      out[o++] = c;
      i++;
      if (++plain === 32) {
        plain = 0;
        if (q < i) {
          q = b.indexOf(QUOTE, i);
          if (q < 0) throw badRequest('invalid JSON in push request: unterminated string');
        }
        if (nextBackslash < i) {
          nextBackslash = b.indexOf(BACKSLASH, i);
          if (nextBackslash < 0) nextBackslash = len;
        }
        const j = nextBackslash < q ? nextBackslash : q;
        o = copyRun(i, j, o);
        out = arena;
        room = out.length - 4;
        i = j;
      }
    }
  }
  throw badRequest('invalid JSON in push request: unterminated string');
}

/** The byte each single-character JSON escape stands for (0: not a single-character escape). */
const SIMPLE_ESCAPES = new Uint8Array(256);
for (const [ch, v] of [['"', 0x22], ['\\', 0x5c], ['/', 0x2f], ['b', 0x08], ['f', 0x0c], ['n', 0x0a], ['r', 0x0d], ['t', 0x09]] as const) {
  SIMPLE_ESCAPES[ch.charCodeAt(0)] = v;
}

/** Start in `arena` of the line being unescaped (moves when the arena grows mid-line). */
let lineStart = 0;

/**
 * Makes sure `n` bytes are free at write position `o` of the line being unescaped, moving the partial line to a
 * fresh chunk when they are not; returns the (possibly new) write position.
 */
function reserveArena(n: number, o: number): number {
  if (arena.length - o >= n) return o;
  const used = o - lineStart;
  const next = Buffer.allocUnsafe(Math.max(ARENA_CHUNK, used + n));
  if (used > 0) arena.copy(next, 0, lineStart, o);
  arena = next;
  arenaPos = 0;
  lineStart = 0;
  return used;
}

function copyRun(from: number, to: number, o: number): number {
  const n = to - from;
  if (n <= 0) return o;
  if (arena.length - o < n) o = reserveArena(n, o);
  if (n >= 48) {
    b.copy(arena, o, from, to);
    return o + n;
  }
  for (let k = from; k < to; k++) arena[o++] = b[k]!;
  return o;
}

/** The last scanned string equals the ASCII literal `lit` (optionally ASCII-case-insensitively). */
function strEquals(lit: string, caseInsensitive: boolean): boolean {
  if (strEscaped) {
    const s = decodeString(strStart, strEnd);
    return caseInsensitive ? s.toLowerCase() === lit : s === lit;
  }
  if (strEnd - strStart !== lit.length) return false;
  for (let i = 0; i < lit.length; i++) {
    let c = b[strStart + i]!;
    if (caseInsensitive && c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lit.charCodeAt(i)) return false;
  }
  return true;
}

/** The last scanned string (a key) as a JS string. */
function keyString(): string {
  return strEscaped ? decodeString(strStart, strEnd) : b.toString('utf8', strStart, strEnd);
}

function readString(): string {
  scanString();
  return strEscaped ? decodeString(strStart, strEnd) : b.toString('utf8', strStart, strEnd);
}

// --- unescaping -----------------------------------------------------------------------------------------------

const EMPTY = Buffer.alloc(0);
const ARENA_CHUNK = 64 * 1024;
/** Escaped lines are unescaped into shared chunks; lines are subarrays of them. */
let arena: Buffer = EMPTY;
let arenaPos = 0;
/** Reused for escaped keys, labels and metadata; strings longer than this get a one-off buffer. */
const scratch: Buffer = Buffer.allocUnsafe(4096);

function decodeString(start: number, end: number): string {
  const out = end - start <= scratch.length ? scratch : Buffer.allocUnsafe(end - start);
  const n = unescapeInto(start, end, out, 0);
  return out.toString('utf8', 0, n);
}

/** JSON-unescapes b[start, end) into `out` at `o`; returns the new end. */
function unescapeInto(start: number, end: number, out: Buffer, o: number): number {
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c !== BACKSLASH) {
      out[o++] = c;
      i++;
    } else {
      o = unescapeOne(out, i, end, o);
      i = escapeEnd;
    }
  }
  return o;
}

/** Where the escape handled by the last unescapeOne call ends. */
let escapeEnd = 0;

/**
 * Writes the escape sequence at b[i] (a backslash) into `out` at `o` (at least 4 bytes free) and returns the
 * new `o`; sets escapeEnd. Lone surrogates become U+FFFD, as Go's decoder does.
 */
function unescapeOne(out: Buffer, i: number, end: number, o: number): number {
  const e = b[i + 1];
  escapeEnd = i + 2;
  switch (e) {
    case 0x22: out[o] = 0x22; return o + 1;
    case 0x5c: out[o] = 0x5c; return o + 1;
    case 0x2f: out[o] = 0x2f; return o + 1;
    case 0x62: out[o] = 0x08; return o + 1;
    case 0x66: out[o] = 0x0c; return o + 1;
    case 0x6e: out[o] = 0x0a; return o + 1;
    case 0x72: out[o] = 0x0d; return o + 1;
    case 0x74: out[o] = 0x09; return o + 1;
    case 0x75: {
      let cp = hex4(i + 2, end);
      escapeEnd = i + 6;
      if (cp >= 0xd800 && cp < 0xdc00) {
        // A high surrogate needs a following \uDC00-\uDFFF; otherwise it is replaced.
        const lo = b[i + 6] === BACKSLASH && b[i + 7] === 0x75 ? hex4(i + 8, end) : -1;
        if (lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          escapeEnd = i + 12;
        } else {
          cp = 0xfffd;
        }
      } else if (cp >= 0xdc00 && cp < 0xe000) {
        cp = 0xfffd;
      }
      if (cp < 0x80) {
        out[o++] = cp;
      } else if (cp < 0x800) {
        out[o++] = 0xc0 | (cp >> 6);
        out[o++] = 0x80 | (cp & 0x3f);
      } else if (cp < 0x10000) {
        out[o++] = 0xe0 | (cp >> 12);
        out[o++] = 0x80 | ((cp >> 6) & 0x3f);
        out[o++] = 0x80 | (cp & 0x3f);
      } else {
        out[o++] = 0xf0 | (cp >> 18);
        out[o++] = 0x80 | ((cp >> 12) & 0x3f);
        out[o++] = 0x80 | ((cp >> 6) & 0x3f);
        out[o++] = 0x80 | (cp & 0x3f);
      }
      return o;
    }
    default:
      throw badRequest(
        `invalid JSON in push request: invalid escape ${e === undefined ? 'at the end of the input' : `\\${String.fromCharCode(e)}`} in string at offset ${i}`,
      );
  }
}

function hex4(i: number, end: number): number {
  if (i + 4 > end) throw badRequest(`invalid JSON in push request: truncated \\u escape at offset ${i - 2}`);
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = b[i + k]!;
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else throw badRequest(`invalid JSON in push request: invalid \\u escape at offset ${i - 2}`);
    v = v * 16 + d;
  }
  return v;
}

// --- skipping and describing values ---------------------------------------------------------------------------

/** Skips any JSON value at `p`, validating it. */
function skipValue(depth: number): void {
  if (depth > MAX_DEPTH) throw badRequest(`invalid JSON in push request: nesting deeper than ${MAX_DEPTH} levels`);
  const c = b[p];
  switch (c) {
    case QUOTE:
      scanString();
      if (strEscaped) decodeString(strStart, strEnd); // validates the escapes
      return;
    case 0x7b:
      forEachKey(() => skipValue(depth + 1));
      return;
    case 0x5b:
      forEachElement(() => skipValue(depth + 1));
      return;
    case 0x74:
      return literal('true');
    case 0x66:
      return literal('false');
    case 0x6e:
      return literal('null');
    default:
      if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return skipNumber();
      throw syntaxError('where a value was expected');
  }
}

function literal(word: string): void {
  for (let i = 0; i < word.length; i++) {
    if (b[p + i] !== word.charCodeAt(i)) throw syntaxError('in a literal');
  }
  p += word.length;
}

/** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
function skipNumber(): void {
  const digit = (): boolean => {
    const c = b[p];
    return c !== undefined && c >= 0x30 && c <= 0x39;
  };
  if (b[p] === 0x2d) p++;
  if (b[p] === 0x30) p++;
  else if (digit()) while (digit()) p++;
  else throw syntaxError('in a number');
  if (b[p] === 0x2e) {
    p++;
    if (!digit()) throw syntaxError('in a number');
    while (digit()) p++;
  }
  if (b[p] === 0x65 || b[p] === 0x45) {
    p++;
    if (b[p] === 0x2b || b[p] === 0x2d) p++;
    if (!digit()) throw syntaxError('in a number');
    while (digit()) p++;
  }
}

/** "number", "array", ... for error messages, looking at the value at `p` without consuming it. */
function describeValue(): string {
  const c = b[p];
  if (c === QUOTE) return 'string';
  if (c === 0x7b) return 'object';
  if (c === 0x5b) return 'array';
  if (c === 0x74 || c === 0x66) return 'boolean';
  if (c === 0x6e) return 'null';
  if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return 'number';
  if (c === undefined) return 'end of input';
  return `invalid JSON at offset ${p}`;
}

function syntaxError(where: string): EngineError {
  if (p >= b.length) return badRequest('invalid JSON in push request: unexpected end of input');
  const c = b[p]!;
  const shown = c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
  return badRequest(`invalid JSON in push request: unexpected ${shown} at offset ${p} ${where}`);
}

// --- timestamps -----------------------------------------------------------------------------------------------

/** Entries of one push mostly share their second: remember the last `seconds * 1e9`. */
let lastHigh = -1;
let lastHighNs = 0n;

/** The last scanned string as signed decimal nanoseconds within int64 (Loki parses it with ParseInt). */
function parseNanos(si: number, vj: number): bigint {
  if (strEscaped) return parseNanosString(decodeString(strStart, strEnd), si, vj);
  let i = strStart;
  const end = strEnd;
  const neg = b[i] === 0x2d;
  if (neg) i++;
  while (end - i > 1 && b[i] === 0x30) i++; // leading zeros
  const n = end - i;
  if (n === 0 || n > 19) return parseNanosString(b.toString('utf8', strStart, strEnd), si, vj);
  // Up to 9 low digits and up to 10 high digits, both exact as doubles.
  const split = n > 9 ? end - 9 : i;
  let high = 0;
  for (let k = i; k < split; k++) {
    const d = b[k]! - 0x30;
    if (d < 0 || d > 9) return parseNanosString(b.toString('utf8', strStart, strEnd), si, vj);
    high = high * 10 + d;
  }
  let low = 0;
  for (let k = split; k < end; k++) {
    const d = b[k]! - 0x30;
    if (d < 0 || d > 9) return parseNanosString(b.toString('utf8', strStart, strEnd), si, vj);
    low = low * 10 + d;
  }
  let base: bigint;
  if (high === lastHigh) {
    base = lastHighNs;
  } else {
    base = BigInt(high) * NS_PER_SECOND;
    lastHigh = high;
    lastHighNs = base;
  }
  let ts = low === 0 ? base : base + BigInt(low);
  if (neg) ts = -ts;
  if (n === 19 && (ts > INT64_MAX || ts < INT64_MIN)) throw badTimestamp(b.toString('utf8', strStart, strEnd), si, vj, 'is out of range');
  return ts;
}

/** Slow path (escaped digits, or not a number at all): validates and explains. */
function parseNanosString(s: string, i: number, j: number): bigint {
  if (!/^-?[0-9]+$/.test(s)) {
    throw badTimestamp(s, i, j, 'is not a number: it must be a string of nanoseconds since the epoch (e.g. "1700000000000000000")');
  }
  const ts = BigInt(s);
  if (ts > INT64_MAX || ts < INT64_MIN) throw badTimestamp(s, i, j, 'is out of range');
  return ts;
}

function badTimestamp(s: string, i: number, j: number, why: string): EngineError {
  const shown = JSON.stringify(s.length > 64 ? s.slice(0, 64) + '...' : s);
  return badRequest(`streams[${i}].values[${j}]: timestamp ${shown} ${why}`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * RFC 3339 with optional fractional seconds (up to nanoseconds) and a zone, exact to the nanosecond, as Go's
 * time.Time accepts it in JSON. The result must fit int64 nanoseconds (years 1678-2262).
 */
export function parseRfc3339Nano(s: string, where = 'timestamp'): bigint {
  const m = RFC3339.exec(s);
  const bad = (why: string): EngineError =>
    badRequest(`${where}: cannot parse ${JSON.stringify(s)} as RFC3339 (e.g. "2023-01-01T00:00:00.123456789Z"): ${why}`);
  if (m === null) throw bad('bad format');
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) throw bad('month out of range');
  if (day < 1 || day > daysIn(year, month)) throw bad('day out of range');
  if (hour > 23) throw bad('hour out of range');
  if (minute > 59) throw bad('minute out of range');
  if (second > 59) throw bad('second out of range');
  let offset = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) throw bad('time zone offset out of range');
    offset = (oh * 3600 + om * 60) * (m[9] === '-' ? -1 : 1);
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  const frac = m[7] === undefined ? 0n : BigInt(m[7].padEnd(9, '0'));
  const ts = BigInt(seconds) * NS_PER_SECOND + frac;
  if (ts > INT64_MAX || ts < INT64_MIN) throw bad('out of the range of nanosecond timestamps (1678-2262)');
  return ts;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
