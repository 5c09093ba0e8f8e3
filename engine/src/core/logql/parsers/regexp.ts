/**
 * `| regexp "<re>"`: Go RE2 syntax, at least one named group; each named group becomes a label (an unmatched
 * group gives ""). A line that does not match extracts nothing and is kept.
 */
import { compileGoRegexp, type GoRegexp } from '../../util/go/regexp.js';
import {
  CollectingTarget,
  EXTRACTED_SUFFIX,
  isValidLabelName,
  sanitizeLabelKey,
  type ParseResult,
  type ParseTarget,
} from './label-names.js';
import type { ParserHints } from './parser-hints.js';
import { asBuffer } from './utf8.js';

export class RegexpParserError extends Error {}

export class RegexpParser {
  private readonly re: RegExp;
  /** [group number, sanitized label name] for each named group. */
  private readonly groups: [number, string][];

  /** Compiles `re`; errors are Go's regexp errors or Loki's (`at least one named capture must be supplied`, …). */
  /** `hints`: a metric query's parser hints (Loki's regexp parser honours only which labels to extract). */
  constructor(
    re: string,
    private readonly hints?: ParserHints,
  ) {
    let compiled: GoRegexp;
    try {
      compiled = compileGoRegexp(re);
    } catch (e) {
      throw new RegexpParserError((e as Error).message);
    }
    if (compiled.numSubexp === 0) throw new RegexpParserError('at least one named capture must be supplied');
    const seen = new Set<string>();
    const groups: [number, string][] = [];
    compiled.names.forEach((n, i) => {
      if (n === '') return;
      if (!isValidLabelName(n)) throw new RegexpParserError(`invalid extracted label name '${n}'`);
      if (seen.has(n)) throw new RegexpParserError(`duplicate extracted label name '${n}'`);
      seen.add(n);
      const s = sanitizeLabelKey(n, true);
      if (s.length > 0) groups.push([i, s]);
    });
    if (seen.size === 0) throw new RegexpParserError('at least one named capture must be supplied');
    this.re = compiled.re;
    this.groups = groups;
  }

  process(line: Buffer | string, target: ParseTarget): void {
    const s = typeof line === 'string' ? line : line.toString('utf8');
    const m = this.re.exec(s);
    if (m === null) return;
    for (const [i, name] of this.groups) {
      const label = target.baseHas(name) ? name + EXTRACTED_SUFFIX : name;
      if (this.hints !== undefined && !this.hints.wants(label)) continue;
      target.set(label, m[i] ?? '');
    }
  }
}

/** Convenience form of `| regexp` for callers off the hot path. */
export function regexp(
  re: string,
  line: Buffer | string,
  existing: ReadonlySet<string> | ((name: string) => boolean) = new Set(),
): ParseResult {
  const target = new CollectingTarget(existing);
  new RegexpParser(re).process(asBuffer(line), target);
  return target.result();
}
