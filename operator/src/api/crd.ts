// Turns a resource definition (kind, names, spec/status schemas, printer columns) into its
// CustomResourceDefinition (apiextensions.k8s.io/v1). Used by gen-crds.ts to write crds/ and by tests.
import { toOpenAPI, type AnySchema, type OpenAPISchema } from './schema.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  /** 0: shown by `kubectl get`; > 0: only with `-o wide`. */
  priority?: number;
}

export interface ResourceDefinition {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames?: string[];
  categories?: string[];
  description: string;
  spec: AnySchema;
  status: AnySchema;
  printerColumns: PrinterColumn[];
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames?: string[]; categories?: string[] };
    scope: 'Namespaced';
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: OpenAPISchema };
    }>;
  };
}

/** The CRD file name in crds/, as controller-gen names it (`<group>_<plural>.yaml`). */
export function crdFileName(def: ResourceDefinition): string {
  return `${def.group}_${def.plural}.yaml`;
}

export function buildCrd(def: ResourceDefinition): CustomResourceDefinition {
  const openAPIV3Schema: OpenAPISchema = {
    description: def.description,
    type: 'object',
    properties: {
      apiVersion: { description: 'The versioned schema of this representation of an object.', type: 'string' },
      kind: { description: 'The REST resource this object represents.', type: 'string' },
      metadata: { type: 'object' },
      spec: toOpenAPI(def.spec),
      status: toOpenAPI(def.status),
    },
    required: ['spec'],
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${def.group}`, labels: { 'app.kubernetes.io/part-of': 'strata' } },
    spec: {
      group: def.group,
      names: {
        kind: def.kind,
        listKind: def.listKind,
        plural: def.plural,
        singular: def.singular,
        ...(def.shortNames ? { shortNames: def.shortNames } : {}),
        ...(def.categories ? { categories: def.categories } : {}),
      },
      scope: 'Namespaced',
      versions: [
        {
          name: def.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}
