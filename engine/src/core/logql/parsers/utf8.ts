/**
 * Byte-level helpers shared by the parsers. Loki works on Go byte slices; a Go `string(bytes)` keeps invalid
 * UTF-8 as-is and Loki then maps every `utf8.RuneError` (an invalid byte, or a literal U+FFFD) to a space, because
 * Prometheus rejects label values holding it. These helpers reproduce that mapping byte for byte.
 */

/**
 * Width of the valid UTF-8 sequence starting at `i` (1..4), or 0 when the byte there starts an invalid sequence —
 * Go's `utf8.DecodeRune` then yields `RuneError` with width 1.
 */
export function utf8SeqLen(buf: Uint8Array, i: number, end: number): number {
  const b0 = buf[i]!;
  if (b0 < 0x80) return 1;
  if (b0 < 0xc2) return 0;
  if (b0 < 0xe0) {
    return i + 1 < end && (buf[i + 1]! & 0xc0) === 0x80 ? 2 : 0;
  }
  if (b0 < 0xf0) {
    if (i + 2 >= end) return 0;
    const b1 = buf[i + 1]!;
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    if (b1 < lo || b1 > hi || (buf[i + 2]! & 0xc0) !== 0x80) return 0;
    return 3;
  }
  if (b0 < 0xf5) {
    if (i + 3 >= end) return 0;
    const b1 = buf[i + 1]!;
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    if (b1 < lo || b1 > hi || (buf[i + 2]! & 0xc0) !== 0x80 || (buf[i + 3]! & 0xc0) !== 0x80) return 0;
    return 4;
  }
  return 0;
}

/** True when bytes [start, end) are valid UTF-8 and hold no literal U+FFFD. */
function cleanUtf8(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; ) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = utf8SeqLen(buf, i, end);
    if (n === 0) return false;
    if (n === 3 && b === 0xef && buf[i + 1] === 0xbf && buf[i + 2] === 0xbd) return false;
    i += n;
  }
  return true;
}

const fc = String.fromCharCode;

/**
 * A string from ASCII bytes. Short values (the common `level=info`, `status=200`) are built with inlined
 * `String.fromCharCode` calls, which V8 does several times faster than a native `Buffer#toString` call.
 */
export function asciiString(b: Uint8Array, s: number, e: number): string {
  switch (e - s) {
    case 0:
      return '';
    case 1:
      return fc(b[s]!);
    case 2:
      return fc(b[s]!, b[s + 1]!);
    case 3:
      return fc(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return fc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return fc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return fc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return fc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8:
      return fc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    default:
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1', s, e);
  }
}

/**
 * A label value from bytes the way Loki makes one: invalid UTF-8 bytes and U+FFFD each become one space.
 * `ascii` is a hint from the caller's scan (every byte < 0x80) that skips validation.
 */
export function labelValue(buf: Buffer, start: number, end: number, ascii: boolean): string {
  if (start >= end) return '';
  if (ascii) return end - start <= 8 ? asciiString(buf, start, end) : buf.toString('latin1', start, end);
  if (cleanUtf8(buf, start, end)) return buf.toString('utf8', start, end);
  let out = '';
  let runStart = start;
  for (let i = start; i < end; ) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = utf8SeqLen(buf, i, end);
    const bad = n === 0 || (n === 3 && b === 0xef && buf[i + 1] === 0xbf && buf[i + 2] === 0xbd);
    if (!bad) {
      i += n;
      continue;
    }
    out += buf.toString('utf8', runStart, i) + ' ';
    i += n === 0 ? 1 : n;
    runStart = i;
  }
  return out + buf.toString('utf8', runStart, end);
}

/** True when [start, end) holds a byte that Go would decode as `utf8.RuneError` (invalid byte or U+FFFD). */
export function hasRuneError(buf: Uint8Array, start: number, end: number): boolean {
  return !cleanUtf8(buf, start, end);
}

/** Replaces U+FFFD in a JS string by a space (the string form of Loki's `removeInvalidUtf`). */
export function replaceRuneError(s: string): string {
  return s.indexOf('\ufffd') < 0 ? s : s.replace(/\ufffd/g, ' ');
}

/** Encodes one code point as UTF-8 into `out` at `w`; returns the new write offset. */
export function putRune(out: Uint8Array, w: number, r: number): number {
  if (r < 0x80) {
    out[w++] = r;
  } else if (r < 0x800) {
    out[w++] = 0xc0 | (r >> 6);
    out[w++] = 0x80 | (r & 0x3f);
  } else if (r < 0x10000) {
    if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd;
    out[w++] = 0xe0 | (r >> 12);
    out[w++] = 0x80 | ((r >> 6) & 0x3f);
    out[w++] = 0x80 | (r & 0x3f);
  } else if (r <= 0x10ffff) {
    out[w++] = 0xf0 | (r >> 18);
    out[w++] = 0x80 | ((r >> 12) & 0x3f);
    out[w++] = 0x80 | ((r >> 6) & 0x3f);
    out[w++] = 0x80 | (r & 0x3f);
  } else {
    return putRune(out, w, 0xfffd);
  }
  return w;
}

/** `Buffer` from a line given either as bytes or as a string. */
export function asBuffer(line: Buffer | string): Buffer {
  return typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
}
