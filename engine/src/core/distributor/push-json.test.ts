import { EngineError } from '../errors.js';
import type { LabelPair, PushRequest } from '../model.js';
import { labelsString } from './labels.js';
import { decodePushJson, parseRfc3339Nano } from './push-json.js';

function errorOf(body: string | Buffer): string {
  try {
    decodePushJson(body);
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe('bad_request');
    return (e as EngineError).message;
  }
  throw new Error(`expected ${String(body).slice(0, 200)} to be rejected`);
}

/** Requests as plain data for toEqual: lines as strings, ts as decimal strings. */
function plain(req: PushRequest): unknown {
  return req.streams.map((s) => ({
    labels: s.labels,
    entries: s.entries.map((e) => ({ ts: e.ts.toString(), line: e.line.toString('latin1'), metadata: e.metadata })),
  }));
}

describe('decodePushJson (v1)', () => {
  it('decodes streams, values and structured metadata', () => {
    const req = decodePushJson(
      JSON.stringify({
        streams: [
          {
            stream: { env: 'prod', app: 'api' },
            values: [
              ['1700000000123456789', 'first line'],
              ['1700000000123456790', 'with metadata', { trace_id: 'abc', user: 'ü' }],
            ],
          },
          { values: [['0', 'no labels']], stream: { job: 'x' } },
        ],
      }),
    );
    expect(req.streams).toHaveLength(2);
    expect(req.streams[0]!.labels).toBe('{app="api", env="prod"}');
    expect(req.streams[0]!.entries[0]!.ts).toBe(1700000000123456789n);
    expect(req.streams[0]!.entries[0]!.line.toString()).toBe('first line');
    expect(req.streams[0]!.entries[0]!.metadata).toBeUndefined();
    expect(req.streams[0]!.entries[1]!.metadata).toEqual([
      ['trace_id', 'abc'],
      ['user', 'ü'],
    ]);
    expect(req.streams[1]!.labels).toBe('{job="x"}');
  });

  it('produces the same label string whatever the client key order, with Go quoting', () => {
    const a = decodePushJson('{"streams":[{"stream":{"b":"2","a":"x\\"y\\n"},"values":[]}]}');
    const b = decodePushJson('{"streams":[{"stream":{"a":"x\\"y\\n","b":"2"},"values":[]}]}');
    expect(a.streams[0]!.labels).toBe('{a="x\\"y\\n", b="2"}');
    expect(b.streams[0]!.labels).toBe(a.streams[0]!.labels);
  });

  it('keeps the last of duplicate label keys, as a JSON object decoder does', () => {
    expect(decodePushJson('{"streams":[{"stream":{"a":"1","a":"2"},"values":[]}]}').streams[0]!.labels).toBe('{a="2"}');
  });

  it('accepts numbers and booleans as label values (their JSON text), like Loki', () => {
    expect(decodePushJson('{"streams":[{"stream":{"n":-1.5e3,"t":true,"f":false},"values":[]}]}').streams[0]!.labels).toBe(
      '{f="false", n="-1.5e3", t="true"}',
    );
    expect(errorOf('{"streams":[{"stream":{"a":null},"values":[]}]}')).toBe(
      'streams[0].stream: value of label "a" must be a string, got null',
    );
    expect(errorOf('{"streams":[{"stream":{"a":{}},"values":[]}]}')).toMatch(/value of label "a" must be a string, got object/);
    expect(errorOf('{"streams":[{"stream":"{a=\\"b\\"}","values":[]}]}')).toBe(
      'streams[0].stream must be an object of label names to values, got string',
    );
  });

  it('returns unescaped lines as zero-copy views of the body', () => {
    const body = Buffer.from('{"streams":[{"stream":{"a":"b"},"values":[["1","short"],["2","' + 'x'.repeat(500) + '"]]}]}');
    const req = decodePushJson(body);
    for (const e of req.streams[0]!.entries) expect(e.line.buffer).toBe(body.buffer);
    expect(req.streams[0]!.entries[1]!.line.length).toBe(500);
  });

  it('unescapes lines: simple escapes, \\u, surrogate pairs, lone surrogates become U+FFFD', () => {
    const line = String.raw`q\" b\\ s\/ \b\f\n\r\t \u00e9 \u20AC \ud83d\ude00 lone:\ud800 \udc00 end`;
    const req = decodePushJson(`{"streams":[{"stream":{"a":"b"},"values":[["1","${line}"]]}]}`);
    expect(req.streams[0]!.entries[0]!.line.toString()).toBe('q" b\\ s/ \b\f\n\r\t é € 😀 lone:\ufffd \ufffd end');
  });

  it('keeps UTF-8 and even invalid UTF-8 bytes of lines untouched', () => {
    const body = Buffer.concat([
      Buffer.from('{"streams":[{"stream":{"a":"b"},"values":[["1","ü'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"]]}]}'),
    ]);
    expect([...decodePushJson(body).streams[0]!.entries[0]!.line]).toEqual([0xc3, 0xbc, 0xff, 0xfe]);
  });

  it('handles escaped lines larger than an arena chunk and many of them, without corrupting earlier lines', () => {
    const big = 'a\\"'.repeat(40_000) + 'z'.repeat(100) + '\\n'; // 120 KB escaped
    const many = Array.from({ length: 3000 }, (_, i) => `["${i}","line ${i} \\"quoted\\" ${'p'.repeat(i % 90)}"]`);
    const req = decodePushJson(`{"streams":[{"stream":{"a":"b"},"values":[["0","${big}"],${many.join(',')}]}]}`);
    const entries = req.streams[0]!.entries;
    expect(entries[0]!.line.toString()).toBe('a"'.repeat(40_000) + 'z'.repeat(100) + '\n');
    entries.slice(1).forEach((e, i) => expect(e.line.toString()).toBe(`line ${i} "quoted" ${'p'.repeat(i % 90)}`));
    // A second decode must not overwrite the lines of the first.
    const first = entries[1]!.line.toString();
    decodePushJson(`{"streams":[{"stream":{"a":"b"},"values":[["0","${'X\\"'.repeat(50)}"]]}]}`);
    expect(entries[1]!.line.toString()).toBe(first);
  });

  it('parses timestamps exactly, within int64', () => {
    const ts = (s: string): bigint => decodePushJson(`{"streams":[{"stream":{"a":"b"},"values":[["${s}","x"]]}]}`).streams[0]!.entries[0]!.ts;
    expect(ts('0')).toBe(0n);
    expect(ts('-1')).toBe(-1n);
    expect(ts('000123')).toBe(123n);
    expect(ts('1700000000000000001')).toBe(1700000000000000001n);
    expect(ts('9223372036854775807')).toBe(9223372036854775807n);
    expect(ts('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(ts('00000000000000000000001')).toBe(1n);
    expect(ts('\\u0031\\u0032')).toBe(12n);
    // Consecutive entries in the same second share a cached base: check the boundaries.
    const many = decodePushJson(
      '{"streams":[{"stream":{"a":"b"},"values":[["1700000000999999999","x"],["1700000001000000000","x"],["-1700000001000000000","x"],["1700000001000000001","x"]]}]}',
    );
    expect(many.streams[0]!.entries.map((e) => e.ts)).toEqual([
      1700000000999999999n,
      1700000001000000000n,
      -1700000001000000000n,
      1700000001000000001n,
    ]);
  });

  it.each([
    ['a JSON number timestamp', '[1700000000000000000,"x"]', 'streams[0].values[0]: timestamp must be a string of nanoseconds since the epoch (e.g. "1700000000000000000"), got number'],
    ['a non-numeric timestamp', '["2023-01-01T00:00:00Z","x"]', 'streams[0].values[0]: timestamp "2023-01-01T00:00:00Z" is not a number: it must be a string of nanoseconds since the epoch (e.g. "1700000000000000000")'],
    ['an empty timestamp', '["","x"]', 'streams[0].values[0]: timestamp "" is not a number: it must be a string of nanoseconds since the epoch (e.g. "1700000000000000000")'],
    ['a fractional timestamp', '["1.5","x"]', 'streams[0].values[0]: timestamp "1.5" is not a number: it must be a string of nanoseconds since the epoch (e.g. "1700000000000000000")'],
    ['a timestamp past int64', '["9223372036854775808","x"]', 'streams[0].values[0]: timestamp "9223372036854775808" is out of range'],
    ['a timestamp below int64', '["-9223372036854775809","x"]', 'streams[0].values[0]: timestamp "-9223372036854775809" is out of range'],
    ['a 20-digit timestamp', '["12345678901234567890","x"]', 'streams[0].values[0]: timestamp "12345678901234567890" is out of range'],
    ['a missing line', '["1"]', 'streams[0].values[0]: log line is missing; expected ["<unix epoch in nanoseconds>", "<log line>"] or ["<ns>", "<log line>", {<structured metadata>}]'],
    ['an empty value', '[]', 'streams[0].values[0]: empty value; expected ["<unix epoch in nanoseconds>", "<log line>"] or ["<ns>", "<log line>", {<structured metadata>}]'],
    ['a number line', '["1",42]', 'streams[0].values[0]: log line must be a string, got number'],
    ['a null line', '["1",null]', 'streams[0].values[0]: log line must be a string, got null'],
    ['array structured metadata', '["1","x",["a","b"]]', 'streams[0].values[0]: structured metadata must be an object of string values, got array'],
    ['string structured metadata', '["1","x","a=b"]', 'streams[0].values[0]: structured metadata must be an object of string values, got string'],
    ['a number metadata value', '["1","x",{"a":1}]', 'streams[0].values[0]: structured metadata "a" must be a string, got number'],
    ['a value that is not an array', '{"ts":"1","line":"x"}', 'streams[0].values[0] must be an array ["<unix epoch in nanoseconds>", "<log line>"] or ["<ns>", "<log line>", {<structured metadata>}], got object'],
  ])('rejects %s', (_name, value, message) => {
    expect(errorOf(`{"streams":[{"stream":{"a":"b"},"values":[${value}]}]}`)).toBe(message);
  });

  it('names the failing stream and value', () => {
    expect(errorOf('{"streams":[{"stream":{},"values":[]},{"stream":{"a":"b"},"values":[["1","x"],["1","y"],["z","x"]]}]}')).toMatch(
      /^streams\[1\]\.values\[2\]: timestamp "z"/,
    );
  });

  it('follows Loki on nulls, empty metadata, extra elements and unknown keys', () => {
    const req = decodePushJson(
      JSON.stringify({
        unknown: { deep: [1, { x: null }] },
        streams: [
          { stream: { a: 'b' }, values: [null, ['1', 'x', {}], ['2', 'y', { k: 'v' }, 'ignored', { also: 1 }]], extra: true },
          { stream: { a: 'c' }, values: null },
          null,
        ],
      }),
    );
    expect(plain(req)).toEqual([
      {
        labels: '{a="b"}',
        entries: [
          { ts: '1', line: 'x', metadata: undefined },
          { ts: '2', line: 'y', metadata: [['k', 'v']] },
        ],
      },
      { labels: '{a="c"}', entries: [] },
      { labels: '', entries: [] },
    ]);
    expect(decodePushJson('{}').streams).toEqual([]);
    expect(decodePushJson('{"streams":null}').streams).toEqual([]);
  });

  it('keeps structured metadata in client order, duplicates included', () => {
    const req = decodePushJson('{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"z":"1","a":"2","z":"3","e\\u0301":"\\n"}]]}]}');
    expect(req.streams[0]!.entries[0]!.metadata).toEqual([
      ['z', '1'],
      ['a', '2'],
      ['z', '3'],
      ['e\u0301', '\n'],
    ]);
  });

  it('matches "streams", "labels", "entries", "ts" and "line" case-insensitively, "stream"/"values" exactly', () => {
    const req = decodePushJson('{"Streams":[{"Stream":{"x":"y"},"VALUES":[["1","x"]],"stream":{"a":"b"},"values":[["2","y"]]}]}');
    expect(plain(req)).toEqual([{ labels: '{a="b"}', entries: [{ ts: '2', line: 'y', metadata: undefined }] }]);
  });

  it('accepts a string body and a UTF-8 BOM', () => {
    expect(decodePushJson('\ufeff {"streams":[]} \n').streams).toEqual([]);
  });

  it.each([
    ['an empty body', '', 'push request body is empty: expected a JSON object like {"streams":[...]}'],
    ['whitespace only', ' \n', 'push request body is empty: expected a JSON object like {"streams":[...]}'],
    ['an array', '[]', 'push request must be a JSON object like {"streams":[...]}, got array'],
    ['a truncated body', '{"streams":[{"stream":{"a":"b"},"values":[["1","x"]', 'invalid JSON in push request: unexpected end of input'],
    ['a trailing comma', '{"streams":[],}', `invalid JSON in push request: unexpected '}' at offset 14 where an object key was expected`],
    ['garbage after the object', '{"streams":[]} x', `invalid JSON in push request: unexpected 'x' at offset 15 after the top-level value`],
    ['a second object', '{"streams":[]}{"streams":[]}', `invalid JSON in push request: unexpected '{' at offset 14 after the top-level value`],
    ['an unquoted key', '{streams:[]}', `invalid JSON in push request: unexpected 's' at offset 1 where an object key was expected`],
    ['single quotes', `{'streams':[]}`, `invalid JSON in push request: unexpected ''' at offset 1 where an object key was expected`],
    ['a missing colon', '{"streams" []}', `invalid JSON in push request: unexpected '[' at offset 11 after an object key (expected ":")`],
    ['an unterminated string', '{"streams":[{"stream":{"a":"b"},"values":[["1","x', 'invalid JSON in push request: unterminated string'],
    ['an unterminated escaped line', '{"streams":[{"stream":{"a":"b"},"values":[["1","x\\"', 'invalid JSON in push request: unterminated string'],
    ['a bad escape in a line', '{"streams":[{"stream":{"a":"b"},"values":[["1","\\x41"]]}]}', 'invalid JSON in push request: invalid escape \\x in string at offset 48'],
    ['a bad \\u escape', '{"streams":[{"stream":{"a":"b"},"values":[["1","\\u12G4"]]}]}', 'invalid JSON in push request: invalid \\u escape at offset 48'],
    ['a bad escape in an unknown key', '{"x":"\\q","streams":[]}', 'invalid JSON in push request: invalid escape \\q in string at offset 6'],
    ['a bad literal', '{"x":nul,"streams":[]}', `invalid JSON in push request: unexpected 'n' at offset 5 in a literal`],
    ['a bad number', '{"x":-,"streams":[]}', `invalid JSON in push request: unexpected ',' at offset 6 in a number`],
    ['a leading-zero number', '{"x":01}', `invalid JSON in push request: unexpected '1' at offset 6 after an object value (expected "," or "}")`],
    ['streams that is not an array', '{"streams":{}}', '"streams" must be an array, got object'],
    ['a stream that is not an object', '{"streams":[1]}', 'streams[0] must be an object, got number'],
    ['values that is not an array', '{"streams":[{"stream":{"a":"b"},"values":{}}]}', 'streams[0].values must be an array of ["<unix epoch in nanoseconds>", "<log line>"] or ["<ns>", "<log line>", {<structured metadata>}], got object'],
    ['a trailing comma in values', '{"streams":[{"stream":{"a":"b"},"values":[["1","x"],]}]}', 'streams[0].values[1] must be an array ["<unix epoch in nanoseconds>", "<log line>"] or ["<ns>", "<log line>", {<structured metadata>}], got invalid JSON at offset 52'],
  ])('rejects %s with a 400', (_name, body, message) => {
    expect(errorOf(body)).toBe(message);
  });

  it('rejects absurd nesting in unknown fields instead of overflowing the stack', () => {
    expect(errorOf('{"x":' + '['.repeat(100_000) + ']'.repeat(100_000) + ',"streams":[]}')).toBe(
      'invalid JSON in push request: nesting deeper than 512 levels',
    );
  });
});

describe('decodePushJson (legacy /api/prom/push)', () => {
  it('decodes labels strings and RFC3339Nano timestamps exactly', () => {
    const req = decodePushJson(
      JSON.stringify({
        streams: [
          {
            labels: '{app="api"}',
            entries: [
              { ts: '2023-01-01T00:00:00.123456789Z', line: 'a' },
              { line: 'b', ts: '2023-01-01T01:00:00+01:00' },
              { ts: '1969-12-31T23:59:59.999999999Z', line: 'c', extra: 1 },
              { TS: '2262-04-11T23:47:16.854775807Z', Line: 'max' },
              { ts: '1677-09-21T00:12:43.145224192Z', line: 'min' },
            ],
          },
        ],
      }),
    );
    expect(plain(req)).toEqual([
      {
        labels: '{app="api"}',
        entries: [
          { ts: '1672531200123456789', line: 'a', metadata: undefined },
          { ts: '1672531200000000000', line: 'b', metadata: undefined },
          { ts: '-1', line: 'c', metadata: undefined },
          { ts: '9223372036854775807', line: 'max', metadata: undefined },
          { ts: '-9223372036854775808', line: 'min', metadata: undefined },
        ],
      },
    ]);
  });

  it.each([
    ['a missing ts', '{"line":"x"}', 'streams[0].entries[0]: ts is missing'],
    ['a missing line', '{"ts":"2023-01-01T00:00:00Z"}', 'streams[0].entries[0]: line is missing'],
    ['a number ts', '{"ts":1,"line":"x"}', 'streams[0].entries[0]: ts must be an RFC3339 string like "2023-01-01T00:00:00.123456789Z", got number'],
    ['ns digits as ts', '{"ts":"1700000000000000000","line":"x"}', 'streams[0].entries[0]: cannot parse "1700000000000000000" as RFC3339 (e.g. "2023-01-01T00:00:00.123456789Z"): bad format'],
    ['an entry that is not an object', '["1","x"]', 'streams[0].entries[0] must be an object {"ts": "<RFC3339Nano>", "line": "<log line>"}, got array'],
  ])('rejects %s', (_name, entry, message) => {
    expect(errorOf(`{"streams":[{"labels":"{a=\\"b\\"}","entries":[${entry}]}]}`)).toBe(message);
  });
});

describe('parseRfc3339Nano', () => {
  it.each([
    ['1970-01-01T00:00:00Z', 0n],
    ['1970-01-01T00:00:00.000000001Z', 1n],
    ['1970-01-01t00:00:00.5z', 500_000_000n],
    ['2000-02-29T12:00:00-05:30', 951_845_400_000_000_000n],
    ['2024-12-31T23:59:59.999999999+00:00', 1_735_689_599_999_999_999n],
  ])('parses %s', (s, want) => {
    expect(parseRfc3339Nano(s)).toBe(want);
  });

  it.each([
    ['2023-02-29T00:00:00Z', 'day out of range'],
    ['2023-13-01T00:00:00Z', 'month out of range'],
    ['2023-01-01T24:00:00Z', 'hour out of range'],
    ['2023-01-01T00:60:00Z', 'minute out of range'],
    ['2023-01-01T00:00:60Z', 'second out of range'],
    ['2023-01-01T00:00:00+24:00', 'time zone offset out of range'],
    ['2023-01-01T00:00:00', 'bad format'],
    ['2023-01-01 00:00:00Z', 'bad format'],
    ['2023-01-01T00:00:00.1234567890Z', 'bad format'],
    ['2263-01-01T00:00:00Z', 'out of the range of nanosecond timestamps (1678-2262)'],
  ])('rejects %s: %s', (s, why) => {
    expect(() => parseRfc3339Nano(s)).toThrow(`cannot parse ${JSON.stringify(s)} as RFC3339 (e.g. "2023-01-01T00:00:00.123456789Z"): ${why}`);
  });
});

// --- randomized comparison with a JSON.parse-based reference ----------------------------------------------------

function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
}

const ALPHABET = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\t', '\x00', '\x1f', '\x7f', 'é', '€', '😀', '\ud800', '\udfff', '{', '}', '=', ','];

/** A JSON string literal for `s`, choosing randomly between raw characters and (all kinds of) escapes. */
function serialize(s: string, r: (n: number) => number): string {
  let out = '"';
  for (const ch of s.split('')) {
    const c = ch.charCodeAt(0);
    const u = '\\u' + c.toString(16).padStart(4, '0');
    if (ch === '"') out += r(2) ? '\\"' : '\\u0022';
    else if (ch === '\\') out += r(2) ? '\\\\' : '\\u005C';
    else if (ch === '\n') out += r(2) ? '\\n' : u;
    else if (ch === '\t') out += r(2) ? '\\t' : u;
    else if (ch === '/') out += r(2) ? '\\/' : '/';
    else if (c < 0x20 || (c >= 0xd800 && c < 0xe000)) out += u; // control chars and surrogate halves must be escaped
    else out += r(5) === 0 ? u : ch;
  }
  return out + '"';
}

function randomString(r: (n: number) => number, max: number): string {
  const n = r(8) === 0 ? r(max * 20) : r(max);
  let s = '';
  for (let i = 0; i < n; i++) s += r(3) === 0 ? ALPHABET[r(ALPHABET.length)]! : String.fromCharCode(0x61 + r(26));
  return s;
}

const ws = (r: (n: number) => number): string => [' ', '', '', '\n', '\t ', '\r\n'][r(6)]!;

/** A random valid v1 document and what a JSON.parse-based decoder makes of it. */
function randomDocument(r: (n: number) => number): { text: string; want: unknown } {
  const streams: string[] = [];
  const want: unknown[] = [];
  for (let i = r(4); i > 0; i--) {
    const labels: [string, string][] = [];
    const labelText: string[] = [];
    for (let k = r(4); k > 0; k--) {
      const name = `l${r(5)}`;
      const value = randomString(r, 8);
      labelText.push(`${ws(r)}${serialize(name, r)}${ws(r)}:${ws(r)}${serialize(value, r)}`);
      const existing = labels.find((l) => l[0] === name);
      if (existing) existing[1] = value;
      else labels.push([name, value]);
    }
    labels.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const values: string[] = [];
    const entries: unknown[] = [];
    for (let j = r(30); j > 0; j--) {
      const ts = BigInt(r(2) ? '1700000000' : '-3') * 1_000_000_000n + BigInt(r(1_000_000_000)) * (r(10) === 0 ? -1n : 1n);
      const line = randomString(r, 120);
      const md: LabelPair[] = [];
      for (let k = r(3) === 0 ? r(3) : 0; k > 0; k--) md.push([randomString(r, 5), randomString(r, 10)]);
      const mdText = md.length > 0 || r(4) === 0 ? `,${ws(r)}{${md.map(([n, v]) => `${serialize(n, r)}:${serialize(v, r)}`).join(',')}}` : '';
      values.push(`[${ws(r)}"${ts}"${ws(r)},${ws(r)}${serialize(line, r)}${mdText}${ws(r)}]`);
      entries.push({
        ts: ts.toString(),
        line: Buffer.from(line).toString('latin1'),
        metadata: md.length > 0 ? md.map(([n, v]) => [Buffer.from(n).toString(), Buffer.from(v).toString()]) : undefined,
      });
    }
    const parts = [`"stream":${ws(r)}{${labelText.join(',')}}`, `"values":${ws(r)}[${values.join(',')}]`];
    if (r(2)) parts.reverse();
    streams.push(`${ws(r)}{${parts.join(`,${ws(r)}`)}}`);
    // Lone surrogates are written as U+FFFD by both Buffer.from and the decoder.
    want.push({ labels: labelsString(labels.map(([n, v]) => [n, Buffer.from(v).toString()])), entries });
  }
  return { text: `${ws(r)}{${ws(r)}"streams"${ws(r)}:${ws(r)}[${streams.join(',')}]${ws(r)}}${ws(r)}`, want };
}

describe('decodePushJson randomized', () => {
  it('agrees with a JSON.parse-based decoder on random documents with every kind of escape', () => {
    const r = rng(7);
    for (let k = 0; k < 300; k++) {
      const { text, want } = randomDocument(r);
      expect(JSON.parse(text)).toBeDefined(); // the generator writes valid JSON
      expect(plain(decodePushJson(Buffer.from(text)))).toEqual(want);
    }
  });

  it('never crashes, hangs or accepts invalid JSON when documents are corrupted', () => {
    const r = rng(11);
    let accepted = 0;
    let rejected = 0;
    for (let k = 0; k < 1500; k++) {
      const { text } = randomDocument(r);
      const buf = Buffer.from(text);
      // Printable ASCII only: raw control characters in strings are accepted on purpose (see push-json.ts).
      for (let m = 1 + r(3); m > 0; m--) buf[r(buf.length)] = 0x20 + r(95);
      const cut = r(4) === 0 ? buf.subarray(0, r(buf.length)) : buf;
      let ok = true;
      try {
        decodePushJson(cut);
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        expect((e as EngineError).code).toBe('bad_request');
        ok = false;
      }
      if (ok) {
        accepted++;
        expect(() => JSON.parse(cut.toString())).not.toThrow();
      } else {
        rejected++;
      }
    }
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});
