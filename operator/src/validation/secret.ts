// The object storage Secret of a LokiStack: checked key by key (the Loki Operator's key names, so its Secrets work
// unchanged) and reduced to the facts the builders need. Credentials never leave the Secret: the engine reads them
// from environment variables (secretKeyRef); only bucket, endpoint, region and path style reach config.yaml.
import { createHash } from 'node:crypto';
import type { ObjectStorageSpec } from '../api/v1/index.js';
import type { SecretLike } from '../manifests/kube-types.js';

/** Keys an S3 storage Secret must have, non-empty. */
export const S3_REQUIRED_KEYS = ['bucketnames', 'endpoint', 'region', 'access_key_id', 'access_key_secret'] as const;
/** Keys an S3 storage Secret may have. */
export const S3_OPTIONAL_KEYS = ['forcepathstyle'] as const;

export interface S3Facts {
  /** Comma-separated bucket names (Loki spreads chunks over them). */
  bucketnames: string;
  endpoint: string;
  region: string;
  forcePathStyle: boolean;
}

export interface SecretFacts {
  name: string;
  type: ObjectStorageSpec['secret']['type'];
  /** Present for type s3. */
  s3?: S3Facts;
  /**
   * sha256 of the Secret's storage keys (values included): a change rolls the pods, since credentials reach them
   * as environment variables. Empty for filesystem storage, which reads no Secret.
   */
  hash: string;
}

export type SecretCheck =
  | { ok: true; facts: SecretFacts }
  | { ok: false; reason: 'MissingObjectStorageSecret' | 'InvalidObjectStorageSecret'; message: string; key?: string };

function decode(secret: SecretLike): Map<string, string> {
  const values = new Map<string, string>();
  for (const [k, v] of Object.entries(secret.data ?? {})) values.set(k, Buffer.from(v, 'base64').toString('utf8'));
  // stringData wins, as the apiserver merges it over data on write.
  for (const [k, v] of Object.entries(secret.stringData ?? {})) values.set(k, v);
  return values;
}

/**
 * Checks the storage Secret named by `storage.secret` and returns its facts, or the Degraded reason with a message
 * naming the Secret and the key. `secret` undefined means it does not exist.
 */
export function secretFacts(secret: SecretLike | undefined, storage: Pick<ObjectStorageSpec, 'secret'>): SecretCheck {
  const { name, type } = storage.secret;
  if (type === 'filesystem') return { ok: true, facts: { name, type, hash: '' } };
  if (!secret) {
    return {
      ok: false,
      reason: 'MissingObjectStorageSecret',
      message: `Missing object storage secret: Secret ${JSON.stringify(name)} does not exist in the LokiStack's namespace`,
    };
  }
  const values = decode(secret);
  const invalid = (key: string, why: string): SecretCheck => ({
    ok: false,
    reason: 'InvalidObjectStorageSecret',
    key,
    message: `Invalid object storage secret ${JSON.stringify(name)}: ${why}`,
  });
  for (const key of S3_REQUIRED_KEYS) {
    const v = values.get(key);
    if (v === undefined) return invalid(key, `missing secret field: ${key}`);
    if (v.trim() === '') return invalid(key, `secret field ${key} is empty`);
  }
  const endpoint = values.get('endpoint')!.trim();
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') {
    return invalid('endpoint', `secret field endpoint must be an http:// or https:// URL, got ${JSON.stringify(endpoint)}`);
  }
  const buckets = values
    .get('bucketnames')!
    .split(',')
    .map((b) => b.trim());
  if (buckets.some((b) => b === '')) {
    return invalid('bucketnames', `secret field bucketnames must be a comma-separated list of bucket names, got ${JSON.stringify(values.get('bucketnames'))}`);
  }
  const pathStyle = values.get('forcepathstyle')?.trim().toLowerCase();
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') {
    return invalid('forcepathstyle', `secret field forcepathstyle must be "true" or "false", got ${JSON.stringify(values.get('forcepathstyle'))}`);
  }

  const hash = createHash('sha256');
  for (const key of [...S3_REQUIRED_KEYS, ...S3_OPTIONAL_KEYS]) {
    const v = values.get(key);
    if (v !== undefined) hash.update(`${key}\0${v}\0`);
  }
  return {
    ok: true,
    facts: {
      name,
      type,
      s3: { bucketnames: buckets.join(','), endpoint, region: values.get('region')!.trim(), forcePathStyle: pathStyle === 'true' },
      hash: hash.digest('hex'),
    },
  };
}
