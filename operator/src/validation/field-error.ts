// One problem with a LokiStack or LokiTenant, shared by the admission webhook (which denies on errors and returns
// warnings) and reconcile (which turns the first error into the Degraded condition's reason and message).

/** Reasons a LokiStack is Degraded (the Loki Operator's names where it has the case). */
export type StackDegradedReason =
  | 'MissingObjectStorageSecret'
  | 'InvalidObjectStorageSecret'
  | 'InvalidObjectStorageSchema'
  | 'InvalidObjectStorageType'
  | 'InvalidReplicationConfiguration'
  | 'InvalidComponentReplicas'
  | 'InvalidRetentionSelector'
  | 'InvalidStackName';

/** Reasons of the Warning condition: the stack works, but should be changed. */
export type StackWarningReason = 'StorageNeedsSchemaUpdate';

export interface FieldError {
  /** The offending field as a JSON path with indices, e.g. `spec.storage.schemas[1].effectiveDate`. */
  field: string;
  reason: StackDegradedReason | StackWarningReason;
  /** Starts with the field, says what is wrong and how to fix it. */
  message: string;
  /** `error` denies admission and degrades the stack; `warning` is an admission warning and a Warning condition. */
  severity: 'error' | 'warning';
}

export const errorsOf = (list: readonly FieldError[]): FieldError[] => list.filter((e) => e.severity === 'error');
export const warningsOf = (list: readonly FieldError[]): FieldError[] => list.filter((e) => e.severity === 'warning');
