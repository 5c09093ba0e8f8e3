import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  compareKeys,
  ObjectNotFoundError,
  TMP_PREFIX,
  validateListPrefix,
  validateObjectKey,
  type ObjectClient,
  type ObjectInfo,
} from './object-client.js';

/** Attempts for a put that races with a delete pruning the (momentarily empty) target directory. */
const PUT_ATTEMPTS = 5;

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Objects as files under one directory: key `a/b/c` is the file `<dir>/a/b/c`. Used by the single binary and by
 * tests; S3 semantics are kept where they matter (atomic whole-object writes, recursive sorted listing, idempotent
 * delete). One difference remains: a key cannot be both an object and a "directory" (`a` and `a/b`), the put of
 * the second one fails.
 */
export class FilesystemObjectClient implements ObjectClient {
  private readonly root: string;

  constructor(dir: string) {
    if (dir.length === 0) throw new Error('filesystem object store: directory is required');
    this.root = resolve(dir);
  }

  private pathOf(key: string): string {
    return join(this.root, ...validateObjectKey(key));
  }

  async put(key: string, body: Buffer): Promise<void> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dir, { recursive: true });
        await this.writeAtomically(dir, path, body);
        return;
      } catch (e) {
        // A concurrent delete may remove the directory between mkdir and the write: create it again.
        if (errno(e) !== 'ENOENT' || attempt >= PUT_ATTEMPTS) throw e;
      }
    }
  }

  private async writeAtomically(dir: string, path: string, body: Buffer): Promise<void> {
    const tmp = join(dir, TMP_PREFIX + randomUUID());
    const fh = await open(tmp, 'wx');
    let renamed = false;
    try {
      try {
        await fh.writeFile(body);
        // The data must be durable before the name points at it, or a crash could leave a complete-looking
        // object with missing bytes.
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      renamed = true;
    } finally {
      if (!renamed) await unlink(tmp).catch(() => undefined);
    }
    await syncDir(dir);
  }

  async get(key: string, into?: (size: number) => Buffer): Promise<Buffer> {
    const path = this.pathOf(key);
    try {
      return into === undefined ? await readFile(path) : await readInto(path, into);
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw new ObjectNotFoundError(key);
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    const path = this.pathOf(key);
    try {
      return (await stat(path)).isFile();
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (e) {
      const code = errno(e);
      // No object has this key (a directory is not an object).
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EPERM') return;
      throw e;
    }
    await this.pruneEmptyParents(dirname(path));
  }

  /** Keeps deleted tables and tenants from leaving empty directories behind for every later `list` to walk. */
  private async pruneEmptyParents(dir: string): Promise<void> {
    while (dir !== this.root && dir.startsWith(this.root)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): nothing more to prune
      }
      dir = dirname(dir);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    validateListPrefix(prefix);
    // Only the complete segments become a path; the last, partial one is a plain string filter.
    const cut = prefix.lastIndexOf('/');
    const base = cut < 0 ? '' : prefix.slice(0, cut + 1);
    const partial = prefix.slice(cut + 1);
    const dir = base === '' ? this.root : join(this.root, ...base.slice(0, -1).split('/'));
    const out: ObjectInfo[] = [];
    await this.walk(dir, base, partial, out);
    out.sort((a, b) => compareKeys(a.key, b.key));
    return out;
  }

  private async walk(dir: string, keyBase: string, partial: string, out: ObjectInfo[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw e;
    }
    const pending: Promise<void>[] = [];
    for (const entry of entries) {
      const name = entry.name;
      if (name.startsWith(TMP_PREFIX)) continue;
      // A key below `name` starts with the prefix exactly when `name` starts with the partial segment.
      if (partial !== '' && !name.startsWith(partial)) continue;
      const path = join(dir, name);
      const key = keyBase + name;
      if (entry.isDirectory()) {
        pending.push(this.walk(path, key + '/', '', out));
      } else if (entry.isFile()) {
        pending.push(
          stat(path).then(
            (st) => {
              // A Date of this realm (fs builds its own), so `instanceof Date` holds for callers in a VM context too.
              out.push({ key, size: st.size, modified: new Date(st.mtimeMs) });
            },
            (e: unknown) => {
              if (errno(e) !== 'ENOENT') throw e; // deleted while listing
            },
          ),
        );
      }
    }
    await Promise.all(pending);
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename itself durable; without it a crash can forget the new directory entry.
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The whole file, read into a buffer from `into` (a file that shrinks meanwhile gives what was there). */
async function readInto(path: string, into: (size: number) => Buffer): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (!(size > 0)) return Buffer.alloc(0);
    const buf = into(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    await fh.close();
  }
}
