// Declarative schema upgrades. The engine reads every period it was ever given, so a period that is (or is about
// to be) in use can never change: entries dated before now + 2 h must equal the applied history in
// status.storage.schemas. Future entries may be added, changed or removed freely; versions only move forward.
import type { ObjectStorageSchema, ObjectStorageSchemaVersion } from '../api/v1/index.js';
import type { FieldError } from './field-error.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** How far ahead of now an entry is already locked: pods need time to roll before the period starts. */
export const SCHEMA_LOCK_WINDOW_MS = 2 * HOUR_MS;

const VERSION_ORDER: Readonly<Record<ObjectStorageSchemaVersion, number>> = { v11: 11, v12: 12, v13: 13 };

/** The newest schema version; a stack whose newest entry is older gets a warning. */
export const LATEST_SCHEMA_VERSION: ObjectStorageSchemaVersion = 'v13';

/** Milliseconds of 00:00 UTC of a `YYYY-MM-DD` day, or undefined when it is not a real calendar day. */
export function parseEffectiveDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms;
}

/** `YYYY-MM-DD` (UTC) of a time. */
export function formatDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The first effectiveDate a new or changed entry may have: the first midnight UTC at or after now + 2 h. */
export function earliestValidDate(now: Date): string {
  const cutoff = now.getTime() + SCHEMA_LOCK_WINDOW_MS;
  return formatDay(Math.ceil(cutoff / DAY_MS) * DAY_MS);
}

/** Entries sorted by effective date (unparseable dates last, in their original order). */
export function sortSchemas(schemas: readonly ObjectStorageSchema[]): ObjectStorageSchema[] {
  return [...schemas].sort((a, b) => (parseEffectiveDate(a.effectiveDate) ?? Infinity) - (parseEffectiveDate(b.effectiveDate) ?? Infinity));
}

export interface SchemaTimeline {
  /** The entry in effect at `now` (the last one starting at or before it). */
  active?: ObjectStorageSchema;
  /** Entries not yet in effect, soonest first. */
  upcoming: ObjectStorageSchema[];
  /** Entries superseded by a later one that is in effect; the engine still reads them. */
  past: ObjectStorageSchema[];
}

export function schemaTimeline(schemas: readonly ObjectStorageSchema[], now: Date): SchemaTimeline {
  const t = now.getTime();
  const sorted = sortSchemas(schemas).filter((s) => parseEffectiveDate(s.effectiveDate) !== undefined);
  const started = sorted.filter((s) => parseEffectiveDate(s.effectiveDate)! <= t);
  return {
    ...(started.length > 0 ? { active: started[started.length - 1] } : {}),
    upcoming: sorted.filter((s) => parseEffectiveDate(s.effectiveDate)! > t),
    past: started.slice(0, -1),
  };
}

const describe = (s: ObjectStorageSchema): string => `${s.version} from ${s.effectiveDate}`;

/**
 * The schema rules (see the file comment). `applied` is the history in status.storage.schemas; when it is empty (a
 * new stack) there is nothing to protect yet. Returns errors and the "newest is not v13" warning.
 */
export function validateSchemas(
  schemas: readonly ObjectStorageSchema[],
  applied: readonly ObjectStorageSchema[] | undefined,
  now: Date,
  path = 'spec.storage.schemas',
): FieldError[] {
  const errors: FieldError[] = [];
  const error = (field: string, message: string): void => {
    errors.push({ field, reason: 'InvalidObjectStorageSchema', severity: 'error', message: `${field}: ${message}` });
  };
  const earliest = earliestValidDate(now);
  const nowMs = now.getTime();
  const cutoff = nowMs + SCHEMA_LOCK_WINDOW_MS;

  if (schemas.length === 0) {
    error(path, `at least one schema entry is required, e.g. {version: v13, effectiveDate: "${formatDay(nowMs)}"}`);
    return errors;
  }

  // Parseable, unique dates.
  const dated: Array<{ s: ObjectStorageSchema; i: number; start: number }> = [];
  const firstIndexOfDate = new Map<string, number>();
  schemas.forEach((s, i) => {
    const start = parseEffectiveDate(s.effectiveDate);
    if (start === undefined) {
      error(`${path}[${i}].effectiveDate`, `${JSON.stringify(s.effectiveDate)} is not a valid date (YYYY-MM-DD, UTC)`);
      return;
    }
    const seen = firstIndexOfDate.get(s.effectiveDate);
    if (seen !== undefined) {
      error(
        `${path}[${i}].effectiveDate`,
        `${s.effectiveDate} is also the effectiveDate of entry ${seen}; effective dates must be unique`,
      );
      return;
    }
    firstIndexOfDate.set(s.effectiveDate, i);
    dated.push({ s, i, start });
  });

  if (dated.length > 0 && !dated.some((d) => d.start <= nowMs)) {
    error(
      path,
      `no schema entry is in effect yet: at least one entry needs an effectiveDate on or before ${formatDay(nowMs)} (today, UTC)`,
    );
  }

  // No retroactive add, change or remove: what is locked must equal the applied history.
  const history = (applied ?? []).filter((h) => {
    const start = parseEffectiveDate(h.effectiveDate);
    return start !== undefined && start < cutoff;
  });
  const lockedHistory = new Map(history.map((h) => [h.effectiveDate, h]));
  const inHistory = (d: { s: ObjectStorageSchema; start: number }): boolean =>
    d.start < cutoff && lockedHistory.get(d.s.effectiveDate)?.version === d.s.version;
  if (applied && applied.length > 0) {
    const lockedHint =
      `entries dated before now + 2h (${new Date(cutoff).toISOString()}) are in effect or about to be and cannot change; ` +
      `use an effectiveDate on or after ${earliest}`;
    for (const d of dated) {
      if (d.start >= cutoff) continue;
      const h = lockedHistory.get(d.s.effectiveDate);
      if (!h) {
        error(`${path}[${d.i}]`, `cannot add the schema entry ${describe(d.s)} retroactively: ${lockedHint}`);
      } else if (h.version !== d.s.version) {
        error(`${path}[${d.i}].version`, `cannot change the schema in effect from ${d.s.effectiveDate} (${h.version} → ${d.s.version}): ${lockedHint}`);
      }
    }
    for (const h of history) {
      if (!firstIndexOfDate.has(h.effectiveDate)) {
        error(path, `cannot remove the applied schema entry ${describe(h)}: the engine still reads data written with it; ${lockedHint}`);
      }
    }
  }

  // Versions only move forward (Strata: the Loki Operator accepts a downgrade).
  const ordered = [...dated].sort((a, b) => a.start - b.start);
  for (let k = 1; k < ordered.length; k++) {
    const prev = ordered[k - 1]!;
    const cur = ordered[k]!;
    if (VERSION_ORDER[cur.s.version] >= VERSION_ORDER[prev.s.version]) continue;
    if (inHistory(cur) && inHistory(prev)) continue; // history written before this rule existed
    error(
      `${path}[${cur.i}].version`,
      `${describe(cur.s)} would downgrade the schema from ${describe(prev.s)}; schema versions may only move forward ` +
        `(use ${prev.s.version} or newer)`,
    );
  }

  const newest = ordered[ordered.length - 1];
  if (newest && newest.s.version !== LATEST_SCHEMA_VERSION) {
    errors.push({
      field: path,
      reason: 'StorageNeedsSchemaUpdate',
      severity: 'warning',
      message:
        `${path}: the newest schema entry (${describe(newest.s)}) is not ${LATEST_SCHEMA_VERSION}; add ` +
        `{version: ${LATEST_SCHEMA_VERSION}, effectiveDate: "${earliest}"} (the earliest valid date) for TSDB and structured metadata`,
    });
  }
  return errors;
}
