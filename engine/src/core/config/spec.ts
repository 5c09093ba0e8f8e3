/**
 * A small schema language for Loki-shaped YAML, and the two walks over it: decode (YAML nodes → typed values, with a
 * line number for every problem) and encode (typed values → plain data for printing `/config`).
 *
 * Why a schema instead of `YAML.parse` + casts: Loki rejects unknown keys at every level and names the Go type that
 * lacks the field; durations and byte sizes have their own syntax; and the printed config must turn milliseconds and
 * bytes back into `1h30m` / `256KB`. One description drives all three so they cannot drift apart.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  type Scalar,
} from 'yaml';

import { ConfigError, type ConfigIssue } from './config-error.js';
import { formatBytes, parseBytes } from './bytes.js';
import { formatDuration, parseDuration, UnitParseError } from './duration.js';

export interface StringSpec {
  kind: 'string';
  /** Printed as `********` when non-empty (Loki's flagext.Secret). */
  secret?: boolean;
}
export interface UrlSpec {
  kind: 'url';
}
export interface BoolSpec {
  kind: 'bool';
}
export interface IntSpec {
  kind: 'int';
  min?: number;
  max?: number;
}
export interface FloatSpec {
  kind: 'float';
  min?: number;
}
export interface DurationSpec {
  kind: 'duration';
  allowNegative?: boolean;
}
export interface BytesSpec {
  kind: 'bytes';
}
export interface EnumSpec {
  kind: 'enum';
  values: readonly string[];
  /** Match case-insensitively and store the canonical spelling. */
  ignoreCase?: boolean;
}
/** A `YYYY-MM-DD` day (Loki's DayTime), stored as the string. */
export interface DateSpec {
  kind: 'date';
}
export interface StringListSpec {
  kind: 'stringList';
}
export interface ObjectSpec {
  kind: 'object';
  /** The Go-style type name used in "field x not found in type <type>". */
  type: string;
  fields: Readonly<Record<string, FieldSpec>>;
}
export interface ListSpec {
  kind: 'list';
  item: ObjectSpec;
  itemDefault: () => Record<string, unknown>;
}
export interface MapSpec {
  kind: 'map';
  value: FieldSpec;
  /** Starting value for object entries (entries of scalar maps start from nothing). */
  valueDefault?: () => Record<string, unknown>;
}

export type FieldSpec =
  | StringSpec
  | UrlSpec
  | BoolSpec
  | IntSpec
  | FloatSpec
  | DurationSpec
  | BytesSpec
  | EnumSpec
  | DateSpec
  | StringListSpec
  | ObjectSpec
  | ListSpec
  | MapSpec;

// Builders keep the schema tables readable.
export const str = (opts: { secret?: boolean } = {}): StringSpec => ({ kind: 'string', ...opts });
export const url = (): UrlSpec => ({ kind: 'url' });
export const bool = (): BoolSpec => ({ kind: 'bool' });
export const int = (min?: number, max?: number): IntSpec => ({ kind: 'int', min, max });
export const float = (min?: number): FloatSpec => ({ kind: 'float', min });
export const duration = (opts: { allowNegative?: boolean } = {}): DurationSpec => ({ kind: 'duration', ...opts });
export const bytes = (): BytesSpec => ({ kind: 'bytes' });
export const oneOf = (values: readonly string[], opts: { ignoreCase?: boolean } = {}): EnumSpec => ({
  kind: 'enum',
  values,
  ...opts,
});
export const date = (): DateSpec => ({ kind: 'date' });
export const strings = (): StringListSpec => ({ kind: 'stringList' });
export const obj = (type: string, fields: Record<string, FieldSpec>): ObjectSpec => ({ kind: 'object', type, fields });
export const list = (item: ObjectSpec, itemDefault: () => Record<string, unknown>): ListSpec => ({
  kind: 'list',
  item,
  itemDefault,
});
export const mapOf = (value: FieldSpec, valueDefault?: () => Record<string, unknown>): MapSpec => ({
  kind: 'map',
  value,
  valueDefault,
});

// ------------------------------------------------------------------------------------------------ decode

/**
 * Parses YAML text into a document and a fresh decode context. Throws a `syntax` ConfigError listing every YAML
 * error with its line (duplicate keys included, which Go's decoder also rejects).
 */
export function parseYamlDocument(
  text: string,
  subject: string,
  fileName?: string,
): { root: Node | null; ctx: DecodeContext } {
  const lineCounter = new LineCounter();
  // `uniqueKeys` is on by default; `prettyErrors: false` keeps messages to one line (no code frame).
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      'syntax',
      doc.errors.map((e) => ({
        path: '',
        line: lineCounter.linePos(e.pos[0]).line,
        message: e.code === 'DUPLICATE_KEY' ? 'mapping key already defined earlier in this mapping' : e.message,
      })),
      subject,
      fileName,
    );
  }
  return { root: (doc.contents as Node | null) ?? null, ctx: { doc, lineCounter, issues: [], lines: new Map() } };
}

/** Throws an `unmarshal` ConfigError when decoding recorded any issue (sorted by line, file order). */
export function throwIfIssues(ctx: DecodeContext, subject: string, fileName?: string): void {
  if (ctx.issues.length === 0) return;
  const sorted = [...ctx.issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  throw new ConfigError('unmarshal', sorted, subject, fileName);
}

/** Decodes the document root into `target`, which must be a mapping of type `spec`. */
export function decodeRoot(
  root: Node | null,
  spec: ObjectSpec,
  target: Record<string, unknown>,
  ctx: DecodeContext,
  partial = false,
): void {
  const node = resolveAlias(root, ctx);
  if (isNull(node)) return; // an empty file means "all defaults", as in Loki
  if (!isMap(node)) {
    ctx.issues.push({
      path: '',
      line: lineOf(node, ctx),
      message: `invalid document: expected a mapping (${spec.type}), got ${describe(node as Node)}`,
    });
    return;
  }
  decodeObject(node, spec, target, '', ctx, partial);
}

export interface DecodeContext {
  doc: Document;
  lineCounter: LineCounter;
  issues: ConfigIssue[];
  /** Key path → line of its value, for validation messages after decoding. */
  lines: Map<string, number>;
}

type Obj = Record<string, unknown>;

const YAML11_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function lineOf(node: Node | null | undefined, ctx: DecodeContext): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : ctx.lineCounter.linePos(start).line;
}

function resolveAlias(node: unknown, ctx: DecodeContext): Node | null | undefined {
  let n = node as Node | null | undefined;
  // Aliases can point at aliases; a document cannot nest them deeper than its anchors, so this terminates.
  for (let guard = 0; isAlias(n) && guard < 64; guard++) n = n.resolve(ctx.doc) as Node | undefined;
  return n;
}

function isNull(node: Node | null | undefined): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

function describe(node: Node): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a sequence';
  return 'a value';
}

function rawText(node: Scalar): string {
  if (typeof node.value === 'string') return node.value;
  return node.source ?? String(node.value);
}

function invalid(ctx: DecodeContext, node: Node, path: string, shown: string, why: string): void {
  ctx.issues.push({ path, line: lineOf(node, ctx), message: `invalid value ${JSON.stringify(shown)} for ${path}: ${why}` });
}

function wrongShape(ctx: DecodeContext, node: Node, path: string, expected: string): void {
  ctx.issues.push({ path, line: lineOf(node, ctx), message: `invalid value for ${path}: expected ${expected}, got ${describe(node)}` });
}

/** Sets `path`'s line and returns the decoded value, or `undefined` after recording an issue. */
function decodeScalar(node: Node, spec: Exclude<FieldSpec, ObjectSpec | ListSpec | MapSpec | StringListSpec>, path: string, ctx: DecodeContext): unknown {
  const expected: Record<typeof spec.kind, string> = {
    string: 'a string',
    url: 'a URL',
    bool: 'a boolean',
    int: 'an integer',
    float: 'a number',
    duration: 'a duration',
    bytes: 'a byte size',
    enum: 'a string',
    date: 'a date (YYYY-MM-DD)',
  };
  if (!isScalar(node)) {
    wrongShape(ctx, node, path, expected[spec.kind]);
    return undefined;
  }
  const value = node.value;
  const text = rawText(node);
  switch (spec.kind) {
    case 'string':
      return text;
    case 'url': {
      if (text === '') return '';
      try {
        new URL(text);
      } catch {
        invalid(ctx, node, path, text, 'not a valid URL');
        return undefined;
      }
      return text;
    }
    case 'bool': {
      if (typeof value === 'boolean') return value;
      // Loki decodes YAML 1.1, where yes/no/on/off are booleans too.
      if (node.type === 'PLAIN' && YAML11_TRUE.has(text)) return true;
      if (node.type === 'PLAIN' && YAML11_FALSE.has(text)) return false;
      invalid(ctx, node, path, text, 'expected a boolean (true or false)');
      return undefined;
    }
    case 'int': {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        invalid(ctx, node, path, text, 'expected an integer');
        return undefined;
      }
      if (spec.min !== undefined && value < spec.min) {
        invalid(ctx, node, path, text, `must be at least ${spec.min}`);
        return undefined;
      }
      if (spec.max !== undefined && value > spec.max) {
        invalid(ctx, node, path, text, `must be at most ${spec.max}`);
        return undefined;
      }
      return value;
    }
    case 'float': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        invalid(ctx, node, path, text, 'expected a number');
        return undefined;
      }
      if (spec.min !== undefined && value < spec.min) {
        invalid(ctx, node, path, text, `must be at least ${spec.min}`);
        return undefined;
      }
      return value;
    }
    case 'duration': {
      let ms: number;
      try {
        if (typeof value === 'number') {
          if (value !== 0) throw new Error(`missing unit (e.g. "${text}s"; units: ms, s, m, h, d, w, y)`);
          ms = 0;
        } else {
          ms = parseDuration(text);
        }
      } catch (e) {
        invalid(ctx, node, path, text, reasonOf(e));
        return undefined;
      }
      if (ms < 0 && !spec.allowNegative) {
        invalid(ctx, node, path, text, 'must not be negative');
        return undefined;
      }
      return ms;
    }
    case 'bytes': {
      if (typeof value === 'number') {
        if (Number.isSafeInteger(value) && value >= 0) return value;
        invalid(ctx, node, path, text, 'expected a non-negative whole number of bytes or a size like 256KB');
        return undefined;
      }
      try {
        return parseBytes(text);
      } catch (e) {
        invalid(ctx, node, path, text, reasonOf(e));
        return undefined;
      }
    }
    case 'enum': {
      const found = spec.values.find((v) => (spec.ignoreCase ? v.toLowerCase() === text.toLowerCase() : v === text));
      if (found === undefined || value === null || typeof value === 'object') {
        invalid(ctx, node, path, text, `must be one of ${spec.values.join(', ')}`);
        return undefined;
      }
      return found;
    }
    case 'date': {
      if (parseDay(text) === undefined) {
        invalid(ctx, node, path, text, 'expected a date in YYYY-MM-DD format');
        return undefined;
      }
      return text;
    }
  }
}

function reasonOf(e: unknown): string {
  return e instanceof UnitParseError ? e.reason : (e as Error).message;
}

/** Milliseconds at 00:00 UTC of a `YYYY-MM-DD` day, or `undefined` when it is not a real calendar day. */
export function parseDay(text: string): number | undefined {
  const m = DAY_RE.exec(text);
  if (m === null) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms;
}

/**
 * Decodes `node` per `spec`. Returns the new value, or `current` when the node is null (YAML `key:` with nothing
 * keeps the default) or invalid (the issue is recorded). In `partial` mode objects start empty and only the keys
 * present in the YAML are set: that is how a tenant's runtime overrides are read.
 */
export function decodeValue(
  rawNode: unknown,
  spec: FieldSpec,
  current: unknown,
  path: string,
  ctx: DecodeContext,
  partial = false,
): unknown {
  const node = resolveAlias(rawNode, ctx);
  if (isNull(node)) return current;
  const n = node as Node;
  const line = lineOf(n, ctx);
  if (line !== undefined) ctx.lines.set(path, line);
  switch (spec.kind) {
    case 'object': {
      if (!isMap(n)) {
        wrongShape(ctx, n, path, `a mapping (${spec.type})`);
        return current;
      }
      const target: Obj =
        current !== null && typeof current === 'object' && !Array.isArray(current) ? (current as Obj) : {};
      decodeObject(n, spec, target, path, ctx, partial);
      return target;
    }
    case 'list': {
      if (!isSeq(n)) {
        wrongShape(ctx, n, path, 'a sequence');
        return current;
      }
      const out: Obj[] = [];
      n.items.forEach((item, i) => {
        const itemPath = `${path}[${i}]`;
        const itemNode = resolveAlias(item, ctx);
        if (isNull(itemNode)) {
          ctx.issues.push({ path: itemPath, line: lineOf(n, ctx), message: `invalid value for ${itemPath}: empty list item` });
          return;
        }
        out.push(decodeValue(itemNode, spec.item, spec.itemDefault(), itemPath, ctx) as Obj);
      });
      return out;
    }
    case 'stringList': {
      if (!isSeq(n)) {
        wrongShape(ctx, n, path, 'a sequence of strings');
        return current;
      }
      const out: string[] = [];
      n.items.forEach((item, i) => {
        const v = decodeValue(item, str(), undefined, `${path}[${i}]`, ctx);
        if (typeof v === 'string') out.push(v);
      });
      return out;
    }
    case 'map': {
      if (!isMap(n)) {
        wrongShape(ctx, n, path, 'a mapping');
        return current;
      }
      const target: Obj =
        current !== null && typeof current === 'object' && !Array.isArray(current) ? (current as Obj) : {};
      forEachPair(n, path, ctx, (key, pair) => {
        const childPath = `${path}.${key}`;
        // An entry with no body (`tenant-a:`) still exists: for object values it means "all defaults".
        let start: unknown = spec.valueDefault && !partial ? spec.valueDefault() : undefined;
        if (start === undefined && spec.value.kind === 'object') start = {};
        const v = decodeValue(pair.value, spec.value, start, childPath, ctx, partial);
        if (v !== undefined) setOwn(target, key, v);
      });
      return target;
    }
    default: {
      const v = decodeScalar(n, spec, path, ctx);
      return v === undefined ? current : v;
    }
  }
}

/**
 * Map keys are user data (tenant IDs, label names): a plain assignment of `__proto__` would replace the object's
 * prototype instead of adding an entry.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Visits each `key: value` pair of a mapping, expanding YAML merge keys (`<<: *anchor`) the way yaml.v2 does. */
function forEachPair(map: Node, path: string, ctx: DecodeContext, visit: (key: string, pair: Pair) => void): void {
  if (!isMap(map)) return;
  const own: Pair[] = [];
  for (const pair of map.items as Pair[]) {
    const keyNode = resolveAlias(pair.key, ctx);
    if (isScalar(keyNode) && keyNode.value === '<<' && keyNode.type === 'PLAIN') {
      // Merged keys come first so the mapping's own keys override them.
      const src = resolveAlias(pair.value, ctx);
      const sources = isSeq(src) ? src.items.map((i) => resolveAlias(i, ctx)) : [src];
      for (const s of sources) {
        if (isMap(s)) forEachPair(s, path, ctx, visit);
        else {
          ctx.issues.push({
            path,
            line: lineOf(keyNode, ctx),
            message: `invalid merge key in ${path || 'the document'}: expected an alias of a mapping`,
          });
        }
      }
    } else {
      own.push(pair);
    }
  }
  for (const pair of own) {
    const keyNode = resolveAlias(pair.key, ctx);
    if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
      ctx.issues.push({
        path,
        line: lineOf(keyNode as Node, ctx) ?? lineOf(map, ctx),
        message: `invalid key in ${path || 'the document'}: keys must be plain strings`,
      });
      continue;
    }
    visit(rawText(keyNode), pair);
  }
}

/** Decodes a mapping into `target` (in place), reporting unknown fields the way Loki does. */
export function decodeObject(map: Node, spec: ObjectSpec, target: Obj, path: string, ctx: DecodeContext, partial = false): void {
  forEachPair(map, path, ctx, (key, pair) => {
    const field = Object.hasOwn(spec.fields, key) ? spec.fields[key] : undefined;
    if (field === undefined) {
      ctx.issues.push({
        path: path ? `${path}.${key}` : key,
        line: lineOf(resolveAlias(pair.key, ctx), ctx),
        message: `field ${key} not found in type ${spec.type}`,
      });
      return;
    }
    const childPath = path ? `${path}.${key}` : key;
    const keyLine = lineOf(resolveAlias(pair.key, ctx), ctx);
    if (keyLine !== undefined) ctx.lines.set(childPath, keyLine);
    let start = target[key];
    if (partial && field.kind === 'object' && (start === undefined || start === null)) start = {};
    const v = decodeValue(pair.value, field, start, childPath, ctx, partial);
    if (v !== undefined) target[key] = v;
  });
}

// ------------------------------------------------------------------------------------------------ encode

/**
 * Typed values → plain data ready for YAML: durations as `1h30m`, sizes as `256KB`, secrets masked, keys in schema
 * order. Keys absent from `value` (partial objects) are skipped.
 */
export function encodeValue(value: unknown, spec: FieldSpec): unknown {
  switch (spec.kind) {
    case 'object': {
      const out: Obj = {};
      const src = (value ?? {}) as Obj;
      for (const [k, fieldSpec] of Object.entries(spec.fields)) {
        if (src[k] === undefined) continue;
        out[k] = encodeValue(src[k], fieldSpec);
      }
      return out;
    }
    case 'list':
      return ((value as unknown[]) ?? []).map((v) => encodeValue(v, spec.item));
    case 'map': {
      const out: Obj = {};
      for (const [k, v] of Object.entries((value ?? {}) as Obj)) out[k] = encodeValue(v, spec.value);
      return out;
    }
    case 'stringList':
      return [...((value as string[]) ?? [])];
    case 'duration':
      return formatDuration(value as number);
    case 'bytes':
      return formatBytes(value as number);
    case 'string':
      return spec.secret && value !== '' ? '********' : value;
    case 'url':
      return redactUrlPassword(value as string);
    default:
      return value;
  }
}

/** Masks the password of a URL (`s3://key:secret@region/bucket` → `s3://key:********@region/bucket`). */
export function redactUrlPassword(text: string): string {
  if (text === '') return text;
  try {
    const u = new URL(text);
    if (u.password === '') return text;
    u.password = '********';
    return u.toString();
  } catch {
    return text;
  }
}
