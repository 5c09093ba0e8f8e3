/**
 * One error type for every failure that reaches a client. `code` is stable (tests and metrics use it); the HTTP
 * status comes from one table so a code can never be answered with two different statuses. Message texts follow
 * Loki's, because clients and operators grep for them.
 */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_too_large'
  | 'unprocessable'
  | 'rate_limited'
  | 'too_many_requests'
  | 'client_closed'
  | 'timeout'
  | 'unavailable'
  | 'internal';

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_too_large: 413,
  unprocessable: 422,
  rate_limited: 429,
  too_many_requests: 429,
  client_closed: 499,
  timeout: 504,
  unavailable: 503,
  internal: 500,
};

export class EngineError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

export const badRequest = (message: string): EngineError => new EngineError('bad_request', message);
export const isEngineError = (e: unknown): e is EngineError => e instanceof EngineError;

/**
 * Entries refused on the write path (by the distributor's validation or by the ingester): Loki's message, the
 * discard reason (the `reason` label of loki_discarded_*) and what the refused entries weighed.
 */
export interface Rejection {
  error: EngineError;
  reason: string;
  lines: number;
  bytes: number;
  /** Index of the refused stream in the ingester's push (distributed mode merges replicas' answers per stream). */
  stream?: number;
}
