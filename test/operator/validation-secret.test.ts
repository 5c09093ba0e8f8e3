import { secretFacts } from '../../operator/src/validation/secret.js';
import { s3Secret } from './lokistack-fixtures.js';

const S3 = { secret: { name: 'loki-s3', type: 's3' as const } };

describe('secretFacts', () => {
  it('reduces a valid S3 secret to its non-secret facts and a content hash', () => {
    const check = secretFacts(s3Secret({ forcepathstyle: 'TRUE', bucketnames: 'a, b' }), S3);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.facts).toEqual({
      name: 'loki-s3',
      type: 's3',
      s3: { bucketnames: 'a,b', endpoint: 'https://s3.eu-west-1.amazonaws.com', region: 'eu-west-1', forcePathStyle: true },
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // The facts never carry the credentials.
    expect(JSON.stringify(check.facts)).not.toContain('AKIAEXAMPLE');
  });

  it('treats forcepathstyle as optional and reads stringData', () => {
    const check = secretFacts({ stringData: { bucketnames: 'b', endpoint: 'http://minio:9000', region: 'us-east-1', access_key_id: 'k', access_key_secret: 's' } }, S3);
    expect(check.ok && check.facts.s3).toEqual({ bucketnames: 'b', endpoint: 'http://minio:9000', region: 'us-east-1', forcePathStyle: false });
  });

  it('hashes the credentials: a rotated key changes the hash, an unrelated key does not', () => {
    const hash = (s: ReturnType<typeof s3Secret>) => {
      const c = secretFacts(s, S3);
      return c.ok ? c.facts.hash : '';
    };
    const base = hash(s3Secret());
    expect(hash(s3Secret())).toBe(base);
    expect(hash(s3Secret({ access_key_secret: 'rotated' }))).not.toBe(base);
    expect(hash(s3Secret({ unrelated: 'x' }))).toBe(base);
  });

  it('reports a missing Secret as MissingObjectStorageSecret naming it', () => {
    expect(secretFacts(undefined, S3)).toEqual({
      ok: false,
      reason: 'MissingObjectStorageSecret',
      message: 'Missing object storage secret: Secret "loki-s3" does not exist in the LokiStack\'s namespace',
    });
  });

  it.each(['bucketnames', 'endpoint', 'region', 'access_key_id', 'access_key_secret'])('reports a missing %s as InvalidObjectStorageSecret naming the key', (key) => {
    const check = secretFacts(s3Secret({}, [key]), S3);
    expect(check).toEqual({
      ok: false,
      reason: 'InvalidObjectStorageSecret',
      key,
      message: `Invalid object storage secret "loki-s3": missing secret field: ${key}`,
    });
  });

  it.each([
    [{ region: '  ' }, 'region', 'secret field region is empty'],
    [{ endpoint: 's3.amazonaws.com' }, 'endpoint', 'endpoint must be an http:// or https:// URL'],
    [{ endpoint: 'ftp://host' }, 'endpoint', 'endpoint must be an http:// or https:// URL'],
    [{ bucketnames: 'a,,b' }, 'bucketnames', 'comma-separated list of bucket names'],
    [{ forcepathstyle: 'yes' }, 'forcepathstyle', 'forcepathstyle must be "true" or "false", got "yes"'],
  ])('reports an invalid value %j', (values, key, message) => {
    const check = secretFacts(s3Secret(values), S3);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.reason).toBe('InvalidObjectStorageSecret');
    expect(check.key).toBe(key);
    expect(check.message).toContain(message);
  });

  it('needs no Secret for filesystem storage', () => {
    expect(secretFacts(undefined, { secret: { name: 'unused', type: 'filesystem' } })).toEqual({
      ok: true,
      facts: { name: 'unused', type: 'filesystem', hash: '' },
    });
  });
});
