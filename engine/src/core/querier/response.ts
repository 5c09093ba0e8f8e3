import type { MetricResult } from '../logql/engine/index.js';
import type { LabelPair, Labels } from '../model.js';
import { labelsString } from '../distributor/labels.js';
import { formatFloat } from '../util/go/strconv.js';
import { formatTs } from '../util/time.js';
import type { LogStream, QueryStats } from './querier.js';

export const CATEGORIZE_LABELS = 'categorize-labels';

/** Loki's JSON for a log query. Timestamps stay exact: nanoseconds printed from bigint. */
export interface StreamsResult {
  status: 'success';
  data: {
    resultType: 'streams';
    encodingFlags?: string[];
    result: Array<{ stream: Record<string, string>; values: unknown[][] }>;
    stats: Record<string, unknown>;
  };
}

const labelsObject = (labels: Labels): Record<string, string> => Object.fromEntries(labels);

/**
 * Builds the `streams` result. Without `categorize-labels` Loki folds structured metadata into the stream labels,
 * so entries with different metadata land in different result streams; with it, every entry carries a third
 * element `{structuredMetadata: {…}, parsed: {…}}` (each key only when non-empty, `{}` when neither) and streams keep
 * their own labels.
 */
export function streamsResponse(
  streams: readonly LogStream[],
  categorize: boolean,
  stats: QueryStats,
  execNs: bigint,
): StreamsResult {
  const result: StreamsResult['data']['result'] = [];
  const groups = new Map<string, { stream: Record<string, string>; values: unknown[][] }>();
  const group = (labels: readonly LabelPair[]) => {
    const sorted = sortPairs(labels);
    const key = JSON.stringify(sorted);
    let g = groups.get(key);
    if (g === undefined) {
      g = { stream: labelsObject(sorted), values: [] };
      groups.set(key, g);
      result.push(g);
    }
    return g;
  };
  for (const s of streams) {
    for (const e of s.entries) {
      const stream = e.stream ?? s.labels;
      const md = e.metadata !== undefined && e.metadata.length > 0 ? e.metadata : undefined;
      const parsed = e.parsed !== undefined && e.parsed.length > 0 ? e.parsed : undefined;
      const ts = e.ts.toString();
      const line = e.line.toString('utf8');
      if (categorize) {
        // Every entry carries the third element, `{}` when it has neither category (Loki's encoder always writes it).
        const extra: Record<string, Record<string, string>> = {};
        if (md) extra.structuredMetadata = labelsObject(sortPairs(md));
        if (parsed) extra.parsed = labelsObject(sortPairs(parsed));
        group(stream).values.push([ts, line, extra]);
      } else {
        group(md || parsed ? [...stream, ...(md ?? []), ...(parsed ?? [])] : stream).values.push([ts, line]);
      }
    }
  }
  let returned = 0;
  for (const s of streams) returned += s.entries.length;
  const block = statsBlock(stats, execNs, returned);
  const data: StreamsResult['data'] = categorize
    ? { resultType: 'streams', encodingFlags: [CATEGORIZE_LABELS], result, stats: block }
    : { resultType: 'streams', result, stats: block };
  return { status: 'success', data };
}

/**
 * The legacy `/api/prom/query` body: `{streams: [{labels: "{a=\"b\"}", entries: [{ts: RFC3339Nano, line}]}], stats}`.
 * Structured metadata and parsed labels fold into the stream labels, as in the v1 form without categorize-labels.
 */
export function legacyStreamsResponse(streams: readonly LogStream[], stats: QueryStats, execNs: bigint): Record<string, unknown> {
  const v1 = streamsResponse(streams, false, stats, execNs);
  const out = v1.data.result.map((s) => ({
    labels: labelsString(Object.entries(s.stream)),
    entries: s.values.map((v) => ({ ts: formatTs(BigInt(v[0] as string)), line: v[1] })),
  }));
  return { streams: out, stats: v1.data.stats };
}

/** Loki's JSON for a metric query: `vector`, `matrix` or `scalar`. */
export interface MetricQueryResult {
  status: 'success';
  data: {
    resultType: 'vector' | 'matrix' | 'scalar';
    result: unknown;
    stats: Record<string, unknown>;
  };
}

/**
 * Sample times are seconds as JSON numbers (`1700000000.5`, millisecond precision) and values are strings in Go's
 * shortest `%f` form, with `NaN`, `+Inf` and `-Inf`, as Prometheus and Loki print them.
 */
export function metricResponse(r: MetricResult, stats: QueryStats, execNs: bigint): MetricQueryResult {
  const point = (ms: number, v: number): [number, string] => [ms / 1000, formatFloat(v, 'f', -1)];
  switch (r.type) {
    case 'scalar':
      return { status: 'success', data: { resultType: 'scalar', result: point(r.ms, r.value), stats: statsBlock(stats, execNs, 0) } };
    case 'vector': {
      const result = r.samples.map((s) => ({ metric: labelsObject(s.labels), value: point(s.ms, s.value) }));
      return { status: 'success', data: { resultType: 'vector', result, stats: statsBlock(stats, execNs, result.length) } };
    }
    case 'matrix': {
      let samples = 0;
      const result = r.series.map((s) => {
        samples += s.ms.length;
        return { metric: labelsObject(s.labels), values: s.ms.map((ms, i) => point(ms, s.values[i]!)) };
      });
      return { status: 'success', data: { resultType: 'matrix', result, stats: statsBlock(stats, execNs, samples) } };
    }
  }
}

function sortPairs(pairs: readonly LabelPair[]): LabelPair[] {
  const seen = new Map<string, string>();
  for (const [k, v] of pairs) seen.set(k, v);
  return [...seen.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The `stats` block in Loki's shape (summary, querier, ingester, cache), filled with what this engine measures. */
export function statsBlock(s: QueryStats, execNs: bigint, returned: number): Record<string, unknown> {
  const execSeconds = Number(execNs) / 1e9;
  const store = {
    totalChunksRef: s.chunksFetched,
    totalChunksDownloaded: s.chunksFetched,
    chunksDownloadTime: 0,
    queryReferencedStructuredMetadata: false,
    chunk: {
      headChunkBytes: 0,
      headChunkLines: 0,
      decompressedBytes: s.bytesProcessed,
      decompressedLines: s.linesProcessed,
      compressedBytes: s.chunkBytes,
      totalDuplicates: 0,
      postFilterLines: 0,
      headChunkStructuredMetadataBytes: 0,
      decompressedStructuredMetadataBytes: 0,
    },
  };
  const emptyCache = { entriesFound: 0, entriesRequested: 0, entriesStored: 0, bytesReceived: 0, bytesSent: 0, requests: 0, downloadTime: 0, queryLengthServed: 0 };
  return {
    summary: {
      bytesProcessedPerSecond: execSeconds > 0 ? Math.round(s.bytesProcessed / execSeconds) : 0,
      linesProcessedPerSecond: execSeconds > 0 ? Math.round(s.linesProcessed / execSeconds) : 0,
      totalBytesProcessed: s.bytesProcessed,
      totalLinesProcessed: s.linesProcessed,
      execTime: execSeconds,
      queueTime: 0,
      subqueries: s.frontend?.subqueries ?? 0,
      totalEntriesReturned: returned,
      splits: s.frontend?.splits ?? 0,
      shards: s.frontend?.shards ?? 0,
      totalPostFilterLines: s.entriesScanned,
      totalStructuredMetadataBytesProcessed: 0,
    },
    querier: { store },
    ingester: {
      totalReached: s.ingesterStreams > 0 ? 1 : 0,
      totalChunksMatched: 0,
      totalBatches: 0,
      totalLinesSent: 0,
      store,
    },
    cache: { chunk: emptyCache, index: emptyCache, result: emptyCache, statsResult: emptyCache, volumeResult: emptyCache, seriesResult: emptyCache, labelResult: emptyCache, instantMetricResult: emptyCache },
  };
}
