/**
 * Durations the way Loki's configuration writes them.
 *
 * Loki mixes Go `time.Duration` fields (`1h30m`, `1.5h`, `500ms`, `10us`) and Prometheus `model.Duration` fields
 * (`1d`, `1w`, `1y`, `30d1h`). One parser accepts the union of both so a user never has to know which kind a field
 * is; values are whole milliseconds (`number`). A bare `0` is the only unit-less value accepted: Go's YAML decoder
 * would read a bare `30` as 30 *nanoseconds*, a silent trap we turn into an error instead.
 */
import { formatPromDuration } from '../util/go/duration.js';

/** A malformed duration or byte size; `reason` is the explanation without the quoted input. */
export class UnitParseError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
    what: 'duration' | 'byte size',
  ) {
    super(`invalid ${what} ${JSON.stringify(input)}: ${reason}`);
    this.name = 'UnitParseError';
  }
}

const durationError = (input: string, reason: string): UnitParseError => new UnitParseError(input, reason, 'duration');

const MS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign (what Go accepts)
  'μs': 1e-3, // U+03BC Greek mu (also accepted by Go)
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000, // 365d, as Prometheus defines it
};

// One component: a decimal number (Go allows `1.5h`, `.5s`, `1.s`) followed by a unit. `ms` must be tried before
// `m`, and `µs`/`μs`/`us`/`ns` before `s`, hence the explicit alternation order.
const COMPONENT = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w|y)/y;

/**
 * Parses a Loki/Go/Prometheus duration (`1h30m`, `500ms`, `1w`, `30d1h`, `1.5h`, `-1s`, `0`) into milliseconds.
 * Throws `UnitParseError`.
 */
export function parseDuration(text: string): number {
  if (text === '0' || text === '-0' || text === '+0') return 0;
  let i = 0;
  let sign = 1;
  if (text[0] === '-' || text[0] === '+') {
    sign = text[0] === '-' ? -1 : 1;
    i = 1;
  }
  if (i >= text.length) throw durationError(text, 'not a valid duration');
  let total = 0;
  while (i < text.length) {
    COMPONENT.lastIndex = i;
    const m = COMPONENT.exec(text);
    if (m === null) {
      // Distinguish the common mistake (a number without a unit) from plain garbage.
      if (/^[+-]?\d+(\.\d+)?$/.test(text)) {
        throw durationError(text, `missing unit (e.g. "${text}s"; units: ms, s, m, h, d, w, y)`);
      }
      throw durationError(text, 'not a valid duration (e.g. 30s, 5m, 1h30m, 7d)');
    }
    total += Number(m[1]) * MS_PER_UNIT[m[2]!]!;
    i = COMPONENT.lastIndex;
  }
  const rounded = Math.round(total);
  // Components like 0.1s accumulate binary rounding error; anything further than that from a whole millisecond is a
  // genuinely sub-millisecond value we cannot represent.
  if (Math.abs(total - rounded) > 1e-6) {
    throw durationError(text, 'sub-millisecond precision is not supported');
  }
  if (!Number.isSafeInteger(rounded)) throw durationError(text, 'out of range');
  return sign * rounded;
}

/**
 * Formats milliseconds the way Prometheus' `model.Duration` prints (Loki's `/config` uses it for most durations):
 * `0s`, `500ms`, `1h30m`, `1w`, `30d1h`. Years and weeks are used only when they divide the value exactly, so 90
 * days prints as `90d`, not `12w6d`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const whole = Math.round(Math.abs(ms));
  return formatPromDuration(BigInt(ms < 0 ? -whole : whole) * 1_000_000n);
}
