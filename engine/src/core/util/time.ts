/** RFC3339 with nanoseconds, as Go's time.RFC3339Nano prints it (trailing zeros of the fraction dropped). */
export function formatTs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const base = new Date(Number(ms - (ms % 1000n) - (frac > 0n && ns < 0n ? 1000n : 0n))).toISOString().slice(0, 19);
  if (frac === 0n) return `${base}Z`;
  return `${base}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

/** Parses RFC3339 / RFC3339Nano exactly to nanoseconds; returns undefined when the text is not RFC3339. */
export function parseRfc3339Ns(s: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return undefined;
  const secs = Date.parse(`${m[1]}T${m[2]}${m[4]!.toUpperCase()}`);
  if (Number.isNaN(secs)) return undefined;
  const frac = BigInt((m[3] ?? '').padEnd(9, '0') || '0');
  return BigInt(secs) * 1_000_000n + frac;
}

/** Go's time.Time.String() in UTC, e.g. `2025-08-01 16:43:38.854444845 +0000 UTC`, which Loki prints in messages. */
export function formatGoTime(ns: bigint): string {
  const iso = formatTs(ns);
  const [date, rest] = iso.split('T');
  return `${date} ${rest!.slice(0, -1)} +0000 UTC`;
}

/** RFC3339 at second precision (Go's time.RFC3339), which Loki's validation messages use. */
export function formatRfc3339(ns: bigint): string {
  const whole = ns - (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
  return formatTs(whole);
}
