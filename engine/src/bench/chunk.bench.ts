/**
 * Chunk encode/decode throughput and compression ratio per codec, on one stream per line format (a chunk holds one
 * stream). Encode = append every entry + cut blocks (256 KiB) + encode() each chunk at the 1.5 MiB target, as the
 * ingester does; decode = decodeChunk + readEntries of every entry. Rates are line bytes per second; the ratio is
 * Loki's: line bytes / encoded chunk bytes.
 */
import { CHUNK_ENCODINGS, decodeChunk, MemChunk, type ChunkEncoding } from '../core/chunk/index.js';
import { LineMaker, Rng, type Level, type LogFormat } from './corpus.js';

export interface ChunkCorpus {
  streams: Array<{ format: LogFormat; ts: bigint[]; lines: Buffer[] }>;
  lines: number;
  lineBytes: number;
}

const FORMATS: readonly LogFormat[] = ['nginx', 'logfmt', 'json', 'klog'];
const LEVELS: readonly Level[] = ['info', 'info', 'info', 'info', 'info', 'info', 'debug', 'debug', 'warn', 'error'];

/** `bytesPerFormat` of lines for each format, one stream each, 1 ms apart. */
export function chunkCorpus(seed: number, bytesPerFormat: number, startMs: number): ChunkCorpus {
  const rng = new Rng(seed);
  const maker = new LineMaker(rng);
  const streams: ChunkCorpus['streams'] = [];
  let lines = 0;
  let lineBytes = 0;
  for (const format of FORMATS) {
    const ts: bigint[] = [];
    const ls: Buffer[] = [];
    let bytes = 0;
    for (let ms = startMs; bytes < bytesPerFormat; ms++) {
      const line = Buffer.from(maker.line(format, LEVELS[rng.int(LEVELS.length)]!, ms));
      ts.push(BigInt(ms) * 1_000_000n + BigInt(rng.int(1000)));
      ls.push(line);
      bytes += line.length;
    }
    streams.push({ format, ts, lines: ls });
    lines += ls.length;
    lineBytes += bytes;
  }
  return { streams, lines, lineBytes };
}

export interface CodecResult {
  encoding: ChunkEncoding;
  chunks: number;
  /** Line bytes / encoded chunk bytes (Loki's chunk compression ratio). */
  ratio: number;
  /** Line MB (10^6 B) per wall second, one chunk at a time (best run). */
  encodeMBps: number;
  decodeMBps: number;
  /** Line MB per CPU-second of this process (all threads: the codecs run on the libuv pool). */
  encodeMBpCpu: number;
  decodeMBpCpu: number;
}

const MIN_TS = -(1n << 63n);
const NO_END = 1n << 63n;

async function encodeAll(corpus: ChunkCorpus, encoding: ChunkEncoding): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const opts = { encoding, blockSize: 256 * 1024, targetSize: 1536 * 1024, structuredMetadata: true };
  for (const s of corpus.streams) {
    let c = new MemChunk(opts);
    const { ts, lines } = s;
    for (let i = 0; i < ts.length; i++) {
      if (c.isFull()) {
        out.push(await c.encode());
        c = new MemChunk(opts);
      }
      c.append(ts[i]!, lines[i]!);
      if (c.needsCut()) await c.cutBlock();
    }
    if (c.entryCount > 0) out.push(await c.encode());
  }
  return out;
}

async function decodeAll(chunks: readonly Buffer[]): Promise<{ entries: number; bytes: number }> {
  let entries = 0;
  let bytes = 0;
  for (const buf of chunks) {
    const r = await decodeChunk(buf);
    const es = await r.readEntries(MIN_TS, NO_END, 'forward');
    entries += es.length;
    for (const e of es) bytes += e.line.length;
  }
  return { entries, bytes };
}

/**
 * Runs `fn` once to warm up, then at least 5 times and for at least `minSeconds`; returns the best (smallest) wall
 * and CPU seconds of one run. The best run is the one least disturbed by GC of earlier runs and by other work on the
 * machine, which is what a codec comparison wants.
 */
async function timed(fn: () => Promise<unknown>, minSeconds: number): Promise<{ wall: number; cpu: number }> {
  await fn();
  let wall = Infinity;
  let cpu = Infinity;
  const start = performance.now();
  for (let runs = 0; runs < 5 || (performance.now() - start) / 1000 < minSeconds; runs++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall = Math.min(wall, (performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  return { wall, cpu };
}

export async function runChunkBench(
  corpus: ChunkCorpus,
  minSeconds = 0.5,
  encodings: readonly ChunkEncoding[] = CHUNK_ENCODINGS,
): Promise<CodecResult[]> {
  const results: CodecResult[] = [];
  const mb = corpus.lineBytes / 1e6;
  // Warm the shared paths (append, cut, encode, block reading) before the first codec is timed, so it is not the
  // one that pays for JIT tier-up and the heap settling after the corpus was made.
  for (const e of ['none', 'lz4-256k'] as const) await decodeAll(await encodeAll(corpus, e));
  for (const encoding of encodings) {
    const chunks = await encodeAll(corpus, encoding);
    // Correctness first: a fast codec that loses entries is not a result.
    const check = await decodeAll(chunks);
    if (check.entries !== corpus.lines || check.bytes !== corpus.lineBytes) {
      throw new Error(`${encoding}: decoded ${check.entries} entries / ${check.bytes} B, wrote ${corpus.lines} / ${corpus.lineBytes}`);
    }
    const enc = await timed(() => encodeAll(corpus, encoding), minSeconds);
    const dec = await timed(() => decodeAll(chunks), minSeconds);
    const size = chunks.reduce((n, c) => n + c.length, 0);
    results.push({
      encoding,
      chunks: chunks.length,
      ratio: corpus.lineBytes / size,
      encodeMBps: mb / enc.wall,
      decodeMBps: mb / dec.wall,
      encodeMBpCpu: mb / enc.cpu,
      decodeMBpCpu: mb / dec.cpu,
    });
  }
  return results;
}
