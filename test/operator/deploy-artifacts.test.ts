// The declarative deployment artefacts: config/ (kustomize) and bundle/ (OLM). Every YAML file parses; `kubectl
// kustomize config/default` builds the whole operator (CRDs from crds/, RBAC covering every call the operator makes,
// the Deployment with RELATED_IMAGE_STRATA, the webhook on the paths the server serves); the samples pass the
// operator's own validation; and the bundle stays in step with crds/ and config/.
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { resources, type LokiStack, type LokiTenant } from '../../operator/src/api/v1/index.js';
import { ENGINE_IMAGE_ENV } from '../../operator/src/main.js';
import { errorsOf } from '../../operator/src/validation/field-error.js';
import { validateStack } from '../../operator/src/validation/stack.js';
import { validateTenants } from '../../operator/src/validation/tenants.js';
import { validateTenantObject } from '../../operator/src/webhook/admission.js';
import { WEBHOOK_PATHS } from '../../operator/src/webhook/server.js';
import { KUBECTL, ROOT } from '../support/kube.js';

const run = promisify(execFile);
type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> }; [k: string]: any };

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

function docs(text: string): Doc[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
    return d.toJS() as Doc;
  });
}

const kustomize = async (dir: string): Promise<Doc[]> => docs((await run(KUBECTL, ['kustomize', join(ROOT, dir)], { maxBuffer: 16 << 20 })).stdout);
const readYaml = (path: string): any => parse(readFileSync(join(ROOT, path), 'utf8'));
const CSV_PATH = 'bundle/manifests/strata-operator.clusterserviceversion.yaml';

describe('config/ and bundle/ YAML', () => {
  it('every file parses, and every document names its apiVersion and kind', () => {
    const files = [...yamlFiles(join(ROOT, 'config')), ...yamlFiles(join(ROOT, 'bundle'))];
    expect(files.length).toBeGreaterThan(15);
    for (const file of files) {
      const rel = relative(ROOT, file);
      const all = docs(readFileSync(file, 'utf8'));
      expect([rel, all.length > 0]).toEqual([rel, true]);
      if (rel === 'bundle/metadata/annotations.yaml') continue;
      for (const d of all) expect([rel, typeof d.apiVersion, typeof d.kind]).toEqual([rel, 'string', 'string']);
    }
  });
});

describe('kubectl kustomize config/default', () => {
  let out: Doc[];
  const byKind = (kind: string) => out.filter((d) => d.kind === kind);

  beforeAll(async () => {
    out = await kustomize('config/default');
  });

  it('builds the whole operator: CRDs from crds/, RBAC, Deployment, webhook, certificate', () => {
    expect(out.map((d) => `${d.kind}/${d.metadata!.name}`).sort()).toEqual(
      [
        'Certificate/strata-operator-serving-cert',
        'ClusterRole/strata-operator-manager',
        'ClusterRoleBinding/strata-operator-manager',
        'CustomResourceDefinition/lokistacks.loki.strata.dev',
        'CustomResourceDefinition/lokitenants.loki.strata.dev',
        'Deployment/strata-operator',
        'Issuer/strata-operator-selfsigned',
        'Namespace/strata-operator-system',
        'Service/strata-operator-webhook',
        'ServiceAccount/strata-operator',
        'ValidatingWebhookConfiguration/strata-operator-validating',
      ].sort(),
    );
    // The CRDs are the generated ones, untouched apart from kustomize's labels.
    for (const crd of byKind('CustomResourceDefinition')) {
      const file = resources.find((r) => `${r.plural}.${r.group}` === crd.metadata!.name)!;
      const generated = readYaml(`crds/${file.group}_${file.plural}.yaml`);
      expect(crd.spec).toEqual(generated.spec);
    }
    for (const d of out.filter((x) => !['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'ValidatingWebhookConfiguration'].includes(x.kind!))) {
      expect([d.kind, d.metadata!.namespace]).toEqual([d.kind, 'strata-operator-system']);
    }
  });

  it('runs the operator with RELATED_IMAGE_STRATA, its namespace, probes and the webhook certificate', () => {
    const dep = byKind('Deployment')[0]!;
    const pod = dep.spec.template.spec;
    const container = pod.containers[0];
    expect(pod.serviceAccountName).toBe(byKind('ServiceAccount')[0]!.metadata!.name);
    expect(container.env.find((e: any) => e.name === ENGINE_IMAGE_ENV).value).toMatch(/\S+:\S+/);
    expect(container.env.find((e: any) => e.name === 'POD_NAMESPACE').valueFrom.fieldRef.fieldPath).toBe('metadata.namespace');
    expect(container.args).toEqual(expect.arrayContaining(['--leader-elect=true', '--webhook-port=9443', '--health-port=8081']));
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    const certDir = container.args.find((a: string) => a.startsWith('--webhook-cert-dir=')).split('=')[1];
    const mount = container.volumeMounts.find((m: any) => m.mountPath === certDir);
    const volume = pod.volumes.find((v: any) => v.name === mount.name);
    expect(volume.secret.secretName).toBe(byKind('Certificate')[0]!.spec.secretName);
  });

  it('points the webhook at the paths the server serves, through the Service, for both kinds', () => {
    const vwc = byKind('ValidatingWebhookConfiguration')[0]!;
    const service = byKind('Service')[0]!;
    expect(vwc.webhooks.map((w: any) => [w.rules[0].resources[0], w.clientConfig.service.path])).toEqual([
      ['lokistacks', WEBHOOK_PATHS.lokistack],
      ['lokitenants', WEBHOOK_PATHS.lokitenant],
    ]);
    for (const w of vwc.webhooks) {
      expect(w.clientConfig.service).toMatchObject({ name: service.metadata!.name, namespace: 'strata-operator-system' });
      expect(w).toMatchObject({ admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Fail' });
      expect(w.rules[0].operations).toEqual(['CREATE', 'UPDATE']);
    }
    expect(service.spec.ports[0].targetPort).toBe('webhook-server');
    expect(vwc.metadata!.annotations?.['cert-manager.io/inject-ca-from']).toBe('strata-operator-system/strata-operator-serving-cert');
  });

  it('grants every call the operator makes (RBAC), and binds it to the operator\'s ServiceAccount', () => {
    const rules = byKind('ClusterRole')[0]!.rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    const allowed = (group: string, resource: string, verb: string) =>
      rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    const needs: Array<[string, string, string[]]> = [
      ['loki.strata.dev', 'lokistacks', ['get', 'list', 'watch']],
      ['loki.strata.dev', 'lokitenants', ['get', 'list', 'watch']],
      ['loki.strata.dev', 'lokistacks/status', ['patch']],
      ['loki.strata.dev', 'lokitenants/status', ['patch']],
      ['', 'secrets', ['get', 'list', 'watch']],
      ['', 'pods', ['list', 'watch']],
      ['coordination.k8s.io', 'leases', ['get', 'create', 'update', 'list', 'watch', 'patch', 'delete']], // also granted to the engine
    ];
    for (const [group, resource] of [
      ['', 'configmaps'],
      ['', 'services'],
      ['', 'serviceaccounts'],
      ['apps', 'deployments'],
      ['apps', 'statefulsets'],
      ['policy', 'poddisruptionbudgets'],
      ['rbac.authorization.k8s.io', 'roles'],
      ['rbac.authorization.k8s.io', 'rolebindings'],
    ] as const) {
      needs.push([group, resource, ['get', 'list', 'watch', 'create', 'patch', 'delete']]);
    }
    for (const [group, resource, verbs] of needs) for (const verb of verbs) expect([group, resource, verb, allowed(group, resource, verb)]).toEqual([group, resource, verb, true]);
    // Storage credentials are read, never written.
    expect(allowed('', 'secrets', 'update') || allowed('', 'secrets', 'patch')).toBe(false);
    const binding = byKind('ClusterRoleBinding')[0]!;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'strata-operator', namespace: 'strata-operator-system' }]);
  });
});

describe('config/samples', () => {
  it('build with kustomize and pass the operator\'s own validation (the tenant within the stack\'s policy)', async () => {
    const samples = await kustomize('config/samples');
    const stacks = samples.filter((d) => d.kind === 'LokiStack') as unknown as LokiStack[];
    expect(stacks.map((s) => s.spec.size).sort()).toEqual(['1x.demo', '1x.small']);
    for (const s of stacks) {
      const stack = { ...s, metadata: { ...s.metadata, namespace: 'default' } };
      expect([s.metadata.name, errorsOf(validateStack(stack, new Date()))]).toEqual([s.metadata.name, []]);
    }
    const tenant = samples.find((d) => d.kind === 'LokiTenant') as unknown as LokiTenant;
    expect(validateTenantObject(tenant)).toEqual([]);
    const small = stacks.find((s) => s.spec.size === '1x.small')!;
    const verdicts = validateTenants(
      { ...small, metadata: { ...small.metadata, namespace: 'default' } },
      [{ ...tenant, metadata: { ...tenant.metadata, namespace: 'default' } }],
    );
    expect(verdicts.map((v) => v.accepted)).toEqual([true]);
    expect(samples.find((d) => d.kind === 'Secret')!.metadata!.name).toBe(small.spec.storage.secret.name);
  });
});

describe('bundle/ (OLM)', () => {
  const csv = readYaml(CSV_PATH);
  const manager = docs(readFileSync(join(ROOT, 'config/manager/manager.yaml'), 'utf8')).find((d) => d.kind === 'Deployment')!;

  it('carries the generated CRDs byte for byte (copy crds/loki.strata.dev_*.yaml into bundle/manifests/ after gen:crds)', () => {
    for (const name of readdirSync(join(ROOT, 'crds')).filter((n) => n.endsWith('.yaml'))) {
      expect([name, readFileSync(join(ROOT, 'bundle/manifests', name), 'utf8') === readFileSync(join(ROOT, 'crds', name), 'utf8')]).toEqual([name, true]);
    }
  });

  it('owns both CRDs, installs the Deployment of config/manager, and lists the engine image as a related image', () => {
    expect(csv.kind).toBe('ClusterServiceVersion');
    expect(csv.spec.customresourcedefinitions.owned.map((c: any) => [c.name, c.version, c.kind])).toEqual(
      resources.map((r) => [`${r.plural}.${r.group}`, r.version, r.kind]),
    );
    expect(csv.spec.install.strategy).toBe('deployment');
    const installed = csv.spec.install.spec.deployments[0];
    expect(installed.name).toBe(manager.metadata!.name);
    // OLM mounts the webhook certificate itself: the CSV's pod is config/manager's without that volume.
    const expected = structuredClone(manager.spec);
    delete expected.template.spec.volumes;
    delete expected.template.spec.containers[0].volumeMounts;
    expect(installed.spec).toEqual(expected);

    const engineImage = manager.spec.template.spec.containers[0].env.find((e: any) => e.name === ENGINE_IMAGE_ENV).value;
    expect(csv.spec.relatedImages).toEqual(
      expect.arrayContaining([
        { name: 'strata', image: engineImage },
        { name: 'strata-operator', image: manager.spec.template.spec.containers[0].image },
      ]),
    );
    expect(csv.metadata.annotations.containerImage).toBe(manager.spec.template.spec.containers[0].image);
  });

  it('grants the ClusterRole of config/rbac and defines the webhooks of config/webhook', () => {
    const role = readYaml('config/rbac/role.yaml');
    expect(csv.spec.install.spec.clusterPermissions).toEqual([{ serviceAccountName: 'strata-operator', rules: role.rules }]);
    const vwc = readYaml('config/webhook/manifests.yaml');
    expect(csv.spec.webhookdefinitions.map((w: any) => [w.type, w.generateName, w.webhookPath, w.targetPort, w.deploymentName])).toEqual(
      vwc.webhooks.map((w: any) => ['ValidatingAdmissionWebhook', w.name, w.clientConfig.service.path, 9443, 'strata-operator']),
    );
    for (const [i, w] of csv.spec.webhookdefinitions.entries()) {
      expect(w.rules).toEqual(vwc.webhooks[i].rules);
      expect(w).toMatchObject({ failurePolicy: 'Fail', sideEffects: 'None', admissionReviewVersions: ['v1'] });
    }
  });

  it('has alm-examples equal to the samples, and metadata matching the bundle image labels', () => {
    const examples = JSON.parse(csv.metadata.annotations['alm-examples']);
    expect(examples).toEqual([readYaml('config/samples/loki_v1_lokistack.yaml'), readYaml('config/samples/loki_v1_lokitenant.yaml')]);
    const annotations = readYaml('bundle/metadata/annotations.yaml').annotations as Record<string, string>;
    expect(annotations['operators.operatorframework.io.bundle.mediatype.v1']).toBe('registry+v1');
    expect(annotations['operators.operatorframework.io.bundle.manifests.v1']).toBe('manifests/');
    expect(csv.metadata.name).toBe(`${annotations['operators.operatorframework.io.bundle.package.v1']}.v${csv.spec.version}`);
    const dockerfile = readFileSync(join(ROOT, 'bundle/bundle.Dockerfile'), 'utf8');
    for (const [k, v] of Object.entries(annotations)) expect(dockerfile).toContain(`LABEL ${k}=${v}`);
  });
});
