import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Config } from '../config/config.js';
import type { PushTarget } from '../distributor/distributor.js';
import type { Rejection } from '../errors.js';
import { doBatch } from '../ring/do-batch.js';
import { ringKvFromConfig } from '../ring/from-config.js';
import type { RingKv } from '../ring/kv.js';
import { Lifecycler } from '../ring/lifecycler.js';
import { Ring, type RingStatus } from '../ring/ring.js';
import { streamToken } from '../ring/tokens.js';
import { sleep, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { IngesterClient } from './ingester-rpc.js';
import type { ValidStream } from './ingester.js';

/** The ingester ring as the engine uses it: membership for an ingester, routing for distributors and queriers. */
export interface IngesterRingHandle {
  readonly ring: Ring;
  /** A distributor's push target: every stream to its replicas, quorum per stream. */
  pushTarget(client: IngesterClient): PushTarget;
  /** Follows the ring; an ingester also registers (ACTIVE once start resolves). */
  start(): Promise<void>;
  /** An ingester goes LEAVING, runs `flush` (heartbeats go on meanwhile), then leaves the ring. */
  stop(flush: () => Promise<void>): Promise<void>;
  describe(): RingStatus;
}

export interface IngesterRingOptions {
  config: Config;
  /** This process is an ingester: register it (else only follow the ring). */
  lifecycle: boolean;
  /** `host:port` this process is reached at. */
  instanceAddr: string;
  clock: Clock;
  logger: Logger;
}

/** The ring's name in the store: `<kvstore.prefix>ingester` (Loki keeps its ingester ring under `collectors/ring`). */
const RING_NAME = 'ingester';

export class IngesterRingClient implements IngesterRingHandle {
  readonly ring: Ring;
  private readonly kv: RingKv;
  private lifecycler: Lifecycler | undefined;
  private flush: (() => Promise<void>) | undefined;

  constructor(private readonly opts: IngesterRingOptions) {
    const lc = opts.config.ingester.lifecycler;
    this.kv = ringKvFromConfig(lc.ring.kvstore, RING_NAME, {
      logger: opts.logger,
      configPath: 'ingester.lifecycler.ring.kvstore',
      heartbeatTimeoutMs: lc.ring.heartbeat_timeout,
    });
    this.ring = new Ring({
      kv: this.kv,
      name: RING_NAME,
      replicationFactor: lc.ring.replication_factor,
      heartbeatTimeoutMs: lc.ring.heartbeat_timeout,
      zoneAwarenessEnabled: lc.ring.zone_awareness_enabled,
      clock: opts.clock,
      logger: opts.logger,
    });
  }

  async start(): Promise<void> {
    if (this.opts.lifecycle) {
      const lc = this.opts.config.ingester.lifecycler;
      const zone = lc.availability_zone || (lc.availability_zone_file ? await waitForZone(lc.availability_zone_file, this.opts) : '');
      this.lifecycler = new Lifecycler({
        kv: this.kv,
        id: lc.id || hostname(),
        addr: this.opts.instanceAddr,
        zone,
        numTokens: lc.num_tokens,
        heartbeatPeriodMs: lc.heartbeat_period,
        joinAfterMs: lc.join_after,
        flush: () => this.flush?.() ?? Promise.resolve(),
        clock: this.opts.clock,
        logger: this.opts.logger,
      });
      await this.lifecycler.start();
    }
    await this.ring.start();
  }

  async stop(flush: () => Promise<void>): Promise<void> {
    this.flush = flush;
    try {
      if (this.lifecycler) await this.lifecycler.stop();
      else await flush();
    } finally {
      await this.ring.stop();
      await this.kv.close();
    }
  }

  describe(): RingStatus {
    return this.ring.describe();
  }

  pushTarget(client: IngesterClient): PushTarget {
    return new ReplicatedPush(this.ring, client);
  }
}

/**
 * Writes each stream to `replication_factor` ingesters and succeeds when a quorum of them acknowledged every
 * stream (Loki's distributor). Each ingester gets one call with all the streams it holds a replica of. Refusals
 * come from the replicas that answered; a stream's refusals are reported once (from the first replica that refused
 * part of it), so a client sees each problem once, not once per replica.
 */
class ReplicatedPush implements PushTarget {
  constructor(
    private readonly ring: Ring,
    private readonly client: IngesterClient,
  ) {}

  async push(tenant: string, streams: readonly ValidStream[]): Promise<Rejection[]> {
    const keys = streams.map((s) => streamToken(tenant, s.canonical));
    const reported = new Map<number, { from: string; rejections: Rejection[] }>();
    // Every stream goes to RF ingesters: encode it once, on first use.
    const encoded: Array<Buffer | undefined> = new Array(streams.length);
    const encodedStream = (i: number): Buffer => (encoded[i] ??= IngesterClient.encodeStream(streams[i]!));
    await doBatch(this.ring, keys, async (instance, indexes) => {
      const res = await this.client.push(instance.addr, tenant, indexes.map(encodedStream));
      for (const r of res.rejections) {
        const stream = indexes[r.stream];
        if (stream === undefined) continue;
        let rep = reported.get(stream);
        if (rep === undefined) reported.set(stream, (rep = { from: instance.id, rejections: [] }));
        if (rep.from === instance.id) rep.rejections.push({ error: r.error, reason: r.reason, lines: r.lines, bytes: r.bytes });
      }
    });
    const out: Rejection[] = [];
    for (const i of [...reported.keys()].sort((a, b) => a - b)) out.push(...reported.get(i)!.rejections);
    return out;
  }
}

/**
 * The zone written into `file` (by the operator, through a pod annotation and a downward-API volume), waiting until
 * it is there: an ingester must not join a zone-aware ring without its zone. Rechecked every second.
 */
export async function waitForZone(file: string, opts: { logger: Logger; pollMs?: number; signal?: AbortSignal }): Promise<string> {
  let warned = false;
  for (;;) {
    let zone = '';
    try {
      zone = (await readFile(file, 'utf8')).trim();
    } catch {
      // not there yet
    }
    if (zone !== '') return zone;
    if (opts.signal?.aborted) throw new Error(`no availability zone in ${file}`);
    if (!warned) {
      opts.logger.info('waiting for this instance\'s availability zone', { file });
      warned = true;
    }
    await sleep(opts.pollMs ?? 1_000);
  }
}
