import { parseError, tokenize, type Token } from './lexer.js';

const kinds = (q: string): string[] => tokenize(q).map((t) => t.kind);
const brief = (t: Token): string => `${t.kind}@${t.line}:${t.col}`;

describe('tokenize', () => {
  it('names tokens as Loki’s parser prints them', () => {
    expect(kinds('{a="b", c!="d", e=~"f", g!~"h"}')).toEqual(
      ['{', 'IDENTIFIER', '=', 'STRING', ',', 'IDENTIFIER', '!=', 'STRING', ',', 'IDENTIFIER', '=~', 'STRING', ',', 'IDENTIFIER', '!~', 'STRING', '}', '$end'],
    );
    expect(kinds('|= |~ |> != !~ !> | == >= <= > < + - * / % ^ ( ) ] . ,')).toEqual(
      ['|=', '|~', '|>', '!=', '!~', '!>', '|', '==', '>=', '<=', '>', '<', '+', '-', '*', '/', '%', '^', '(', ')', ']', '.', ',', '$end'],
    );
  });

  it('recognizes keywords anywhere, case-insensitively', () => {
    expect(kinds('by WITHOUT Bool offset on ignoring group_left group_right or AND unless')).toEqual(
      ['by', 'without', 'bool', 'offset', 'on', 'ignoring', 'group_left', 'group_right', 'or', 'and', 'unless', '$end'],
    );
    expect(kinds('json regexp LOGFMT unpack pattern label_format line_format decolorize drop keep unwrap')).toEqual(
      ['json', 'regexp', 'logfmt', 'unpack', 'pattern', 'label_format', 'line_format', 'decolorize', 'drop', 'keep', 'unwrap', '$end'],
    );
  });

  it('recognizes function names only before `(`, possibly after by/without', () => {
    expect(kinds('rate( rate RATE ( sum by (x) ( sum without(x) sum bytes(')).toEqual(
      ['RATE', '(', 'IDENTIFIER', 'RATE', '(', 'SUM', 'by', '(', 'IDENTIFIER', ')', '(', 'SUM', 'without', '(', 'IDENTIFIER', ')', 'IDENTIFIER', 'BYTES_CONV', '(', '$end'],
    );
    expect(kinds('vector( label_replace( ip( ip duration( duration_seconds( approx_topk(')).toEqual(
      ['VECTOR', '(', 'label_replace', '(', 'ip', '(', 'IDENTIFIER', 'DURATION_CONV', '(', 'DURATION_SECONDS_CONV', '(', 'APPROX_TOPK', '(', '$end'],
    );
    expect(kinds('sum byx(')).toEqual(['IDENTIFIER', 'IDENTIFIER', '(', '$end']);
  });

  it('reads durations, byte sizes and numbers as Loki’s lexer does', () => {
    const toks = tokenize('5m 1h30m 1.5h 500ms 10us 1d 1w 1y 10KB 1.5MiB 42B 1k 10M 1 1.5 .5 1e3 5x');
    expect(toks.map((t) => [t.kind, t.text])).toEqual([
      ['DURATION', '5m'],
      ['DURATION', '1h30m'],
      ['DURATION', '1.5h'],
      ['DURATION', '500ms'],
      ['DURATION', '10us'],
      ['DURATION', '1d'],
      ['DURATION', '1w'],
      ['DURATION', '1y'],
      ['BYTES', '10KB'],
      ['BYTES', '1.5MiB'],
      ['BYTES', '42B'],
      ['BYTES', '1k'],
      ['BYTES', '10M'],
      ['NUMBER', '1'],
      ['NUMBER', '1.5'],
      ['NUMBER', '.5'],
      ['NUMBER', '1e3'],
      ['NUMBER', '5'],
      ['IDENTIFIER', 'x'],
      ['$end', ''],
    ]);
    expect(toks.slice(0, 7).map((t) => t.duration)).toEqual([300n, 5400n, 5400n, 0n, 0n, 86400n, 604800n].map((s, i) =>
      i === 3 ? 500_000_000n : i === 4 ? 10_000n : s * 1_000_000_000n,
    ));
    expect(toks.slice(8, 13).map((t) => t.bytes)).toEqual([10_000, 1_572_864, 42, 1000, 10_000_000]);
  });

  it('reads `-` as a flag, a negative duration or a minus', () => {
    expect(tokenize('--strict --keep-empty --other -5m -1 - 1').map((t) => [t.kind, t.text])).toEqual([
      ['FUNCTION_FLAG', '--strict'],
      ['FUNCTION_FLAG', '--keep-empty'],
      ['-', '-'],
      ['-', '-'],
      ['IDENTIFIER', 'other'],
      ['DURATION', '-5m'],
      ['-', '-'],
      ['NUMBER', '1'],
      ['-', '-'],
      ['NUMBER', '1'],
      ['$end', ''],
    ]);
    expect(tokenize('-5m')[0]!.duration).toBe(-300_000_000_000n);
  });

  it('reads a range whole, as a Prometheus duration', () => {
    const [r] = tokenize('[1h30m]');
    expect([r!.kind, r!.duration]).toEqual(['RANGE', 5_400_000_000_000n]);
    expect(tokenize('[ 5m ]')[0]).toMatchObject({ kind: 'ERROR', text: 'not a valid duration string: " 5m "' });
    expect(tokenize('[1.5h]')[0]).toMatchObject({ kind: 'ERROR', text: 'unknown unit "." in duration "1.5h"' });
  });

  it('unquotes strings with Go escapes; raw strings keep backslashes and newlines', () => {
    expect(tokenize('"a\\"b\\\\c\\n\\t\\a\\b\\f\\v\\r\\u263a\\U0001F600\\x41\\101"')[0]!.text).toBe(
      'a"b\\c\n\t\x07\b\f\v\r☺😀AA',
    );
    expect(tokenize('`a\\n"b\nc\rd`')[0]!.text).toBe('a\\n"b\ncd');
    expect(tokenize("'a'")[0]).toMatchObject({ kind: 'IDENTIFIER', text: "'a'" });
  });

  it('skips #, // and /* */ comments', () => {
    expect(kinds('{a="b"} # |= "c"\n| json // x\n/* y\n z */ |= "d"')).toEqual(['{', 'IDENTIFIER', '=', 'STRING', '}', '|', 'json', '|=', 'STRING', '$end']);
  });

  it('returns any other character as an IDENTIFIER', () => {
    expect(tokenize('@ ! ~ ; : \\').map((t) => [t.kind, t.text]).slice(0, 6)).toEqual(
      ['@', '!', '~', ';', ':', '\\'].map((c) => ['IDENTIFIER', c]),
    );
  });

  it('reports positions as Loki does: 1-based, per line, line 0 for tokens read ahead', () => {
    expect(tokenize('{a="b"}\n  |= "x" | y > 5s [1m] --strict').map(brief)).toEqual([
      '{@1:1',
      'IDENTIFIER@1:2',
      '=@1:3',
      'STRING@1:4',
      '}@1:7',
      '|=@0:3',
      'STRING@2:6',
      '|@2:10',
      'IDENTIFIER@2:12',
      '>@2:14',
      'DURATION@0:16',
      'RANGE@0:19',
      'FUNCTION_FLAG@0:24',
      '$end@2:32',
    ]);
    expect(tokenize('').map(brief)).toEqual(['$end@0:0']);
    expect(tokenize('é "ü" x').map(brief)).toEqual(['IDENTIFIER@1:1', 'STRING@1:3', 'IDENTIFIER@1:7', '$end@1:8']);
    expect(tokenize('`a\nbc` d').map(brief)).toEqual(['STRING@1:1', 'IDENTIFIER@2:5', '$end@2:6']);
  });

  it('stops at the first lexical error with its message and position', () => {
    const cases: Array<[string, string]> = [
      ['a "b', 'ERROR@1:3 literal not terminated'],
      ['a `b', 'ERROR@1:3 literal not terminated'],
      ['"\\q"', 'ERROR@1:1 invalid char escape'],
      ['"\\x4"', 'ERROR@1:1 invalid char escape'],
      ['"\\12"', 'ERROR@1:1 invalid char escape'],
      ['"\\400"', 'ERROR@1:1 invalid syntax'],
      ['"\\ud800"', 'ERROR@1:1 invalid syntax'],
      ['"\\400\\q"', 'ERROR@1:1 invalid char escape'],
      ["'ab'", 'ERROR@1:1 invalid char literal'],
      ['x [5m', "ERROR@0:3 missing closing ']' in duration"],
      ['[5x]', 'ERROR@0:1 unknown unit "x" in duration "5x"'],
      ['1 /* x', 'ERROR@1:3 comment not terminated'],
      ['1e+', 'ERROR@1:1 exponent has no digits'],
      ['08', "ERROR@1:1 invalid digit '8' in octal literal"],
    ];
    for (const [q, expected] of cases) {
      const last = tokenize(q).at(-1)!;
      expect(`${brief(last)} ${last.text}`).toBe(expected);
    }
    expect(kinds('09.5 010')).toEqual(['NUMBER', 'NUMBER', '$end']);
  });
});

describe('parseError', () => {
  it('formats Loki’s parse errors', () => {
    expect(parseError(1, 5, 'x').message).toBe('parse error at line 1, col 5: x');
    expect(parseError(0, 7, 'x').message).toBe('parse error at line 0, col 7: x');
    expect(parseError(0, 0, 'x').message).toBe('parse error : x');
    expect(parseError(0, 0, 'x').code).toBe('bad_request');
  });
});
