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
export { sprintf } from './go-fmt.js';
