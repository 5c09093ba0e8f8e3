import { badRequest } from '../../errors.js';
import type { Labels } from '../../model.js';
import { goQuote } from '../../util/go/quote.js';
import { GoRegexpError, translateGoRegexp } from '../../util/go/regexp.js';

export type MatchType = '=' | '!=' | '=~' | '!~';

/**
 * A label matcher as in Prometheus/LogQL stream selectors. Regexes use Go's syntax and are fully anchored with `.`
 * matching newlines, as Prometheus compiles them (`^(?s:…)$`), so `app=~"api"` does not match `api-gateway`.
 */
export class LabelMatcher {
  private readonly re: RegExp | undefined;

  /** Throws a bad_request EngineError with Go's message (`error parsing regexp: …`) for an invalid regex. */
  constructor(
    readonly type: MatchType,
    readonly name: string,
    readonly value: string,
  ) {
    if (type === '=~' || type === '!~') {
      try {
        const t = translateGoRegexp(value, { dotNL: true });
        this.re = new RegExp(`^(?:${t.source})$`, t.flags);
      } catch (e) {
        if (e instanceof GoRegexpError) throw badRequest(e.message);
        throw e;
      }
    }
  }

  matches(v: string): boolean {
    switch (this.type) {
      case '=':
        return v === this.value;
      case '!=':
        return v !== this.value;
      case '=~':
        return this.re!.test(v);
      case '!~':
        return !this.re!.test(v);
    }
  }

  /** True when a label that is absent (value "") satisfies this matcher. */
  matchesEmpty(): boolean {
    return this.matches('');
  }

  /** Prometheus' form: `name="value"` with Go quoting. */
  toString(): string {
    return `${this.name}${this.type}${goQuote(this.value)}`;
  }
}

/** True when every matcher holds for the label set (an absent label has the value ""). */
export function matchesAll(matchers: readonly LabelMatcher[], labels: Labels): boolean {
  for (const m of matchers) {
    let v = '';
    for (const [n, val] of labels) {
      if (n === m.name) {
        v = val;
        break;
      }
    }
    if (!m.matches(v)) return false;
  }
  return true;
}
