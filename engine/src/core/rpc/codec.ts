import { Encoder } from 'cbor-x';
import { EngineError, HTTP_STATUS, type ErrorCode } from '../errors.js';

/**
 * The body codec of calls between Strata components (docs/internal-protocol.md): CBOR via cbor-x, plain maps as
 * objects, no records or structured clones, so every body is standard CBOR. `bigint` travels as a 64-bit integer
 * and comes back as a `bigint` (nanosecond timestamps stay exact); `Buffer`s travel as byte strings and come back
 * as `Buffer` views of the received body (no copy).
 */
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true });

export const CBOR_CONTENT_TYPE = 'application/cbor';

export function encodeBody(value: unknown): Buffer {
  return encoder.encode(value);
}

/** A body already encoded as CBOR (the client sends it as it is). */
export class EncodedBody {
  constructor(readonly bytes: Buffer) {}
}

/** CBOR head of a major type (4: array, 5: map, 3: text) with its length, shortest form. */
function head(major: number, n: number): Buffer {
  const m = major << 5;
  if (n < 24) return Buffer.from([m | n]);
  if (n < 0x100) return Buffer.from([m | 24, n]);
  if (n < 0x10000) return Buffer.from([m | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = m | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

/**
 * `{<key>: [item, item, …]}` from items encoded once each: a push to several ingesters sends each stream to each of
 * its replicas, and encoding it once instead of once per replica saves most of the distributor's CBOR work.
 */
export function encodeArrayBody(key: string, items: readonly Buffer[]): EncodedBody {
  const k = Buffer.from(key, 'utf8');
  return new EncodedBody(Buffer.concat([head(5, 1), head(3, k.length), k, head(4, items.length), ...items]));
}

export function decodeBody<T>(buf: Uint8Array): T {
  if (buf.length === 0) return undefined as T;
  return encoder.decode(buf) as T;
}

/** The body of a failed call: the error's stable code and message, so the caller rethrows the same EngineError. */
export interface RpcErrorBody {
  code: ErrorCode;
  message: string;
}

export function errorBody(err: unknown): { status: number; body: Buffer } {
  const e = err instanceof EngineError ? err : new EngineError('internal', err instanceof Error ? err.message : String(err));
  return { status: e.status, body: encodeBody({ code: e.code, message: e.message } satisfies RpcErrorBody) };
}

/** Rebuilds the EngineError a peer answered with (unknown codes become `internal`). */
export function errorFromBody(status: number, buf: Uint8Array): EngineError {
  try {
    const b = decodeBody<Partial<RpcErrorBody>>(buf);
    if (b && typeof b.code === 'string' && b.code in HTTP_STATUS && typeof b.message === 'string') {
      return new EngineError(b.code, b.message);
    }
  } catch {
    // not a CBOR error body (e.g. a proxy's page): fall through
  }
  const text = Buffer.from(buf).toString('utf8').slice(0, 512);
  return new EngineError(status >= 500 || status === 0 ? 'unavailable' : 'internal', `unexpected response ${status}: ${text}`);
}
