import { EngineError, badRequest } from '../../errors.js';

/** Loki's refusal of a log query on `/query`. */
export const INSTANT_LOG_QUERY =
  'log queries are not supported as an instant query type, please change your query to a range query type';

/**
 * An entry whose labels carry `__error__` reached a range aggregation: Loki fails the query rather than silently
 * counting broken samples, and explains how to filter them. `series` is the Prometheus string of the series labels.
 */
export function pipelineError(errorType: string, series: string): EngineError {
  return badRequest(
    `pipeline error: '${errorType}' for series: '${series}'.\n` +
      `Use a label filter to intentionally skip this error. (e.g | __error__!="${errorType}").\n` +
      'To skip all potential errors you can match empty errors.(e.g __error__="")\n' +
      'The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n',
  );
}

/** `max_query_series` reached. */
export function seriesLimitError(limit: number): EngineError {
  return badRequest(
    `maximum number of series (${limit}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()`,
  );
}

/**
 * approx_topk is answered from count-min sketches, which Loki only joins for instant queries. Loki fails a range query
 * with this plain error (no status attached), which reaches the client as a 500 with the text as its body.
 */
export const APPROX_TOPK_INSTANT_ONLY = 'count min sketches are only supported on instant queries';

export const approxTopkInstantOnly = (): EngineError => new EngineError('internal', APPROX_TOPK_INSTANT_ONLY);

/** Binary operations between vectors whose matching is ambiguous. */
export const MANY_TO_MANY = (side: 'left' | 'right'): string =>
  `found duplicate series on the ${side} hand-side;many-to-many matching not allowed: matching labels must be unique on one side`;
export const MULTIPLE_MATCHES_ONE_TO_ONE = 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)';
export const MULTIPLE_MATCHES_GROUPING = 'multiple matches for labels: grouping labels must ensure unique matches';
