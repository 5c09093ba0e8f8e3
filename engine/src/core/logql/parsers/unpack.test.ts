import { unpack } from './index.js';

const asObj = (r: { labels: [string, string][] }): Record<string, string> => Object.fromEntries(r.labels);

describe('unpack — docs "Parser expression / unpack"', () => {
  it('extracts the packed labels and replaces the line with _entry (docs example)', () => {
    const r = unpack('{"container": "myapp", "pod": "pod-3223f", "_entry": "original log message"}');
    expect(asObj(r)).toEqual({ container: 'myapp', pod: 'pod-3223f' });
    expect(r.line).toBe('original log message');
    expect(r.error).toBeUndefined();
  });

  it('unescapes _entry and ignores non-string properties', () => {
    const r = unpack('{"n":1,"o":{"a":"b"},"job":"x","_entry":"say \\"hi\\""}');
    expect(asObj(r)).toEqual({ job: 'x' });
    expect(r.line).toBe('say "hi"');
  });

  it('applies labels only when _entry is present', () => {
    const r = unpack('{"container":"myapp"}');
    expect(r).toEqual({ labels: [] });
  });

  it('adds _extracted on a clash and sanitizes names', () => {
    const r = unpack('{"app":"a","a-b":"c","_entry":"l"}', new Set(['app']));
    expect(asObj(r)).toEqual({ app_extracted: 'a', a_b: 'c' });
  });

  it('errors on a line that is not an object, or malformed JSON', () => {
    expect(unpack('not json')).toEqual({ labels: [], error: 'JSONParserErr', errorDetails: 'expecting json object(6), but it is not' });
    expect(unpack(' {"a":"b"}').error).toBe('JSONParserErr');
    const r = unpack('{"a":"b","_entry":"x"');
    expect(r.error).toBe('JSONParserErr');
    expect(r.line).toBeUndefined();
    expect(r.labels).toEqual([]);
  });

  it('leaves an empty line alone', () => {
    expect(unpack('')).toEqual({ labels: [] });
  });
});
