/**
 * Lexer of Go's text/template (Go 1.22 behaviour): text, `{{ }}` actions with `{{-`/`-}}` trim markers,
 * comment actions, and the tokens inside actions. Positions are JS string indices; error messages convert
 * them to Go's byte columns where they are shown.
 */
import { goQuote } from '../../util/go/quote.js';

export const enum I {
  Error,
  Bool,
  Char,
  CharConstant,
  Complex,
  Assign,
  Declare,
  EOF,
  Field,
  Identifier,
  LeftDelim,
  LeftParen,
  Number,
  Pipe,
  RawString,
  RightDelim,
  RightParen,
  Space,
  String,
  Text,
  Variable,
  // keywords
  Keyword,
  Block,
  Break,
  Continue,
  Dot,
  Define,
  Else,
  End,
  If,
  Nil,
  Range,
  Template,
  With,
}

export interface Item {
  typ: I;
  pos: number;
  val: string;
  line: number;
}

const KEYWORDS: Record<string, I> = {
  '.': I.Dot,
  block: I.Block,
  break: I.Break,
  continue: I.Continue,
  define: I.Define,
  else: I.Else,
  end: I.End,
  if: I.If,
  range: I.Range,
  nil: I.Nil,
  template: I.Template,
  with: I.With,
};

const LEFT = '{{';
const RIGHT = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlphaNumeric(c: string): boolean {
  return c === '_' || /[\p{L}\p{Nd}]/u.test(c);
}

function hasLeftTrimMarker(s: string, i: number): boolean {
  return s[i] === '-' && isSpace(s[i + 1]);
}

function hasRightTrimMarker(s: string, i: number): boolean {
  return isSpace(s[i]) && s[i + 1] === '-';
}

/** Go's %#U: "U+0023 '#'". */
export function goU(cp: number): string {
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  const ch = String.fromCodePoint(cp);
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch) || ch === ' ' ? `U+${hex} '${ch}'` : `U+${hex}`;
}

/** Lexes the whole template; the item list ends with EOF or with the first Error item. */
export function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let parenDepth = 0;
  let done = false;

  const lineAt = (p: number): number => {
    let n = 1;
    for (let k = 0; k < p; k++) if (input.charCodeAt(k) === 10) n++;
    return n;
  };
  const emit = (typ: I): void => {
    items.push({ typ, pos: start, val: input.slice(start, pos), line: lineAt(start) });
    start = pos;
  };
  const errorf = (msg: string): void => {
    items.push({ typ: I.Error, pos: start, val: msg, line: lineAt(start) });
    done = true;
  };
  const atRightDelim = (): [boolean, boolean] => {
    if (hasRightTrimMarker(input, pos) && input.startsWith(RIGHT, pos + 2)) return [true, true];
    if (input.startsWith(RIGHT, pos)) return [true, false];
    return [false, false];
  };
  const atTerminator = (): boolean => {
    const c = input[pos];
    if (c === undefined || isSpace(c)) return true;
    if (c === '.' || c === ',' || c === '|' || c === ':' || c === ')' || c === '(') return true;
    return input.startsWith(RIGHT, pos);
  };
  const nextRune = (): string | undefined => {
    if (pos >= input.length) return undefined;
    const cp = input.codePointAt(pos)!;
    const ch = String.fromCodePoint(cp);
    pos += ch.length;
    return ch;
  };

  const lexText = (): void => {
    const x = input.indexOf(LEFT, pos);
    if (x >= 0) {
      if (x > pos) {
        pos = x;
        let trim = 0;
        if (hasLeftTrimMarker(input, pos + LEFT.length)) {
          const s = input.slice(start, pos);
          trim = s.length - s.replace(/[ \t\r\n]+$/, '').length;
        }
        pos -= trim;
        if (pos > start) emit(I.Text);
        pos += trim;
        start = pos;
      }
      lexLeftDelim();
      return;
    }
    pos = input.length;
    if (pos > start) emit(I.Text);
    emit(I.EOF);
    done = true;
  };

  const lexLeftDelim = (): void => {
    pos += LEFT.length;
    const trimSpace = hasLeftTrimMarker(input, pos);
    const after = trimSpace ? 2 : 0;
    if (input.startsWith(LEFT_COMMENT, pos + after)) {
      pos += after;
      start = pos;
      lexComment();
      return;
    }
    emit(I.LeftDelim);
    pos += after;
    start = pos;
    parenDepth = 0;
    lexInsideAction();
  };

  const lexComment = (): void => {
    pos += LEFT_COMMENT.length;
    const x = input.indexOf(RIGHT_COMMENT, pos);
    if (x < 0) return errorf('unclosed comment');
    pos = x + RIGHT_COMMENT.length;
    const [delim, trimSpace] = atRightDelim();
    if (!delim) return errorf('comment ends before closing delimiter');
    if (trimSpace) pos += 2;
    pos += RIGHT.length;
    if (trimSpace) while (isSpace(input[pos])) pos++;
    start = pos;
  };

  const lexRightDelim = (): void => {
    const [, trimSpace] = atRightDelim();
    if (trimSpace) {
      pos += 2;
      start = pos;
    }
    pos += RIGHT.length;
    emit(I.RightDelim);
    if (trimSpace) {
      while (isSpace(input[pos])) pos++;
      start = pos;
    }
  };

  // One token inside an action; returns false when the action ended (or on error).
  const lexInsideActionOnce = (): boolean => {
    const [delim] = atRightDelim();
    if (delim) {
      if (parenDepth === 0) {
        lexRightDelim();
        return false;
      }
      errorf('unclosed left paren');
      return false;
    }
    const r = nextRune();
    if (r === undefined) {
      errorf('unclosed action');
      return false;
    }
    if (isSpace(r)) {
      pos--;
      // lexSpace
      let n = 0;
      while (isSpace(input[pos])) {
        pos++;
        n++;
      }
      if (hasRightTrimMarker(input, pos - 1) && input.startsWith(RIGHT, pos + 1)) {
        pos--;
        if (n === 1) {
          lexRightDelim();
          return false;
        }
      }
      emit(I.Space);
      return true;
    }
    switch (r) {
      case '=':
        emit(I.Assign);
        return true;
      case ':':
        if (nextRune() !== '=') {
          errorf('expected :=');
          return false;
        }
        emit(I.Declare);
        return true;
      case '|':
        emit(I.Pipe);
        return true;
      case '"':
        return lexQuote();
      case '`':
        return lexRawQuote();
      case '$':
        return lexVariable();
      case "'":
        return lexChar();
      case '(':
        parenDepth++;
        emit(I.LeftParen);
        return true;
      case ')':
        parenDepth--;
        if (parenDepth < 0) {
          errorf('unexpected right paren');
          return false;
        }
        emit(I.RightParen);
        return true;
    }
    if (r === '.') {
      const c = input[pos];
      if (c === undefined || c < '0' || c > '9') return lexFieldOrVariable(I.Field);
    }
    if (r === '.' || r === '+' || r === '-' || (r >= '0' && r <= '9')) {
      pos--;
      return lexNumber();
    }
    if (isAlphaNumeric(r)) {
      pos -= r.length;
      return lexIdentifier();
    }
    const cp = r.codePointAt(0)!;
    if (cp < 0x80 && cp >= 0x20 && cp < 0x7f) {
      emit(I.Char);
      return true;
    }
    errorf(`unrecognized character in action: ${goU(cp)}`);
    return false;
  };

  const lexInsideAction = (): void => {
    while (!done && lexInsideActionOnce());
  };

  const lexIdentifier = (): boolean => {
    for (;;) {
      const save = pos;
      const r = nextRune();
      if (r !== undefined && isAlphaNumeric(r)) continue;
      pos = save;
      const word = input.slice(start, pos);
      if (!atTerminator()) {
        errorf(`bad character ${goU(r!.codePointAt(0)!)}`);
        return false;
      }
      const kw = KEYWORDS[word];
      if (kw !== undefined && kw > I.Keyword) emit(kw);
      else if (word === 'true' || word === 'false') emit(I.Bool);
      else emit(I.Identifier);
      return true;
    }
  };

  const lexVariable = (): boolean => {
    if (atTerminator()) {
      emit(I.Variable);
      return true;
    }
    return lexFieldOrVariable(I.Variable);
  };

  const lexFieldOrVariable = (typ: I): boolean => {
    if (atTerminator()) {
      emit(typ === I.Variable ? I.Variable : I.Dot);
      return true;
    }
    let r: string | undefined;
    for (;;) {
      const save = pos;
      r = nextRune();
      if (r === undefined || !isAlphaNumeric(r)) {
        pos = save;
        break;
      }
    }
    if (!atTerminator()) {
      errorf(`bad character ${goU(r!.codePointAt(0)!)}`);
      return false;
    }
    emit(typ);
    return true;
  };

  const lexChar = (): boolean => {
    for (;;) {
      const c = nextRune();
      if (c === '\\') {
        const d = nextRune();
        if (d !== undefined && d !== '\n') continue;
        errorf('unterminated character constant');
        return false;
      }
      if (c === undefined || c === '\n') {
        errorf('unterminated character constant');
        return false;
      }
      if (c === "'") break;
    }
    emit(I.CharConstant);
    return true;
  };

  const accept = (valid: string): boolean => {
    const c = input[pos];
    if (c !== undefined && valid.includes(c)) {
      pos++;
      return true;
    }
    return false;
  };
  const acceptRun = (valid: string): void => {
    while (pos < input.length && valid.includes(input[pos]!)) pos++;
  };
  const scanNumber = (): boolean => {
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    const c = input[pos];
    if (c !== undefined && isAlphaNumeric(c)) {
      pos++;
      return false;
    }
    return true;
  };
  const lexNumber = (): boolean => {
    if (!scanNumber()) {
      errorf(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
      return false;
    }
    const sign = input[pos];
    if (sign === '+' || sign === '-') {
      if (!scanNumber() || input[pos - 1] !== 'i') {
        errorf(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
        return false;
      }
      emit(I.Complex);
    } else {
      emit(I.Number);
    }
    return true;
  };

  const lexQuote = (): boolean => {
    for (;;) {
      const c = nextRune();
      if (c === '\\') {
        const d = nextRune();
        if (d !== undefined && d !== '\n') continue;
        errorf('unterminated quoted string');
        return false;
      }
      if (c === undefined || c === '\n') {
        errorf('unterminated quoted string');
        return false;
      }
      if (c === '"') break;
    }
    emit(I.String);
    return true;
  };

  const lexRawQuote = (): boolean => {
    const x = input.indexOf('`', pos);
    if (x < 0) {
      errorf('unterminated raw quoted string');
      return false;
    }
    pos = x + 1;
    emit(I.RawString);
    return true;
  };

  while (!done) lexText();
  return items;
}
