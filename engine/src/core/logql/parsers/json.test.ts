import { json, parseJsonPath, JsonParser, CollectingTarget, compileJsonExpressions } from './index.js';

const docLine = JSON.stringify({
  protocol: 'HTTP/2.0',
  servers: ['129.0.1.1', '10.2.1.3'],
  request: {
    time: '6.032',
    method: 'GET',
    host: 'foo.grafana.net',
    size: '55',
    headers: { Accept: '*/*', 'User-Agent': 'curl/7.68.0' },
  },
  response: { status: 401, size: '228', latency_seconds: '6.031' },
});

const asObj = (r: { labels: [string, string][] }): Record<string, string> => Object.fromEntries(r.labels);

describe('json parser — docs "Parser expression / JSON" without parameters', () => {
  it('flattens nested objects with _ and skips arrays (docs example)', () => {
    const r = json(docLine);
    expect(r.error).toBeUndefined();
    expect(asObj(r)).toEqual({
      protocol: 'HTTP/2.0',
      request_time: '6.032',
      request_method: 'GET',
      request_host: 'foo.grafana.net',
      request_size: '55',
      request_headers_Accept: '*/*',
      request_headers_User_Agent: 'curl/7.68.0',
      response_status: '401',
      response_size: '228',
      response_latency_seconds: '6.031',
    });
  });

  it('sanitizes keys (docs "Parser expression": {"a.b": {"c": "d"}, "e": "f"} → a_b_c, e)', () => {
    expect(asObj(json('{ "a.b": {"c": "d"}, "e": "f" }'))).toEqual({ a_b_c: 'd', e: 'f' });
  });

  it('prefixes a leading digit, keeps numbers and booleans as their JSON text, skips null', () => {
    expect(asObj(json('{"1a":1.50,"ok":true,"no":false,"n":null,"cou-nter":-2e3}'))).toEqual({
      _1a: '1.50',
      ok: 'true',
      no: 'false',
      cou_nter: '-2e3',
    });
  });

  it('adds _extracted when the stream already has the label (docs "Parser expression")', () => {
    const r = json('{"app":"foo","pod":{"app":"x"}}', undefined, new Set(['app', 'pod_app']));
    expect(asObj(r)).toEqual({ app_extracted: 'foo', pod_app_extracted: 'x' });
  });

  it('unescapes strings, including \\u escapes and surrogate pairs', () => {
    expect(asObj(json('{"foo":"foo\\\\\\"bar","u":"caf\\u00e9 \\ud83d\\ude00","t":"a\\tb"}'))).toEqual({
      foo: 'foo\\"bar',
      u: 'café 😀',
      t: 'a\tb',
    });
  });

  it('maps U+FFFD and invalid UTF-8 bytes to spaces', () => {
    expect(asObj(json('{"foo":"\ufffd"}'))).toEqual({ foo: ' ' });
    const line = Buffer.concat([Buffer.from('{"foo":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}')]);
    expect(asObj(json(line))).toEqual({ foo: 'a  b' });
  });

  it('an invalid escape gives an empty value', () => {
    expect(asObj(json('{"a":"x\\qy","b":"c"}'))).toEqual({ a: '', b: 'c' });
  });

  it('whitespace-only keys collapse into the parent prefix as Loki does', () => {
    expect(asObj(json('{" ": {"foo":"bar"}}'))).toEqual({ foo: 'bar' });
    expect(asObj(json('{"a": {" ":"bar"}}'))).toEqual({ a_: 'bar' });
  });

  it('the last of duplicate keys wins (LabelsBuilder.Set overwrites)', () => {
    expect(asObj(json('{"name":"text1","name":"duplicate"}'))).toEqual({ name: 'duplicate' });
  });

  it('ignores what follows the closing brace', () => {
    expect(asObj(json('{"a":"b"} trailing'))).toEqual({ a: 'b' });
  });
});

describe('json parser errors — docs "Parser expression": a failed parse adds __error__', () => {
  const cases: [string, string][] = [
    ['{n}', "Value looks like object, but can't find closing '}' symbol"],
    ['INFO GET / loki.net 200', "Value looks like object, but can't find closing '}' symbol"],
    ['', "Value looks like object, but can't find closing '}' symbol"],
    ['{', 'Malformed JSON error'],
    ['{"a" 1}', 'Malformed JSON error'],
    ['{"a":tru}', 'Unknown value type'],
    ['{"a":"b}', "Value is string, but can't find closing '\"' symbol"],
    ['{"a":[1,2}', "Value is array, but can't find closing ']' symbol"],
    ['{"a":1,}', "Value looks like object, but can't find closing '}' symbol"],
    ['{"a":1', "Value is array, but can't find closing ']' symbol"],
    ['{"a\\q":1}', 'Encountered an invalid escape sequence in a string'],
  ];
  it.each(cases)('%s → %s', (line, details) => {
    const r = json(line);
    expect(r.error).toBe('JSONParserErr');
    expect(r.errorDetails).toBe(details);
  });

  it('keeps the labels found before the error', () => {
    const r = json('{"a":"b", "c": {"d": x}}');
    expect(asObj(r)).toEqual({ a: 'b' });
    expect(r.errorDetails).toBe('Unknown value type');
  });

  it('accepts a space before the closing brace after a trailing comma (jsonparser quirk)', () => {
    expect(json('{"a":1, }').error).toBeUndefined();
  });
});

describe('json parser with parameters — docs "Parser expression / JSON" with parameters', () => {
  it('extracts servers[0] and request.headers["User-Agent"] (docs example)', () => {
    const r = json(docLine, [
      { name: 'first_server', expr: 'servers[0]' },
      { name: 'ua', expr: 'request.headers["User-Agent"]' },
    ]);
    expect(asObj(r)).toEqual({ first_server: '129.0.1.1', ua: 'curl/7.68.0' });
  });

  it('returns arrays and objects as their JSON text (docs example)', () => {
    const line = '{"servers": ["129.0.1.1","10.2.1.3"], "request": {"headers": {"Accept": "*/*", "User-Agent": "curl/7.68.0"}}}';
    const r = json(line, [
      { name: 'server_list', expr: 'servers' },
      { name: 'headers', expr: 'request.headers' },
    ]);
    expect(asObj(r)).toEqual({
      server_list: '["129.0.1.1","10.2.1.3"]',
      headers: '{"Accept": "*/*", "User-Agent": "curl/7.68.0"}',
    });
  });

  it('| json servers is the same as servers="servers" (docs)', () => {
    expect(asObj(json(docLine, [{ name: 'servers', expr: 'servers' }]))).toEqual({
      servers: '["129.0.1.1","10.2.1.3"]',
    });
  });

  it('null is "", booleans and numbers are their text, missing paths give ""', () => {
    const line = '{"n":null,"b":false,"x":{"y":[1,{"z":2.5}]}}';
    const r = json(line, [
      { name: 'n', expr: 'n' },
      { name: 'b', expr: 'b' },
      { name: 'z', expr: 'x.y[1].z' },
      { name: 'nope', expr: 'x.nope' },
      { name: 'idx', expr: 'x.y[9]' },
    ]);
    expect(asObj(r)).toEqual({ n: '', b: 'false', z: '2.5', nope: '', idx: '' });
  });

  it('adds _extracted on a clash, and does not create an empty label the stream already has', () => {
    const r = json('{"pod":{"uuid":"foo"}}', [{ name: 'uuid', expr: 'pod.uuid' }], new Set(['uuid']));
    expect(asObj(r)).toEqual({ uuid_extracted: 'foo' });
    const r2 = json('{}', [{ name: 'uuid', expr: 'pod.uuid' }], new Set(['uuid']));
    expect(asObj(r2)).toEqual({});
  });

  it('a line that cannot start JSON gets __error__ without details; an empty line gets nothing', () => {
    const r = json('invalid json', [{ name: 'a', expr: 'a' }]);
    expect(r).toEqual({ labels: [], error: 'JSONParserErr' });
    expect(json('', [{ name: 'a', expr: 'a' }])).toEqual({ labels: [] });
  });

  it('keeps a string holding JSON as a string', () => {
    const r = json('{"app":"{ \\"key\\": \\"value\\"}"}', [{ name: 'app', expr: 'app' }]);
    expect(asObj(r)).toEqual({ app: '{ "key": "value"}' });
  });
});

describe('JSON path expressions', () => {
  it('parses the supported forms (docs: my.field, my["field"], list[0], my.list[0]["field"])', () => {
    expect(parseJsonPath('my.field')).toEqual(['my', 'field']);
    expect(parseJsonPath('my["field"]')).toEqual(['my', 'field']);
    expect(parseJsonPath('list[0]')).toEqual(['list', 0]);
    expect(parseJsonPath('my.list[0]["field"]')).toEqual(['my', 'list', 0, 'field']);
    expect(parseJsonPath('["a b"].c')).toEqual(['a b', 'c']);
  });

  it.each([
    ['field with space', 'syntax error: unexpected FIELD'],
    ['"pod"]', 'syntax error: unexpected STRING, expecting LSB or FIELD'],
    ['["pod"', 'syntax error: unexpected $end, expecting RSB'],
    ['["pod""uuid"]', 'syntax error: unexpected STRING, expecting RSB'],
    ['pod..uuid', 'syntax error: unexpected DOT, expecting FIELD'],
  ])('rejects %s with Loki\'s message', (expr, msg) => {
    expect(() => compileJsonExpressions([{ name: 'app', expr }])).toThrow(`cannot parse expression [${expr}]: ${msg}`);
  });

  it('rejects invalid label names', () => {
    expect(() => compileJsonExpressions([{ name: 'a-b', expr: 'a' }])).toThrow("invalid extracted label name 'a-b'");
  });
});

describe('JsonParser reuse', () => {
  it('gives the same result when reused across lines with a warm key cache', () => {
    const p = new JsonParser();
    for (let i = 0; i < 3; i++) {
      const t = new CollectingTarget();
      p.process(Buffer.from(`{"a":{"b":"${i}"},"c":${i}}`), t);
      expect(t.result().labels).toEqual([
        ['a_b', String(i)],
        ['c', String(i)],
      ]);
    }
  });
});

describe('json parser agrees with JSON.parse on generated documents', () => {
  // A small deterministic PRNG so failures reproduce.
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const keys = ['a', 'b_c', 'Key', 'x.y', 'sp ace', 'é', '1st', 'k\\"q', 'u\\u00e9'];
  const strings = ['', 'plain', 'with \\"quote\\"', 'tab\\tnl\\n', 'uni é 😀', '\\ud83d\\ude00', 'back\\\\slash', '\\/'];
  const numbers = ['0', '-1', '3.25', '1e3', '-2.5E-3', '12345678901234567890'];

  function gen(depth: number): string {
    const n = 1 + rnd(4);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const k = keys[rnd(keys.length)]! + (rnd(3) === 0 ? String(i) : '');
      let v: string;
      switch (rnd(depth > 2 ? 5 : 7)) {
        case 0:
          v = `"${strings[rnd(strings.length)]}"`;
          break;
        case 1:
          v = numbers[rnd(numbers.length)]!;
          break;
        case 2:
          v = rnd(2) ? 'true' : 'false';
          break;
        case 3:
          v = 'null';
          break;
        case 4:
          v = `[1, "x", {"in": "array"}]`;
          break;
        default:
          v = gen(depth + 1);
      }
      parts.push(`${' '.repeat(rnd(2))}"${k}"${rnd(2) ? ' ' : ''}:${rnd(2) ? ' ' : ''}${v}`);
    }
    return `{${parts.join(',')}}`;
  }

  const sanitize = (k: string, top: boolean): string => {
    const t = k.trim();
    return (top && /^[0-9]/.test(t) ? '_' : '') + Array.from(t, (c) => (/^[A-Za-z0-9_]$/.test(c) ? c : '_')).join('');
  };

  function expected(text: string): Map<string, string> {
    const out = new Map<string, string>();
    // Numbers keep their text: parse with a reviver that cannot see the text, so re-scan numbers by key order.
    const walk = (obj: Record<string, unknown>, prefix: string, raw: string): void => {
      for (const [k, v] of Object.entries(obj)) {
        const name = prefix === '' ? sanitize(k, true) : `${prefix}_${sanitize(k, false)}`;
        if (typeof v === 'string') out.set(name, v);
        else if (typeof v === 'boolean') out.set(name, String(v));
        else if (typeof v === 'number') out.set(name, '#num');
        else if (v !== null && !Array.isArray(v)) walk(v as Record<string, unknown>, name, raw);
      }
    };
    walk(JSON.parse(text) as Record<string, unknown>, '', text);
    return out;
  }

  it('extracts the same labels for 300 random documents', () => {
    for (let i = 0; i < 300; i++) {
      const text = gen(0);
      const got = new Map(json(text).labels);
      const want = expected(text);
      expect(json(text).error).toBeUndefined();
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, v] of want) {
        if (v === '#num') expect(numbers).toContain(got.get(k));
        else expect(got.get(k)).toBe(v);
      }
    }
  });
});
