import type { Logger } from '../util/logger.js';
import type { BackoffOptions, RingKvWatch } from './kv.js';
import type { InstanceDesc } from './model.js';

/**
 * What every store's ring watch shares: a loop (list, then follow changes, relisting with backoff on failure) that
 * stop() ends and waits for, the first-snapshot promise, snapshot delivery that never throws into the store
 * client, and a sleep that stop() cuts short. Subclasses write `run()` for their store.
 */
export abstract class WatchLoop implements RingKvWatch {
  readonly synced: Promise<void>;
  protected resolveSynced!: () => void;
  protected stopped = false;
  /** Ends the current wait (a sleep, or a store watch) early; set by whoever waits. */
  protected wake: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly onSnapshot: (instances: InstanceDesc[]) => void,
    protected readonly logger: Logger,
    protected readonly backoff: BackoffOptions,
    private readonly onStopped: () => void,
  ) {
    this.synced = new Promise((resolve) => (this.resolveSynced = resolve));
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.interrupt();
    this.wake?.();
    await this.loop;
    this.onStopped();
  }

  protected abstract run(): Promise<void>;

  /** Cancels a store request in flight when stop() is called (nothing by default). */
  protected interrupt(): void {}

  protected emit(records: Map<string, InstanceDesc>): void {
    this.guard(() => this.onSnapshot([...records.values()]));
  }

  protected guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error('ring watch handler failed', { err });
    }
  }

  protected sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/** A store client's open watches: each is started unless the client is closed, and closing stops them all. */
export class WatchSet {
  private readonly watches = new Set<WatchLoop>();
  private isClosed = false;

  get closed(): boolean {
    return this.isClosed;
  }

  /** Adds the watch `make` builds; it is given the callback that forgets the watch once it has stopped. */
  open(make: (forget: () => void) => WatchLoop): WatchLoop {
    const w = make(() => this.watches.delete(w));
    this.watches.add(w);
    if (this.isClosed) void w.stop();
    else w.start();
    return w;
  }

  async close(): Promise<void> {
    this.isClosed = true;
    await Promise.all([...this.watches].map((w) => w.stop()));
  }
}
