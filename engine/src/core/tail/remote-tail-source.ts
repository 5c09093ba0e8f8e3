import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { AppendListener } from '../ingester/ingester.js';
import type { ReadRing } from '../ring/ring.js';
import type { RpcClient } from '../rpc/client.js';
import { sleep } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { TailBatch } from './tail-feed.js';
import type { TailSource } from './tail-manager.js';

export interface RemoteTailSourceOptions {
  rpc: RpcClient;
  ring: Pick<ReadRing, 'healthyInstances'>;
  /** The tenants with open tails now (the TailManager's). */
  tenants: () => string[];
  logger: Logger;
  /** Longest wait of one poll, milliseconds (default 1000). */
  pollWaitMs?: number;
}

/** How long an entry is remembered to drop its replicas' copies: replicas append within this window. */
const DEDUP_WINDOW_MS = 30_000;

/**
 * Live entries from the ring's ingesters, for tails served by a querier or frontend in another process: while a
 * listener is set, one long-poll loop per healthy ingester takes what it appended for the tailed tenants
 * (`ingester/tail_poll`, see tail-feed.ts). Every entry arrives once per replica; copies are dropped by stream,
 * timestamp and line, so the tail sees each entry once, as in the single binary.
 */
export class RemoteTailSource implements TailSource {
  private listener: AppendListener | undefined;
  private readonly loops = new Map<string, Promise<void>>();
  private readonly session = `tail-${randomUUID()}`;
  private stop: AbortController | undefined;
  private refresher: NodeJS.Timeout | undefined;
  /** Recently delivered entries, `fingerprint ts crc len` → when, in two generations (cheap expiry). */
  private seen = new Set<string>();
  private seenOld = new Set<string>();
  private rotatedAt = Date.now();

  constructor(private readonly opts: RemoteTailSourceOptions) {}

  setAppendListener(listener: AppendListener | undefined): void {
    this.listener = listener;
    if (listener && !this.stop) {
      this.stop = new AbortController();
      this.refresh();
      this.refresher = setInterval(() => this.refresh(), 2_000);
      this.refresher.unref();
    } else if (!listener && this.stop) {
      this.stop.abort();
      this.stop = undefined;
      if (this.refresher) clearInterval(this.refresher);
      this.seen.clear();
      this.seenOld.clear();
    }
  }

  /** Starts a poll loop for every healthy ingester that has none (new ingesters join a running tail). */
  private refresh(): void {
    const stop = this.stop;
    if (!stop) return;
    let instances: Array<{ id: string; addr: string }> = [];
    try {
      instances = this.opts.ring.healthyInstances('read');
    } catch (err) {
      this.opts.logger.warn('tail: cannot read the ingester ring', { err });
    }
    for (const { id, addr } of instances) {
      if (this.loops.has(id)) continue;
      const loop = this.pollLoop(addr, stop.signal).finally(() => this.loops.delete(id));
      this.loops.set(id, loop);
    }
  }

  private async pollLoop(addr: string, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const tenants = this.opts.tenants();
      try {
        const res = await this.opts.rpc.call<{ batches: TailBatch[]; dropped: number }>(
          addr,
          'ingester/tail_poll',
          undefined,
          { session: this.session, tenants, waitMs: this.opts.pollWaitMs ?? 1_000 },
          { signal, timeoutMs: 10_000, ungated: true },
        );
        failures = 0;
        if (res.dropped > 0) this.opts.logger.warn('tail: an ingester dropped entries for a slow tail', { addr, dropped: res.dropped });
        this.deliver(res.batches);
      } catch (err) {
        if (signal.aborted) return;
        // An ingester that is gone stops its loop after a few tries; refresh() starts it again if it comes back.
        if (++failures >= 3) {
          this.opts.logger.warn('tail: ingester unreachable, stopped polling it', { addr, err });
          return;
        }
        await sleep(500);
      }
    }
  }

  private deliver(batches: readonly TailBatch[]): void {
    const listener = this.listener;
    if (!listener) return;
    const now = Date.now();
    if (now - this.rotatedAt > DEDUP_WINDOW_MS) {
      this.seenOld = this.seen;
      this.seen = new Set();
      this.rotatedAt = now;
    }
    for (const b of batches) {
      const fresh = b.entries.filter((e) => {
        const key = `${b.fingerprint} ${e.ts} ${crc32(e.line)} ${e.line.length}`;
        if (this.seen.has(key) || this.seenOld.has(key)) return false;
        this.seen.add(key);
        return true;
      });
      if (fresh.length > 0) listener.appended(b.tenant, { labels: b.labels, canonical: b.canonical, fingerprint: b.fingerprint }, fresh);
    }
  }
}
