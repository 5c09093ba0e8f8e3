import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './latency.bench.js';
import { BEGIN, END, writeBenchmarksMd } from './report.js';
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
});
