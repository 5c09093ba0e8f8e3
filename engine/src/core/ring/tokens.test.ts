import { generateTokens, streamToken } from './tokens.js';

describe('generateTokens', () => {
  it('draws the requested number of distinct, sorted uint32 tokens avoiding taken ones', () => {
    // A source that repeats itself and hits taken values: every collision must be skipped.
    const seq = [5, 5, 7, 1, 7, 0xffffffff, 3, 9, 2];
    let i = 0;
    const tokens = generateTokens(5, [1, 3], () => seq[i++]!);
    expect(tokens).toEqual([2, 5, 7, 9, 0xffffffff]);
  });

  it('uses the CSPRNG by default', () => {
    const a = generateTokens(128);
    const b = generateTokens(128, a);
    expect(new Set([...a, ...b]).size).toBe(256);
    for (const t of a) expect(Number.isInteger(t) && t >= 0 && t <= 0xffffffff).toBe(true);
    expect(a).toEqual([...a].sort((x, y) => x - y));
  });
});

describe('streamToken', () => {
  it('is a stable uint32 of tenant and canonical labels', () => {
    const t = streamToken('tenant-a', '{app="api", env="prod"}');
    expect(t).toBe(streamToken('tenant-a', '{app="api", env="prod"}'));
    expect(t).toBeGreaterThanOrEqual(0);
    expect(t).toBeLessThanOrEqual(0xffffffff);
    // Pinned to values computed by an independent implementation (Python) of FNV-1a 32 + fmix32: a change of the
    // function moves every stream to other ingesters, so it must be deliberate.
    expect(streamToken('fake', '{job="varlogs"}')).toBe(1921077103);
    expect(streamToken('', '')).toBe(91794203);
    expect(streamToken('t', '{msg="héllo ✓"}')).toBe(1248116070);
  });

  it('separates tenant and labels, and hashes non-ASCII text as UTF-8', () => {
    expect(streamToken('a', 'b{}')).not.toBe(streamToken('ab', '{}'));
    expect(streamToken('t', '{a="1"}')).not.toBe(streamToken('u', '{a="1"}'));
    expect(streamToken('t', '{msg="héllo ✓"}')).toBe(streamToken('t', '{msg="héllo ✓"}'));
    expect(streamToken('t', '{msg="héllo"}')).not.toBe(streamToken('t', '{msg="hello"}'));
  });

  it('spreads similar label sets evenly over the token space', () => {
    const buckets = new Array<number>(16).fill(0);
    const n = 16_000;
    for (let i = 0; i < n; i++) buckets[streamToken('fake', `{app="api", pod="api-${i}"}`) >>> 28]!++;
    for (const b of buckets) expect(Math.abs(b - n / 16)).toBeLessThan((n / 16) * 0.15);
  });
});
