import type { LabelPair, Labels } from '../../model.js';
import type { ParserHints, ParseTarget } from '../parsers/index.js';
import type { TemplateData } from '../template/index.js';

export const ERROR = '__error__';
export const ERROR_DETAILS = '__error_details__';

const byName = (a: LabelPair, b: LabelPair): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

function find(pairs: readonly LabelPair[] | undefined, name: string): string | undefined {
  if (pairs === undefined) return undefined;
  // An indexed loop: destructuring iteration here was measured at a third of `| json` query time.
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    if (p[0] === name) return p[1];
  }
  return undefined;
}

/** An entry's labels by category, as Loki reports them with `categorize-labels`. */
export interface CategorizedLabels {
  stream: Labels;
  structuredMetadata: Labels;
  parsed: Labels;
}

/**
 * The labels of one entry while it runs through a pipeline: the stream's labels, the entry's structured metadata,
 * and what parsers and label_format added (parsed). One builder per stream, reset per entry, so the per-line work is
 * a few map operations; the final label set is only built for entries that survive every stage.
 */
export class LabelsBuilder implements ParseTarget, TemplateData {
  private metadata: readonly LabelPair[] | undefined;
  private readonly parsed = new Map<string, string>();
  private readonly deleted = new Set<string>();
  /** Names kept by a `keep` stage (undefined: no keep stage ran). */
  private kept: Set<string> | undefined;

  /** `hints`: the pipeline's parser hints, told about every label set on the current line (Loki's RecordExtracted). */
  constructor(
    readonly base: Labels,
    private readonly hints?: ParserHints,
  ) {}

  reset(metadata: readonly LabelPair[] | undefined): void {
    this.hints?.reset();
    this.metadata = metadata;
    this.parsed.clear();
    this.deleted.clear();
    this.kept = undefined;
  }

  get(name: string): string | undefined {
    if (this.deleted.has(name) || (this.kept !== undefined && !this.kept.has(name))) return undefined;
    return this.parsed.get(name) ?? find(this.metadata, name) ?? find(this.base, name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Loki's parsers rename an extracted label that clashes with the stream's labels (or metadata) to `_extracted`. */
  baseHas(name: string): boolean {
    return find(this.base, name) !== undefined || find(this.metadata, name) !== undefined;
  }

  set(name: string, value: string): void {
    this.hints?.record(name);
    this.put(name, value);
  }

  private put(name: string, value: string): void {
    this.deleted.delete(name);
    this.kept?.add(name);
    this.parsed.set(name, value);
  }

  delete(name: string): void {
    this.parsed.delete(name);
    this.deleted.add(name);
  }

  setError(error: string, details?: string): void {
    // The first error of an entry wins, as in Loki.
    if (this.parsed.has(ERROR)) return;
    // Not recorded for parser hints: Loki's SetErr is not a label Set.
    this.put(ERROR, error);
    if (details !== undefined) this.put(ERROR_DETAILS, details);
  }

  hasError(): boolean {
    return this.get(ERROR) !== undefined;
  }

  keep(names: Set<string>): void {
    this.kept = names;
  }

  *entries(): Iterable<readonly [string, string]> {
    for (const [n, v] of this.all()) yield [n, v];
  }

  /** Every visible label, sorted by name (later categories win on a name clash). */
  all(): LabelPair[] {
    const m = new Map<string, string>();
    for (const [n, v] of this.base) m.set(n, v);
    if (this.metadata) for (const [n, v] of this.metadata) m.set(n, v);
    for (const [n, v] of this.parsed) m.set(n, v);
    const out: LabelPair[] = [];
    for (const [n, v] of m) if (this.visible(n)) out.push([n, v]);
    return out.sort(byName);
  }

  categorized(): CategorizedLabels {
    const pick = (pairs: readonly LabelPair[] | Iterable<LabelPair>): LabelPair[] =>
      [...pairs].filter(([n]) => this.visible(n)).sort(byName);
    return {
      stream: pick(this.base),
      structuredMetadata: pick(this.metadata ?? []),
      parsed: pick(this.parsed.entries() as Iterable<LabelPair>),
    };
  }

  /** True when no stage changed the entry's labels (the common case: reuse the stream's labels as they are). */
  unchanged(): boolean {
    return this.parsed.size === 0 && this.deleted.size === 0 && this.kept === undefined && this.metadata === undefined;
  }

  private visible(name: string): boolean {
    return !this.deleted.has(name) && (this.kept === undefined || this.kept.has(name));
  }
}
