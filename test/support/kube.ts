// A real Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager on loopback) for the operator's
// tests, started by scripts/kube/control-plane.sh. The binaries are built once per machine by
// `bash scripts/kube/control-plane.sh build` (CI runs it before Jest); without them every test here fails with that
// instruction rather than being skipped.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ApiextensionsV1Api, KubeConfig, ApiException } from '@kubernetes/client-node';
import { resources } from '../../operator/src/api/v1/index.js';

const run = promisify(execFile);

export const ROOT = resolve(import.meta.dirname, '../..');
export const CONTROL_PLANE_SCRIPT = join(ROOT, 'scripts/kube/control-plane.sh');
export const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';

export interface ControlPlane {
  /** State directory: etcd data, certificates, logs (`*.log`), kubeconfig. */
  dir: string;
  kubeconfigPath: string;
  /** A fresh KubeConfig for @kubernetes/client-node (verifies the apiserver against the test CA). */
  kubeConfig(): KubeConfig;
  server: string;
  /** Bearer token of a system:masters user. */
  token: string;
  /** The CA that signed the apiserver's certificate; tests can sign webhook certificates with it. */
  caCertPath: string;
  caKeyPath: string;
  /** Runs kubectl against this control plane; rejects with stderr on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a control plane in a new temporary directory (≈ 5–15 s once the binaries are cached). */
export async function startControlPlane(): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-kube-'));
  try {
    await run('bash', [CONTROL_PLANE_SCRIPT, 'start', dir], {
      // The script's watchdog stops the control plane if this test process dies without calling stop().
      env: { ...process.env, STRATA_KUBE_OWNER_PID: String(process.pid) },
      timeout: 180_000,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    await run('bash', [CONTROL_PLANE_SCRIPT, 'stop', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start the Kubernetes control plane (scripts/kube/control-plane.sh start):\n${stderr || String(err)}`, {
      cause: err,
    });
  }
  const env = Object.fromEntries(
    readFileSync(join(dir, 'env'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const kubeconfigPath = join(dir, 'kubeconfig');
  let stopped = false;
  return {
    dir,
    kubeconfigPath,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    server: env.KUBE_SERVER!,
    token: env.KUBE_TOKEN!,
    caCertPath: env.KUBE_CA!,
    caKeyPath: env.KUBE_CA_KEY!,
    async kubectl(args, input) {
      return kubectl(kubeconfigPath, args, input);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await run('bash', [CONTROL_PLANE_SCRIPT, 'stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function kubectl(kubeconfigPath: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      KUBECTL,
      [`--kubeconfig=${kubeconfigPath}`, ...args],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr || err.message}`));
        else resolvePromise(stdout);
      },
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

/**
 * Starts one control plane for the calling test file (beforeAll) and stops it afterwards (afterAll). Returns an
 * accessor, since the control plane exists only once beforeAll has run.
 */
export function useControlPlane(): () => ControlPlane {
  let plane: ControlPlane | undefined;
  beforeAll(async () => {
    plane = await startControlPlane();
  }, 200_000);
  afterAll(async () => {
    await plane?.stop();
  }, 30_000);
  return () => {
    if (!plane) throw new Error('the control plane did not start (see the beforeAll error)');
    return plane;
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The apiserver's error for a failed call: HTTP status and the Status object's message. */
export function apiError(err: unknown): { code: number; message: string } {
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    return { code: err.code, message: (body as { message?: string } | undefined)?.message ?? String(err.body) };
  }
  throw err;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/**
 * Applies the committed CRDs with kubectl, as a user installs them, and waits until the apiserver serves them
 * (condition Established). Polls the API rather than `kubectl wait`: this kubectl (1.20) fails at once, instead of
 * waiting, when a just-created CRD has no status conditions yet.
 */
export async function applyCrds(plane: ControlPlane, fieldManager?: string): Promise<void> {
  await plane.kubectl(['apply', '--server-side', ...(fieldManager ? [`--field-manager=${fieldManager}`] : []), '-f', join(ROOT, 'crds')]);
  const crds = plane.kubeConfig().makeApiClient(ApiextensionsV1Api);
  for (const def of resources) {
    await eventually(async () => {
      const crd = await crds.readCustomResourceDefinition({ name: `${def.plural}.${def.group}` });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    }, 30_000, `${def.kind} CRD Established`);
  }
}
