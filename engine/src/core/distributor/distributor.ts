import { EngineError, isEngineError, type Rejection } from '../errors.js';
import type { Limits } from '../limits/limits.js';
import { RateLimiter } from '../limits/token-bucket.js';
import type { EngineMetrics } from '../metrics.js';
import type { PushEntry, PushRequest } from '../model.js';
import type { Clock } from '../util/clock.js';
import type { ValidStream } from '../ingester/ingester.js';
import { LabelsCache, type ParsedLabels } from './labels.js';
import { entryBytes, entryCheck, validateEntry, validateLabels, withServiceName } from './validation.js';

/** Where validated streams go: the in-process ingester, or (distributed mode) a client for the ring. */
export interface PushTarget {
  push(tenant: string, streams: readonly ValidStream[]): Promise<Rejection[]>;
}

export interface DistributorOptions {
  limits: (tenant: string) => Limits;
  target: PushTarget;
  /** True when the schema period of `ts` stores structured metadata (v13). */
  metadataAllowedAt: (ts: bigint) => boolean;
  clock: Clock;
  metrics: EngineMetrics;
  /** Number of distributors sharing a `global` ingestion rate (1 in the single binary). */
  distributors?: () => number;
}

/**
 * The distributor: validates a push per tenant limits, enforces the tenant's ingestion rate, and hands the valid
 * streams to the ingester. Valid entries are written even when others are refused; the refusals then come back as
 * one error listing every refused entry (Loki's partial-failure behaviour).
 */
export class Distributor {
  /** One cache per service_name discovery list (tenants may override it); key: the list joined. */
  private readonly labelCaches = new Map<string, LabelsCache>();
  private readonly rate: RateLimiter;

  constructor(private readonly opts: DistributorOptions) {
    this.rate = new RateLimiter((tenant) => {
      const lim = opts.limits(tenant);
      const share = lim.ingestion_rate_strategy === 'global' ? Math.max(1, opts.distributors?.() ?? 1) : 1;
      return [(lim.ingestion_rate_mb * MiB) / share, lim.ingestion_burst_size_mb * MiB];
    });
  }

  async push(tenant: string, req: PushRequest): Promise<void> {
    const { metrics, clock } = this.opts;
    if (req.streams.length === 0) {
      throw new EngineError('unprocessable', 'error at least one valid stream is required for ingestion');
    }
    const lim = this.opts.limits(tenant);
    const now = clock.now();
    const check = entryCheck(lim, now, this.opts.metadataAllowedAt);
    const rejections: Rejection[] = [];
    const valid = new Map<string, ValidStream>();
    let validLines = 0;
    let validBytes = 0;
    let receivedLines = 0;
    let receivedBytes = 0;

    const labelsCache = this.labelsCache(lim.discover_service_name);
    for (const s of req.streams) {
      for (const e of s.entries) receivedBytes += entryBytes(e);
      receivedLines += s.entries.length;
      let parsed: ParsedLabels;
      try {
        parsed = labelsCache.get(s.labels);
      } catch (e) {
        if (!isEngineError(e)) throw e;
        // Loki refuses the whole request when any label string does not parse: nothing is written.
        this.discard(tenant, 'invalid_labels', receivedLines, receivedBytes);
        throw new EngineError('bad_request', `couldn't parse labels: ${e.message}`);
      }
      const labelRejection = validateLabels(lim, parsed.pairs, s.labels, s.entries);
      if (labelRejection) {
        rejections.push(labelRejection);
        continue;
      }
      let entries: PushEntry[] = s.entries;
      for (let i = 0; i < s.entries.length; i++) {
        const e = s.entries[i]!;
        const r = validateEntry(lim, check, e, parsed.canonical);
        if (r !== undefined) {
          rejections.push(r);
          if (entries === s.entries) entries = s.entries.slice(0, i);
          continue;
        }
        if (entries !== s.entries) entries.push(e);
        validLines++;
        validBytes += entryBytes(e);
      }
      if (entries.length === 0) continue;
      // Clients may send one stream several times in a request (in any label order): merge them.
      const prev = valid.get(parsed.canonical);
      if (prev) prev.entries.push(...entries);
      else valid.set(parsed.canonical, { labels: parsed.pairs, canonical: parsed.canonical, entries: entries === s.entries ? [...entries] : entries });
    }

    metrics.distributorBytesReceived.inc({ tenant }, receivedBytes);
    metrics.distributorLinesReceived.inc({ tenant }, receivedLines);

    if (validLines > 0 && !this.rate.allow(tenant, validBytes, now)) {
      this.discard(tenant, 'rate_limited', validLines, validBytes);
      for (const r of rejections) this.discard(tenant, r.reason, r.lines, r.bytes);
      throw new EngineError(
        'rate_limited',
        `Ingestion rate limit exceeded for user ${tenant} (limit: ${Math.trunc(this.rate.limit(tenant))} bytes/sec) while attempting to ingest '${validLines}' lines totaling '${validBytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased`,
      );
    }

    const failures: Rejection[] = rejections;
    if (valid.size > 0) failures.push(...(await this.opts.target.push(tenant, [...valid.values()])));
    if (failures.length === 0) return;
    for (const f of failures) this.discard(tenant, f.reason, f.lines, f.bytes);
    throw combine(failures);
  }

  private labelsCache(discover: readonly string[]): LabelsCache {
    const key = discover.join(',');
    let cache = this.labelCaches.get(key);
    if (cache === undefined) {
      cache = new LabelsCache(65_536, (pairs) => withServiceName(pairs, discover));
      this.labelCaches.set(key, cache);
    }
    return cache;
  }

  private discard(tenant: string, reason: string, lines: number, bytes: number): void {
    this.opts.metrics.discardedSamples.inc({ reason, tenant }, lines);
    this.opts.metrics.discardedBytes.inc({ reason, tenant }, bytes);
  }
}

const MiB = 1024 * 1024;

/**
 * One response for every refusal, as Loki groups them: identical messages once, prefixed `N errors like: ` when
 * there is more than one refusal, groups joined by `; ` (in order of first appearance). The status is 429 when any
 * refusal is a rate or stream limit (Loki lets the ingester's error win), otherwise 400.
 */
export function combine(failures: readonly Rejection[]): EngineError {
  const groups = new Map<string, number>();
  for (const f of failures) groups.set(f.error.message, (groups.get(f.error.message) ?? 0) + 1);
  const msg =
    failures.length === 1
      ? failures[0]!.error.message
      : [...groups].map(([m, n]) => `${n} errors like: ${m}`).join('; ');
  const throttled = failures.some((f) => f.error.status === 429);
  return new EngineError(throttled ? 'rate_limited' : 'bad_request', msg);
}
