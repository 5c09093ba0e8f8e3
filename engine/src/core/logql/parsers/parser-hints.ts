import { EXTRACTED_SUFFIX } from './label-names.js';

/**
 * Loki's parser hints, for metric queries only: when a query needs only a few parsed labels — the grouping of
 * `sum by (status) (rate({…} | json [5m]))`, the labels its filters, templates and unwrap read — the parsers extract
 * only those, skip nested JSON objects that cannot hold one, and stop reading a line once all of them are found; when
 * it needs none (`sum(rate({…} | json [5m]))`), most parsers do not run at all. As in Loki, a line that is malformed
 * after the point where parsing stopped (or on a parser that did not run) carries no `__error__`.
 *
 * One instance serves one pipeline (all its streams): the per-line part (which required labels were extracted) is
 * reset by the labels builder before each line, and lines are processed one at a time.
 */
export class ParserHints {
  /** Required label name → its slot in `seen`. */
  private readonly slots: Map<string, number>;
  /** Per slot, the line generation in which it was last extracted. */
  private readonly seen: Uint32Array;
  private generation = 1;
  private found = 0;
  /** Loki's `noLabels` with no required label: parsers that honour it do not run. */
  private readonly none: boolean;
  /** Parsers add `__preserve_error__="true"` to an error: the query groups or filters on `__error__`. */
  readonly preserveError: boolean;

  /** `required` empty and `noLabels`: extract nothing; `required` non-empty: extract only those. */
  private constructor(required: readonly string[], noLabels: boolean) {
    this.slots = new Map(required.map((n, i) => [n, i]));
    this.seen = new Uint32Array(required.length);
    this.none = noLabels && required.length === 0;
    this.preserveError = this.slots.has('__error__');
  }

  /**
   * The hints of a metric query's pipeline, or undefined when every label may be needed (the query has no grouping
   * or groups `without` labels, and is not one that keeps no label at all). `required` are the label names the
   * stages read, `groups` the grouping in effect at extraction, `unwrapLabel` the unwrapped label.
   */
  static of(required: readonly string[], groups: readonly string[], without: boolean, noLabels: boolean, unwrapLabel?: string): ParserHints | undefined {
    const names = new Set<string>();
    const add = (n: string): void => {
      names.add(n);
      // A name written with the clash suffix is extracted under the plain key too (the parser renames it later).
      if (n.endsWith(EXTRACTED_SUFFIX)) names.add(n.slice(0, -EXTRACTED_SUFFIX.length));
    };
    for (const n of required) add(n);
    for (const n of groups) add(n);
    if (unwrapLabel !== undefined) add(unwrapLabel);
    if (noLabels) return new ParserHints([...names], true);
    if (without || groups.length === 0) return undefined;
    return new ParserHints([...names], false);
  }

  /** Loki's ShouldExtract, without its per-line part (parsers cache the answer per key, as Loki's do). */
  wants(name: string): boolean {
    return this.slots.has(name);
  }

  /** Whether some required label starts with `prefix` (a nested JSON object worth walking). */
  wantsPrefix(prefix: string): boolean {
    for (const n of this.slots.keys()) if (n.startsWith(prefix)) return true;
    return false;
  }

  /** Loki's NoLabels: nothing is required, or everything required has been extracted from this line. */
  skip(): boolean {
    return this.none || this.allExtracted();
  }

  allExtracted(): boolean {
    return this.found === this.seen.length && this.found > 0;
  }

  /** A label was set on the current line. */
  record(name: string): void {
    const slot = this.slots.get(name);
    if (slot === undefined || this.seen[slot] === this.generation) return;
    this.seen[slot] = this.generation;
    this.found++;
  }

  /** A new line starts. */
  reset(): void {
    this.generation = (this.generation + 1) >>> 0 || 1;
    if (this.generation === 1) this.seen.fill(0);
    this.found = 0;
  }
}
