import { EngineError } from '../errors.js';
import { Limiter } from './limiter.js';
import { isRetryable, withRetries } from './retry.js';

describe('withRetries', () => {
  const opts = { maxRetries: 5, minBackoffMs: 1, maxBackoffMs: 4 };

  it('retries server errors up to max_retries attempts in all, then gives the last error', async () => {
    let n = 0;
    await expect(
      withRetries(async () => {
        n++;
        throw new EngineError('internal', `boom ${n}`);
      }, opts),
    ).rejects.toThrow('boom 5');
    expect(n).toBe(5);
    let m = 0;
    expect(
      await withRetries(async () => {
        if (++m < 3) throw new Error('connection reset');
        return 'ok';
      }, opts),
    ).toBe('ok');
  });

  it('does not retry client errors or timeouts', async () => {
    for (const e of [new EngineError('bad_request', 'x'), new EngineError('too_many_requests', 'x'), new EngineError('timeout', 'x')]) {
      let n = 0;
      await expect(
        withRetries(async () => {
          n++;
          throw e;
        }, opts),
      ).rejects.toBe(e);
      expect(n).toBe(1);
    }
    expect(isRetryable(new EngineError('unavailable', 'x'))).toBe(true);
  });

  it('stops waiting as soon as the query is cancelled', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = withRetries(
      async () => {
        throw new EngineError('internal', 'x');
      },
      { maxRetries: 5, minBackoffMs: 10_000, maxBackoffMs: 10_000, signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toMatchObject({ code: 'client_closed' });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('Limiter', () => {
  it('runs at most max tasks at once, in the order they asked', async () => {
    const lim = new Limiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        lim.run(async () => {
          order.push(i);
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('drops a waiting task whose signal aborts', async () => {
    const lim = new Limiter(1);
    let release!: () => void;
    const first = lim.run(() => new Promise<void>((r) => (release = r)));
    const ac = new AbortController();
    let ran = false;
    const second = lim.run(async () => {
      ran = true;
    }, ac.signal);
    ac.abort();
    await expect(second).rejects.toMatchObject({ code: 'client_closed' });
    release();
    await first;
    expect(ran).toBe(false);
    expect(lim.active).toBe(0);
  });
});
