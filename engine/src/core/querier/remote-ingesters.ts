import type { IngesterClient } from '../ingester/ingester-rpc.js';
import type { IngesterReader, MemoryStream } from '../ingester/memory-stream.js';
import type { LabelMatcher } from '../logql/syntax/matcher.js';
import type { Labels } from '../model.js';
import type { Clock } from '../util/clock.js';
import { labelsString } from '../distributor/labels.js';
import { doUntilQuorum } from '../ring/do-batch.js';
import type { ReadRing } from '../ring/ring.js';

export interface RemoteIngestersOptions {
  client: IngesterClient;
  /** The ingester ring: every healthy ingester is asked, up to its `maxErrors` may fail. */
  ring: Pick<ReadRing, 'replicationSetForOperation'>;
  /** Loki's `querier.query_ingesters_within`: ranges ending earlier than now minus this skip ingesters (0: never skip). */
  queryIngestersWithinMs: number;
  clock: Clock;
  /** Per-call timeout, milliseconds. */
  timeoutMs?: number;
}

/**
 * Reads the memory of every ingester of the ring (distributed mode). Each stream lives on `replication_factor`
 * ingesters, so one stream comes back several times: its chunks are put together under one fingerprint and the
 * querier's merge drops the entries the replicas have in common. The read waits for all but `maxErrors` ingesters
 * (RF − quorum): an acknowledged entry is on a quorum of its replicas, so at least one of them answered.
 */
export class RemoteIngesters implements IngesterReader {
  constructor(private readonly opts: RemoteIngestersOptions) {}

  async chunks(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<MemoryStream[]> {
    if (this.skip(through)) return [];
    const answers = await this.fanOut((addr, signal) => this.opts.client.chunks(addr, tenant, matchers, from, through, { timeoutMs: this.opts.timeoutMs, signal }));
    const byFp = new Map<string, MemoryStream>();
    for (const streams of answers) {
      for (const s of streams) {
        const have = byFp.get(s.fingerprint);
        if (have === undefined) byFp.set(s.fingerprint, { ...s, chunks: [...s.chunks] });
        else have.chunks.push(...s.chunks);
      }
    }
    // Replicas' chunks interleave in time: the querier reads a stream's chunks in the order of their bounds.
    for (const s of byFp.values()) s.chunks.sort((a, b) => (a.chunk.minTs < b.chunk.minTs ? -1 : a.chunk.minTs > b.chunk.minTs ? 1 : 0));
    return [...byFp.values()];
  }

  async series(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<Labels[]> {
    if (this.skip(through)) return [];
    const answers = await this.fanOut((addr, signal) => this.opts.client.series(addr, tenant, matchers, from, through, { timeoutMs: this.opts.timeoutMs, signal }));
    const out = new Map<string, Labels>();
    for (const list of answers) for (const l of list) out.set(labelsString(l), l);
    return [...out.values()];
  }

  private skip(through: bigint): boolean {
    const within = this.opts.queryIngestersWithinMs;
    return within > 0 && through < BigInt(this.opts.clock.now() - within) * 1_000_000n;
  }

  /** Asks the ring's ingesters until enough answered that every stream's replicas include one that answered. */
  private fanOut<T>(call: (addr: string, signal: AbortSignal) => Promise<T>): Promise<T[]> {
    return doUntilQuorum(this.opts.ring.replicationSetForOperation('read'), (instance, signal) => call(instance.addr, signal));
  }
}
