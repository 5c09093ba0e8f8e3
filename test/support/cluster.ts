// A distributed Strata on loopback: every component its own process (the compiled engine), sharing one filesystem
// object store and one ring store (etcd). Used by the distributed-mode suites.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  /** Extra YAML for every node started from now on (after the options' `extra`). */
  extra = '';
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
    const own = join(dir, spec.name);
    return `
target: ${spec.target}
auth_enabled: true
server:
  http_listen_address: 127.0.0.1
  http_listen_port: ${this.port(spec.name)}
  log_level: warn
common:
  path_prefix: ${own}
  replication_factor: 3
  storage:
    filesystem:
      chunks_directory: ${dir}/store/chunks
      rules_directory: ${dir}/store/rules
  ring:
    kvstore:
      store: etcd
      prefix: strata-test/
      etcd:
        endpoints: [${etcdEndpoint}]
schema_config:
  configs:
    - from: "2020-01-01"
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
ingester:
  lifecycler:
    id: ${spec.name}
    address: 127.0.0.1
    heartbeat_period: 1s
    join_after: 0s
    ring:
      heartbeat_timeout: 4s
  wal:
    dir: ${own}/wal
${this.opts.extra ?? ''}
${this.extra}
${spec.extra ?? ''}`;
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
    await Promise.all([...this.nodes.values()].map((n) => (n.child ? n.kill('SIGKILL') : Promise.resolve())));
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
