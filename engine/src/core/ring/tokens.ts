/**
 * Tokens: the uint32 positions instances claim on the ring, and the uint32 key a stream hashes to.
 */
import { randomFillSync } from 'node:crypto';

/** A uint32 source; the default is the CSPRNG (tokens must not repeat across restarts of many instances). */
export type TokenRandom = () => number;

const scratch = new Uint32Array(256);
let scratchPos = scratch.length;

export const cryptoTokenRandom: TokenRandom = () => {
  if (scratchPos === scratch.length) {
    randomFillSync(scratch);
    scratchPos = 0;
  }
  return scratch[scratchPos++]!;
};

/**
 * `count` new random tokens that collide with none of `taken` nor with each other, sorted ascending.
 * The token space has 2^32 positions; a ring of a few hundred instances × 128 tokens fills a negligible part of it,
 * so rejection sampling terminates at once.
 */
export function generateTokens(count: number, taken: Iterable<number> = [], random: TokenRandom = cryptoTokenRandom): number[] {
  const used = new Set<number>(taken);
  const out: number[] = [];
  while (out.length < count) {
    const t = random() >>> 0;
    if (used.has(t)) continue;
    used.add(t);
    out.push(t);
  }
  return out.sort((a, b) => a - b);
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1aString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Hash UTF-8 bytes so the value never depends on JavaScript's UTF-16 strings; the ASCII path is the common one.
    if (c >= 0x80) return fnv1aBytes(h, Buffer.from(s.slice(i), 'utf8'));
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h;
}

function fnv1aBytes(h: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME);
  return h;
}

/** MurmurHash3's 32-bit finalizer: FNV-1a spreads a difference in the last bytes poorly into the high bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The ring key of a stream: FNV-1a 32 over the UTF-8 bytes of `tenant`, one 0x00 byte and the stream's canonical
 * label string (`{a="1", b="2"}`, labels sorted — `labelsString` in distributor/labels.ts), then MurmurHash3's
 * fmix32 finalizer. Stable across processes and versions: changing it would move every stream to other ingesters.
 */
export function streamToken(tenant: string, canonicalLabels: string): number {
  let h = fnv1aString(FNV_OFFSET, tenant);
  h = Math.imul(h ^ 0, FNV_PRIME);
  h = fnv1aString(h, canonicalLabels);
  return fmix32(h);
}
