import { badRequest } from '../../errors.js';
import type { Labels } from '../../model.js';

export type MatchType = '=' | '!=' | '=~' | '!~';

/**
 * A label matcher as in Prometheus/LogQL stream selectors. Regexes are fully anchored, as Prometheus does, so
 * `app=~"api"` does not match `api-gateway`.
 */
export class LabelMatcher {
  private readonly re: RegExp | undefined;

  constructor(
    readonly type: MatchType,
    readonly name: string,
    readonly value: string,
  ) {
    if (type === '=~' || type === '!~') {
      try {
        this.re = new RegExp(`^(?:${value})$`, 'su');
      } catch (e) {
        throw badRequest(`error parsing regexp: ${(e as Error).message}`);
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

  toString(): string {
    return `${this.name}${this.type}${JSON.stringify(this.value)}`;
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
