import type { PodLike } from '../../operator/src/manifests/kube-types.js';
import { componentPods, nextSchemaHistory, podStatus, secretProblem, stackConditions, stackStatus } from '../../operator/src/status/stack.js';
import { tenantStatus } from '../../operator/src/status/tenant.js';
import { secretFacts } from '../../operator/src/validation/secret.js';
import { validateStack } from '../../operator/src/validation/stack.js';
import { validateTenants } from '../../operator/src/validation/tenants.js';
import { NOW, sampleStack, sampleTenant } from './lokistack-fixtures.js';

const SLUGS: Record<string, string> = {
  distributor: 'distributor',
  ingester: 'ingester',
  querier: 'querier',
  queryFrontend: 'query-frontend',
  queryScheduler: 'query-scheduler',
  indexGateway: 'index-gateway',
  compactor: 'compactor',
};

function pod(name: string, component: string, phase: string, ready = phase === 'Running', waiting?: string): PodLike {
  return {
    metadata: { name, labels: { 'app.kubernetes.io/instance': 'logs', 'app.kubernetes.io/component': component } },
    status: {
      phase,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      ...(waiting ? { containerStatuses: [{ name: component, ready: false, state: { waiting: { reason: waiting } } }] } : {}),
    },
  };
}

/** Ready pods for every component of the sample 1x.small stack. */
function allReady(): PodLike[] {
  const replicas: Record<string, number> = { distributor: 2, ingester: 3, querier: 2, queryFrontend: 2, queryScheduler: 2, indexGateway: 2, compactor: 1 };
  return Object.entries(replicas).flatMap(([c, n]) => Array.from({ length: n }, (_, i) => pod(`logs-${SLUGS[c]}-${i}`, SLUGS[c]!, 'Running')));
}

const byType = (conditions: ReturnType<typeof stackConditions>) => Object.fromEntries(conditions.map((c) => [c.type, c]));

describe('pod status', () => {
  it('buckets pods like the Loki Operator and counts unrecoverable waits as failed', () => {
    expect(podStatus(pod('p', 'ingester', 'Running'))).toBe('Ready');
    expect(podStatus(pod('p', 'ingester', 'Running', false))).toBe('Running');
    expect(podStatus(pod('p', 'ingester', 'Pending'))).toBe('Pending');
    expect(podStatus(pod('p', 'ingester', 'Pending', false, 'CreateContainerConfigError'))).toBe('Failed');
    expect(podStatus(pod('p', 'ingester', 'Running', false, 'CrashLoopBackOff'))).toBe('Failed');
    expect(podStatus(pod('p', 'ingester', 'Succeeded'))).toBe('Failed');
    expect(podStatus({})).toBe('Unknown');
  });

  it('lists pod names per expected component and status', () => {
    const pods = [
      pod('logs-ingester-1', 'ingester', 'Pending'),
      pod('logs-ingester-0', 'ingester', 'Running'),
      pod('other-ingester-0', 'ingester', 'Running'),
      pod('logs-ruler-0', 'ruler', 'Running'),
    ];
    (pods[2]!.metadata!.labels as Record<string, string>)['app.kubernetes.io/instance'] = 'other';
    const components = componentPods(sampleStack(), pods);
    expect(Object.keys(components)).toEqual(['distributor', 'ingester', 'querier', 'queryFrontend', 'queryScheduler', 'indexGateway', 'compactor', 'ruler']);
    expect(components.ingester).toEqual({ Pending: ['logs-ingester-1'], Running: [], Ready: ['logs-ingester-0'], Failed: [], Unknown: [] });
    expect(components.querier).toEqual({ Pending: [], Running: [], Ready: [], Failed: [], Unknown: [] });
    // A leftover ruler pod (rules disabled) still shows.
    expect(components.ruler!.Ready).toEqual(['logs-ruler-0']);
  });
});

describe('stackConditions', () => {
  it('is Ready when every component has its replicas ready', () => {
    const c = byType(stackConditions({ stack: sampleStack(), pods: allReady(), problems: [], now: NOW }));
    expect(Object.keys(c)).toEqual(['Ready', 'Pending', 'Failed', 'Degraded']);
    expect(c.Ready).toEqual({
      type: 'Ready',
      status: 'True',
      observedGeneration: 3,
      lastTransitionTime: '2025-06-15T12:00:00Z',
      reason: 'ReadyComponents',
      message: 'All components ready',
    });
    expect(c.Pending).toMatchObject({ status: 'False', reason: 'NoPendingComponents', observedGeneration: 3 });
    expect(c.Failed).toMatchObject({ status: 'False', reason: 'NoFailedComponents' });
    expect(c.Degraded).toMatchObject({ status: 'False', reason: 'NotDegraded' });
  });

  it('is Pending, naming the components short of ready pods', () => {
    const pods = allReady().filter((p) => !['logs-ingester-2', 'logs-querier-0', 'logs-querier-1'].includes(p.metadata!.name!));
    const c = byType(stackConditions({ stack: sampleStack(), pods, problems: [], now: NOW }));
    expect(c.Pending).toMatchObject({
      status: 'True',
      reason: 'PendingComponents',
      message: 'Some LokiStack components pending on dependencies: ingester (2/3 ready), querier (0/2 ready)',
    });
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'PendingComponents' });
  });

  it('is Failed, naming the failed pods, ahead of Pending', () => {
    const pods = [
      ...allReady().filter((p) => !['logs-compactor-0', 'logs-querier-1'].includes(p.metadata!.name!)),
      pod('logs-compactor-0', 'compactor', 'Running', false, 'CrashLoopBackOff'),
    ];
    const c = byType(stackConditions({ stack: sampleStack(), pods, problems: [], now: NOW }));
    expect(c.Failed).toMatchObject({ status: 'True', reason: 'FailedComponents', message: 'Some LokiStack components failed: compactor (failed: logs-compactor-0)' });
    expect(c.Pending!.status).toBe('False');
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'FailedComponents' });
  });

  it('is Degraded with the secret reason and a message naming the key; a warning adds Warning', () => {
    const stack = sampleStack();
    stack.spec.storage.schemas = [{ version: 'v12', effectiveDate: '2023-01-01' }];
    const problem = secretProblem(secretFacts({ stringData: { bucketnames: 'b' } }, stack.spec.storage))!;
    const c = byType(stackConditions({ stack, pods: allReady(), problems: [problem, ...validateStack(stack, NOW)], now: NOW }));
    expect(c.Degraded).toMatchObject({
      status: 'True',
      reason: 'InvalidObjectStorageSecret',
      message: 'Invalid object storage secret "loki-s3": missing secret field: endpoint',
      observedGeneration: 3,
    });
    expect(c.Warning).toMatchObject({ status: 'True', reason: 'StorageNeedsSchemaUpdate' });
    expect(c.Ready!.status).toBe('True');
    expect(secretProblem(secretFacts(undefined, stack.spec.storage))).toMatchObject({ field: 'spec.storage.secret', reason: 'MissingObjectStorageSecret' });
  });

  it('keeps lastTransitionTime while a status holds and moves it when the status flips', () => {
    const stack = sampleStack();
    stack.status = { conditions: stackConditions({ stack, pods: allReady(), problems: [], now: new Date('2025-06-01T00:00:00Z') }) };
    const later = byType(stackConditions({ stack, pods: allReady(), problems: [], now: NOW }));
    expect(later.Ready!.lastTransitionTime).toBe('2025-06-01T00:00:00Z');
    const pending = byType(stackConditions({ stack, pods: [], problems: [], now: NOW }));
    expect(pending.Ready).toMatchObject({ status: 'False', lastTransitionTime: '2025-06-15T12:00:00Z' });
    expect(pending.Degraded!.lastTransitionTime).toBe('2025-06-01T00:00:00Z');
  });
});

describe('schema history and the whole status', () => {
  it('records the spec schemas once valid, and keeps the old history while they are not', () => {
    const stack = sampleStack();
    stack.status = { storage: { schemas: [{ version: 'v12', effectiveDate: '2023-01-01' }, { version: 'v13', effectiveDate: '2024-06-01' }] } };
    stack.spec.storage.schemas = [{ version: 'v13', effectiveDate: '2025-09-01' }, ...stack.status.storage!.schemas!];
    // Recorded sorted by date.
    expect(nextSchemaHistory(stack, validateStack(stack, NOW)).map((s) => s.effectiveDate)).toEqual(['2023-01-01', '2024-06-01', '2025-09-01']);
    stack.spec.storage.schemas = [{ version: 'v13', effectiveDate: '2025-01-01' }];
    expect(nextSchemaHistory(stack, validateStack(stack, NOW))).toEqual(stack.status.storage!.schemas);
  });

  it('assembles observedGeneration, conditions, components and storage', () => {
    const stack = sampleStack();
    const applied = [{ version: 'v12' as const, effectiveDate: '2023-01-01' }];
    const status = stackStatus({ stack, pods: allReady(), problems: [], now: NOW, appliedSchemas: applied });
    expect(status.observedGeneration).toBe(3);
    expect(status.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
    expect(status.components!.ingester!.Ready).toEqual(['logs-ingester-0', 'logs-ingester-1', 'logs-ingester-2']);
    expect(status.storage).toEqual({ schemas: applied });
  });
});

describe('tenantStatus', () => {
  it('reports an accepted tenant Ready with its effective limits', () => {
    const [v] = validateTenants(sampleStack(), [sampleTenant('a', 'team-a', { retention: { days: 7 } }, { generation: 4 })]);
    const status = tenantStatus(v!, NOW);
    expect(status.observedGeneration).toBe(4);
    expect(status.conditions!.map((c) => [c.type, c.status, c.reason, c.observedGeneration])).toEqual([
      ['Ready', 'True', 'Applied', 4],
      ['Rejected', 'False', 'Accepted', 4],
    ]);
    expect(status.effective!.retention).toEqual({ days: 7 });
  });

  it('reports a rejected tenant with the reason on both conditions and no effective limits', () => {
    const older = sampleTenant('a', 'dup', {}, { created: '2025-01-01T00:00:00Z' });
    const newer = sampleTenant('b', 'dup', {}, { created: '2025-03-01T00:00:00Z' });
    const v = validateTenants(sampleStack(), [older, newer]).find((x) => !x.accepted)!;
    const status = tenantStatus(v, NOW);
    expect(status.conditions!.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'False', 'DuplicateTenantID'],
      ['Rejected', 'True', 'DuplicateTenantID'],
    ]);
    expect(status.conditions![1]!.message).toContain('already claimed by LokiTenant observability/a');
    expect(status.effective).toBeUndefined();
  });
});
