/**
 * A seeded, deterministic synthetic log corpus for the benchmarks: the same seed gives byte-identical batches on
 * every machine. Four line formats as real clusters produce them (nginx combined access logs, logfmt, JSON, klog),
 * label sets {app, namespace, pod, level}, and stream volumes Zipf-distributed over the streams of each agent (a
 * few hot streams, a long tail), the way a node's log shipper sees its pods.
 */
import snappy from 'snappy';
import { encodePushProto } from '../core/distributor/push-proto.js';
import type { PushEntry, PushRequest } from '../core/model.js';

// ── randomness ──────────────────────────────────────────────────────────────────────────────────────────────────

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** sfc32: small, fast, good enough for synthetic data, and identical everywhere (no Math.random). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** Lower-case hex of `n` characters (n even). */
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i += 8) {
      const v = this.u32();
      s += HEX[v & 0xff]! + HEX[(v >>> 8) & 0xff]! + HEX[(v >>> 16) & 0xff]! + HEX[v >>> 24]!;
    }
    return s.length === n ? s : s.slice(0, n);
  }

  /** Roughly log-normal positive number around `median` (for durations and sizes). */
  skewed(median: number): number {
    const u = this.next() + this.next() + this.next() - 1.5; // ≈ normal, σ ≈ 0.5
    return median * Math.exp(u * 1.6);
  }
}

/** Samples ranks 0..n-1 with P(k) ∝ 1/(k+1)^s. */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(n: number, s = 1.0) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = sum += 1 / Math.pow(k + 1, s);
    for (let k = 0; k < n; k++) this.cdf[k]! /= sum;
  }

  sample(rng: Rng): number {
    const u = rng.next();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Probability of rank k. */
  p(k: number): number {
    return this.cdf[k]! - (k === 0 ? 0 : this.cdf[k - 1]!);
  }
}

// ── line formats ────────────────────────────────────────────────────────────────────────────────────────────────

export type LogFormat = 'nginx' | 'logfmt' | 'json' | 'klog';
export type Level = 'debug' | 'info' | 'warn' | 'error';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => (n < 10 ? '0' : '') + n;
const p3 = (n: number): string => (n < 10 ? '00' : n < 100 ? '0' : '') + n;
const p6 = (n: number): string => String(n).padStart(6, '0');

/** Per-second date parts, cached: formatting dates per line would dominate generation. */
class Clock {
  private sec = -1;
  nginx = '';
  isoSec = '';
  klogDay = '';
  klogSec = '';

  set(ms: number): void {
    const sec = Math.floor(ms / 1000);
    if (sec === this.sec) return;
    this.sec = sec;
    const d = new Date(sec * 1000);
    const Y = d.getUTCFullYear();
    const M = d.getUTCMonth();
    const D = p2(d.getUTCDate());
    const hms = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    this.nginx = `${D}/${MONTHS[M]}/${Y}:${hms} +0000`;
    this.isoSec = `${Y}-${p2(M + 1)}-${D}T${hms}`;
    this.klogDay = `${p2(M + 1)}${D}`;
    this.klogSec = hms;
  }
}

const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH'];
const STATUS: Record<Level, readonly number[]> = {
  debug: [200],
  info: [200, 200, 200, 200, 201, 204, 301, 302, 304],
  warn: [400, 401, 403, 404, 404, 404, 409, 429],
  error: [500, 502, 502, 503, 504],
};
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'curl/8.5.0',
  'Go-http-client/1.1',
  'kube-probe/1.29',
  'Prometheus/2.51.0',
];
const RESOURCES = ['products', 'orders', 'users', 'carts', 'invoices', 'sessions', 'reviews', 'shipments'];
const WORDS = [
  'shoes', 'jacket', 'lamp', 'coffee', 'laptop', 'chair', 'desk', 'phone', 'camera', 'watch', 'bike', 'tent',
  'kettle', 'mug', 'book', 'pen', 'backpack', 'headphones', 'keyboard', 'monitor',
];
const CALLERS = [
  'server.go', 'handler.go', 'client.go', 'retry.go', 'store.go', 'queue.go', 'auth.go', 'cache.go', 'grpc.go',
];
const MESSAGES: Record<Level, readonly string[]> = {
  debug: ['cache lookup', 'acquired lock', 'decoded request', 'query plan selected', 'connection reused'],
  info: ['request completed', 'order placed', 'payment authorized', 'cart updated', 'user logged in', 'item shipped'],
  warn: ['slow request', 'retrying upstream call', 'cache miss storm', 'deprecated API used', 'token expiring soon'],
  error: ['upstream timeout', 'database connection refused', 'payment declined by provider', 'failed to publish event'],
};
const JAVA_LOGGERS = [
  'com.example.orders.OrderService', 'com.example.orders.api.OrderController', 'com.example.inventory.StockRepository',
  'com.example.users.AuthFilter', 'org.hibernate.SQL', 'io.netty.channel.DefaultChannelPipeline',
];
const KLOG_FILES = [
  'controller.go', 'reflector.go', 'leaderelection.go', 'shared_informer.go', 'scheduler.go', 'event.go',
  'garbagecollector.go', 'replica_set.go', 'round_trippers.go',
];
const KLOG_MESSAGES: Record<Level, readonly string[]> = {
  debug: ['"Processing item"', '"Watch close"', '"Sync loop"', '"Cache synced"'],
  info: ['"Successfully synced"', '"Attempting to bind pod to node"', '"Event occurred"', '"Caches populated"'],
  warn: ['"Failed to update lease, retrying"', '"Watch ended with error"', '"Pod is not ready yet"'],
  error: ['"Error syncing pod, skipping"', '"Unhandled Error"', '"Failed to bind pod"'],
};

/** Deterministic line generators; every string they return is one log line without a trailing newline. */
export class LineMaker {
  private readonly clock = new Clock();
  private readonly ips: string[];

  constructor(private readonly rng: Rng) {
    this.ips = [];
    for (let i = 0; i < 400; i++) this.ips.push(`${10 + rng.int(200)}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`);
  }

  line(format: LogFormat, level: Level, ms: number): string {
    this.clock.set(ms);
    switch (format) {
      case 'nginx':
        return this.nginx(level);
      case 'logfmt':
        return this.logfmt(level, ms);
      case 'json':
        return this.json(level, ms);
      case 'klog':
        return this.klog(level, ms);
    }
  }

  private path(): string {
    const r = this.rng;
    switch (r.int(6)) {
      case 0:
        return `/api/v1/${r.pick(RESOURCES)}/${r.int(1_000_000)}`;
      case 1:
        return `/api/v1/${r.pick(RESOURCES)}?page=${r.int(50)}&limit=${r.pick([10, 20, 50, 100])}`;
      case 2:
        return `/static/js/app.${r.hex(8)}.js`;
      case 3:
        return `/search?q=${r.pick(WORDS)}+${r.pick(WORDS)}&sort=${r.pick(['price', 'rating', 'new'])}`;
      case 4:
        return `/api/v2/${r.pick(RESOURCES)}/${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)}/items`;
      default:
        return r.pick(['/healthz', '/metrics', '/', '/favicon.ico', '/login', '/checkout']);
    }
  }

  private nginx(level: Level): string {
    const r = this.rng;
    const path = this.path();
    const referer = r.int(3) === 0 ? '-' : `https://shop.example.com${r.int(2) === 0 ? '/' : this.path()}`;
    const bytes = Math.round(r.skewed(2400));
    const rt = (r.skewed(0.04)).toFixed(3);
    return (
      `${r.pick(this.ips)} - - [${this.clock.nginx}] "${r.pick(METHODS)} ${path} HTTP/1.1" ${r.pick(STATUS[level])} ` +
      `${bytes} "${referer}" "${r.pick(USER_AGENTS)}" rt=${rt}`
    );
  }

  private logfmt(level: Level, ms: number): string {
    const r = this.rng;
    const msg = r.pick(MESSAGES[level]);
    let s =
      `ts=${this.clock.isoSec}.${p3(ms % 1000)}Z level=${level} caller=${r.pick(CALLERS)}:${10 + r.int(400)} ` +
      `msg="${msg}" method=${r.pick(METHODS)} path=${this.path()} status=${r.pick(STATUS[level])} ` +
      `duration=${r.skewed(12).toFixed(2)}ms trace_id=${r.hex(32)} user_id=${r.int(100_000)}`;
    if (level === 'error') s += ` err="dial tcp 10.0.${r.int(256)}.${r.int(256)}:5432: connect: connection refused"`;
    return s;
  }

  private json(level: Level, ms: number): string {
    const r = this.rng;
    let s =
      `{"@timestamp":"${this.clock.isoSec}.${p3(ms % 1000)}Z","level":"${level.toUpperCase()}",` +
      `"logger":"${r.pick(JAVA_LOGGERS)}","thread":"http-nio-8080-exec-${1 + r.int(200)}",` +
      `"message":"${r.pick(MESSAGES[level])}","trace_id":"${r.hex(32)}","span_id":"${r.hex(16)}",` +
      `"order_id":"${r.hex(8)}-${r.hex(4)}-${r.hex(4)}","customer_id":${r.int(1_000_000)},` +
      `"amount":${(r.skewed(40)).toFixed(2)},"currency":"${r.pick(['EUR', 'USD', 'GBP'])}","items":${1 + r.int(9)},` +
      `"duration_ms":${Math.round(r.skewed(25))}`;
    if (level === 'error') {
      s += `,"exception":"java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after ${30000 + r.int(500)}ms."`;
    }
    return s + '}';
  }

  private klog(level: Level, ms: number): string {
    const r = this.rng;
    const sev = level === 'error' ? 'E' : level === 'warn' ? 'W' : 'I';
    const us = (ms % 1000) * 1000 + r.int(1000);
    const ns = r.pick(['default', 'kube-system', 'shop', 'web', 'monitoring']);
    return (
      `${sev}${this.clock.klogDay} ${this.clock.klogSec}.${p6(us)}       1 ${r.pick(KLOG_FILES)}:${100 + r.int(900)}] ` +
      `${r.pick(KLOG_MESSAGES[level])} pod="${ns}/${r.pick(WORDS)}-${r.hex(10)}-${r.hex(5)}" ` +
      `node="node-${r.int(64)}" duration="${r.skewed(3).toFixed(3)}ms"`
    );
  }
}

// ── streams ─────────────────────────────────────────────────────────────────────────────────────────────────────

export interface StreamSpec {
  readonly labels: Readonly<Record<string, string>>;
  /** Prometheus-style label string as shippers send it: `{app="x", level="info", namespace="y", pod="z"}`. */
  readonly labelString: string;
  readonly format: LogFormat;
  readonly level: Level;
}

interface AppSpec {
  app: string;
  namespace: string;
  format: LogFormat;
  pods: number;
}

const APPS: readonly AppSpec[] = [
  { app: 'ingress-nginx', namespace: 'ingress-nginx', format: 'nginx', pods: 2 },
  { app: 'frontend', namespace: 'web', format: 'nginx', pods: 3 },
  { app: 'checkout', namespace: 'shop', format: 'logfmt', pods: 3 },
  { app: 'payments', namespace: 'shop', format: 'logfmt', pods: 2 },
  { app: 'cart', namespace: 'shop', format: 'logfmt', pods: 3 },
  { app: 'orders', namespace: 'shop', format: 'json', pods: 3 },
  { app: 'inventory', namespace: 'shop', format: 'json', pods: 2 },
  { app: 'users', namespace: 'auth', format: 'json', pods: 2 },
  { app: 'kube-scheduler', namespace: 'kube-system', format: 'klog', pods: 1 },
  { app: 'kube-controller-manager', namespace: 'kube-system', format: 'klog', pods: 1 },
  { app: 'cert-manager', namespace: 'cert-manager', format: 'klog', pods: 1 },
];
const LEVELS: Record<LogFormat, readonly Level[]> = {
  nginx: ['info', 'warn', 'error'],
  logfmt: ['debug', 'info', 'warn', 'error'],
  json: ['debug', 'info', 'warn', 'error'],
  klog: ['debug', 'info', 'warn', 'error'],
};

export function labelString(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  return `{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(', ')}}`;
}

function podName(rng: Rng, app: string): string {
  const a = 'bcdfghjklmnpqrstvwxz2456789';
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += a[rng.int(a.length)];
  return `${app}-${rng.hex(10)}-${suffix}`;
}

/**
 * The streams one agent (one node's log shipper) sends, in Zipf rank order: info streams take the top ranks, then
 * warn and debug, then error, each group shuffled by the seed.
 */
export function agentStreams(rng: Rng): StreamSpec[] {
  const byLevel: Record<Level, StreamSpec[]> = { debug: [], info: [], warn: [], error: [] };
  for (const a of APPS) {
    for (let p = 0; p < a.pods; p++) {
      const pod = podName(rng, a.app);
      for (const level of LEVELS[a.format]) {
        const labels = { app: a.app, level, namespace: a.namespace, pod };
        byLevel[level].push({ labels, labelString: labelString(labels), format: a.format, level });
      }
    }
  }
  const shuffle = (xs: StreamSpec[]): StreamSpec[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  };
  return [...shuffle(byLevel.info), ...shuffle([...byLevel.warn, ...byLevel.debug]), ...shuffle(byLevel.error)];
}

// ── batches ─────────────────────────────────────────────────────────────────────────────────────────────────────

/** One push request's worth of entries, grouped by stream (in first-appearance order), before any encoding. */
export interface Batch {
  readonly streams: ReadonlyArray<{ spec: StreamSpec; ts: bigint[]; lines: string[] }>;
  readonly lines: number;
  /** Sum of the UTF-8 line lengths: the "uncompressed bytes" every throughput figure is counted in. */
  readonly lineBytes: number;
}

export interface AgentOptions {
  seed: number;
  /** Zipf exponent of stream volumes. */
  zipfS?: number;
  /** First timestamp, ms since the epoch. */
  startMs: number;
  /** Time between consecutive lines of the agent, in ns (a realistic 5000 lines/s per node is 200 µs). */
  stepNs?: number;
}

/**
 * One log shipper: its streams and a clock that only moves forward, so every stream's timestamps increase from
 * batch to batch (a shipper sends its batches in order).
 */
export class Agent {
  readonly streams: StreamSpec[];
  private readonly rng: Rng;
  private readonly lines: LineMaker;
  private readonly zipf: Zipf;
  private ns: bigint;
  private readonly step: bigint;

  constructor(opts: AgentOptions) {
    this.rng = new Rng(opts.seed);
    this.streams = agentStreams(this.rng);
    this.lines = new LineMaker(this.rng);
    this.zipf = new Zipf(this.streams.length, opts.zipfS ?? 1.0);
    this.ns = BigInt(opts.startMs) * 1_000_000n;
    this.step = BigInt(opts.stepNs ?? 200_000);
  }

  /** The next batch: lines drawn stream by stream from the Zipf distribution, until `maxLines` or `maxBytes`. */
  nextBatch(maxLines = 5000, maxBytes = 1024 * 1024): Batch {
    const groups = new Map<number, { spec: StreamSpec; ts: bigint[]; lines: string[] }>();
    let lines = 0;
    let bytes = 0;
    while (lines < maxLines && bytes < maxBytes) {
      const k = this.zipf.sample(this.rng);
      const spec = this.streams[k]!;
      let g = groups.get(k);
      if (g === undefined) groups.set(k, (g = { spec, ts: [], lines: [] }));
      this.ns += this.step;
      const line = this.lines.line(spec.format, spec.level, Number(this.ns / 1_000_000n));
      g.ts.push(this.ns);
      g.lines.push(line);
      lines++;
      bytes += Buffer.byteLength(line);
    }
    return { streams: [...groups.values()], lines, lineBytes: bytes };
  }
}

// ── encodings ───────────────────────────────────────────────────────────────────────────────────────────────────

export function toPushRequest(b: Batch): PushRequest {
  return {
    streams: b.streams.map((s) => ({
      labels: s.spec.labelString,
      entries: s.lines.map((l, i): PushEntry => ({ ts: s.ts[i]!, line: Buffer.from(l) })),
    })),
  };
}

/** Loki's protobuf push body: PushRequest protobuf, snappy block-compressed (content-type application/x-protobuf). */
export function encodeProtoBody(b: Batch): Buffer {
  return snappy.compressSync(encodePushProto(toPushRequest(b)));
}

/** Loki's v1 JSON push body, uncompressed, as most JSON clients send it. */
export function encodeJsonBody(b: Batch): Buffer {
  const parts: string[] = ['{"streams":['];
  b.streams.forEach((s, i) => {
    if (i > 0) parts.push(',');
    parts.push(`{"stream":${JSON.stringify(s.spec.labels)},"values":[`);
    for (let j = 0; j < s.lines.length; j++) {
      parts.push(`${j > 0 ? ',' : ''}["${s.ts[j]}",${JSON.stringify(s.lines[j])}]`);
    }
    parts.push(']}');
  });
  parts.push(']}');
  return Buffer.from(parts.join(''));
}
