// Which components a stack runs, how many pods each, with which resources and volumes: the size table with
// spec.template laid over it. Used by the builders and by status (expected pods per component).
import type { LokiComponentName, LokiComponentSpec, LokiStack } from '../api/v1/index.js';
import { COMPONENT_SLUGS } from '../names.js';
import type { Quantity, ResourceRequirements } from './kube-types.js';
import { DISTRIBUTED_COMPONENTS, STATEFUL_COMPONENTS, sizeProfile } from './sizes.js';

export interface ComponentPlan {
  component: LokiComponentName;
  /** The engine's -target value. */
  target: string;
  kind: 'Deployment' | 'StatefulSet';
  replicas: number;
  resources: ResourceRequirements;
  /** Size of the `storage` volume claim (StatefulSets). */
  storage?: Quantity;
  /** Size of the `wal` volume claim (ingester, single binary). */
  wal?: Quantity;
  /** spec.template.<component>, if the user set it. */
  template?: LokiComponentSpec;
}

/** True for every size but 1x.demo. */
export function isDistributed(stack: LokiStack): boolean {
  return !sizeProfile(stack.spec.size).singleBinary;
}

/** Ingesters replicate across zones: a distributed size with `spec.replication.zones`. */
export function isZoneAware(stack: LokiStack): boolean {
  return isDistributed(stack) && (stack.spec.replication?.zones?.length ?? 0) > 0;
}

/** The node label whose value is an ingester's zone (the first zone entry's topologyKey). */
export function zoneLabel(stack: LokiStack): string | undefined {
  return isZoneAware(stack) ? stack.spec.replication!.zones![0]!.topologyKey : undefined;
}

/** spec.replication.factor, or the size's default. */
export function replicationFactor(stack: LokiStack): number {
  return stack.spec.replication?.factor ?? sizeProfile(stack.spec.size).replicationFactor;
}

/** The size table's requests with spec.template.<component>.resources laid over them, key by key. */
function resources(size: ResourceRequirements | undefined, user: LokiComponentSpec['resources']): ResourceRequirements {
  const requests = { ...size?.requests, ...user?.requests };
  const limits = { ...size?.limits, ...user?.limits };
  return {
    ...(Object.keys(requests).length > 0 ? { requests } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
}

/** The components of the stack in emission order; the ruler only when spec.rules.enabled. */
export function planComponents(stack: LokiStack): ComponentPlan[] {
  const profile = sizeProfile(stack.spec.size);
  const names: readonly LokiComponentName[] = profile.singleBinary
    ? ['singleBinary']
    : DISTRIBUTED_COMPONENTS.filter((c) => c !== 'ruler' || stack.spec.rules?.enabled === true);
  return names.map((component) => {
    const size = profile.components[component]!;
    const template = stack.spec.template?.[component];
    return {
      component,
      target: component === 'singleBinary' ? 'all' : COMPONENT_SLUGS[component],
      kind: STATEFUL_COMPONENTS.has(component) ? 'StatefulSet' : 'Deployment',
      replicas: template?.replicas ?? size.replicas,
      resources: resources(size.requests ? { requests: { ...size.requests } } : undefined, template?.resources),
      ...(size.storage !== undefined ? { storage: size.storage } : {}),
      ...(size.wal !== undefined ? { wal: size.wal } : {}),
      ...(template ? { template } : {}),
    };
  });
}

/** CPU cores of a quantity (`500m` → 0.5, `2` → 2, `1.5` → 1.5); undefined when it is not a CPU quantity. */
export function cpuCores(q: Quantity | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?|\.\d+)(m?)$/.exec(q.trim());
  if (!m) return undefined;
  return Number(m[1]) / (m[2] === 'm' ? 1000 : 1);
}

const MEMORY_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Bytes of a memory quantity (`512Mi`, `1.5Gi`, `2G`, 1048576); undefined when it is not one. */
export function memoryBytes(q: Quantity | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * MEMORY_UNITS[m[2] ?? '']!);
}
