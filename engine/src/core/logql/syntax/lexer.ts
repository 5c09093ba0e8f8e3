import { EngineError } from '../../errors.js';

export type TokenKind =
  | 'ident'
  | 'string'
  | 'number'
  | 'duration'
  | '{'
  | '}'
  | '('
  | ')'
  | '['
  | ']'
  | ','
  | '='
  | '!='
  | '=~'
  | '!~'
  | '|='
  | '|~'
  | '|>'
  | '!>'
  | '|'
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** The token's text; for strings, the unquoted value. */
  text: string;
  line: number;
  col: number;
}

/** A LogQL syntax error in Loki's form: `parse error at line L, col C: <message>`. */
export function parseError(line: number, col: number, message: string): EngineError {
  return new EngineError('bad_request', `parse error at line ${line}, col ${col}: ${message}`);
}

const OPERATORS = ['!=', '=~', '!~', '|=', '|~', '|>', '!>', '{', '}', '(', ')', '[', ']', ',', '=', '|'] as const;

/** Splits a query into tokens, tracking 1-based line and column for error messages; `#` starts a comment. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const col = (at: number): number => at - lineStart + 1;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === '`') {
      const [value, end] = readString(src, i, line, col(i));
      out.push({ kind: 'string', text: value, line, col: col(start) });
      // Raw strings may span lines.
      for (let k = i; k < end; k++) {
        if (src[k] === '\n') {
          line++;
          lineStart = k + 1;
        }
      }
      i = end;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_:.]/.test(src[i]!)) i++;
      out.push({ kind: 'ident', text: src.slice(start, i), line, col: col(start) });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+|^\d+(?:\.\d*)?(?:[eE][+-]?\d+)?/.exec(src.slice(i));
      const text = m![0];
      i += text.length;
      out.push({ kind: /[a-zµ]$/.test(text) && !/[eE]/.test(text) ? 'duration' : 'number', text, line, col: col(start) });
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw parseError(line, col(i), `syntax error: unexpected character '${c}'`);
    i += op.length;
    out.push({ kind: op, text: op, line, col: col(start) });
  }
  out.push({ kind: 'eof', text: '', line, col: col(i) });
  return out;
}

/** Reads a "…" string with Go escapes or a `…` raw string starting at `i`; returns [value, index after it]. */
function readString(src: string, i: number, line: number, col: number): [string, number] {
  const quote = src[i]!;
  let j = i + 1;
  if (quote === '`') {
    const end = src.indexOf('`', j);
    if (end < 0) throw parseError(line, col, 'literal not terminated');
    return [src.slice(j, end), end + 1];
  }
  let out = '';
  while (j < src.length) {
    const c = src[j]!;
    if (c === '"') return [out, j + 1];
    if (c === '\n') break;
    if (c !== '\\') {
      out += c;
      j++;
      continue;
    }
    const e = src[j + 1];
    j += 2;
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
      case '"':
      case "'":
        out += e;
        break;
      case 'x': {
        const hex = src.slice(j, j + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw parseError(line, col, 'invalid syntax');
        out += String.fromCharCode(parseInt(hex, 16));
        j += 2;
        break;
      }
      case 'u':
      case 'U': {
        const n = e === 'u' ? 4 : 8;
        const hex = src.slice(j, j + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw parseError(line, col, 'invalid syntax');
        out += String.fromCodePoint(parseInt(hex, 16));
        j += n;
        break;
      }
      default:
        throw parseError(line, col, 'invalid syntax');
    }
  }
  throw parseError(line, col, 'literal not terminated');
}
