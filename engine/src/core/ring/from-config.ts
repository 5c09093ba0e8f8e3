/**
 * kvstore config → RingKv. Loki's `consul` and `memberlist` stores are parsed (so Loki configs load) but refused
 * here, at startup, with the key named: Strata keeps ring membership in a real store, never in its own gossip.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../config/config-error.js';
import type { KvConfig } from '../config/config-schema.js';
import { nopLogger, type Logger } from '../util/logger.js';
import type { EtcdKv } from './etcd-kv.js';
import { defaultInMemoryKvRegistry, InMemoryKv, type InMemoryKvRegistry } from './inmemory-kv.js';
import type { RingKv } from './kv.js';
import type { KubernetesKv } from './kubernetes-kv.js';

/**
 * The etcd and Kubernetes clients are loaded only when a ring uses them (Node 24 requires ES modules
 * synchronously): loaded eagerly they added ~30 MB to every process's heap, which made the single binary's major
 * GCs, and so its queries, measurably slower.
 */
const requireHere = createRequire(import.meta.url);
const etcdKv = (): typeof EtcdKv => (requireHere('./etcd-kv.js') as { EtcdKv: typeof EtcdKv }).EtcdKv;
const kubernetesKv = (): typeof KubernetesKv => (requireHere('./kubernetes-kv.js') as { KubernetesKv: typeof KubernetesKv }).KubernetesKv;
const kubeConfigClass = (): typeof KubeConfig => (requireHere('@kubernetes/client-node') as { KubeConfig: typeof KubeConfig }).KubeConfig;

/** Where the in-cluster service account lives (mounted into every pod). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface RingKvDeps {
  logger?: Logger;
  /** Dotted path of this kvstore block, for error messages (default `kvstore`). */
  configPath?: string;
  /** `inmemory`: the registry shared by the process's components (default: the process-wide one). */
  inMemoryRegistry?: InMemoryKvRegistry;
  /** `kubernetes`: written as each Lease's spec.leaseDurationSeconds (informative). */
  heartbeatTimeoutMs?: number;
  /** `kubernetes`: use this KubeConfig instead of loading `kubeconfig` / the in-cluster account. */
  kubeConfig?: KubeConfig;
  /** `kubernetes`: a path prefix for the in-cluster service account files (tests point it elsewhere; default ''). */
  inClusterRoot?: string;
}

function configError(path: string, message: string): ConfigError {
  return new ConfigError('validate', [{ path, message: `${path}: ${message}` }]);
}

/**
 * The store `kv` describes, holding the ring `ringName` (`ingester`, `distributor`, ...) under `kv.prefix`. Throws
 * a ConfigError (a startup error) for `consul`, `memberlist` and incomplete settings. Connects lazily: nothing is
 * contacted before the first call.
 */
export function ringKvFromConfig(kv: KvConfig, ringName: string, deps: RingKvDeps = {}): RingKv {
  const path = deps.configPath ?? 'kvstore';
  const logger = deps.logger ?? nopLogger;
  const ringKey = `${kv.prefix}${ringName}`;
  switch (kv.store) {
    case 'inmemory':
      return new InMemoryKv(ringKey, deps.inMemoryRegistry ?? defaultInMemoryKvRegistry, logger);
    case 'etcd':
      if (kv.etcd.endpoints.length === 0) throw configError(`${path}.etcd.endpoints`, 'at least one etcd endpoint is required for store: etcd');
      return new (etcdKv())({ etcd: kv.etcd, ringKey, logger });
    case 'kubernetes': {
      const { kubeConfig, namespace } = kubernetesTarget(kv, deps, path);
      return new (kubernetesKv())({
        kubeConfig,
        namespace,
        ringName,
        prefix: kv.prefix,
        logger,
        leaseDurationSeconds: deps.heartbeatTimeoutMs !== undefined ? Math.ceil(deps.heartbeatTimeoutMs / 1000) : undefined,
      });
    }
    case 'consul':
    case 'memberlist':
      throw configError(
        `${path}.store`,
        `${JSON.stringify(kv.store)} is not supported by Strata; use inmemory, etcd or kubernetes ` +
          '(memberlist.join_members also selects memberlist for rings left at the default store)',
      );
    default:
      throw configError(`${path}.store`, `unknown store ${JSON.stringify(kv.store)}; use inmemory, etcd or kubernetes`);
  }
}

function kubernetesTarget(kv: KvConfig, deps: RingKvDeps, path: string): { kubeConfig: KubeConfig; namespace: string } {
  const root = deps.inClusterRoot ?? '';
  const saDir = `${root}${SERVICE_ACCOUNT_DIR}`;
  let kubeConfig = deps.kubeConfig;
  const explicit = kubeConfig !== undefined || kv.kubernetes.kubeconfig !== '';
  if (!kubeConfig) {
    kubeConfig = new (kubeConfigClass())();
    try {
      if (kv.kubernetes.kubeconfig !== '') {
        kubeConfig.loadFromFile(kv.kubernetes.kubeconfig);
      } else {
        if (!existsSync(`${saDir}/token`)) {
          throw new Error(`no in-cluster service account (${saDir}/token); set ${path}.kubernetes.kubeconfig outside a pod`);
        }
        kubeConfig.loadFromCluster(root);
      }
    } catch (err) {
      throw configError(`${path}.kubernetes.kubeconfig`, (err as Error).message);
    }
    const server = kubeConfig.getCurrentCluster()?.server ?? '';
    if (server === '' || server.includes('undefined')) {
      throw configError(`${path}.kubernetes.kubeconfig`, 'no Kubernetes API server address (not running in a pod, and no kubeconfig given)');
    }
  }
  let namespace = kv.kubernetes.namespace;
  if (namespace === '' && explicit) namespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? '';
  if (namespace === '' && !explicit) {
    try {
      namespace = readFileSync(`${saDir}/namespace`, 'utf8').trim();
    } catch {
      // reported below
    }
  }
  if (namespace === '' && explicit) namespace = 'default';
  if (namespace === '') throw configError(`${path}.kubernetes.namespace`, `not set, and ${saDir}/namespace is not readable`);
  return { kubeConfig, namespace };
}
