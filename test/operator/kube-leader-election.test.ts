// Leader election timing rules on a fake clock and an in-memory Lease store with optimistic concurrency (the real
// apiserver runs in kube-leader-controller.e2e.test.ts): a single winner of simultaneous campaigns, step-down exactly
// after renewDeadline, takeover only after leaseDuration of an unchanged record as seen on our own clock (never by
// trusting the remote renewTime), and release on stop.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient, ObjectRef } from '../../operator/src/kube/client.js';
import { FakeClock } from '../../operator/src/kube/clock.js';
import { KubeError } from '../../operator/src/kube/errors.js';
import { LeaderElector, microTime, type Lease } from '../../operator/src/kube/leader-election.js';

const LEASE = { name: 'lease', namespace: 'ns' };
const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** Leases in memory, with resourceVersion checks like the apiserver's. */
class LeaseStore {
  lease: Lease | undefined;
  private rv = 0;
  writes = 0;

  get(): Lease | undefined {
    return this.lease && structuredClone(this.lease);
  }

  create(obj: Lease): Lease {
    if (this.lease) throw new KubeError('Conflict', 'leases "lease" already exists', 409, 'AlreadyExists');
    this.writes++;
    this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }

  replace(obj: Lease): Lease {
    if (!this.lease) throw new KubeError('NotFound', 'not found', 404);
    if (obj.metadata.resourceVersion !== this.lease.metadata.resourceVersion) {
      throw new KubeError('Conflict', 'the object has been modified', 409, 'Conflict');
    }
    this.writes++;
    this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
}

/** A KubeClient over the store that can be cut off (every call then fails like an unreachable apiserver). */
function fakeClient(store: LeaseStore): KubeClient & { offline: boolean } {
  const guard = () => {
    if (client.offline) throw new KubeError('Unavailable', 'connect ECONNREFUSED');
  };
  const unsupported = () => Promise.reject(new Error('not used by leader election'));
  const client = {
    offline: false,
    async get<T extends KubernetesObject>(_ref: ObjectRef): Promise<T | undefined> {
      guard();
      return store.get() as T | undefined;
    },
    async create<T extends KubernetesObject>(obj: T): Promise<T> {
      guard();
      return store.create(obj as unknown as Lease) as unknown as T;
    },
    async replace<T extends KubernetesObject>(obj: T): Promise<T> {
      guard();
      return store.replace(obj as unknown as Lease) as unknown as T;
    },
    list: unsupported,
    serverSideApply: unsupported,
    patch: unsupported,
    patchStatus: unsupported,
    delete: unsupported,
    watch: unsupported,
  };
  return client;
}

function elector(identity: string, client: KubeClient, clock: FakeClock, events: string[]) {
  return new LeaderElector({
    client,
    clock,
    lease: LEASE,
    identity,
    ...TIMING,
    onStartedLeading: () => events.push(`${identity}+@${clock.now()}`),
    onStoppedLeading: () => void events.push(`${identity}-@${clock.now()}`),
  });
}

describe('LeaderElector (fake clock)', () => {
  it('lets exactly one of two simultaneous candidates lead, and keeps it leading', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const events: string[] = [];
    const a = elector('a', fakeClient(store), clock, events);
    const b = elector('b', fakeClient(store), clock, events);
    a.start();
    b.start();
    await clock.advance(60_000);
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    const leader = a.isLeader() ? 'a' : 'b';
    expect(events).toEqual([`${leader}+@0`]);
    expect(store.lease!.spec).toMatchObject({ holderIdentity: leader, leaseDurationSeconds: 15, leaseTransitions: 0 });
    // Renewed every retry period.
    expect(store.writes).toBeGreaterThanOrEqual(30);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('steps down once renewals fail for renewDeadline; the standby takes over only after leaseDuration', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const events: string[] = [];
    const aClient = fakeClient(store);
    const a = elector('a', aClient, clock, events);
    const b = elector('b', fakeClient(store), clock, events);
    a.start();
    await clock.advance(1);
    b.start();
    await clock.advance(10_000); // a renews at 2 s, 4 s, … 10 s
    expect(a.isLeader()).toBe(true);

    aClient.offline = true; // last good renewal of a: t = 10 000
    let both = 0;
    for (let t = 0; t < 30_000; t += 100) {
      await clock.advance(100);
      if (a.isLeader() && b.isLeader()) both++;
    }
    expect(both).toBe(0);
    const [aDown, bUp] = [events[1]!, events[2]!];
    const downAt = Number(aDown.split('@')[1]);
    const upAt = Number(bUp.split('@')[1]);
    expect(aDown.startsWith('a-')).toBe(true);
    expect(bUp.startsWith('b+')).toBe(true);
    // a gives up at its first attempt at or after lastRenew + renewDeadline.
    expect(downAt).toBeGreaterThanOrEqual(10_000 + TIMING.renewDeadlineMs);
    expect(downAt).toBeLessThan(10_000 + TIMING.renewDeadlineMs + TIMING.retryPeriodMs);
    // b waits a full lease duration from when it saw the record change last (at most one jittered retry later).
    expect(upAt).toBeGreaterThanOrEqual(10_000 + TIMING.leaseDurationMs);
    expect(upAt).toBeLessThanOrEqual(10_000 + TIMING.retryPeriodMs * 1.2 + TIMING.leaseDurationMs + TIMING.retryPeriodMs * 1.2);
    expect(store.lease!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('judges expiry by its own clock, not by the renewTime written by another machine', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    // A holder whose clock was years behind: its renewTime looks ancient, yet the record may be fresh.
    store.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'lease', namespace: 'ns' },
      spec: { holderIdentity: 'ghost', leaseDurationSeconds: 15, renewTime: microTime(new Date('2001-01-01T00:00:00Z')) },
    });
    const events: string[] = [];
    const a = elector('a', fakeClient(store), clock, events);
    a.start();
    await clock.advance(14_000);
    expect(a.isLeader()).toBe(false);
    expect(a.leader()).toBe('ghost');
    await clock.advance(5_000);
    expect(a.isLeader()).toBe(true);
    expect(Number(events[0]!.split('@')[1])).toBeGreaterThanOrEqual(15_000);
    await a.stop();
  });

  it('releases the lease on stop after its work has stopped, so a standby takes over at its next retry', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const order: string[] = [];
    const a = new LeaderElector({
      client: fakeClient(store),
      clock,
      lease: LEASE,
      identity: 'a',
      ...TIMING,
      onStoppedLeading: async () => {
        order.push(`stopped, holder=${store.lease?.spec?.holderIdentity}`);
      },
    });
    const events: string[] = [];
    const b = elector('b', fakeClient(store), clock, events);
    a.start();
    await clock.advance(1);
    b.start();
    await clock.advance(5_000);
    const stopping = a.stop();
    await clock.advance(0);
    await stopping;
    expect(order).toEqual(['stopped, holder=a']);
    expect(store.lease!.spec?.holderIdentity).toBeUndefined();
    await clock.advance(TIMING.retryPeriodMs * 1.2);
    expect(b.isLeader()).toBe(true);
    expect(Number(events[0]!.split('@')[1]) - 5_001).toBeLessThanOrEqual(TIMING.retryPeriodMs * 1.2);
    await b.stop();
  });
});

describe('microTime', () => {
  it('writes six fractional digits, as metav1.MicroTime requires', () => {
    expect(microTime(new Date('2026-03-04T05:06:07.089Z'))).toBe('2026-03-04T05:06:07.089000Z');
  });
});
