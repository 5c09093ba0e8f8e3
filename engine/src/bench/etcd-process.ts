// A real etcd (Debian's etcd-server, /usr/bin/etcd) on loopback ports: the ring store of the ring and distributed
// test suites and of the distributed benchmark.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, trackChild } from './engine-process.js';

export const ETCD_BIN = '/usr/bin/etcd';

/** A real etcd on loopback ports, its data in a temporary directory; restartable on the same data and port. */
export class EtcdServer {
  private child: ChildProcess | undefined;
  readonly url: string;
  private readonly peerUrl: string;

  private constructor(
    readonly dir: string,
    readonly port: number,
    peerPort: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.peerUrl = `http://127.0.0.1:${peerPort}`;
  }

  /** `base`: where its temporary directory goes (default the system's). */
  static async start(base = tmpdir()): Promise<EtcdServer> {
    if (!existsSync(ETCD_BIN)) {
      throw new Error(`${ETCD_BIN} is missing: install Debian's etcd-server (scripts/kube/control-plane.sh build installs it)`);
    }
    const server = new EtcdServer(mkdtempSync(join(base, 'strata-ring-etcd-')), await freePort(), await freePort());
    await server.spawn();
    return server;
  }

  async spawn(): Promise<void> {
    const log = openSync(join(this.dir, 'etcd.log'), 'a');
    const child = spawn(
      ETCD_BIN,
      [
        '--name', 'ring-test',
        '--data-dir', join(this.dir, 'data'),
        '--listen-client-urls', this.url,
        '--advertise-client-urls', this.url,
        '--listen-peer-urls', this.peerUrl,
        '--initial-advertise-peer-urls', this.peerUrl,
        '--initial-cluster', `ring-test=${this.peerUrl}`,
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    trackChild(child);
    this.child = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}:\n${this.log()}`);
      try {
        const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1_000) });
        if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`etcd did not become healthy:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'etcd.log'), 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  }
}
