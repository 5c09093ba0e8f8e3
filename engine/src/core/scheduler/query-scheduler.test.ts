import { EngineError } from '../errors.js';
import { QueryScheduler, TOO_MANY_OUTSTANDING } from './query-scheduler.js';

type Req = string;
type Res = string;

const scheduler = (opts: Partial<ConstructorParameters<typeof QueryScheduler<Req, Res>>[0]> = {}) =>
  new QueryScheduler<Req, Res>({ maxOutstandingPerTenant: 100, ...opts });

/** Takes `n` requests one after the other as querier `q` and answers each with its own text. */
async function drain(s: QueryScheduler<Req, Res>, n: number, q = 'q1'): Promise<string[]> {
  const got: string[] = [];
  for (let i = 0; i < n; i++) {
    const item = await s.next(q);
    got.push(item.request);
    s.complete(item.id, item.request);
  }
  return got;
}

describe('QueryScheduler', () => {
  it('serves tenants in turn, whatever their queue lengths', async () => {
    const s = scheduler();
    const answers = ['A1', 'A2', 'A3', 'A4', 'A5'].map((r) => s.enqueue('a', r));
    answers.push(s.enqueue('b', 'B1'));
    answers.push(...['C1', 'C2'].map((r) => s.enqueue('c', r)));
    expect(await drain(s, 8)).toEqual(['A1', 'B1', 'C1', 'A2', 'C2', 'A3', 'A4', 'A5']);
    expect(await Promise.all(answers)).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'B1', 'C1', 'C2']);
  });

  it('puts a tenant that starts queueing after the tenants already waiting', async () => {
    const s = scheduler();
    for (const r of ['A1', 'A2', 'A3']) void s.enqueue('a', r);
    for (const r of ['B1', 'B2']) void s.enqueue('b', r);
    const first = await drain(s, 2);
    void s.enqueue('c', 'C1');
    expect([...first, ...(await drain(s, 4))]).toEqual(['A1', 'B1', 'A2', 'B2', 'C1', 'A3']);
  });

  it('refuses a tenant beyond max_outstanding_requests_per_tenant with 429, others unaffected', async () => {
    const discarded: string[] = [];
    const s = scheduler({ maxOutstandingPerTenant: (t) => (t === 'a' ? 2 : 5), hooks: { discarded: (t) => discarded.push(t) } });
    void s.enqueue('a', 'A1');
    void s.enqueue('a', 'A2');
    const e = await s.enqueue('a', 'A3').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).status).toBe(429);
    expect((e as EngineError).message).toBe(TOO_MANY_OUTSTANDING);
    expect(discarded).toEqual(['a']);
    void s.enqueue('b', 'B1');
    // Requests handed to queriers no longer count.
    await drain(s, 1);
    void s.enqueue('a', 'A3');
    expect(s.queueLength('a')).toBe(2);
  });

  it('hands a request to a waiting querier, and its answer or failure back to the frontend', async () => {
    const s = scheduler();
    const waiting = s.next('q1');
    const answer = s.enqueue('a', 'x');
    const item = await waiting;
    expect(item).toMatchObject({ tenant: 'a', request: 'x' });
    expect(s.inflightCount).toBe(1);
    expect(s.complete(item.id, 'done')).toBe(true);
    expect(await answer).toBe('done');
    expect(s.complete(item.id, 'again')).toBe(false);

    const failing = s.enqueue('a', 'y');
    const it2 = await s.next('q1');
    s.fail(it2.id, new EngineError('bad_request', 'nope'));
    await expect(failing).rejects.toThrow('nope');
  });

  it('drops a queued request the frontend gave up on, and aborts one a querier is running', async () => {
    const s = scheduler();
    const ac = new AbortController();
    const gone = s.enqueue('a', 'x', ac.signal);
    ac.abort();
    await expect(gone).rejects.toMatchObject({ code: 'client_closed' });
    expect(s.queueLength()).toBe(0);

    const ac2 = new AbortController();
    const running = s.enqueue('a', 'y', ac2.signal);
    const item = await s.next('q1');
    expect(item.signal.aborted).toBe(false);
    ac2.abort();
    await expect(running).rejects.toMatchObject({ code: 'client_closed' });
    expect(item.signal.aborted).toBe(true);
    expect(s.complete(item.id, 'late')).toBe(false);
    expect(s.inflightCount).toBe(0);
  });

  it('gives a disconnected querier\'s requests to another querier, first in line, then fails them with 503', async () => {
    const s = scheduler({ maxRequeues: 1 });
    const answer = s.enqueue('a', 'x');
    const onQ1 = await s.next('q1');
    const q1Waiting = s.next('q1');
    void s.enqueue('a', 'later');
    expect((await q1Waiting).request).toBe('later');
    const q1Waiting2 = s.next('q1');
    s.querierDisconnected('q1');
    await expect(q1Waiting2).rejects.toMatchObject({ code: 'unavailable' });
    expect(onQ1.signal.aborted).toBe(true);
    // Back at the front of the queue.
    const onQ2 = await s.next('q2');
    expect(onQ2.request).toBe('x');
    expect(s.complete(onQ1.id, 'stale')).toBe(false);
    // Requeued once already: a second disconnect fails it. 'later' (requeued once) goes back to the queue.
    s.querierDisconnected('q2');
    await expect(answer).rejects.toMatchObject({ code: 'unavailable' });
    expect(s.queueLength('a')).toBe(1);
    const onQ3 = await s.next('q3');
    expect(onQ3.request).toBe('later');
    s.complete(onQ3.id, 'ok');
  });

  it('sends a tenant\'s requests only to its shuffle shard of queriers (max_queriers_per_tenant)', async () => {
    const s = scheduler({ maxQueriersPerTenant: (t) => (t === 'a' ? 1 : 0) });
    // Register three queriers.
    const waits = ['q1', 'q2', 'q3'].map((q) => ({ q, p: s.next(q).then((it) => ({ q, it })) }));
    // The last waiter is rejected by stop() at the end.
    for (const w of waits) w.p.catch(() => undefined);
    const taken: string[] = [];
    for (let i = 0; i < 6; i++) void s.enqueue('a', `A${i}`);
    // One querier takes every request of tenant a; the others keep waiting.
    const first = await Promise.race(waits.map((w) => w.p));
    taken.push(first.q);
    s.complete(first.it.id, 'ok');
    for (let i = 1; i < 6; i++) {
      const it = await s.next(first.q);
      s.complete(it.id, 'ok');
    }
    expect(s.queueLength('a')).toBe(0);
    // Tenant b (no limit) goes to the queriers still waiting.
    void s.enqueue('b', 'B');
    const other = await Promise.race(waits.filter((w) => w.q !== first.q).map((w) => w.p));
    expect(other.it.request).toBe('B');
    s.complete(other.it.id, 'ok');
    s.stop();
  });

  it('reports queue lengths, queue time and in-flight counts through its hooks', async () => {
    const lengths: Array<[string, number]> = [];
    const waited: string[] = [];
    const inflight: number[] = [];
    const s = scheduler({ hooks: { queueLength: (t, n) => lengths.push([t, n]), dequeued: (t) => waited.push(t), inflight: (n) => inflight.push(n) } });
    void s.enqueue('a', 'x');
    void s.enqueue('a', 'y');
    await drain(s, 2);
    expect(lengths).toEqual([
      ['a', 1],
      ['a', 2],
      ['a', 1],
      ['a', 0],
    ]);
    expect(waited).toEqual(['a', 'a']);
    expect(inflight).toEqual([1, 0, 1, 0]);
  });

  it('rejects everything when stopped', async () => {
    const s = scheduler();
    const running = s.enqueue('a', 'x');
    const item = await s.next('q1');
    const queued = s.enqueue('b', 'y');
    s.stop();
    await expect(running).rejects.toMatchObject({ code: 'unavailable' });
    expect(item.signal.aborted).toBe(true);
    await expect(queued).rejects.toMatchObject({ code: 'unavailable' });
    await expect(s.enqueue('a', 'z')).rejects.toMatchObject({ code: 'unavailable' });
    await expect(s.next('q1')).rejects.toMatchObject({ code: 'unavailable' });

    const idle = scheduler();
    const waiting = idle.next('q1');
    idle.stop();
    await expect(waiting).rejects.toMatchObject({ code: 'unavailable' });
  });
});
