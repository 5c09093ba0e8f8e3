/**
 * Maps the storage parts of the config (schema periods, `storage_config`, `common.storage`) onto the plain options
 * the storage layer takes, so core/storage never sees YAML. Errors name the config key to fix.
 */
import { posix } from 'node:path';

import type { ObjectStoreOptions } from '../storage/from-config.js';
import type { PeriodConfig as StoragePeriodConfig } from '../storage/schema.js';
import { ConfigError } from './config-error.js';
import { defaultS3Config, type Config, type S3Config } from './config-schema.js';
import { resolveConfig } from './config.js';
import { resolveS3Config } from './s3-config.js';

function fail(path: string, message: string): never {
  throw new ConfigError('validate', [{ path, message: `${path}: ${message}` }]);
}

/** `schema_config.configs` in the storage layer's shape. */
export function schemaPeriods(cfg: Config): StoragePeriodConfig[] {
  return cfg.schema_config.configs.map((p) => ({
    from: p.from,
    store: p.store,
    objectStore: p.object_store,
    schema: p.schema,
    indexPrefix: p.index.prefix,
    indexPeriodMs: p.index.period,
  }));
}

/**
 * Options for the object store named by `objectStore` (default: the last schema period's `object_store`, the one new
 * data is written to). `common:` is applied first, so `common.storage.*` and `common.path_prefix` count.
 */
export function resolveStorage(input: Config, objectStore?: string): ObjectStoreOptions {
  const cfg = resolveConfig(input);
  const periods = cfg.schema_config.configs;
  const name = objectStore ?? periods[periods.length - 1]?.object_store;
  if (name === undefined) fail('schema_config.configs', 'at least one period config is required');
  switch (name) {
    case 'filesystem': {
      const directory =
        cfg.storage_config.filesystem.directory ||
        (cfg.common.path_prefix !== '' ? posix.join(cfg.common.path_prefix, 'chunks') : '');
      if (directory === '') {
        fail('storage_config.filesystem.directory', 'required when a schema period uses object_store: filesystem');
      }
      return { type: 'filesystem', directory };
    }
    case 's3':
    case 'aws': {
      // resolveConfig has already copied common.storage.s3 here when storage_config.aws was left empty.
      const s3: S3Config = cfg.storage_config.aws;
      const key = 'storage_config.aws';
      if (JSON.stringify(s3) === JSON.stringify(defaultS3Config())) {
        fail(key, 'required (or common.storage.s3) when a schema period uses object_store: s3');
      }
      const r = resolveS3Config(s3);
      if (r.inmemory) fail(`${key}.s3`, 'the inmemory:// mock store is not supported');
      if (r.buckets.length === 0) fail(`${key}.bucketnames`, 'a bucket is required (bucketnames, or the path of s3)');
      if (r.buckets.length > 1) fail(`${key}.bucketnames`, 'spreading chunks over several buckets is not supported');
      // S3-compatible stores (MinIO, Ceph) accept any region; AWS itself needs the real one.
      const region = r.region ?? (r.endpoint !== undefined ? 'us-east-1' : undefined);
      if (region === undefined) fail(`${key}.region`, 'required when no endpoint is set');
      return {
        type: 's3',
        endpoint: r.endpoint,
        region,
        bucket: r.buckets[0]!,
        accessKeyId: r.credentials?.accessKeyId || undefined,
        secretAccessKey: r.credentials?.secretAccessKey || undefined,
        forcePathStyle: r.forcePathStyle,
        insecure: s3.insecure,
        requestTimeoutMs: s3.http_config.timeout > 0 ? s3.http_config.timeout : undefined,
        maxAttempts: Math.max(1, s3.backoff_config.max_retries),
      };
    }
    default:
      fail('schema_config.configs.object_store', `object store ${JSON.stringify(name)} is not supported (filesystem, s3)`);
  }
}
