// The ring against each real store: one contract run against the in-memory store, a real etcd (Debian's
// /usr/bin/etcd on loopback ports) and a real kube-apiserver (Leases). Every handle is a separate client, as a
// separate process would have: lifecyclers register and heartbeat through one, a Ring reads through another.
// Then each external store is restarted under a running ring (etcd on the same data dir and port; the apiserver on
// the same etcd) while one reader's connection is cut and the ring changes meanwhile: the watch must come back and
// catch up, and nothing may escape as an unhandled rejection or uncaught exception.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../engine/src/core/config/config-error.js';
import { defaultConfig, type KvConfig } from '../engine/src/core/config/config-schema.js';
import { ringKvFromConfig } from '../engine/src/core/ring/from-config.js';
import { InMemoryKvRegistry } from '../engine/src/core/ring/inmemory-kv.js';
import type { RingKv } from '../engine/src/core/ring/kv.js';
import { KubernetesKv, RING_INSTANCE_ANNOTATION, RING_KEY_ANNOTATION, leaseName } from '../engine/src/core/ring/kubernetes-kv.js';
import { Lifecycler, type LifecyclerOptions } from '../engine/src/core/ring/lifecycler.js';
import type { InstanceDesc } from '../engine/src/core/ring/model.js';
import { Ring } from '../engine/src/core/ring/ring.js';
import { EtcdServer } from './support/etcd.js';
import { eventually, useControlPlane, type ControlPlane } from './support/kube.js';
import { TcpProxy, kubeConfigVia, restartApiserver, trackProcessFailures } from './operator/kube-support.js';

const HEARTBEAT_MS = 100;
const TIMEOUT_MS = 1_000;

const processFailures = trackProcessFailures();
afterAll(() => processFailures.dispose());

/** How a test reaches one store. */
interface Backend {
  /** A new client of ring `ring` (a new connection, like another process). `viaProxy`: through the cuttable proxy. */
  kv(ring: string, opts?: { viaProxy?: boolean }): RingKv;
}

// ---------------------------------------------------------------------------------------------- bookkeeping

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  expect(processFailures.failures).toEqual([]);
});

let ringSeq = 0;
const freshRing = (): string => `ring${++ringSeq}`;

function tracked<T extends RingKv>(kv: T): T {
  cleanups.push(() => kv.close());
  return kv;
}

async function startRing(kv: RingKv, replicationFactor = 2): Promise<Ring> {
  const ring = new Ring({ kv, replicationFactor, heartbeatTimeoutMs: TIMEOUT_MS });
  cleanups.push(() => ring.stop());
  await ring.start();
  return ring;
}

function lifecycler(kv: RingKv, id: string, over: Partial<LifecyclerOptions> = {}): Lifecycler {
  const lc = new Lifecycler({
    kv,
    id,
    addr: `${id}.example:9095`,
    numTokens: 16,
    heartbeatPeriodMs: HEARTBEAT_MS,
    retryBackoff: { initialMs: 50, maxMs: 500 },
    unregisterAttempts: 2,
    ...over,
  });
  cleanups.push(() => lc.stop());
  return lc;
}

function stateOf(ring: Ring, id: string): string | undefined {
  return ring.describe().instances.find((i) => i.id === id)?.state;
}

function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<true> {
  return eventually(async () => (check() ? true : undefined), timeoutMs, what);
}

const desc = (id: string, over: Partial<InstanceDesc> = {}): InstanceDesc => ({
  id,
  addr: `${id}:9095`,
  zone: 'z1',
  state: 'ACTIVE',
  tokens: [3, 1_000_000, 4_000_000_000],
  heartbeat: Date.now(),
  registered: Date.now() - 60_000,
  ...over,
});

// ---------------------------------------------------------------------------------------------- the contract

function ringContract(backend: () => Backend): void {
  it('stores, reads, lists and deletes one record per instance; rings are separate', async () => {
    const ring = freshRing();
    const a = tracked(backend().kv(ring));
    const b = tracked(backend().kv(ring));
    const other = tracked(backend().kv(freshRing()));
    const d = desc('ingester-0');
    await a.put(d);
    expect(await b.get('ingester-0')).toEqual(d);
    expect(await b.get('missing')).toBeUndefined();
    await a.put({ ...d, state: 'LEAVING', heartbeat: d.heartbeat + 1 });
    expect(await b.get('ingester-0')).toEqual({ ...d, state: 'LEAVING', heartbeat: d.heartbeat + 1 });
    await a.put(desc('ingester-1'));
    expect((await b.list()).map((x) => x.id).sort()).toEqual(['ingester-0', 'ingester-1']);
    expect(await other.list()).toEqual([]);
    await b.delete('ingester-0');
    await b.delete('ingester-0'); // absent: no error
    expect((await a.list()).map((x) => x.id)).toEqual(['ingester-1']);
  });

  it('a watch delivers the current records, then every change', async () => {
    const ring = freshRing();
    const writer = tracked(backend().kv(ring));
    const reader = tracked(backend().kv(ring));
    await writer.put(desc('a'));
    const snapshots: string[][] = [];
    const w = reader.watch((all) => snapshots.push(all.map((x) => `${x.id}:${x.state}`).sort()));
    cleanups.push(() => w.stop());
    await w.synced;
    expect(snapshots[0]).toEqual(['a:ACTIVE']);
    await writer.put(desc('b', { state: 'JOINING' }));
    await until('b to appear', () => snapshots.at(-1)?.join() === 'a:ACTIVE,b:JOINING');
    await writer.put(desc('b'));
    await until('b to turn ACTIVE', () => snapshots.at(-1)?.join() === 'a:ACTIVE,b:ACTIVE');
    await writer.delete('a');
    await until('a to go', () => snapshots.at(-1)?.join() === 'b:ACTIVE');
    await w.stop();
    const seen = snapshots.length;
    await writer.put(desc('c'));
    await new Promise((r) => setTimeout(r, 300));
    expect(snapshots).toHaveLength(seen);
  });

  it('two lifecyclers see each other ACTIVE through the store, and keys are placed on both', async () => {
    const ring = freshRing();
    const a = lifecycler(tracked(backend().kv(ring)), 'ingester-a', { zone: 'z1' });
    const b = lifecycler(tracked(backend().kv(ring)), 'ingester-b', { zone: 'z2' });
    await Promise.all([a.start(), b.start()]);
    const ringA = await startRing(tracked(backend().kv(ring)));
    const ringB = await startRing(tracked(backend().kv(ring)));
    for (const r of [ringA, ringB]) {
      await until('both ACTIVE', () => stateOf(r, 'ingester-a') === 'ACTIVE' && stateOf(r, 'ingester-b') === 'ACTIVE');
      const status = r.describe();
      expect(status.instances.map((i) => [i.id, i.addr, i.zone, i.tokens])).toEqual([
        ['ingester-a', 'ingester-a.example:9095', 'z1', 16],
        ['ingester-b', 'ingester-b.example:9095', 'z2', 16],
      ]);
      expect(status.instances[0]!.ownership + status.instances[1]!.ownership).toBeCloseTo(1, 9);
      const set = r.get(12345, 'write');
      expect(set.instances.map((d) => d.id).sort()).toEqual(['ingester-a', 'ingester-b']);
      expect(set.minSuccess).toBe(2);
    }
    // Tokens are disjoint.
    expect(a.tokens.filter((t) => b.tokens.includes(t))).toEqual([]);
  });

  it('an instance whose heartbeats stop turns UNHEALTHY for readers and is skipped', async () => {
    const ring = freshRing();
    const alive = lifecycler(tracked(backend().kv(ring)), 'alive');
    // heartbeat_period 0: registers, then never heartbeats again (a hung process).
    const hung = lifecycler(tracked(backend().kv(ring)), 'hung', { heartbeatPeriodMs: 0 });
    await Promise.all([alive.start(), hung.start()]);
    const reader = await startRing(tracked(backend().kv(ring)), 1);
    await until('both ACTIVE', () => stateOf(reader, 'alive') === 'ACTIVE' && stateOf(reader, 'hung') === 'ACTIVE');
    await until('hung to turn UNHEALTHY', () => stateOf(reader, 'hung') === 'UNHEALTHY', 10_000);
    // The heartbeating one stays healthy all along.
    for (let i = 0; i < 5; i++) {
      expect(stateOf(reader, 'alive')).toBe('ACTIVE');
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS));
    }
    expect(reader.healthyInstances().map((d) => d.id)).toEqual(['alive']);
    expect(reader.describe().instances.find((i) => i.id === 'hung')!.storedState).toBe('ACTIVE');
    // With RF 1 each key has one replica: keys of the hung instance fail, the others go to `alive`.
    let failed = 0;
    for (let key = 0; key < 2 ** 32; key += 2 ** 26) {
      try {
        expect(reader.get(key).instances.map((d) => d.id)).toEqual(['alive']);
      } catch (err) {
        expect((err as Error).message).toBe('at least 1 live replicas required, could only find 0 - unhealthy instances: hung.example:9095');
        failed++;
      }
    }
    expect(failed).toBeGreaterThan(0);
    // With RF 1 the hung instance's streams have no other replica: a read over the ring cannot be complete.
    expect(() => reader.replicationSetForOperation('read')).toThrow('too many unhealthy instances in the ring');
  });

  it('stop(): readers see LEAVING while the flush runs, then the instance is gone', async () => {
    const ring = freshRing();
    const reader = await startRing(tracked(backend().kv(ring)), 1);
    let sawLeaving = false;
    const lc = lifecycler(tracked(backend().kv(ring)), 'leaver', {
      flush: () => until('readers to see LEAVING', () => (sawLeaving = stateOf(reader, 'leaver') === 'LEAVING')).then(() => undefined),
    });
    await lc.start();
    await until('ACTIVE', () => stateOf(reader, 'leaver') === 'ACTIVE');
    await lc.stop();
    expect(sawLeaving).toBe(true);
    await until('the instance to leave the ring', () => reader.instance('leaver') === undefined);
    expect(await tracked(backend().kv(ring)).get('leaver')).toBeUndefined();
  });

  it('a restart with the same id reuses its tokens and registration time', async () => {
    const ring = freshRing();
    // The first process "crashes": no heartbeats, no stop, its client just goes away.
    const firstKv = backend().kv(ring);
    const first = new Lifecycler({ kv: firstKv, id: 'ingester-7', addr: 'old:9095', numTokens: 16, heartbeatPeriodMs: 0 });
    await first.start();
    const stored = (await firstKv.get('ingester-7'))!;
    await firstKv.close();
    const second = lifecycler(tracked(backend().kv(ring)), 'ingester-7', { addr: 'new:9095' });
    await second.start();
    expect(second.tokens).toEqual(stored.tokens);
    const now = (await tracked(backend().kv(ring)).get('ingester-7'))!;
    expect(now).toMatchObject({ addr: 'new:9095', state: 'ACTIVE', registered: stored.registered, tokens: stored.tokens });
  });
}

// ---------------------------------------------------------------------------------------------- in-memory

describe('ring on the inmemory store', () => {
  const registry = new InMemoryKvRegistry();
  ringContract(() => ({
    kv: (ring) => ringKvFromConfig(kvConfig({ store: 'inmemory' }), ring, { inMemoryRegistry: registry }),
  }));
});

/**
 * The store restarts under a running ring: two members, a reader talking to the store directly and one through
 * `proxy`. While the proxy is cut, one member leaves, another joins and the store restarts. Both readers must
 * converge on the new membership with heartbeats written after the restart (within `recoverMs`) and keep following
 * (a later join arrives too). Returns the reader that was cut off.
 */
async function restartScenario(b: Backend, proxy: TcpProxy, restartStore: () => Promise<unknown>, recoverMs: number): Promise<Ring> {
  const ring = freshRing();
  const steady = lifecycler(tracked(b.kv(ring)), 'steady');
  const leaver = lifecycler(tracked(b.kv(ring)), 'leaver');
  await Promise.all([steady.start(), leaver.start()]);
  const direct = await startRing(tracked(b.kv(ring)), 1);
  const cutOff = await startRing(tracked(b.kv(ring, { viaProxy: true })), 1);
  for (const r of [direct, cutOff]) await until('both ACTIVE', () => stateOf(r, 'steady') === 'ACTIVE' && stateOf(r, 'leaver') === 'ACTIVE');

  proxy.cut();
  try {
    // Changes the cut-off reader cannot see yet: one instance leaves, another joins.
    await leaver.stop();
    const joiner = lifecycler(tracked(b.kv(ring)), 'joiner');
    await joiner.start();
    await until('the direct reader to see the changes', () => direct.instance('leaver') === undefined && stateOf(direct, 'joiner') === 'ACTIVE');
    await restartStore();
  } finally {
    proxy.restore();
  }
  const restartedAt = Date.now();

  // Both readers converge on the new membership, with heartbeats written after the restart.
  for (const r of [direct, cutOff]) {
    await until(
      'the ring to recover after the restart',
      () =>
        r.instance('leaver') === undefined &&
        stateOf(r, 'joiner') === 'ACTIVE' &&
        (r.instance('steady')?.heartbeat ?? 0) > restartedAt &&
        (r.instance('joiner')?.heartbeat ?? 0) > restartedAt,
      recoverMs,
    );
  }
  // And they keep following: a change after the restart arrives too.
  const late = lifecycler(tracked(b.kv(ring)), 'late');
  await late.start();
  for (const r of [direct, cutOff]) await until('a join after the restart', () => stateOf(r, 'late') === 'ACTIVE');
  return cutOff;
}

function kvConfig(over: Partial<KvConfig>): KvConfig {
  return { ...defaultConfig().ingester.lifecycler.ring.kvstore, ...over };
}

describe('ring store config', () => {
  it('kubernetes in a pod: the in-cluster service account, and the namespace it is mounted with', async () => {
    const root = mkdtempSync(join(tmpdir(), 'strata-ring-sa-'));
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    const configError = (over: Partial<KvConfig> = {}): string => {
      try {
        ringKvFromConfig(kvConfig({ store: 'kubernetes', ...over }), 'ingester', { inClusterRoot: root });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    try {
      expect(configError()).toContain('no in-cluster service account');
      mkdirSync(sa, { recursive: true });
      writeFileSync(join(sa, 'token'), 'token');
      writeFileSync(join(sa, 'ca.crt'), '');
      writeFileSync(join(sa, 'namespace'), 'loki-system\n');
      // The service account is mounted but the pod's environment (the apiserver's address) is missing.
      delete process.env.KUBERNETES_SERVICE_HOST;
      expect(configError()).toContain('no Kubernetes API server address');
      process.env.KUBERNETES_SERVICE_HOST = '10.0.0.1';
      process.env.KUBERNETES_SERVICE_PORT = '443';
      const store = ringKvFromConfig(kvConfig({ store: 'kubernetes' }), 'ingester', { inClusterRoot: root }) as KubernetesKv;
      expect(store.namespace).toBe('loki-system');
      const explicit = ringKvFromConfig(kvConfig({ store: 'kubernetes', kubernetes: { namespace: 'other', kubeconfig: '' } }), 'ingester', {
        inClusterRoot: root,
      }) as KubernetesKv;
      expect(explicit.namespace).toBe('other');
      await Promise.all([store.close(), explicit.close()]);
    } finally {
      for (const [k, v] of [
        ['KUBERNETES_SERVICE_HOST', saved.host],
        ['KUBERNETES_SERVICE_PORT', saved.port],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.each(['consul', 'memberlist'] as const)('%s is refused at startup with a clear error', (store) => {
    let err: unknown;
    try {
      ringKvFromConfig(kvConfig({ store }), 'ingester', { configPath: 'ingester.lifecycler.ring.kvstore' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(
      `ingester.lifecycler.ring.kvstore.store: "${store}" is not supported by Strata; use inmemory, etcd or kubernetes`,
    );
  });
});

// ---------------------------------------------------------------------------------------------- etcd

describe('ring on etcd', () => {
  let etcd: EtcdServer | undefined;
  let proxy: TcpProxy | undefined;
  const killEtcd = () => etcd?.stop();
  beforeAll(async () => {
    process.once('exit', () => void killEtcd());
    etcd = await EtcdServer.start();
    proxy = await TcpProxy.start('127.0.0.1', etcd.port);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await etcd?.dispose();
  }, 30_000);

  const backend = (): Backend => {
    if (!etcd || !proxy) throw new Error('etcd did not start (see the beforeAll error)');
    const port = etcd.port;
    const proxyPort = proxy.port;
    return {
      kv: (ring, opts) =>
        ringKvFromConfig(
          kvConfig({ store: 'etcd', etcd: { ...kvConfig({}).etcd, endpoints: [`127.0.0.1:${opts?.viaProxy ? proxyPort : port}`], dial_timeout: 2_000 } }),
          ring,
        ),
    };
  };
  ringContract(backend);

  it('records live under <prefix><ring>/<id> as the descriptor JSON', async () => {
    const ring = freshRing();
    const kv = tracked(backend().kv(ring));
    await kv.put(desc('ingester-0'));
    const res = await fetch(`${etcd!.url}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from(`collectors/${ring}/ingester-0`).toString('base64') }),
    });
    const body = (await res.json()) as { kvs?: { value: string }[] };
    expect(JSON.parse(Buffer.from(body.kvs![0]!.value, 'base64').toString())).toEqual(desc('ingester-0', { heartbeat: expect.any(Number), registered: expect.any(Number) }));
  });

  it('the ring keeps working across an etcd restart and catches up on what changed while a reader was cut off', async () => {
    const cutOff = await restartScenario(backend(), proxy!, () => etcd!.restart(), 30_000);
    expect(cutOff.get(99, 'write').instances).toHaveLength(1);
  }, 90_000);
});

// ---------------------------------------------------------------------------------------------- kubernetes

describe('ring on Kubernetes Leases', () => {
  const plane = useControlPlane();
  const NS = 'strata-ring';
  let proxy: TcpProxy | undefined;

  beforeAll(async () => {
    await plane().kubectl(['create', 'namespace', NS]);
    proxy = await TcpProxy.start('127.0.0.1', Number(new URL(plane().server).port));
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
  });

  const backend = (): Backend => {
    const p: ControlPlane = plane();
    return {
      kv: (ring, opts) => {
        const kubeConfig: KubeConfig | undefined = opts?.viaProxy ? kubeConfigVia(p, proxy!.port) : undefined;
        return ringKvFromConfig(kvConfig({ store: 'kubernetes', kubernetes: { namespace: NS, kubeconfig: p.kubeconfigPath } }), ring, {
          kubeConfig,
          heartbeatTimeoutMs: TIMEOUT_MS,
        });
      },
    };
  };
  ringContract(backend);

  it('each instance is one Lease: DNS-safe name, labels, holder, renew time and the descriptor annotation', async () => {
    const ring = freshRing();
    const lc = lifecycler(tracked(backend().kv(ring)), 'Ingester_0');
    await lc.start();
    const name = leaseName(`collectors/${ring}`, 'Ingester_0');
    const lease = JSON.parse(await plane().kubectl(['get', 'lease', '-n', NS, name, '-o', 'json'])) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: { holderIdentity: string; renewTime: string; acquireTime: string; leaseDurationSeconds: number };
    };
    expect(lease.metadata.labels).toEqual({ 'ring.strata.dev/name': ring, 'ring.strata.dev/prefix': 'collectors' });
    expect(lease.metadata.annotations[RING_KEY_ANNOTATION]).toBe(`collectors/${ring}`);
    const stored = JSON.parse(lease.metadata.annotations[RING_INSTANCE_ANNOTATION]!) as InstanceDesc;
    expect(stored).toMatchObject({ id: 'Ingester_0', state: 'ACTIVE', tokens: [...lc.tokens] });
    expect(lease.spec.holderIdentity).toBe('Ingester_0');
    expect(lease.spec.leaseDurationSeconds).toBe(1);
    expect(Date.parse(lease.spec.acquireTime)).toBe(stored.registered);
    expect(Math.abs(Date.parse(lease.spec.renewTime) - stored.heartbeat)).toBeLessThan(1);
    // kubectl's own selector finds the ring's Leases.
    const names = await plane().kubectl(['get', 'leases', '-n', NS, '-l', `ring.strata.dev/name=${ring}`, '-o', 'name']);
    expect(names.trim()).toBe(`lease.coordination.k8s.io/${name}`);
  });

  it('ignores Leases of other rings and Leases without a valid descriptor', async () => {
    const ring = freshRing();
    const kv = tracked(backend().kv(ring));
    await kv.put(desc('good'));
    const bad = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: 'hand-made',
        namespace: NS,
        labels: { 'ring.strata.dev/name': ring, 'ring.strata.dev/prefix': 'collectors' },
        annotations: { [RING_KEY_ANNOTATION]: `collectors/${ring}`, [RING_INSTANCE_ANNOTATION]: '{"id":"x"' },
      },
    };
    await plane().kubectl(['apply', '-f', '-'], JSON.stringify(bad));
    const reader = await startRing(tracked(backend().kv(ring)), 1);
    expect(reader.instances().map((d) => d.id)).toEqual(['good']);
    expect((await kv.list()).map((d) => d.id)).toEqual(['good']);
  });

  it('the ring keeps working across an apiserver restart and catches up on what changed while a reader was cut off', async () => {
    await restartScenario(backend(), proxy!, () => restartApiserver(plane()), 40_000);
  }, 120_000);
});
