/** Facts about the machine a benchmark ran on, and per-process CPU accounting from /proc. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineFacts {
  cpuModel: string;
  /** Logical CPUs this process may run on. */
  cores: number;
  ramGiB: number;
  node: string;
  kernel: string;
  /** File system type of the benchmark's data directory (fsync cost depends on it). */
  dataFs: string;
  /** 1-minute load average when the run started. */
  load1: number;
  /** Share of all CPUs busy (any process) over one second before the run: other work skews wall-clock figures. */
  busyBefore: number;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Jiffies of all CPUs from /proc/stat: [busy, total]. */
function cpuJiffies(): [number, number] {
  const line = (readText('/proc/stat') ?? '').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return [total - idle, total];
}

/** Fraction of all CPUs that were busy during the next `ms` milliseconds (0 when /proc/stat is unreadable). */
export async function machineBusy(ms = 1000): Promise<number> {
  const [b0, t0] = cpuJiffies();
  await new Promise((r) => setTimeout(r, ms));
  const [b1, t1] = cpuJiffies();
  return t1 > t0 ? (b1 - b0) / (t1 - t0) : 0;
}

export async function machineFacts(dataDir: string): Promise<MachineFacts> {
  const cpuinfo = readText('/proc/cpuinfo') ?? '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  let dataFs = 'unknown';
  try {
    dataFs = execFileSync('df', ['-T', dataDir], { encoding: 'utf8' }).trim().split('\n').pop()!.split(/\s+/)[1] ?? 'unknown';
  } catch {
    // df missing: leave it unknown.
  }
  return {
    cpuModel: model,
    cores: os.availableParallelism(),
    ramGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    dataFs,
    load1: Math.round(os.loadavg()[0]! * 100) / 100,
    busyBefore: await machineBusy(),
  };
}

let ticks: number | undefined;

/** Clock ticks per second of /proc's utime/stime (`getconf CLK_TCK`, 100 on every Linux we know of). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of a process or thread in seconds, from `/proc/<pid>/stat` (or `/proc/<pid>/task/<tid>/stat`). */
export function cpuSeconds(statFile: string): number {
  const stat = readText(statFile);
  if (stat === undefined) throw new Error(`cannot read ${statFile}: the process is gone`);
  // The command name (field 2) may contain spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

export function processCpuSeconds(pid: number): number {
  return cpuSeconds(`/proc/${pid}/stat`);
}

/** CPU seconds per thread of a process (main thread's tid is the pid). */
export function threadCpuSeconds(pid: number): Map<number, { name: string; cpu: number }> {
  const out = new Map<number, { name: string; cpu: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    const tid = Number(t);
    try {
      const name = (readText(`/proc/${pid}/task/${t}/comm`) ?? '?').trim();
      out.set(tid, { name, cpu: cpuSeconds(`/proc/${pid}/task/${t}/stat`) });
    } catch {
      // The thread exited between listing and reading.
    }
  }
  return out;
}

/**
 * CPU used between two thread snapshots, grouped by thread name (libuv's pool threads are all `libuv-worker`,
 * V8's GC helpers `V8 DefaultWorke`), the main thread as `main`.
 */
export function threadCpuDelta(
  pid: number,
  before: Map<number, { name: string; cpu: number }>,
  after: Map<number, { name: string; cpu: number }>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [tid, a] of after) {
    const d = a.cpu - (before.get(tid)?.cpu ?? 0);
    const name = tid === pid ? 'main' : a.name;
    out[name] = (out[name] ?? 0) + d;
  }
  return out;
}

export function formatFacts(f: MachineFacts): string {
  return (
    `${f.cpuModel}, ${f.cores} cores, ${f.ramGiB} GiB RAM, Node ${f.node}, ${f.kernel}, data on ${f.dataFs}, ` +
    `CPUs ${(f.busyBefore * 100).toFixed(0)}% busy with other work just before the run (load average ${f.load1})`
  );
}
