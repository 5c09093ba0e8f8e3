import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemObjectClient } from './filesystem-client.js';
import { objectClientFromOptions, type ObjectStoreOptions } from './from-config.js';
import { S3ObjectClient } from './s3-client.js';

it('builds a filesystem client that stores under the directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-cfg-'));
  try {
    const client = objectClientFromOptions({ type: 'filesystem', directory: dir });
    expect(client).toBeInstanceOf(FilesystemObjectClient);
    await client.put('a/b', Buffer.from('x'));
    expect(await new FilesystemObjectClient(dir).exists('a/b')).toBe(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('builds an S3 client without contacting the store', async () => {
  const client = objectClientFromOptions({ type: 's3', region: 'us-east-1', bucket: 'b', endpoint: 'localhost:1' });
  expect(client).toBeInstanceOf(S3ObjectClient);
  await client.close();
});

it('names the problem in bad options', () => {
  expect(() => objectClientFromOptions({ type: 'filesystem', directory: '' })).toThrow(/directory is required/);
  expect(() => objectClientFromOptions({ type: 's3', region: '', bucket: 'b' })).toThrow(/region is required/);
  expect(() => objectClientFromOptions({ type: 'gcs' } as unknown as ObjectStoreOptions)).toThrow(
    /unknown object store type "gcs"/,
  );
});
