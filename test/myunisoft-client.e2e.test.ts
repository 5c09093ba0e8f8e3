// @myunisoft/loki, a real Loki query client for Node.js, against the engine over HTTP: it pushes through its own
// `push`, then reads query_range (log lines, streams and a matrix), labels, label values and series.
import { GrafanaApi } from '@myunisoft/loki';
import { cleanup, nowNs, startEngine, tempDir, testConfig, type RunningEngine } from './support/engine.js';

const LIMITS = `
limits_config:
  reject_old_samples: false
  discover_service_name: []
  discover_log_levels: false
`;

const S = 1_000_000_000n;

describe('@myunisoft/loki client', () => {
  let dir: string;
  let e: RunningEngine;
  let api: GrafanaApi;
  // Five minutes ago, on a whole minute: web lines every 10 s for two minutes, worker lines every 30 s.
  const base = ((nowNs() - 5n * 60n * S) / (60n * S)) * 60n * S;
  const web = Array.from({ length: 12 }, (_, i) => ({ ts: base + BigInt(i * 10) * S + 1n, line: `GET /page/${i} 200` }));
  const worker = Array.from({ length: 4 }, (_, i) => ({ ts: base + BigInt(i * 30) * S + 2n, line: `job ${i} done` }));

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(testConfig(dir, LIMITS));
    api = new GrafanaApi({ remoteApiURL: e.url });
    await api.Loki.push([
      { stream: { app: 'shop', component: 'web', env: 'prod' }, values: web.map((x) => [x.ts.toString(), x.line]) },
      { stream: { app: 'shop', component: 'worker', env: 'prod' }, values: worker.map((x) => [x.ts.toString(), x.line]) },
      { stream: { app: 'blog', component: 'web', env: 'dev' }, values: [[(base + 1n).toString(), 'hello']] },
    ]);
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  it('queryRange: every line of the selected streams, newest first', async () => {
    const res = await api.Loki.queryRange('{app="shop"}', { start: (base - S).toString(), limit: 100 });
    const want = [...web, ...worker].sort((a, b) => (a.ts > b.ts ? -1 : 1)).map((x) => x.line);
    expect(res.logs).toEqual(want);
    expect(res.timerange).not.toBeNull();
  });

  it('queryRange with a limit and a pattern, as the client parses lines', async () => {
    const res = await api.Loki.queryRange('{app="shop", component="web"} |= "GET"', {
      start: (base - S).toString(),
      limit: 3,
      pattern: '<verb> <path> <status>',
    });
    expect(res.logs).toEqual([9, 10, 11].reverse().map((i) => ({ verb: 'GET', path: `/page/${i}`, status: '200' })));
  });

  it('queryRangeStream: streams with their labels and exact nanosecond values', async () => {
    const res = await api.Loki.queryRangeStream('{app="shop"}', { start: (base - S).toString() });
    const byComponent = Object.fromEntries(res.streams.map((s) => [s.labels.component, s]));
    expect(res.streams).toHaveLength(2);
    expect(byComponent.web!.labels).toEqual({ app: 'shop', component: 'web', env: 'prod' });
    expect(byComponent.web!.values).toEqual([...web].reverse().map((x) => [x.ts.toString(), x.line]));
    expect(byComponent.worker!.values).toEqual([...worker].reverse().map((x) => [x.ts.toString(), x.line]));
  });

  it('queryRangeMatrix: a metric query read as a matrix', async () => {
    const res = await api.Loki.queryRangeMatrix('sum by (component) (count_over_time({app="shop"}[10m]))', {
      start: base.toString(),
      end: (base + 2n * 60n * S).toString(),
    });
    expect(res.metrics.map((m) => m.labels)).toEqual([{ component: 'web' }, { component: 'worker' }]);
    // At the end of the range every entry is within the 10-minute window.
    const last = (m: (typeof res.metrics)[number]) => m.values[m.values.length - 1]!;
    expect(last(res.metrics[0]!)).toEqual([Number((base + 2n * 60n * S) / S), '12']);
    expect(last(res.metrics[1]!)).toEqual([Number((base + 2n * 60n * S) / S), '4']);
  });

  it('labels and labelValues, with a duration start and a selector', async () => {
    expect(await api.Loki.labels({ start: '1h' })).toEqual(['app', 'component', 'env']);
    expect(await api.Loki.labelValues('app', { start: '1h' })).toEqual(['blog', 'shop']);
    expect(await api.Loki.labelValues('component', { start: '1h', query: '{env="prod"}' })).toEqual(['web', 'worker']);
  });

  it('series: the label sets matching each selector', async () => {
    const series = await api.Loki.series('{app="shop"}');
    expect(series).toHaveLength(2);
    expect(series).toEqual(
      expect.arrayContaining([
        { app: 'shop', component: 'web', env: 'prod' },
        { app: 'shop', component: 'worker', env: 'prod' },
      ]),
    );
    expect(await api.Loki.series('{env="dev"}')).toEqual([{ app: 'blog', component: 'web', env: 'dev' }]);
    // Given several selectors the client sends only the last one (its HTTP library `set`s each `match`
    // parameter), so the answer is that selector's series.
    expect(await api.Loki.series('{env="dev"}', '{component="worker"}')).toEqual([{ app: 'shop', component: 'worker', env: 'prod' }]);
  });
});
