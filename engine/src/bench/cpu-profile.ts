/**
 * Summarises a V8 CPU profile (`.cpuprofile`, as `node --cpu-prof` or the inspector's Profiler.stop write it):
 * self time per function, and self time per source file, as shares of the sampled (non-idle) time.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  /** `name (file:line)`. */
  name: string;
  selfMs: number;
  /** Share of all non-idle sampled time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time excluding `(idle)`, ms. */
  busyMs: number;
  idleMs: number;
  functions: Hotspot[];
  files: Hotspot[];
}

/** Where a frame comes from, short: repo-relative for our code, package name for node_modules, `node:x` builtins. */
export function shortUrl(url: string): string {
  if (url === '') return '';
  let path = url;
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url);
    } catch {
      path = url;
    }
  }
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    const pkg = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    return `${pkg}/${rest[rest.length - 1]}`;
  }
  const dist = path.indexOf('/engine/dist/');
  if (dist >= 0) return path.slice(dist + '/engine/dist/'.length);
  return path;
}

export function summariseProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfByNode = new Map<number, number>();
  // timeDeltas[i] is the time between sample i-1 and sample i, so it is charged to sample i.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + dt);
  }
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfByNode) {
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const where = shortUrl(cf.url);
    const name = where === '' ? cf.functionName || '(anonymous)' : `${cf.functionName || '(anonymous)'} (${where}:${cf.lineNumber + 1})`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const f = where === '' ? cf.functionName || '(native)' : where.replace(/^(node:[^/]+).*$/, '$1');
    file.set(f, (file.get(f) ?? 0) + us);
  }
  const rank = (m: Map<string, number>): Hotspot[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, functions: rank(fn), files: rank(file) };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `${title}: ${s.busyMs.toFixed(0)} ms busy on the main thread, ${s.idleMs.toFixed(0)} ms idle`,
    '  top self time by function:',
    ...s.functions.map((h) => `  ${pct(h.share)} ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}`),
    '  self time by file:',
    ...s.files.map((h) => `  ${pct(h.share)} ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}`),
  ];
  return lines.join('\n');
}

// `node engine/dist/bench/cpu-profile.js FILE.cpuprofile [top]` prints the summary of a saved profile.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node engine/dist/bench/cpu-profile.js FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  process.stdout.write(formatSummary(file, summariseProfile(readProfile(file), Number(process.argv[3] ?? 25))) + '\n');
}
