import { labelFormatTemplate, lineFormatTemplate, Template, TEMPLATE_FUNCTION_NAMES } from './index.js';

// 2022-06-27T18:05:24.12Z
const TS = 1656353124120000000n;
const NOW = 1700000000000000000n;

function run(tpl: string, labels: Record<string, string> = {}, line = '', ts = TS): string {
  return Template.parse(tpl, { now: () => NOW }).execute(new Map(Object.entries(labels)), line, ts);
}

function execError(tpl: string, labels: Record<string, string> = {}): string {
  try {
    run(tpl, labels);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an execution error');
}

function parseError(tpl: string): string {
  try {
    Template.parse(tpl);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a parse error');
}

describe('docs "Template functions": pipeline syntax and built-in variables', () => {
  it('chains functions with | (docs: .path | replace " " "_" | trunc 5 | upper)', () => {
    expect(run('{{ .path | replace " " "_" | trunc 5 | upper }}', { path: 'ab cd ef' })).toBe('AB_CD');
  });

  it('combines bool functions with and / or / if-else (docs examples)', () => {
    expect(run('{{ if and (contains "he" "hello") (contains "llo" "hello") }} yes {{end}}')).toBe(' yes ');
    expect(run('{{ if or (contains "he" "hello") (contains "llo" "hello") }} yes {{end}}')).toBe(' yes ');
    const t = '{{ if contains .err "ErrTimeout" }} timeout {{else if contains "he" "hello"}} yes {{else}} no {{end}}';
    expect(run(t, { err: 'no' })).toBe(' yes ');
  });

  it('.label_name reads labels; a missing label is empty (missingkey=zero)', () => {
    expect(run('{{ .path }}', { path: '/api' })).toBe('/api');
    expect(run('foo {{.foo}}buzz{{  .bar  }}', { bar: 'blop' })).toBe('foo buzzblop');
  });

  it('__line__ returns the log line (docs)', () => {
    expect(run('{{ __line__ | lower }}', {}, 'HELLO World')).toBe('hello world');
    expect(run('{{ __line__ }} bar {{ .bar }}', { bar: '2' }, '1')).toBe('1 bar 2');
  });

  it('__line__ accepts the line as bytes', () => {
    expect(Template.parse('{{ __line__ }}').execute(new Map(), Buffer.from('héllo'), 0n)).toBe('héllo');
  });

  it('__timestamp__ returns the entry time (docs)', () => {
    expect(run('{{ __timestamp__ }}')).toBe('2022-06-27 18:05:24.12 +0000 UTC');
    expect(run('{{ __timestamp__ | date "2006-01-02T15:04:05.00Z-07:00" }}')).toBe('2022-06-27T18:05:24.12Z+00:00');
    expect(run('{{ __timestamp__ | unixEpoch }}')).toBe('1656353124');
  });
});

describe('docs "Template functions": date and time', () => {
  it('date formats a time with a Go layout', () => {
    expect(run('{{ date "2006-01-02" now }}')).toBe('2023-11-14');
    expect(run('{{ date "2006-01-02" (toDate "2006-01-02" "2021-11-02") }}')).toBe('2021-11-02');
  });

  it('duration and duration_seconds convert Go durations to seconds', () => {
    expect(run('{{ .foo | duration }}', { foo: '3ms' })).toBe('0.003');
    expect(run('{{ duration_seconds .foo }}', { foo: '3m10s' })).toBe('190');
    expect(run('{{ .foo | duration }}', { foo: '1h30m' })).toBe('5400');
    expect(execError('{{ .foo | duration }}', { foo: 'abc' })).toBe(
      'template: line:1:10: executing "line" at <duration>: error calling duration: time: invalid duration "abc"',
    );
  });

  it('now returns the current time', () => {
    expect(run('{{ now }}')).toBe('2023-11-14 22:13:20 +0000 UTC');
  });

  it('toDate and toDateInZone parse with a Go layout (docs examples)', () => {
    expect(run('{{ toDate "2006-01-02" "2021-11-02" }}')).toBe('2021-11-02 00:00:00 +0000 UTC');
    expect(run('{{ toDateInZone "2006-01-02" "UTC" "2021-11-02" }}')).toBe('2021-11-02 00:00:00 +0000 UTC');
    const t = '{{ .foo | toDateInZone "2006-01-02T15:04:05.999999999Z" "UTC" | unixEpochNanos }}';
    expect(run(t, { foo: '2023-03-10T01:32:40.340485723Z' })).toBe('1678411960340485723');
    expect(run('{{ toDate "2006-01-02" "not a date" }}')).toBe('0001-01-01 00:00:00 +0000 UTC');
    expect(run('{{ toDateInZone "2006-01-02 15:04" "Europe/Paris" "2021-07-01 12:00" | unixEpoch }}')).toBe('1625133600');
  });

  it('unixEpoch, unixEpochMillis, unixEpochNanos (docs)', () => {
    const t = (f: string): string => `{{ .foo | toDateInZone "2006-01-02T15:04:05.999999999Z" "UTC" | ${f} }}`;
    const foo = { foo: '2023-03-10T01:32:40.340485723Z' };
    expect(run(t('unixEpoch'), foo)).toBe('1678411960');
    expect(run(t('unixEpochMillis'), foo)).toBe('1678411960340');
    expect(run(t('unixEpochNanos'), foo)).toBe('1678411960340485723');
    expect(run('{{ unixEpoch now }}')).toBe('1700000000');
  });

  it('the docs query comparing unixEpoch of now and toDate', () => {
    const t = '{{ sub (unixEpoch (toDate "2006-01-02" "2021-11-02")) (unixEpoch (toDate "2006-01-02" "2021-11-01")) }}';
    expect(run(t)).toBe('86400');
  });

  it('unixToTime accepts days, seconds, milliseconds, microseconds and nanoseconds (docs)', () => {
    expect(run('from="{{date "2006-01-02" (unixToTime .from)}}"', { from: '1679577215' })).toBe('from="2023-03-23"');
    const f = '{{ unixToTime .v | unixEpochNanos }}';
    expect(run(f, { v: '19503' })).toBe('1685059200000000000');
    expect(run(f, { v: '1257894000000' })).toBe('1257894000000000000');
    expect(run(f, { v: '1673798889902000' })).toBe('1673798889902000000');
    expect(run(f, { v: '1000000000000000000' })).toBe('1000000000000000000');
    expect(execError('{{ unixToTime .v }}', { v: 'abc' })).toContain(
      `error calling unixToTime: unable to parse time 'abc': strconv.ParseInt: parsing "abc": invalid syntax`,
    );
  });
});

describe('docs "Template functions": string manipulation', () => {
  it.each([
    ['{{ alignLeft 5 "hello world"}}', 'hello'],
    ['{{ alignLeft 5 "hi"}}', 'hi   '],
    ['{{ alignRight 5 "hello world"}}', 'world'],
    ['{{ alignRight 5 "hi"}}', '   hi'],
    ['{{ default "-" "" }}', '-'],
    ['{{ default "-" "foo" }}', 'foo'],
    ['{{ lower  "HELLO"}}', 'hello'],
    ['{{ repeat 3 "hello" }}', 'hellohellohello'],
    ['{{ replace "hello" "world" "hello world" }}', 'world world'],
    ['{{ substr 0 5 "hello world"}}', 'hello'],
    ['{{ substr 6 11 "hello world"}}', 'world'],
    ['{{ title "hello world"}}', 'Hello World'],
    ['{{ trim "   hello    " }}', 'hello'],
    ['{{ trimAll "$" "$5.00" }}', '5.00'],
    ['{{ trimPrefix "-" "-hello" }}', 'hello'],
    ['{{ trimSuffix "-" "hello-" }}', 'hello'],
    ['{{ trunc 5 "hello world"}}', 'hello'],
    ['{{ trunc -5 "hello world"}}', 'world'],
    ['{{ upper  "hello"}}', 'HELLO'],
    ['{{ printf "The IP address was %s" "129.168.1.1" }}', 'The IP address was 129.168.1.1'],
  ])('%s → %j', (tpl, want) => {
    expect(run(tpl)).toBe(want);
  });

  it('b64enc / b64dec round-trip; an invalid input decodes to Go\'s error text', () => {
    expect(run('{{ .foo | b64enc }}', { foo: 'i am a string' })).toBe('aSBhbSBhIHN0cmluZw==');
    expect(run('{{ b64dec .foo }}', { foo: 'aSBhbSBhIHN0cmluZw==' })).toBe('i am a string');
    expect(run('{{ b64dec "aGVsbG8" }}')).toBe('illegal base64 data at input byte 4');
    expect(run('{{ b64dec "a$==" }}')).toBe('illegal base64 data at input byte 1');
  });

  it('bytes converts humanized sizes (go-humanize)', () => {
    expect(run('{{ .foo | bytes }}', { foo: '3 kB' })).toBe('3000');
    expect(run('{{ bytes .foo }}', { foo: '3MB' })).toBe('3e+06');
    expect(run('{{ bytes .foo }}', { foo: '1.5 KiB' })).toBe('1536');
    expect(execError('{{ bytes .foo }}', { foo: '3 XB' })).toContain('error calling bytes: unhandled size name: xb');
  });

  it('fromJson decodes into maps and lists (docs); invalid JSON gives no value', () => {
    expect(run('{{fromJson "{\\"foo\\": 55}"}}')).toBe('map[foo:55]');
    const t = '{{ range $q := fromJson .queries }} {{ $q.query }} {{ end }}';
    expect(run(t, { queries: '[{"query":"sum(rate(a[1m]))"},{"query":"b"}]' })).toBe(' sum(rate(a[1m]))  b ');
    expect(run('{{ fromJson "nope" }}')).toBe('<no value>');
  });

  it('indent and nindent indent every line', () => {
    expect(run('{{ indent 4 .query }}', { query: 'a\nb' })).toBe('    a\n    b');
    expect(run('{{ nindent 4 .query }}', { query: 'a\nb' })).toBe('\n    a\n    b');
  });

  it('printf with widths and precisions (docs example)', () => {
    const t = '{{ printf "%-40.40s" .request_uri}} {{printf "%-5.5s" .request_method}}';
    expect(run(t, { request_uri: '/a/509965767/alternative-to-my-mtg.html', request_method: 'GET' })).toBe(
      '/a/509965767/alternative-to-my-mtg.html  GET  ',
    );
    expect(run('"|" {{printf "%15.15s" .ClientHost}} "|"', { ClientHost: 'host.example.com.au' })).toBe('"|" host.example.co "|"');
  });

  it('replace, trimPrefix and trimSuffix in pipelines (docs)', () => {
    expect(run('{{ .cluster | replace "-cluster" "" }}', { cluster: 'prod-cluster' })).toBe('prod');
    expect(run('{{ .path | trimPrefix "/" }}', { path: '/api' })).toBe('api');
    expect(run('{{ .path | trimSuffix "/" }}', { path: 'api/' })).toBe('api');
    expect(run('{{ .path | trimAll "/" }}', { path: '//api//' })).toBe('api');
  });

  it('upper and lower use simple case mappings like Go', () => {
    expect(run('{{ upper "straße" }} {{ lower "ÀÉ" }} {{ lower "İ" }}')).toBe('STRAßE àé i');
  });

  it('substr and trunc work on characters, not bytes', () => {
    expect(run('{{ substr 1 3 "héllo" }}')).toBe('él');
    expect(run('{{ trunc 2 "héllo" }}')).toBe('hé');
    expect(run('{{ substr 3 1 "hello" }}')).toBe('');
    expect(run('{{ substr -1 2 "hello" }}')).toBe('he');
  });

  it('urlencode and urldecode (docs)', () => {
    expect(run('{{ .request_url | urlencode }}', { request_url: '/x?a=b c&d=é' })).toBe('%2Fx%3Fa%3Db+c%26d%3D%C3%A9');
    expect(run('{{ urldecode .request_url }}', { request_url: '%2Fx%3Fa%3Db+c%26d%3D%C3%A9' })).toBe('/x?a=b c&d=é');
    expect(execError('{{ urldecode "%zz" }}')).toContain('error calling urldecode: invalid URL escape "%zz"');
  });

  it('keeps the deprecated Go functions Loki still offers', () => {
    expect(run('{{ .foo | ToUpper }}', { foo: 'blip' })).toBe('BLIP');
    expect(run('{{ ToLower "AbC" }}')).toBe('abc');
    expect(run('{{ Replace .bar "blop" "bar" -1 }}', { bar: 'blop' })).toBe('bar');
    expect(run('{{ Replace "aaa" "a" "b" 2 }}')).toBe('bba');
    expect(run('{{ Trim "xxhixx" "x" }}|{{ TrimLeft "xxhi" "x" }}|{{ TrimRight "hixx" "x" }}')).toBe('hi|hi|hi');
    expect(run('{{ TrimPrefix "/a" "/" }}|{{ TrimSuffix "a/" "/" }}|{{ TrimSpace "  a " }}')).toBe('a|a|a');
  });
});

describe('docs "Template functions": logical functions', () => {
  it('contains, eq, hasPrefix and hasSuffix (docs examples)', () => {
    expect(run('{{ if contains "ErrTimeout" .err }} timeout {{end}}', { err: 'got ErrTimeout' })).toBe(' timeout ');
    expect(run('{{ if eq "ErrTimeout" .err }} timeout {{end}}', { err: 'ErrTimeout' })).toBe(' timeout ');
    expect(run('{{ if eq "hello" "hello" }} yes {{end}}')).toBe(' yes ');
    expect(run('{{ if hasPrefix "he" "hello" }} yes {{end}}')).toBe(' yes ');
    expect(run('{{ if .foo | hasSuffix "Ip" }}yes{{end}}-{{ if .foo | hasSuffix "pw"}}no{{end}}', { foo: 'BLIp' })).toBe('yes-');
    // The docs' `hasSuffix .err "Timeout"` passes the label as the suffix: it asks whether "Timeout" ends with it.
    expect(run('{{ if hasSuffix .err "Timeout" }} timeout {{end}}', { err: 'out' })).toBe(' timeout ');
    expect(run('{{ if hasSuffix .err "Timeout" }} timeout {{end}}', { err: 'ErrTimeout' })).toBe('');
  });
});

describe('docs "Template functions": mathematical functions', () => {
  it.each([
    ['{{ add 3 2 5 }}', '10'],
    ['{{ addf 3.5 2 5 }}', '10.5'],
    ['{{ ceil 123.001 }}', '124'],
    ['{{ div 10 2}}', '5'],
    ['{{ divf 10 2 4}}', '1.25'],
    ['{{ "3.5" | float64 }}', '3.5'],
    ['{{ floor 123.9999 }}', '123'],
    ['{{ "3" | int }}', '3'],
    ['{{ max 1 2 3 }}', '3'],
    ['{{ maxf 1 2.5 3 }}', '3'],
    ['{{ min 1 2 3 }}', '1'],
    ['{{ minf 1 2.5 3 }}', '1'],
    ['{{ mul 5 2 3}}', '30'],
    ['{{ mulf 5.5 2 2.5 }}', '27.5'],
    ['{{ mod 10 3}}', '1'],
    ['{{ round 123.555555 3 }}', '123.556'],
    ['{{ round 123.88571428571 5 .2 }}', '123.88572'],
    ['{{ round 123.88571428571 5 }}', '123.88571'],
    ['{{ sub 5 2 }}', '3'],
    ['{{ subf  5.5 2 1.5 }}', '2'],
  ])('%s → %s', (tpl, want) => {
    expect(run(tpl)).toBe(want);
  });

  it('converts label strings to numbers (docs: div .duration 1000)', () => {
    const t = '{{.ip}} {{.status}} {{div .duration 1000}}';
    expect(run(t, { ip: '1.1.1.1', status: '200', duration: '3000' })).toBe('1.1.1.1 200 3');
    expect(run('{{ add .foo 1 | sub .bar | mul .baz | div .bazz}}', { foo: '1', bar: '3', baz: '10', bazz: '20' })).toBe('2');
  });

  it('float arithmetic is decimal, as in sprig', () => {
    expect(run('{{ addf 1.1 2.2 }}')).toBe('3.3');
    const t = '{{ addf .foo 1.5 | subf .bar 1.5 | mulf .baz | divf .bazz }}';
    expect(run(t, { foo: '1.5', bar: '5', baz: '10.5', bazz: '20.2' })).toBe('3.8476190476190477');
  });

  it('division by zero is an execution error', () => {
    expect(execError('{{ div 1 0 }}')).toBe(
      'template: line:1:3: executing "line" at <div 1 0>: error calling div: runtime error: integer divide by zero',
    );
    expect(execError('{{ divf 1 0 }}')).toContain('error calling divf: decimal division by zero');
  });

  it('int drops the fraction of a float but not of a string', () => {
    expect(run('{{ "2.5" | float64 | int | add 10 }}')).toBe('12');
    expect(run('{{ "2.5" | int }}')).toBe('0');
    expect(run('{{ "3.00" | int }}')).toBe('3');
    expect(run('{{ "0x1F" | int }}')).toBe('31');
  });
});

describe('docs "Template functions": regular expression functions', () => {
  it('count (docs examples)', () => {
    expect(run('{{ count "a|b" "abab" }}')).toBe('4');
    expect(run('{{ count "o" "foo" }}')).toBe('2');
    expect(run('{{ __line__ | count "XYZ"}}', {}, 'XYZ and XYZ')).toBe('2');
  });

  it('regexReplaceAll expands $ references; regexReplaceAllLiteral does not (docs)', () => {
    expect(run('{{ regexReplaceAll "(a*)bc" .some_label "${1}a" }}', { some_label: 'aabc xbc' })).toBe('aaa xa');
    expect(run('{{ regexReplaceAllLiteral "(ts=)" .timestamp "timestamp=" }}', { timestamp: 'ts=1' })).toBe('timestamp=1');
    expect(run('{{ regexReplaceAllLiteral "(p)" .foo "${1}" }}', { foo: 'BLIp' })).toBe('BLI${1}');
  });

  it('uses Go regexp syntax and reports its errors', () => {
    expect(run('{{ regexReplaceAll "(?P<w>\\\\w+)@" "me@x" "$w at " }}')).toBe('me at x');
    expect(execError('{{ count "(" "x" }}')).toContain('error calling count: error parsing regexp: missing closing ): `(`');
  });
});

describe('Go text/template semantics', () => {
  it('trims spaces around {{- and -}} and drops comments', () => {
    expect(run('a  {{- .x -}}  b', { x: 'X' })).toBe('aXb');
    expect(run('a\n\t{{- /* note */ -}}\n b')).toBe('ab');
    expect(run('{{/* a comment */}}x')).toBe('x');
    expect(run('{{-3}}')).toBe('-3');
  });

  it('declares and assigns variables; $ is the data', () => {
    expect(run('{{ $x := .a }}{{ $x }}{{ $x = "z" }}{{ $x }}', { a: 'y' })).toBe('yz');
    expect(run('{{ with $x := .a }}{{ $x }}{{ $.b }}{{ end }}', { a: '1', b: '2' })).toBe('12');
  });

  it('if / else if / else, with / else, and truthiness', () => {
    const t = '{{ if eq .a "1" }}one{{ else if eq .a "2" }}two{{ else }}other{{ end }}';
    expect(run(t, { a: '1' })).toBe('one');
    expect(run(t, { a: '2' })).toBe('two');
    expect(run(t, { a: '3' })).toBe('other');
    expect(run('{{ with .a }}[{{ . }}]{{ else }}none{{ end }}', { a: 'v' })).toBe('[v]');
    expect(run('{{ with .a }}[{{ . }}]{{ else with .b }}b={{.}}{{ end }}', { b: 'w' })).toBe('b=w');
    expect(run('{{ if 0 }}t{{ else }}f{{ end }}{{ if 0.5 }}t{{ end }}{{ if not "" }}!{{ end }}')).toBe('ft!');
  });

  it('and / or return the deciding operand and short-circuit', () => {
    expect(run('{{ or .missing "fallback" }}')).toBe('fallback');
    expect(run('{{ and "a" "b" }}|{{ and "" (div 1 0) }}|{{ or "x" (div 1 0) }}')).toBe('b||x');
  });

  it('ranges over lists, maps (sorted), the labels and integers, with else, break and continue', () => {
    expect(run('{{ range $i, $e := fromJson "[\\"a\\",\\"b\\"]" }}{{ $i }}:{{ $e }} {{ end }}')).toBe('0:a 1:b ');
    expect(run('{{ range $k, $v := fromJson "{\\"b\\":2,\\"a\\":1}" }}{{ $k }}={{ $v }};{{ end }}')).toBe('a=1;b=2;');
    expect(run('{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}', { z: '1', a: '2' })).toBe('a=2;z=1;');
    expect(run('{{ range fromJson "[]" }}x{{ else }}empty{{ end }}')).toBe('empty');
    expect(run('{{ range 3 }}{{ . }}{{ end }}')).toBe('012');
    expect(run('{{ range $e := fromJson "[1,2,3,4]" }}{{ if eq $e 2.0 }}{{ continue }}{{ end }}{{ if eq $e 4.0 }}{{ break }}{{ end }}{{ $e }}{{ end }}')).toBe('13');
  });

  it('parenthesised pipelines, chained fields and literals', () => {
    expect(run('{{ (fromJson "{\\"a\\":{\\"b\\":\\"c\\"}}").a.b }}')).toBe('c');
    expect(run('{{ $m := fromJson "{\\"a\\":{\\"b\\":1}}" }}{{ $m.a.b }}')).toBe('1');
    expect(run('{{ "str" }} {{ `raw\\n` }} {{ 42 }} {{ 1.5 }} {{ 0x10 }} {{ \'a\' }} {{ true }} {{ 1e6 }}')).toBe('str raw\\n 42 1.5 16 97 true 1e+06');
  });

  it('len, index, slice, print, println, html, js, urlquery', () => {
    expect(run('{{ len "héllo" }} {{ len . }}', { a: '1', b: '2' })).toBe('6 2');
    expect(run('{{ index . "a" }}|{{ index . "zz" }}|{{ index (fromJson "[1,[2,3]]") 1 0 }}', { a: 'x' })).toBe('x||2');
    expect(run('{{ slice "abcdef" 1 3 }} {{ slice (fromJson "[1,2,3]") 1 }}')).toBe('bc [2 3]');
    expect(run('{{ print "a" 1 2 "b" }}|{{ println "a" 1 }}')).toBe('a1 2b|a 1\n');
    expect(run('{{ html "<a href=\\"x\\">" }} {{ js "it\'s" }} {{ urlquery "a b&c" }}')).toBe(
      '&lt;a href=&#34;x&#34;&gt; it\\\'s a+b%26c',
    );
  });

  it('comparisons follow Go: same basic kinds only', () => {
    expect(run('{{ eq 1 1 }} {{ eq "a" "b" "a" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }}')).toBe(
      'true true true true true true false',
    );
    expect(run('{{ eq (add 1 1) 2 }}')).toBe('true');
    expect(execError('{{ gt .duration 100 }}', { duration: '200' })).toBe(
      'template: line:1:3: executing "line" at <gt .duration 100>: error calling gt: incompatible types for comparison: string and int',
    );
    expect(execError('{{ lt true false }}')).toContain('error calling lt: invalid type for comparison');
  });

  it('prints values like fmt.Print', () => {
    expect(run('{{ 3.0 }} {{ 1e21 }} {{ 0.000012 }} {{ 123456.5 }} {{ 1234567.5 }}')).toBe('3 1e+21 1.2e-05 123456.5 1.2345675e+06');
    expect(run('{{ . }}', { b: '2', a: '1' })).toBe('map[a:1 b:2]');
    expect(run('{{ fromJson "[1,\\"a\\",null,true,{\\"k\\":[]}]" }}')).toBe('[1 a <nil> true map[k:[]]]');
  });

  it('supports define / template / block', () => {
    expect(run('{{ define "x" }}<{{ . }}>{{ end }}{{ template "x" .a }}{{ block "y" .b }}[{{ . }}]{{ end }}', { a: '1', b: '2' })).toBe(
      '<1>[2]',
    );
  });
});

describe('printf (Go fmt verbs)', () => {
  it.each([
    ['{{ printf "%s|%v|%q" "a" "b" "c" }}', 'a|b|"c"'],
    ['{{ printf "%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%b|%c|%U" 42 42 42 42 42 255 255 8 5 65 65 }}', '42|   42|42   |00042|+42|ff|FF|10|101|A|U+0041'],
    ['{{ printf "%f|%.2f|%8.3f|%e|%g|%.3g|%G" 3.14159 3.14159 3.14159 1234.5678 0.00001 1234.5678 1e-7 }}', '3.141590|3.14|   3.142|1.234568e+03|1e-05|1.23e+03|1E-07'],
    ['{{ printf "%.0f %.0f %.0f %.2f %.1f" 0.5 1.5 2.5 0.125 0.25 }}', '0 2 2 0.12 0.2'],
    ['{{ printf "%5s|%-5s|%.2s|%x|% x|%q" "ab" "ab" "abc" "hi" "hi" "a\\"b" }}', '   ab|ab   |ab|6869|68 69|"a\\"b"'],
    ['{{ printf "%t %v" true false }}', 'true false'],
    ['{{ printf "%[2]s %[1]s" "a" "b" }}', 'b a'],
    ['{{ printf "%*d|%-*d" 4 7 4 7 }}', '   7|7   '],
    ['{{ printf "100%%" }}', '100%'],
    ['{{ printf "%d" "abc" }}', '%!d(string=abc)'],
    ['{{ printf "%s %s" "a" }}', 'a %!s(MISSING)'],
    ['{{ printf "%s" "a" "b" 3 }}', 'a%!(EXTRA string=b, int=3)'],
    ['{{ printf "%z" 1 }}', '%!z(int=1)'],
    ['{{ printf "%" }}', '%!(NOVERB)'],
    ['{{ printf "%v %s" (fromJson "x") 1.5 }}', '<nil> %!s(float64=1.5)'],
    ['{{ printf "%v|%s" .missing .missing }}', '|'],
    ['{{ printf "%v" (fromJson "{\\"a\\":[1,2]}") }}', 'map[a:[1 2]]'],
    ['{{ printf "%T %T %T %T" 1 1.5 "s" (add 1 1) }}', 'int float64 string int64'],
    ['{{ printf "%6.2f%%" 99.5 }}', ' 99.50%'],
  ])('%s → %j', (tpl, want) => {
    expect(run(tpl)).toBe(want);
  });
});

describe('parse errors carry Go\'s messages', () => {
  it.each([
    ['{{ foo }}', 'template: line:1: function "foo" not defined'],
    ['{{ .x', 'template: line:1: unclosed action'],
    ['{{ if .x }}', 'template: line:1: unexpected EOF'],
    ['{{ end }}', 'template: line:1: unexpected {{end}}'],
    ['{{ else }}', 'template: line:1: unexpected {{else}}'],
    ['{{ $y }}', 'template: line:1: undefined variable "$y"'],
    ['{{ .a | "x" }}', 'template: line:1: non executable command in pipeline stage 2'],
    ['{{}}', 'template: line:1: missing value for command'],
    ['{{ if }}{{ end }}', 'template: line:1: missing value for if'],
    ['{{.foo}', "template: line:1: bad character U+007D '}'"],
    ['{{ "abc }}', 'template: line:1: unterminated quoted string'],
    ['{{/* x }}', 'template: line:1: unclosed comment'],
    ['{{/* x */ }}', 'template: line:1: comment ends before closing delimiter'],
    ['{{ (.a }}', 'template: line:1: unclosed left paren'],
    ['{{ .a) }}', 'template: line:1: unexpected right paren'],
    ['{{ break }}', 'template: line:1: {{break}} outside {{range}}'],
    ['{{ range $a, $b, $c := . }}{{ end }}', 'template: line:1: too many declarations in range'],
    ['{{ "a".b }}', 'template: line:1: unexpected . after term "\\"a\\""'],
    ['{{ 1x }}', 'template: line:1: bad number syntax: "1x"'],
    ['{{ ( ) }}', 'template: line:1: missing value for parenthesized pipeline'],
    ['{{`x`3}}', 'template: line:1: unexpected "3" in operand'],
    ['line1\n{{"x"\n"y"\n', 'template: line:4: unclosed action started at line:2'],
    ['a\n{{ foo }}', 'template: line:2: function "foo" not defined'],
    ['{{ if .a }}{{ else }}{{ else }}{{ end }}', 'template: line:1: expected end; found {{else}}'],
    ['{{ .a :x }}', 'template: line:1: expected :='],
    ['{{ # }}', 'template: line:1: unexpected "#" in command'],
  ])('%s → %s', (tpl, msg) => {
    expect(parseError(tpl)).toBe(msg);
  });

  it('wraps errors like Loki for line_format and label_format', () => {
    expect(() => lineFormatTemplate('{{ foo }}')).toThrow('invalid line template: template: line:1: function "foo" not defined');
    expect(() => labelFormatTemplate('dst', '{{ foo }}')).toThrow(
      "invalid template for label 'dst': template: label:1: function \"foo\" not defined",
    );
  });
});

describe('execution errors carry Go\'s messages (Loki: __error__=TemplateFormatErr)', () => {
  it.each([
    ['{{.foo Replace "foo"}}', 'template: line:1:2: executing "line" at <.foo>: foo is not a method but has arguments'],
    ['{{.foo | now}}', 'template: line:1:9: executing "line" at <now>: wrong number of args for now: want 0 got 1'],
    ['{{ trunc .n .s }}', 'template: line:1:9: executing "line" at <.n>: wrong type for value; expected int; got string'],
    ['{{ upper 3 }}', 'template: line:1:9: executing "line" at <3>: expected string; found 3'],
    ['{{ .foo.bar }}', 'template: line:1:7: executing "line" at <.foo.bar>: can\'t evaluate field bar in type string'],
    ['{{ range .foo }}{{ end }}', 'template: line:1:9: executing "line" at <.foo>: range can\'t iterate over blip'],
    ['{{ unixEpoch .foo }}', 'template: line:1:13: executing "line" at <.foo>: wrong type for value; expected time.Time; got string'],
    ['{{ fromJson "x" | upper }}', 'template: line:1:18: executing "line" at <upper>: invalid value; expected string'],
    ['{{ nil }}', 'template: line:1:3: executing "line" at <nil>: nil is not a command'],
    ['{{ "a" "b" }}', 'template: line:1:3: executing "line" at <"a">: can\'t give argument to non-function "a"'],
    ['x\n  {{ index .foo 9 }}', 'template: line:2:5: executing "line" at <index .foo 9>: error calling index: index out of range: 9'],
  ])('%s', (tpl, msg) => {
    expect(execError(tpl, { foo: 'blip' })).toBe(msg);
  });

  it('names the label template "label"', () => {
    const t = labelFormatTemplate('dst', '{{ .a | now }}');
    expect(() => t.execute(new Map(), '', 0n)).toThrow('template: label:1:8: executing "label" at <now>: wrong number of args for now: want 0 got 1');
  });
});

describe('compile once, execute many', () => {
  it('reports the labels a template reads and whether it uses the line', () => {
    const t = Template.parse('{{ .a }} {{ if .b.c }}{{ __line__ }}{{ end }}{{ range .d }}{{ .e }}{{ end }}');
    expect([...t.requiredLabelNames].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(t.usesLine).toBe(true);
    expect(t.usesTimestamp).toBe(false);
  });

  it('recognises {{.key}} as a simple key substitution', () => {
    expect(Template.parse('{{.message}}').simpleKey).toBe('message');
    expect(Template.parse('{{.message}} ').simpleKey).toBeUndefined();
    expect(Template.parse('{{.message}}').execute(new Map([['message', 'm']]))).toBe('m');
    expect(Template.parse('{{.missing}}').execute(new Map())).toBe('');
  });

  it('gives the same output on repeated executions with different data', () => {
    const t = Template.parse('{{ .a }}-{{ $x := .b }}{{ $x }}');
    for (let i = 0; i < 5; i++) expect(t.execute(new Map([['a', String(i)], ['b', 'x' + i]]))).toBe(`${i}-x${i}`);
  });

  it('recovers after an execution error', () => {
    const t = Template.parse('{{ div 10 .d }}');
    expect(() => t.execute(new Map([['d', '0']]))).toThrow('integer divide by zero');
    expect(t.execute(new Map([['d', '5']]))).toBe('2');
  });

  it('uses the configured local time zone for date, now and __timestamp__', () => {
    const t = Template.parse('{{ __timestamp__ | date "2006-01-02 15:04 MST" }}', { localZone: 'America/New_York' });
    expect(t.execute(new Map(), '', TS)).toBe('2022-06-27 14:05 EDT');
  });

  it('lists the functions a template can call', () => {
    for (const f of ['ToLower', 'regexReplaceAll', 'unixToTime', 'alignLeft', 'printf', 'index', '__line__', 'duration_seconds']) {
      expect(TEMPLATE_FUNCTION_NAMES).toContain(f);
    }
  });
});
