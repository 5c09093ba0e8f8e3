// Validating admission (admission.k8s.io/v1 AdmissionReview) for LokiStack and LokiTenant. The rules are the ones
// reconcile applies — validateStack for a LokiStack (schema history, downgrades, storage type, replication, ...),
// selectorError for retention selectors — so what the webhook admits, reconcile accepts, and a stack created while
// the webhook was down still ends up Degraded with the same message.
//
// The apiserver runs the CRD's structural schema before validating webhooks, so a field the schema already refuses
// never reaches us; the checks here that overlap with the schema (tenant ID characters) exist so the webhook's answer
// stands on its own when called directly and gives a clearer message.
import type { LokiStack, LokiTenant } from '../api/v1/index.js';
import { MAX_TENANT_ID_LENGTH } from '../api/v1/index.js';
import { errorsOf, warningsOf } from '../validation/field-error.js';
import { selectorError } from '../validation/selector.js';
import { validateStack } from '../validation/stack.js';

export const ADMISSION_API_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  /** Why a request was denied: the apiserver shows `message` to the user. */
  status?: { code: number; reason?: string; message: string };
  /** Shown by kubectl as `Warning: ...` (Kubernetes ≥ 1.19). */
  warnings?: string[];
}

export interface AdmissionReview {
  apiVersion: string;
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** A problem with a LokiTenant found at admission: the field and a message starting with it. */
export interface TenantFieldError {
  field: string;
  message: string;
}

const allow = (uid: string, warnings: string[] = []): AdmissionResponse => ({
  uid,
  allowed: true,
  ...(warnings.length > 0 ? { warnings } : {}),
});

const deny = (uid: string, message: string, code = 422, reason = 'Invalid'): AdmissionResponse => ({
  uid,
  allowed: false,
  status: { code, reason, message },
});

const objectName = (meta: { name?: string; namespace?: string } | undefined, request: AdmissionRequest): string =>
  `${meta?.namespace ?? request.namespace ?? ''}/${meta?.name ?? request.name ?? ''}`;

/**
 * LokiStack CREATE and UPDATE: validateStack's errors deny the request, its warnings (newest schema not v13) are
 * returned as admission warnings. On UPDATE the history to protect is the stored status.storage.schemas; while the
 * operator has not recorded one yet, the old object's schema entries stand in for it.
 */
export function reviewLokiStack(request: AdmissionRequest, now: Date): AdmissionResponse {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return allow(request.uid);
  if (request.subResource) return allow(request.uid); // status writes are the operator's own
  const stack = request.object as LokiStack | undefined;
  if (!stack?.spec) return deny(request.uid, 'the request carries no LokiStack', 400, 'BadRequest');
  const old = request.operation === 'UPDATE' ? (request.oldObject as LokiStack | undefined) : undefined;
  const recorded = stack.status?.storage?.schemas ?? old?.status?.storage?.schemas;
  const appliedSchemas = recorded && recorded.length > 0 ? recorded : old?.spec?.storage?.schemas;
  const problems = validateStack(stack, now, appliedSchemas ? { appliedSchemas } : {});
  const warnings = warningsOf(problems).map((w) => w.message);
  const errors = errorsOf(problems);
  if (errors.length === 0) return allow(request.uid, warnings);
  const what = `LokiStack ${objectName(stack.metadata, request)}`;
  return { ...deny(request.uid, `${what} is invalid: ${errors.map((e) => e.message).join('; ')}`), ...(warnings.length > 0 ? { warnings } : {}) };
}

const TENANT_ID_CHAR = /[A-Za-z0-9!._*'()-]/;

/** Loki's tenant ID rules, with a message saying exactly what is wrong; undefined when the ID is valid. */
export function tenantIdError(id: string): string | undefined {
  const rules = `a tenant ID is 1 to ${MAX_TENANT_ID_LENGTH} characters from letters, digits and ! - _ . * ' ( ), and not "." or ".."`;
  if (id === '') return `the tenant ID is empty; ${rules}`;
  if (id === '.' || id === '..') return `${JSON.stringify(id)} cannot be a tenant ID; ${rules}`;
  if (id.length > MAX_TENANT_ID_LENGTH) return `${JSON.stringify(id)} is ${id.length} characters long; ${rules}`;
  for (const ch of id) {
    if (!TENANT_ID_CHAR.test(ch)) {
      return `${JSON.stringify(id)} is not a valid tenant ID: the character ${JSON.stringify(ch)} is not allowed; ${rules}`;
    }
  }
  return undefined;
}

/** The per-object rules of a LokiTenant (policy and duplicate IDs depend on other objects: reconcile decides them). */
export function validateTenantObject(tenant: LokiTenant): TenantFieldError[] {
  const out: TenantFieldError[] = [];
  const id = tenant.spec?.tenantId ?? '';
  const idProblem = tenantIdError(id);
  if (idProblem) out.push({ field: 'spec.tenantId', message: `spec.tenantId: ${idProblem}` });
  (tenant.spec?.retention?.streams ?? []).forEach((s, i) => {
    const why = selectorError(s.selector);
    if (why !== undefined) {
      const field = `spec.retention.streams[${i}].selector`;
      out.push({ field, message: `${field}: invalid stream selector ${JSON.stringify(s.selector)}: ${why}` });
    }
  });
  return out;
}

/** LokiTenant CREATE and UPDATE. */
export function reviewLokiTenant(request: AdmissionRequest): AdmissionResponse {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return allow(request.uid);
  if (request.subResource) return allow(request.uid);
  const tenant = request.object as LokiTenant | undefined;
  if (!tenant?.spec) return deny(request.uid, 'the request carries no LokiTenant', 400, 'BadRequest');
  const errors = validateTenantObject(tenant);
  if (errors.length === 0) return allow(request.uid);
  return deny(request.uid, `LokiTenant ${objectName(tenant.metadata, request)} is invalid: ${errors.map((e) => e.message).join('; ')}`);
}

/** Answers one AdmissionReview for either kind (by request.kind); unknown kinds are allowed. */
export function review(body: AdmissionReview, now: Date): AdmissionReview {
  const request = body.request!;
  let response: AdmissionResponse;
  switch (request.kind?.kind) {
    case 'LokiStack':
      response = reviewLokiStack(request, now);
      break;
    case 'LokiTenant':
      response = reviewLokiTenant(request);
      break;
    default:
      response = allow(request.uid);
  }
  return { apiVersion: body.apiVersion, kind: 'AdmissionReview', response };
}

/** Checks the shape of a decoded request body; returns a message when it is no AdmissionReview we can answer. */
export function admissionReviewProblem(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return 'the body is not a JSON object';
  const b = body as Partial<AdmissionReview>;
  if (b.kind !== 'AdmissionReview') return `kind must be AdmissionReview, got ${JSON.stringify(b.kind)}`;
  if (!ADMISSION_API_VERSIONS.includes(b.apiVersion as (typeof ADMISSION_API_VERSIONS)[number])) {
    return `apiVersion must be one of ${ADMISSION_API_VERSIONS.join(', ')}, got ${JSON.stringify(b.apiVersion)}`;
  }
  if (!b.request || typeof b.request !== 'object' || typeof b.request.uid !== 'string') return 'request.uid is missing';
  return undefined;
}
