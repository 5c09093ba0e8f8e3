/**
 * The hash ring (docs/ring.md): membership stores (RingKv: in-memory, etcd, Kubernetes Leases), the Lifecycler an
 * instance uses to join and leave, the Ring readers use to place keys, and fan-out helpers with quorum.
 */
export {
  INSTANCE_STATES,
  RING_UNHEALTHY,
  decodeInstanceDesc,
  encodeInstanceDesc,
  extendsReplicaSet,
  stateServes,
  type InstanceDesc,
  type InstanceState,
  type RingOp,
} from './model.js';
export { RingKvError, type RingKv, type RingKvKind, type RingKvWatch, type BackoffOptions } from './kv.js';
export { InMemoryKv, InMemoryKvRegistry, defaultInMemoryKvRegistry } from './inmemory-kv.js';
export { EtcdKv, type EtcdKvOptions } from './etcd-kv.js';
export {
  KubernetesKv,
  leaseName,
  RING_INSTANCE_ANNOTATION,
  RING_KEY_ANNOTATION,
  RING_NAME_LABEL,
  RING_PREFIX_LABEL,
  type KubernetesKvOptions,
} from './kubernetes-kv.js';
export { ringKvFromConfig, type RingKvDeps } from './from-config.js';
export { Lifecycler, type LifecyclerOptions, type LifecyclerPhase } from './lifecycler.js';
export { Ring, type ReadRing, type ReplicationSet, type RingInstanceStatus, type RingOptions, type RingStatus } from './ring.js';
export { doBatch, doUntilQuorum, type DoBatchOptions } from './do-batch.js';
export { generateTokens, streamToken, type TokenRandom } from './tokens.js';
export { ManualTimers, realTimers, type RingTimers, type TimerHandle } from './timers.js';
