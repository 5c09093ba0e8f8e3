import { BlockList, isIP } from 'node:net';
import { GoSyntaxError } from '../../util/go/errors.js';

type Family = 'ipv4' | 'ipv6';

const familyOf = (addr: string): Family | undefined => {
  const k = isIP(addr);
  return k === 4 ? 'ipv4' : k === 6 ? 'ipv6' : undefined;
};

/** Loki's error for a pattern that is neither an address, a CIDR prefix nor a range. */
const invalidPattern = (pattern: string): GoSyntaxError => new GoSyntaxError(`ip: invalid pattern: ${JSON.stringify(pattern)}`);

/**
 * LogQL's ip("…") matcher, as Loki's (pkg/logql/log/ip.go): the pattern is one address, a CIDR prefix `a/n` (host
 * bits allowed) or a range `a-b` (a ≤ b, one family), IPv4 or IPv6, with no surrounding spaces; an invalid one throws
 * Loki's `ip: invalid pattern: "…"`. Text is searched the way Loki does it, byte by byte: where an address may start
 * (a digit followed by a dot within three bytes, or a hex digit run followed by `:`, or `::` and a hex digit), the
 * longest run of address characters is parsed whole — `1.2.3.4.` or `1.2.3.4.5` is not an address — and the search
 * resumes after the run. Node's BlockList does the comparisons; a mapped address `::ffff:a.b.c.d` stays IPv6.
 */
export class IpMatcher {
  private readonly list = new BlockList();
  private readonly family: Family;

  constructor(readonly pattern: string) {
    const single = familyOf(pattern);
    if (single !== undefined) {
      this.family = single;
      this.list.addAddress(pattern, single);
      return;
    }
    const slash = pattern.indexOf('/');
    if (slash > 0) {
      const addr = pattern.slice(0, slash);
      const bits = pattern.slice(slash + 1);
      const fam = familyOf(addr);
      if (fam === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(bits) || Number(bits) > (fam === 'ipv4' ? 32 : 128)) throw invalidPattern(pattern);
      this.family = fam;
      this.list.addSubnet(addr, Number(bits), fam);
      return;
    }
    const dash = pattern.indexOf('-');
    if (dash > 0) {
      const from = pattern.slice(0, dash);
      const to = pattern.slice(dash + 1);
      const fam = familyOf(from);
      if (fam === undefined || familyOf(to) !== fam) throw invalidPattern(pattern);
      try {
        this.list.addRange(from, to, fam);
      } catch {
        // `to` before `from`.
        throw invalidPattern(pattern);
      }
      this.family = fam;
      return;
    }
    throw invalidPattern(pattern);
  }

  /** True when `addr` (a whole address) is the pattern's address, in its prefix or in its range. */
  private contains(addr: string): boolean {
    return familyOf(addr) === this.family && this.list.check(addr, this.family);
  }

  /** The ip() line filter: an address of the line matches. */
  matchesLine(line: Buffer): boolean {
    return this.search(line.length, (i) => line[i]!, (a, b) => line.toString('latin1', a, b));
  }

  /** The ip() label filter: an address in the label's value matches (searched as in a line, on its UTF-8 bytes). */
  matchesText(value: string): boolean {
    return value.length > 0 && this.matchesLine(Buffer.from(value, 'utf8'));
  }

  private search(n: number, at: (i: number) => number, text: (a: number, b: number) => string): boolean {
    for (let i = 0; i < n; i++) {
      if (i + 3 < n && ipv4Hint(at(i), at(i + 1), at(i + 2), at(i + 3))) {
        const len = span(at, i, n, IPV4_CHARS);
        if (this.contains(text(i, i + len))) return true;
        i += len;
        continue;
      }
      if (i + 4 < n && ipv6Hint(at(i), at(i + 1), at(i + 2), at(i + 3), at(i + 4))) {
        const len = span(at, i, n, IPV6_CHARS);
        if (this.contains(text(i, i + len))) return true;
        i += len;
      }
    }
    return false;
  }
}

const charTable = (chars: string): Uint8Array => {
  const t = new Uint8Array(256);
  for (const c of chars) t[c.charCodeAt(0)] = 1;
  return t;
};
const IPV4_CHARS = charTable('0123456789.');
const IPV6_CHARS = charTable('0123456789abcdefABCDEF:.');
const DIGIT = charTable('0123456789');
const HEX = charTable('0123456789abcdefABCDEF');
const DOT = 0x2e;
const COLON = 0x3a;

function span(at: (i: number) => number, start: number, n: number, chars: Uint8Array): number {
  let i = start;
  while (i < n && chars[at(i)] === 1) i++;
  return i - start;
}

function ipv4Hint(a: number, b: number, c: number, d: number): boolean {
  return DIGIT[a] === 1 && (b === DOT || c === DOT || d === DOT);
}

function ipv6Hint(a: number, b: number, c: number, d: number, e: number): boolean {
  const h = (x: number): boolean => HEX[x] === 1;
  return (
    (a === COLON && b === COLON && h(c)) ||
    (h(a) && b === COLON) ||
    (h(a) && h(b) && c === COLON) ||
    (h(a) && h(b) && h(c) && d === COLON) ||
    (h(a) && h(b) && h(c) && h(d) && e === COLON)
  );
}
