// The kinds the handlers read and write, and small helpers shared by the LokiStack and LokiTenant handlers.
import type { KubernetesObject } from '@kubernetes/client-node';
import { API_VERSION } from '../api/v1/index.js';
import type { Gvk, KubeClient, ObjectRef } from '../kube/index.js';

export const LOKISTACK: Gvk = { apiVersion: API_VERSION, kind: 'LokiStack' };
export const LOKITENANT: Gvk = { apiVersion: API_VERSION, kind: 'LokiTenant' };
export const SECRET: Gvk = { apiVersion: 'v1', kind: 'Secret' };
export const POD: Gvk = { apiVersion: 'v1', kind: 'Pod' };
export const NODE: Gvk = { apiVersion: 'v1', kind: 'Node' };
export const CONFIGMAP: Gvk = { apiVersion: 'v1', kind: 'ConfigMap' };
export const SERVICE: Gvk = { apiVersion: 'v1', kind: 'Service' };
export const SERVICEACCOUNT: Gvk = { apiVersion: 'v1', kind: 'ServiceAccount' };
export const DEPLOYMENT: Gvk = { apiVersion: 'apps/v1', kind: 'Deployment' };
export const STATEFULSET: Gvk = { apiVersion: 'apps/v1', kind: 'StatefulSet' };
export const ROLE: Gvk = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' };
export const ROLEBINDING: Gvk = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' };

/** The ObjectRef of a kind's object. */
export function refTo(gvk: Gvk, namespace: string | undefined, name: string): ObjectRef {
  return { apiVersion: gvk.apiVersion, kind: gvk.kind, name, ...(namespace ? { namespace } : {}) };
}

/**
 * Deep equality of JSON values, ignoring key order and keys whose value is undefined: what decides whether a
 * status write would change anything (the apiserver's JSON and our freshly built objects order keys differently).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The JSON merge patch (RFC 7386) that turns `before` into `after`: keys that disappear become null, objects are
 * diffed recursively, arrays and scalars are replaced. Only what changed is sent.
 */
export function mergePatchOf(before: unknown, after: unknown): unknown {
  if (!isObject(before) || !isObject(after)) return after;
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(before)) if (v !== undefined && after[k] === undefined) patch[k] = null;
  for (const [k, v] of Object.entries(after)) {
    if (v === undefined || jsonEqual(before[k], v)) continue;
    patch[k] = mergePatchOf(before[k], v);
  }
  return patch;
}

/**
 * Writes `status` through the status subresource unless the object already has exactly that status. The write is a
 * merge patch of the difference from the status we read, guarded by the resourceVersion we read it at: fields we
 * stop reporting (a component that no longer runs, a cleared Warning, a rejected tenant's effective limits) are
 * removed, and a status computed from a stale read fails with Conflict (the reconcile retries) instead of
 * overwriting a newer one. (Server-side apply would express this more simply, but Kubernetes 1.20 answers an apply
 * that drops a nested status object with "Invalid value: null".) Returns whether a write was made.
 */
export async function writeStatus(
  client: KubeClient,
  obj: KubernetesObject & { status?: unknown },
  status: unknown,
  fieldManager: string,
  signal?: AbortSignal,
): Promise<boolean> {
  if (jsonEqual(obj.status, status)) return false;
  const ref = refTo({ apiVersion: obj.apiVersion!, kind: obj.kind! }, obj.metadata?.namespace, obj.metadata!.name!);
  const patch = mergePatchOf(obj.status ?? {}, status);
  await client.patchStatus(ref, patch, { strategy: 'merge', fieldManager, resourceVersion: obj.metadata?.resourceVersion, signal });
  return true;
}
