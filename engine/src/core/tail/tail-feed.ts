import { EngineError } from '../errors.js';
import type { AppendListener, AppendedStream } from '../ingester/ingester.js';
import type { Labels, PushEntry } from '../model.js';
import type { RpcServer } from '../rpc/server.js';
import type { Clock } from '../util/clock.js';
import type { TailSource } from './tail-manager.js';

// An ingester's live entries for queriers in other processes (docs/internal-protocol.md):
//   ingester/tail_poll {session, tenants, waitMs} → {batches: [{tenant, labels, canonical, fingerprint, entries}], dropped}
// A querier with open tails polls every ingester with its own session id and the tenants it tails; the first poll
// opens the session, each poll replaces its tenants and takes what was appended since the previous one.

/** One stream's entries appended by one push. */
export interface TailBatch {
  tenant: string;
  labels: Labels;
  canonical: string;
  fingerprint: string;
  entries: PushEntry[];
}

export interface TailFeedOptions {
  clock: Clock;
  /** Bytes of lines a session may hold between polls; beyond, the oldest batches are dropped (and counted). */
  maxSessionBytes?: number;
  /** A session not polled for this long is closed (the querier went away). */
  sessionIdleMs?: number;
  /** Longest wait of one poll for new entries, milliseconds. */
  maxWaitMs?: number;
}

class Session {
  tenants = new Set<string>();
  batches: TailBatch[] = [];
  bytes = 0;
  dropped = 0;
  polledAt: number;
  waiter: (() => void) | undefined;

  constructor(now: number) {
    this.polledAt = now;
  }
}

/**
 * The ingester side of a distributed tail: per querier session, a bounded buffer of the entries appended for the
 * tenants it tails. It listens to the ingester only while a session exists, so pushes cost nothing otherwise.
 * Entries are copied (the push's buffers belong to the request).
 */
export class TailFeed implements AppendListener {
  private readonly sessions = new Map<string, Session>();
  private readonly maxBytes: number;
  private readonly idleMs: number;
  private readonly maxWaitMs: number;
  private listening = false;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: TailSource,
    private readonly opts: TailFeedOptions,
  ) {
    this.maxBytes = opts.maxSessionBytes ?? 16 * 1024 * 1024;
    this.idleMs = opts.sessionIdleMs ?? 30_000;
    this.maxWaitMs = opts.maxWaitMs ?? 2_000;
  }

  register(server: RpcServer): void {
    server.register('ingester/tail_poll', async (_t, body, signal) => {
      const b = body as { session?: unknown; tenants?: unknown; waitMs?: unknown };
      if (typeof b.session !== 'string' || b.session === '') throw new EngineError('bad_request', 'session: required');
      if (!Array.isArray(b.tenants)) throw new EngineError('bad_request', 'tenants: expected an array');
      return this.poll(b.session, b.tenants.map(String), Math.min(this.maxWaitMs, Math.max(0, Number(b.waitMs) || 0)), signal);
    });
  }

  async poll(id: string, tenants: string[], waitMs: number, signal?: AbortSignal): Promise<{ batches: TailBatch[]; dropped: number }> {
    const now = this.opts.clock.now();
    let s = this.sessions.get(id);
    if (s === undefined) {
      s = new Session(now);
      this.sessions.set(id, s);
      this.listen();
    }
    s.polledAt = now;
    s.tenants = new Set(tenants);
    if (s.batches.length === 0 && waitMs > 0 && !signal?.aborted) {
      const session = s;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          session.waiter = undefined;
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        signal?.addEventListener('abort', done, { once: true });
        session.waiter = done;
      });
      s.polledAt = this.opts.clock.now();
    }
    const out = { batches: s.batches, dropped: s.dropped };
    s.batches = [];
    s.bytes = 0;
    s.dropped = 0;
    return out;
  }

  appended(tenant: string, stream: AppendedStream, entries: readonly PushEntry[]): void {
    let copy: PushEntry[] | undefined;
    let size = 0;
    for (const s of this.sessions.values()) {
      if (!s.tenants.has(tenant)) continue;
      if (copy === undefined) {
        copy = entries.map((e) => ({ ts: e.ts, line: Buffer.from(e.line), ...(e.metadata ? { metadata: [...e.metadata] } : {}) }));
        for (const e of copy) size += e.line.length;
      }
      s.batches.push({ tenant, labels: stream.labels, canonical: stream.canonical, fingerprint: stream.fingerprint, entries: copy });
      s.bytes += size;
      while (s.bytes > this.maxBytes && s.batches.length > 1) {
        const old = s.batches.shift()!;
        s.dropped += old.entries.length;
        for (const e of old.entries) s.bytes -= e.line.length;
      }
      s.waiter?.();
    }
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  stop(): void {
    for (const s of this.sessions.values()) s.waiter?.();
    this.sessions.clear();
    this.unlisten();
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.source.setAppendListener(this);
    this.sweeper = setInterval(() => this.sweep(), Math.max(1_000, this.idleMs / 3));
    this.sweeper.unref();
  }

  private unlisten(): void {
    if (!this.listening) return;
    this.listening = false;
    this.source.setAppendListener(undefined);
    if (this.sweeper) clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = this.opts.clock.now();
    for (const [id, s] of this.sessions) if (now - s.polledAt > this.idleMs) this.sessions.delete(id);
    if (this.sessions.size === 0) this.unlisten();
  }
}
