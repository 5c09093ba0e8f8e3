// Fault injection for the operator runtime's tests against the real control plane (test/support/kube.ts):
// a TCP proxy between client and apiserver that the test can cut and restore, and a restart of kube-apiserver on
// the same etcd data and port.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { ControlPlane } from '../support/kube.js';

/** Forwards 127.0.0.1:port to the apiserver; `cut()` kills every connection and refuses new ones until `restore()`. */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private blocked = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => proxy.accept(client, targetHost, targetPort));
    return proxy;
  }

  /** Connections currently open through the proxy. */
  get connections(): number {
    return this.sockets.size / 2;
  }

  cut(): void {
    this.blocked = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** The control plane's kubeconfig, pointed at another address of the same apiserver (the proxy). */
export function kubeConfigVia(plane: ControlPlane, port: number): KubeConfig {
  const base = plane.kubeConfig();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: base.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${port}` })),
    users: base.users,
    contexts: base.contexts,
    currentContext: base.currentContext,
  });
  return kc;
}

export function apiserverPort(plane: ControlPlane): number {
  return Number(new URL(plane.server).port);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops kube-apiserver and starts it again with the same arguments (same etcd data, same port, same certificates),
 * then waits for /readyz. The new process is recorded in the control plane's pid file, so `plane.stop()` stops it,
 * and a watchdog stops it should this test process die first.
 */
export async function restartApiserver(plane: ControlPlane): Promise<void> {
  const pidFile = join(plane.dir, 'kube-apiserver.pid');
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  if (!argv.some((a) => a.includes(`${plane.dir}/`))) throw new Error(`pid ${pid} is not this control plane's apiserver`);
  process.kill(pid, 'SIGTERM');
  for (let i = 0; alive(pid); i++) {
    if (i === 100) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = openSync(join(plane.dir, 'kube-apiserver.log'), 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  writeFileSync(pidFile, `${child.pid}\n`);
  const watchdog = spawn(
    'bash',
    ['-c', 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -TERM "$2" 2>/dev/null; true', 'watchdog', String(process.pid), String(child.pid)],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await plane.kubectl(['get', '--raw', '/readyz']);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`kube-apiserver did not come back: ${String(err)}`, { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Records unhandled rejections and uncaught exceptions, which would kill a real operator process. */
export function trackProcessFailures(): { failures: unknown[]; dispose(): void } {
  const failures: unknown[] = [];
  const record = (err: unknown) => failures.push(err);
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
  return {
    failures,
    dispose() {
      process.off('unhandledRejection', record);
      process.off('uncaughtException', record);
    },
  };
}

/** Sleeps on the real clock. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
