import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget as PdbV1 } from 'kubernetes-models/policy/v1';
import { PodDisruptionBudget as PdbV1beta1 } from 'kubernetes-models/policy/v1beta1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { buildDesired } from '../../operator/src/manifests/build.js';
import type { KubeObject } from '../../operator/src/manifests/kube-types.js';
import { SIZES } from '../../operator/src/manifests/sizes.js';
import { NOW, s3Facts, sampleStack, sampleTenant } from './lokistack-fixtures.js';

// kubernetes-models validates against the OpenAPI schemas of Kubernetes' own types (the issue asks for this check
// in addition to the real apiserver's).
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PdbV1,
  'policy/v1beta1/PodDisruptionBudget': PdbV1beta1,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

function validateAll(objects: readonly KubeObject[]): string[] {
  const kinds: string[] = [];
  for (const o of objects) {
    const key = `${o.apiVersion}/${o.kind}`;
    const Model = MODELS[key];
    if (Model === undefined) throw new Error(`no kubernetes-models class for ${key}`);
    expect(() => new Model(o as never).validate()).not.toThrow();
    kinds.push(key);
  }
  return kinds;
}

describe('built objects validate with kubernetes-models', () => {
  it.each(Object.keys(SIZES))('size %s', (size) => {
    const demo = size === '1x.demo';
    const stack = sampleStack({
      size: size as never,
      ...(demo ? { storage: { ...sampleStack().spec.storage, secret: { name: 'fs', type: 'filesystem' } } } : {}),
    } as never);
    for (const pdbApiVersion of ['policy/v1', 'policy/v1beta1'] as const) {
      const { objects } = buildDesired({
        stack,
        tenants: [sampleTenant('team-a', 'team-a')],
        ...(demo ? {} : { secret: s3Facts() }),
        options: { engineImage: 'registry.example/strata:1.0', now: NOW, pdbApiVersion },
      });
      const kinds = validateAll(objects);
      expect(kinds).toContain(demo ? 'apps/v1/StatefulSet' : 'apps/v1/Deployment');
      expect(kinds).toContain('v1/ConfigMap');
    }
  });
});
