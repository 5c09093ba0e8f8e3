import type { AppendListener } from '../ingester/ingester.js';
import { ManualClock } from '../util/clock.js';
import { TailFeed } from './tail-feed.js';

class Source {
  listener: AppendListener | undefined;
  setAppendListener(l: AppendListener | undefined): void {
    this.listener = l;
  }
}

const stream = { labels: [['app', 'a']] as const, canonical: '{app="a"}', fingerprint: '0123456789abcdef' };
const entry = (ts: bigint, line: string) => ({ ts, line: Buffer.from(line) });

describe('TailFeed', () => {
  it('listens only while a session exists, and hands each session the entries of its tenants, copied', async () => {
    const src = new Source();
    const clock = new ManualClock(0);
    const feed = new TailFeed(src, { clock, sessionIdleMs: 1000 });
    expect(src.listener).toBeUndefined();
    expect(await feed.poll('q1', ['t1'], 0)).toEqual({ batches: [], dropped: 0 });
    expect(src.listener).toBe(feed);
    const pushed = [entry(1n, 'one'), entry(2n, 'two')];
    feed.appended('t1', stream, pushed);
    feed.appended('t2', stream, [entry(3n, 'other tenant')]);
    pushed[0]!.line.write('XXX'); // the request's buffer is reused: the feed kept a copy
    const got = await feed.poll('q1', ['t1'], 0);
    expect(got.batches.map((b) => [b.tenant, b.canonical, b.entries.map((e) => `${e.ts} ${e.line.toString()}`)])).toEqual([
      ['t1', '{app="a"}', ['1 one', '2 two']],
    ]);
    expect((await feed.poll('q1', ['t1'], 0)).batches).toEqual([]);
    feed.stop();
    expect(src.listener).toBeUndefined();
  });

  it('a waiting poll returns as soon as entries arrive', async () => {
    const feed = new TailFeed(new Source(), { clock: new ManualClock(0) });
    await feed.poll('q', ['t'], 0);
    const started = Date.now();
    const waiting = feed.poll('q', ['t'], 2000);
    setTimeout(() => feed.appended('t', stream, [entry(5n, 'late')]), 50);
    const got = await waiting;
    expect(Date.now() - started).toBeLessThan(1500);
    expect(got.batches[0]!.entries[0]!.line.toString()).toBe('late');
    feed.stop();
  });

  it('drops the oldest batches of a slow session beyond its byte budget, and counts them', async () => {
    const feed = new TailFeed(new Source(), { clock: new ManualClock(0), maxSessionBytes: 10 });
    await feed.poll('q', ['t'], 0);
    for (let i = 0; i < 5; i++) feed.appended('t', stream, [entry(BigInt(i), 'abcd')]);
    const got = await feed.poll('q', ['t'], 0);
    expect(got.dropped).toBe(3);
    expect(got.batches.map((b) => b.entries[0]!.ts)).toEqual([3n, 4n]);
    feed.stop();
  });
});
