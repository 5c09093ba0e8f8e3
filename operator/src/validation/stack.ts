// LokiStack rules a Kubernetes 1.20 structural schema cannot express (ADR 0004): checked by the admission webhook
// and again at reconcile, where the first error becomes the Degraded condition.
import { applyDefaults } from '../api/schema.js';
import { lokiStackSpec, type LokiStack, type ObjectStorageSchema } from '../api/v1/index.js';
import { MAX_STACK_NAME_LENGTH, STACK_NAME_PATTERN } from '../names.js';
import { SINGLETON_COMPONENTS, sizeProfile } from '../manifests/sizes.js';
import type { FieldError } from './field-error.js';
import { validateSchemas } from './schemas.js';
import { selectorError } from './selector.js';

export interface ValidateStackOptions {
  /**
   * The applied schema history to protect; default: the stack's status.storage.schemas. The webhook may pass the old
   * object's spec.storage.schemas when the status is still empty.
   */
  appliedSchemas?: readonly ObjectStorageSchema[];
}

/** Every rule the CRD schema cannot express; errors first in field order, then warnings. */
export function validateStack(input: LokiStack, now: Date, options: ValidateStackOptions = {}): FieldError[] {
  const stack = { ...input, spec: applyDefaults(lokiStackSpec, input.spec) };
  const { spec } = stack;
  const out: FieldError[] = [];
  const error = (field: string, reason: FieldError['reason'], message: string): void => {
    out.push({ field, reason, severity: 'error', message: `${field}: ${message}` });
  };

  const name = stack.metadata.name ?? '';
  if (!STACK_NAME_PATTERN.test(name) || name.length > MAX_STACK_NAME_LENGTH) {
    error(
      'metadata.name',
      'InvalidStackName',
      `${JSON.stringify(name)} cannot name a LokiStack: the names of its Services and StatefulSets are derived from it, so it ` +
        `must be at most ${MAX_STACK_NAME_LENGTH} characters of lower-case letters, digits and "-", starting with a letter`,
    );
  }

  const profile = sizeProfile(spec.size);
  if (spec.storage.secret.type === 'filesystem' && !profile.singleBinary) {
    error(
      'spec.storage.secret.type',
      'InvalidObjectStorageType',
      `filesystem storage is only allowed with size 1x.demo (one single-binary pod); size ${spec.size} needs object storage (s3)`,
    );
  }

  out.push(...validateSchemas(spec.storage.schemas ?? [], options.appliedSchemas ?? stack.status?.storage?.schemas, now));

  const factor = spec.replication?.factor ?? profile.replicationFactor;
  const ingesters = profile.singleBinary
    ? (spec.template?.singleBinary?.replicas ?? profile.components.singleBinary!.replicas)
    : (spec.template?.ingester?.replicas ?? profile.components.ingester!.replicas);
  if (profile.singleBinary && factor > 1) {
    error('spec.replication.factor', 'InvalidReplicationConfiguration', `size 1x.demo runs one pod and cannot keep ${factor} copies; use factor 1`);
  } else if (!profile.singleBinary && factor > ingesters && ingesters > 0) {
    error(
      'spec.replication.factor',
      'InvalidReplicationConfiguration',
      `${factor} copies need at least ${factor} ingesters, but the stack runs ${ingesters} (spec.template.ingester.replicas)`,
    );
  }
  // Each entry is a node label (topology key) to spread ingesters over, not a zone: how many zones the nodes offer
  // is not in the spec (the ring places replicas in as many distinct zones as exist, up to the factor).
  const zones = spec.replication?.zones ?? [];
  const keys = new Set<string>();
  zones.forEach((z, i) => {
    if (keys.has(z.topologyKey)) {
      error(`spec.replication.zones[${i}].topologyKey`, 'InvalidReplicationConfiguration', `topology key ${JSON.stringify(z.topologyKey)} is listed twice`);
    }
    keys.add(z.topologyKey);
  });

  for (const component of SINGLETON_COMPONENTS) {
    const replicas = spec.template?.[component]?.replicas;
    if (replicas !== undefined && replicas > 1) {
      error(
        `spec.template.${component}.replicas`,
        'InvalidComponentReplicas',
        `the ${component} runs at most one pod (compaction and retention are not coordinated between pods), got ${replicas}`,
      );
    }
  }

  (spec.limits?.global?.retention?.streams ?? []).forEach((s, i) => {
    const why = selectorError(s.selector);
    if (why !== undefined) {
      error(`spec.limits.global.retention.streams[${i}].selector`, 'InvalidRetentionSelector', `invalid stream selector ${JSON.stringify(s.selector)}: ${why}`);
    }
  });

  return [...out.filter((e) => e.severity === 'error'), ...out.filter((e) => e.severity === 'warning')];
}
