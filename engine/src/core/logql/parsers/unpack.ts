/**
 * `| unpack`: Promtail's `pack` format. The line is a JSON object whose string properties are labels and whose
 * `_entry` property is the original line, which replaces the current one. Labels are only applied when `_entry`
 * is present (Loki's behaviour); non-string properties are ignored.
 */
import { eachStringProperty, JSON_ERRORS } from './json.js';
import {
  CollectingTarget,
  EXTRACTED_SUFFIX,
  JSON_PARSER_ERR,
  sanitizeLabelKey,
  type ParseResult,
  type ParseTarget,
} from './label-names.js';
import type { ParserHints } from './parser-hints.js';
import { asBuffer, replaceRuneError } from './utf8.js';

/** Loki's message when the line does not start with `{` (jsoniter's ObjectValue is 6). */
export const UNPACK_NOT_OBJECT = 'expecting json object(6), but it is not';
export const PACKED_ENTRY_KEY = '_entry';

export class UnpackParser {
  constructor(private readonly hints?: ParserHints) {}

  /**
   * Returns the new line (the `_entry` value) or `undefined` when the line stays as it is; labels and errors go
   * to `target`.
   */
  process(line: Buffer, target: ParseTarget): string | undefined {
    if (line.length === 0) return undefined;
    const hints = this.hints;
    if (hints !== undefined && hints.skip()) return undefined;
    if (line[0] !== 0x7b) {
      target.setError(JSON_PARSER_ERR, UNPACK_NOT_OBJECT);
      return undefined;
    }
    let entry: string | undefined;
    const pairs: [string, string][] = [];
    const err = eachStringProperty(line, (k, v) => {
      if (k === PACKED_ENTRY_KEY) {
        if (v === null) return JSON_ERRORS.malformedStringEscape;
        entry = v;
        return null;
      }
      const field = target.baseHas(k) ? k + EXTRACTED_SUFFIX : k;
      if (hints !== undefined && !hints.wants(field)) return null;
      // Loki's unescapeJSONString: an invalid escape gives "", and RuneError becomes a space.
      pairs.push([sanitizeLabelKey(field, true), v === null ? '' : replaceRuneError(v)]);
      return null;
    });
    if (err !== null) {
      target.setError(JSON_PARSER_ERR, err);
      return undefined;
    }
    if (entry === undefined) return undefined;
    for (const [k, v] of pairs) target.set(k, v);
    return entry;
  }
}

/** Convenience form of `| unpack` for callers off the hot path. */
export function unpack(
  line: Buffer | string,
  existing: ReadonlySet<string> | ((name: string) => boolean) = new Set(),
): ParseResult {
  const target = new CollectingTarget(existing);
  const entry = new UnpackParser().process(asBuffer(line), target);
  const r = target.result();
  if (entry !== undefined) r.line = entry;
  return r;
}
