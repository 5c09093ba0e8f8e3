import { ConfigError, EMBEDDED_DEFAULT_CONFIG_YAML, parseConfig, type Config } from './config.js';
import { resolveStorage, schemaPeriods } from './storage-options.js';

const NOW = Date.UTC(2025, 0, 1);

function cfg(objectStore: string, extra = ''): Config {
  return parseConfig(
    `schema_config:
  configs:
    - from: 2024-01-01
      store: tsdb
      object_store: ${objectStore}
      schema: v13
      index:
        prefix: index_
        period: 24h
${extra}`,
    { now: NOW },
  );
}

describe('schemaPeriods', () => {
  it("maps schema_config onto the storage layer's period shape", () => {
    expect(schemaPeriods(parseConfig(EMBEDDED_DEFAULT_CONFIG_YAML, { now: NOW }))).toEqual([
      { from: '2024-01-01', store: 'tsdb', objectStore: 'filesystem', schema: 'v13', indexPrefix: 'index_', indexPeriodMs: 86_400_000 },
    ]);
  });
});

describe('resolveStorage', () => {
  it('uses storage_config.filesystem, else common.storage.filesystem, else <path_prefix>/chunks', () => {
    expect(resolveStorage(cfg('filesystem', 'storage_config:\n  filesystem:\n    directory: /a\n'))).toEqual({ type: 'filesystem', directory: '/a' });
    expect(resolveStorage(parseConfig(EMBEDDED_DEFAULT_CONFIG_YAML, { now: NOW }))).toEqual({ type: 'filesystem', directory: './data/chunks' });
    expect(resolveStorage(cfg('filesystem', 'common:\n  path_prefix: /p\n'))).toEqual({ type: 'filesystem', directory: '/p/chunks' });
    expect(() => resolveStorage(cfg('filesystem'))).toThrow('storage_config.filesystem.directory: required');
  });

  it('maps the s3 URL form with region', () => {
    expect(resolveStorage(cfg('s3', 'storage_config:\n  aws:\n    s3: s3://KEY:SECRET@eu-west-1/chunks\n'))).toEqual({
      type: 's3',
      endpoint: undefined,
      region: 'eu-west-1',
      bucket: 'chunks',
      accessKeyId: 'KEY',
      secretAccessKey: 'SECRET',
      forcePathStyle: false,
      insecure: false,
      requestTimeoutMs: undefined,
      maxAttempts: 5,
    });
  });

  it('maps an S3-compatible endpoint from common.storage.s3, defaulting the region', () => {
    const opts = resolveStorage(
      cfg(
        'aws',
        'common:\n  storage:\n    s3:\n      endpoint: minio:9000\n      insecure: true\n      bucketnames: loki\n      s3forcepathstyle: true\n      access_key_id: minio\n      secret_access_key: minio123\n      http_config:\n        timeout: 20s\n',
      ),
    );
    expect(opts).toMatchObject({
      type: 's3',
      endpoint: 'http://minio:9000',
      region: 'us-east-1',
      bucket: 'loki',
      forcePathStyle: true,
      accessKeyId: 'minio',
      secretAccessKey: 'minio123',
      requestTimeoutMs: 20_000,
    });
  });

  it('names the key to fix when the s3 config is incomplete or unsupported', () => {
    expect(() => resolveStorage(cfg('s3'))).toThrow(ConfigError);
    expect(() => resolveStorage(cfg('s3'))).toThrow('storage_config.aws: required (or common.storage.s3)');
    expect(() => resolveStorage(cfg('s3', 'storage_config:\n  aws:\n    region: eu-west-1\n'))).toThrow('storage_config.aws.bucketnames: a bucket is required');
    expect(() => resolveStorage(cfg('s3', 'storage_config:\n  aws:\n    bucketnames: a,b\n    region: x\n'))).toThrow('several buckets');
    expect(() => resolveStorage(cfg('s3', 'storage_config:\n  aws:\n    bucketnames: a\n'))).toThrow('storage_config.aws.region: required');
    expect(() => resolveStorage(cfg('s3', 'storage_config:\n  aws:\n    s3: inmemory:///b\n'))).toThrow('inmemory');
  });

  it('can resolve a store other than the newest period’s', () => {
    expect(resolveStorage(cfg('s3', 'storage_config:\n  filesystem:\n    directory: /old\n'), 'filesystem')).toEqual({
      type: 'filesystem',
      directory: '/old',
    });
  });
});
