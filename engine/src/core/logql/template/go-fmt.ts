/**
 * Go's fmt package for template values: Sprint/Sprintln/Sprintf with the verbs, flags, widths, precisions and
 * argument indexes Go supports, and its error forms (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA …)`). Numbers and
 * quotes are strconv's (util/go); what is template-specific here is the value model (values.ts) the verbs apply to.
 */
import { canBackquote, goQuote, isPrint, quoteRune } from '../../util/go/quote.js';
import { formatFloat, type FloatFormat } from '../../util/go/strconv.js';
import { timeString } from './go-time.js';
import { cmpStr, GoInt, GoTime, LabelsValue, typeName, type GoValue } from './values.js';

// --- printer ---------------------------------------------------------------------------------------------------

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

const newFlags = (): Flags => ({
  plus: false,
  minus: false,
  sharp: false,
  space: false,
  zero: false,
  plusV: false,
  sharpV: false,
  wid: 0,
  widPresent: false,
  prec: 0,
  precPresent: false,
});

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

class Printer {
  buf = '';
  f: Flags = newFlags();

  private padding(n: number): string {
    if (n <= 0) return '';
    return (this.f.zero && !this.f.minus ? '0' : ' ').repeat(n);
  }

  pad(s: string): void {
    if (!this.f.widPresent || this.f.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.f.wid - runeCount(s);
    if (this.f.minus) this.buf += s + ' '.repeat(Math.max(width, 0));
    else this.buf += this.padding(width) + s;
  }

  private truncate(s: string): string {
    if (!this.f.precPresent) return s;
    let n = this.f.prec;
    let i = 0;
    while (i < s.length && n > 0) {
      const c = s.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
      n--;
    }
    return s.slice(0, i);
  }

  badVerb(verb: string, v: GoValue): void {
    this.buf += '%!' + verb + '(';
    if (v === undefined || v === null) this.buf += '<nil>';
    else {
      this.buf += typeName(v) + '=';
      const saved = this.f;
      this.f = newFlags();
      this.printArg(v, 'v');
      this.f = saved;
    }
    this.buf += ')';
  }

  fmtInteger(v: bigint, unsigned: boolean, verb: string, value: GoValue): void {
    const f = this.f;
    switch (verb) {
      case 'v':
      case 'd':
        return this.integer(v, 10, verb, false);
      case 'b':
        return this.integer(v, 2, verb, false);
      case 'o':
      case 'O':
        return this.integer(v, 8, verb, false);
      case 'x':
        return this.integer(v, 16, verb, false);
      case 'X':
        return this.integer(v, 16, verb, true);
      case 'c':
        return this.pad(this.truncate(String.fromCodePoint(validRune(v))));
      case 'q':
        return this.pad(quoteRune(Number(v), f.plus));
      case 'U': {
        let s = 'U+' + (v < 0n ? BigInt.asUintN(64, v) : v).toString(16).toUpperCase().padStart(4, '0');
        if (f.sharp && isPrint(Number(v))) s += " '" + String.fromCodePoint(Number(v)) + "'";
        const saved = f.zero;
        f.zero = false;
        this.pad(s);
        f.zero = saved;
        return;
      }
    }
    void unsigned;
    this.badVerb(verb, value);
  }

  private integer(v: bigint, base: number, verb: string, upper: boolean): void {
    const f = this.f;
    const negative = v < 0n;
    const u = negative ? -v : v;
    let prec = 0;
    if (f.precPresent) {
      prec = f.prec;
      if (prec === 0 && u === 0n) {
        const z = f.zero;
        f.zero = false;
        this.buf += this.padding(f.wid);
        f.zero = z;
        return;
      }
    } else if (f.zero && !f.minus && f.widPresent) {
      prec = f.wid;
      if (negative || f.plus || f.space) prec--;
    }
    let digits = u.toString(base);
    if (upper) digits = digits.toUpperCase();
    if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
    if (f.sharp) {
      if (base === 2) digits = '0b' + digits;
      else if (base === 8 && digits[0] !== '0') digits = '0' + digits;
      else if (base === 16) digits = (upper ? '0X' : '0x') + digits;
    }
    if (verb === 'O') digits = '0o' + digits;
    if (negative) digits = '-' + digits;
    else if (f.plus) digits = '+' + digits;
    else if (f.space) digits = ' ' + digits;
    const z = f.zero;
    f.zero = false;
    this.pad(digits);
    f.zero = z;
  }

  fmtFloat(x: number, verb: string): void {
    const f = this.f;
    let fmt: FloatFormat;
    let prec: number;
    switch (verb) {
      case 'v':
        fmt = 'g';
        prec = -1;
        break;
      case 'g':
      case 'G':
        fmt = verb;
        prec = -1;
        break;
      case 'e':
      case 'E':
      case 'f':
      case 'F':
        fmt = verb;
        prec = 6;
        break;
      default:
        return this.badVerb(verb, x);
    }
    if (f.precPresent) prec = f.prec;
    let num = formatFloat(x, fmt, prec);
    if (num[0] !== '-' && num[0] !== '+') num = '+' + num;
    if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const z = f.zero;
      f.zero = false;
      if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
      this.pad(num);
      f.zero = z;
      return;
    }
    if (f.plus || num[0] !== '+') {
      if (f.zero && !f.minus && f.widPresent && f.wid > num.length) {
        this.buf += num[0] + '0'.repeat(f.wid - num.length) + num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  fmtString(s: string, verb: string): void {
    const f = this.f;
    switch (verb) {
      case 'v':
        if (f.sharpV) return this.pad(goQuote(s));
        return this.pad(this.truncate(s));
      case 's':
        return this.pad(this.truncate(s));
      case 'x':
      case 'X':
        return this.fmtSx(s, verb === 'X');
      case 'q': {
        const t = this.truncate(s);
        if (f.sharp && canBackquote(t)) return this.pad('`' + t + '`');
        return this.pad(goQuote(t, f.plus));
      }
    }
    this.badVerb(verb, s);
  }

  private fmtSx(s: string, upper: boolean): void {
    const f = this.f;
    let bytes = Buffer.from(s, 'utf8');
    if (f.precPresent && f.prec < bytes.length) bytes = bytes.subarray(0, f.prec);
    let out = '';
    for (let i = 0; i < bytes.length; i++) {
      if (f.space && i > 0) out += ' ';
      if (f.sharp && (f.space || i === 0)) out += upper ? '0X' : '0x';
      const h = bytes[i]!.toString(16).padStart(2, '0');
      out += upper ? h.toUpperCase() : h;
    }
    this.pad(out);
  }

  printArg(v: GoValue, verb: string): void {
    if (v === undefined || v === null) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb, v);
      return;
    }
    if (verb === 'T') {
      this.pad(typeName(v));
      return;
    }
    if (verb === 'p') {
      this.badVerb(verb, v);
      return;
    }
    this.printValue(v, verb, 0);
  }

  printValue(v: GoValue, verb: string, depth: number): void {
    if (v === undefined || v === null) {
      // A nil interface element prints as <nil> whatever the verb.
      this.pad('<nil>');
      return;
    }
    switch (typeof v) {
      case 'string':
        return this.fmtString(v, verb);
      case 'boolean':
        if (verb === 't' || verb === 'v') return this.pad(v ? 'true' : 'false');
        return this.badVerb(verb, v);
      case 'number':
        return this.fmtFloat(v, verb);
    }
    if (v instanceof GoInt) return this.fmtInteger(v.v, v.type === 'uint8', verb, v);
    if (v instanceof GoTime) {
      // time.Time is a fmt.Stringer.
      if (verb === 'v' || verb === 's' || verb === 'x' || verb === 'X' || verb === 'q') return this.fmtString(timeString(v), verb);
      return this.badVerb(verb, v);
    }
    if (Array.isArray(v)) {
      this.buf += '[';
      v.forEach((e, i) => {
        if (i > 0) this.buf += ' ';
        this.printValue(e, verb, depth + 1);
      });
      this.buf += ']';
      return;
    }
    const entries: [string, GoValue][] =
      v instanceof LabelsValue ? v.sortedEntries() : [...v.entries()].sort((a, b) => cmpStr(a[0], b[0]));
    this.buf += 'map[';
    entries.forEach(([k, x], i) => {
      if (i > 0) this.buf += ' ';
      this.printValue(k, verb, depth + 1);
      this.buf += ':';
      this.printValue(x, verb, depth + 1);
    });
    this.buf += ']';
  }
}

function validRune(v: bigint): number {
  if (v < 0n || v > 0x10ffffn) return 0xfffd;
  const n = Number(v);
  return n >= 0xd800 && n <= 0xdfff ? 0xfffd : n;
}

/** fmt.Sprint of one value (%v), what a template action prints. */
export function formatValue(v: GoValue): string {
  if (typeof v === 'string') return v;
  const p = new Printer();
  p.printArg(v, 'v');
  return p.buf;
}

function isStringArg(v: GoValue): boolean {
  return typeof v === 'string';
}

/** fmt.Sprint: operands separated by a space when neither side is a string. */
export function sprint(args: readonly GoValue[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((a, i) => {
    const isStr = isStringArg(a);
    if (i > 0 && !isStr && !prevString) p.buf += ' ';
    p.printArg(a, 'v');
    prevString = isStr;
  });
  return p.buf;
}

/** fmt.Sprintln: operands always separated by a space, then a newline. */
export function sprintln(args: readonly GoValue[]): string {
  const p = new Printer();
  args.forEach((a, i) => {
    if (i > 0) p.buf += ' ';
    p.printArg(a, 'v');
  });
  return p.buf + '\n';
}

function parsenum(s: string, start: number, end: number): [number, boolean, number] {
  if (start >= end) return [0, false, end];
  let num = 0;
  let isnum = false;
  let i = start;
  for (; i < end && s[i]! >= '0' && s[i]! <= '9'; i++) {
    if (num > 1e6) return [0, false, end]; // overflow: Go gives up on the whole number
    num = num * 10 + (s.charCodeAt(i) - 48);
    isnum = true;
  }
  return [num, isnum, i];
}

/** fmt.Sprintf. */
export function sprintf(format: string, a: readonly GoValue[]): string {
  const p = new Printer();
  const end = format.length;
  let argNum = 0;
  let afterIndex: boolean;
  let reordered = false;
  let goodArgNum: boolean;

  const argNumber = (i: number): [number, number, boolean] => {
    if (format.length <= i || format[i] !== '[') return [argNum, i, false];
    reordered = true;
    // parseArgNumber
    for (let j = i + 1; j < format.length; j++) {
      if (format[j] === ']') {
        const [w, ok, newi] = parsenum(format, i + 1, j);
        if (!ok || newi !== j) {
          goodArgNum = false;
          return [argNum, j + 1, true];
        }
        const idx = w - 1;
        if (idx >= 0 && idx < a.length) return [idx, j + 1, true];
        goodArgNum = false;
        return [argNum, j + 1, true];
      }
    }
    goodArgNum = false;
    return [argNum, i + 1, false];
  };

  const intFromArg = (): [number, boolean] => {
    if (argNum < a.length) {
      const v = a[argNum]!;
      argNum++;
      if (v instanceof GoInt) {
        const n = Number(v.v);
        if (n > 1e6 || n < -1e6) return [0, false];
        return [n, true];
      }
      return [0, false];
    }
    return [0, false];
  };

  let i = 0;
  formatLoop: while (i < end) {
    goodArgNum = true;
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) p.buf += format.slice(lasti, i);
    if (i >= end) break;
    i++;
    p.f = newFlags();
    const f = p.f;
    simple: for (; i < end; i++) {
      const c = format[i]!;
      switch (c) {
        case '#':
          f.sharp = true;
          break;
        case '0':
          f.zero = !f.minus; // zero padding only to the left
          break;
        case '+':
          f.plus = true;
          break;
        case '-':
          f.minus = true;
          f.zero = false;
          break;
        case ' ':
          f.space = true;
          break;
        default:
          if (c >= 'a' && c <= 'z' && argNum < a.length) {
            if (c === 'v') {
              f.sharpV = f.sharp;
              f.sharp = false;
              f.plusV = f.plus;
              f.plus = false;
            }
            p.printArg(a[argNum], c);
            argNum++;
            i++;
            continue formatLoop;
          }
          break simple;
      }
    }
    [argNum, i, afterIndex] = argNumber(i);
    if (i < end && format[i] === '*') {
      i++;
      [f.wid, f.widPresent] = intFromArg();
      if (!f.widPresent) p.buf += '%!(BADWIDTH)';
      if (f.wid < 0) {
        f.wid = -f.wid;
        f.minus = true;
        f.zero = false;
      }
      afterIndex = false;
    } else {
      [f.wid, f.widPresent, i] = parsenum(format, i, end);
      if (afterIndex && f.widPresent) goodArgNum = false;
    }
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      [argNum, i, afterIndex] = argNumber(i);
      if (i < end && format[i] === '*') {
        i++;
        [f.prec, f.precPresent] = intFromArg();
        if (f.prec < 0) {
          f.prec = 0;
          f.precPresent = false;
        }
        if (!f.precPresent) p.buf += '%!(BADPREC)';
        afterIndex = false;
      } else {
        [f.prec, f.precPresent, i] = parsenum(format, i, end);
        if (!f.precPresent) {
          f.prec = 0;
          f.precPresent = true;
        }
      }
    }
    if (!afterIndex) [argNum, i] = argNumber(i);
    if (i >= end) {
      p.buf += '%!(NOVERB)';
      break;
    }
    const cp = format.codePointAt(i)!;
    const verb = String.fromCodePoint(cp);
    i += verb.length;
    if (verb === '%') {
      p.buf += '%';
    } else if (!goodArgNum) {
      p.buf += '%!' + verb + '(BADINDEX)';
    } else if (argNum >= a.length) {
      p.buf += '%!' + verb + '(MISSING)';
    } else {
      if (verb === 'v') {
        f.sharpV = f.sharp;
        f.sharp = false;
        f.plusV = f.plus;
        f.plus = false;
      }
      p.printArg(a[argNum], verb);
      argNum++;
    }
  }
  if (!reordered && argNum < a.length) {
    p.f = newFlags();
    p.buf += '%!(EXTRA ';
    a.slice(argNum).forEach((arg, k) => {
      if (k > 0) p.buf += ', ';
      if (arg === undefined || arg === null) p.buf += '<nil>';
      else {
        p.buf += typeName(arg) + '=';
        p.printArg(arg, 'v');
      }
    });
    p.buf += ')';
  }
  return p.buf;
}
