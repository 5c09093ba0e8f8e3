import { detectLabels, shouldRejectLabel } from './detected-labels.js';

describe('shouldRejectLabel', () => {
  it.each([
    [[], true],
    [['a'], false],
    [['1'], false], // a flag
    [['0', '1'], false],
    [['2'], true], // one number: an id
    [['1', '2'], true],
    [['1', '2', '3'], true],
    [['0', '1', 'x'], false],
    [['550e8400-e29b-41d4-a716-446655440000', '6ba7b810-9dad-11d1-80b4-00c04fd430c8', '{6ba7b811-9dad-11d1-80b4-00c04fd430c8}'], true],
    [['550e8400e29b41d4a716446655440000'], true],
    [['1.5', 'NaN', '1e9'], true],
  ])('%j → %s', (values, reject) => {
    expect(shouldRejectLabel(values)).toBe(reject);
  });
});

describe('detectLabels', () => {
  it('counts distinct values per label, hides id-like labels but keeps the static ones, sorted', () => {
    const series = [
      [
        ['app', 'api'],
        ['pod', '1'],
        ['request_id', '11'],
        ['env', 'prod'],
      ],
      [
        ['app', 'web'],
        ['pod', '2'],
        ['request_id', '12'],
        ['env', 'prod'],
      ],
      [
        ['app', 'web'],
        ['pod', '3'],
        ['request_id', '13'],
      ],
    ] as const;
    expect(detectLabels(series)).toEqual([
      { label: 'app', cardinality: 2 },
      { label: 'env', cardinality: 1 },
      { label: 'pod', cardinality: 3 },
    ]);
  });

  it('is empty without streams', () => {
    expect(detectLabels([])).toEqual([]);
  });
});
