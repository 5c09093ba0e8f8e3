import { crc32 } from 'node:zlib';
import { MemChunk } from '../../chunk/mem-chunk.js';
import { defaultConfig, type Config } from '../../config/config-schema.js';
import { labelsString } from '../../distributor/labels.js';
import { fingerprint } from '../../index/fingerprint.js';
import { IndexReader } from '../../index/index-reader.js';
import { TableIndexBuilder, indexFileKey } from '../../index/table-index.js';
import { defaultLimits, type Limits } from '../../limits/limits.js';
import type { LabelPair, Labels } from '../../model.js';
import { NS_PER_MS } from '../../model.js';
import { Querier, type ReadFilter } from '../../querier/querier.js';
import type { ChunkRef } from '../../storage/chunk-key.js';
import type { ObjectClient } from '../../storage/object-client.js';
import { SchemaConfig } from '../../storage/schema.js';
import { parseExpr } from '../../logql/syntax/parser.js';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** One v13 period from 2020-01-01 with 24h tables. */
export function testSchema(): SchemaConfig {
  return new SchemaConfig([
    { from: '2020-01-01', store: 'tsdb', objectStore: 'filesystem', schema: 'v13', indexPrefix: 'index_', indexPeriodMs: DAY_MS },
  ]);
}

export const ms = (t: number): bigint => BigInt(t) * NS_PER_MS;

export interface FixtureEntry {
  ts: bigint;
  line: string;
  metadata?: LabelPair[];
}

/**
 * Uploads one chunk holding `entries` of the stream `labels` and an index file (per table the chunk overlaps) naming
 * it, as an ingester flush does. Returns the chunk's ref.
 */
export async function flushChunk(
  store: ObjectClient,
  schema: SchemaConfig,
  tenant: string,
  labels: Labels,
  entries: readonly FixtureEntry[],
  upload: { uploader?: string; unixMs?: number; seq: number },
): Promise<ChunkRef> {
  const chunk = new MemChunk({ encoding: 'snappy', blockSize: 4096, targetSize: 0, structuredMetadata: true });
  for (const e of entries) chunk.append(e.ts, Buffer.from(e.line), e.metadata);
  const bytes = await chunk.encode();
  const canonical = labelsString(labels);
  const ref: ChunkRef = { tenant, fingerprint: fingerprint(canonical), from: chunk.minTs, through: chunk.maxTs, checksum: crc32(bytes) >>> 0 };
  await store.put(schema.chunkKey(ref), bytes);
  for (const t of new Set(schema.tablesBetween(ref.from, ref.through).map((x) => x.table))) {
    const b = new TableIndexBuilder(tenant, t);
    b.addChunk(labels, canonical, ref, { entries: chunk.entryCount, uncompressedBytes: chunk.uncompressedBytes, compressedBytes: chunk.compressedBytes });
    await store.put(indexFileKey(t, tenant, upload.uploader ?? 'ingester-0', upload.unixMs ?? 1, upload.seq), b.toBuffer());
  }
  return ref;
}

/** A querier over the store alone (no ingester), optionally with a read filter. */
export function storeQuerier(store: ObjectClient, schema: SchemaConfig, readFilter?: ReadFilter): Querier {
  return new Querier({ index: new IndexReader(store, schema, { cacheFiles: 0 }), store, schema, readFilter });
}

/** Every entry a log query returns over [from, through), as `labels|ts|line` strings sorted (order-free comparison). */
export async function readAll(q: Querier, tenant: string, query: string, from: bigint, through: bigint): Promise<string[]> {
  const streams = await q.selectLogs({ tenant, expr: parseExpr(query), from, through, direction: 'forward', limit: 0 });
  const out: string[] = [];
  for (const s of streams) for (const e of s.entries) out.push(`${s.canonical}|${e.ts}|${e.line.toString()}`);
  return out.sort();
}

/** A compactor config block with retention on, and a table manager block, for tests. */
export function testCompactorConfig(over: Partial<Config['compactor']> = {}): Config['compactor'] {
  return { ...defaultConfig().compactor, retention_enabled: true, delete_request_store: 'filesystem', ...over };
}

export function testTableManagerConfig(over: Partial<Config['table_manager']> = {}): Config['table_manager'] {
  return { ...defaultConfig().table_manager, ...over };
}

/** Limits per tenant: the global ones, with per-tenant overrides laid over them. */
export function limitsOf(global: Partial<Limits>, perTenant: Record<string, Partial<Limits>> = {}): (tenant: string) => Readonly<Limits> {
  const base = { ...defaultLimits(), ...global };
  const cache = new Map<string, Limits>();
  return (tenant) => {
    let l = cache.get(tenant);
    if (l === undefined) cache.set(tenant, (l = { ...base, ...(perTenant[tenant] ?? {}) }));
    return l;
  };
}
