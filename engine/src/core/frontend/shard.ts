import { badRequest } from '../errors.js';

/**
 * One shard of a query: the querier reads only the streams whose fingerprint falls in shard `index` of `of`.
 * Loki writes it `<index>_of_<of>` (the `shards` query parameter, and in sub-query logs).
 */
export interface Shard {
  index: number;
  of: number;
}

const SHARD_RE = /^[0-9]+_of_[0-9]+$/;

/** `3_of_16` → `{index: 3, of: 16}`, with Loki's error texts for a malformed or out-of-range value. */
export function parseShard(value: string): Shard {
  if (!SHARD_RE.test(value)) throw badRequest(`Invalid ShardLabel value: [${value}]`);
  const [a, , b] = value.split('_');
  const index = Number(a);
  const of = Number(b);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(of)) throw badRequest(`Invalid ShardLabel value: [${value}]`);
  if (index >= of) throw badRequest(`Shards out of bounds: [${index}] >= [${of}]`);
  return { index, of };
}

export function formatShard(s: Shard): string {
  return `${s.index}_of_${s.of}`;
}

/**
 * The `shards` parameter of a query request (Loki repeats it; Strata's sub-queries carry one shard). Absent or
 * empty: the whole query, undefined.
 */
export function parseShardsParam(values: readonly string[]): Shard | undefined {
  const given = values.filter((v) => v !== '');
  if (given.length === 0) return undefined;
  if (given.length > 1) throw badRequest(`only one shard per query is supported, got ${given.length}: [${given.join(' ')}]`);
  const s = parseShard(given[0]!);
  // 0_of_1 is the whole query.
  return s.of === 1 ? undefined : s;
}

/**
 * Whether a stream belongs to a shard. The rule (it must be the same on every querier, or sharded results would
 * lose or double-count streams): the stream's fingerprint (index/fingerprint.ts, 16 hex digits) read as an unsigned
 * 64-bit integer, modulo `of`, equals `index`. Every stream is in exactly one shard of any `of`.
 */
export function inShard(fingerprint: string, shard: Shard): boolean {
  return BigInt('0x' + fingerprint) % BigInt(shard.of) === BigInt(shard.index);
}
