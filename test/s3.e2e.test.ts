import { startS3rver, type S3rverHandle } from '../engine/src/core/storage/testing/s3rver.js';
import { S3ObjectClient } from '../engine/src/core/storage/s3-client.js';
import { cleanup, entriesOf, pushJson, queryRange, startEngine, tempDir, type RunningEngine } from './support/engine.js';

function s3Config(dir: string, endpoint: string): string {
  return `
auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: 0
  log_level: warn
common:
  path_prefix: ${dir}
storage_config:
  aws:
    endpoint: ${endpoint}
    region: us-east-1
    bucketnames: strata-chunks
    access_key_id: S3RVER
    secret_access_key: S3RVER
    s3forcepathstyle: true
    insecure: true
schema_config:
  configs:
    - from: "2020-01-01"
      store: tsdb
      object_store: s3
      schema: v13
      index:
        prefix: index_
        period: 24h
ingester:
  wal:
    dir: ${dir}/wal
limits_config:
  reject_old_samples: false
`;
}

describe('S3 object storage (against s3rver, a real S3 wire peer)', () => {
  let s3: S3rverHandle;
  beforeAll(async () => {
    s3 = await startS3rver(['strata-chunks']);
  });
  afterAll(async () => {
    await s3.stop();
  });

  it('flushes chunks and index files to S3 and a fresh engine (empty WAL) reads them back', async () => {
    const ts = 1_700_000_000_000_000_001n;
    const values = Array.from({ length: 100 }, (_, i) => [String(ts + BigInt(i)), `s3 line ${i} ✓`]);
    const dir1 = tempDir();
    let e: RunningEngine = await startEngine(s3Config(dir1, s3.endpoint));
    try {
      expect((await pushJson(e.url, { streams: [{ stream: { app: 's3' }, values }] })).status).toBe(204);
      expect((await fetch(`${e.url}/flush`, { method: 'POST' })).status).toBe(204);
    } finally {
      await e.stop();
      cleanup(dir1);
    }
    const client = new S3ObjectClient(s3.clientOptions('strata-chunks'));
    const keys = (await client.list('')).map((o) => o.key);
    expect(keys.some((k) => k.startsWith('fake/'))).toBe(true); // a chunk
    expect(keys.some((k) => k.startsWith('index/'))).toBe(true); // its index file
    await client.close();

    const dir2 = tempDir(); // nothing local survives: the data can only come from S3
    e = await startEngine(s3Config(dir2, s3.endpoint));
    try {
      const q = await queryRange(e.url, '{app="s3"}', { start: String(ts), end: String(ts + 1000n), limit: 1000, direction: 'forward' });
      expect(q.status).toBe(200);
      expect(entriesOf(q.body).map((x) => [x.ts, x.line])).toEqual(values);
    } finally {
      await e.stop();
      cleanup(dir2);
    }
  });
});
