// S3-specific behaviour against a real s3rver (child process); the shared contract runs in object-client.test.ts.
import { objectClientFromOptions } from './from-config.js';
import { ObjectNotFoundError } from './object-client.js';
import { s3ClientConfig, S3ObjectClient } from './s3-client.js';
import { startS3rver, type S3rverHandle } from './testing/s3rver.js';

let s3rver: S3rverHandle;

beforeAll(async () => {
  s3rver = await startS3rver(['paging', 'factory']);
});

afterAll(async () => {
  await s3rver?.stop();
});

describe('s3ClientConfig', () => {
  const base = { region: 'eu-west-1', bucket: 'b' };

  it('always applies the checksum workarounds and timeouts', () => {
    const cfg = s3ClientConfig(base);
    expect(cfg.requestChecksumCalculation).toBe('WHEN_REQUIRED');
    expect(cfg.responseChecksumValidation).toBe('WHEN_REQUIRED');
    expect(cfg.requestHandler).toEqual({
      connectionTimeout: 5_000,
      requestTimeout: 60_000,
      throwOnRequestTimeout: true,
    });
    expect(cfg.maxAttempts).toBe(3);
    expect(cfg.endpoint).toBeUndefined();
    expect(cfg.credentials).toBeUndefined();
  });

  it('adds a scheme to a bare endpoint (http only when insecure) and keeps explicit URLs', () => {
    expect(s3ClientConfig({ ...base, endpoint: 'minio:9000' }).endpoint).toBe('https://minio:9000');
    expect(s3ClientConfig({ ...base, endpoint: 'minio:9000', insecure: true }).endpoint).toBe('http://minio:9000');
    expect(s3ClientConfig({ ...base, endpoint: 'http://127.0.0.1:1' }).endpoint).toBe('http://127.0.0.1:1');
  });

  it('takes static credentials only as a pair, and requires region and bucket', () => {
    expect(s3ClientConfig({ ...base, accessKeyId: 'a', secretAccessKey: 's' }).credentials).toEqual({
      accessKeyId: 'a',
      secretAccessKey: 's',
    });
    expect(() => s3ClientConfig({ ...base, accessKeyId: 'a' })).toThrow(/set together/);
    expect(() => s3ClientConfig({ region: '', bucket: 'b' })).toThrow(/region is required/);
    expect(() => s3ClientConfig({ region: 'r', bucket: '' })).toThrow(/bucket is required/);
    expect(() => new S3ObjectClient({ ...base, listPageSize: 0 })).toThrow(/page size/);
  });
});

describe('S3ObjectClient against s3rver', () => {
  it('lists more than 1000 keys (S3 default page size) completely and in order', async () => {
    const client = new S3ObjectClient(s3rver.clientOptions('paging'));
    try {
      const keys = Array.from({ length: 1005 }, (_, i) => `p/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => client.put(k, Buffer.from('x'))));
      }
      await client.put('q/other', Buffer.from('y'));
      const listed = await client.list('p/');
      expect(listed.length).toBe(1005);
      expect(listed.map((o) => o.key)).toEqual(keys);
    } finally {
      await client.close();
    }
  });

  it('is built by objectClientFromOptions', async () => {
    const client = objectClientFromOptions({ type: 's3', ...s3rver.clientOptions('factory') });
    expect(client).toBeInstanceOf(S3ObjectClient);
    try {
      await client.put('f/x', Buffer.from('hello'));
      expect((await client.get('f/x')).toString()).toBe('hello');
    } finally {
      await client.close();
    }
  });

  it('reports a missing bucket as an error, not as a missing object', async () => {
    const client = new S3ObjectClient({ ...s3rver.clientOptions('no-such-bucket'), maxAttempts: 1 });
    try {
      const err = await client.get('x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(ObjectNotFoundError);
      await expect(client.list('')).rejects.toThrow();
    } finally {
      await client.close();
    }
  });

  it('fails (does not hang) when the endpoint refuses connections', async () => {
    const client = new S3ObjectClient({
      ...s3rver.clientOptions('paging'),
      endpoint: 'http://127.0.0.1:1',
      maxAttempts: 1,
      connectTimeoutMs: 1_000,
    });
    try {
      await expect(client.get('x')).rejects.toThrow();
    } finally {
      await client.close();
    }
  });
});
