/** LogQL parser stages (json, logfmt, pattern, regexp, unpack) and the helpers they share. */
export {
  addExtracted,
  CollectingTarget,
  ERROR_DETAILS_LABEL,
  ERROR_LABEL,
  EXTRACTED_SUFFIX,
  isValidLabelName,
  JSON_PARSER_ERR,
  LOGFMT_PARSER_ERR,
  sanitizeLabelKey,
  type ParseResult,
  type ParseTarget,
} from './label-names.js';
export {
  compileJsonExpressions,
  json,
  JSON_ERRORS,
  JsonExpressionParser,
  JsonParser,
  JsonPathError,
  parseJsonPath,
  type JsonPath,
  type LabelExtraction,
} from './json.js';
export { logfmt, LogfmtDecoder, LogfmtExpressionParser, LogfmtParser, type LogfmtOptions } from './logfmt.js';
export { matchesPattern, pattern, PatternError, PatternMatcher, PatternParser } from './pattern.js';
export { regexp, RegexpParser, RegexpParserError } from './regexp.js';
export { unpack, UnpackParser, UNPACK_NOT_OBJECT } from './unpack.js';
export { ParserHints } from './parser-hints.js';
