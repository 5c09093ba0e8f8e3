/**
 * Go's strconv quoting (Quote, QuoteToASCII, QuoteRune, CanBackquote): what fmt's `%q`, `%+q` and `%#q` print.
 * Loki and Prometheus print label values, query strings and error details with these, so the escapes must be Go's
 * exactly: `\a`-style C escapes, `\x` for other ASCII controls, `\u`/`\U` for non-printable runes, printable
 * Unicode left as is.
 *
 * JavaScript strings can hold a lone UTF-16 surrogate, which no Go string can. Strata stores and sends strings as
 * UTF-8, where Node encodes a lone surrogate as U+FFFD, so that is the rune quoted (printable: it appears as itself).
 */

const CH_DQUOTE = 0x22;
const CH_SQUOTE = 0x27;
const CH_BACKSLASH = 0x5c;

/** ASCII that Quote leaves alone: printable, not `"` and not `\`. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** Go's unicode.IsPrint outside ASCII: letters, marks, numbers, punctuation and symbols. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const HEX = '0123456789abcdef';

/** strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) return false;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

/** strconv.Quote, or strconv.QuoteToASCII when `asciiOnly` (what `%+q` prints). */
export function goQuote(s: string, asciiOnly = false): string {
  if (PLAIN_ASCII.test(s)) return `"${s}"`;
  return `"${quoteBody(s, CH_DQUOTE, asciiOnly)}"`;
}

/** strconv.QuoteRune (QuoteRuneToASCII when `asciiOnly`); an invalid code point quotes as U+FFFD, as in Go. */
export function quoteRune(cp: number, asciiOnly = false): string {
  if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) cp = 0xfffd;
  return `'${escapeRune(cp, CH_SQUOTE, asciiOnly) ?? String.fromCodePoint(cp)}'`;
}

/** strconv.CanBackquote: whether `s` can be written as a raw string literal (what `%#q` prints when it can). */
export function canBackquote(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 9) || c === 0x60 || c === 0x7f || c === 0xfeff) return false;
  }
  return true;
}

/**
 * The time package's own quote, in its error messages (durations, time parsing): like Quote for printable ASCII,
 * but every other rune is written as the `\x` escapes of its UTF-8 bytes.
 */
export function timeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += '\\x' + b.toString(16).padStart(2, '0');
    } else {
      out += c === 0x22 || c === 0x5c ? '\\' + ch : ch;
    }
  }
  return out + '"';
}

/** The inside of a quoted string: runs that need no escape are copied in one slice. */
function quoteBody(s: string, quote: number, asciiOnly: boolean): string {
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (cp < 0x7f && cp >= 0x20 && cp !== quote && cp !== CH_BACKSLASH) {
      i += width;
      continue;
    }
    const lone = cp >= 0xd800 && cp < 0xe000;
    const esc = lone ? (escapeRune(0xfffd, quote, asciiOnly) ?? '\ufffd') : escapeRune(cp, quote, asciiOnly);
    if (esc !== undefined) {
      out += s.slice(runStart, i) + esc;
      runStart = i + width;
    }
    i += width;
  }
  return out + s.slice(runStart);
}

/** Go's appendEscapedRune: the escape for one rune, or undefined when it prints as itself. */
function escapeRune(cp: number, quote: number, asciiOnly: boolean): string | undefined {
  if (cp === quote || cp === CH_BACKSLASH) return '\\' + String.fromCharCode(cp);
  if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) return undefined;
  switch (cp) {
    case 7:
      return '\\a';
    case 8:
      return '\\b';
    case 12:
      return '\\f';
    case 10:
      return '\\n';
    case 13:
      return '\\r';
    case 9:
      return '\\t';
    case 11:
      return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return `\\x${HEX[cp >> 4]}${HEX[cp & 15]}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}
