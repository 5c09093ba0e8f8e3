import { BlockList, isIP } from 'node:net';

/**
 * LogQL's ip("…") matcher: one address, a range `a-b`, or a CIDR `a/n`, IPv4 or IPv6 — Node's BlockList does the
 * comparisons. An invalid pattern throws; callers turn that into the query's 400.
 */
export class IpMatcher {
  private readonly list = new BlockList();
  private readonly family: 'ipv4' | 'ipv6';

  constructor(readonly pattern: string) {
    const p = pattern.trim();
    const dash = p.indexOf('-');
    const slash = p.indexOf('/');
    const fam = (a: string): 'ipv4' | 'ipv6' => {
      const k = isIP(a);
      if (k === 0) throw new Error(`invalid ip address: ${a}`);
      return k === 4 ? 'ipv4' : 'ipv6';
    };
    if (dash > 0) {
      const [a, b] = [p.slice(0, dash).trim(), p.slice(dash + 1).trim()];
      this.family = fam(a);
      if (fam(b) !== this.family) throw new Error(`invalid ip range: ${pattern}`);
      this.list.addRange(a, b, this.family);
    } else if (slash > 0) {
      const addr = p.slice(0, slash);
      const bits = Number(p.slice(slash + 1));
      this.family = fam(addr);
      if (!Number.isInteger(bits) || bits < 0 || bits > (this.family === 'ipv4' ? 32 : 128)) {
        throw new Error(`invalid ip cidr: ${pattern}`);
      }
      this.list.addSubnet(addr, bits, this.family);
    } else {
      this.family = fam(p);
      this.list.addAddress(p, this.family);
    }
  }

  matches(addr: string): boolean {
    const k = isIP(addr);
    if (k === 0 || (k === 4 ? 'ipv4' : 'ipv6') !== this.family) return false;
    return this.list.check(addr, this.family);
  }

  /** True when any IP-looking token of the line matches (the ip() line filter). */
  matchesLine(line: string): boolean {
    const re = this.family === 'ipv4' ? IPV4 : IPV6;
    re.lastIndex = 0;
    for (const m of line.matchAll(re)) if (this.matches(m[0])) return true;
    return false;
  }
}

const IPV4 = /(?:\d{1,3}\.){3}\d{1,3}/g;
const IPV6 = /[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?:\d{1,3}\.){3}\d{1,3})?/g;
