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
