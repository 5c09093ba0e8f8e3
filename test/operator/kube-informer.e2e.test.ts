// The resilient informer against a real kube-apiserver: add/update/delete events and the cache; a cut connection
// (a TCP proxy between informer and apiserver) never crashes the process and the informer catches up on what
// changed meanwhile; a restarted apiserver (same etcd, same port) answers the old resourceVersion with 410 and the
// informer relists, reporting objects deleted meanwhile as deletes.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { KubeRestClient } from '../../operator/src/kube/client.js';
import { Informer } from '../../operator/src/kube/informer.js';
import { eventually, useControlPlane } from '../support/kube.js';
import { TcpProxy, apiserverPort, delay, kubeConfigVia, restartApiserver, trackProcessFailures } from './kube-support.js';

const plane = useControlPlane();
const CM = { apiVersion: 'v1', kind: 'ConfigMap' } as const;

let direct: KubeRestClient;
let proxy: TcpProxy;
const cleanups: (() => Promise<void>)[] = [];
const processFailures = trackProcessFailures();

beforeAll(async () => {
  direct = new KubeRestClient(plane().kubeConfig());
  proxy = await TcpProxy.start('127.0.0.1', apiserverPort(plane()));
  for (const name of ['events', 'cut', 'restart', 'elsewhere']) {
    await direct.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  // Whatever the apiserver did, nothing escaped as an unhandled rejection or uncaught exception.
  expect(processFailures.failures).toEqual([]);
});

afterAll(async () => {
  processFailures.dispose();
  await proxy?.close();
  await direct?.close();
});

function cm(namespace: string, name: string, v: string, labels?: Record<string, string>): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, ...(labels ? { labels } : {}) }, data: { v } };
}

function startInformer(client: KubeRestClient, namespace: string, extra: { labelSelector?: string } = {}) {
  const informer = new Informer<V1ConfigMap>({ client, gvk: CM, namespace, backoff: { initialMs: 100, maxMs: 1000 }, ...extra});
  const events: string[] = [];
  for (const type of ['add', 'update', 'delete'] as const) {
    informer.on(type, (obj) => events.push(`${type}:${obj.metadata?.name}:${obj.data?.v ?? ''}`));
  }
  informer.start();
  cleanups.push(() => informer.stop());
  return { informer, events };
}

function cached(informer: Informer<V1ConfigMap>, namespace: string): Record<string, string | undefined> {
  const entries = informer.list(namespace).map((c) => [c.metadata!.name!, c.data?.v] as const);
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

describe('Informer', () => {
  it('lists, then reports adds, updates and deletes, keeping its cache current', async () => {
    await direct.create(cm('events', 'before', '0'));
    const { informer, events } = startInformer(direct, 'events');
    expect(informer.hasSynced()).toBe(false);
    await informer.waitForSync();
    expect(informer.hasSynced()).toBe(true);
    expect(events).toEqual(['add:before:0']);

    await direct.create(cm('events', 'one', '1'));
    await eventually(async () => (informer.get('one', 'events') ? true : undefined), 10_000, 'add of one');
    await direct.serverSideApply(cm('events', 'one', '2'), 'test', true);
    await eventually(async () => (informer.get('one', 'events')?.data?.v === '2' ? true : undefined), 10_000, 'update of one');
    await direct.delete({ ...CM, name: 'one', namespace: 'events' });
    await eventually(async () => (informer.get('one', 'events') ? undefined : true), 10_000, 'delete of one');

    expect(events).toEqual(['add:before:0', 'add:one:1', 'update:one:2', 'delete:one:2']);
    expect(cached(informer, 'events')).toEqual({ before: '0' });
    expect(informer.stats()).toMatchObject({ lists: 1, errors: 0, restarts: 0 });
  });

  it('honours a label selector: an object whose labels stop matching is reported as deleted', async () => {
    const { informer, events } = startInformer(direct, 'events', { labelSelector: 'tier=logs' });
    await informer.waitForSync();
    await direct.create(cm('events', 'labelled', '1', { tier: 'logs' }));
    await direct.create(cm('events', 'unlabelled', '1'));
    await eventually(async () => (informer.get('labelled', 'events') ? true : undefined), 10_000, 'labelled add');
    await direct.patch({ ...CM, name: 'labelled', namespace: 'events' }, { metadata: { labels: { tier: 'other' } } }, { type: 'merge' });
    await eventually(async () => (informer.get('labelled', 'events') ? undefined : true), 10_000, 'labelled leaves the selector');
    expect(events).toEqual(['add:labelled:1', 'delete:labelled:1']);
  });

  it('keeps delivering events to other handlers when one handler throws', async () => {
    const { informer, events } = startInformer(direct, 'events');
    informer.on('add', () => {
      throw new Error('handler bug');
    });
    await informer.waitForSync();
    await direct.create(cm('events', 'after-bug', '1'));
    await eventually(async () => (events.includes('add:after-bug:1') ? true : undefined), 10_000, 'event after a throwing handler');
  });

  it('survives a cut connection and catches up on changes made meanwhile', async () => {
    await direct.create(cm('cut', 'a', '1'));
    await direct.create(cm('cut', 'b', '1'));
    const viaProxy = new KubeRestClient(kubeConfigVia(plane(), proxy.port));
    cleanups.push(() => viaProxy.close());
    const { informer, events } = startInformer(viaProxy, 'cut');
    await informer.waitForSync();
    expect(events.sort()).toEqual(['add:a:1', 'add:b:1']);
    events.length = 0;

    proxy.cut();
    try {
      await eventually(async () => (informer.stats().errors > 0 ? true : undefined), 40_000, 'the informer to notice the cut');
      await direct.create(cm('cut', 'c', '1'));
      await direct.serverSideApply(cm('cut', 'a', '2'), 'test', true);
      await direct.delete({ ...CM, name: 'b', namespace: 'cut' });
      // Several failed restarts while the apiserver is unreachable.
      await eventually(async () => (informer.stats().restarts >= 2 ? true : undefined), 20_000, 'restarts while cut');
      expect(cached(informer, 'cut')).toEqual({ a: '1', b: '1' });
    } finally {
      proxy.restore();
    }

    await eventually(
      async () => (JSON.stringify(cached(informer, 'cut')) === JSON.stringify({ a: '2', c: '1' }) ? true : undefined),
      20_000,
      'the informer to catch up',
    );
    expect(events.sort()).toEqual(['add:c:1', 'delete:b:1', 'update:a:2']);
    expect(informer.stats().lastError).toBeTruthy();
    expect(informer.hasSynced()).toBe(true);

    // And it keeps watching afterwards.
    await direct.create(cm('cut', 'd', '1'));
    await eventually(async () => (informer.get('d', 'cut') ? true : undefined), 10_000, 'an event after recovery');
  }, 90_000);

  it('relists after the apiserver restarts and no longer has its resourceVersion (410)', async () => {
    await direct.create(cm('restart', 'stays', '1'));
    await direct.create(cm('restart', 'goes', '1'));
    const viaProxy = new KubeRestClient(kubeConfigVia(plane(), proxy.port));
    cleanups.push(() => viaProxy.close());
    const { informer, events } = startInformer(viaProxy, 'restart');
    await informer.waitForSync();
    events.length = 0;
    const before = informer.stats();

    proxy.cut();
    let after: KubeRestClient | undefined;
    try {
      // A write elsewhere moves etcd's revision past the informer's last resourceVersion, so the restarted apiserver's
      // watch cache starts after it and must answer 410.
      await direct.create(cm('elsewhere', 'bump', '1'));
      await restartApiserver(plane());
      after = new KubeRestClient(plane().kubeConfig());
      await after.delete({ ...CM, name: 'goes', namespace: 'restart' });
      await after.serverSideApply(cm('restart', 'stays', '2'), 'test', true);
      await after.create(cm('restart', 'new', '1'));
      await delay(500);
    } finally {
      proxy.restore();
    }

    await eventually(
      async () => (JSON.stringify(cached(informer, 'restart')) === JSON.stringify({ new: '1', stays: '2' }) ? true : undefined),
      40_000,
      'the informer to relist',
    );
    const stats = informer.stats();
    expect(stats.expired).toBeGreaterThan(before.expired);
    expect(stats.lists).toBeGreaterThan(before.lists);
    expect(events.sort()).toEqual(['add:new:1', 'delete:goes:1', 'update:stays:2']);

    await after!.create(cm('restart', 'later', '1'));
    await eventually(async () => (informer.get('later', 'restart') ? true : undefined), 10_000, 'an event after the relist');
    await after!.close();
  }, 120_000);
});
