// The admission webhook without a control plane: the review functions (same rules as reconcile) and the HTTPS
// server (certificate from a throw-away CA, routing, malformed requests, certificate reload).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LokiStack, LokiTenant } from '../../operator/src/api/v1/index.js';
import { earliestValidDate } from '../../operator/src/validation/schemas.js';
import { validateStack } from '../../operator/src/validation/stack.js';
import {
  admissionReviewProblem,
  review,
  reviewLokiStack,
  reviewLokiTenant,
  tenantIdError,
  validateTenantObject,
  type AdmissionRequest,
  type AdmissionReview,
} from '../../operator/src/webhook/admission.js';
import { WEBHOOK_PATHS, startWebhookServer, type WebhookServer } from '../../operator/src/webhook/server.js';
import { NOW, sampleStack, sampleTenant } from './lokistack-fixtures.js';
import { makeCa, makeServingCert, type ServingCert } from './webhook-certs.js';

const stackRequest = (operation: AdmissionRequest['operation'], object: LokiStack, oldObject?: LokiStack): AdmissionRequest => ({
  uid: 'uid-1',
  kind: { group: 'loki.strata.dev', version: 'v1', kind: 'LokiStack' },
  operation,
  namespace: object.metadata.namespace,
  name: object.metadata.name,
  object,
  ...(oldObject ? { oldObject } : {}),
});

const tenantRequest = (object: LokiTenant): AdmissionRequest => ({
  uid: 'uid-2',
  kind: { group: 'loki.strata.dev', version: 'v1', kind: 'LokiTenant' },
  operation: 'CREATE',
  object,
});

/** The sample stack with its schema history recorded as applied. */
function appliedStack(): LokiStack {
  const stack = sampleStack();
  stack.status = { storage: { schemas: [...stack.spec.storage.schemas!] } };
  return stack;
}

describe('LokiStack admission', () => {
  it('admits a valid stack, returning the "newest schema is not v13" advice as a warning', () => {
    expect(reviewLokiStack(stackRequest('CREATE', sampleStack()), NOW)).toEqual({ uid: 'uid-1', allowed: true });
    const old = sampleStack({ storage: { secret: { name: 'loki-s3', type: 's3' }, schemas: [{ version: 'v12', effectiveDate: '2023-01-01' }] } });
    const r = reviewLokiStack(stackRequest('CREATE', old), NOW);
    expect(r.allowed).toBe(true);
    expect(r.warnings).toEqual([expect.stringContaining(`add {version: v13, effectiveDate: "${earliestValidDate(NOW)}"}`)]);
  });

  it('denies exactly what validateStack calls an error, with every message and the stack named', () => {
    const bad = sampleStack({ storage: { secret: { name: 'x', type: 'filesystem' } }, replication: { factor: 5 } });
    const errors = validateStack(bad, NOW).filter((e) => e.severity === 'error');
    expect(errors.length).toBe(2);
    const r = reviewLokiStack(stackRequest('CREATE', bad), NOW);
    expect(r).toMatchObject({ uid: 'uid-1', allowed: false, status: { code: 422, reason: 'Invalid' } });
    expect(r.status!.message).toBe(`LokiStack observability/logs is invalid: ${errors.map((e) => e.message).join('; ')}`);
  });

  it('denies a retroactive change against the recorded history, suggesting the earliest valid date', () => {
    const stack = appliedStack();
    stack.spec.storage.schemas = [
      { version: 'v11', effectiveDate: '2023-01-01' },
      { version: 'v13', effectiveDate: '2024-06-01' },
    ];
    const r = reviewLokiStack(stackRequest('UPDATE', stack, appliedStack()), NOW);
    expect(r.allowed).toBe(false);
    expect(r.status!.message).toContain('spec.storage.schemas[0].version: cannot change the schema in effect from 2023-01-01 (v12 → v11)');
    expect(r.status!.message).toContain('use an effectiveDate on or after 2025-06-16');
  });

  it('denies a downgrade and admits a future v13 entry', () => {
    const down = appliedStack();
    down.spec.storage.schemas!.push({ version: 'v12', effectiveDate: '2025-07-01' });
    const denied = reviewLokiStack(stackRequest('UPDATE', down, appliedStack()), NOW);
    expect(denied.status!.message).toContain('v12 from 2025-07-01 would downgrade the schema from v13 from 2024-06-01');

    const up = appliedStack();
    up.spec.storage.schemas!.push({ version: 'v13', effectiveDate: '2025-06-16' });
    expect(reviewLokiStack(stackRequest('UPDATE', up, appliedStack()), NOW)).toEqual({ uid: 'uid-1', allowed: true });
  });

  it('protects the old spec\'s entries while the operator has not recorded a history yet', () => {
    const old = sampleStack(); // no status
    const edited = sampleStack();
    edited.spec.storage.schemas = [{ version: 'v13', effectiveDate: '2024-06-01' }]; // drops the applied v12 period
    const r = reviewLokiStack(stackRequest('UPDATE', edited, old), NOW);
    expect(r.status!.message).toContain('cannot remove the applied schema entry v12 from 2023-01-01');
    // A brand-new stack has no history to protect.
    expect(reviewLokiStack(stackRequest('CREATE', edited), NOW).allowed).toBe(true);
  });

  it('leaves DELETE and status writes alone', () => {
    const bad = sampleStack({ storage: { secret: { name: 'x', type: 'filesystem' } } });
    expect(reviewLokiStack(stackRequest('DELETE', bad), NOW).allowed).toBe(true);
    expect(reviewLokiStack({ ...stackRequest('UPDATE', bad, bad), subResource: 'status' }, NOW).allowed).toBe(true);
  });
});

describe('LokiTenant admission', () => {
  it('explains what is wrong with a tenant ID', () => {
    expect(tenantIdError('team-a')).toBeUndefined();
    expect(tenantIdError("a!b-c_d.e*f'g(h)")).toBeUndefined();
    expect(tenantIdError('a/b')).toMatch(/^"a\/b" is not a valid tenant ID: the character "\/" is not allowed; a tenant ID is 1 to 150 characters/);
    expect(tenantIdError('..')).toMatch(/^"\.\." cannot be a tenant ID/);
    expect(tenantIdError('')).toMatch(/^the tenant ID is empty/);
    expect(tenantIdError('x'.repeat(151))).toContain('is 151 characters long');
    expect(tenantIdError('tenant é')).toContain('the character " " is not allowed');
  });

  it('denies bad tenant IDs and unparseable retention selectors, naming the fields; admits a good tenant', () => {
    expect(reviewLokiTenant(tenantRequest(sampleTenant('a', 'team-a', { retention: { streams: [{ selector: '{app="api"}', days: 3 }] } })))).toEqual({
      uid: 'uid-2',
      allowed: true,
    });
    const bad = sampleTenant('a', 'team/a', { retention: { streams: [{ selector: '{app="api"}', days: 3 }, { selector: 'app="api"', days: 3 }] } });
    expect(validateTenantObject(bad).map((e) => e.field)).toEqual(['spec.tenantId', 'spec.retention.streams[1].selector']);
    const r = reviewLokiTenant(tenantRequest(bad));
    expect(r.allowed).toBe(false);
    expect(r.status!.message).toMatch(/^LokiTenant observability\/a is invalid: spec\.tenantId: "team\/a" is not a valid tenant ID/);
    expect(r.status!.message).toContain('spec.retention.streams[1].selector: invalid stream selector "app=\\"api\\""');
  });

  it('leaves policy and duplicate IDs to reconcile (they depend on other objects)', () => {
    // Over any policy a stack might have, and sharing an ID: still admitted, Rejected later with a reason.
    expect(reviewLokiTenant(tenantRequest(sampleTenant('b', 'team-a', { retention: { days: 10_000 } }))).allowed).toBe(true);
  });
});

describe('AdmissionReview envelope', () => {
  it('answers in the request\'s apiVersion with the request\'s uid', () => {
    const body: AdmissionReview = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: stackRequest('CREATE', sampleStack()) };
    expect(review(body, NOW)).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'uid-1', allowed: true } });
  });

  it('names what is wrong with something that is not an AdmissionReview', () => {
    expect(admissionReviewProblem(null)).toBe('the body is not a JSON object');
    expect(admissionReviewProblem({ kind: 'Pod' })).toBe('kind must be AdmissionReview, got "Pod"');
    expect(admissionReviewProblem({ kind: 'AdmissionReview', apiVersion: 'v1' })).toContain('apiVersion must be one of');
    expect(admissionReviewProblem({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request: {} })).toBe('request.uid is missing');
  });
});

describe('webhook HTTPS server', () => {
  let dir: string;
  let cert: ServingCert;
  let server: WebhookServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-webhook-test-'));
    const ca = await makeCa(dir);
    cert = await makeServingCert(ca, { into: dir });
    server = await startWebhookServer({ host: '127.0.0.1', port: 0, certFile: cert.certFile, keyFile: cert.keyFile, now: () => NOW, certCheckIntervalMs: 0 });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function post(path: string, body: string | object, method = 'POST', port = server.port): Promise<{ status: number; json: any; peerSerial: string }> {
    return new Promise((resolve, reject) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      const req = request(
        { host: '127.0.0.1', port, path, method, ca: cert.caPem, agent: false, headers: { 'Content-Type': 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            const peer = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
            resolve({ status: res.statusCode ?? 0, json: raw ? JSON.parse(raw) : undefined, peerSerial: peer.serialNumber });
          });
        },
      );
      req.on('error', reject);
      req.end(method === 'POST' ? text : undefined);
    });
  }

  const stackReview = (stack: LokiStack): AdmissionReview => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: stackRequest('CREATE', stack) });

  it('serves reviews over TLS with a certificate the CA vouches for', async () => {
    const ok = await post(WEBHOOK_PATHS.lokistack, stackReview(sampleStack()));
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'uid-1', allowed: true } });
    const denied = await post(WEBHOOK_PATHS.lokistack, stackReview(sampleStack({ storage: { secret: { name: 'x', type: 'filesystem' } } })));
    expect(denied.json.response).toMatchObject({ allowed: false, status: { code: 422, message: expect.stringContaining('filesystem storage is only allowed with size 1x.demo') } });
    const tenant = await post(WEBHOOK_PATHS.lokitenant, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: tenantRequest(sampleTenant('a', '..')) });
    expect(tenant.json.response.status.message).toContain('spec.tenantId: ".." cannot be a tenant ID');
    expect(server.served).toBe(3);
  });

  it('refuses a kind sent to the other kind\'s path, wrong methods, unknown paths and bodies that are not reviews', async () => {
    const crossed = await post(WEBHOOK_PATHS.lokitenant, stackReview(sampleStack()));
    expect(crossed.json.response).toMatchObject({ allowed: false, status: { code: 400, message: 'this webhook validates LokiTenant, got LokiStack' } });
    expect((await post(WEBHOOK_PATHS.lokistack, '', 'GET')).status).toBe(405);
    expect((await post('/mutate', stackReview(sampleStack()))).status).toBe(404);
    expect(await post(WEBHOOK_PATHS.lokistack, '{not json')).toMatchObject({ status: 400, json: { message: 'the request body is not JSON' } });
    expect(await post(WEBHOOK_PATHS.lokistack, { kind: 'Pod' })).toMatchObject({ status: 400, json: { message: 'not an AdmissionReview: kind must be AdmissionReview, got "Pod"' } });
    expect((await post(WEBHOOK_PATHS.lokistack, 'x'.repeat(4 * 1024 * 1024))).status).toBe(413);
  });

  it('switches to a rotated certificate without a restart: the files are watched', async () => {
    const watching = await startWebhookServer({ host: '127.0.0.1', port: 0, certFile: cert.certFile, keyFile: cert.keyFile, certCheckIntervalMs: 50 });
    try {
      const serial = async () => (await post(WEBHOOK_PATHS.lokistack, stackReview(sampleStack()), 'POST', watching.port)).peerSerial;
      const before = await serial();
      const ca = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
      await makeServingCert(ca, { into: dir }); // overwrites tls.crt / tls.key in place
      expect(readFileSync(cert.certFile, 'utf8')).toContain('BEGIN CERTIFICATE');
      const deadline = Date.now() + 5000;
      let after = await serial();
      while (after === before && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        after = await serial();
      }
      expect(after).not.toBe(before);
    } finally {
      await watching.close();
    }
  });
});
