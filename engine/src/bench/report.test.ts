import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './latency.bench.js';
import { BEGIN, END, mergeSections, queryTarget, renderSection, writeBenchmarksMd } from './report.js';
import type { QueryBenchResult } from './query.bench.js';
import { summariseProfile, type CpuProfile } from './cpu-profile.js';

describe('bench report', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strata-bench-report-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces only the generated section of BENCHMARKS.md', () => {
    const file = join(dir, 'BENCHMARKS.md');
    writeFileSync(file, `# Benchmarks\n\nintro\n\n${BEGIN}\n\nold results\n\n${END}\n\n## Notes by hand\n\nkept\n`);
    writeBenchmarksMd(file, '## Results\n\nnew results\n');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('intro');
    expect(text).toContain('new results');
    expect(text).not.toContain('old results');
    expect(text).toContain('## Notes by hand\n\nkept\n');
    expect(text.split(BEGIN).length).toBe(2);
  });

  it('creates the file with a preamble, or appends the section when the markers are missing', () => {
    const fresh = join(dir, 'fresh.md');
    writeBenchmarksMd(fresh, 'R1');
    expect(readFileSync(fresh, 'utf8')).toMatch(/^# Benchmarks[\s\S]*R1\n\n<!-- END GENERATED -->\n$/);
    const plain = join(dir, 'plain.md');
    writeFileSync(plain, '# Mine\n');
    writeBenchmarksMd(plain, 'R2');
    expect(readFileSync(plain, 'utf8')).toBe(`# Mine\n\n${BEGIN}\n\nR2\n\n${END}\n`);
  });

  it('merges a partial run into the generated section: its parts replaced or inserted in order, the rest kept', () => {
    const existing = [
      '## Results — full run',
      '',
      '- Corpus: kept',
      '',
      '### Ingest throughput (old)',
      '',
      '| old ingest |',
      '',
      '### LogQL queries (old)',
      '',
      '#### Lookups',
      '',
      '| old lookups |',
      '',
      'Whole run: 100 s.',
      '',
    ].join('\n');
    const partial = ['### Distributed mode (new)', '', '- Measured later', '', '| new distributed |', '', '### Ingest throughput (new)', '', '| new ingest |', ''].join('\n');
    const merged = mergeSections(existing, partial);
    expect(merged).toBe(
      [
        '## Results — full run',
        '',
        '- Corpus: kept',
        '',
        '### Ingest throughput (new)',
        '',
        '| new ingest |',
        '',
        '### LogQL queries (old)',
        '',
        '#### Lookups',
        '',
        '| old lookups |',
        '',
        '### Distributed mode (new)',
        '',
        '- Measured later',
        '',
        '| new distributed |',
        '',
        'Whole run: 100 s.',
        '',
      ].join('\n'),
    );
    // Merging into the file keeps the text around the markers; a second partial run replaces its own part again.
    const file = join(dir, 'BENCHMARKS.md');
    writeFileSync(file, `# B\n\n${BEGIN}\n\n${existing}\n${END}\n\n## Analysis\n`);
    writeBenchmarksMd(file, partial, true);
    writeBenchmarksMd(file, '### Distributed mode (newer)\n\n| newer |\n', true);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('| newer |\n\nWhole run: 100 s.\n\n<!-- END GENERATED -->\n\n## Analysis\n');
    expect(text).not.toContain('new distributed');
    expect(text).toContain('| new ingest |');
    expect(text).toContain('| old lookups |');
  });

  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 0.5)).toBe(50);
    expect(percentile(xs, 0.99)).toBe(99);
    expect(percentile(xs, 1)).toBe(100);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it('charges sampled time to functions and files, leaving idle out', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9, columnNumber: 0 });
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4] },
        { id: 2, callFrame: frame('append', 'file:///x/engine/dist/core/chunk/head-block.js') },
        { id: 3, callFrame: frame('(idle)', '') },
        { id: 4, callFrame: frame('compress', 'file:///x/node_modules/lz4-napi/index.js') },
      ],
      startTime: 0,
      endTime: 1000,
      samples: [2, 2, 3, 4],
      timeDeltas: [100, 300, 500, 100],
    };
    const s = summariseProfile(profile);
    expect(s.busyMs).toBeCloseTo(0.5);
    expect(s.idleMs).toBeCloseTo(0.5);
    expect(s.functions[0]).toEqual({ name: 'append (core/chunk/head-block.js:10)', selfMs: 0.4, share: 0.8 });
    expect(s.files.map((f) => f.name)).toEqual(['core/chunk/head-block.js', 'lz4-napi/index.js']);
  });

  it('renders the query section: per-core figures next to Loki, a verdict per row, lookups side by side', () => {
    const q: QueryBenchResult = {
      v8Flags: [],
      lineBytes: 1e9,
      lines: 4e6,
      streams: 348,
      spanMinutes: 85,
      ingestSeconds: 20,
      flushSeconds: 5,
      storeChunks: 800,
      storeBytes: 4e8,
      lookupStreams: 100000,
      queries: [
        { name: 'no match', ref: 'lineFilter', query: '{a=~".+"} |= "x"', where: 'memory', bytes: 1e9, lines: 4e6, cpuSeconds: 0.8, wallSeconds: 1, mbPerCpuSecond: 1250, answer: '0 entries' },
        { name: 'no match', ref: 'lineFilter', query: '{a=~".+"} |= "x"', where: 'store', bytes: 1e9, lines: 4e6, cpuSeconds: 2, wallSeconds: 2, mbPerCpuSecond: 500, answer: '0 entries' },
        { name: 'json', ref: 'json', query: 'sum(count_over_time({a="b"} | json [5m]))', where: 'memory', bytes: 4e8, lines: 1e6, cpuSeconds: 4, wallSeconds: 4, mbPerCpuSecond: 100, answer: '1 series' },
      ],
      limited: [
        { name: 'newest', query: '{a="b"}', where: 'memory', direction: 'backward', limit: 100, entries: 100, cpuMs: 3, wallMs: 4, chunksRead: 5, chunksInRange: 500 },
      ],
      lookups: [
        { name: 'label names', where: 'memory', results: 5, cpuMs: 1.5, wallMs: 2 },
        { name: 'label names', where: 'store', results: 5, cpuMs: 0.5, wallMs: 0.6 },
      ],
      seconds: 100,
    };
    const text = renderSection({ date: new Date(0), facts: { cpuModel: 'cpu', cores: 2, ramGiB: 8, node: 'v24', kernel: 'Linux', dataFs: 'ext4', load1: 0, busyBefore: 0 }, settings: [], query: q, totalSeconds: 1 });
    expect(queryTarget('lineFilter')).toBe(1000);
    expect(queryTarget('json')).toBeCloseTo(108.75);
    expect(text).toContain('| no match | memory | 1000 | 1250 (2.6× Loki) | 1000 | 400–580 | 1000 (2× Loki) | ✅ meets target |');
    expect(text).toContain('| no match | store | 1000 | 500 (1.0× Loki) | 500 | 400–580 | 1000 (2× Loki) | ❌ below target |');
    expect(text).toContain('| json | memory | 400 | 100 (1.4× Loki) | 100 | 55–90 | 109 (1.5× Loki) | ❌ below target |');
    expect(text).toContain('`{a=~".+"} \\|= "x"`');
    expect(text).toContain('| newest | `{a="b"}` | backward | memory | 100 | 3.0 | 4.0 | 5 / 500 |');
    expect(text).toContain('| label names | 5 | 1.5 / 2.0 | 0.5 / 0.6 |');

    // With a second run under V8 flags, its figures get a column of their own; the verdict stays on the first.
    const flagged: QueryBenchResult = { ...q, v8Flags: ['--some-flag'], queries: q.queries.map((m) => ({ ...m, mbPerCpuSecond: m.mbPerCpuSecond * 2 })), limited: [], lookups: [] };
    const both = renderSection({ date: new Date(0), facts: { cpuModel: 'cpu', cores: 2, ramGiB: 8, node: 'v24', kernel: 'Linux', dataFs: 'ext4', load1: 0, busyBefore: 0 }, settings: [], query: q, queryWithFlag: flagged, totalSeconds: 1 });
    expect(both).toContain('| wall MB/s | MB/CPU-s with `--some-flag` | Loki 2.8.0 (one core) |');
    expect(both).toContain('| no match | store | 1000 | 500 (1.0× Loki) | 500 | 1000 | 400–580 | 1000 (2× Loki) | ❌ below target |');
  });
});
