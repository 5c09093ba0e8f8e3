// Filesystem-specific behaviour; the shared ObjectClient contract runs in object-client.test.ts.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemObjectClient } from './filesystem-client.js';
import { TMP_PREFIX } from './object-client.js';

let dir: string;
let c: FilesystemObjectClient;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-fs-'));
  c = new FilesystemObjectClient(join(dir, 'store'));
});

afterEach(async () => {
  await c.close();
  await rm(dir, { recursive: true, force: true });
});

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

it('maps "/" in keys to subdirectories and leaves no temporary files', async () => {
  await c.put('tenant/0011223344556677/18c0:18c1:ff', Buffer.from('chunk'));
  expect(await readFile(join(dir, 'store', 'tenant', '0011223344556677', '18c0:18c1:ff'), 'utf8')).toBe('chunk');
  expect(await filesUnder(join(dir, 'store'))).toEqual(['tenant/0011223344556677/18c0:18c1:ff']);
});

it('rejects an unsafe key before touching the disk', async () => {
  for (const bad of ['../escape', 'a/../../escape', '/etc/passwd', 'a//b', 'x\0y']) {
    await expect(c.put(bad, Buffer.from('x'))).rejects.toThrow(/invalid object key/);
  }
  // Not even the root directory was created.
  expect(existsSync(join(dir, 'store'))).toBe(false);
  expect(existsSync(join(dir, 'escape'))).toBe(false);
});

it('does not list temporary files of writes in progress (or left by a crash)', async () => {
  await c.put('t/a', Buffer.from('a'));
  await writeFile(join(dir, 'store', 't', `${TMP_PREFIX}123`), 'partial');
  await mkdir(join(dir, 'store', `${TMP_PREFIX}dir`));
  await writeFile(join(dir, 'store', `${TMP_PREFIX}dir`, 'x'), 'partial');
  expect((await c.list('')).map((o) => o.key)).toEqual(['t/a']);
  expect((await c.list('t/')).map((o) => o.key)).toEqual(['t/a']);
});

it('serves concurrent readers and writers of one key whole objects only', async () => {
  const a = Buffer.alloc(1024 * 1024, 0x61);
  const b = Buffer.alloc(1536 * 1024, 0x62);
  await c.put('race', a);
  const reads: Promise<Buffer>[] = [];
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    writes.push(c.put('race', i % 2 ? a : b));
    reads.push(c.get('race'));
  }
  await Promise.all(writes);
  for (const r of await Promise.all(reads)) expect(r.equals(a) || r.equals(b)).toBe(true);
  expect(await filesUnder(join(dir, 'store'))).toEqual(['race']);
});

it('removes the temporary file when the final rename fails', async () => {
  await c.put('a/b', Buffer.from('object'));
  // `a/b` is an object, so `a/b/c` cannot be created below it on a filesystem.
  await expect(c.put('a/b/c', Buffer.from('x'))).rejects.toThrow();
  await mkdir(join(dir, 'store', 'x', 'y'), { recursive: true });
  // `x/y` is a directory, so an object cannot take its name.
  await expect(c.put('x/y', Buffer.from('x'))).rejects.toThrow();
  expect(await filesUnder(join(dir, 'store'))).toEqual(['a/b']);
});

it('prunes directories emptied by delete, but never the root', async () => {
  await c.put('index/t1/tenant/f1', Buffer.from('1'));
  await c.put('index/t2/tenant/f1', Buffer.from('1'));
  await c.delete('index/t1/tenant/f1');
  expect(await readdir(join(dir, 'store', 'index'))).toEqual(['t2']);
  await c.delete('index/t2/tenant/f1');
  expect(await readdir(join(dir, 'store'))).toEqual([]);
  // The store keeps working after everything was pruned, including concurrent put/delete on one directory.
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      c.put(`p/q/${i}`, Buffer.from('x')).then(() => (i % 2 ? c.delete(`p/q/${i}`) : undefined)),
    ),
  );
  expect((await c.list('p/')).length).toBe(10);
});

it('requires a directory', () => {
  expect(() => new FilesystemObjectClient('')).toThrow(/directory is required/);
});
