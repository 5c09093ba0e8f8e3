import { EngineError, isEngineError } from '../errors.js';

export interface RetryOptions {
  /** Attempts in all, as Loki counts `query_range.max_retries` (5: the first try and four retries). */
  maxRetries: number;
  /** Wait before the second attempt; doubles per attempt up to `maxBackoffMs` (Loki: 250 ms and 5 s). */
  minBackoffMs: number;
  maxBackoffMs: number;
  signal?: AbortSignal;
  /** Called before each retry (metrics, logs). */
  onRetry?(error: unknown, attempt: number): void;
}

/**
 * Whether a failed sub-query is worth trying again: a server-side failure (500, 503, or an error that is not an
 * EngineError, such as a dropped connection), as Loki retries 5xx and unknown errors. Client errors (4xx: a bad
 * query, a limit) fail the same way again. A 504 is not retried either: the sub-query ran out of the query's time
 * budget, which a retry would only spend again.
 */
export function isRetryable(e: unknown): boolean {
  if (!isEngineError(e)) return !isAbort(e);
  return e.status >= 500 && e.code !== 'timeout';
}

export function isAbort(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

/** The error a cancelled query rejects with (499, as Loki reports a query its client gave up on). */
export function cancelledError(signal?: AbortSignal): EngineError {
  const reason: unknown = signal?.reason;
  if (isEngineError(reason)) return reason;
  return new EngineError('client_closed', 'context canceled');
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(cancelledError(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelledError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails with an error that is not retryable, or `maxRetries` attempts have
 * failed (then the last error). Waits with exponential backoff between attempts; stops at once when `signal`
 * aborts.
 */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const tries = Math.max(1, opts.maxRetries);
  let delay = opts.minBackoffMs;
  let last: unknown;
  for (let n = 0; n < tries; n++) {
    if (opts.signal?.aborted) throw cancelledError(opts.signal);
    try {
      return await attempt(n);
    } catch (e) {
      if (opts.signal?.aborted) throw cancelledError(opts.signal);
      if (!isRetryable(e)) throw e;
      last = e;
      if (n + 1 >= tries) break;
      opts.onRetry?.(e, n + 1);
      if (delay > 0) await sleep(delay, opts.signal);
      delay = Math.min(delay * 2, opts.maxBackoffMs);
    }
  }
  throw last;
}
