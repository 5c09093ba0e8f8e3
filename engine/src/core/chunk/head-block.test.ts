import { HeadBlock } from './head-block.js';
import { readBlocks, sortBlock } from './block-reader.js';

const L = (s: string): Buffer => Buffer.from(s);

async function all(h: HeadBlock) {
  const data = h.outOfOrder ? sortBlock(h.bytes(), h.withMetadata, 'head').data : h.bytes();
  const src = { minTs: h.minTs, maxTs: h.maxTs, sorted: true, label: 'head', load: () => data };
  const es = await readBlocks([src], h.withMetadata, -(2n ** 63n), 2n ** 63n - 1n, 'forward');
  return es.map((e) => [e.ts, e.line.toString(), e.metadata]);
}

describe('HeadBlock', () => {
  it('tracks count, size, bounds and order', () => {
    const h = new HeadBlock(false);
    expect(h.isEmpty).toBe(true);
    expect(h.append(10n, L('a'))).toBe(true);
    expect(h.append(20n, L('b'))).toBe(true);
    expect(h.outOfOrder).toBe(false);
    expect(h.append(5n, L('c'))).toBe(true);
    expect(h.outOfOrder).toBe(true);
    expect(h.count).toBe(3);
    expect(h.minTs).toBe(5n);
    expect(h.maxTs).toBe(20n);
    // ts varint (1 byte each here) + length (1) + line (1)
    expect(h.size).toBe(9);
  });

  it('equal timestamps are not out of order', () => {
    const h = new HeadBlock(false);
    h.append(10n, L('a'));
    h.append(10n, L('b'));
    expect(h.outOfOrder).toBe(false);
  });

  it('drops an entry identical to the previous one, and only that', async () => {
    const h = new HeadBlock(true);
    expect(h.append(1n, L('x'))).toBe(true);
    expect(h.append(1n, L('x'))).toBe(false);
    expect(h.append(1n, L('x'), [['k', 'v']])).toBe(true); // metadata differs
    expect(h.append(1n, L('x'), [['k', 'v']])).toBe(false);
    expect(h.append(1n, L('y'), [['k', 'v']])).toBe(true); // line differs
    expect(h.append(2n, L('y'), [['k', 'v']])).toBe(true); // ts differs
    expect(h.append(1n, L('x'))).toBe(true); // not the previous entry
    expect(h.count).toBe(5);
    // Sorting (the head is out of order) also drops the non-adjacent copy of (1, 'x').
    expect(await all(h)).toEqual([
      [1n, 'x', undefined],
      [1n, 'x', [['k', 'v']]],
      [1n, 'y', [['k', 'v']]],
      [2n, 'y', [['k', 'v']]],
    ]);
  });

  it('deduplicates against the last entry of the head it follows', () => {
    const h = new HeadBlock(false);
    h.append(7n, L('same'));
    const next = HeadBlock.after(h);
    expect(next.append(7n, L('same'))).toBe(false);
    expect(next.isEmpty).toBe(true);
    expect(HeadBlock.after(next).append(7n, L('same'))).toBe(false);
    expect(next.append(7n, L('other'))).toBe(true);
  });

  it('grows from a small buffer and keeps large and binary lines intact', async () => {
    const h = new HeadBlock(false);
    const big = Buffer.alloc(100_000, 0xab);
    const bin = Buffer.from([0, 255, 10, 13, 0xc3, 0x28]);
    h.append(1n, L('small'));
    h.append(2n, big);
    h.append(3n, bin);
    h.append(4n, Buffer.alloc(0));
    const es = await readBlocks(
      [{ minTs: 1n, maxTs: 4n, sorted: true, label: 'head', load: () => h.bytes() }],
      false,
      0n,
      10n,
      'forward',
    );
    expect(es.map((e) => e.line)).toEqual([L('small'), big, bin, Buffer.alloc(0)]);
  });

  it('writes UTF-8 metadata and multi-byte lines with their byte lengths', async () => {
    const h = new HeadBlock(true);
    h.append(1n, L('héllo wörld ✓ 🚀'), [['trace_id', 'ü🚀'], ['', '']]);
    expect(await all(h)).toEqual([[1n, 'héllo wörld ✓ 🚀', [['trace_id', 'ü🚀'], ['', '']]]]);
  });

  it('rejects metadata without structured metadata support and out-of-range timestamps', () => {
    const h = new HeadBlock(false);
    expect(() => h.append(1n, L('x'), [['a', 'b']])).toThrow('structured metadata');
    expect(h.append(1n, L('x'), [])).toBe(true);
    expect(() => h.append(2n ** 63n, L('x'))).toThrow('int64');
    expect(() => h.append(-(2n ** 63n) - 1n, L('x'))).toThrow('int64');
    expect(h.count).toBe(1);
  });
});

describe('sortBlock', () => {
  it('sorts stably by timestamp and drops identical entries with the same timestamp', async () => {
    const h = new HeadBlock(true);
    h.append(5n, L('a'));
    h.append(3n, L('b'));
    h.append(5n, L('c'));
    h.append(5n, L('a')); // duplicate of the first, not adjacent
    h.append(3n, L('b'), [['m', '1']]); // same ts/line, different metadata: kept
    h.append(1n, L('d'));
    h.append(3n, L('b')); // duplicate
    const { data, count } = sortBlock(h.bytes(), true, 'head');
    expect(count).toBe(5);
    const es = await readBlocks(
      [{ minTs: 1n, maxTs: 5n, sorted: true, label: 'x', load: () => data }],
      true,
      0n,
      10n,
      'forward',
    );
    expect(es.map((e) => [e.ts, e.line.toString(), e.metadata])).toEqual([
      [1n, 'd', undefined],
      [3n, 'b', undefined],
      [3n, 'b', [['m', '1']]],
      [5n, 'a', undefined],
      [5n, 'c', undefined],
    ]);
  });

  it('stays linear-ish for a flood of entries with one timestamp', () => {
    const h = new HeadBlock(false);
    h.append(2n, L('first'));
    for (let i = 0; i < 20_000; i++) h.append(1n, L(`line ${i % 5000}`));
    const { count } = sortBlock(h.bytes(), false, 'head');
    expect(count).toBe(5001);
  });

  it('names the block when the bytes are corrupt', () => {
    expect(() => sortBlock(Buffer.from([0x02, 0x05, 0x61]), false, 'head block')).toThrow(
      'head block: corrupt block: bad line length at offset 0',
    );
  });
});

describe('HeadBlock growth', () => {
  const capacity = (h: HeadBlock) => (h as unknown as { buf: Buffer }).buf.length;

  it('stops doubling just past the capacity hint, then doubles again if not cut', () => {
    const h = new HeadBlock(false, 64 * 1024);
    const line = Buffer.alloc(1000, 0x61);
    let ts = 0n;
    while (h.size < 64 * 1024) h.append(ts++, line);
    expect(capacity(h)).toBe(64 * 1024 + 4096);
    while (h.size < 64 * 1024 + 4096) h.append(ts++, line);
    expect(capacity(h)).toBeGreaterThanOrEqual(2 * (64 * 1024 + 4096));
  });

  it('makes room for a line larger than the slack', () => {
    const h = new HeadBlock(false, 1024);
    h.append(1n, Buffer.alloc(1000));
    h.append(2n, Buffer.alloc(20_000));
    expect(h.size).toBe(1 + 2 + 1000 + 1 + 3 + 20_000);
    expect(capacity(h)).toBeGreaterThanOrEqual(h.size);
  });
});
