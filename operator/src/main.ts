// The operator's composition root: settings from flags and environment, one KubeClient, the controller (informers →
// work queue → LokiStack reconciler) under Lease leader election, the admission webhook (served by every replica,
// leader or not) and the health endpoints. Nothing here exits on a cluster error: informers restart, reconciles
// retry; only bad settings at start-up stop the process (exit code 2) with a message saying what to set.
//
//   node operator/dist/main.js [--kubeconfig=PATH] [--namespace=NS] [--leader-elect=true] [--webhook-port=9443]
//        [--webhook-cert-dir=DIR | --webhook-cert-file=F --webhook-key-file=F] [--health-port=8081] [--log-level=info]
//   RELATED_IMAGE_STRATA=<engine image> (required)
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig, VersionApi, type KubernetesObject } from '@kubernetes/client-node';
import type { LokiStack, LokiTenant } from './api/v1/index.js';
import { LokiStackHandler } from './handlers/lokistack.js';
import { TenantStackIndex } from './handlers/lokitenant.js';
import { CONFIGMAP, DEPLOYMENT, LOKISTACK, LOKITENANT, POD, SECRET, SERVICE, STATEFULSET } from './handlers/resources.js';
import {
  KubeRestClient,
  describeError,
  objectKey,
  runController,
  type Controller,
  type InformerSpec,
  type KubeLogger,
} from './kube/index.js';
import type { PodDisruptionBudgetApiVersion } from './manifests/kube-types.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGED_BY } from './names.js';
import { startWebhookServer, type WebhookServer } from './webhook/server.js';

/** The environment variable naming the engine image (OLM's relatedImages convention). */
export const ENGINE_IMAGE_ENV = 'RELATED_IMAGE_STRATA';
export const DEFAULT_LEASE_NAME = 'strata-operator-leader';
export const DEFAULT_WEBHOOK_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';
const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** Bad settings: the process cannot start, and the message says what to change. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

export interface WebhookSettings {
  host?: string;
  port: number;
  certFile: string;
  keyFile: string;
}

export interface OperatorSettings {
  kubeConfig: KubeConfig;
  engineImage: string;
  /** The operator's namespace: where the leader election Lease lives. */
  namespace: string;
  /** This replica's identity in the Lease. */
  identity: string;
  /** Lease-based leader election; false: this replica always leads (one replica, or tests). */
  leaderElection: false | { leaseName: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** Omitted: no webhook server (ENABLE_WEBHOOKS=false). */
  webhook?: WebhookSettings;
  /** Omitted: no health server. */
  health?: { host?: string; port: number };
  workers?: number;
  resyncMs?: number;
  informerBackoff?: { initialMs?: number; maxMs?: number };
  backoff?: { baseMs?: number; maxMs?: number };
  engineCommand?: string[];
  log?: KubeLogger;
  now?: () => Date;
}

export interface Operator {
  readonly controller: Controller;
  readonly client: KubeRestClient;
  readonly handler: LokiStackHandler;
  readonly webhook?: WebhookServer;
  /** The health server's port (when started). */
  readonly healthPort?: number;
  /** Every informer has listed once (and the webhook, if any, is listening). */
  ready(): boolean;
  /** Stops the webhook, the workers (waiting for reconciles in flight), releases the Lease, stops informers. */
  stop(): Promise<void>;
}

// ── settings ────────────────────────────────────────────────────────────────────────────────────────────────────

/** `--name=value`, `--name value` and bare `--flag` (true) → a map. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new SettingsError(`unexpected argument ${JSON.stringify(arg)} (flags look like --name=value)`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.set(arg.slice(2), argv[++i]!);
    else flags.set(arg.slice(2), 'true');
  }
  return flags;
}

const KNOWN_FLAGS = new Set([
  'kubeconfig',
  'namespace',
  'leader-elect',
  'leader-election-id',
  'enable-webhooks',
  'webhook-bind-address',
  'webhook-port',
  'webhook-cert-dir',
  'webhook-cert-file',
  'webhook-key-file',
  'health-bind-address',
  'health-port',
  'workers',
  'resync-period',
  'log-level',
]);

function bool(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new SettingsError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

function integer(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new SettingsError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return n;
}

/** A Go-style duration of whole units (`10m`, `90s`, `1h`) in milliseconds. */
function duration(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const m = /^(\d+)(ms|s|m|h)$/.exec(value);
  if (!m) throw new SettingsError(`${name} must be a duration such as 10m or 30s, got ${JSON.stringify(value)}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/**
 * The kubeconfig: --kubeconfig, else $KUBECONFIG, else the in-cluster service account (KUBERNETES_SERVICE_HOST),
 * else ~/.kube/config.
 */
export function loadKubeConfig(path: string | undefined, env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else if (env.KUBECONFIG) kc.loadFromFile(env.KUBECONFIG.split(':')[0]!);
    else if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err) {
    throw new SettingsError(`cannot load the kubeconfig${path || env.KUBECONFIG ? ` ${path || env.KUBECONFIG}` : ''}: ${describeError(err)}`);
  }
  if (!kc.getCurrentCluster()) {
    throw new SettingsError('no Kubernetes cluster configured: run in a pod, or set KUBECONFIG or --kubeconfig');
  }
  return kc;
}

/** Settings from flags and environment (flags win). Throws SettingsError naming what is missing or wrong. */
export function loadSettings(argv: readonly string[], env: NodeJS.ProcessEnv, log?: KubeLogger): OperatorSettings {
  const flags = parseFlags(argv);
  for (const name of flags.keys()) if (!KNOWN_FLAGS.has(name)) throw new SettingsError(`unknown flag --${name}`);
  const get = (flag: string, envName: string): string | undefined => flags.get(flag) ?? (env[envName] || undefined);

  const engineImage = (env[ENGINE_IMAGE_ENV] ?? '').trim();
  if (!engineImage) {
    throw new SettingsError(
      `${ENGINE_IMAGE_ENV} is not set: the operator needs the Strata engine image its LokiStacks run ` +
        `(e.g. ${ENGINE_IMAGE_ENV}=registry.example/strata/engine:0.1.0; config/manager and the bundle set it)`,
    );
  }
  const namespace =
    get('namespace', 'OPERATOR_NAMESPACE') ??
    env.POD_NAMESPACE ??
    (existsSync(IN_CLUSTER_NAMESPACE_FILE) ? readFileSync(IN_CLUSTER_NAMESPACE_FILE, 'utf8').trim() : undefined);
  const leaderElect = bool('--leader-elect', get('leader-elect', 'LEADER_ELECT'), true);
  if (leaderElect && !namespace) {
    throw new SettingsError('leader election needs the operator\'s namespace: set --namespace or POD_NAMESPACE (or --leader-elect=false)');
  }
  const kubeConfig = loadKubeConfig(flags.get('kubeconfig'), env);

  let webhook: WebhookSettings | undefined;
  if (bool('--enable-webhooks', get('enable-webhooks', 'ENABLE_WEBHOOKS'), true)) {
    const dir = get('webhook-cert-dir', 'WEBHOOK_CERT_DIR') ?? DEFAULT_WEBHOOK_CERT_DIR;
    const certFile = get('webhook-cert-file', 'WEBHOOK_CERT_FILE') ?? join(dir, 'tls.crt');
    const keyFile = get('webhook-key-file', 'WEBHOOK_KEY_FILE') ?? join(dir, 'tls.key');
    for (const f of [certFile, keyFile]) {
      if (!existsSync(f)) {
        throw new SettingsError(
          `webhook certificate file ${f} does not exist: mount the serving certificate (tls.crt, tls.key) in ` +
            `--webhook-cert-dir, or set ENABLE_WEBHOOKS=false to run without the admission webhook`,
        );
      }
    }
    webhook = {
      host: get('webhook-bind-address', 'WEBHOOK_BIND_ADDRESS') ?? '0.0.0.0',
      port: integer('--webhook-port', get('webhook-port', 'WEBHOOK_PORT'), 9443, 0),
      certFile,
      keyFile,
    };
  }
  const healthPort = integer('--health-port', get('health-port', 'HEALTH_PORT'), 8081, 0);
  const identity = `${env.POD_NAME || hostname()}_${randomBytes(4).toString('hex')}`;
  return {
    kubeConfig,
    engineImage,
    namespace: namespace ?? 'default',
    identity,
    leaderElection: leaderElect ? { leaseName: get('leader-election-id', 'LEADER_ELECTION_ID') ?? DEFAULT_LEASE_NAME } : false,
    ...(webhook ? { webhook } : {}),
    health: { host: get('health-bind-address', 'HEALTH_BIND_ADDRESS') ?? '0.0.0.0', port: healthPort },
    workers: integer('--workers', get('workers', 'WORKERS'), 2, 1),
    resyncMs: duration('--resync-period', get('resync-period', 'RESYNC_PERIOD'), 600_000),
    ...(log ? { log } : {}),
  };
}

// ── logging ─────────────────────────────────────────────────────────────────────────────────────────────────────

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** logfmt lines on stderr (the engine's log format): `ts=… level=info msg="…" key=value`. */
export function logfmtLogger(minLevel: Level = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): KubeLogger {
  const min = LEVELS.indexOf(minLevel);
  const value = (v: unknown): string => {
    const s = typeof v === 'string' ? v : v instanceof Error ? v.message : JSON.stringify(v);
    return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
  };
  const emit = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(level) < min) return;
    const parts = [`ts=${new Date().toISOString()}`, `level=${level}`, `msg=${value(msg)}`];
    for (const [k, v] of Object.entries(fields ?? {})) if (v !== undefined) parts.push(`${k}=${value(v)}`);
    write(`${parts.join(' ')}\n`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

// ── composition ─────────────────────────────────────────────────────────────────────────────────────────────────

/** The LokiStack key of an object the operator manages: its namespace and the stack in its instance label. */
function ownerStackKey(obj: KubernetesObject): string | undefined {
  const stack = obj.metadata?.labels?.[LABEL_INSTANCE];
  const ns = obj.metadata?.namespace;
  return stack && ns ? `${ns}/${stack}` : undefined;
}

/** The PodDisruptionBudget API of the server: policy/v1 from Kubernetes 1.21. */
async function serverPdbApiVersion(kc: KubeConfig): Promise<PodDisruptionBudgetApiVersion> {
  const version = await kc.makeApiClient(VersionApi).getCode();
  const minor = Number.parseInt(version.minor, 10);
  return Number.parseInt(version.major, 10) === 1 && minor < 21 ? 'policy/v1beta1' : 'policy/v1';
}

/** Binds a server; rejects (instead of emitting 'error' later) when the address is taken. */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Starts everything; resolves once the webhook and health servers listen (informers sync in the background). The
 * servers bind first, so a taken port fails the start before any watch or Lease exists.
 */
export async function startOperator(settings: OperatorSettings): Promise<Operator> {
  const log = settings.log ?? logfmtLogger();
  // Filled in once the controller runs: the health server and the event mappings read it.
  const self: { controller?: Controller } = {};
  const ready = (): boolean => self.controller?.hasSynced() ?? false;

  let webhook: WebhookServer | undefined;
  let health: Server | undefined;
  try {
    if (settings.webhook) {
      webhook = await startWebhookServer({ ...settings.webhook, log, ...(settings.now ? { now: settings.now } : {}) });
    }
    if (settings.health) {
      health = createServer((req, res) => {
        const path = (req.url ?? '').split('?')[0];
        // healthz: the event loop answers. readyz: caches are filled, so this replica's webhook can take traffic.
        const ok = path === '/healthz' ? true : path === '/readyz' ? ready() : undefined;
        if (ok === undefined) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : 'informers not synced\n');
      });
      await listen(health, settings.health.port, settings.health.host ?? '0.0.0.0');
      health.on('error', (err) => log.error('health server error', { err: describeError(err) }));
    }
  } catch (err) {
    await webhook?.close();
    health?.close();
    throw err;
  }

  const client = new KubeRestClient(settings.kubeConfig);
  const handler = new LokiStackHandler({
    client,
    engineImage: settings.engineImage,
    pdbApiVersion: () => serverPdbApiVersion(settings.kubeConfig),
    ...(settings.engineCommand ? { engineCommand: settings.engineCommand } : {}),
    ...(settings.now ? { now: settings.now } : {}),
    log,
  });
  const tenants = new TenantStackIndex();
  const stacksUsingSecret = (secret: KubernetesObject): string[] => {
    const stacks = self.controller?.informer<LokiStack>(LOKISTACK)?.list(secret.metadata?.namespace) ?? [];
    return stacks
      .filter((s) => s.spec?.storage?.secret?.type !== 'filesystem' && s.spec?.storage?.secret?.name === secret.metadata?.name)
      .map((s) => objectKey(s));
  };
  const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
  const informers: InformerSpec[] = [
    { gvk: LOKISTACK },
    { gvk: LOKITENANT, mapToKeys: (t) => tenants.keysFor(t as LokiTenant) },
    { gvk: SECRET, mapToKeys: stacksUsingSecret },
    ...[CONFIGMAP, SERVICE, DEPLOYMENT, STATEFULSET, POD].map((gvk) => ({ gvk, labelSelector: managed, mapToKeys: ownerStackKey })),
  ];
  const election = settings.leaderElection;
  // Mapping functions run only on informer events, which arrive after runController has returned.
  const ctl = runController({
    client,
    informers,
    reconcile: handler.reconcile,
    workers: settings.workers ?? 2,
    resyncMs: settings.resyncMs ?? 600_000,
    ...(settings.backoff ? { backoff: settings.backoff } : {}),
    ...(settings.informerBackoff ? { informerBackoff: settings.informerBackoff } : {}),
    ...(election
      ? {
          leaderElection: {
            lease: { name: election.leaseName, namespace: settings.namespace },
            identity: settings.identity,
            ...(election.leaseDurationMs ? { leaseDurationMs: election.leaseDurationMs } : {}),
            ...(election.renewDeadlineMs ? { renewDeadlineMs: election.renewDeadlineMs } : {}),
            ...(election.retryPeriodMs ? { retryPeriodMs: election.retryPeriodMs } : {}),
            onNewLeader: (leader: string | undefined) => log.info('leader observed', { leader }),
          },
        }
      : {}),
    log,
  });
  self.controller = ctl;
  ctl.informer<LokiTenant>(LOKITENANT)!.on('delete', (t) => tenants.forget(t));

  const healthPort = health ? (health.address() as AddressInfo).port : undefined;
  log.info('operator started', {
    identity: settings.identity,
    namespace: settings.namespace,
    engineImage: settings.engineImage,
    leaderElection: election ? election.leaseName : false,
    webhookPort: webhook?.port,
    healthPort,
  });

  let stopping: Promise<void> | undefined;
  return {
    controller: ctl,
    client,
    handler,
    ...(webhook ? { webhook } : {}),
    ...(healthPort !== undefined ? { healthPort } : {}),
    ready,
    stop() {
      stopping ??= (async () => {
        log.info('operator stopping');
        // The webhook first: a replica going away stops taking admission requests before it stops reconciling.
        await webhook?.close();
        await ctl.stop();
        if (health) {
          const h = health;
          await new Promise<void>((resolve) => {
            h.close(() => resolve());
            h.closeAllConnections();
          });
        }
        await client.close();
        log.info('operator stopped');
      })();
      return stopping;
    },
  };
}

/** The process entry point: exit code 2 on bad settings, 1 when a server cannot start, 0 after SIGTERM/SIGINT. */
export async function main(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const levelText = parseFlagsSafe(argv).get('log-level') ?? env.LOG_LEVEL ?? 'info';
  const level = (LEVELS as readonly string[]).includes(levelText) ? (levelText as Level) : 'info';
  const log = logfmtLogger(level);
  let settings: OperatorSettings;
  try {
    settings = loadSettings(argv, env, log);
  } catch (err) {
    log.error('cannot start', { err: describeError(err) });
    process.exitCode = 2;
    return;
  }
  // The runtime contains its own failures; anything that still escapes is logged, never fatal (DESIGN.md §5).
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { err: describeError(err) }));
  let operator: Operator;
  try {
    operator = await startOperator(settings);
  } catch (err) {
    // A server that cannot bind its port, for example; the kubelet restarts the container.
    log.error('cannot start', { err: describeError(err) });
    process.exitCode = 1;
    return;
  }
  let signals = 0;
  const shutdown = (signal: string): void => {
    if (++signals > 1) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    log.info('shutting down', { signal });
    operator.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { err: describeError(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function parseFlagsSafe(argv: readonly string[]): Map<string, string> {
  try {
    return parseFlags(argv);
  } catch {
    return new Map();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
