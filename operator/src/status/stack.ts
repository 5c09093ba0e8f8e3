// LokiStack status from what was observed: pods per component and status, the Ready / Pending / Failed / Degraded
// (and Warning) conditions, and the applied schema history. Pure: the handler lists the pods and writes the result.
import { applyDefaults } from '../api/schema.js';
import {
  POD_STATUSES,
  lokiStackSpec,
  type Condition,
  type LokiComponentName,
  type LokiStack,
  type LokiStackStatus,
  type ObjectStorageSchema,
  type PodStatus,
  type PodStatusMap,
} from '../api/v1/index.js';
import { LABEL_COMPONENT, LABEL_INSTANCE, componentOfSlug } from '../names.js';
import type { PodLike } from '../manifests/kube-types.js';
import { planComponents } from '../manifests/plan.js';
import { errorsOf, warningsOf, type FieldError } from '../validation/field-error.js';
import type { SecretCheck } from '../validation/secret.js';
import { sortSchemas } from '../validation/schemas.js';
import { mergeConditions, type ConditionInput } from './conditions.js';

/** The schema timeline (active, upcoming, past) for status consumers; computed from the applied history or spec. */
export { schemaTimeline, type SchemaTimeline } from '../validation/schemas.js';

/** Container states that will not fix themselves: the pod counts as Failed, not Pending. */
const FAILED_WAITING_REASONS = new Set([
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
]);

/** The status a pod is reported under (the Loki Operator's buckets; Ready = Running and ready). */
export function podStatus(pod: PodLike): PodStatus {
  const phase = pod.status?.phase;
  const waiting = (pod.status?.containerStatuses ?? []).map((c) => c.state?.waiting?.reason ?? '');
  if ((phase === 'Pending' || phase === 'Running') && waiting.some((r) => FAILED_WAITING_REASONS.has(r))) return 'Failed';
  switch (phase) {
    case 'Pending':
      return 'Pending';
    case 'Running':
      return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Ready' : 'Running';
    case 'Failed':
    case 'Succeeded': // a server that exited has failed
      return 'Failed';
    default:
      return 'Unknown';
  }
}

const emptyMap = (): Required<PodStatusMap> =>
  Object.fromEntries(POD_STATUSES.map((s) => [s, [] as string[]])) as unknown as Required<PodStatusMap>;

/**
 * Pod names per component and status, for the stack's expected components (all statuses present, names sorted)
 * plus any other component that still has pods.
 */
export function componentPods(stack: LokiStack, pods: readonly PodLike[]): Partial<Record<LokiComponentName, Required<PodStatusMap>>> {
  const spec = applyDefaults(lokiStackSpec, stack.spec);
  const out: Partial<Record<LokiComponentName, Required<PodStatusMap>>> = {};
  for (const p of planComponents({ ...stack, spec })) out[p.component] = emptyMap();
  for (const pod of pods) {
    const labels = pod.metadata?.labels ?? {};
    if (labels[LABEL_INSTANCE] !== stack.metadata.name) continue;
    const component = componentOfSlug(labels[LABEL_COMPONENT] ?? '');
    if (!component || !pod.metadata?.name) continue;
    (out[component] ??= emptyMap())[podStatus(pod)].push(pod.metadata.name);
  }
  for (const map of Object.values(out)) for (const names of Object.values(map)) names.sort();
  return out;
}

/** The storage Secret check as a problem for the Degraded condition (undefined when the Secret is fine). */
export function secretProblem(check: SecretCheck): FieldError | undefined {
  if (check.ok) return undefined;
  return { field: 'spec.storage.secret', reason: check.reason, severity: 'error', message: check.message };
}

export interface StackStatusInput {
  stack: LokiStack;
  /** Pods of the stack (label app.kubernetes.io/instance=<stack>). */
  pods: readonly PodLike[];
  /** validateStack's result plus secretProblem(...), if any: errors make it Degraded, warnings add Warning. */
  problems: readonly FieldError[];
  now: Date;
}

/** Condition types of a LokiStack. */
export const STACK_CONDITION_TYPES = ['Ready', 'Pending', 'Failed', 'Degraded', 'Warning'] as const;

/**
 * Conditions: exactly one of Ready / Pending / Failed is True (Failed when any pod failed, else Pending while a
 * component has fewer ready pods than replicas, else Ready); Degraded is True with the first error's reason;
 * Warning is present only while there are warnings. Messages name the components; each condition has the stack's
 * generation.
 */
export function stackConditions(input: StackStatusInput): Condition[] {
  const { stack, now } = input;
  const spec = applyDefaults(lokiStackSpec, stack.spec);
  const pods = componentPods(stack, input.pods);
  const failed: string[] = [];
  const pending: string[] = [];
  for (const p of planComponents({ ...stack, spec })) {
    const map = pods[p.component]!;
    if (map.Failed.length > 0) failed.push(`${p.component} (failed: ${map.Failed.join(', ')})`);
    else if (map.Ready.length < p.replicas) pending.push(`${p.component} (${map.Ready.length}/${p.replicas} ready)`);
  }
  const state = failed.length > 0 ? 'Failed' : pending.length > 0 ? 'Pending' : 'Ready';
  const stateReason = { Ready: 'ReadyComponents', Pending: 'PendingComponents', Failed: 'FailedComponents' }[state];
  const stateMessage = {
    Ready: 'All components ready',
    Pending: `Some LokiStack components pending on dependencies: ${pending.join(', ')}`,
    Failed: `Some LokiStack components failed: ${failed.join(', ')}`,
  }[state];

  const errors = errorsOf(input.problems);
  const warnings = warningsOf(input.problems);
  const next: ConditionInput[] = [
    { type: 'Ready', status: state === 'Ready' ? 'True' : 'False', reason: stateReason, message: stateMessage },
    state === 'Pending'
      ? { type: 'Pending', status: 'True', reason: stateReason, message: stateMessage }
      : { type: 'Pending', status: 'False', reason: 'NoPendingComponents', message: 'No component is pending' },
    state === 'Failed'
      ? { type: 'Failed', status: 'True', reason: stateReason, message: stateMessage }
      : { type: 'Failed', status: 'False', reason: 'NoFailedComponents', message: 'No component has failed' },
    errors.length > 0
      ? { type: 'Degraded', status: 'True', reason: errors[0]!.reason, message: errors.map((e) => e.message).join('; ') }
      : { type: 'Degraded', status: 'False', reason: 'NotDegraded', message: 'The LokiStack spec and its storage secret are valid' },
  ];
  if (warnings.length > 0) {
    next.push({ type: 'Warning', status: 'True', reason: warnings[0]!.reason, message: warnings.map((w) => w.message).join('; ') });
  }
  return mergeConditions(stack.status?.conditions, next, stack.metadata.generation, now);
}

/**
 * The schema history to record after a successful apply: the spec's entries (sorted) when they passed validation,
 * else the history already recorded (nothing new was applied).
 */
export function nextSchemaHistory(stack: LokiStack, problems: readonly FieldError[]): ObjectStorageSchema[] {
  const schemaErrors = errorsOf(problems).some((e) => e.reason === 'InvalidObjectStorageSchema');
  if (schemaErrors) return [...(stack.status?.storage?.schemas ?? [])];
  const spec = applyDefaults(lokiStackSpec, stack.spec);
  return sortSchemas(spec.storage.schemas ?? []).map((s) => ({ version: s.version, effectiveDate: s.effectiveDate }));
}

/**
 * The whole status: observedGeneration, conditions, pods per component and the schema history (`appliedSchemas`
 * when the handler just applied a config, else the recorded one).
 */
export function stackStatus(input: StackStatusInput & { appliedSchemas?: readonly ObjectStorageSchema[] }): LokiStackStatus {
  const schemas = input.appliedSchemas ?? input.stack.status?.storage?.schemas ?? [];
  return {
    ...(input.stack.metadata.generation !== undefined ? { observedGeneration: input.stack.metadata.generation } : {}),
    conditions: stackConditions(input),
    components: componentPods(input.stack, input.pods),
    storage: { schemas: schemas.map((s) => ({ version: s.version, effectiveDate: s.effectiveDate })) },
  };
}
