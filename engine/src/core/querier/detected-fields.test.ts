import type { LabelPair, Labels } from '../model.js';
import { detectFields, detectFieldValues, determineType, entryFields } from './detected-fields.js';
import type { LogEntry, LogStream } from './querier.js';

const entry = (line: string, extra: Partial<LogEntry> = {}): LogEntry => ({ ts: 1n, line: Buffer.from(line), ...extra });
const stream = (labels: Labels, entries: LogEntry[]): LogStream => ({ labels, canonical: '', fingerprint: '', entries });

describe('determineType', () => {
  it.each([
    ['42', 'int'],
    ['-7', 'int'],
    ['007', 'int'],
    ['9223372036854775808', 'float'], // past int64: Go's ParseInt fails, ParseFloat does not
    ['1.5', 'float'],
    ['1e3', 'float'],
    ['NaN', 'float'],
    ['true', 'boolean'],
    ['F', 'boolean'],
    ['10ms', 'duration'],
    ['1h30m', 'duration'],
    ['10KB', 'bytes'],
    ['1.5 MiB', 'bytes'],
    ['10k', 'bytes'],
    ['hello', 'string'],
    ['', 'string'],
    ['yes', 'string'],
  ])('%j is %s', (v, t) => {
    expect(determineType(v)).toBe(t);
  });
});

describe('entryFields', () => {
  it('reads JSON first, with the path of each nested key', () => {
    const f = entryFields(Buffer.from('{"user":{"first name":"ann"},"n":3,"ok":true,"tags":["a"],"nil":null}'), [['app', 'x']], undefined, undefined);
    expect(f.parser).toBe('json');
    expect([...f.parsed]).toEqual([
      ['user_first_name', 'ann'],
      ['n', '3'],
      ['ok', 'true'],
    ]);
    expect(f.jsonPaths.get('user_first_name')).toEqual(['user', 'first name']);
    expect(f.jsonPaths.get('n')).toEqual(['n']);
  });

  it('falls back to logfmt, and renames a field that clashes with a stream label', () => {
    const f = entryFields(Buffer.from('level=info app=api duration=5ms'), [['app', 'x']], [['trace_id', 'abc']], undefined);
    expect(f.parser).toBe('logfmt');
    expect([...f.parsed]).toEqual([
      ['level', 'info'],
      ['app_extracted', 'api'],
      ['duration', '5ms'],
    ]);
    expect([...f.metadata]).toEqual([['trace_id', 'abc']]);
  });

  it("keeps the query's own parsed labels and ignores error labels", () => {
    const parsed: LabelPair[] = [
      ['status', '200'],
      ['__error__', 'JSONParserErr'],
    ];
    // `status` was parsed by the query: it is not a stream label, so re-parsing does not rename it.
    const f = entryFields(Buffer.from('status=200'), [['status', '200']], undefined, parsed);
    expect([...f.parsed]).toEqual([['status', '200']]);
  });
});

describe('detectFields', () => {
  it("reports Loki's fields: type, cardinality, parsers (null for structured metadata) and JSON paths", () => {
    const streams = [
      stream(
        [['app', 'api']],
        [
          entry('{"status":200,"latency":"12ms","req":{"path":"/a"}}', { metadata: [['trace_id', 't1']] }),
          entry('{"status":404,"latency":"3ms","req":{"path":"/b"}}', { metadata: [['trace_id', 't2']] }),
        ],
      ),
      stream([['app', 'web']], [entry('level=info status=200 size=10KB'), entry('level=warn status=500 size=2KB')]),
    ];
    expect(detectFields(streams, 1000)).toEqual([
      { label: 'latency', type: 'duration', cardinality: 2, parsers: ['json'], jsonPath: ['latency'] },
      { label: 'level', type: 'string', cardinality: 2, parsers: ['logfmt'] },
      { label: 'req_path', type: 'string', cardinality: 2, parsers: ['json'], jsonPath: ['req', 'path'] },
      { label: 'size', type: 'bytes', cardinality: 2, parsers: ['logfmt'] },
      { label: 'status', type: 'int', cardinality: 3, parsers: ['json', 'logfmt'], jsonPath: ['status'] },
      { label: 'trace_id', type: 'string', cardinality: 2, parsers: null },
    ]);
  });

  it('keeps the first `limit` field names it meets', () => {
    const streams = [stream([], [entry('a=1 b=2 c=3')])];
    expect(detectFields(streams, 2).map((f) => f.label)).toEqual(['a', 'b']);
  });

  it('takes the type from the latest entry that has the field', () => {
    const streams = [stream([], [entry('v=1'), entry('v=x')])];
    expect(detectFields(streams, 10)).toEqual([{ label: 'v', type: 'string', cardinality: 2, parsers: ['logfmt'] }]);
  });
});

describe('detectFieldValues', () => {
  it('lists distinct values from metadata and parsed fields, rewriting byte sizes as Loki does', () => {
    const streams = [
      stream(
        [],
        [
          entry('size=1.5MiB code=a', { metadata: [['code', 'm']] }),
          entry('size=10 KB code=b'),
          entry('size=42 code=a'),
        ],
      ),
    ];
    expect(detectFieldValues(streams, 'size', 100)).toEqual(['1.6MB', '10', '42']);
    expect(detectFieldValues(streams, 'code', 100)).toEqual(['a', 'b', 'm']);
    expect(detectFieldValues(streams, 'code', 1)).toEqual(['a', 'm']); // the limit is checked per entry
    expect(detectFieldValues(streams, 'none', 100)).toEqual([]);
  });
});
