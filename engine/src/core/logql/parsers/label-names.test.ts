import { addExtracted, isValidLabelName, sanitizeLabelKey } from './index.js';

describe('label naming — docs "Parser expression"', () => {
  it('addExtracted suffixes names that exist in the stream labels', () => {
    const existing = new Set(['app', 'job']);
    expect(addExtracted(existing, 'app')).toBe('app_extracted');
    expect(addExtracted(existing, 'pod')).toBe('pod');
    expect(addExtracted((n) => n === 'pod', 'pod')).toBe('pod_extracted');
  });

  it('sanitizes keys to Prometheus label names', () => {
    expect(sanitizeLabelKey('a.b')).toBe('a_b');
    expect(sanitizeLabelKey('  spaced key ')).toBe('spaced_key');
    expect(sanitizeLabelKey('1st')).toBe('_1st');
    expect(sanitizeLabelKey('1st', false)).toBe('1st');
    expect(sanitizeLabelKey('héllo😀')).toBe('h_llo_');
    expect(sanitizeLabelKey('   ')).toBe('');
  });

  it('validates label names with the legacy rule', () => {
    expect(isValidLabelName('a_1')).toBe(true);
    expect(isValidLabelName('_a')).toBe(true);
    expect(isValidLabelName('1a')).toBe(false);
    expect(isValidLabelName('a-b')).toBe(false);
    expect(isValidLabelName('')).toBe(false);
  });
});
