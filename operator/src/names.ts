// Every name, label and annotation the operator gives the objects of a LokiStack, in one place, so builders, status
// and handlers (which look objects up by these names and labels) cannot disagree.
import type { LokiComponentName } from './api/v1/index.js';

/** Loki's component names, as the engine's -target flag and the `app.kubernetes.io/component` label spell them. */
export const COMPONENT_SLUGS: Readonly<Record<LokiComponentName, string>> = {
  distributor: 'distributor',
  ingester: 'ingester',
  querier: 'querier',
  queryFrontend: 'query-frontend',
  queryScheduler: 'query-scheduler',
  indexGateway: 'index-gateway',
  compactor: 'compactor',
  ruler: 'ruler',
  singleBinary: 'single-binary',
};

/** The component a slug names (the inverse of COMPONENT_SLUGS), or undefined. */
export function componentOfSlug(slug: string): LokiComponentName | undefined {
  for (const [name, s] of Object.entries(COMPONENT_SLUGS)) if (s === slug) return name as LokiComponentName;
  return undefined;
}

// ── labels and annotations ─────────────────────────────────────────────────────────────────────────────────────

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';

export const APP_NAME = 'strata';
export const MANAGED_BY = 'strata-operator';
export const PART_OF = 'strata';

/** Pod template annotations: a change of either value (and only of these) rolls the pods. */
export const ANNOTATION_CONFIG_HASH = 'loki.strata.dev/config-hash';
export const ANNOTATION_SECRET_HASH = 'loki.strata.dev/storage-secret-hash';
/**
 * On ingester pods of zone-aware stacks: the zone of the node the pod runs on, written by the operator once the pod
 * is scheduled; the pod reads it through a downward-API volume (ZONE_FILE).
 */
export const ANNOTATION_ZONE = 'loki.strata.dev/availability-zone';

/** The field manager of every server-side apply the operator makes. */
export const FIELD_MANAGER = 'strata-operator';

/**
 * Labels selecting every object of one stack (`kubectl get all -l ...`, the handler's "objects I own" query).
 * Deliberately without managed-by/part-of: selectors of workloads are immutable, so they carry only what never changes.
 */
export function stackSelector(stack: string): Record<string, string> {
  return { [LABEL_NAME]: APP_NAME, [LABEL_INSTANCE]: stack };
}

/** The immutable selector labels of one component's pods (Deployment/StatefulSet selector, Service, PDB). */
export function componentSelector(stack: string, component: LokiComponentName): Record<string, string> {
  return { ...stackSelector(stack), [LABEL_COMPONENT]: COMPONENT_SLUGS[component] };
}

/** Labels of every object the operator creates for a stack; `component` when the object belongs to one. */
export function commonLabels(stack: string, component?: LokiComponentName): Record<string, string> {
  return {
    ...(component ? componentSelector(stack, component) : stackSelector(stack)),
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_PART_OF]: PART_OF,
  };
}

/** A label selector string for list/watch calls (`a=b,c=d`). */
export function labelSelectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

// ── object names ───────────────────────────────────────────────────────────────────────────────────────────────

/** The engine's config.yaml ConfigMap; its content hash is on every pod template. */
export const configMapName = (stack: string): string => `${stack}-config`;
/** The runtime overrides ConfigMap (per-tenant limits); reloaded by the engine, never rolls pods. */
export const runtimeConfigMapName = (stack: string): string => `${stack}-runtime`;
/** The Deployment or StatefulSet of a component, and its client (ClusterIP) Service. */
export const componentName = (stack: string, component: LokiComponentName): string => `${stack}-${COMPONENT_SLUGS[component]}`;
export const serviceName = componentName;
/** The headless Service of a component (StatefulSet serviceName, per-pod DNS). */
export const headlessServiceName = (stack: string, component: LokiComponentName): string =>
  `${componentName(stack, component)}-headless`;
export const podDisruptionBudgetName = componentName;
/** ServiceAccount, Role and RoleBinding of the engine's pods. */
export const serviceAccountName = (stack: string): string => `${stack}-engine`;
export const roleName = serviceAccountName;
export const roleBindingName = serviceAccountName;

/** Cluster-local DNS name of a component's client Service. */
export function serviceHost(stack: string, namespace: string, component: LokiComponentName): string {
  return `${serviceName(stack, component)}.${namespace}.svc`;
}

/**
 * The longest stack name whose derived names are all valid: Service names are DNS-1035 labels (≤ 63 characters) and
 * StatefulSet names must leave room for the `-<10-char revision hash>` in the controller-revision-hash pod label.
 */
export const MAX_STACK_NAME_LENGTH = Math.min(
  ...Object.keys(COMPONENT_SLUGS).map((c) => 63 - headlessServiceName('', c as LokiComponentName).length),
  ...(['ingester', 'indexGateway', 'compactor', 'ruler', 'singleBinary'] as const).map((c) => 52 - componentName('', c).length),
);

/** DNS-1035 label: what a Service name must be; every derived name starts with the stack's name. */
export const STACK_NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

// ── pod filesystem layout ──────────────────────────────────────────────────────────────────────────────────────

export const CONFIG_DIR = '/etc/strata/config';
export const CONFIG_FILE = `${CONFIG_DIR}/config.yaml`;
export const RUNTIME_DIR = '/etc/strata/runtime';
export const RUNTIME_FILE = `${RUNTIME_DIR}/runtime.yaml`;
export const CONFIG_KEY = 'config.yaml';
export const RUNTIME_KEY = 'runtime.yaml';
export const STORAGE_CA_DIR = '/etc/strata/storage-ca';
export const DATA_DIR = '/var/strata';
export const WAL_DIR = '/var/strata/wal';
export const ZONE_DIR = '/etc/strata/zone';
export const ZONE_FILE = `${ZONE_DIR}/zone`;
export const HTTP_PORT = 3100;
export const HTTP_PORT_NAME = 'http';

/** Volume claim template names. */
export const STORAGE_VOLUME = 'storage';
export const WAL_VOLUME = 'wal';

/** Environment variables the engine's config refers to with ${...} (-config.expand-env=true). */
export const ENV_ACCESS_KEY_ID = 'AWS_ACCESS_KEY_ID';
export const ENV_ACCESS_KEY_SECRET = 'AWS_ACCESS_KEY_SECRET';
export const ENV_POD_IP = 'POD_IP';
export const ENV_POD_NAME = 'POD_NAME';
