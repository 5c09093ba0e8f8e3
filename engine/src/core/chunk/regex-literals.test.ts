import { compileGoRegexp } from '../util/go/regexp.js';
import { requiredLiterals } from './regex-literals.js';

const lits = (p: string) => {
  const r = requiredLiterals(p);
  return r === undefined ? undefined : { fold: r.fold, literals: [...r.literals].sort() };
};

describe('requiredLiterals', () => {
  it.each([
    ['error', ['error']],
    ['status=5[0-9]{2}', ['status=5']],
    ['(GET|POST) /api/v[12]/orders', ['T /api/v']],
    ['(GET|POST) /api/v[12]', ['T /api/v']],
    ['(GET|POST) /v[12]', ['GET /v1', 'GET /v2', 'POST /v1', 'POST /v2']],
    ['timeout|refused', ['refused', 'timeout']],
    ['a.*bcd', ['bcd']],
    ['\\Qa.b*\\E', ['a.b*']],
    ['\\d+ms', ['ms']],
    ['x\\.y', ['x.y']],
    ['^foo$', ['foo']],
    ['(?P<code>5\\d\\d) error', [' error']],
    ['(?:ab)+c', ['ab']],
    ['a{,3}', ['a{,3}']],
    ['[^a]bc', ['bc']],
    ['héllo', ['héllo']],
    ['\\x{41}B', ['AB']],
    ['\\tx', ['\tx']],
    ['a(b|c)d', ['abd', 'acd']],
    ['(foo|bar)?baz', ['baz']],
  ])('%s → %j', (pattern, want) => {
    expect(lits(pattern)).toEqual({ fold: false, literals: want });
  });

  it.each([
    ['(?i)error', ['error']],
    ['(?i)ERROR|Warn', ['error', 'warn']],
    ['foo(?i:bar)', ['foobar']],
    ['(?i)é+x', ['x']],
  ])('%s folds case → %j', (pattern, want) => {
    expect(lits(pattern)).toEqual({ fold: true, literals: want });
  });

  it.each(['', '.*', 'x*', 'a?', '\\d+', '[a-z]+', 'foo|', '(a|b*)c?', '\\pL', '[[:alpha:]]x?', '\\101', '(?i)é', '\\x{FFFD}'])(
    '%j has no required literal',
    (pattern) => {
      expect(requiredLiterals(pattern)).toBeUndefined();
    },
  );

  // Every line a pattern matches must contain one of its literals: checked on random patterns and lines.
  it('never rules out a matching line (random patterns)', () => {
    // mulberry32: every bit usable (an LCG's low bits would repeat with a short period).
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
    };
    const atoms = ['a', 'b', 'K', 's', 'S', '.', '\\d', '[ab]', '[a-c]', '[^b]', 'é', '\\.', '\\x{212A}', 'ſ', '\\Qa*\\E'];
    const gen = (depth: number): string => {
      let out = '';
      const n = 1 + rnd(4);
      for (let i = 0; i < n; i++) {
        let atom = depth > 0 && rnd(4) === 0 ? `(${gen(depth - 1)}${rnd(2) ? '|' + gen(depth - 1) : ''})` : atoms[rnd(atoms.length)]!;
        const q = rnd(8);
        if (q === 0) atom += '*';
        else if (q === 1) atom += '+';
        else if (q === 2) atom += '?';
        else if (q === 3) atom += `{${rnd(3)},${2 + rnd(2)}}`;
        out += atom;
      }
      return out;
    };
    const alphabet = ['a', 'b', 'c', 'A', 'B', 'k', 'K', 's', 'S', 'ſ', '\u212a', 'é', 'É', '.', '*', '1', ' '];
    let checked = 0;
    for (let i = 0; i < 1500; i++) {
      const pattern = (rnd(3) === 0 ? '(?i)' : '') + gen(2);
      const re = compileGoRegexp(pattern).re;
      const req = requiredLiterals(pattern);
      if (req === undefined) continue;
      for (let j = 0; j < 40; j++) {
        let line = '';
        const len = rnd(12);
        for (let k = 0; k < len; k++) line += alphabet[rnd(alphabet.length)];
        if (!re.test(line)) continue;
        checked++;
        const hay = req.fold ? line.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/ſ/g, 's').replace(/\u212a/g, 'k') : line;
        if (!req.literals.some((l) => hay.includes(l))) throw new Error(`${pattern} matches ${JSON.stringify(line)} without ${JSON.stringify(req)}`);
      }
    }
    expect(checked).toBeGreaterThan(500);
  });
});
