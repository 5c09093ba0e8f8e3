// Reconciles one LokiStack (queue key `namespace/name`): the only code that turns the pure builders' output into
// cluster writes.
//
//   get LokiStack ── gone ──► its LokiTenants: StackNotFound (owner references garbage-collect the rest)
//        │ Unmanaged ──► nothing
//   storage Secret → secretFacts; validateStack (against status.storage.schemas)
//        │ errors ──► status Degraded with the first error's reason; workloads are left as they are
//   LokiTenants (all namespaces) → buildDesired → server-side apply each object (one field manager, force)
//   prune: owned objects (by label and owner) that are no longer desired are deleted
//   pods → status (conditions, pods per component, applied schema history and timeline); LokiTenant statuses
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyDefaults } from '../api/schema.js';
import { lokiStackSpec, type LokiStack, type LokiStackStatus, type ObjectStorageSchema } from '../api/v1/index.js';
import {
  type KubeClient,
  type KubeLogger,
  type ObjectRef,
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
  describeError,
  isKubeError,
  parseObjectKey,
  silentLogger,
} from '../kube/index.js';
import { buildDesired, type DesiredState } from '../manifests/build.js';
import type { KubeObject, PodDisruptionBudgetApiVersion, PodLike, SecretLike } from '../manifests/kube-types.js';
import { ANNOTATION_ZONE, COMPONENT_SLUGS, FIELD_MANAGER, LABEL_COMPONENT, LABEL_MANAGED_BY, MANAGED_BY, stackSelector } from '../names.js';
import { zoneLabel } from '../manifests/plan.js';
import { nextSchemaHistory, schemaTimeline, secretProblem, stackStatus } from '../status/stack.js';
import { tenantStatus } from '../status/tenant.js';
import { errorsOf, warningsOf, type FieldError } from '../validation/field-error.js';
import { parseEffectiveDate } from '../validation/schemas.js';
import { secretFacts, type SecretCheck } from '../validation/secret.js';
import { validateStack } from '../validation/stack.js';
import { tenantKey } from '../validation/tenants.js';
import { markStackNotFound, tenantsOfStack } from './lokitenant.js';
import {
  CONFIGMAP,
  DEPLOYMENT,
  LOKISTACK,
  NODE,
  POD,
  ROLE,
  ROLEBINDING,
  SECRET,
  SERVICE,
  SERVICEACCOUNT,
  STATEFULSET,
  refTo,
  writeStatus,
} from './resources.js';

export interface LokiStackHandlerOptions {
  client: KubeClient;
  /** The engine image every pod runs (the operator's RELATED_IMAGE_STRATA). */
  engineImage: string;
  /**
   * The PodDisruptionBudget API to emit: a value, or a function asked on the first reconcile (and until it answers)
   * — `policy/v1beta1` below Kubernetes 1.21. Default `policy/v1`.
   */
  pdbApiVersion?: PodDisruptionBudgetApiVersion | (() => Promise<PodDisruptionBudgetApiVersion>);
  /** The engine container's command (default: the image's entrypoint). */
  engineCommand?: string[];
  now?: () => Date;
  log?: KubeLogger;
}

/** What one reconcile did (returned for tests and logs). */
export interface StackReconcileOutcome {
  /** `absent`: no such LokiStack; `unmanaged`: left alone; `degraded`: invalid, nothing applied; `applied`. */
  result: 'absent' | 'unmanaged' | 'degraded' | 'applied';
  applied: number;
  pruned: string[];
  problems: FieldError[];
  statusWritten: boolean;
  tenantStatusesWritten: number;
}

/** The longest requeue delay the handler asks for (timers beyond 2^31 ms misfire; resync covers longer waits). */
const MAX_REQUEUE_MS = 24 * 3_600_000;

export class LokiStackHandler {
  private readonly client: KubeClient;
  private readonly log: KubeLogger;
  private readonly now: () => Date;
  private pdbVersion: PodDisruptionBudgetApiVersion | undefined;

  constructor(private readonly options: LokiStackHandlerOptions) {
    this.client = options.client;
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? (() => new Date());
    if (typeof options.pdbApiVersion === 'string') this.pdbVersion = options.pdbApiVersion;
  }

  /** The Reconciler for runController. */
  readonly reconcile: Reconciler = async (key: string, ctx: ReconcileContext): Promise<ReconcileResult | void> => {
    const outcome = await this.reconcileKey(key, ctx.signal);
    return outcome.requeueAfterMs !== undefined ? { requeueAfterMs: outcome.requeueAfterMs } : undefined;
  };

  async reconcileKey(key: string, signal?: AbortSignal): Promise<StackReconcileOutcome & { requeueAfterMs?: number }> {
    const { namespace, name } = parseObjectKey(key);
    const outcome: StackReconcileOutcome = {
      result: 'absent',
      applied: 0,
      pruned: [],
      problems: [],
      statusWritten: false,
      tenantStatusesWritten: 0,
    };
    if (!namespace) return outcome; // LokiStacks are namespaced; a bare name is no LokiStack key.
    const now = this.now();

    const stack = await this.client.get<LokiStack>(refTo(LOKISTACK, namespace, name), { signal });
    if (!stack || stack.metadata.deletionTimestamp) {
      outcome.tenantStatusesWritten = await markStackNotFound(namespace, name, { client: this.client, now, log: this.log, signal });
      return outcome;
    }
    const spec = applyDefaults(lokiStackSpec, stack.spec);
    if (spec.managementState === 'Unmanaged') {
      outcome.result = 'unmanaged';
      return outcome;
    }

    const secret =
      spec.storage.secret.type === 'filesystem'
        ? undefined
        : await this.client.get<KubernetesObject & SecretLike>(refTo(SECRET, namespace, spec.storage.secret.name), { signal });
    const check: SecretCheck = secretFacts(secret, spec.storage);
    const problems = validateStack(stack, now);
    const fromSecret = secretProblem(check);
    // Spec errors first (they are the user's edit), then the Secret; warnings last.
    outcome.problems = [...errorsOf(problems), ...(fromSecret ? [fromSecret] : []), ...warningsOf(problems)];

    if (errorsOf(outcome.problems).length > 0 || !check.ok) {
      // Nothing is applied: running pods keep their last good configuration, and LokiTenant statuses keep saying
      // what the engine enforces (their changes wait for the stack to be valid again).
      outcome.result = 'degraded';
      const pods = await this.pods(namespace, name, signal);
      const status = withTimeline(stackStatus({ stack, pods, problems: outcome.problems, now }), now);
      outcome.statusWritten = await writeStatus(this.client, stack, status, FIELD_MANAGER, signal);
      if (outcome.statusWritten) this.log.info('LokiStack degraded', { stack: key, reason: errorsOf(outcome.problems)[0]?.reason });
      return { ...outcome, requeueAfterMs: nextScheduleChange(spec.storage.schemas ?? [], now) };
    }

    const tenants = (await tenantsOfStack(this.client, namespace, name, signal)).filter((t) => !t.metadata.deletionTimestamp);
    const desired: DesiredState = buildDesired({
      stack,
      tenants,
      secret: check.facts,
      options: {
        engineImage: this.options.engineImage,
        pdbApiVersion: await this.pdbApiVersion(),
        ...(this.options.engineCommand ? { engineCommand: this.options.engineCommand } : {}),
        now,
      },
    });

    for (const obj of desired.objects) {
      await this.client.serverSideApply(obj as KubernetesObject, FIELD_MANAGER, true, { signal });
      outcome.applied++;
    }
    outcome.pruned = await this.prune(stack, desired.objects, signal);

    const pods = await this.pods(namespace, name, signal);
    await this.annotateZones(stack, pods, signal);
    const appliedSchemas = nextSchemaHistory(stack, outcome.problems);
    const status = withTimeline(stackStatus({ stack, pods, problems: outcome.problems, now, appliedSchemas }), now);
    outcome.statusWritten = await writeStatus(this.client, stack, status, FIELD_MANAGER, signal);

    for (const verdict of desired.tenants) {
      try {
        if (await writeStatus(this.client, verdict.tenant, tenantStatus(verdict, now), FIELD_MANAGER, signal)) outcome.tenantStatusesWritten++;
      } catch (err) {
        if (isKubeError(err, 'NotFound')) continue; // deleted meanwhile; its delete event queues us again
        throw err;
      }
    }
    outcome.result = 'applied';
    // Info only when something visible changed: most reconciles (pod events, resyncs) are no-ops.
    const changed = outcome.pruned.length > 0 || outcome.statusWritten || outcome.tenantStatusesWritten > 0;
    (changed ? this.log.info : this.log.debug).call(this.log, 'LokiStack reconciled', {
      stack: key,
      objects: outcome.applied,
      pruned: outcome.pruned.length > 0 ? outcome.pruned.join(',') : undefined,
      tenants: desired.tenants.map((v) => `${tenantKey(v.tenant)}=${v.accepted ? 'Ready' : v.reason}`).join(',') || undefined,
    });
    return { ...outcome, requeueAfterMs: nextScheduleChange(appliedSchemas, now) };
  }

  private async pdbApiVersion(): Promise<PodDisruptionBudgetApiVersion> {
    if (this.pdbVersion) return this.pdbVersion;
    const source = this.options.pdbApiVersion;
    if (typeof source !== 'function') return 'policy/v1';
    // Remembered only once known: an apiserver that did not answer is asked again on the next reconcile.
    this.pdbVersion = await source();
    return this.pdbVersion;
  }

  /**
   * Zone-aware stacks: writes the zone of each scheduled ingester pod's node (its `replication.zones[0].topologyKey`
   * label) into the pod's annotation, which the engine reads through a downward-API volume before it joins the
   * ring. Pod events requeue the stack, so a pod is annotated as soon as the scheduler binds it.
   */
  private async annotateZones(stack: LokiStack, pods: readonly PodLike[], signal?: AbortSignal): Promise<void> {
    const label = zoneLabel(stack);
    if (label === undefined) return;
    const namespace = stack.metadata.namespace!;
    for (const pod of pods) {
      const podName = pod.metadata?.name;
      const nodeName = pod.spec?.nodeName;
      if (!podName || !nodeName || pod.metadata?.deletionTimestamp) continue;
      if (pod.metadata?.labels?.[LABEL_COMPONENT] !== COMPONENT_SLUGS.ingester || pod.metadata.annotations?.[ANNOTATION_ZONE]) continue;
      const node = await this.client.get<KubernetesObject>(refTo(NODE, undefined, nodeName), { signal });
      const zone = node?.metadata?.labels?.[label];
      if (!zone) {
        this.log.warn('ingester pod runs on a node without the zone label; it waits for its zone', { pod: podName, node: nodeName, label });
        continue;
      }
      try {
        await this.client.patch(refTo(POD, namespace, podName), { metadata: { annotations: { [ANNOTATION_ZONE]: zone } } }, { type: 'merge', signal });
        (pod.metadata.annotations ??= {})[ANNOTATION_ZONE] = zone;
      } catch (err) {
        if (!isKubeError(err, 'NotFound')) throw err; // deleted meanwhile
      }
    }
  }

  private async pods(namespace: string, name: string, signal?: AbortSignal): Promise<PodLike[]> {
    const list = await this.client.list<KubernetesObject & PodLike>(POD, { namespace, labelSelector: stackSelector(name), signal });
    return list.items;
  }

  /**
   * Deletes the objects this stack owns (its labels, and a controller reference to it) that are no longer desired:
   * a component a new size no longer runs, a PodDisruptionBudget whose component went down to one replica, the Role
   * of a stack that became 1x.demo. PVCs of StatefulSets are not ours and keep the data.
   */
  private async prune(stack: LokiStack, desired: readonly KubeObject[], signal?: AbortSignal): Promise<string[]> {
    const namespace = stack.metadata.namespace!;
    const name = stack.metadata.name!;
    const wanted = new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`));
    const labelSelector = { ...stackSelector(name), [LABEL_MANAGED_BY]: MANAGED_BY };
    const pdb = { apiVersion: await this.pdbApiVersion(), kind: 'PodDisruptionBudget' };
    const pruned: string[] = [];
    for (const gvk of [CONFIGMAP, SERVICE, SERVICEACCOUNT, DEPLOYMENT, STATEFULSET, pdb, ROLE, ROLEBINDING]) {
      const list = await this.client.list(gvk, { namespace, labelSelector, signal });
      for (const obj of list.items) {
        const objName = obj.metadata?.name ?? '';
        if (wanted.has(`${gvk.kind}/${objName}`)) continue;
        const owned = (obj.metadata?.ownerReferences ?? []).some((o) => o.kind === LOKISTACK.kind && o.name === name && o.controller === true);
        if (!owned) continue;
        const ref: ObjectRef = refTo(gvk, namespace, objName);
        try {
          await this.client.delete(ref, { propagationPolicy: 'Background', preconditions: { uid: obj.metadata!.uid! }, signal });
          pruned.push(`${gvk.kind}/${objName}`);
        } catch (err) {
          // Replaced meanwhile by an object of the same name (uid precondition): the next reconcile decides again.
          if (!isKubeError(err, 'Conflict')) throw err;
          this.log.debug('prune skipped a replaced object', { object: `${gvk.kind}/${objName}`, err: describeError(err) });
        }
      }
    }
    return pruned;
  }
}

/** The Reconciler of LokiStack keys. */
export function lokiStackReconciler(options: LokiStackHandlerOptions): Reconciler {
  return new LokiStackHandler(options).reconcile;
}

/** status plus `storage.timeline`: where the recorded history stands at `now`. */
export function withTimeline(status: LokiStackStatus, now: Date): LokiStackStatus {
  const history = status.storage?.schemas ?? [];
  const t = schemaTimeline(history, now);
  const copy = (s: ObjectStorageSchema): ObjectStorageSchema => ({ version: s.version, effectiveDate: s.effectiveDate });
  return {
    ...status,
    storage: {
      schemas: history.map(copy),
      timeline: { ...(t.active ? { active: copy(t.active) } : {}), upcoming: t.upcoming.map(copy) },
    },
  };
}

/**
 * Milliseconds until the next schema period starts (the timeline moves and config.yaml may change then), plus a
 * second so "now" is past the boundary; undefined when no period is upcoming.
 */
export function nextScheduleChange(schemas: readonly ObjectStorageSchema[], now: Date): number | undefined {
  const t = now.getTime();
  const next = schemas
    .map((s) => parseEffectiveDate(s.effectiveDate))
    .filter((ms): ms is number => ms !== undefined && ms > t)
    .sort((a, b) => a - b)[0];
  return next === undefined ? undefined : Math.min(MAX_REQUEUE_MS, next - t + 1000);
}
