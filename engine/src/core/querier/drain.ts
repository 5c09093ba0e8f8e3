/**
 * A Drain log template miner (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth Tree", ICWS 2017),
 * the algorithm behind Loki's pattern detection. Lines are split into tokens; a fixed-depth prefix tree keyed by the
 * token count and the first tokens leads to a small set of candidate clusters; a line joins the most similar one
 * (positions that differ become the `<_>` placeholder) or starts a new cluster.
 *
 * The tokenizer keeps every byte of the line (a token remembers the separator before it), so a template prints back
 * as the original text with only the variable tokens replaced: the result can be pasted into a `|>` pattern filter.
 */

/** The placeholder of a variable token, as Loki prints it (and as LogQL's pattern filter reads it). */
export const PLACEHOLDER = '<_>';

export interface DrainOptions {
  /** Depth of the prefix tree counting the root and the token-count layer (Loki: 30): depth − 3 tokens route a line. */
  depth?: number;
  /** Minimum share of equal tokens for a line to join a cluster (Loki: 0.3). */
  similarity?: number;
  /** Children per tree node before new tokens share one wildcard branch (Loki: 15). */
  maxChildren?: number;
  /** Clusters kept; the least recently matched is evicted beyond this (Loki: 300). 0 keeps every cluster. */
  maxClusters?: number;
  /** Tokens per line; the rest of a longer line is folded into its last token. */
  maxTokens?: number;
}

/** A line split into tokens: `gaps[i]` is the text between token i − 1 and token i. */
export interface Tokens {
  texts: string[];
  gaps: string[];
}

export interface DrainCluster {
  readonly id: number;
  /** Template tokens; variable positions hold {@link PLACEHOLDER}. */
  readonly texts: string[];
  readonly gaps: string[];
  /** Lines that joined the cluster. */
  size: number;
  /** Lines per time bucket (the caller's bucket key, e.g. seconds). */
  readonly samples: Map<number, number>;
}

interface Node {
  children: Map<string, Node>;
  clusters: Cluster[];
}

interface Cluster extends DrainCluster {
  leaf: Node;
}

// A tree key no token can equal (tokens never contain NUL in practice, and it is not printable).
const WILDCARD = '\u0000*';

// Separators that become tokens of their own, so `key=value` varies only in `value` and JSON keys stay literal.
const PUNCT = new Set(['=', ',', ';', '{', '}', '[', ']', '(', ')', '"', '|']);

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
}

/**
 * Splits a line into tokens at whitespace and around punctuation. A `:` separates only next to a quote or before
 * whitespace (`"key":"v"`, `error: x`) so that times (`23:03:40`) and `file.go:66` stay whole.
 */
export function tokenize(line: string, maxTokens = 128): Tokens {
  const texts: string[] = [];
  const gaps: string[] = [];
  let gap = '';
  let cur = '';
  const flush = (): void => {
    if (cur === '') return;
    texts.push(cur);
    gaps.push(gap);
    gap = '';
    cur = '';
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (isSpace(c)) {
      flush();
      gap += c;
      continue;
    }
    const colon = c === ':' && (line[i - 1] === '"' || i + 1 === line.length || line[i + 1] === '"' || isSpace(line[i + 1]!));
    if (PUNCT.has(c) || colon) {
      flush();
      cur = c;
      flush();
      continue;
    }
    cur += c;
  }
  flush();
  if (texts.length > maxTokens) {
    // Fold the tail into the last kept token so the template still prints the whole line.
    let tail = texts[maxTokens - 1]!;
    for (let i = maxTokens; i < texts.length; i++) tail += gaps[i]! + texts[i]!;
    texts.length = maxTokens;
    gaps.length = maxTokens;
    texts[maxTokens - 1] = tail;
  }
  return { texts, gaps };
}

const hasDigit = (s: string): boolean => /\d/.test(s);

export class Drain {
  private readonly depth: number;
  private readonly similarity: number;
  private readonly maxChildren: number;
  private readonly maxClusters: number;
  private readonly maxTokens: number;
  private readonly roots = new Map<number, Node>();
  /** Live clusters, least recently matched first (Map order is insertion order; a match re-inserts). */
  private readonly live = new Map<number, Cluster>();
  private nextId = 1;

  constructor(opts: DrainOptions = {}) {
    this.depth = Math.max(3, opts.depth ?? 30);
    this.similarity = opts.similarity ?? 0.3;
    this.maxChildren = Math.max(2, opts.maxChildren ?? 15);
    this.maxClusters = opts.maxClusters ?? 300;
    this.maxTokens = Math.max(1, opts.maxTokens ?? 128);
  }

  /** Adds one line (counted `count` times in `bucket`) and returns the cluster it joined. */
  train(line: string, bucket: number, count = 1): DrainCluster {
    const tokens = tokenize(line, this.maxTokens);
    let cluster = this.search(tokens.texts);
    if (cluster === undefined) {
      cluster = {
        id: this.nextId++,
        texts: tokens.texts,
        gaps: tokens.gaps,
        size: 0,
        samples: new Map(),
        leaf: this.insert(tokens.texts),
      };
      cluster.leaf.clusters.push(cluster);
      this.live.set(cluster.id, cluster);
      this.evict();
    } else {
      const t = cluster.texts;
      for (let i = 0; i < t.length; i++) if (t[i] !== PLACEHOLDER && t[i] !== tokens.texts[i]) t[i] = PLACEHOLDER;
      this.live.delete(cluster.id);
      this.live.set(cluster.id, cluster);
    }
    cluster.size += count;
    cluster.samples.set(bucket, (cluster.samples.get(bucket) ?? 0) + count);
    return cluster;
  }

  /** The live clusters, oldest first. */
  clusters(): DrainCluster[] {
    return [...this.live.values()].sort((a, b) => a.id - b.id);
  }

  /** Number of tokens that route a line through the tree. */
  private prefixLength(n: number): number {
    return Math.max(0, Math.min(this.depth - 3, n - 1));
  }

  private search(tokens: readonly string[]): Cluster | undefined {
    let node: Node | undefined = this.roots.get(tokens.length);
    if (node === undefined) return undefined;
    const prefix = this.prefixLength(tokens.length);
    for (let i = 0; i < prefix; i++) {
      const next: Node | undefined = node.children.get(tokens[i]!) ?? node.children.get(WILDCARD);
      if (next === undefined) return undefined;
      node = next;
    }
    let best: Cluster | undefined;
    let bestSim = -1;
    let bestParams = -1;
    for (const c of node.clusters) {
      let same = 0;
      let params = 0;
      for (let i = 0; i < c.texts.length; i++) {
        const t = c.texts[i]!;
        if (t === PLACEHOLDER) params++;
        else if (t === tokens[i]) same++;
      }
      // An empty line matches the empty template exactly.
      const sim = c.texts.length === 0 ? 1 : same / c.texts.length;
      if (sim > bestSim || (sim === bestSim && params > bestParams)) {
        best = c;
        bestSim = sim;
        bestParams = params;
      }
    }
    return best !== undefined && bestSim >= this.similarity ? best : undefined;
  }

  /** Finds or grows the leaf for a new cluster's tokens. */
  private insert(tokens: readonly string[]): Node {
    let node: Node | undefined = this.roots.get(tokens.length);
    if (node === undefined) {
      node = { children: new Map(), clusters: [] };
      this.roots.set(tokens.length, node);
    }
    const prefix = this.prefixLength(tokens.length);
    for (let i = 0; i < prefix; i++) {
      const token = tokens[i]!;
      const existing: Node | undefined = node.children.get(token);
      if (existing !== undefined) {
        node = existing;
        continue;
      }
      let key = token;
      // Tokens with digits are usually values (ids, times, sizes): they share the wildcard branch.
      if (hasDigit(token)) key = WILDCARD;
      else if (node.children.has(WILDCARD)) {
        if (node.children.size >= this.maxChildren) key = WILDCARD;
      } else if (node.children.size + 1 >= this.maxChildren) key = WILDCARD;
      let child: Node | undefined = node.children.get(key);
      if (child === undefined) {
        child = { children: new Map(), clusters: [] };
        node.children.set(key, child);
      }
      node = child;
    }
    return node;
  }

  private evict(): void {
    if (this.maxClusters <= 0) return;
    while (this.live.size > this.maxClusters) {
      const oldest = this.live.values().next().value!;
      this.live.delete(oldest.id);
      const list = oldest.leaf.clusters;
      list.splice(list.indexOf(oldest), 1);
    }
  }
}

/**
 * A cluster's template as text: variable tokens become `<_>`, and placeholders separated only by whitespace collapse
 * into one (`<_>` already matches any text, spaces included). Empty when the template has no literal word left: a
 * pattern of placeholders and punctuation says nothing about the lines.
 */
export function patternString(c: Pick<DrainCluster, 'texts' | 'gaps'>): string {
  let out = '';
  let lastWasParam = false;
  let literalWord = false;
  for (let i = 0; i < c.texts.length; i++) {
    const t = c.texts[i]!;
    const gap = c.gaps[i]!;
    if (t === PLACEHOLDER) {
      if (lastWasParam && gap.trim() === '') continue;
      out += gap + PLACEHOLDER;
      lastWasParam = true;
      continue;
    }
    out += gap + t;
    lastWasParam = false;
    if (/[\p{L}\p{N}]/u.test(t)) literalWord = true;
  }
  return literalWord ? out : '';
}
