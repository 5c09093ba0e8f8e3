import { FilesystemObjectClient } from './filesystem-client.js';
import type { ObjectClient } from './object-client.js';
import { S3ObjectClient, type S3ObjectClientOptions } from './s3-client.js';

/**
 * Plain object store options. The config loader maps Loki's YAML (`storage_config.filesystem.directory`,
 * `storage_config.aws.*` / `common.storage.s3.*`) onto these; this module never reads YAML or the environment.
 */
export type ObjectStoreOptions =
  | { type: 'filesystem'; directory: string }
  | ({ type: 's3' } & S3ObjectClientOptions);

export function objectClientFromOptions(opts: ObjectStoreOptions): ObjectClient {
  switch (opts.type) {
    case 'filesystem':
      if (!opts.directory) throw new Error('filesystem object store: directory is required');
      return new FilesystemObjectClient(opts.directory);
    case 's3': {
      const { type: _type, ...s3 } = opts;
      return new S3ObjectClient(s3);
    }
    default:
      throw new Error(`unknown object store type ${JSON.stringify((opts as { type?: unknown }).type)}`);
  }
}
