import { Decoder, Encoder } from 'cbor-x';
import type { LabelPair, Labels } from '../model.js';
import { validateKeyTenant, type ChunkRef } from '../storage/chunk-key.js';

/**
 * One index file: the streams and chunks one uploader flushed for one tenant in one table. The byte layout is in
 * docs/index-format.md; bump INDEX_FORMAT for any change readers cannot take in their stride.
 */
export const INDEX_FORMAT = 1;

/** The sizes of a chunk that index stats and query planning need. */
export interface ChunkStats {
  entries: number;
  uncompressedBytes: number;
  compressedBytes: number;
}

/** A chunk as the index knows it: where it is, plus its sizes. */
export interface IndexedChunk extends ChunkRef, ChunkStats {}

export interface IndexSeries {
  fingerprint: string;
  labels: Labels;
  /** Sorted by from, then through, then checksum; no duplicates. */
  chunks: IndexedChunk[];
}

export interface IndexFile {
  format: number;
  tenant: string;
  table: string;
  /** Sorted by fingerprint. */
  series: IndexSeries[];
  /** label name → label value → fingerprints (sorted). */
  postings: Map<string, Map<string, string[]>>;
}

// Plain RFC 8949 CBOR: no cbor-x records or packing, so any CBOR decoder can read a file. Maps decode to `Map`
// because label names and values are untrusted strings (`__proto__` is a valid label name).
const encoder = new Encoder({ useRecords: false, mapsAsObjects: false, variableMapSize: true, pack: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

export function compareChunks(a: ChunkRef, b: ChunkRef): number {
  if (a.from !== b.from) return a.from < b.from ? -1 : 1;
  if (a.through !== b.through) return a.through < b.through ? -1 : 1;
  return a.checksum - b.checksum;
}

/** Builds the postings from the series, so a file can never carry postings that disagree with its series. */
export function buildPostings(series: readonly IndexSeries[]): Map<string, Map<string, string[]>> {
  const postings = new Map<string, Map<string, string[]>>();
  for (const s of series) {
    for (const [name, value] of s.labels) {
      let values = postings.get(name);
      if (!values) postings.set(name, (values = new Map()));
      const fps = values.get(value);
      if (fps) fps.push(s.fingerprint);
      else values.set(value, [s.fingerprint]);
    }
  }
  return postings;
}

function sortedMap<V>(m: Map<string, V>, f: (v: V) => unknown): Map<string, unknown> {
  const keys = [...m.keys()].sort();
  return new Map(keys.map((k) => [k, f(m.get(k)!)]));
}

/** Encodes series (already sorted by fingerprint, chunks sorted) into the on-disk form. */
export function encodeIndexFile(tenant: string, table: string, series: readonly IndexSeries[]): Buffer {
  const postings = buildPostings(series);
  const doc = new Map<string, unknown>([
    ['format', INDEX_FORMAT],
    ['tenant', tenant],
    ['table', table],
    [
      'series',
      series.map((s) => [
        s.fingerprint,
        s.labels.flat(),
        s.chunks.map((c) => [c.from, c.through, c.checksum, c.entries, c.uncompressedBytes, c.compressedBytes]),
      ]),
    ],
    ['postings', sortedMap(postings, (values) => sortedMap(values, (fps) => [...fps].sort()))],
  ]);
  return encoder.encode(doc);
}

const FINGERPRINT = /^[0-9a-f]{16}$/;

/** Decodes and checks an index file; `source` (usually the object key) names it in errors. */
export function decodeIndexFile(buf: Buffer, source: string): IndexFile {
  const bad = (why: string): Error => new Error(`corrupt index file ${source}: ${why}`);
  let doc: unknown;
  try {
    doc = decoder.decode(buf);
  } catch (e) {
    throw bad(`not CBOR (${(e as Error).message})`);
  }
  if (!(doc instanceof Map)) throw bad('top level is not a map');
  const format = doc.get('format');
  if (format !== INDEX_FORMAT) throw bad(`unsupported format ${String(format)} (this reader knows ${INDEX_FORMAT})`);
  const tenant = doc.get('tenant');
  const table = doc.get('table');
  if (typeof tenant !== 'string' || typeof table !== 'string') throw bad('tenant or table missing');
  const rawSeries = doc.get('series');
  if (!Array.isArray(rawSeries)) throw bad('series is not an array');

  const series: IndexSeries[] = rawSeries.map((raw: unknown, i): IndexSeries => {
    if (!Array.isArray(raw) || raw.length !== 3) throw bad(`series ${i} is not [fingerprint, labels, chunks]`);
    const [fp, flat, chunks] = raw as [unknown, unknown, unknown];
    if (typeof fp !== 'string' || !FINGERPRINT.test(fp)) throw bad(`series ${i}: bad fingerprint`);
    if (!Array.isArray(flat) || flat.length % 2 !== 0 || !flat.every((x) => typeof x === 'string')) {
      throw bad(`series ${fp}: labels are not name/value strings`);
    }
    const labels: LabelPair[] = [];
    for (let j = 0; j < flat.length; j += 2) labels.push([flat[j] as string, flat[j + 1] as string]);
    if (!Array.isArray(chunks)) throw bad(`series ${fp}: chunks is not an array`);
    return {
      fingerprint: fp,
      labels,
      chunks: chunks.map((c: unknown): IndexedChunk => {
        if (!Array.isArray(c) || c.length !== 6) throw bad(`series ${fp}: chunk is not a 6-element array`);
        const [from, through, checksum, entries, ub, cb] = c as unknown[];
        if (!isUint(from) || !isUint(through) || !isUint(checksum) || !isUint(entries) || !isUint(ub) || !isUint(cb)) {
          throw bad(`series ${fp}: chunk fields are not unsigned integers`);
        }
        return {
          tenant,
          fingerprint: fp,
          from: BigInt(from),
          through: BigInt(through),
          checksum: Number(checksum),
          entries: Number(entries),
          uncompressedBytes: Number(ub),
          compressedBytes: Number(cb),
        };
      }),
    };
  });

  const rawPostings = doc.get('postings');
  if (!(rawPostings instanceof Map)) throw bad('postings is not a map');
  const postings = new Map<string, Map<string, string[]>>();
  for (const [name, values] of rawPostings as Map<unknown, unknown>) {
    if (typeof name !== 'string' || !(values instanceof Map)) throw bad('postings entry is not name → map');
    const byValue = new Map<string, string[]>();
    for (const [value, fps] of values as Map<unknown, unknown>) {
      if (typeof value !== 'string' || !Array.isArray(fps) || !fps.every((x) => typeof x === 'string')) {
        throw bad(`postings ${name}: entry is not value → fingerprints`);
      }
      byValue.set(value, fps as string[]);
    }
    postings.set(name, byValue);
  }
  return { format, tenant, table, series, postings };
}

function isUint(v: unknown): v is number | bigint {
  return typeof v === 'bigint' ? v >= 0n : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

// ── object keys ────────────────────────────────────────────────────────────────────────────────────────────────

const UPLOADER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const TABLE = /^[A-Za-z0-9_.-]+$/;
const FILE_NAME = /^(.+)-(\d+)-(\d+)\.cbor$/;

export interface IndexFileKeyParts {
  table: string;
  tenant: string;
  uploaderId: string;
  unixMs: number;
  seq: number;
}

function checkTable(table: string): void {
  if (!TABLE.test(table) || table === '.' || table === '..') {
    throw new Error(`invalid index table ${JSON.stringify(table)}`);
  }
}

/** `index/<table>/<tenant>/`: every file of one tenant in one table (readers merge them all). */
export function indexTablePrefix(table: string, tenant: string): string {
  checkTable(table);
  validateKeyTenant(tenant);
  return `index/${table}/${tenant}/`;
}

/**
 * `index/<table>/<tenant>/<uploader-id>-<unix-ms>-<seq>.cbor`. The uploader ID (an ingester's instance ID) keeps
 * concurrent uploaders apart; the time and a per-uploader sequence keep one uploader's files apart, also across
 * restarts.
 */
export function indexFileKey(table: string, tenant: string, uploaderId: string, unixMs: number, seq: number): string {
  if (!UPLOADER.test(uploaderId)) throw new Error(`invalid uploader id ${JSON.stringify(uploaderId)}`);
  if (!Number.isSafeInteger(unixMs) || unixMs < 0) throw new Error(`invalid index file time ${unixMs}`);
  if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`invalid index file sequence ${seq}`);
  return `${indexTablePrefix(table, tenant)}${uploaderId}-${unixMs}-${seq}.cbor`;
}

/** The parts of an index file key, or undefined for any other object (readers skip those). */
export function parseIndexFileKey(key: string): IndexFileKeyParts | undefined {
  const parts = key.split('/');
  if (parts.length !== 4 || parts[0] !== 'index') return undefined;
  const m = FILE_NAME.exec(parts[3]!);
  if (!m || !UPLOADER.test(m[1]!)) return undefined;
  const unixMs = Number(m[2]);
  const seq = Number(m[3]);
  if (!Number.isSafeInteger(unixMs) || !Number.isSafeInteger(seq)) return undefined;
  return { table: parts[1]!, tenant: parts[2]!, uploaderId: m[1]!, unixMs, seq };
}
