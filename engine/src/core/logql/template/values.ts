/**
 * The Go values a template handles, as JavaScript values. Go's template engine is reflect-based and its behaviour
 * (which function accepts which argument, how a value prints, what `eq` may compare) depends on the Go type, so
 * values keep enough type information:
 *   string → string, bool → boolean, float64 → number, int/int64/uint8 → GoInt (bigint inside),
 *   time.Time → GoTime, []interface{} → array, map[string]interface{} → Map, the data → LabelsValue,
 *   a nil inside a container → null, and Go's invalid reflect.Value ("<no value>") → undefined.
 */
import type { GoLocation } from './go-time.js';

export type IntType = 'int' | 'int64' | 'uint8' | 'int32';

export class GoInt {
  constructor(
    readonly v: bigint,
    readonly type: IntType = 'int',
  ) {}
}

/** A time.Time: nanoseconds since the Unix epoch and a location. */
export class GoTime {
  constructor(
    readonly ns: bigint,
    readonly loc: GoLocation,
  ) {}
}

/** What a template reads labels from; a `Map<string, string>` is one. */
export interface TemplateData {
  get(name: string): string | undefined;
  /** All labels; only templates that range over `.`, print `.` or take `len .` need them. */
  entries(): Iterable<readonly [string, string]>;
}

/** The template's data (Loki passes a map[string]string of the entry's labels). */
export class LabelsValue {
  constructor(public data: TemplateData) {}

  sortedEntries(): [string, string][] {
    return [...this.data.entries()].map(([k, v]) => [k, v] as [string, string]).sort((a, b) => cmpStr(a[0], b[0]));
  }
}

export type GoValue =
  | string
  | boolean
  | number
  | GoInt
  | GoTime
  | GoValue[]
  | Map<string, GoValue>
  | LabelsValue
  | null
  | undefined;

/** Byte-wise string order (Go compares strings by bytes; UTF-16 order differs only for astral characters). */
export function cmpStr(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** reflect.Type.String() of a value, for error messages. */
export function typeName(v: GoValue): string {
  if (v === undefined) return 'invalid';
  if (v === null) return 'interface {}';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return 'float64';
  }
  if (v instanceof GoInt) return v.type;
  if (v instanceof GoTime) return 'time.Time';
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof LabelsValue) return 'map[string]string';
  return 'map[string]interface {}';
}

/** Go's reflect.Kind families used by comparisons and truth. */
export type Kind = 'invalid' | 'bool' | 'int' | 'uint' | 'float' | 'string' | 'slice' | 'map' | 'struct' | 'interface';

export function kindOf(v: GoValue): Kind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'interface';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return 'float';
  }
  if (v instanceof GoInt) return v.type === 'uint8' ? 'uint' : 'int';
  if (v instanceof GoTime) return 'struct';
  if (Array.isArray(v)) return 'slice';
  return 'map';
}

/** text/template's isTrue: the zero value of a type is false; structs are always true. */
export function isTrue(v: GoValue): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'boolean':
      return v;
    case 'number':
      return v !== 0;
  }
  if (v instanceof GoInt) return v.v !== 0n;
  if (v instanceof GoTime) return true;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof LabelsValue) {
    for (const _ of v.data.entries()) return true;
    return false;
  }
  return v.size > 0;
}

/** A Go integer of `type`, wrapped to its width as Go arithmetic does. */
export function int(n: number | bigint, type: IntType = 'int'): GoInt {
  const b = typeof n === 'bigint' ? n : BigInt(Math.trunc(n));
  const v = type === 'uint8' ? BigInt.asUintN(8, b) : type === 'int32' ? BigInt.asIntN(32, b) : BigInt.asIntN(64, b);
  return new GoInt(v, type);
}

/** Converts a JSON document to Go's json.Unmarshal-into-interface{} values. */
export function fromJsonValue(v: unknown): GoValue {
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(fromJsonValue);
  if (typeof v === 'object') {
    const m = new Map<string, GoValue>();
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) m.set(k, fromJsonValue(x));
    return m;
  }
  return v as string | number | boolean;
}
