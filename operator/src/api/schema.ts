// A small schema DSL: one TypeScript value describes a field's OpenAPI v3 schema (type, enum, default, pattern,
// description) AND, through `Infer`, its TypeScript type. The API types in api/v1 are derived from these values, so
// the types the operator compiles against and the CRDs the apiserver validates with cannot drift apart.
//
// Only what Kubernetes accepts in a *structural* schema (apiextensions.k8s.io/v1) can be expressed: every node has a
// type (int-or-string excepted), objects have either fixed properties or one value schema, and `not` carries value
// validations only.

/** The subset of JSONSchemaProps (apiextensions.k8s.io/v1) that the DSL emits. */
export interface OpenAPISchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, OpenAPISchema>;
  required?: string[];
  additionalProperties?: OpenAPISchema;
  items?: OpenAPISchema;
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  not?: OpenAPISchema;
  anyOf?: OpenAPISchema[];
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

/** The keys `toOpenAPI` may emit; the CRD tests hold every generated node to this list. */
export const OPENAPI_KEYS: ReadonlySet<string> = new Set<keyof OpenAPISchema>([
  'type', 'format', 'description', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'default',
  'pattern', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'not', 'anyOf',
  'x-kubernetes-int-or-string', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type',
]);

type Node =
  | { kind: 'scalar'; openapi: OpenAPISchema }
  | { kind: 'object'; openapi: OpenAPISchema; properties: Record<string, AnySchema> }
  | { kind: 'map'; openapi: OpenAPISchema; values: AnySchema }
  | { kind: 'array'; openapi: OpenAPISchema; items: AnySchema };

/**
 * One field's schema. `T` is the field's TypeScript type; `R` records whether the field is required in its parent
 * object (it decides `?` in the inferred type and the parent's `required` list).
 */
export class Schema<T, R extends boolean = false> {
  /** Phantom members: they exist only for type inference and are never set. */
  declare readonly _type: T;
  declare readonly _required: R;

  constructor(
    readonly node: Node,
    readonly isRequired: boolean = false,
  ) {}

  /** Sets the field's description (shown by `kubectl explain`). */
  describe(description: string): Schema<T, R> {
    return new Schema(withOpenAPI(this.node, { description }), this.isRequired);
  }

  /** A default the apiserver fills in when the field is absent. */
  default(value: T): Schema<T, R> {
    return new Schema(withOpenAPI(this.node, { default: value }), this.isRequired);
  }

  /** Marks the field required in its parent object. */
  required(): Schema<T, true> {
    return new Schema<T, true>(this.node, true);
  }

  get description(): string | undefined {
    return this.node.openapi.description;
  }

  get defaultValue(): T | undefined {
    return this.node.openapi.default as T | undefined;
  }
}

export type AnySchema = Schema<unknown, boolean>;
type Props = Record<string, AnySchema>;

/** The TypeScript type a schema describes. */
export type Infer<S> = S extends Schema<infer T, boolean> ? T : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type RequiredKeys<P extends Props> = { [K in keyof P]: P[K] extends Schema<unknown, true> ? K : never }[keyof P];
type InferProps<P extends Props> = Simplify<
  { -readonly [K in RequiredKeys<P>]: Infer<P[K]> } & { -readonly [K in Exclude<keyof P, RequiredKeys<P>>]?: Infer<P[K]> }
>;

function withOpenAPI(node: Node, extra: OpenAPISchema): Node {
  return { ...node, openapi: { ...node.openapi, ...extra } } as Node;
}

function scalar<T>(openapi: OpenAPISchema): Schema<T> {
  return new Schema<T>({ kind: 'scalar', openapi });
}

export interface StringOptions {
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  format?: 'date' | 'date-time' | 'byte';
  /** Values the string may not take (emitted as `not: {enum: [...]}`). */
  notIn?: string[];
}

export interface NumberOptions {
  minimum?: number;
  maximum?: number;
  format?: 'int32' | 'int64' | 'double';
}

export interface ArrayOptions {
  minItems?: number;
  maxItems?: number;
  /** How server-side apply merges the list; `map` needs `mapKeys`. */
  listType?: 'atomic' | 'set' | 'map';
  mapKeys?: string[];
}

/** The schema builders. */
export const t = {
  string(options: StringOptions = {}): Schema<string> {
    const { notIn, ...rest } = options;
    return scalar<string>({ type: 'string', ...rest, ...(notIn ? { not: { enum: notIn } } : {}) });
  },

  enum<const V extends readonly string[]>(values: V): Schema<V[number]> {
    return scalar<V[number]>({ type: 'string', enum: [...values] });
  },

  integer(options: NumberOptions = {}): Schema<number> {
    return scalar<number>({ type: 'integer', ...options });
  },

  number(options: NumberOptions = {}): Schema<number> {
    return scalar<number>({ type: 'number', ...options });
  },

  boolean(): Schema<boolean> {
    return scalar<boolean>({ type: 'boolean' });
  },

  /** An RFC 3339 timestamp, as in metav1.Time. */
  dateTime(): Schema<string> {
    return scalar<string>({ type: 'string', format: 'date-time' });
  },

  /** A Kubernetes resource quantity (`500m`, `2Gi`, `1`), written as a string or an integer. */
  quantity(): Schema<string | number> {
    return scalar<string | number>({
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern: QUANTITY_PATTERN,
      'x-kubernetes-int-or-string': true,
    });
  },

  object<const P extends Props>(properties: P, options: { minProperties?: number } = {}): Schema<InferProps<P>> {
    return new Schema<InferProps<P>>({ kind: 'object', openapi: { type: 'object', ...options }, properties });
  },

  /** An object with arbitrary keys and one value schema (Go's map[string]V). */
  map<S extends AnySchema>(values: S): Schema<Record<string, Infer<S>>> {
    return new Schema<Record<string, Infer<S>>>({ kind: 'map', openapi: { type: 'object' }, values });
  },

  array<S extends AnySchema>(items: S, options: ArrayOptions = {}): Schema<Infer<S>[]> {
    const { listType, mapKeys, ...rest } = options;
    const openapi: OpenAPISchema = { type: 'array', ...rest };
    if (listType) openapi['x-kubernetes-list-type'] = listType;
    if (mapKeys) openapi['x-kubernetes-list-map-keys'] = mapKeys;
    return new Schema<Infer<S>[]>({ kind: 'array', openapi, items });
  },
};

/** Kubernetes' own quantity syntax (resource.Quantity). */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/** The OpenAPI v3 schema of a DSL schema, with `required` lists gathered from the children. */
export function toOpenAPI(schema: AnySchema): OpenAPISchema {
  const { node } = schema;
  const out: OpenAPISchema = { ...node.openapi };
  switch (node.kind) {
    case 'scalar':
      break;
    case 'object': {
      const properties: Record<string, OpenAPISchema> = {};
      const required: string[] = [];
      for (const [name, child] of Object.entries(node.properties)) {
        properties[name] = toOpenAPI(child);
        if (child.isRequired) required.push(name);
      }
      out.properties = properties;
      if (required.length > 0) out.required = required;
      break;
    }
    case 'map':
      out.additionalProperties = toOpenAPI(node.values);
      break;
    case 'array':
      out.items = toOpenAPI(node.items);
      break;
  }
  return orderKeys(out);
}

// A fixed key order keeps the generated YAML readable and its diffs small.
const KEY_ORDER = [...OPENAPI_KEYS];
function orderKeys(schema: OpenAPISchema): OpenAPISchema {
  const ordered: Record<string, unknown> = {};
  for (const key of ['description', 'type', 'format', ...KEY_ORDER]) {
    const value = (schema as Record<string, unknown>)[key];
    if (value !== undefined && !(key in ordered)) ordered[key] = value;
  }
  return ordered as OpenAPISchema;
}

/**
 * Fills in schema defaults the way the apiserver does for custom resources: an absent property with a default gets
 * a copy of it, then defaulting continues inside every present object, map value and array item. Lets pure code
 * (builders, validation, tests) see the same object the apiserver would store.
 */
export function applyDefaults<S extends AnySchema>(schema: S, value: Infer<S>): Infer<S> {
  return defaultValue(schema, structuredClone(value)) as Infer<S>;
}

function defaultValue(schema: AnySchema, value: unknown): unknown {
  const { node } = schema;
  if (value === null || value === undefined) return value;
  switch (node.kind) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const record = value as Record<string, unknown>;
      for (const [name, child] of Object.entries(node.properties)) {
        if (record[name] === undefined && child.defaultValue !== undefined) record[name] = structuredClone(child.defaultValue);
        if (record[name] !== undefined) record[name] = defaultValue(child, record[name]);
      }
      return record;
    }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) record[key] = defaultValue(node.values, record[key]);
      return record;
    }
    case 'array':
      return Array.isArray(value) ? value.map((item) => defaultValue(node.items, item)) : value;
    case 'scalar':
      return value;
  }
}
