// The one error every KubeClient call rejects with: a small set of codes the operator's logic branches on, plus the
// apiserver's own Status message (which names the field, the conflicting manager, …) so logs and conditions can
// quote it verbatim.

export type KubeErrorCode =
  /** 404: the object (or its kind, or its namespace) does not exist. */
  | 'NotFound'
  /** 409: AlreadyExists, a stale resourceVersion, or a server-side-apply field conflict. */
  | 'Conflict'
  /** 400 / 422 / 415 / 405, or a request this client refuses to send: the request itself is wrong. */
  | 'Invalid'
  /** 401 / 403: credentials or RBAC. */
  | 'Forbidden'
  /** 410: a resourceVersion or continue token the apiserver no longer has; list again from scratch. */
  | 'Expired'
  /** No answer (connection refused or cut, TLS, timeout), 429, or a 5xx: retry later. */
  | 'Unavailable';

/** The fields of a Kubernetes `Status` body that matter to callers. */
export interface KubeStatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export class KubeError extends Error {
  override readonly name = 'KubeError';

  constructor(
    readonly code: KubeErrorCode,
    message: string,
    /** HTTP status of the apiserver's answer; 0 when there was none (network, timeout, client-side refusal). */
    readonly status = 0,
    /** The Status object's `reason` (`AlreadyExists`, `Conflict`, `Invalid`, `NotFound`, …) when the server sent one. */
    readonly reason?: string,
    /** The Status object's `details.causes` (field-level messages of an `Invalid`). */
    readonly causes: readonly KubeStatusCause[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Worth retrying unchanged: the server was unreachable or overloaded, or an optimistic-concurrency race was lost. */
  get retryable(): boolean {
    return this.code === 'Unavailable' || this.code === 'Conflict';
  }

  /** Maps an apiserver answer (HTTP status + body text) to a KubeError carrying the Status message. */
  static fromResponse(status: number, bodyText: string, what: string): KubeError {
    let body: { message?: unknown; reason?: unknown; details?: { causes?: unknown } } | undefined;
    try {
      const parsed: unknown = JSON.parse(bodyText);
      if (parsed && typeof parsed === 'object') body = parsed as typeof body;
    } catch {
      // Not a Status object (a proxy's HTML page, an empty 503): keep the raw text.
    }
    const message =
      typeof body?.message === 'string' && body.message !== '' ? body.message : `${what}: HTTP ${status}${bodyText ? `: ${bodyText.slice(0, 300)}` : ''}`;
    const reason = typeof body?.reason === 'string' ? body.reason : undefined;
    const causes = Array.isArray(body?.details?.causes) ? (body.details.causes as KubeStatusCause[]) : [];
    return new KubeError(codeForStatus(status), message, status, reason, causes);
  }

  /** A failure to get any answer at all. */
  static unavailable(err: unknown, what: string): KubeError {
    return new KubeError('Unavailable', `${what}: ${describeError(err)}`, 0, undefined, [], { cause: err });
  }
}

export function codeForStatus(status: number): KubeErrorCode {
  if (status === 404) return 'NotFound';
  if (status === 409) return 'Conflict';
  if (status === 410) return 'Expired';
  if (status === 401 || status === 403) return 'Forbidden';
  if (status === 429 || status >= 500 || status === 0) return 'Unavailable';
  return 'Invalid';
}

export function isKubeError(err: unknown, code?: KubeErrorCode): err is KubeError {
  return err instanceof KubeError && (code === undefined || err.code === code);
}

interface ErrorLike {
  message: string;
  code?: unknown;
  cause?: unknown;
}

// Duck-typed rather than `instanceof Error`: errors raised by Node's own sockets come from another realm under a
// VM-based test runner, and undici's AggregateErrors have no message of their own.
function errorLike(value: unknown): ErrorLike | undefined {
  if (!value || typeof value !== 'object' || typeof (value as { message?: unknown }).message !== 'string') return undefined;
  return value as ErrorLike;
}

/**
 * The message of an error plus its causes: undici reports "fetch failed" with the useful part (ECONNREFUSED, a TLS
 * error, "other side closed") in `cause`, sometimes inside an AggregateError.
 */
export function describeError(err: unknown): string {
  const first = errorLike(err);
  if (!first) return String(err);
  const parts: string[] = [];
  let current: ErrorLike | undefined = first;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = typeof current.code === 'string' ? current.code : undefined;
    let message = current.message;
    const inner = (current as { errors?: unknown }).errors;
    if (!message && Array.isArray(inner)) message = inner.map((e) => errorLike(e)?.message ?? String(e)).join('; ');
    if (code && !message.includes(code)) message = `${code} ${message}`.trim();
    if (message && !parts.includes(message)) parts.push(message);
    current = errorLike(current.cause);
  }
  return parts.join(': ');
}
