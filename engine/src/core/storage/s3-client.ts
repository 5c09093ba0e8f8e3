import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  compareKeys,
  ObjectNotFoundError,
  validateListPrefix,
  validateObjectKey,
  type ObjectClient,
  type ObjectInfo,
} from './object-client.js';

export interface S3ObjectClientOptions {
  /** `host:port` or a URL; without a scheme, `insecure` picks http. Unset: AWS's own endpoint for `region`. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Static credentials; both or neither. Without them the SDK's default chain applies (env, web identity, IMDS). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `http://endpoint/bucket/key` instead of `http://bucket.endpoint/key` (MinIO, s3rver, most S3 clones). */
  forcePathStyle?: boolean;
  /** Plain HTTP when `endpoint` has no scheme (Loki's `s3.insecure`). */
  insecure?: boolean;
  /** Milliseconds to establish a connection (default 5 s). */
  connectTimeoutMs?: number;
  /** Milliseconds for one whole request and response (default 60 s: chunks can be several MB on slow links). */
  requestTimeoutMs?: number;
  /** Attempts per operation, including the first (the SDK's standard retry with backoff; default 3). */
  maxAttempts?: number;
  /** Keys per ListObjectsV2 page (S3's maximum and default is 1000). */
  listPageSize?: number;
}

/** Turns the options into the SDK's configuration; exported so the mapping itself can be tested. */
export function s3ClientConfig(opts: S3ObjectClientOptions): S3ClientConfig {
  if (!opts.region) throw new Error('s3 object store: region is required');
  if (!opts.bucket) throw new Error('s3 object store: bucket is required');
  if (!opts.accessKeyId !== !opts.secretAccessKey) {
    throw new Error('s3 object store: access_key_id and secret_access_key must be set together');
  }
  const config: S3ClientConfig = {
    region: opts.region,
    forcePathStyle: opts.forcePathStyle ?? false,
    // Without these the SDK sends streamed uploads with aws-chunked framing and trailing checksums, which
    // S3-compatible stores (s3rver, older MinIO, Ceph) store verbatim: the object is silently corrupted.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: opts.connectTimeoutMs ?? 5_000,
      requestTimeout: opts.requestTimeoutMs ?? 60_000,
      throwOnRequestTimeout: true,
    },
  };
  if (opts.endpoint) {
    config.endpoint = /^[a-z][a-z0-9+.-]*:\/\//i.test(opts.endpoint)
      ? opts.endpoint
      : `${opts.insecure ? 'http' : 'https'}://${opts.endpoint}`;
  }
  if (opts.accessKeyId && opts.secretAccessKey) {
    config.credentials = { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey };
  }
  return config;
}

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

function isNotFound(e: unknown): boolean {
  const err = e as SdkError | undefined;
  if (err?.name === 'NoSuchKey' || err?.name === 'NotFound') return true;
  // Some S3 clones answer a missing key with a bare 404; a missing bucket must stay an error.
  return err?.$metadata?.httpStatusCode === 404 && err.name !== 'NoSuchBucket';
}

/** Objects in one S3 (or S3-compatible) bucket. */
export class S3ObjectClient implements ObjectClient {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly pageSize: number;

  constructor(opts: S3ObjectClientOptions) {
    const config = s3ClientConfig(opts);
    const pageSize = opts.listPageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new Error(`s3 object store: list page size must be 1..1000, got ${pageSize}`);
    }
    this.s3 = new S3Client(config);
    this.bucket = opts.bucket;
    this.pageSize = pageSize;
  }

  async put(key: string, body: Buffer): Promise<void> {
    validateObjectKey(key);
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length }),
    );
  }

  async get(key: string): Promise<Buffer> {
    validateObjectKey(key);
    let res;
    try {
      res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      if (isNotFound(e)) throw new ObjectNotFoundError(key);
      throw e;
    }
    if (!res.Body) throw new Error(`s3 object store: empty response body for ${key}`);
    const bytes = await res.Body.transformToByteArray();
    // Response checksums are off (see s3ClientConfig), so at least refuse a body shorter than announced.
    if (res.ContentLength !== undefined && bytes.byteLength !== res.ContentLength) {
      throw new Error(`s3 object store: ${key}: got ${bytes.byteLength} of ${res.ContentLength} bytes`);
    }
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    validateListPrefix(prefix);
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const res = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix === '' ? undefined : prefix,
          MaxKeys: this.pageSize,
          ContinuationToken: token,
        }),
      );
      for (const o of res.Contents ?? []) {
        if (o.Key === undefined) continue;
        out.push({ key: o.Key, size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
      if (res.IsTruncated && !token) throw new Error('s3 object store: truncated listing without a continuation token');
    } while (token);
    // S3 already lists in UTF-8 order; clones do not all agree, and callers rely on the order.
    out.sort((a, b) => compareKeys(a.key, b.key));
    return out;
  }

  async delete(key: string): Promise<void> {
    validateObjectKey(key);
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    validateObjectKey(key);
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async close(): Promise<void> {
    this.s3.destroy();
  }
}
