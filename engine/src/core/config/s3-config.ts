/**
 * Turns Loki's `s3_storage_config` into what an S3 client needs. Loki lets the same bucket be described two ways,
 * and the explicit fields win over the URL:
 *
 *   s3: s3://ACCESS_KEY:SECRET@eu-west-1/bucket        region as host → AWS endpoint derived from the region
 *   s3: s3://ACCESS_KEY:SECRET@minio.local:9000/bucket  a host with a dot or port → custom endpoint, plain http
 *   s3: inmemory:///bucket                              Loki's in-memory mock
 *   endpoint / region / bucketnames / access_key_id / secret_access_key   override the URL's parts
 *
 * One deliberate difference: Loki treats only hosts containing a dot as endpoints, so `s3://minio:9000/b` would be
 * read as region "minio:9000"; we also treat a host with a port as an endpoint.
 */
import type { S3Config } from './config-schema.js';

export interface ResolvedS3Config {
  /** Full endpoint URL (with scheme), or undefined to let the SDK derive AWS's endpoint from `region`. */
  endpoint?: string;
  region?: string;
  /** Chunks are spread over these buckets (Loki hashes chunk keys across them). */
  buckets: string[];
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  forcePathStyle: boolean;
  insecureSkipVerify: boolean;
  /** `inmemory:///bucket` */
  inmemory: boolean;
}

export function resolveS3Config(cfg: S3Config): ResolvedS3Config {
  const out: ResolvedS3Config = {
    buckets: [],
    forcePathStyle: cfg.s3forcepathstyle,
    insecureSkipVerify: cfg.http_config.insecure_skip_verify,
    inmemory: false,
  };
  let accessKeyId = '';
  let secretAccessKey = '';

  if (cfg.s3 !== '') {
    const u = new URL(cfg.s3); // validated when the config was parsed
    const bucket = decodeURIComponent(u.pathname.replace(/^\/+/, ''));
    if (bucket !== '') out.buckets = [bucket];
    if (u.protocol === 'inmemory:') {
      out.inmemory = true;
    } else {
      accessKeyId = decodeURIComponent(u.username);
      secretAccessKey = decodeURIComponent(u.password);
      if (u.host.includes('.') || u.port !== '') out.endpoint = `http://${u.host}`;
      else if (u.host !== '') out.region = u.host;
    }
  }

  if (cfg.bucketnames.trim() !== '') {
    out.buckets = cfg.bucketnames
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b !== '');
  }
  if (cfg.endpoint !== '') {
    out.endpoint = /^[a-z][a-z0-9+.-]*:\/\//i.test(cfg.endpoint)
      ? cfg.endpoint
      : `${cfg.insecure ? 'http' : 'https'}://${cfg.endpoint}`;
  }
  if (cfg.region !== '') out.region = cfg.region;
  if (cfg.access_key_id !== '') accessKeyId = cfg.access_key_id;
  if (cfg.secret_access_key !== '') secretAccessKey = cfg.secret_access_key;
  if (accessKeyId !== '' || secretAccessKey !== '') {
    out.credentials = { accessKeyId, secretAccessKey };
    if (cfg.session_token !== '') out.credentials.sessionToken = cfg.session_token;
  }
  return out;
}
