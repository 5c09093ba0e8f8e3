// A LogQL stream selector (`{namespace="prod", app=~"api|web"}`) checked the way Loki's parser checks the selector
// of a retention_stream rule, so a bad selector is refused at admission instead of breaking the engine's runtime
// overrides reload. The operator cannot import the engine's parser (separate build), so this is a small,
// self-contained parser for the selector subset only; test/operator cross-checks it against the engine's.
//
// Regular expressions are RE2 in Loki. They are checked with JavaScript's engine after translating the RE2-only
// spellings Loki users write ((?i) prefix flags, (?P<name>...), \A, \z); anything else RE2 accepts and JavaScript
// does not is rare in selectors.

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface SelectorMatcher {
  name: string;
  op: MatchOp;
  value: string;
}

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** Parses a stream selector; throws SelectorError with a message saying what is wrong and where. */
export function parseSelector(text: string): SelectorMatcher[] {
  const p = new SelectorParser(text);
  const matchers = p.parse();
  if (matchers.length === 0) throw new SelectorError('a stream selector needs at least one label matcher, e.g. {app="api"}');
  const compiled = matchers.map((m) => ({ m, matchesEmpty: matchesEmpty(m) }));
  if (compiled.every((c) => c.matchesEmpty)) {
    // Loki's rule: a selector matching the empty value everywhere would select every stream.
    throw new SelectorError(
      'queries require at least one regexp or equality matcher that does not have an empty-compatible value. ' +
        'For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    );
  }
  return matchers;
}

/** undefined when `text` is a valid stream selector, else the reason. */
export function selectorError(text: string): string | undefined {
  try {
    parseSelector(text);
    return undefined;
  } catch (e) {
    if (e instanceof SelectorError) return e.message;
    throw e;
  }
}

/** An RE2 pattern compiled as JavaScript, anchored at both ends as Loki anchors matcher regexps. */
export function compileRe2(pattern: string): RegExp {
  let body = pattern;
  let flags = 'u';
  const prefix = /^\(\?([imsU]+)\)/.exec(body);
  if (prefix) {
    for (const f of prefix[1]!) {
      if (f === 'U') throw new SelectorError(`regexp ${JSON.stringify(pattern)}: the (?U) flag is not supported`);
      if (!flags.includes(f)) flags += f;
    }
    body = body.slice(prefix[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<').replace(/\\A/g, '^').replace(/\\z/g, '$');
  try {
    return new RegExp(`^(?:${body})$`, flags);
  } catch (e) {
    throw new SelectorError(`invalid regexp ${JSON.stringify(pattern)}: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
}

function matchesEmpty(m: SelectorMatcher): boolean {
  switch (m.op) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
      return compileRe2(m.value).test('');
    case '!~':
      return !compileRe2(m.value).test('');
  }
}

class SelectorParser {
  private i = 0;

  constructor(private readonly text: string) {}

  parse(): SelectorMatcher[] {
    this.space();
    this.expect('{');
    const matchers: SelectorMatcher[] = [];
    this.space();
    if (this.peek() === '}') {
      this.i++;
    } else {
      for (;;) {
        matchers.push(this.matcher());
        this.space();
        const c = this.peek();
        if (c === ',') {
          this.i++;
          this.space();
          continue;
        }
        if (c === '}') {
          this.i++;
          break;
        }
        throw this.error(c === undefined ? 'unexpected end of selector, expecting "," or "}"' : `unexpected ${JSON.stringify(c)}, expecting "," or "}"`);
      }
    }
    this.space();
    if (this.i < this.text.length) {
      throw this.error('only a stream selector is allowed here (no line filters, parsers or other pipeline stages)');
    }
    for (const m of matchers) if (m.op === '=~' || m.op === '!~') compileRe2(m.value);
    return matchers;
  }

  private matcher(): SelectorMatcher {
    const name = this.name();
    this.space();
    const op = this.op();
    this.space();
    const value = this.string();
    return { name, op, value };
  }

  private name(): string {
    const start = this.i;
    if (!NAME_START.test(this.peek() ?? '')) {
      throw this.error(this.peek() === undefined ? 'unexpected end of selector, expecting a label name' : `unexpected ${JSON.stringify(this.peek())}, expecting a label name`);
    }
    while (NAME_CHAR.test(this.peek() ?? '')) this.i++;
    return this.text.slice(start, this.i);
  }

  private op(): MatchOp {
    const two = this.text.slice(this.i, this.i + 2);
    if (two === '!=' || two === '=~' || two === '!~') {
      this.i += 2;
      return two;
    }
    if (this.peek() === '=') {
      this.i++;
      return '=';
    }
    throw this.error('expecting one of =, !=, =~, !~');
  }

  private string(): string {
    const q = this.peek();
    if (q === '`') {
      const end = this.text.indexOf('`', this.i + 1);
      if (end < 0) throw this.error('unterminated raw string');
      const value = this.text.slice(this.i + 1, end);
      this.i = end + 1;
      return value;
    }
    if (q !== '"') throw this.error('expecting a quoted label value');
    this.i++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '\n') throw this.error('unterminated string');
      this.i++;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      out += this.escape();
    }
  }

  /** Go's escapes in interpreted string literals (strconv.Unquote), after the backslash. */
  private escape(): string {
    const c = this.peek();
    this.i++;
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };
    if (c !== undefined && c in simple) return simple[c]!;
    const hex = (len: number): string => {
      const digits = this.text.slice(this.i, this.i + len);
      if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(digits)) throw this.error(`invalid escape sequence \\${c}${digits}`);
      this.i += len;
      const cp = parseInt(digits, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw this.error(`invalid escape sequence \\${c}${digits}`);
      return c === 'x' ? String.fromCharCode(cp) : String.fromCodePoint(cp);
    };
    if (c === 'x') return hex(2);
    if (c === 'u') return hex(4);
    if (c === 'U') return hex(8);
    if (c !== undefined && c >= '0' && c <= '7') {
      const digits = c + this.text.slice(this.i, this.i + 2);
      if (!/^[0-7]{3}$/.test(digits) || parseInt(digits, 8) > 255) throw this.error(`invalid escape sequence \\${digits}`);
      this.i += 2;
      return String.fromCharCode(parseInt(digits, 8));
    }
    throw this.error(`invalid escape sequence \\${c ?? ''}`);
  }

  private space(): void {
    while (/\s/.test(this.peek() ?? '')) this.i++;
  }

  private peek(): string | undefined {
    return this.text[this.i];
  }

  private expect(c: string): void {
    if (this.peek() !== c) throw this.error(`expecting ${JSON.stringify(c)}`);
    this.i++;
  }

  private error(message: string): SelectorError {
    return new SelectorError(`parse error at col ${this.i + 1}: ${message}`);
  }
}
