import { EngineError } from '../errors.js';

/** Loki's answer when a query runs past `query_timeout` (HTTP 504). */
export const DEADLINE_EXCEEDED =
  'request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed';

/**
 * A query's time budget, checked cooperatively between units of work (a stream, a chunk, a batch of steps). It reads
 * a monotonic clock rather than the engine clock: the budget is about real elapsed CPU and I/O time, and a test's
 * fake wall clock must not make queries time out.
 */
export class Deadline {
  private readonly at: number;

  /** `timeoutMs` ≤ 0 means no limit. */
  constructor(timeoutMs: number, private readonly now: () => number = () => performance.now()) {
    this.at = timeoutMs > 0 ? now() + timeoutMs : Infinity;
  }

  static none(): Deadline {
    return new Deadline(0);
  }

  expired(): boolean {
    return this.now() > this.at;
  }

  /** Throws the 504 EngineError once the budget is spent. */
  check(): void {
    if (this.at !== Infinity && this.now() > this.at) throw new EngineError('timeout', DEADLINE_EXCEEDED);
  }
}
