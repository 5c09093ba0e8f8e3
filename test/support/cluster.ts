// A distributed Strata on loopback: every component its own process (the compiled engine), sharing one filesystem
// object store and one ring store (etcd). Used by the distributed-mode suites.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ringNodeConfig } from '../../engine/src/bench/engine-process.js';
import { EngineProcess, freePort, waitFor } from './engine.js';

export interface NodeSpec {
  /** Unique name: the process's directory and, for ingesters, its ring instance id. */
  name: string;
  target: string;
  /** Extra YAML appended to the node's config (later keys win). */
  extra?: string;
}

export interface ClusterOptions {
  dir: string;
  etcdEndpoint: string;
  /** Extra YAML for every node. */
  extra?: string;
}

/** Ports are chosen up front so every node's config can name the others (index gateway, scheduler). */
export class Cluster {
  /** YAML lines inside `limits_config:` (indented 2 spaces) for every node started from now on. */
  limits = '';
  readonly nodes = new Map<string, EngineProcess>();
  private readonly ports = new Map<string, number>();

  constructor(private readonly opts: ClusterOptions) {}

  async reserve(names: string[]): Promise<void> {
    for (const n of names) if (!this.ports.has(n)) this.ports.set(n, await freePort());
  }

  port(name: string): number {
    const p = this.ports.get(name);
    if (p === undefined) throw new Error(`no port reserved for ${name}`);
    return p;
  }

  addr(name: string): string {
    return `127.0.0.1:${this.port(name)}`;
  }

  url(name: string): string {
    return `http://${this.addr(name)}`;
  }

  node(name: string): EngineProcess {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  config(spec: NodeSpec): string {
    const { dir, etcdEndpoint } = this.opts;
    return ringNodeConfig({
      target: spec.target,
      port: this.port(spec.name),
      dir: join(dir, spec.name),
      storeDir: join(dir, 'store'),
      etcdUrl: etcdEndpoint,
      ringPrefix: 'strata-test/',
      id: spec.name,
      lifecycler: '    ring:\n      heartbeat_timeout: 4s',
      limits: this.limits,
      extra: `${this.opts.extra ?? ''}\n${spec.extra ?? ''}`,
    });
  }

  /** Writes the node's config and starts it; resolves when it answers /ready with 200. */
  async start(spec: NodeSpec): Promise<EngineProcess> {
    await this.reserve([spec.name]);
    const own = join(this.opts.dir, spec.name);
    mkdirSync(own, { recursive: true });
    const file = join(own, 'config.yaml');
    writeFileSync(file, this.config(spec));
    const p = new EngineProcess(file, this.port(spec.name));
    this.nodes.set(spec.name, p);
    await p.start();
    return p;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.kill('SIGKILL')));
  }

  /** Waits until the ring, as seen from `viewer`, lists `expect` instances ACTIVE. */
  async waitRing(viewer: string, expect: (states: Record<string, string>) => boolean, timeoutMs = 30_000): Promise<Record<string, string>> {
    let last: Record<string, string> = {};
    await waitFor(
      async () => {
        const res = await fetch(`${this.url(viewer)}/ring`, { headers: { accept: 'application/json' } }).catch(() => undefined);
        if (!res?.ok) return false;
        const body = (await res.json()) as { instances: Array<{ id: string; state: string }> };
        last = Object.fromEntries(body.instances.map((i) => [i.id, i.state]));
        return expect(last);
      },
      timeoutMs,
      () => JSON.stringify(last),
    );
    return last;
  }
}
