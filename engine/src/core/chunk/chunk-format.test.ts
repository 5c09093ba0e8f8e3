import zlib from 'node:zlib';
import { EngineError } from '../errors.js';
import { CHUNK_MAGIC, ChunkReader, decodeChunk, encodeChunk, MAX_BLOCK_BYTES } from './chunk-format.js';
import { codecFor } from './codec.js';
import { MemChunk } from './mem-chunk.js';

async function sampleChunk(encoding: 'lz4' | 'gzip' = 'lz4'): Promise<Buffer> {
  const c = new MemChunk({ encoding, blockSize: 512, structuredMetadata: true });
  for (let i = 0; i < 60; i++) {
    c.append(1_700_000_000_000_000_000n + BigInt(i), Buffer.from(`line ${i} ${'z'.repeat(i)}`), [['i', String(i)]]);
    if (c.needsCut()) await c.cutBlock();
  }
  return c.encode();
}

async function readAll(buf: Buffer): Promise<number> {
  const r = ChunkReader.from(buf);
  return (await r.readEntries(-(2n ** 63n), 2n ** 63n - 1n, 'forward')).length;
}

describe('chunk layout', () => {
  it('writes magic, version, encoding, checksummed blocks, metadata, its checksum and offset', async () => {
    const buf = await sampleChunk();
    expect(buf.readUInt32BE(0)).toBe(CHUNK_MAGIC);
    expect(buf.subarray(0, 4).toString('latin1')).toBe('STCK');
    expect(buf[4]).toBe(4);
    expect(buf[5]).toBe(codecFor('lz4').id);
    const metaOffset = Number(buf.readBigUInt64BE(buf.length - 8));
    const metaEnd = buf.length - 12;
    expect(buf.readUInt32BE(metaEnd)).toBe(zlib.crc32(buf.subarray(metaOffset, metaEnd)));
    const r = ChunkReader.from(buf);
    expect(r.blockCount).toBeGreaterThan(2);
    let expectOffset = 6;
    for (const b of r.blocks) {
      // Blocks are contiguous: bytes, crc32, next block.
      expect(b.offset).toBe(expectOffset);
      const data = buf.subarray(b.offset, b.offset + b.compressedLength);
      expect(buf.readUInt32BE(b.offset + b.compressedLength)).toBe(zlib.crc32(data));
      expect(codecFor('lz4').decompressSync(data).length).toBe(b.uncompressedLength);
      expectOffset = b.offset + b.compressedLength + 4;
    }
    expect(metaOffset).toBe(expectOffset);
  });

  it('matches the worked example of docs/chunk-format.md byte for byte', async () => {
    const c = new MemChunk({ encoding: 'none', structuredMetadata: true });
    c.append(1_700_000_000_000_000_000n, Buffer.from('ok'), [['k', 'v']]);
    const buf = await c.encode();
    const entry = '80 80 d0 e2 c6 bf ce 97 2f 02 6f 6b 01 01 6b 01 76';
    const ts = '80 80 d0 e2 c6 bf ce 97 2f';
    const hexOf = (b: Buffer) => b.toString('hex').match(/../g)!.join(' ');
    expect(hexOf(buf.subarray(0, 6))).toBe('53 54 43 4b 04 00');
    expect(hexOf(buf.subarray(6, 23))).toBe(entry);
    expect(buf.readUInt32BE(23)).toBe(zlib.crc32(buf.subarray(6, 23)));
    // #blocks, #entries, minTs, maxTs, offset 6, compressed 17, uncompressed 17
    expect(hexOf(buf.subarray(27, buf.length - 12))).toBe(`01 01 ${ts} ${ts} 06 11 11`);
    expect(buf.readBigUInt64BE(buf.length - 8)).toBe(27n);
    expect(buf.length).toBe(27 + 23 + 12);
  });

  it('writes an empty chunk as header, zero blocks and trailer', () => {
    const buf = encodeChunk(3, 0, []);
    expect(buf.length).toBe(6 + 1 + 4 + 8);
    expect(buf[6]).toBe(0);
    expect(ChunkReader.from(buf).formatVersion).toBe(3);
  });
});

describe('corruption is detected with a clear error', () => {
  const expectCorrupt = async (buf: Buffer, message: string | RegExp) => {
    let err: unknown;
    try {
      await readAll(buf);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect((err as Error).message).toMatch(message);
  };

  it('a flipped bit in a block names the block', async () => {
    const good = await sampleChunk();
    const r = ChunkReader.from(good);
    const bad = Buffer.from(good);
    bad[r.blocks[2]!.offset + 3]! ^= 0x10;
    await expectCorrupt(bad, /^corrupt chunk: block 2 checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/);
    // The same flip in the stored checksum is also a mismatch.
    const bad2 = Buffer.from(good);
    bad2[r.blocks[1]!.offset + r.blocks[1]!.compressedLength]! ^= 1;
    await expectCorrupt(bad2, 'block 1 checksum mismatch');
  });

  it('a flipped bit in the block metadata', async () => {
    const good = await sampleChunk();
    const bad = Buffer.from(good);
    bad[bad.length - 14]! ^= 0x01;
    await expectCorrupt(bad, 'block metadata checksum mismatch');
  });

  it('a truncated chunk', async () => {
    const good = await sampleChunk();
    for (const cut of [1, 5, 12, 100, good.length - 20, good.length - 6, good.length - 1]) {
      await expectCorrupt(good.subarray(0, good.length - cut), /corrupt chunk/);
    }
    await expectCorrupt(good.subarray(0, 10), 'too short (10 bytes)');
  });

  it('bad magic, version and encoding', async () => {
    const good = await sampleChunk();
    const withByte = (i: number, v: number) => {
      const b = Buffer.from(good);
      b[i] = v;
      return b;
    };
    await expectCorrupt(withByte(0, 0x00), 'bad magic number 0x0054434b');
    await expectCorrupt(withByte(4, 5), 'unsupported format version 5');
    await expectCorrupt(withByte(5, 2), 'unknown encoding id 2');
    await expect(decodeChunk(Buffer.from('not a chunk at all, really not'))).rejects.toThrow('bad magic number');
  });

  it('a block that decompresses to the wrong size (valid checksum, buggy writer)', async () => {
    const gz = codecFor('gzip');
    const buf = encodeChunk(3, gz.id, [
      { entries: 1, minTs: 1n, maxTs: 1n, uncompressedSize: 99, compressed: gz.compressSync(Buffer.from([2, 1, 0x61])) },
    ]);
    await expectCorrupt(buf, 'block 0 decompressed to 3 bytes, expected 99');
  });

  it('a block claiming an absurd uncompressed size (valid checksums) is refused before anything is allocated', async () => {
    const lz4 = codecFor('lz4-256k');
    const buf = encodeChunk(3, lz4.id, [
      { entries: 1, minTs: 1n, maxTs: 1n, uncompressedSize: MAX_BLOCK_BYTES + 1, compressed: lz4.compressSync(Buffer.from([2, 1, 0x61])) },
    ]);
    await expectCorrupt(buf, `block 0 claims ${MAX_BLOCK_BYTES + 1} uncompressed bytes`);
  });

  it('an entry that runs past the end of its block', async () => {
    const none = codecFor('none');
    // ts=1, line length 5, but only one line byte.
    const block = Buffer.from([2, 5, 0x61]);
    const buf = encodeChunk(3, none.id, [{ entries: 1, minTs: 1n, maxTs: 1n, uncompressedSize: 3, compressed: block }]);
    await expectCorrupt(buf, 'chunk block 0: corrupt block: bad line length at offset 0');
  });

  it('random damage never escapes as anything but an EngineError', async () => {
    const good = await sampleChunk('gzip');
    // Deterministic pseudo-random damage (an LCG), distinct positions so flips never cancel out.
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let detected = 0;
    for (let i = 0; i < 300; i++) {
      const bad = Buffer.from(good);
      const positions = new Set<number>();
      while (positions.size < 1 + (i % 4)) positions.add(rnd(bad.length));
      for (const pos of positions) bad[pos]! ^= 1 << rnd(8);
      const view = i % 5 === 0 ? bad.subarray(0, rnd(bad.length)) : bad;
      try {
        await readAll(view);
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        detected++;
      }
    }
    // Every flip lands in a checksummed region or the header, so all of them are caught.
    expect(detected).toBe(300);
  });
});
