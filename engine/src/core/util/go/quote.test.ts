import { canBackquote, goQuote, isPrint, quoteRune } from './quote.js';

describe('strconv.Quote', () => {
  it.each([
    ['plain', '"plain"'],
    ['', '""'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\x07\b\f\n\r\t\v', '"\\a\\b\\f\\n\\r\\t\\v"'],
    ['\x00\x1b\x1f\x7f', '"\\x00\\x1b\\x1f\\x7f"'],
    ['é☺✓😀', '"é☺✓😀"'],
    ['\u00a0\u00ad\u200b\u2028\ue000', '"\\u00a0\\u00ad\\u200b\\u2028\\ue000"'],
    ['\u{e0001}', '"\\U000e0001"'],
    ["it's", '"it\'s"'],
  ])('quotes %j like Go', (input, want) => {
    expect(goQuote(input)).toBe(want);
  });

  it('quotes a lone surrogate as the U+FFFD that Node writes for it in UTF-8 (printable, so as itself)', () => {
    // The two earlier implementations disagreed: one printed the escape `\ufffd`. Go quotes the UTF-8 bytes
    // EF BF BD (U+FFFD) as the printable rune itself; only QuoteToASCII escapes it.
    expect(goQuote('lone \ud800 surrogate')).toBe('"lone \ufffd surrogate"');
    expect(goQuote('\udc00x', true)).toBe('"\\ufffdx"');
    expect(goQuote('😀\ud83d')).toBe('"😀\ufffd"');
  });

  it('escapes everything outside printable ASCII with QuoteToASCII (%+q)', () => {
    expect(goQuote('é😀 ok', true)).toBe('"\\u00e9\\U0001f600 ok"');
    expect(goQuote('a"b\\c\n\t\u0001é\u00a0')).toBe('"a\\"b\\\\c\\n\\t\\x01é\\u00a0"');
  });
});

describe('strconv.QuoteRune', () => {
  it('quotes runes and bytes as %q does', () => {
    expect(quoteRune(0x61)).toBe("'a'");
    expect(quoteRune(0x27)).toBe("'\\''");
    expect(quoteRune(0x22)).toBe('\'"\'');
    expect(quoteRune(0x5c)).toBe("'\\\\'");
    expect(quoteRune(0x0a)).toBe("'\\n'");
    expect(quoteRune(0x00)).toBe("'\\x00'");
    expect(quoteRune(0xe9)).toBe("'é'");
    // A byte 0x80–0xa0 is a C1 control or a no-break space as a rune: not printable.
    expect(quoteRune(0x85)).toBe("'\\u0085'");
    expect(quoteRune(0xa0)).toBe("'\\u00a0'");
    expect(quoteRune(0xe9, true)).toBe("'\\u00e9'");
  });

  it('quotes an invalid code point as U+FFFD', () => {
    expect(quoteRune(0xd800)).toBe("'\ufffd'");
    expect(quoteRune(0x110000)).toBe("'\ufffd'");
    expect(quoteRune(-1)).toBe("'\ufffd'");
  });
});

describe('%#q and strconv.IsPrint', () => {
  it('allows a raw string as CanBackquote does (tabs and printable runes, no other controls, ` or BOM)', () => {
    expect(['\\q', 'a\tb', 'é\u00a0😀', 'a`b', 'a\nb', '\ufeff', '\x7f'].map(canBackquote)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  it('tells printable runes as Go does', () => {
    expect([0x20, 0x7e, 0x7f, 0x1f, 0xa0, 0xe9, 0x2028, 0xd800, 0x1f600, 0x110000].map(isPrint)).toEqual([
      true,
      true,
      false,
      false,
      false,
      true,
      false,
      false,
      true,
      false,
    ]);
  });
});
