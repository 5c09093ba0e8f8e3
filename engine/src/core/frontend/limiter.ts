import { cancelledError } from './retry.js';

interface Waiter {
  grant(): void;
  reject(e: unknown): void;
  signal: AbortSignal | undefined;
  /** Dropped by an abort while waiting: skipped when its turn comes. */
  dropped: boolean;
}

/**
 * At most `max` tasks at a time, started in the order they asked (Loki's `max_query_parallelism`: the sub-queries
 * of one query in flight at once). A task waiting for a slot is dropped when its signal aborts.
 *
 * A query may queue tens of thousands of sub-queries here, all with the query's one signal: the limiter listens to
 * each signal once (an EventTarget scans its listeners on every add, so one listener per waiter is quadratic) and
 * keeps the queue as an array with a moving head (shift() copies).
 */
export class Limiter {
  private running = 0;
  private queue: Waiter[] = [];
  private head = 0;
  private readonly listening = new Map<AbortSignal, { waiters: Set<Waiter>; onAbort: () => void }>();

  constructor(private readonly max: number) {}

  get active(): number {
    return this.running;
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelledError(signal));
    if (this.running < Math.max(1, this.max)) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { grant: resolve, reject, signal, dropped: false };
      this.queue.push(w);
      if (signal) this.watch(signal).add(w);
    });
  }

  private watch(signal: AbortSignal): Set<Waiter> {
    let l = this.listening.get(signal);
    if (!l) {
      const waiters = new Set<Waiter>();
      const onAbort = (): void => {
        this.listening.delete(signal);
        for (const w of waiters) {
          w.dropped = true;
          w.reject(cancelledError(signal));
        }
      };
      l = { waiters, onAbort };
      this.listening.set(signal, l);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    return l.waiters;
  }

  private release(): void {
    this.running--;
    while (this.head < this.queue.length) {
      const w = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (w.dropped) continue;
      if (w.signal) {
        const l = this.listening.get(w.signal);
        if (l) {
          l.waiters.delete(w);
          if (l.waiters.size === 0) {
            this.listening.delete(w.signal);
            w.signal.removeEventListener('abort', l.onAbort);
          }
        }
      }
      this.running++;
      w.grant();
      return;
    }
  }
}
