/** Go text/template with Loki's template functions, for `| line_format` and `| label_format`. */
export {
  labelFormatTemplate,
  lineFormatTemplate,
  Template,
  TEMPLATE_FORMAT_ERR,
  TEMPLATE_FUNCTION_NAMES,
  TemplateExecError,
  TemplateParseError,
  type TemplateOptions,
} from './template.js';
export type { TemplateData } from './values.js';
export { formatFloat, goQuote, sprintf } from './go-fmt.js';
export { parseDuration, durationSeconds } from './go-time.js';
export { parseBytes as parseHumanBytes } from './functions.js';
export { parseGoFloat, parseGoInt } from './parser.js';
