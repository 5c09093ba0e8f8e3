// Lease-based leader election and the controller loop against a real kube-apiserver.
// - Two electors: only one leads at any moment; when the leader's connection is cut it stops leading (callback)
//   before the other takes over within leaseDuration; a leader that stops releases the lease and the standby takes
//   over at its next retry.
// - runController: reconciles only once its informers have synced and only while leading; events (and mapped
//   events of other kinds) queue keys; failures retry with backoff; resync re-queues every cached key; a standby
//   controller takes over when the leader stops.
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { KubeRestClient } from '../../operator/src/kube/client.js';
import { runController, type Controller } from '../../operator/src/kube/controller.js';
import { LeaderElector, type Lease } from '../../operator/src/kube/leader-election.js';
import { parseObjectKey, type ReconcileContext } from '../../operator/src/kube/work-queue.js';
import { eventually, useControlPlane } from '../support/kube.js';
import { TcpProxy, apiserverPort, delay, kubeConfigVia, trackProcessFailures } from './kube-support.js';

const plane = useControlPlane();
const NS = 'runtime';
const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const SECRET = { apiVersion: 'v1', kind: 'Secret' } as const;
const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' } as const;
// Short timings so failover happens within seconds; the invariant is renewDeadline < leaseDuration.
const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 };

let client: KubeRestClient;
let proxy: TcpProxy;
const processFailures = trackProcessFailures();
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  client = new KubeRestClient(plane().kubeConfig());
  proxy = await TcpProxy.start('127.0.0.1', apiserverPort(plane()));
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
});

afterEach(async () => {
  proxy.restore();
  for (const c of cleanups.splice(0).reverse()) await c();
  expect(processFailures.failures).toEqual([]);
});

afterAll(async () => {
  processFailures.dispose();
  await proxy?.close();
  await client?.close();
});

/** Samples isLeader() of every elector every 20 ms and records any moment with two leaders. */
function watchForSplitBrain(electors: { isLeader(): boolean }[]) {
  let violations = 0;
  const timer = setInterval(() => {
    if (electors.filter((e) => e.isLeader()).length > 1) violations++;
  }, 20);
  return {
    violations: () => violations,
    stop: () => clearInterval(timer),
  };
}

describe('LeaderElector', () => {
  it('elects one leader; on renew failure it steps down and the other takes over within leaseDuration; on stop it releases', async () => {
    const lease = { name: 'election', namespace: NS };
    const log: string[] = [];
    const viaProxy = new KubeRestClient(kubeConfigVia(plane(), proxy.port));
    cleanups.push(() => viaProxy.close());
    const make = (identity: string, c: KubeRestClient) =>
      new LeaderElector({
        client: c,
        lease,
        identity,
        ...TIMING,
        onStartedLeading: () => log.push(`${identity} started`),
        onStoppedLeading: () => void log.push(`${identity} stopped`),
      });
    const a = make('replica-a', viaProxy);
    const b = make('replica-b', client);
    cleanups.push(() => a.stop(), () => b.stop());
    const split = watchForSplitBrain([a, b]);
    cleanups.push(async () => split.stop());

    a.start();
    await eventually(async () => (a.isLeader() ? true : undefined), 10_000, 'a to lead');
    b.start();
    // b sees a holding a live lease and waits, for longer than a whole lease duration.
    await delay(TIMING.leaseDurationMs + 500);
    expect(b.isLeader()).toBe(false);
    expect(b.leader()).toBe('replica-a');
    const created = (await client.get<Lease>({ ...LEASE, ...lease }))!;
    expect(created.spec).toMatchObject({ holderIdentity: 'replica-a', leaseDurationSeconds: 3, leaseTransitions: 0 });
    expect(created.spec!.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    // a can no longer reach the apiserver: it steps down after renewDeadline, b takes over after leaseDuration.
    const cutAt = Date.now();
    proxy.cut();
    await eventually(async () => (a.isLeader() ? undefined : true), TIMING.renewDeadlineMs + 2000, 'a to step down');
    const aSteppedDownAfter = Date.now() - cutAt;
    await eventually(async () => (b.isLeader() ? true : undefined), TIMING.leaseDurationMs + 3000, 'b to take over');
    const bTookOverAfter = Date.now() - cutAt;
    expect(aSteppedDownAfter).toBeLessThan(bTookOverAfter);
    // b takes over a lease duration after a's last renewal, plus at most a retry period or two (and slack for a
    // loaded machine).
    expect(bTookOverAfter).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - TIMING.retryPeriodMs);
    expect(bTookOverAfter).toBeLessThanOrEqual(TIMING.leaseDurationMs + 2 * TIMING.retryPeriodMs + 2000);
    expect(log).toEqual(['replica-a started', 'replica-a stopped', 'replica-b started']);

    // a is back online: it sees b renewing and stays a follower.
    proxy.restore();
    await delay(TIMING.leaseDurationMs + 500);
    expect(a.isLeader()).toBe(false);
    expect(a.leader()).toBe('replica-b');

    // b stops: it releases the lease, so a takes over well before a lease duration has passed.
    const stopAt = Date.now();
    await b.stop();
    const released = (await client.get<Lease>({ ...LEASE, ...lease }))!;
    expect(released.spec?.holderIdentity).toBeUndefined();
    await eventually(async () => (a.isLeader() ? true : undefined), TIMING.leaseDurationMs, 'a to take over after release');
    expect(Date.now() - stopAt).toBeLessThan(TIMING.leaseDurationMs);
    expect(log).toEqual(['replica-a started', 'replica-a stopped', 'replica-b started', 'replica-b stopped', 'replica-a started']);

    const final = (await client.get<Lease>({ ...LEASE, ...lease }))!;
    expect(final.spec).toMatchObject({ holderIdentity: 'replica-a', leaseTransitions: 2 });
    expect(split.violations()).toBe(0);

    await a.stop();
    expect(a.isLeader()).toBe(false);
    expect((await client.get<Lease>({ ...LEASE, ...lease }))!.spec?.holderIdentity).toBeUndefined();
  }, 60_000);

  it('refuses timings that could elect two leaders', () => {
    expect(() => new LeaderElector({ client, lease: { name: 'x', namespace: NS }, identity: 'x', leaseDurationMs: 2000, renewDeadlineMs: 2000 })).toThrow(
      /leaseDuration must exceed renewDeadline/,
    );
  });
});

describe('runController', () => {
  interface Call {
    by: string;
    key: string;
    synced: boolean;
    leader: boolean;
    failures: number;
  }

  /** A demo controller: parent ConfigMaps (role=parent) → a child ConfigMap each; Secrets labelled parent=<name> map to it. */
  function demoController(by: string, calls: Call[], extra: { resyncMs?: number; client?: KubeRestClient; lease?: string } = {}): Controller {
    const controller: Controller = runController({
      client: extra.client ?? client,
      informers: [
        { gvk: CM, namespace: NS, labelSelector: 'role=parent' },
        {
          gvk: SECRET,
          namespace: NS,
          mapToKeys: (obj: KubernetesObject) => {
            const parent = obj.metadata?.labels?.parent;
            return parent ? `${NS}/${parent}` : undefined;
          },
        },
      ],
      workers: 2,
      resyncMs: extra.resyncMs ?? 0,
      backoff: { baseMs: 100, maxMs: 400 },
      leaderElection: { lease: { name: extra.lease ?? 'demo-controller', namespace: NS }, identity: by, ...TIMING },
      reconcile: async (key: string, ctx: ReconcileContext) => {
        calls.push({ by, key, synced: controller.hasSynced(), leader: controller.isLeader(), failures: ctx.failures });
        const { namespace, name } = parseObjectKey(key);
        const parent = controller.informer<V1ConfigMap>(CM, NS)!.get(name, namespace);
        if (!parent) return;
        if (ctx.failures < Number(parent.data?.failTimes ?? 0)) throw new Error('planned failure');
        await client.serverSideApply(
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-child`, namespace: NS, labels: { role: 'child' } }, data: { ...parent.data, by } },
          'demo-controller',
          true,
        );
      },
    });
    cleanups.push(() => controller.stop());
    return controller;
  }

  function parent(name: string, data: Record<string, string> = {}): V1ConfigMap {
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, labels: { role: 'parent' } }, data: { v: '1', ...data } };
  }

  async function child(name: string): Promise<V1ConfigMap | undefined> {
    return client.get<V1ConfigMap>({ ...CM, name: `${name}-child`, namespace: NS });
  }

  it('reconciles every cached key once synced and leading, then follows events, mapped events and retries', async () => {
    await client.create(parent('p1'));
    await client.create(parent('p2'));
    const calls: Call[] = [];
    const controller = demoController('ctl-a', calls);
    await controller.whenRunning();
    expect(controller.isLeader()).toBe(true);
    // One leadership term for the whole test: a term change would replace the queue.
    const queue = controller.queue();
    await eventually(async () => ((await child('p1')) && (await child('p2')) ? true : undefined), 10_000, 'children of p1 and p2');
    // Nothing ran before the caches were complete or without leadership.
    expect(calls.every((c) => c.synced && c.leader)).toBe(true);

    // An event queues its key.
    await client.create(parent('p3', { v: '3' }));
    await eventually(async () => ((await child('p3'))?.data?.v === '3' ? true : undefined), 10_000, 'child of p3');

    // A Secret maps to its parent's key.
    const before = calls.filter((c) => c.key === `${NS}/p1`).length;
    await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1', namespace: NS, labels: { parent: 'p1' } }, stringData: { k: 'v' } });
    await eventually(async () => (calls.filter((c) => c.key === `${NS}/p1`).length > before ? true : undefined), 10_000, 'mapped Secret event');

    // A failing key retries with backoff until it succeeds.
    await client.create(parent('flaky', { failTimes: '2' }));
    await eventually(async () => ((await child('flaky')) ? true : undefined), 10_000, 'child of flaky');
    expect(calls.filter((c) => c.key === `${NS}/flaky`).map((c) => c.failures)).toEqual([0, 1, 2]);
    expect(controller.queue()!.failures(`${NS}/flaky`)).toBe(0);
    expect(controller.queue()).toBe(queue);
  }, 30_000);

  it('resyncs every cached key without events', async () => {
    const calls: Call[] = [];
    const controller = demoController('ctl-resync', calls, { resyncMs: 700 });
    await controller.whenRunning();
    await eventually(async () => (calls.filter((c) => c.key === `${NS}/p2`).length >= 3 ? true : undefined), 10_000, 'p2 resynced twice');
  }, 20_000);

  it('runs only on the leader; the standby takes over when the leader stops', async () => {
    const calls: Call[] = [];
    const a = demoController('ctl-a', calls);
    await a.whenRunning();
    const b = demoController('ctl-b', calls);
    await eventually(async () => (b.hasSynced() ? true : undefined), 10_000, 'b caches synced');
    await client.create(parent('p4'));
    await eventually(async () => ((await child('p4'))?.data?.by === 'ctl-a' ? true : undefined), 10_000, 'a reconciles p4');
    await delay(500);
    expect(b.isLeader()).toBe(false);
    expect(b.isRunning()).toBe(false);
    expect(calls.some((c) => c.by === 'ctl-b')).toBe(false);

    await a.stop();
    expect(a.isRunning()).toBe(false);
    await b.whenRunning();
    // The new leader starts from its caches: every parent is reconciled again, by b.
    await eventually(async () => ((await child('p4'))?.data?.by === 'ctl-b' ? true : undefined), 10_000, 'b reconciles p4');
    const byB = new Set(calls.filter((c) => c.by === 'ctl-b').map((c) => c.key));
    for (const name of ['p1', 'p2', 'p3', 'p4', 'flaky']) expect(byB.has(`${NS}/${name}`)).toBe(true);
    expect(calls.every((c) => c.synced && c.leader)).toBe(true);
  }, 30_000);

  it('survives a cut connection: steps down, then leads and reconciles again once the apiserver is reachable', async () => {
    const viaProxy = new KubeRestClient(kubeConfigVia(plane(), proxy.port));
    cleanups.push(() => viaProxy.close());
    const calls: Call[] = [];
    const controller = demoController('ctl-cut', calls, { client: viaProxy, lease: 'demo-cut' });
    await controller.whenRunning();
    await eventually(async () => ((await child('p4'))?.data?.by === 'ctl-cut' ? true : undefined), 10_000, 'ctl-cut reconciles');

    proxy.cut();
    try {
      await eventually(async () => (controller.isLeader() || controller.isRunning() ? undefined : true), 10_000, 'ctl-cut to step down');
      await client.create(parent('p5', { v: '5' }));
      await delay(1000);
      expect(await child('p5')).toBeUndefined();
    } finally {
      proxy.restore();
    }
    await controller.whenRunning();
    await eventually(async () => ((await child('p5'))?.data?.by === 'ctl-cut' ? true : undefined), 20_000, 'p5 reconciled after recovery');
    expect(calls.every((c) => c.synced && c.leader)).toBe(true);
  }, 40_000);
});
