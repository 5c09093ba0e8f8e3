import { createRequire } from 'node:module';
import pino from 'pino';
import { pinoLoki } from 'pino-loki';
import winston from 'winston';
import { cleanup, entriesOf, queryRange, startEngine, tempDir, testConfig, waitFor, type RunningEngine } from './support/engine.js';

const require = createRequire(import.meta.url);
// winston-loki is CommonJS; it sends protobuf + snappy when the `snappy` package can be loaded (it can here).
const LokiTransport = require('winston-loki') as new (opts: Record<string, unknown>) => winston.transport & {
  flush(): Promise<void>;
  close(): Promise<void>;
  batcher: { contentType: string };
};

describe('real Loki clients push through the API and their lines come back', () => {
  let dir: string;
  let e: RunningEngine;

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(testConfig(dir));
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  it('winston-loki (protobuf + snappy)', async () => {
    const errors: unknown[] = [];
    const transport = new LokiTransport({
      host: e.url,
      labels: { app: 'winston', env: 'test' },
      batching: true,
      interval: 0.1,
      onConnectionError: (err: unknown) => errors.push(err),
    });
    expect(transport.batcher.contentType).toBe('application/x-protobuf');
    const logger = winston.createLogger({ transports: [transport] });
    for (let i = 0; i < 20; i++) logger.info(`winston line ${i}`, { i });
    await transport.flush();
    expect(errors).toEqual([]);
    let lines: string[] = [];
    await waitFor(async () => {
      const q = await queryRange(e.url, '{app="winston"}', { start: String(BigInt(Date.now() - 60_000) * 1_000_000n), limit: 100 });
      lines = entriesOf(q.body).map((x) => x.line);
      return lines.length === 20;
    }, 5000);
    for (let i = 0; i < 20; i++) expect(lines).toContain(`winston line ${i} {"i":${i},"level":"info"}`);
    const q = await queryRange(e.url, '{app="winston"}', { start: String(BigInt(Date.now() - 60_000) * 1_000_000n), limit: 1 });
    // Loki 3 adds service_name (from `app`) to every stream.
    expect(q.body.data.result[0].stream).toEqual({ app: 'winston', env: 'test', service_name: 'winston', level: 'info' });
    await transport.close();
  });

  it('pino-loki (JSON, structured metadata as the third element)', async () => {
    const errors: string[] = [];
    const stream = pinoLoki({
      host: e.url,
      labels: { app: 'pino' },
      batching: false,
      structuredMetaKey: 'meta',
    });
    const logger = pino({ level: 'info' }, stream);
    const origError = console.error;
    console.error = (...args: unknown[]) => errors.push(args.join(' '));
    try {
      logger.info({ meta: { trace_id: 'tr-1' } }, 'pino says hello');
      logger.warn('pino warns');
      let result: ReturnType<typeof entriesOf> = [];
      await waitFor(async () => {
        const q = await queryRange(e.url, '{app="pino"}', {
          start: String(BigInt(Date.now() - 60_000) * 1_000_000n),
          headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' },
        });
        result = entriesOf(q.body);
        return result.length === 2;
      }, 5000);
      const hello = result.find((r) => r.line.includes('pino says hello'))!;
      expect(JSON.parse(hello.line)).toMatchObject({ msg: 'pino says hello' });
      expect(hello.extra).toEqual({ structuredMetadata: { trace_id: 'tr-1' } });
      expect(result.find((r) => r.line.includes('pino warns'))!.labels).toMatchObject({ app: 'pino', level: 'warning' });
      expect(errors).toEqual([]);
    } finally {
      console.error = origError;
    }
  });
});
