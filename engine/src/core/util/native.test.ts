import { jest } from '@jest/globals';
import * as fs from 'node:fs';
import * as lz4 from 'lz4-napi';
import * as native from './native.js';
import { indexOfBytes, lz4DecompressInto, NATIVE_SLACK, nativeAddonPath, nativeAvailable } from './native.js';
import { mulberry32 } from '../testing/random.js';

/** A seeded generator, so a failure reproduces. */
const rng = mulberry32;

const int = (r: () => number, n: number): number => Math.floor(r() * n);

function randomBuf(r: () => number, n: number, alphabet = 256): Buffer {
  const b = Buffer.allocUnsafeSlow(n);
  if (alphabet === 256) {
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(int(r, 2 ** 32), i);
    for (; i < n; i++) b[i] = int(r, 256);
  } else {
    for (let i = 0; i < n; i++) b[i] = int(r, alphabet);
  }
  return b;
}

/** Collects failures of a long randomized loop, so it is asserted once (an expect per case costs more than the case). */
class Failures {
  readonly list: unknown[] = [];
  check(ok: boolean, what: () => unknown): void {
    if (!ok && this.list.length < 10) this.list.push(what());
  }
}

const decode =
  lz4DecompressInto ??
  ((): number => {
    throw new Error('native addon not loaded');
  });

/** lz4-napi's block without its u32 LE size prefix: the raw LZ4 block the addon decodes. */
function rawBlock(input: Buffer): Buffer {
  const c = lz4.compressSync(input);
  expect(c.readUInt32LE(0)).toBe(input.length);
  return c.subarray(4);
}

/**
 * What `f` throws, as "Name: message". The addon's errors come from Node's own realm, not from the one Jest runs the
 * tests in, so `toThrow(TypeError)` cannot recognise them.
 */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  return 'nothing thrown';
}

/**
 * `b` in an allocation of its own: a read past its end then leaves the allocation (AddressSanitizer reports it, when
 * the addon is built with -fsanitize=address and run with libasan preloaded) instead of landing in Buffer's pool.
 */
function exact(b: Buffer | number[]): Buffer {
  const out = Buffer.allocUnsafeSlow(b.length);
  out.set(b);
  return out;
}

const GUARD = 64;

/**
 * A `cap`-byte dst that is a view of a larger buffer whose tail is a guard pattern: a write past dst's length (the
 * only memory the decoder may touch) shows up as a changed guard byte.
 */
function guarded(cap: number): { dst: Buffer; intact: () => boolean } {
  const arena = Buffer.allocUnsafeSlow(cap + GUARD).fill(0xa5);
  const dst = arena.subarray(0, cap);
  return { dst, intact: () => arena.subarray(cap).every((x) => x === 0xa5) };
}

/** The index of the first differing byte (or length difference), -1 when equal: a readable failure on big buffers. */
function firstDiff(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

const logLines = (r: () => number, n: number): Buffer => {
  const levels = ['info', 'warn', 'error', 'debug'];
  const paths = ['/api/v1/push', '/loki/api/v1/query_range', '/metrics', '/ready'];
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const line = `ts=2026-11-22T10:${String(i % 60).padStart(2, '0')}:00.${int(r, 1e6)}Z level=${levels[int(r, 4)]} caller=handler.go:${int(r, 900)} path=${paths[int(r, 4)]} status=${200 + int(r, 4) * 100} took=${(r() * 30).toFixed(3)}ms trace_id=${randomBuf(r, 8).toString('hex')}\n`;
    parts.push(line);
    len += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
};

/** `n` bytes made of random literal runs and copies from `1..maxBack` bytes back, the copies often overlapping. */
function copies(r: () => number, n: number, maxBack: number): Buffer {
  const b = Buffer.alloc(n);
  let p = 0;
  while (p < n) {
    if (p === 0 || r() < 0.3) {
      const k = Math.min(n - p, int(r, 40));
      for (let i = 0; i < k; i++) b[p++] = int(r, 256);
    } else {
      const back = 1 + int(r, Math.min(p, maxBack));
      const k = Math.min(n - p, 4 + int(r, r() < 0.1 ? 2000 : 40));
      for (let i = 0; i < k; i++, p++) b[p] = b[p - back]!;
    }
  }
  return b;
}

const SIZES = [0, 1, 2, 3, 4, 5, 8, 12, 13, 14, 15, 16, 17, 18, 19, 20, 31, 32, 33, 64, 255, 256, 257, 4096, 65535, 65536, 65537, 262144, 1 << 20];

function corpus(): [string, Buffer][] {
  const r = rng(1);
  const out: [string, Buffer][] = [];
  const text = Buffer.from('level=info msg="request served" path=/api/v1/push status=204 took=1.2ms\n'.repeat(20_000));
  for (const n of SIZES) {
    out.push([`random ${n}`, randomBuf(r, n)]);
    out.push([`text ${n}`, text.subarray(0, n)]);
    out.push([`log lines ${n}`, logLines(r, n)]);
    out.push([`zeros ${n}`, Buffer.alloc(n)]);
    out.push([`copies ${n}`, copies(r, n, 70_000)]);
    out.push([`low-entropy ${n}`, randomBuf(r, n, 3)]);
  }
  // A pattern of period p repeated: the compressor emits matches at offset p that overlap their own output, which
  // the decoder must copy byte by byte (p < 8), 8 at a time (8 ≤ p < 16) or 16 at a time.
  for (let period = 1; period <= 20; period++) {
    const seed = randomBuf(r, period);
    for (const n of [period + 4, 4 * period + 7, 100, 1000, 70_000]) {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = seed[i % period]!;
      out.push([`period ${period} × ${n}`, Buffer.concat([randomBuf(r, int(r, 20)), b, randomBuf(r, int(r, 20))])]);
    }
    out.push([`copies back ≤ ${period}`, copies(r, 3000, period)]);
  }
  return out;
}

const CORPUS = corpus();

describe('native addon', () => {
  it('is built and loaded', () => {
    // The test command builds before Jest runs; run by hand, build first.
    const hint = `the native addon ${nativeAddonPath} did not load: run \`npm run build\` (or \`node engine/native/build.mjs\`)`;
    expect(nativeAvailable() ? 'loaded' : hint).toBe('loaded');
    expect(typeof lz4DecompressInto).toBe('function');
  });
});

describe('lz4DecompressInto', () => {
  it('decodes what lz4-napi compresses exactly as lz4-napi does, with and without slack', () => {
    for (const [what, input] of CORPUS) {
      const c = lz4.compressSync(input);
      const want = lz4.uncompressSync(c);
      expect(firstDiff(want, input)).toBe(-1);
      const raw = c.subarray(4);
      const n = input.length;
      for (const cap of [n + NATIVE_SLACK, n]) {
        const { dst, intact } = guarded(cap);
        const got = decode(raw, dst, n);
        expect([what, cap, got]).toEqual([what, cap, n]);
        expect([what, cap, firstDiff(dst.subarray(0, n), want)]).toEqual([what, cap, -1]);
        expect([what, cap, intact()]).toEqual([what, cap, true]);
      }
    }
  });

  it('takes `limit` as a bound, not as the size', () => {
    const input = logLines(rng(2), 5000);
    const raw = rawBlock(input);
    const dst = Buffer.alloc(8000);
    expect(decode(raw, dst, 8000)).toBe(5000);
    expect(dst.subarray(0, 5000).equals(input)).toBe(true);
    // A limit past dst's length is cut to it.
    expect(decode(raw, Buffer.alloc(6000), 1e9)).toBe(5000);
    expect(decode(raw, Buffer.alloc(4999), 5000)).toBe(-1);
  });

  it('returns -1 for every limit below the decoded size, never writing past dst', () => {
    const r = rng(3);
    const f = new Failures();
    for (const input of [logLines(r, 700), copies(r, 600, 30), randomBuf(r, 300), Buffer.alloc(500)]) {
      const raw = rawBlock(input);
      for (let limit = 0; limit < input.length; limit++) {
        for (const cap of [limit, limit + NATIVE_SLACK]) {
          const { dst, intact } = guarded(cap);
          const got = decode(raw, dst, limit);
          f.check(got === -1 && intact(), () => ({ n: input.length, limit, cap, got, intact: intact() }));
        }
      }
    }
    expect(f.list).toEqual([]);
  });

  it('rejects truncated blocks: every prefix fails or decodes to a prefix of the output', () => {
    const r = rng(4);
    const f = new Failures();
    for (const input of [logLines(r, 3000), copies(r, 2000, 100), randomBuf(r, 400), Buffer.alloc(2000), Buffer.from('x')]) {
      const raw = rawBlock(input);
      const n = input.length;
      for (let k = 0; k < raw.length; k++) {
        const { dst, intact } = guarded(n);
        const got = decode(exact(raw.subarray(0, k)), dst, n);
        // A prefix that ends right after a sequence's literals is itself a valid, shorter block (the format has no
        // terminator); the codecs reject it by its length. Anything else is malformed.
        const ok = got < n && (got === -1 || (got >= 0 && dst.subarray(0, got).equals(input.subarray(0, got))));
        f.check(ok && intact(), () => ({ n, k, got, intact: intact() }));
      }
    }
    expect(f.list).toEqual([]);
  });

  it('survives thousands of random garbage blocks', () => {
    const r = rng(5);
    const f = new Failures();
    for (let i = 0; i < 5000; i++) {
      const src = randomBuf(r, int(r, i < 4000 ? 64 : 2000), i % 2 === 0 ? 256 : 16);
      const limit = int(r, 5000);
      const cap = limit + (i % 3 === 0 ? 0 : NATIVE_SLACK);
      const { dst, intact } = guarded(cap);
      const before = Buffer.from(src);
      const got = decode(src, dst, limit);
      f.check(got >= -1 && got <= limit && intact() && src.equals(before), () => ({ i, got, limit, intact: intact() }));
    }
    expect(f.list).toEqual([]);
  });

  it('survives every single bit flip of real blocks, agreeing with lz4-napi whenever both decode', () => {
    const r = rng(6);
    const f = new Failures();
    let decoded = 0;
    for (const input of [logLines(r, 1500), copies(r, 1200, 40)]) {
      const c = lz4.compressSync(input);
      const n = input.length;
      for (let bit = 32; bit < c.length * 8; bit++) {
        const bad = Buffer.from(c);
        bad[bit >> 3] ^= 1 << (bit & 7);
        const { dst, intact } = guarded(n);
        const got = decode(exact(bad.subarray(4)), dst, n);
        f.check(got >= -1 && got <= n && intact(), () => ({ bit, got, intact: intact() }));
        if (got !== n) continue;
        // A flip in a literal or an offset often still decodes (to other bytes): it must be lz4-napi's result.
        decoded++;
        let theirs: Buffer | undefined;
        try {
          theirs = lz4.uncompressSync(bad);
        } catch {
          theirs = undefined;
        }
        f.check(theirs === undefined || theirs.length !== n || dst.subarray(0, n).equals(theirs), () => ({ bit, diff: firstDiff(dst.subarray(0, n), theirs!) }));
      }
    }
    expect(f.list).toEqual([]);
    expect(decoded).toBeGreaterThan(0);
  });

  // Hand-made blocks: token (literal length << 4 | match length - 4), literals, u16 LE offset, …, then a final
  // sequence of literals only.
  it('decodes an overlapping match and rejects offset 0 and offsets beyond the output', () => {
    const block = (offLo: number, offHi = 0): Buffer => exact([0x10, 0x61, offLo, offHi, 0x10, 0x62]);
    const dst = Buffer.alloc(64);
    expect(decode(block(1), dst, 64)).toBe(6);
    expect(dst.toString('latin1', 0, 6)).toBe('aaaaab');
    expect(decode(block(0), dst, 64)).toBe(-1);
    expect(decode(block(2), dst, 64)).toBe(-1);
    expect(decode(block(0xff, 0xff), dst, 64)).toBe(-1);
  });

  it('handles extended literal and match lengths, and rejects lengths past the input', () => {
    // 15 + 0 literals (an extension byte of 0), then a match of 4 + 15 + 255 + 1 bytes at offset 15.
    const lits = Buffer.from('abcdefghijklmno');
    const good = exact(Buffer.concat([Buffer.from([0xff, 0x00]), lits, Buffer.from([15, 0, 255, 1, 0x00])]));
    const dst = Buffer.alloc(400);
    const n = 15 + 4 + 15 + 255 + 1;
    expect(decode(good, dst, 400)).toBe(n);
    const want = Buffer.alloc(n);
    for (let i = 0; i < n; i++) want[i] = lits[i % 15]!;
    expect(dst.subarray(0, n).equals(want)).toBe(true);
    // Literal length 15 + 255 + 10 with only 15 literal bytes present; a length extension cut off.
    expect(decode(exact(Buffer.concat([Buffer.from([0xf0, 255, 10]), lits])), dst, 400)).toBe(-1);
    expect(decode(exact([0xf0, 255, 255]), dst, 400)).toBe(-1);
    expect(decode(exact([0x1f, 0x61, 1, 0, 255]), dst, 400)).toBe(-1);
    // A block must end with literals: one that stops after a match, or has only half an offset, is malformed.
    expect(decode(exact([0x10, 0x61, 1, 0]), dst, 400)).toBe(-1);
    expect(decode(exact([0x10, 0x61, 1]), dst, 400)).toBe(-1);
    expect(decode(Buffer.alloc(0), dst, 400)).toBe(-1);
    // The empty input compresses to one token with nothing after it.
    expect(decode(exact([0x00]), dst, 0)).toBe(0);
  });

  it('throws on arguments of the wrong type or range', () => {
    const src = rawBlock(Buffer.from('hello'));
    const dst = Buffer.alloc(64);
    const call = (...args: unknown[]): unknown => (decode as (...a: unknown[]) => unknown)(...args);
    expect(thrown(() => call(src, dst))).toMatch(/^TypeError: /);
    expect(thrown(() => call())).toMatch(/^TypeError: /);
    expect(thrown(() => call('hello', dst, 5))).toMatch(/^TypeError: /);
    expect(thrown(() => call(src, 'dst', 5))).toMatch(/^TypeError: /);
    expect(thrown(() => call(src, new ArrayBuffer(64), 5))).toMatch(/^TypeError: /);
    expect(thrown(() => call(src, {}, 5))).toMatch(/^TypeError: /);
    expect(thrown(() => call(null, dst, 5))).toMatch(/^TypeError: /);
    expect(thrown(() => call(src, dst, '5'))).toMatch(/^TypeError: /);
    expect(thrown(() => call(src, dst, undefined))).toMatch(/^TypeError: /);
    expect(thrown(() => call(src, dst, 5n))).toMatch(/^TypeError: /);
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) expect(thrown(() => call(src, dst, bad))).toMatch(/^RangeError: /);
    expect(call(src, dst, 5)).toBe(5);
  });
});

/** The contract, by brute force: first p ≥ from with needle wholly in haystack[from, min(to, length)). */
function naiveIndexOf(h: Buffer, needle: Buffer, from: number, to: number): number {
  const end = Math.min(to, h.length);
  if (from > end) return -1;
  for (let p = from; p + needle.length <= end; p++) {
    let k = 0;
    while (k < needle.length && h[p + k] === needle[k]) k++;
    if (k === needle.length) return p;
  }
  return -1;
}

describe('indexOfBytes', () => {
  it('agrees with a brute-force search and Buffer#indexOf on random data, needles and bounds', () => {
    const r = rng(7);
    const f = new Failures();
    for (let i = 0; i < 20_000; i++) {
      const h = randomBuf(r, int(r, 200), i % 4 === 0 ? 256 : 3);
      let needle: Buffer;
      const kind = int(r, 4);
      if (kind === 0 || h.length === 0) needle = randomBuf(r, int(r, 5), 3);
      else {
        const at = int(r, h.length);
        needle = Buffer.from(h.subarray(at, at + 1 + int(r, 8)));
      }
      const from = int(r, h.length + 4);
      const to = kind === 3 ? h.length + int(r, 10) : int(r, h.length + 4);
      const want = naiveIndexOf(h, needle, from, to);
      const got = indexOfBytes(h, needle, from, to);
      f.check(got === want, () => ({ i, h: h.toString('hex'), needle: needle.toString('hex'), from, to, got, want }));
      // Buffer#indexOf is the same search when the range reaches the end of the haystack.
      if (from <= h.length && to >= h.length) f.check(h.indexOf(needle, from) === want, () => ({ i, buffer: h.indexOf(needle, from), want }));
    }
    expect(f.list).toEqual([]);
  });

  it('handles the edges: empty needle, needle longer than the range, to past the end, from past to', () => {
    const h = Buffer.from('abcabcabc');
    const empty = Buffer.alloc(0);
    expect(indexOfBytes(h, empty, 0, 9)).toBe(0);
    expect(indexOfBytes(h, empty, 4, 9)).toBe(4);
    expect(indexOfBytes(h, empty, 9, 9)).toBe(9);
    expect(indexOfBytes(h, empty, 4, 2)).toBe(-1);
    expect(indexOfBytes(h, empty, 10, 100)).toBe(-1);
    expect(indexOfBytes(empty, empty, 0, 0)).toBe(0);
    expect(indexOfBytes(empty, Buffer.from('a'), 0, 10)).toBe(-1);
    expect(indexOfBytes(h, Buffer.from('abcabcabca'), 0, 9)).toBe(-1);
    expect(indexOfBytes(h, Buffer.from('cab'), 0, 4)).toBe(-1);
    expect(indexOfBytes(h, Buffer.from('cab'), 0, 5)).toBe(2);
    expect(indexOfBytes(h, Buffer.from('cab'), 3, 9)).toBe(5);
    expect(indexOfBytes(h, Buffer.from('abc'), 6, 1e12)).toBe(6);
    expect(indexOfBytes(h, Buffer.from('abc'), 7, 9)).toBe(-1);
  });

  it('finds needles far into a large haystack, only inside the range', () => {
    const r = rng(8);
    // No byte above 199, so the needle occurs only where it is put.
    const h = randomBuf(r, 1 << 20);
    for (let i = 0; i < h.length; i++) h[i] = h[i]! % 200;
    const needle = Buffer.from([250, 251, 252, 253, 254, 255]);
    needle.copy(h, h.length - needle.length);
    needle.copy(h, 600_000);
    expect(indexOfBytes(h, needle, 0, h.length)).toBe(600_000);
    expect(indexOfBytes(h, needle, 600_001, h.length)).toBe(h.length - needle.length);
    expect(indexOfBytes(h, needle, 0, 600_005)).toBe(-1);
    expect(indexOfBytes(h, needle, 600_001, h.length - 1)).toBe(-1);
    expect(indexOfBytes(h.subarray(1000), needle, 0, 1 << 20)).toBe(599_000);
  });

  it('throws on arguments of the wrong type or range', () => {
    const h = Buffer.from('abc');
    const call = (...args: unknown[]): unknown => (indexOfBytes as (...a: unknown[]) => unknown)(...args);
    expect(thrown(() => call('abc', Buffer.from('b'), 0, 3))).toMatch(/^TypeError: /);
    expect(thrown(() => call(h, 'b', 0, 3))).toMatch(/^TypeError: /);
    expect(thrown(() => call(h, Buffer.from('b'), '0', 3))).toMatch(/^TypeError: /);
    expect(thrown(() => call(h, Buffer.from('b'), 0))).toMatch(/^TypeError: /);
    expect(thrown(() => call(h, Buffer.from('b'), -1, 3))).toMatch(/^RangeError: /);
    expect(thrown(() => call(h, Buffer.from('b'), 0, 0.5))).toMatch(/^RangeError: /);
  });
});

/**
 * native.ts loaded afresh as on a machine without the addon (built with STRATA_NATIVE=off): its file is reported
 * missing, so the module falls back to lz4-napi and Buffer#indexOf.
 */
async function withoutAddon(): Promise<typeof native> {
  let m: typeof native | undefined;
  await jest.isolateModulesAsync(async () => {
    jest.unstable_mockModule('node:fs', () => ({ ...fs, existsSync: (p: string) => p !== native.nativeAddonPath && fs.existsSync(p) }));
    m = await import('./native.js');
  });
  return m!;
}

describe('without the addon', () => {
  it('offers no lz4DecompressInto and searches with Buffer#indexOf to the same results', async () => {
    const m = await withoutAddon();
    expect(m).not.toBe(native);
    expect(m.nativeAvailable()).toBe(false);
    expect(m.lz4DecompressInto).toBeUndefined();
    expect(m.indexOfBytes).not.toBe(indexOfBytes);
    const r = rng(9);
    const f = new Failures();
    for (let i = 0; i < 20_000; i++) {
      const h = randomBuf(r, int(r, 100), 3);
      const needle = randomBuf(r, int(r, 4), 3);
      const from = int(r, h.length + 4);
      const to = i % 3 === 0 ? h.length + int(r, 10) : int(r, h.length + 4);
      const got = m.indexOfBytes(h, needle, from, to);
      const want = naiveIndexOf(h, needle, from, to);
      f.check(got === want, () => ({ i, h: h.toString('hex'), needle: needle.toString('hex'), from, to, got, want }));
    }
    expect(f.list).toEqual([]);
  });
});

describe('an addon that fails to load', () => {
  it('falls back as if it were not built, and says why', async () => {
    let m: typeof native | undefined;
    await jest.isolateModulesAsync(async () => {
      // The file is there (undoing withoutAddon's registration), but Node's loader refuses it (another platform).
      jest.unstable_mockModule('node:fs', () => ({ ...fs }));
      jest.unstable_mockModule('node:module', () => ({
        createRequire: () => () => {
          throw new Error('invalid ELF header');
        },
      }));
      m = await import('./native.js');
    });
    expect(m!.nativeAvailable()).toBe(false);
    expect(m!.nativeUnavailableReason()).toBe('invalid ELF header');
    expect(m!.lz4DecompressInto).toBeUndefined();
    expect(m!.indexOfBytes(Buffer.from('abcabc'), Buffer.from('ca'), 0, 6)).toBe(2);
    expect(native.nativeUnavailableReason()).toBe('not built');
  });
});
