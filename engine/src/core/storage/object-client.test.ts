// One contract, every implementation: the filesystem client and the S3 client (against a real s3rver, with the
// default page size and with a tiny one so that every listing below crosses page boundaries).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemObjectClient } from './filesystem-client.js';
import { compareKeys, isObjectNotFound, ObjectNotFoundError, type ObjectClient } from './object-client.js';
import { S3ObjectClient } from './s3-client.js';
import { startS3rver, type S3rverHandle } from './testing/s3rver.js';

interface Fixture {
  client: ObjectClient;
  cleanup(): Promise<void>;
}

let s3rver: S3rverHandle;
let bucketSeq = 0;
const BUCKETS = Array.from({ length: 40 }, (_, i) => `contract-${i}`);

beforeAll(async () => {
  s3rver = await startS3rver(BUCKETS);
});

afterAll(async () => {
  await s3rver?.stop();
});

const implementations: Array<[string, () => Promise<Fixture>]> = [
  [
    'FilesystemObjectClient',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'strata-objects-'));
      return {
        client: new FilesystemObjectClient(dir),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'S3ObjectClient (s3rver)',
    async () => {
      const client = new S3ObjectClient(s3rver.clientOptions(BUCKETS[bucketSeq++]!));
      return { client, cleanup: () => client.close() };
    },
  ],
  [
    'S3ObjectClient (s3rver, 3 keys per page)',
    async () => {
      const client = new S3ObjectClient({ ...s3rver.clientOptions(BUCKETS[bucketSeq++]!), listPageSize: 3 });
      return { client, cleanup: () => client.close() };
    },
  ],
];

describe.each(implementations)('ObjectClient contract: %s', (_name, make) => {
  let fx: Fixture;
  let c: ObjectClient;

  beforeEach(async () => {
    fx = await make();
    c = fx.client;
  });

  afterEach(async () => {
    await fx.cleanup();
  });

  it('round-trips bytes exactly, including empty and binary objects', async () => {
    const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff));
    await c.put('chunks/a', binary);
    await c.put('chunks/empty', Buffer.alloc(0));
    expect((await c.get('chunks/a')).equals(binary)).toBe(true);
    expect((await c.get('chunks/empty')).length).toBe(0);
  });

  it('overwrites an existing key with the new content', async () => {
    await c.put('k', Buffer.from('one'));
    await c.put('k', Buffer.from('two!'));
    expect((await c.get('k')).toString()).toBe('two!');
    expect((await c.list('k')).map((o) => o.size)).toEqual([4]);
  });

  it('rejects a missing key with ObjectNotFoundError', async () => {
    await c.put('present/x', Buffer.from('x'));
    const err = await c.get('present/y').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectNotFoundError);
    expect(isObjectNotFound(err)).toBe(true);
    expect((err as ObjectNotFoundError).key).toBe('present/y');
    // A "directory" is not an object either.
    await expect(c.get('present')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('answers exists for present, missing and "directory" keys', async () => {
    await c.put('a/b/c', Buffer.from('1'));
    expect(await c.exists('a/b/c')).toBe(true);
    expect(await c.exists('a/b/d')).toBe(false);
    expect(await c.exists('a/b')).toBe(false);
    expect(await c.exists('zzz')).toBe(false);
  });

  it('deletes, and deleting a missing key succeeds', async () => {
    await c.put('d/1', Buffer.from('1'));
    await c.put('d/2', Buffer.from('2'));
    await c.delete('d/1');
    await c.delete('d/1');
    await c.delete('never/was');
    expect(await c.exists('d/1')).toBe(false);
    await expect(c.get('d/1')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect((await c.list('d/')).map((o) => o.key)).toEqual(['d/2']);
    // The key space stays usable after the last object under a prefix is gone.
    await c.delete('d/2');
    expect(await c.list('d/')).toEqual([]);
    await c.put('d/3', Buffer.from('3'));
    expect((await c.list('d/')).map((o) => o.key)).toEqual(['d/3']);
  });

  it('lists recursively under a prefix, sorted, with sizes and times', async () => {
    const before = Date.now() - 5_000;
    const keys = [
      'index/index_19700/tenant-a/ing-1-1.cbor',
      'index/index_19700/tenant-a/ing-0-2.cbor',
      'index/index_19700/tenant-b/ing-0-1.cbor',
      'index/index_19701/tenant-a/ing-0-1.cbor',
      'index/index_1970/tenant-a/x.cbor',
      'tenant-a/0011223344556677/18c0:18c1:abc',
      'tenant-a/0011223344556677/18c2:18c3:def',
    ];
    for (const [i, k] of keys.entries()) await c.put(k, Buffer.alloc(i + 1, 1));

    const all = await c.list('');
    expect(all.map((o) => o.key)).toEqual([...keys].sort(compareKeys));
    const sizes = new Map(all.map((o) => [o.key, o.size]));
    keys.forEach((k, i) => expect(sizes.get(k)).toBe(i + 1));
    for (const o of all) {
      expect(o.modified).toBeInstanceOf(Date);
      expect(o.modified.getTime()).toBeGreaterThan(before);
    }

    expect((await c.list('index/index_19700/')).map((o) => o.key)).toEqual([
      'index/index_19700/tenant-a/ing-0-2.cbor',
      'index/index_19700/tenant-a/ing-1-1.cbor',
      'index/index_19700/tenant-b/ing-0-1.cbor',
    ]);
    // A prefix that ends inside a path segment matches by string prefix, as S3 does.
    expect((await c.list('index/index_1970')).map((o) => o.key)).toEqual([
      'index/index_1970/tenant-a/x.cbor',
      'index/index_19700/tenant-a/ing-0-2.cbor',
      'index/index_19700/tenant-a/ing-1-1.cbor',
      'index/index_19700/tenant-b/ing-0-1.cbor',
      'index/index_19701/tenant-a/ing-0-1.cbor',
    ]);
    expect((await c.list('index/index_19700/tenant-a/ing-1')).map((o) => o.key)).toEqual([
      'index/index_19700/tenant-a/ing-1-1.cbor',
    ]);
    expect((await c.list('tenant-a/0011223344556677/18c2:18c3:def')).map((o) => o.key)).toEqual([
      'tenant-a/0011223344556677/18c2:18c3:def',
    ]);
    expect(await c.list('nothing/here/')).toEqual([]);
    expect(await c.list('index/index_19700/tenant-c')).toEqual([]);
  });

  it('lists more keys than fit in one page', async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `many/${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => c.put(k, Buffer.from(k))));
    expect((await c.list('many/')).map((o) => o.key)).toEqual(keys);
  });

  it('keeps non-ASCII keys and sorts them by UTF-8 bytes', async () => {
    const keys = ['u/\u00e9', 'u/z', 'u/\u{1f600}', 'u/\uff21', 'u/a b'];
    for (const k of keys) await c.put(k, Buffer.from(k));
    const listed = (await c.list('u/')).map((o) => o.key);
    expect(listed).toEqual(['u/a b', 'u/z', 'u/\u00e9', 'u/\uff21', 'u/\u{1f600}']);
    for (const k of keys) expect((await c.get(k)).toString()).toBe(k);
  });

  it('rejects unsafe keys before any I/O', async () => {
    for (const bad of ['', '/abs', 'a//b', 'a/', './a', 'a/../b', '..', 'a/.', 'nul\0byte', 'a/.strata-tmp-x']) {
      await expect(c.put(bad, Buffer.from('x'))).rejects.toThrow(/invalid object key/);
      await expect(c.get(bad)).rejects.toThrow(/invalid object key/);
      await expect(c.exists(bad)).rejects.toThrow(/invalid object key/);
      await expect(c.delete(bad)).rejects.toThrow(/invalid object key/);
    }
    await expect(c.list('a/../')).rejects.toThrow(/invalid object/);
    await expect(c.list('/abs')).rejects.toThrow(/invalid object prefix/);
    expect(await c.list('')).toEqual([]);
  });
});

test('compareKeys orders like UTF-8 bytes', () => {
  const keys = ['b', 'a', '\uffff', '\u{10000}', 'ab', '', '\ud7ff', '\ue000', 'a\u{1f600}', 'a\uff00'];
  const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  expect([...keys].sort(compareKeys)).toEqual(byBytes);
});
