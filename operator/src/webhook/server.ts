// The admission webhook's HTTPS server (node:https). The apiserver POSTs an AdmissionReview to one path per kind
// and verifies our certificate against the caBundle of the ValidatingWebhookConfiguration. The certificate files
// are re-read when they change (cert-manager and OLM rotate them in place), without a restart.
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, silentLogger, type KubeLogger } from '../kube/index.js';
import { admissionReviewProblem, review, type AdmissionReview } from './admission.js';

/** The paths the ValidatingWebhookConfiguration points at. */
export const WEBHOOK_PATHS = {
  lokistack: '/validate-loki-strata-dev-v1-lokistack',
  lokitenant: '/validate-loki-strata-dev-v1-lokitenant',
} as const;

export interface WebhookServerOptions {
  /** Default 0.0.0.0. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  certFile: string;
  keyFile: string;
  now?: () => Date;
  log?: KubeLogger;
  /** Largest request body accepted. Default 3 MiB (the apiserver's own object limit is 1.5 MiB, twice in an UPDATE). */
  maxBodyBytes?: number;
  /** How often the certificate files are checked for changes. Default 10 s; 0 = never. */
  certCheckIntervalMs?: number;
}

export interface WebhookServer {
  readonly port: number;
  readonly host: string;
  /** Requests answered (any outcome). */
  readonly served: number;
  /** Re-reads the certificate and key now. */
  reloadCertificate(): void;
  close(): Promise<void>;
}

function readPair(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const log = options.log ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const maxBody = options.maxBodyBytes ?? 3 * 1024 * 1024;
  const host = options.host ?? '0.0.0.0';
  let served = 0;

  const server: Server = createServer({ ...readPair(options.certFile, options.keyFile), minVersion: 'TLSv1.2' }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error('webhook request failed', { path: req.url, err: describeError(err) });
      if (!res.headersSent) send(res, 500, { message: 'internal error' });
      else res.destroy();
    });
  });
  // A client that never finishes its request must not hold a socket forever; the apiserver gives up after 10 s.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  server.on('tlsClientError', (err) => log.debug('webhook TLS handshake failed', { err: describeError(err) }));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz' || path === '/readyz') return send(res, 200, { status: 'ok' });
    const expected = path === WEBHOOK_PATHS.lokistack ? 'LokiStack' : path === WEBHOOK_PATHS.lokitenant ? 'LokiTenant' : undefined;
    if (!expected) return send(res, 404, { message: `no webhook at ${path}` });
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return send(res, 405, { message: 'an AdmissionReview is POSTed' });
    }
    const body = await readBody(req, maxBody);
    if (body === undefined) return send(res, 413, { message: `the request body exceeds ${maxBody} bytes` });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return send(res, 400, { message: 'the request body is not JSON' });
    }
    const problem = admissionReviewProblem(parsed);
    if (problem) return send(res, 400, { message: `not an AdmissionReview: ${problem}` });
    const reviewIn = parsed as AdmissionReview;
    // The path decides the kind: a LokiTenant sent to the LokiStack path (a misconfigured webhook) is not waved through.
    const kind = reviewIn.request!.kind?.kind;
    let out: AdmissionReview;
    if (kind !== expected) {
      out = {
        apiVersion: reviewIn.apiVersion,
        kind: 'AdmissionReview',
        response: {
          uid: reviewIn.request!.uid,
          allowed: false,
          status: { code: 400, reason: 'BadRequest', message: `this webhook validates ${expected}, got ${String(kind)}` },
        },
      };
    } else {
      out = review(reviewIn, now());
    }
    served++;
    const r = out.response!;
    log.debug('admission review', { kind, name: reviewIn.request!.name, operation: reviewIn.request!.operation, allowed: r.allowed });
    if (!r.allowed) log.info('admission denied', { kind, namespace: reviewIn.request!.namespace, name: reviewIn.request!.name, message: r.status?.message });
    send(res, 200, out);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('webhook server error', { err: describeError(err) }));
  const address = server.address() as AddressInfo;

  const reloadCertificate = (): void => {
    try {
      server.setSecureContext({ ...readPair(options.certFile, options.keyFile), minVersion: 'TLSv1.2' });
      log.info('webhook certificate reloaded', { certFile: options.certFile });
    } catch (err) {
      // Half-written files during a rotation: keep serving the old certificate, the next change retries.
      log.warn('webhook certificate reload failed; keeping the current one', { err: describeError(err) });
    }
  };
  const interval = options.certCheckIntervalMs ?? 10_000;
  const onChange = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino) reloadCertificate();
  };
  if (interval > 0) {
    for (const f of [options.certFile, options.keyFile]) watchFile(f, { interval, persistent: false }, onChange);
  }
  log.info('webhook server listening', { host, port: address.port });

  return {
    port: address.port,
    host,
    get served() {
      return served;
    },
    reloadCertificate,
    async close() {
      if (interval > 0) for (const f of [options.certFile, options.keyFile]) unwatchFile(f, onChange);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The body, or undefined when it is larger than `limit` (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}
