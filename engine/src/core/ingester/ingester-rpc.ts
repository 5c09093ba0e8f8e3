import type { WireBlock } from '../chunk/mem-chunk.js';
import { WireChunk } from '../chunk/wire-chunk.js';
import { EngineError, HTTP_STATUS, type ErrorCode, type Rejection } from '../errors.js';
import type { LabelMatcher } from '../logql/syntax/matcher.js';
import type { Labels, PushEntry } from '../model.js';
import type { CallOptions, RpcClient } from '../rpc/client.js';
import { encodeArrayBody, encodeBody } from '../rpc/codec.js';
import { labelsFromWire, matchersFromWire, matchersToWire, needTenant, rangeFromWire, type RpcServer } from '../rpc/server.js';
import type { ChunkRef } from '../storage/chunk-key.js';
import type { Ingester, ValidStream } from './ingester.js';
import type { MemoryStream } from './memory-stream.js';

// The ingester's internal methods (docs/internal-protocol.md):
//   ingester/push    {streams: WireStream[]}                → {rejections: WireRejection[]}
//   ingester/chunks  {matchers, from, through}              → {streams: WireMemoryStream[]}   (through exclusive)
//   ingester/series  {matchers, from, through}              → {series: Labels[]}              (through exclusive)
//   ingester/flush   {}                                     → {}

interface WireStream {
  labels: Labels;
  canonical: string;
  entries: PushEntry[];
}

/** A refusal, tied to the index of the stream in the request so the distributor can merge replicas per stream. */
interface WireRejection {
  stream: number;
  code: ErrorCode;
  message: string;
  reason: string;
  lines: number;
  bytes: number;
}

interface WireMemoryChunk {
  encoding: string;
  withMetadata: boolean;
  blocks: WireBlock[];
  ref: ChunkRef | null;
}

interface WireMemoryStream {
  labels: Labels;
  canonical: string;
  fingerprint: string;
  chunks: WireMemoryChunk[];
}

/** Serves an ingester's internal methods. */
export function registerIngesterMethods(server: RpcServer, ingester: Ingester): void {
  server.register('ingester/push', async (tenant, body) => {
    const t = needTenant(tenant);
    const streams = (body as { streams?: WireStream[] }).streams;
    if (!Array.isArray(streams)) throw new EngineError('bad_request', 'streams: expected an array');
    const valid: ValidStream[] = streams.map((s) => ({ labels: labelsFromWire(s.labels), canonical: String(s.canonical), entries: s.entries }));
    const rejections = await ingester.push(t, valid);
    return {
      rejections: rejections.map(
        (r): WireRejection => ({ stream: r.stream ?? -1, code: r.error.code, message: r.error.message, reason: r.reason, lines: r.lines, bytes: r.bytes }),
      ),
    };
  });
  server.register('ingester/chunks', async (tenant, body) => {
    const t = needTenant(tenant);
    const b = body as { matchers?: unknown; from?: unknown; through?: unknown };
    const { from, through } = rangeFromWire(b);
    const out: WireMemoryStream[] = [];
    for (const s of ingester.chunks(t, matchersFromWire(b.matchers), from, through)) {
      const chunks: WireMemoryChunk[] = [];
      for (const c of s.chunks) {
        const blocks = c.chunk.wireBlocks(from, through);
        if (blocks.length > 0) chunks.push({ encoding: c.chunk.encoding, withMetadata: c.chunk.withMetadata, blocks, ref: c.ref ?? null });
      }
      if (chunks.length > 0) out.push({ labels: s.labels, canonical: s.canonical, fingerprint: s.fingerprint, chunks });
    }
    return { streams: out };
  });
  server.register('ingester/series', async (tenant, body) => {
    const t = needTenant(tenant);
    const b = body as { matchers?: unknown; from?: unknown; through?: unknown };
    const { from, through } = rangeFromWire(b);
    return { series: ingester.series(t, matchersFromWire(b.matchers), from, through) };
  });
  server.register('ingester/flush', async () => {
    await ingester.flushAll();
    return {};
  });
}

/** The result of pushing to one ingester: its refusals, each tied to the index of the stream it concerns. */
export interface IngesterPushResult {
  rejections: Array<Rejection & { stream: number }>;
}

/** Calls one remote ingester's internal methods. */
export class IngesterClient {
  constructor(private readonly rpc: RpcClient) {}

  /** Each stream's CBOR, to encode a stream once however many replicas it is pushed to (see `push`). */
  static encodeStream(s: ValidStream): Buffer {
    return encodeBody({ labels: s.labels, canonical: s.canonical, entries: s.entries } satisfies WireStream);
  }

  /** Pushes streams (or streams already encoded with `encodeStream`) to one ingester. */
  async push(addr: string, tenant: string, streams: readonly ValidStream[] | readonly Buffer[], opts?: CallOptions): Promise<IngesterPushResult> {
    const encoded = streams.map((s) => (Buffer.isBuffer(s) ? s : IngesterClient.encodeStream(s)));
    const res = await this.rpc.call<{ rejections: WireRejection[] }>(addr, 'ingester/push', tenant, encodeArrayBody('streams', encoded), opts);
    return {
      rejections: res.rejections.map((r) => ({
        stream: r.stream,
        error: new EngineError(r.code in HTTP_STATUS ? r.code : 'internal', r.message),
        reason: r.reason,
        lines: r.lines,
        bytes: r.bytes,
      })),
    };
  }

  async chunks(addr: string, tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint, opts?: CallOptions): Promise<MemoryStream[]> {
    const res = await this.rpc.call<{ streams: WireMemoryStream[] }>(
      addr,
      'ingester/chunks',
      tenant,
      { matchers: matchersToWire(matchers), from, through },
      { idempotent: true, ...opts },
    );
    return res.streams.map((s) => ({
      labels: s.labels,
      canonical: s.canonical,
      fingerprint: s.fingerprint,
      chunks: s.chunks.map((c) => ({ chunk: new WireChunk(c), ref: c.ref ?? undefined })),
    }));
  }

  async series(addr: string, tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint, opts?: CallOptions): Promise<Labels[]> {
    const res = await this.rpc.call<{ series: Labels[] }>(
      addr,
      'ingester/series',
      tenant,
      { matchers: matchersToWire(matchers), from, through },
      { idempotent: true, ...opts },
    );
    return res.series;
  }

  async flush(addr: string, opts?: CallOptions): Promise<void> {
    await this.rpc.call(addr, 'ingester/flush', undefined, {}, opts);
  }
}
