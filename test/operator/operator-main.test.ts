// The composition root's settings: flags and environment, the required engine image with a clear error, kubeconfig
// resolution, webhook certificate paths, and the logfmt logger.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINE_IMAGE_ENV, SettingsError, loadSettings, logfmtLogger, parseFlags } from '../../operator/src/main.js';

let dir: string;
let kubeconfig: string;
let certDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-main-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );
  certDir = join(dir, 'certs');
  mkdirSync(certDir);
  writeFileSync(join(certDir, 'tls.crt'), 'cert');
  writeFileSync(join(certDir, 'tls.key'), 'key');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const baseEnv = (): NodeJS.ProcessEnv => ({ [ENGINE_IMAGE_ENV]: 'registry.example/strata:1', KUBECONFIG: kubeconfig, POD_NAMESPACE: 'ops', WEBHOOK_CERT_DIR: certDir });

function settingsError(argv: string[], env: NodeJS.ProcessEnv): string {
  try {
    loadSettings(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError);
    return (err as Error).message;
  }
  throw new Error('expected a SettingsError');
}

describe('operator settings', () => {
  it('refuses to start without the engine image, saying which variable to set', () => {
    const env = baseEnv();
    delete env[ENGINE_IMAGE_ENV];
    expect(settingsError([], env)).toMatch(/^RELATED_IMAGE_STRATA is not set: the operator needs the Strata engine image/);
    expect(settingsError([], { ...env, [ENGINE_IMAGE_ENV]: '  ' })).toMatch(/^RELATED_IMAGE_STRATA is not set/);
  });

  it('reads the environment: kubeconfig, namespace, webhook certificates, defaults for the rest', () => {
    const s = loadSettings([], { ...baseEnv(), POD_NAME: 'strata-operator-abc' });
    expect(s.engineImage).toBe('registry.example/strata:1');
    expect(s.kubeConfig.getCurrentCluster()!.server).toBe('https://127.0.0.1:6443');
    expect(s.namespace).toBe('ops');
    expect(s.identity).toMatch(/^strata-operator-abc_[0-9a-f]{8}$/);
    expect(s.leaderElection).toEqual({ leaseName: 'strata-operator-leader' });
    expect(s.webhook).toEqual({ host: '0.0.0.0', port: 9443, certFile: join(certDir, 'tls.crt'), keyFile: join(certDir, 'tls.key') });
    expect(s.health).toEqual({ host: '0.0.0.0', port: 8081 });
    expect(s.workers).toBe(2);
    expect(s.resyncMs).toBe(600_000);
  });

  it('lets flags override the environment', () => {
    const s = loadSettings(
      ['--kubeconfig', kubeconfig, '--namespace=strata', '--leader-election-id=my-lease', '--webhook-port=10250', '--health-port', '0', '--workers=4', '--resync-period=90s'],
      { ...baseEnv(), KUBECONFIG: '/nonexistent' },
    );
    expect(s.namespace).toBe('strata');
    expect(s.leaderElection).toEqual({ leaseName: 'my-lease' });
    expect(s.webhook!.port).toBe(10250);
    expect(s.health!.port).toBe(0);
    expect(s.workers).toBe(4);
    expect(s.resyncMs).toBe(90_000);
  });

  it('runs without a webhook or leader election when told to', () => {
    const env: NodeJS.ProcessEnv = { ...baseEnv(), ENABLE_WEBHOOKS: 'false', WEBHOOK_CERT_DIR: '/nonexistent' };
    delete env.POD_NAMESPACE;
    const s = loadSettings(['--leader-elect=false'], env);
    expect(s.webhook).toBeUndefined();
    expect(s.leaderElection).toBe(false);
  });

  it('says what is wrong with bad settings', () => {
    expect(settingsError(['--webhok-port=1'], baseEnv())).toBe('unknown flag --webhok-port');
    expect(settingsError(['serve'], baseEnv())).toContain('unexpected argument "serve"');
    expect(settingsError(['--workers=0'], baseEnv())).toBe('--workers must be an integer ≥ 1, got "0"');
    expect(settingsError(['--leader-elect=maybe'], baseEnv())).toBe('--leader-elect must be true or false, got "maybe"');
    expect(settingsError(['--resync-period=soon'], baseEnv())).toContain('--resync-period must be a duration');
    expect(settingsError([], { ...baseEnv(), WEBHOOK_CERT_DIR: join(dir, 'none') })).toContain(
      `webhook certificate file ${join(dir, 'none', 'tls.crt')} does not exist`,
    );
    const noNs = baseEnv();
    delete noNs.POD_NAMESPACE;
    expect(settingsError([], noNs)).toContain('leader election needs the operator\'s namespace');
    expect(settingsError([], { ...baseEnv(), KUBECONFIG: join(dir, 'missing') })).toContain(`cannot load the kubeconfig ${join(dir, 'missing')}`);
  });

  it('parses --name=value, --name value and bare --flag', () => {
    expect([...parseFlags(['--a=1', '--b', '2', '--c', '--d=x=y'])]).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', 'true'],
      ['d', 'x=y'],
    ]);
  });
});

describe('logfmtLogger', () => {
  it('writes one logfmt line per record at or above its level, quoting values that need it', () => {
    const lines: string[] = [];
    const log = logfmtLogger('info', (l) => lines.push(l));
    log.debug('hidden');
    log.info('reconciled', { stack: 'ns/logs', objects: 3, skipped: undefined });
    log.warn('reconcile failed', { err: 'fetch failed: ECONNRESET', detail: { a: 1 } });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ts=\S+ level=info msg=reconciled stack=ns\/logs objects=3\n$/);
    expect(lines[1]).toMatch(/ level=warn msg="reconcile failed" err="fetch failed: ECONNRESET" detail="\{\\"a\\":1\}"\n$/);
  });
});
