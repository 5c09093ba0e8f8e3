import { fingerprint } from '../index/fingerprint.js';
import { EngineError } from '../errors.js';
import { formatShard, inShard, parseShard, parseShardsParam } from './shard.js';

describe('shard annotations', () => {
  it('parses and prints Loki\'s <i>_of_<n> form', () => {
    expect(parseShard('3_of_16')).toEqual({ index: 3, of: 16 });
    expect(formatShard({ index: 0, of: 2 })).toBe('0_of_2');
    expect(parseShard(formatShard({ index: 15, of: 16 }))).toEqual({ index: 15, of: 16 });
  });

  it('refuses malformed and out-of-range shards with Loki\'s texts (400)', () => {
    for (const bad of ['3of16', '3_of_', '-1_of_2', 'a_of_b', '1_of_2 ', '']) {
      const e = (() => {
        try {
          parseShard(bad);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e).toBeInstanceOf(EngineError);
      expect((e as EngineError).status).toBe(400);
      expect((e as EngineError).message).toBe(`Invalid ShardLabel value: [${bad}]`);
    }
    expect(() => parseShard('16_of_16')).toThrow('Shards out of bounds: [16] >= [16]');
  });

  it('reads the shards parameter: absent, one shard, 0_of_1 as no shard, several refused', () => {
    expect(parseShardsParam([])).toBeUndefined();
    expect(parseShardsParam([''])).toBeUndefined();
    expect(parseShardsParam(['0_of_1'])).toBeUndefined();
    expect(parseShardsParam(['1_of_4'])).toEqual({ index: 1, of: 4 });
    expect(() => parseShardsParam(['0_of_2', '1_of_2'])).toThrow(/only one shard/);
  });

  it('puts every stream in exactly one shard of any count, spread evenly', () => {
    const fps = Array.from({ length: 4000 }, (_, i) => fingerprint(`{app="a", pod="p${i}"}`));
    for (const n of [1, 2, 3, 16, 100]) {
      const of = n;
      const counts = new Array<number>(of).fill(0);
      for (const fp of fps) {
        const hits = Array.from({ length: of }, (_, index) => inShard(fp, { index, of })).filter(Boolean).length;
        expect(hits).toBe(1);
        counts[Array.from({ length: of }, (_, index) => index).find((index) => inShard(fp, { index, of }))!]!++;
      }
      // The fingerprint is a hash: each shard holds about its share.
      for (const c of counts) expect(Math.abs(c - fps.length / of)).toBeLessThan((fps.length / of) * 0.35 + 5);
    }
  });

  it('uses the whole 64-bit fingerprint: fingerprint mod n', () => {
    expect(inShard('0000000000000007', { index: 7 % 5, of: 5 })).toBe(true);
    expect(inShard('ffffffffffffffff', { index: Number(0xffffffffffffffffn % 3n), of: 3 })).toBe(true);
    expect(inShard('8000000000000000', { index: 0, of: 2 })).toBe(true);
  });
});
