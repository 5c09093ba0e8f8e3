/**
 * Startup configuration errors. The text imitates Loki's (it comes from Go's yaml decoder), because operators grep
 * for it and because it already says the two things that matter: which key, and on which line:
 *
 *   failed parsing config: config.yaml: yaml: unmarshal errors:
 *     line 12: field chunk_encodng not found in type ingester.Config
 *
 * One parse reports every problem it finds, not just the first, so a broken file is fixed in one round trip.
 */

export interface ConfigIssue {
  /** Dotted key path, e.g. `ingester.chunk_encoding` or `schema_config.configs[1].from` ('' for the document). */
  path: string;
  /** 1-based line in the source file, when the problem can be located. */
  line?: number;
  /** The complete message for this issue, without the `line N:` prefix. */
  message: string;
}

/**
 * - `syntax`: the text is not valid YAML;
 * - `unmarshal`: valid YAML that does not fit the schema (unknown key, wrong type, bad duration/size/enum);
 * - `validate`: every value is well-formed but the combination is not (schema periods out of order, ...).
 */
export type ConfigErrorKind = 'syntax' | 'unmarshal' | 'validate';

export class ConfigError extends Error {
  constructor(
    readonly kind: ConfigErrorKind,
    readonly issues: readonly ConfigIssue[],
    /** What was being read, for the message: `config` or `runtime config`. */
    readonly subject: string = 'config',
    readonly fileName?: string,
  ) {
    super(formatMessage(kind, issues, subject, fileName));
    this.name = 'ConfigError';
  }
}

function formatMessage(kind: ConfigErrorKind, issues: readonly ConfigIssue[], subject: string, fileName?: string): string {
  const file = fileName ? `${fileName}: ` : '';
  const line = (i: ConfigIssue): string => (i.line !== undefined ? `line ${i.line}: ${i.message}` : i.message);
  switch (kind) {
    case 'syntax':
      return `failed parsing ${subject}: ${file}yaml: ${issues.map(line).join('; ')}`;
    case 'unmarshal':
      return `failed parsing ${subject}: ${file}yaml: unmarshal errors:\n${issues.map((i) => `  ${line(i)}`).join('\n')}`;
    case 'validate':
      if (issues.length === 1) return `invalid ${subject}: ${file}${line(issues[0]!)}`;
      return `invalid ${subject}: ${file}multiple errors found, please read carefully:\n${issues
        .map((i) => `  ${line(i)}`)
        .join('\n')}`;
  }
}
