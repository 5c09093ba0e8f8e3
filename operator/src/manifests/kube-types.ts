// The Kubernetes object shapes the builders emit: the subset of the core/apps/policy/rbac v1 APIs Strata uses, with
// the API's own field names. Pure code may not import @kubernetes/client-node (no cluster I/O here), so these are
// declared locally; they are structurally compatible with client-node's KubernetesObject for the handlers.

export type Quantity = string | number;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface ResourceRequirements {
  requests?: Record<string, Quantity>;
  limits?: Record<string, Quantity>;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string; apiVersion?: string };
  };
}

export interface Probe {
  httpGet: { path: string; port: string | number; scheme?: 'HTTP' | 'HTTPS' };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  command?: string[];
  args: string[];
  env?: EnvVar[];
  ports?: Array<{ name: string; containerPort: number; protocol?: 'TCP' | 'UDP' }>;
  resources?: ResourceRequirements;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  securityContext?: SecurityContext;
}

export interface SeccompProfile {
  type: 'RuntimeDefault' | 'Localhost' | 'Unconfined';
  localhostProfile?: string;
}

/** A container's securityContext (the fields Strata sets). */
export interface SecurityContext {
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  readOnlyRootFilesystem?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  seccompProfile?: SeccompProfile;
}

/** A pod's securityContext (the fields Strata sets). */
export interface PodSecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  seccompProfile?: SeccompProfile;
}

export interface Volume {
  name: string;
  configMap?: { name: string; defaultMode?: number; items?: Array<{ key: string; path: string }> };
  downwardAPI?: { items: Array<{ path: string; fieldRef: { fieldPath: string } }> };
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface PodAffinityTerm {
  labelSelector?: LabelSelector;
  namespaces?: string[];
  topologyKey: string;
}

export interface Affinity {
  podAntiAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
    preferredDuringSchedulingIgnoredDuringExecution?: Array<{ weight: number; podAffinityTerm: PodAffinityTerm }>;
  };
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector: LabelSelector;
}

export interface PodSpec {
  serviceAccountName: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: PodSecurityContext;
  containers: Container[];
  volumes?: Volume[];
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Affinity;
  topologySpreadConstraints?: TopologySpreadConstraint[];
}

export interface PodTemplateSpec {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export interface PersistentVolumeClaimTemplate {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    accessModes: string[];
    resources: { requests: { storage: Quantity } };
    storageClassName?: string;
    volumeMode?: 'Filesystem';
  };
}

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data: Record<string, string>;
}

export interface ServicePort {
  name: string;
  port: number;
  targetPort: string | number;
  protocol: 'TCP';
}

export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec: {
    type?: 'ClusterIP';
    clusterIP?: string;
    publishNotReadyAddresses?: boolean;
    selector: Record<string, string>;
    ports: ServicePort[];
  };
}

export interface ServiceAccount {
  apiVersion: 'v1';
  kind: 'ServiceAccount';
  metadata: ObjectMeta;
  automountServiceAccountToken?: boolean;
}

export interface Deployment {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    selector: LabelSelector;
    strategy?: { type: 'RollingUpdate'; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
    revisionHistoryLimit?: number;
    template: PodTemplateSpec;
  };
}

export interface StatefulSet {
  apiVersion: 'apps/v1';
  kind: 'StatefulSet';
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    serviceName: string;
    selector: LabelSelector;
    podManagementPolicy?: 'OrderedReady' | 'Parallel';
    updateStrategy?: { type: 'RollingUpdate' };
    revisionHistoryLimit?: number;
    template: PodTemplateSpec;
    volumeClaimTemplates: PersistentVolumeClaimTemplate[];
  };
}

/** policy/v1 since Kubernetes 1.21; policy/v1beta1 (the only one on 1.20) was removed in 1.25. Same shape here. */
export type PodDisruptionBudgetApiVersion = 'policy/v1' | 'policy/v1beta1';

export interface PodDisruptionBudget {
  apiVersion: PodDisruptionBudgetApiVersion;
  kind: 'PodDisruptionBudget';
  metadata: ObjectMeta;
  spec: { selector: LabelSelector; maxUnavailable?: number | string; minAvailable?: number | string };
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface Role {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'Role';
  metadata: ObjectMeta;
  rules: PolicyRule[];
}

export interface RoleBinding {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'RoleBinding';
  metadata: ObjectMeta;
  roleRef: { apiGroup: 'rbac.authorization.k8s.io'; kind: 'Role'; name: string };
  subjects: Array<{ kind: 'ServiceAccount'; name: string; namespace: string }>;
}

/** Every object a LokiStack owns. */
export type KubeObject =
  | ConfigMap
  | Service
  | ServiceAccount
  | Deployment
  | StatefulSet
  | PodDisruptionBudget
  | Role
  | RoleBinding;

export type KubeKind = KubeObject['kind'];

/** Narrows a list of desired objects to one kind (tests, handlers). */
export function ofKind<K extends KubeKind>(objects: readonly KubeObject[], kind: K): Array<Extract<KubeObject, { kind: K }>> {
  return objects.filter((o): o is Extract<KubeObject, { kind: K }> => o.kind === kind);
}

/** A Secret as read from the API (values base64 in `data`) or written by a user (`stringData`). */
export interface SecretLike {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  type?: string;
  data?: Record<string, string> | null;
  stringData?: Record<string, string> | null;
}

/** What status needs of an observed Pod. */
export interface PodLike {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: unknown;
  };
  /** Set once the pod is scheduled. */
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: Array<{ type?: string; status?: string }>;
    containerStatuses?: Array<{ name?: string; ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string } } }>;
  };
}
