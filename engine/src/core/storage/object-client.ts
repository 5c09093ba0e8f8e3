/**
 * The object store role: chunks and index files live behind this interface, whether on a local disk
 * (single binary, tests) or in S3. Objects are immutable once written; keys use '/' as the only separator.
 */
export interface ObjectInfo {
  key: string;
  /** Size in bytes. */
  size: number;
  modified: Date;
}

export interface ObjectClient {
  /** Writes the whole object; a reader sees either the previous object or the new one, never a part. */
  put(key: string, body: Buffer): Promise<void>;
  /**
   * Reads the whole object; a missing key rejects with `ObjectNotFoundError`. With `into`, a client that reads into
   * memory of its own choosing (the filesystem) takes a buffer of the object's size from it (ReadBufferPool.take).
   */
  get(key: string, into?: (size: number) => Buffer): Promise<Buffer>;
  /** Every object whose key starts with `prefix` (recursive, no delimiter), sorted by key bytes (UTF-8). */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Removes the object; deleting a missing key succeeds. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Releases connections and handles; the client is unusable afterwards. */
  close(): Promise<void>;
}

/** A `get` of a key that does not exist. Callers test with `instanceof` or `isObjectNotFound`. */
export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

export const isObjectNotFound = (e: unknown): e is ObjectNotFoundError => e instanceof ObjectNotFoundError;

/**
 * Orders keys as S3 does (by UTF-8 bytes). JavaScript's default string order compares UTF-16 code units, which
 * differs for characters outside the BMP, so both clients sort with this to list in the same order.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // A surrogate encodes a code point above U+FFFF, so it sorts after every BMP character in UTF-8 order.
    if (ca >= 0xd800 && ca <= 0xdfff) ca += 0x10000;
    if (cb >= 0xd800 && cb <= 0xdfff) cb += 0x10000;
    return ca - cb;
  }
  return a.length - b.length;
}

/**
 * Temporary files of the filesystem client share the object's directory (so the final rename stays on one
 * filesystem and is atomic) and carry this reserved prefix: listings skip them and keys may not use it.
 */
export const TMP_PREFIX = '.strata-tmp-';

/**
 * Rejects a key that could escape a root directory or alias another key on disk: empty, absolute, NUL, empty
 * `.`/`..` segments, the reserved temporary prefix. Both clients check it before any I/O, so a key that works on
 * S3 also works on a filesystem and a hostile key (from a tenant ID or a request) never reaches a path.
 * Returns the '/'-separated segments.
 */
export function validateObjectKey(key: string): string[] {
  if (key.length === 0) throw new Error('invalid object key: empty');
  if (key.includes('\0')) throw new Error(`invalid object key ${JSON.stringify(key)}: contains NUL`);
  if (key.startsWith('/')) throw new Error(`invalid object key ${JSON.stringify(key)}: absolute`);
  const segments = key.split('/');
  for (const s of segments) checkKeySegment(key, s);
  return segments;
}

export function checkKeySegment(key: string, s: string): void {
  if (s === '') throw new Error(`invalid object key ${JSON.stringify(key)}: empty path segment`);
  if (s === '.' || s === '..') throw new Error(`invalid object key ${JSON.stringify(key)}: "${s}" segment`);
  if (s.startsWith(TMP_PREFIX)) {
    throw new Error(`invalid object key ${JSON.stringify(key)}: segment prefix ${TMP_PREFIX} is reserved`);
  }
}

/** Prefix rules for `list`: complete segments follow the key rules; the last, partial segment is a filter. */
export function validateListPrefix(prefix: string): void {
  if (prefix.includes('\0')) throw new Error(`invalid object prefix ${JSON.stringify(prefix)}: contains NUL`);
  if (prefix.startsWith('/')) throw new Error(`invalid object prefix ${JSON.stringify(prefix)}: absolute`);
  const cut = prefix.lastIndexOf('/');
  if (cut >= 0) for (const s of prefix.slice(0, cut).split('/')) checkKeySegment(prefix, s);
}
