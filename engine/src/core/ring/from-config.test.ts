import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { defaultConfig, type KvConfig } from '../config/config-schema.js';
import { parseConfig, resolveConfig } from '../config/config.js';
import { EtcdKv } from './etcd-kv.js';
import { ringKvFromConfig } from './from-config.js';
import { InMemoryKv, InMemoryKvRegistry } from './inmemory-kv.js';
import { KubernetesKv } from './kubernetes-kv.js';

const SCHEMA = `schema_config:
  configs:
    - from: 2024-01-01
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
`;
const parse = (text: string) => resolveConfig(parseConfig(SCHEMA + text, { now: Date.UTC(2025, 5, 1) }));

const kv = (over: Partial<KvConfig> = {}): KvConfig => ({ ...defaultConfig().ingester.lifecycler.ring.kvstore, ...over });

function startupError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-ring-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfigFile(namespace?: string): string {
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', ...(namespace ? { namespace } : {}) } }],
      'current-context': 'x',
    }),
  );
  return path;
}

describe('ringKvFromConfig', () => {
  it('refuses consul and memberlist with a startup error naming the key', () => {
    expect(startupError(() => ringKvFromConfig(kv({ store: 'consul' }), 'ingester', { configPath: 'ingester.lifecycler.ring.kvstore' }))).toBe(
      'invalid config: ingester.lifecycler.ring.kvstore.store: "consul" is not supported by Strata; use inmemory, etcd or kubernetes ' +
        '(memberlist.join_members also selects memberlist for rings left at the default store)',
    );
    expect(startupError(() => ringKvFromConfig(kv({ store: 'memberlist' }), 'distributor'))).toMatch(
      /^invalid config: kvstore\.store: "memberlist" is not supported by Strata; use inmemory, etcd or kubernetes/,
    );
  });

  it('a Loki config with memberlist.join_members fails at ring startup, not at parse time', () => {
    const cfg = parse('memberlist:\n  join_members: [loki-memberlist:7946]\n');
    expect(cfg.ingester.lifecycler.ring.kvstore.store).toBe('memberlist');
    expect(startupError(() => ringKvFromConfig(cfg.ingester.lifecycler.ring.kvstore, 'ingester'))).toMatch(/"memberlist" is not supported by Strata/);
  });

  it('inmemory: stores of one registry share records, under <prefix><ring name>', async () => {
    const registry = new InMemoryKvRegistry();
    const a = ringKvFromConfig(kv(), 'ingester', { inMemoryRegistry: registry });
    const b = ringKvFromConfig(kv(), 'ingester', { inMemoryRegistry: registry });
    const other = ringKvFromConfig(kv(), 'distributor', { inMemoryRegistry: registry });
    expect(a).toBeInstanceOf(InMemoryKv);
    expect(a.ringKey).toBe('collectors/ingester');
    await a.put({ id: 'i', addr: 'x', zone: '', state: 'ACTIVE', tokens: [1], heartbeat: 1, registered: 1 });
    expect((await b.list()).map((d) => d.id)).toEqual(['i']);
    expect(await other.list()).toEqual([]);
  });

  it('etcd: needs endpoints; builds a client lazily otherwise', async () => {
    expect(startupError(() => ringKvFromConfig(kv({ store: 'etcd' }), 'ingester'))).toBe(
      'invalid config: kvstore.etcd.endpoints: at least one etcd endpoint is required for store: etcd',
    );
    const store = ringKvFromConfig(kv({ store: 'etcd', etcd: { ...kv().etcd, endpoints: ['127.0.0.1:1'] } }), 'ingester');
    expect(store).toBeInstanceOf(EtcdKv);
    expect(store.ringKey).toBe('collectors/ingester');
    await store.close();
  });

  it('kubernetes: kubeconfig file; namespace from config, else the context, else default', async () => {
    const path = kubeconfigFile('from-context');
    const a = ringKvFromConfig(kv({ store: 'kubernetes', kubernetes: { kubeconfig: path, namespace: 'logs' } }), 'ingester');
    expect(a).toBeInstanceOf(KubernetesKv);
    expect((a as KubernetesKv).namespace).toBe('logs');
    const b = ringKvFromConfig(kv({ store: 'kubernetes', kubernetes: { kubeconfig: path, namespace: '' } }), 'ingester') as KubernetesKv;
    expect(b.namespace).toBe('from-context');
    const c = ringKvFromConfig(kv({ store: 'kubernetes', kubernetes: { kubeconfig: kubeconfigFile(), namespace: '' } }), 'ingester') as KubernetesKv;
    expect(c.namespace).toBe('default');
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('kubernetes outside a pod without a kubeconfig is a startup error', () => {
    expect(startupError(() => ringKvFromConfig(kv({ store: 'kubernetes' }), 'ingester', { inClusterRoot: dir }))).toBe(
      `invalid config: kvstore.kubernetes.kubeconfig: no in-cluster service account (${dir}/var/run/secrets/kubernetes.io/serviceaccount/token); ` +
        'set kvstore.kubernetes.kubeconfig outside a pod',
    );
  });

  it('kubernetes: a missing kubeconfig file is a startup error', () => {
    expect(
      startupError(() => ringKvFromConfig(kv({ store: 'kubernetes', kubernetes: { kubeconfig: join(dir, 'nope'), namespace: '' } }), 'ingester')),
    ).toMatch(/^invalid config: kvstore\.kubernetes\.kubeconfig: /);
  });
});

describe('kvstore config', () => {
  it('parses the kubernetes block and inherits it from common.ring', () => {
    const cfg = parse(
      'common:\n  ring:\n    kvstore:\n      store: kubernetes\n      kubernetes:\n        namespace: logs\n        kubeconfig: /etc/kube/config\n',
    );
    for (const k of [cfg.ingester.lifecycler.ring.kvstore, cfg.distributor.ring.kvstore]) {
      expect(k).toMatchObject({ store: 'kubernetes', kubernetes: { namespace: 'logs', kubeconfig: '/etc/kube/config' } });
    }
    expect(defaultConfig().ingester.lifecycler.ring.kvstore.kubernetes).toEqual({ namespace: '', kubeconfig: '' });
  });

  it('rejects an unknown store at parse time', () => {
    expect(() => parse('common:\n  ring:\n    kvstore:\n      store: zookeeper\n')).toThrow(/kubernetes/);
  });
});
