/**
 * Timers as a dependency of the lifecycler (heartbeats, join_after, retry backoff), so tests can drive them with a
 * ManualClock instead of waiting.
 */
import type { ManualClock } from '../util/clock.js';

export type TimerHandle = unknown;

export interface RingTimers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's timers, unref'd: a ring's heartbeat alone never keeps a process alive. */
export const realTimers: RingTimers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** Timers that fire only when `advance` moves the paired ManualClock past their due time. */
export class ManualTimers implements RingTimers {
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  constructor(readonly clock: ManualClock) {}

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.pending.set(id, { at: this.clock.now() + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }

  /** Timers waiting to fire. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Moves the clock forward by `ms`, firing due timers in order (each at its own due time) and letting the promise
   * chains they start run to completion between them.
   */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (;;) {
      await settle();
      let nextId = -1;
      let next: { at: number; fn: () => void } | undefined;
      for (const [id, t] of this.pending) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && id < nextId))) {
          next = t;
          nextId = id;
        }
      }
      if (!next) break;
      this.pending.delete(nextId);
      if (next.at > this.clock.now()) this.clock.set(next.at);
      next.fn();
    }
    this.clock.set(end);
    await settle();
  }
}

/** Lets pending promise callbacks (several hops deep) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
