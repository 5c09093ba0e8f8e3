/**
 * The `inmemory` ring store: one process, every component of it sharing one registry (Loki's `inmemory` kvstore).
 * Records are kept as their JSON text, exactly as the other backends store them, so nothing shares objects with a
 * caller, and watchers are notified asynchronously, as a real store would.
 */
import { nopLogger, type Logger } from '../util/logger.js';
import type { RingKv, RingKvWatch } from './kv.js';
import { decodeInstanceDesc, encodeInstanceDesc, type InstanceDesc } from './model.js';

type Listener = () => void;

/** Records of every ring of one process, by ring key. */
export class InMemoryKvRegistry {
  private readonly rings = new Map<string, { records: Map<string, string>; listeners: Set<Listener> }>();

  /** @internal */
  ring(ringKey: string): { records: Map<string, string>; listeners: Set<Listener> } {
    let r = this.rings.get(ringKey);
    if (!r) {
      r = { records: new Map(), listeners: new Set() };
      this.rings.set(ringKey, r);
    }
    return r;
  }
}

/** The process-wide registry `ringKvFromConfig` uses unless given another one. */
export const defaultInMemoryKvRegistry = new InMemoryKvRegistry();

export class InMemoryKv implements RingKv {
  readonly kind = 'inmemory' as const;
  private readonly ring: { records: Map<string, string>; listeners: Set<Listener> };
  private readonly watches = new Set<{ stop(): Promise<void> }>();

  constructor(
    readonly ringKey: string,
    registry: InMemoryKvRegistry = defaultInMemoryKvRegistry,
    private readonly logger: Logger = nopLogger,
  ) {
    this.ring = registry.ring(ringKey);
  }

  async put(desc: InstanceDesc): Promise<void> {
    this.ring.records.set(desc.id, encodeInstanceDesc(desc));
    this.notify();
  }

  async get(id: string): Promise<InstanceDesc | undefined> {
    const text = this.ring.records.get(id);
    return text === undefined ? undefined : decodeInstanceDesc(text);
  }

  async delete(id: string): Promise<void> {
    if (this.ring.records.delete(id)) this.notify();
  }

  async list(): Promise<InstanceDesc[]> {
    return this.snapshot();
  }

  watch(onSnapshot: (instances: InstanceDesc[]) => void): RingKvWatch {
    let stopped = false;
    let scheduled = false;
    const deliver = (): void => {
      scheduled = false;
      if (stopped) return;
      try {
        onSnapshot(this.snapshot());
      } catch (err) {
        this.logger.error('ring watch handler failed', { ring: this.ringKey, err });
      }
    };
    // Several changes in one tick coalesce into one snapshot, like a watch stream's batch.
    const listener: Listener = () => {
      if (scheduled || stopped) return;
      scheduled = true;
      queueMicrotask(deliver);
    };
    this.ring.listeners.add(listener);
    const synced = Promise.resolve().then(deliver);
    const handle = {
      synced,
      stop: async () => {
        stopped = true;
        this.ring.listeners.delete(listener);
        this.watches.delete(handle);
      },
    };
    this.watches.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.watches].map((w) => w.stop()));
  }

  private snapshot(): InstanceDesc[] {
    const out: InstanceDesc[] = [];
    for (const text of this.ring.records.values()) {
      const d = decodeInstanceDesc(text);
      if (d) out.push(d);
    }
    return out;
  }

  private notify(): void {
    for (const l of this.ring.listeners) l();
  }
}
