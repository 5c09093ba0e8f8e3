import { compileLineFilters } from '../logql/log/line-filter.js';
import type { LineFilterStage } from '../logql/syntax/ast.js';
import { compileBlockFilter, predicateFilter, type LineFilterSpec } from './block-filter.js';
import { scanBlock, ScanRange } from './block-reader.js';
import { MemChunk } from './mem-chunk.js';

const ALL = 2n ** 63n;
const MIN = -(2n ** 63n);

function stage(s: LineFilterSpec): LineFilterStage {
  return { kind: 'line_filter', op: s.op, values: s.values.map((value) => ({ value, ip: false })) };
}

/** The lines of `block` that pass `filter`, as strings, scanning the raw block. */
function scanLines(block: Buffer, specs: LineFilterSpec[]): string[] {
  const out: string[] = [];
  scanBlock(block, false, new ScanRange(MIN, ALL), compileBlockFilter(specs), true, 'test', (d, _hi, _lo, s, e) => {
    out.push(d.toString('utf8', s, e));
  });
  return out;
}

/** A v3 block (no metadata) holding `lines`, encoded as the chunk format does. */
function block(lines: Buffer[]): Buffer {
  const c = new MemChunk({ structuredMetadata: false, blockSize: 1 << 30 });
  lines.forEach((l, i) => c.append(BigInt(i), l));
  return c.blockSources()[0]!.load() as Buffer;
}

/** What the per-line predicates of the pipeline keep. */
function expected(lines: Buffer[], specs: LineFilterSpec[]): string[] {
  const pred = compileLineFilters(specs.map(stage))!;
  return lines.filter((l) => pred(l)).map((l) => l.toString('utf8'));
}

const LINES = [
  'level=info msg="request completed" status=200 duration=12ms',
  'level=error msg="upstream timeout" status=504',
  'GET /api/v1/orders/17 HTTP/1.1 200',
  'POST /api/v2/orders HTTP/1.1 201',
  '',
  'PANIC: runtime error',
  'a panic occurred',
  'status=500 status=501',
  'Kelvin \u212a and long ſ',
  'ünïcödé línë ✓',
  'tail',
].map((l) => Buffer.from(l));

describe('compileBlockFilter', () => {
  it.each<[string, LineFilterSpec[]]>([
    ['contains', [{ op: '|=', values: ['status='] }]],
    ['contains, no match', [{ op: '|=', values: ['f00dface'] }]],
    ['contains any', [{ op: '|=', values: ['timeout', 'HTTP/1.1 201'] }]],
    ['not contains', [{ op: '!=', values: ['status'] }]],
    ['empty needle', [{ op: '|=', values: [''] }]],
    ['not empty needle', [{ op: '!=', values: [''] }]],
    ['regex with literals', [{ op: '|~', values: ['(GET|POST) /api/v[12]/orders'] }]],
    ['regex without literals', [{ op: '|~', values: ['[0-9]{3}$'] }]],
    ['negated regex', [{ op: '!~', values: ['status=5[0-9]{2}'] }]],
    ['case-insensitive regex', [{ op: '|~', values: ['(?i)panic'] }]],
    ['case-insensitive k and s', [{ op: '|~', values: ['(?i)kelvin.*k'] }]],
    ['regex or chain', [{ op: '|~', values: ['timeout', '^tail$'] }]],
    ['unicode', [{ op: '|=', values: ['línë'] }]],
    [
      'chain',
      [
        { op: '|=', values: ['status'] },
        { op: '!=', values: ['200'] },
        { op: '|~', values: ['status=5\\d\\d'] },
      ],
    ],
  ])('%s: same lines as the per-line predicates', (_name, specs) => {
    expect(scanLines(block(LINES), specs)).toEqual(expected(LINES, specs));
  });

  it('matches folded runes ſ and K only in blocks that hold them', () => {
    const lines = ['plain KELVIN line', 'long \u017fecret', 'kelvin \u212aey'].map((l) => Buffer.from(l));
    const specs: LineFilterSpec[] = [{ op: '|~', values: ['(?i)secret|key'] }];
    expect(scanLines(block(lines), specs)).toEqual(expected(lines, specs));
    expect(scanLines(block(lines), specs)).toEqual(['long \u017fecret', 'kelvin \u212aey']);
  });

  it('does not match a needle that spans two entries', () => {
    // The second entry's framing is printable: ts 60 is the zigzag varint 120 ('x'), a 121-byte line has the
    // length byte 121 ('y'), so the block holds "…qxy…" across the boundary.
    const c = new MemChunk({ structuredMetadata: false, blockSize: 1 << 30 });
    c.append(0n, Buffer.from('a'.repeat(120) + 'q'));
    c.append(60n, Buffer.from('b'.repeat(121)));
    const data = c.blockSources()[0]!.load() as Buffer;
    expect(data.includes('qxyb')).toBe(true);
    for (const needle of ['qxy', 'qxyb', 'xyb', 'q']) {
      expect([needle, scanLines(data, [{ op: '|=', values: [needle] }])]).toEqual([needle, needle === 'q' ? ['a'.repeat(120) + 'q'] : []]);
      expect([needle, scanLines(data, [{ op: '|~', values: [needle] }])]).toEqual([needle, needle === 'q' ? ['a'.repeat(120) + 'q'] : []]);
    }
  });

  it('agrees with the per-line predicates on random blocks and filters', () => {
    // mulberry32: every bit usable (an LCG's low bits would repeat with a short period).
    let seed = 99;
    const rnd = (n: number) => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
    };
    const words = ['ab', 'ba', 'abc', 'A', 'b', 'é', 'K', 's', '\u212a', 'ſ', ' ', '=', '5', '0'];
    const pick = () => words[rnd(words.length)]!;
    const patterns = ['ab', 'a.c', '(?i)ab', '(?i)s', '(?i)k', 'b+a', '5[0-9]', '^ab', 'c$', 'é', 'ab|ba', '(?i)(abc|ks)'];
    for (let round = 0; round < 300; round++) {
      const lines: Buffer[] = [];
      for (let i = 0, n = 1 + rnd(30); i < n; i++) {
        let l = '';
        for (let j = 0, m = rnd(8); j < m; j++) l += pick();
        lines.push(Buffer.from(l));
      }
      const specs: LineFilterSpec[] = [];
      for (let k = 0, n = 1 + rnd(3); k < n; k++) {
        const op = (['|=', '!=', '|~', '!~'] as const)[rnd(4)]!;
        const regex = op === '|~' || op === '!~';
        const count = 1 + (rnd(4) === 0 ? 1 : 0);
        const values = Array.from({ length: count }, () => (regex ? patterns[rnd(patterns.length)]! : pick() + (rnd(2) ? pick() : '')));
        specs.push({ op, values });
      }
      expect([JSON.stringify(specs), scanLines(block(lines), specs)]).toEqual([JSON.stringify(specs), expected(lines, specs)]);
    }
  });

  it('stops a block early once a positive literal has no further occurrence', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => Buffer.from(i === 3 ? 'needle here' : `line ${i}`));
    const data = block(lines);
    const f = compileBlockFilter([{ op: '|=', values: ['needle'] }])!;
    let tested = 0;
    const counting = {
      reset: (d: Buffer) => f.reset(d),
      test: (s: number, e: number) => (tested++, f.test(s, e)),
      get exhausted() {
        return f.exhausted;
      },
    };
    const seen: string[] = [];
    scanBlock(data, false, new ScanRange(MIN, ALL), counting, true, 'test', (d, _h, _l, s, e) => void seen.push(d.toString('latin1', s, e)));
    expect(seen).toEqual(['needle here']);
    expect(tested).toBe(5);
  });

  it('predicateFilter hands each line in range to the predicate', () => {
    const data = block(LINES);
    const seen: string[] = [];
    const f = predicateFilter((l) => (seen.push(l.toString()), l.length > 30));
    const kept: string[] = [];
    scanBlock(data, false, new ScanRange(1n, 3n), f, true, 'test', (d, _h, _l, s, e) => void kept.push(d.toString('utf8', s, e)));
    expect(seen).toEqual([LINES[1]!.toString(), LINES[2]!.toString()]);
    expect(kept).toEqual([LINES[1]!.toString(), LINES[2]!.toString()]);
  });
});
