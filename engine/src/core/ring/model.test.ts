import { labelValue, leaseName } from './kubernetes-kv.js';
import { decodeInstanceDesc, encodeInstanceDesc, extendsReplicaSet, stateServes, type InstanceDesc } from './model.js';

const desc: InstanceDesc = {
  id: 'ingester-0',
  addr: '10.0.0.1:9095',
  zone: 'eu-1a',
  state: 'ACTIVE',
  tokens: [1, 5, 0xffffffff],
  heartbeat: 1_700_000_005_000,
  registered: 1_700_000_000_000,
};

describe('instance descriptor JSON', () => {
  it('round-trips, and its stored form is exactly the documented one', () => {
    const text = encodeInstanceDesc(desc);
    expect(text).toBe(
      '{"id":"ingester-0","addr":"10.0.0.1:9095","zone":"eu-1a","state":"ACTIVE","tokens":[1,5,4294967295],' +
        '"heartbeat":1700000005000,"registered":1700000000000}',
    );
    expect(decodeInstanceDesc(text)).toEqual(desc);
  });

  it('sorts and de-duplicates tokens from the store', () => {
    expect(decodeInstanceDesc(encodeInstanceDesc({ ...desc, tokens: [9, 3, 9, 1] }))!.tokens).toEqual([1, 3, 9]);
  });

  it.each([
    ['not JSON', '{'],
    ['not an object', '42'],
    ['no id', encodeInstanceDesc({ ...desc, id: '' })],
    ['unknown state', encodeInstanceDesc({ ...desc, state: 'UNHEALTHY' as never })],
    ['token out of range', encodeInstanceDesc({ ...desc, tokens: [2 ** 32] })],
    ['negative token', encodeInstanceDesc({ ...desc, tokens: [-1] })],
    ['fractional token', encodeInstanceDesc({ ...desc, tokens: [1.5] })],
    ['heartbeat not a number', JSON.stringify({ ...desc, heartbeat: '2024-01-01' })],
    ['tokens not a list', JSON.stringify({ ...desc, tokens: 'abc' })],
  ])('rejects a malformed record: %s', (_what, text) => {
    expect(decodeInstanceDesc(text)).toBeUndefined();
  });
});

describe('operations', () => {
  it('writes go to ACTIVE only and extend past every other state', () => {
    expect(stateServes('write', 'ACTIVE')).toBe(true);
    for (const s of ['PENDING', 'JOINING', 'LEAVING'] as const) {
      expect(stateServes('write', s)).toBe(false);
      expect(extendsReplicaSet('write', s)).toBe(true);
    }
    expect(extendsReplicaSet('write', 'ACTIVE')).toBe(false);
  });

  it('reads go to ACTIVE, LEAVING and PENDING and extend past JOINING and PENDING', () => {
    expect(['ACTIVE', 'LEAVING', 'PENDING', 'JOINING'].map((s) => stateServes('read', s as never))).toEqual([true, true, true, false]);
    expect(['ACTIVE', 'LEAVING', 'PENDING', 'JOINING'].map((s) => extendsReplicaSet('read', s as never))).toEqual([false, false, true, true]);
  });
});

describe('Kubernetes names', () => {
  it('a Lease name is a readable DNS-1123 label ending in a hash of the exact ring key and id', () => {
    const name = leaseName('collectors/ingester', 'ingester-0');
    expect(name).toMatch(/^collectors-ingester-ingester-0-[0-9a-f]{8}$/);
    expect(leaseName('collectors/ingester', 'ingester-0')).toBe(name);
    // Inputs that sanitise alike still get different names.
    expect(leaseName('collectors/ingester', 'Ingester_0')).not.toBe(leaseName('collectors/ingester', 'ingester-0'));
    expect(leaseName('a/b', 'c')).not.toBe(leaseName('a-b', 'c'));
    for (const n of [
      leaseName('collectors/ingester', 'Ingester_0.example.com:9095'),
      leaseName('', '---'),
      leaseName('collectors/ingester', 'x'.repeat(300)),
      leaseName('Ring/', '日本'),
    ]) {
      expect(n.length).toBeLessThanOrEqual(63);
      expect(n).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it('a label value is kept when valid, else made valid (≤ 63 chars, alphanumeric ends) with a hash', () => {
    expect(labelValue('ingester')).toBe('ingester');
    expect(labelValue('collectors')).toBe('collectors');
    expect(labelValue('')).toBe('');
    const odd = labelValue('/strange prefix/');
    expect(odd).toMatch(/^strange-prefix-[0-9a-f]{8}$/);
    const long = labelValue('y'.repeat(100));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^y+-[0-9a-f]{8}$/);
  });
});
