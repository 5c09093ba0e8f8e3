// The LokiStack sizes: per size, the replicas, CPU/memory requests and volume sizes of every component, the
// replication factor and the default limits. The numbers follow the Grafana Loki Operator's documented t-shirt sizes
// (its sizing guide), so a stack migrated from it gets the same footprint. Strata adds a query-scheduler (the Loki
// Operator runs none) sized after Loki's own sizing guide, and 1x.demo runs everything in one single-binary pod.
import type { IngestionLimitSpec, LokiComponentName, LokiStackSize, QueryLimitSpec } from '../api/v1/index.js';
import type { Quantity } from './kube-types.js';

/** The components of a distributed (microservices) stack, in the order objects are emitted. */
export const DISTRIBUTED_COMPONENTS = [
  'distributor',
  'ingester',
  'querier',
  'queryFrontend',
  'queryScheduler',
  'indexGateway',
  'compactor',
  'ruler',
] as const satisfies readonly LokiComponentName[];

export type DistributedComponent = (typeof DISTRIBUTED_COMPONENTS)[number];

/** Components that keep state on a PersistentVolumeClaim and therefore run as StatefulSets. */
export const STATEFUL_COMPONENTS: ReadonlySet<LokiComponentName> = new Set([
  'ingester',
  'indexGateway',
  'compactor',
  'ruler',
  'singleBinary',
]);

/** Components that must never run more than one pod (retention and compaction are not coordinated). */
export const SINGLETON_COMPONENTS: ReadonlySet<LokiComponentName> = new Set(['compactor', 'singleBinary']);

export interface ComponentSize {
  replicas: number;
  /** CPU and memory requests of the component's container; absent: none (1x.demo). */
  requests?: { cpu: Quantity; memory: Quantity };
  /** Size of the `storage` volume (index cache, compactor working directory, ruler rules). */
  storage?: Quantity;
  /** Size of the `wal` volume (ingesters and the single binary). */
  wal?: Quantity;
}

/** Limits every size sets; fields here are always present. */
export interface SizeLimits {
  ingestion: Required<Omit<IngestionLimitSpec, 'maxGlobalStreamsPerTenant'>> & Pick<IngestionLimitSpec, 'maxGlobalStreamsPerTenant'>;
  queries: Required<QueryLimitSpec>;
  /** MB/s above which a stream is sharded automatically (limits_config.shard_streams.desired_rate). */
  perStreamDesiredRate: number;
}

export interface SizeProfile {
  size: LokiStackSize;
  /** 1x.demo: one StatefulSet running `-target=all`. */
  singleBinary: boolean;
  replicationFactor: number;
  components: Readonly<Partial<Record<LokiComponentName, ComponentSize>>>;
  limits: SizeLimits;
}

const Gi = (n: number): string => `${n}Gi`;

/** Loki's documented defaults that every size shares. */
const BASE_INGESTION = {
  ingestionRate: 4,
  ingestionBurstSize: 6,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
  maxLabelNamesPerSeries: 30,
  maxLineSize: 256000,
  perStreamRateLimit: 5,
  perStreamRateLimitBurst: 15,
} as const;

const BASE_QUERIES: Required<QueryLimitSpec> = {
  maxEntriesLimitPerQuery: 5000,
  maxChunksPerQuery: 2000000,
  maxQuerySeries: 500,
  queryTimeout: '3m',
  cardinalityLimit: 100000,
  maxVolumeSeries: 1000,
};

function limits(overrides: Partial<SizeLimits['ingestion']> = {}): SizeLimits {
  return { ingestion: { ...BASE_INGESTION, ...overrides }, queries: { ...BASE_QUERIES }, perStreamDesiredRate: 3 };
}

const req = (cpu: Quantity, memory: Quantity): { cpu: Quantity; memory: Quantity } => ({ cpu, memory });

export const SIZES: Readonly<Record<LokiStackSize, SizeProfile>> = {
  '1x.demo': {
    size: '1x.demo',
    singleBinary: true,
    replicationFactor: 1,
    components: { singleBinary: { replicas: 1, storage: Gi(10), wal: Gi(10) } },
    limits: limits(),
  },
  '1x.pico': {
    size: '1x.pico',
    singleBinary: false,
    replicationFactor: 2,
    components: {
      distributor: { replicas: 2, requests: req('500m', '500Mi') },
      ingester: { replicas: 3, requests: req('500m', Gi(3)), storage: Gi(10), wal: Gi(150) },
      querier: { replicas: 2, requests: req('750m', '1.5Gi') },
      queryFrontend: { replicas: 2, requests: req('500m', '500Mi') },
      queryScheduler: { replicas: 2, requests: req('250m', '256Mi') },
      indexGateway: { replicas: 2, requests: req('150m', '250Mi'), storage: Gi(50) },
      compactor: { replicas: 1, requests: req('500m', '500Mi'), storage: Gi(10) },
      ruler: { replicas: 2, requests: req('500m', Gi(1)), storage: Gi(10) },
    },
    limits: limits({ maxGlobalStreamsPerTenant: 10000 }),
  },
  '1x.extra-small': {
    size: '1x.extra-small',
    singleBinary: false,
    replicationFactor: 2,
    components: {
      distributor: { replicas: 2, requests: req('1', Gi(1)) },
      ingester: { replicas: 3, requests: req('1', '5.25Gi'), storage: Gi(10), wal: Gi(150) },
      querier: { replicas: 2, requests: req('1.5', Gi(3)) },
      queryFrontend: { replicas: 2, requests: req('1', Gi(1)) },
      queryScheduler: { replicas: 2, requests: req('500m', '512Mi') },
      indexGateway: { replicas: 2, requests: req('500m', Gi(1)), storage: Gi(50) },
      compactor: { replicas: 1, requests: req('1', Gi(2)), storage: Gi(10) },
      ruler: { replicas: 2, requests: req('1', Gi(2)), storage: Gi(10) },
    },
    limits: limits({ maxGlobalStreamsPerTenant: 10000 }),
  },
  '1x.small': {
    size: '1x.small',
    singleBinary: false,
    replicationFactor: 2,
    components: {
      distributor: { replicas: 2, requests: req('2', Gi(2)) },
      ingester: { replicas: 3, requests: req('2.5', '13.25Gi'), storage: Gi(10), wal: Gi(150) },
      querier: { replicas: 2, requests: req('4', Gi(4)) },
      queryFrontend: { replicas: 2, requests: req('4', '2.5Gi') },
      queryScheduler: { replicas: 2, requests: req('1', '512Mi') },
      indexGateway: { replicas: 2, requests: req('1', Gi(2)), storage: Gi(50) },
      compactor: { replicas: 1, requests: req('2', Gi(4)), storage: Gi(10) },
      ruler: { replicas: 2, requests: req('4', Gi(8)), storage: Gi(10) },
    },
    limits: limits({ ingestionRate: 15, ingestionBurstSize: 20, maxGlobalStreamsPerTenant: 10000 }),
  },
  '1x.medium': {
    size: '1x.medium',
    singleBinary: false,
    replicationFactor: 2,
    components: {
      distributor: { replicas: 2, requests: req('2', Gi(2)) },
      ingester: { replicas: 3, requests: req('6', Gi(30)), storage: Gi(10), wal: Gi(150) },
      querier: { replicas: 3, requests: req('6', Gi(10)) },
      queryFrontend: { replicas: 2, requests: req('4', '2.5Gi') },
      queryScheduler: { replicas: 2, requests: req('1', Gi(1)) },
      indexGateway: { replicas: 2, requests: req('1', Gi(2)), storage: Gi(50) },
      compactor: { replicas: 1, requests: req('2', Gi(4)), storage: Gi(10) },
      ruler: { replicas: 2, requests: req('8', Gi(16)), storage: Gi(10) },
    },
    limits: limits({ ingestionRate: 50, ingestionBurstSize: 20, maxGlobalStreamsPerTenant: 25000 }),
  },
};

export function sizeProfile(size: LokiStackSize): SizeProfile {
  const profile = SIZES[size];
  if (!profile) throw new Error(`unknown LokiStack size ${JSON.stringify(size)}`);
  return profile;
}
