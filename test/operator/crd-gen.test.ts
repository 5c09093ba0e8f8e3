// The CRD generator: the schemas it writes are structural (what apiextensions.k8s.io/v1 demands), every default
// satisfies its own schema, crds/ matches the TypeScript API, and the DSL infers the types it describes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildCrd, crdFileName } from '../../operator/src/api/crd.js';
import { OPENAPI_KEYS, applyDefaults, t, toOpenAPI, type Infer, type OpenAPISchema } from '../../operator/src/api/schema.js';
import { lokiStackSpec, lokiTenantSpec, resources, type LokiStackSpec, type LokiTenantSpec } from '../../operator/src/api/v1/index.js';
import { renderCrds } from '../../operator/src/gen-crds.js';

const ROOT = join(import.meta.dirname, '../..');

/** Visits every schema node with its JSON path. */
function walk(schema: OpenAPISchema, path: string, visit: (node: OpenAPISchema, path: string) => void): void {
  visit(schema, path);
  for (const [name, child] of Object.entries(schema.properties ?? {})) walk(child, `${path}.${name}`, visit);
  if (schema.additionalProperties) walk(schema.additionalProperties, `${path}.*`, visit);
  if (schema.items) walk(schema.items, `${path}[]`, visit);
}

/** A small validator for defaults: type, enum, pattern, bounds, required, recursively. */
function violations(schema: OpenAPISchema, value: unknown, path: string): string[] {
  const out: string[] = [];
  const kind = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (schema['x-kubernetes-int-or-string']) {
    if (kind !== 'integer' && kind !== 'string') out.push(`${path}: not an int or string`);
  } else if (schema.type === 'number' ? kind !== 'integer' && kind !== 'number' : schema.type !== kind) {
    out.push(`${path}: ${kind} is not ${schema.type}`);
    return out;
  }
  if (schema.enum && !schema.enum.includes(value)) out.push(`${path}: ${String(value)} not in enum`);
  if (schema.pattern && typeof value === 'string' && !new RegExp(schema.pattern).test(value)) out.push(`${path}: pattern`);
  if (schema.minimum !== undefined && typeof value === 'number' && value < schema.minimum) out.push(`${path}: minimum`);
  if (schema.minItems !== undefined && Array.isArray(value) && value.length < schema.minItems) out.push(`${path}: minItems`);
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => out.push(...violations(schema.items!, item, `${path}[${i}]`)));
  if (kind === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in record)) out.push(`${path}.${name}: required`);
    for (const [name, child] of Object.entries(record)) {
      const sub = schema.properties?.[name] ?? schema.additionalProperties;
      if (!sub) out.push(`${path}.${name}: unknown field`);
      else out.push(...violations(sub, child, `${path}.${name}`));
    }
  }
  return out;
}

describe('generated CRDs', () => {
  const crds = resources.map((def) => ({ def, crd: buildCrd(def) }));

  it('are structural: every node has a type, known keys only, properties xor additionalProperties', () => {
    for (const { crd } of crds) {
      const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
      let nodes = 0;
      walk(schema, '', (node, path) => {
        nodes++;
        for (const key of Object.keys(node)) expect([path, key, OPENAPI_KEYS.has(key)]).toEqual([path, key, true]);
        if (node['x-kubernetes-int-or-string']) {
          expect(node.type).toBeUndefined();
          expect(node.anyOf).toEqual([{ type: 'integer' }, { type: 'string' }]);
        } else {
          expect([path, typeof node.type]).toEqual([path, 'string']);
          expect(node.anyOf).toBeUndefined();
        }
        if (node.type === 'object' && path !== '.metadata') {
          expect([path, (node.properties !== undefined) !== (node.additionalProperties !== undefined)]).toEqual([path, true]);
        }
        if (node.type === 'array') expect(node.items).toBeDefined();
        for (const name of node.required ?? []) expect(Object.keys(node.properties ?? {})).toContain(name);
        // Inside `not`, a structural schema allows value validations only.
        if (node.not) expect(Object.keys(node.not)).toEqual(['enum']);
        if (node['x-kubernetes-list-type'] === 'map') {
          for (const key of node['x-kubernetes-list-map-keys']!) expect(node.items!.required).toContain(key);
        }
      });
      expect(nodes).toBeGreaterThan(20);
    }
  });

  it('describe every field', () => {
    for (const { crd } of crds) {
      walk(crd.spec.versions[0]!.schema.openAPIV3Schema, '', (node, path) => {
        const builtIn = path === '.metadata' || path.endsWith('.*') || path.endsWith('[]') || path === '';
        if (!builtIn) expect([path, typeof node.description]).toEqual([path, 'string']);
      });
    }
  });

  it('have defaults that satisfy their own schemas', () => {
    let defaults = 0;
    for (const { crd } of crds) {
      walk(crd.spec.versions[0]!.schema.openAPIV3Schema, '', (node, path) => {
        if (node.default === undefined) return;
        defaults++;
        expect(violations(node, node.default, path)).toEqual([]);
      });
    }
    expect(defaults).toBeGreaterThanOrEqual(4);
  });

  it('carry the resource names, status subresource and printer columns', () => {
    const [stack, tenant] = crds.map((c) => c.crd);
    expect(stack!.metadata.name).toBe('lokistacks.loki.strata.dev');
    expect(stack!.spec.names).toMatchObject({ kind: 'LokiStack', plural: 'lokistacks', listKind: 'LokiStackList' });
    expect(tenant!.metadata.name).toBe('lokitenants.loki.strata.dev');
    for (const { crd } of crds) {
      expect(crd.spec.scope).toBe('Namespaced');
      expect(crd.spec.versions).toHaveLength(1);
      const version = crd.spec.versions[0]!;
      expect(version).toMatchObject({ name: 'v1', served: true, storage: true, subresources: { status: {} } });
      for (const column of version.additionalPrinterColumns) expect(column.jsonPath.startsWith('.')).toBe(true);
      expect(version.schema.openAPIV3Schema.required).toEqual(['spec']);
      expect(Object.keys(version.schema.openAPIV3Schema.properties!)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    }
    expect(stack!.spec.versions[0]!.additionalPrinterColumns.map((c) => c.name)).toEqual(['Size', 'Storage', 'Ready', 'Management', 'Age']);
  });

  it('carry the enums of the API', () => {
    const spec = crds[0]!.crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
    expect(spec.required).toEqual(['size', 'storage']);
    expect(spec.properties!.size!.enum).toEqual(['1x.demo', '1x.pico', '1x.extra-small', '1x.small', '1x.medium']);
    expect(spec.properties!.storage!.properties!.schemas!.items!.properties!.version!.enum).toEqual(['v11', 'v12', 'v13']);
    expect(spec.properties!.storage!.properties!.secret!.properties!.type!.enum).toEqual(['s3', 'filesystem']);
    expect(spec.properties!.managementState).toMatchObject({ enum: ['Managed', 'Unmanaged'], default: 'Managed' });
    expect(Object.keys(spec.properties!.template!.properties!)).toContain('queryScheduler');
    const tenantSpec = crds[1]!.crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
    expect(tenantSpec.required).toEqual(['stackRef', 'tenantId']);
    expect(tenantSpec.properties!.tenantId).toMatchObject({ maxLength: 150, not: { enum: ['.', '..'] } });
  });

  it('tenant ID pattern accepts exactly Loki\'s alphabet', () => {
    const pattern = new RegExp(toOpenAPI(lokiTenantSpec).properties!.tenantId!.pattern!);
    for (const ok of ['fake', 'team-a', "A.b_c!*'()", '0']) expect(pattern.test(ok)).toBe(true);
    for (const bad of ['a/b', 'a|b', 'a b', 'tenant:1', 'é', '']) expect(pattern.test(bad)).toBe(false);
  });

  it('are what crds/ holds (run `npm run gen:crds` after changing operator/src/api)', () => {
    for (const def of resources) {
      const committed = readFileSync(join(ROOT, 'crds', crdFileName(def)), 'utf8');
      expect(committed).toBe(renderCrds().get(crdFileName(def)));
      // And the YAML reads back as the CRD object (dates stay strings).
      expect(parse(committed)).toEqual(JSON.parse(JSON.stringify(buildCrd(def))));
    }
  });
});

describe('schema DSL', () => {
  it('infers optional and required fields and literal enums', () => {
    const s = t.object({ a: t.string().required(), b: t.integer(), c: t.enum(['x', 'y']).default('x') });
    type S = Infer<typeof s>;
    const value: S = { a: 'text' };
    // @ts-expect-error — 'z' is not in the enum
    const wrong: S = { a: 'text', c: 'z' };
    // @ts-expect-error — a is required
    const missing: S = { b: 1 };
    expect([value, wrong, missing]).toHaveLength(3);
    expect(toOpenAPI(s)).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'integer' }, c: { type: 'string', enum: ['x', 'y'], default: 'x' } },
      required: ['a'],
    });
  });

  it('keeps builders immutable', () => {
    const base = t.string();
    const described = base.describe('d');
    const required = described.required();
    expect(base.description).toBeUndefined();
    expect(described.isRequired).toBe(false);
    expect(required.isRequired).toBe(true);
    expect(required.description).toBe('d');
  });

  it('applies defaults like the apiserver: absent fields, inside arrays and maps, without touching the input', () => {
    const input: LokiStackSpec = {
      size: '1x.demo',
      storage: { secret: { name: 's', type: 'filesystem' } },
      limits: { global: { retention: { days: 7, streams: [{ selector: '{a="b"}', days: 1 }] } } },
      replication: { zones: [{ topologyKey: 'zone' }, { topologyKey: 'rack', maxSkew: 2 }] },
    };
    const copy = structuredClone(input);
    const out = applyDefaults(lokiStackSpec, input);
    expect(input).toEqual(copy);
    expect(out.managementState).toBe('Managed');
    expect(out.storage.schemas).toEqual([{ version: 'v13', effectiveDate: '2020-10-11' }]);
    expect(out.limits!.global!.retention!.streams![0]!.priority).toBe(1);
    expect(out.replication!.zones!.map((z) => z.maxSkew)).toEqual([1, 2]);
    // An explicit value wins over the default.
    expect(applyDefaults(lokiStackSpec, { ...input, managementState: 'Unmanaged' }).managementState).toBe('Unmanaged');
    const tenant: LokiTenantSpec = { stackRef: { name: 'x' }, tenantId: 'a' };
    expect(applyDefaults(lokiTenantSpec, tenant)).toEqual(tenant);
  });
});
