/** LogQL metric query evaluation: range and vector aggregations, binary operations, label_replace, vector(). */
export {
  evaluate,
  maxRangeInterval,
  type EvaluateOptions,
  type MatrixSeries,
  type MetricQuery,
  type MetricResult,
  type VectorSample,
} from './evaluator.js';
export { INSTANT_LOG_QUERY, pipelineError, seriesLimitError } from './errors.js';
export type { SampleSource, ScanRequest, ScanVisitor, SourceEntry, SourceStream } from './types.js';
