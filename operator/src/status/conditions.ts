// metav1.Condition bookkeeping shared by LokiStack and LokiTenant status: lastTransitionTime moves only when a
// condition's status changes, and every condition carries the generation it was computed for.
import type { Condition, ConditionStatus } from '../api/v1/index.js';

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** CRD limit on a condition message (metav1.Condition). */
const MAX_MESSAGE = 32768;

/**
 * The conditions to write: `next` in its order, each stamped with `generation`, keeping the previous
 * lastTransitionTime when the status did not change. Conditions absent from `next` are dropped.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionInput[],
  generation: number | undefined,
  now: Date,
): Condition[] {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return next.map((c) => {
    const before = previous?.find((p) => p.type === c.type);
    return {
      type: c.type,
      status: c.status,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : stamp,
      reason: c.reason,
      message: c.message.length > MAX_MESSAGE ? `${c.message.slice(0, MAX_MESSAGE - 1)}…` : c.message,
    };
  });
}
