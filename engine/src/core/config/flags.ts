/**
 * Command-line flags, parsed the way Go's `flag` package parses Loki's: `-name=value`, `--name=value`,
 * `-name value`, boolean `-name` (and `-name=false`), `--` ends the flags. Error texts are Go's, because that is
 * what Loki users see and search for (`flag provided but not defined: -x`).
 *
 * Flags override the config file: `applyFlags` only touches what was given on the command line, exactly as Loki
 * re-applies explicitly set flags after loading the YAML.
 *
 * One difference from Go: Go stops at the first non-flag argument and silently ignores every flag after it; Loki
 * takes no positional arguments, so we reject one instead of dropping the rest of the command line.
 */
import type { Config, LogLevel } from './config-schema.js';
import { parseDuration } from './duration.js';

export interface Flags {
  /** -target */
  target?: string;
  /** -config.file */
  configFile?: string;
  /** -runtime-config.file */
  runtimeConfigFile?: string;
  /** -runtime-config.reload-period, milliseconds */
  runtimeConfigReloadPeriod?: number;
  /** -config.expand-env */
  expandEnv: boolean;
  /** -print-config-stderr */
  printConfigStderr: boolean;
  /** -log-config-reverse-order (print the config with lines reversed, for log viewers that show newest first) */
  logConfigReverseOrder: boolean;
  /** -log.level */
  logLevel?: LogLevel;
  /** -log.format */
  logFormat?: 'logfmt' | 'json';
  /** -server.http-listen-address */
  httpListenAddress?: string;
  /** -server.http-listen-port */
  httpListenPort?: number;
  /** -server.grpc-listen-port */
  grpcListenPort?: number;
  /** -auth.enabled */
  authEnabled?: boolean;
  /** -common.path-prefix */
  pathPrefix?: string;
  /** -help, -h */
  help: boolean;
  /** -version */
  version: boolean;
}

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

type FlagKind = 'bool' | 'string' | 'int' | 'duration' | 'enum';

interface FlagDef {
  kind: FlagKind;
  usage: string;
  values?: readonly string[];
  set(flags: Flags, value: string | number | boolean): void;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

const FLAGS: Readonly<Record<string, FlagDef>> = {
  target: { kind: 'string', usage: 'Comma-separated components to run (all, read, write, backend, ...).', set: (f, v) => (f.target = v as string) },
  'config.file': { kind: 'string', usage: 'Configuration file to load.', set: (f, v) => (f.configFile = v as string) },
  'config.expand-env': {
    kind: 'bool',
    usage: 'Expand ${VAR} and ${VAR:-default} in the config file from the environment.',
    set: (f, v) => (f.expandEnv = v as boolean),
  },
  'runtime-config.file': {
    kind: 'string',
    usage: 'Comma-separated runtime overrides files, merged left to right.',
    set: (f, v) => (f.runtimeConfigFile = v as string),
  },
  'runtime-config.reload-period': {
    kind: 'duration',
    usage: 'How often to check the runtime overrides files.',
    set: (f, v) => (f.runtimeConfigReloadPeriod = v as number),
  },
  'print-config-stderr': {
    kind: 'bool',
    usage: 'Print the effective config to stderr at startup.',
    set: (f, v) => (f.printConfigStderr = v as boolean),
  },
  'log-config-reverse-order': {
    kind: 'bool',
    usage: 'Print the effective config at startup, lines in reverse order.',
    set: (f, v) => (f.logConfigReverseOrder = v as boolean),
  },
  'log.level': { kind: 'enum', values: LOG_LEVELS, usage: 'Only log messages at or above this level.', set: (f, v) => (f.logLevel = v as LogLevel) },
  'log.format': {
    kind: 'enum',
    values: ['logfmt', 'json'],
    usage: 'Log format.',
    set: (f, v) => (f.logFormat = v as 'logfmt' | 'json'),
  },
  'server.http-listen-address': {
    kind: 'string',
    usage: 'HTTP server listen address.',
    set: (f, v) => (f.httpListenAddress = v as string),
  },
  'server.http-listen-port': { kind: 'int', usage: 'HTTP server listen port.', set: (f, v) => (f.httpListenPort = v as number) },
  'server.grpc-listen-port': {
    kind: 'int',
    usage: 'gRPC server listen port (accepted, unused).',
    set: (f, v) => (f.grpcListenPort = v as number),
  },
  'auth.enabled': {
    kind: 'bool',
    usage: 'Require X-Scope-OrgID; when false every request is tenant "fake".',
    set: (f, v) => (f.authEnabled = v as boolean),
  },
  'common.path-prefix': { kind: 'string', usage: 'Prefix for all local data directories.', set: (f, v) => (f.pathPrefix = v as string) },
  help: { kind: 'bool', usage: 'Print usage and exit.', set: (f, v) => (f.help = v as boolean) },
  h: { kind: 'bool', usage: 'Print usage and exit.', set: (f, v) => (f.help = v as boolean) },
  version: { kind: 'bool', usage: 'Print the version and exit.', set: (f, v) => (f.version = v as boolean) },
};

/** Go's strconv.ParseBool. */
function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

export function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = { expandEnv: false, printConfigStderr: false, logConfigReverseOrder: false, help: false, version: false };
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    i++;
    if (arg.length < 2 || arg[0] !== '-') {
      throw new FlagError(`unexpected argument ${JSON.stringify(arg)}: flags must start with "-"`);
    }
    let numMinuses = 1;
    if (arg[1] === '-') {
      numMinuses = 2;
      if (arg.length === 2) {
        // "--" terminates the flags; anything after it would be a positional argument, which Loki has none of.
        if (i < argv.length) throw new FlagError(`unexpected argument ${JSON.stringify(argv[i])}`);
        break;
      }
    }
    let name = arg.slice(numMinuses);
    if (name.length === 0 || name[0] === '-' || name[0] === '=') throw new FlagError(`bad flag syntax: ${arg}`);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const def = Object.hasOwn(FLAGS, name) ? FLAGS[name] : undefined;
    if (def === undefined) throw new FlagError(`flag provided but not defined: -${name}`);
    if (def.kind === 'bool') {
      if (value === undefined) {
        def.set(flags, true);
      } else {
        const b = parseGoBool(value);
        if (b === undefined) throw new FlagError(`invalid boolean value ${JSON.stringify(value)} for -${name}: parse error`);
        def.set(flags, b);
      }
      continue;
    }
    if (value === undefined) {
      // Go takes the next argument as the value unconditionally, even if it starts with "-".
      if (i >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = argv[i]!;
      i++;
    }
    def.set(flags, convert(name, def, value));
  }
  return flags;
}

function convert(name: string, def: FlagDef, value: string): string | number {
  switch (def.kind) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw new FlagError(`invalid value ${JSON.stringify(value)} for flag -${name}: parse error`);
      }
      const n = Number(value);
      if (name.endsWith('-port') && (n < 0 || n > 65535)) {
        throw new FlagError(`invalid value ${JSON.stringify(value)} for flag -${name}: port must be between 0 and 65535`);
      }
      return n;
    }
    case 'duration':
      try {
        const ms = parseDuration(value);
        if (ms < 0) throw new Error('negative');
        return ms;
      } catch {
        throw new FlagError(`invalid value ${JSON.stringify(value)} for flag -${name}: parse error`);
      }
    case 'enum':
      if (!def.values!.includes(value)) {
        throw new FlagError(`invalid value ${JSON.stringify(value)} for flag -${name}: must be one of ${def.values!.join(', ')}`);
      }
      return value;
    default:
      return value;
  }
}

/** Returns a copy of `cfg` with every flag that was given applied on top. */
export function applyFlags(cfg: Config, flags: Flags): Config {
  const out = structuredClone(cfg);
  if (flags.target !== undefined) out.target = flags.target;
  if (flags.authEnabled !== undefined) out.auth_enabled = flags.authEnabled;
  if (flags.logLevel !== undefined) out.server.log_level = flags.logLevel;
  if (flags.logFormat !== undefined) out.server.log_format = flags.logFormat;
  if (flags.httpListenAddress !== undefined) out.server.http_listen_address = flags.httpListenAddress;
  if (flags.httpListenPort !== undefined) out.server.http_listen_port = flags.httpListenPort;
  if (flags.grpcListenPort !== undefined) out.server.grpc_listen_port = flags.grpcListenPort;
  if (flags.pathPrefix !== undefined) out.common.path_prefix = flags.pathPrefix;
  if (flags.runtimeConfigFile !== undefined) out.runtime_config.file = flags.runtimeConfigFile;
  if (flags.runtimeConfigReloadPeriod !== undefined) out.runtime_config.period = flags.runtimeConfigReloadPeriod;
  return out;
}

/** Usage text for -help, one flag per entry like Go's `flag.PrintDefaults`. */
export function flagsUsage(): string {
  const lines: string[] = [];
  for (const [name, def] of Object.entries(FLAGS)) {
    if (name === 'h') continue;
    const arg = def.kind === 'bool' ? '' : def.kind === 'int' ? ' int' : def.kind === 'duration' ? ' duration' : ' string';
    lines.push(`  -${name}${arg}\n    \t${def.usage}`);
  }
  return lines.join('\n');
}
