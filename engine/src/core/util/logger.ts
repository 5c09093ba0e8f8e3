/** Loki-style logfmt logging (`level=info ts=… caller=… msg=…`), to stderr. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  with(fields: Record<string, unknown>): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function fmtValue(v: unknown): string {
  const s = v instanceof Error ? v.message : typeof v === 'string' ? v : String(v);
  return /[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s;
}

export class LogfmtLogger implements Logger {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly fields: Record<string, unknown> = {},
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
  ) {}

  private log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.level]) return;
    let line = `level=${level} ts=${new Date().toISOString()}`;
    for (const [k, v] of Object.entries(this.fields)) line += ` ${k}=${fmtValue(v)}`;
    line += ` msg=${fmtValue(msg)}`;
    if (fields) for (const [k, v] of Object.entries(fields)) line += ` ${k}=${fmtValue(v)}`;
    this.write(line + '\n');
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log('error', msg, fields);
  }
  with(fields: Record<string, unknown>): Logger {
    return new LogfmtLogger(this.level, { ...this.fields, ...fields }, this.write);
  }
}

export const nopLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  with() {
    return nopLogger;
  },
};
