// loki.strata.dev/v1: the LokiStack and LokiTenant API. These files are the one source of truth for crds/
// (`npm run gen:crds`).
import type { ResourceDefinition } from '../crd.js';
import { lokiStackDefinition } from './lokistack.js';
import { lokiTenantDefinition } from './lokitenant.js';

export * from './common.js';
export * from './lokistack.js';
export * from './lokitenant.js';

/** Every resource of this API version, in the order crds/ lists them. */
export const resources: readonly ResourceDefinition[] = [lokiStackDefinition, lokiTenantDefinition];
