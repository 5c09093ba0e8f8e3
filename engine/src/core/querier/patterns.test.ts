import { DEFAULT_LOG_LEVEL_FIELDS } from '../limits/limits.js';
import { LevelDetector, normalizeLevel, PatternMiner } from './patterns.js';

const S = 1_700_000_000; // a multiple of 10 s
const ns = (sec: number): bigint => BigInt(sec) * 1_000_000_000n;

describe('PatternMiner', () => {
  it('reports each template with its counts per step, zero-filling the steps in between', () => {
    const m = new PatternMiner({ stepMs: 10_000, minClusterSize: 1, levelFields: DEFAULT_LOG_LEVEL_FIELDS });
    m.add(ns(S + 1), 'level=info msg="user 1 logged in"', []);
    m.add(ns(S + 9), 'level=info msg="user 2 logged in"', []);
    m.add(ns(S + 31), 'level=info msg="user 3 logged in"', []);
    expect(m.result()).toEqual([
      {
        pattern: 'level=info msg="user <_> logged in"',
        level: 'info',
        samples: [
          [S, 2],
          [S + 10, 0],
          [S + 20, 0],
          [S + 30, 1],
        ],
      },
    ]);
  });

  it('never samples finer than 10 s and aligns buckets to the step', () => {
    const m = new PatternMiner({ stepMs: 1000, minClusterSize: 1 });
    m.add(ns(S + 3), 'tick 1', []);
    m.add(ns(S + 12), 'tick 2', []);
    expect(m.result()[0]!.samples).toEqual([
      [S, 1],
      [S + 10, 1],
    ]);
    const minute = new PatternMiner({ stepMs: 60_000, minClusterSize: 1 });
    minute.add(ns(S + 3), 'tick 1', []);
    minute.add(ns(S + 39), 'tick 2', []);
    expect(minute.result()[0]!.samples).toEqual([[S - (S % 60), 2]]);
  });

  it('drops patterns seen on fewer lines than the minimum cluster size (Loki: 30)', () => {
    const m = new PatternMiner({ stepMs: 10_000 });
    for (let i = 0; i < 30; i++) m.add(ns(S + i), `request ${i} done`, []);
    for (let i = 0; i < 29; i++) m.add(ns(S + i), `cache miss for key ${i}`, []);
    expect(m.result().map((p) => p.pattern)).toEqual(['request <_> done']);
  });

  it('keeps a pattern per level, most frequent first', () => {
    const m = new PatternMiner({ stepMs: 10_000, minClusterSize: 1, levelFields: ['level'] });
    m.add(ns(S), '{"level":"error","msg":"disk full 1"}', []);
    m.add(ns(S), '{"level":"error","msg":"disk full 2"}', []);
    m.add(ns(S), 'plain text line 7', []);
    m.add(ns(S), 'plain text line 8', [['detected_level', 'warn']]);
    expect(m.result()).toEqual([
      { pattern: '{"level":"error","msg":"disk full <_>"}', level: 'error', samples: [[S, 2]] },
      { pattern: 'plain text line 7', level: 'unknown', samples: [[S, 1]] },
      { pattern: 'plain text line 8', level: 'warn', samples: [[S, 1]] },
    ]);
  });

  it('merges clusters of different tree paths that print the same template', () => {
    const m = new PatternMiner({ stepMs: 10_000, minClusterSize: 1, drain: { maxChildren: 2 } });
    // With two children per node the second distinct word already goes to the wildcard branch.
    m.add(ns(S), 'alpha end', []);
    m.add(ns(S), 'beta end', []);
    m.add(ns(S), 'gamma end', []);
    const r = m.result();
    expect(r.reduce((n, p) => n + p.samples[0]![1], 0)).toBe(3);
    expect(new Set(r.map((p) => p.pattern)).size).toBe(r.length);
  });
});

describe('levels', () => {
  it('normalizes level names as Loki reports them', () => {
    expect(['WARNING', 'err', 'Info', 'crit', 'panic', 'dbg', 'bogus'].map(normalizeLevel)).toEqual([
      'warn',
      'error',
      'info',
      'critical',
      'fatal',
      'debug',
      'unknown',
    ]);
  });

  it('reads detected_level first, then a level field, then a level word', () => {
    const d = new LevelDetector(DEFAULT_LOG_LEVEL_FIELDS);
    expect(d.detect('level=info', [], [['detected_level', 'error']])).toBe('error');
    expect(d.detect('level=info', [['detected_level', 'debug']])).toBe('debug');
    expect(d.detect('ts=1 level=warn msg=x', [])).toBe('warn');
    expect(d.detect('{"severity":"ERROR","msg":"x"}', [])).toBe('error');
    expect(d.detect('something failed with ERROR code', [])).toBe('error');
    expect(d.detect('all good', [])).toBe('unknown');
    // A key that only ends like a level field is not one: the words decide.
    expect(d.detect('xlevel=info but an error', [])).toBe('error');
  });
});
