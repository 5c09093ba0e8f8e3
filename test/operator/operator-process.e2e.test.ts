// operator/src/main.ts as a real process (its sources transpiled with SWC into .tmp/, run with node): without
// RELATED_IMAGE_STRATA it exits with code 2 and says what to set; with settings from flags and environment it takes
// the Lease, serves its webhook and health endpoints, reconciles a LokiStack, and on SIGTERM stops gracefully —
// releasing the Lease — and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { dirname, join, relative } from 'node:path';
import { transformFile } from '@swc/core';
import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { API_VERSION, type LokiStack } from '../../operator/src/api/v1/index.js';
import { KubeRestClient } from '../../operator/src/kube/client.js';
import { ROOT, applyCrds, eventually, useControlPlane } from '../support/kube.js';
import { makeServingCert } from './webhook-certs.js';

const plane = useControlPlane();
const OUT = join(ROOT, '.tmp', `operator-process-${process.pid}`);
const NS = 'strata-system';

let client: KubeRestClient;
const children: ChildProcess[] = [];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** operator/src → .tmp/…/*.js (imports already end in .js); node_modules resolve from the repository root. */
async function transpileOperator(): Promise<string> {
  const src = join(ROOT, 'operator/src');
  for (const file of tsFiles(src)) {
    const out = await transformFile(file, {
      swcrc: false,
      jsc: { target: 'es2023', parser: { syntax: 'typescript' } },
      module: { type: 'es6' },
    });
    const target = join(OUT, relative(src, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.code);
  }
  writeFileSync(join(OUT, 'package.json'), JSON.stringify({ type: 'module' }));
  return join(OUT, 'main.js');
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startProcess(main: string, args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [main, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

let main: string;

beforeAll(async () => {
  main = await transpileOperator();
  client = new KubeRestClient(plane().kubeConfig());
  for (const name of [NS, 'apps']) await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await applyCrds(plane());
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await client?.close();
  rmSync(OUT, { recursive: true, force: true });
});

describe('the operator process', () => {
  it('exits with code 2 and names the missing RELATED_IMAGE_STRATA', async () => {
    const p = startProcess(main, [], { KUBECONFIG: plane().kubeconfigPath });
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(/level=error msg="cannot start" err="RELATED_IMAGE_STRATA is not set: the operator needs the Strata engine image/);
  }, 20_000);

  it('runs from flags and environment, reconciles, and stops gracefully on SIGTERM, releasing its Lease', async () => {
    const cert = await makeServingCert({ certFile: plane().caCertPath, keyFile: plane().caKeyPath });
    const p = startProcess(main, ['--namespace', NS, '--webhook-bind-address=127.0.0.1', '--webhook-port=0', '--health-bind-address=127.0.0.1', '--health-port=0'], {
      KUBECONFIG: plane().kubeconfigPath,
      RELATED_IMAGE_STRATA: 'registry.example/strata:process',
      POD_NAME: 'operator-under-test',
      WEBHOOK_CERT_FILE: cert.certFile,
      WEBHOOK_KEY_FILE: cert.keyFile,
    });
    const started = await eventually(async () => /msg="operator started".* webhookPort=(\d+) healthPort=(\d+)/.exec(p.output()) ?? undefined, 20_000, 'the start log line');
    const healthPort = Number(started[2]);
    await eventually(async () => ((await httpStatus(healthPort, '/readyz')) === 200 ? true : undefined), 20_000, '/readyz');
    expect(await httpStatus(healthPort, '/healthz')).toBe(200);

    const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: NS, name: 'strata-operator-leader' };
    const holder = async () => (await client.get<KubernetesObject & { spec?: { holderIdentity?: string } }>(LEASE))?.spec?.holderIdentity;
    await eventually(async () => ((await holder())?.startsWith('operator-under-test_') ? true : undefined), 20_000, 'the Lease taken');

    const stack: LokiStack = {
      apiVersion: API_VERSION,
      kind: 'LokiStack',
      metadata: { name: 'demo', namespace: 'apps' },
      spec: { size: '1x.demo', storage: { secret: { name: 'none', type: 'filesystem' } } },
    };
    await plane().kubectl(['apply', '-f', '-'], stringify(stack));
    await eventually(
      async () => ((await client.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'apps', name: 'demo-single-binary' })) ? true : undefined),
      20_000,
      'the demo StatefulSet',
    );

    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.output()).toContain('msg="shutting down" signal=SIGTERM');
    expect(p.output()).toContain('msg="operator stopped"');
    expect(await holder()).toBeUndefined();
    expect(p.output()).not.toMatch(/level=error/);
  }, 60_000);
});
