/**
 * Go text/template for `| line_format` and `| label_format`: parse once per query, execute per entry against the
 * entry's labels, with `__line__` and `__timestamp__` and Loki's function map. Parse and execution errors have
 * Go's text; Loki turns an execution error into `__error__=TemplateFormatErr` with the text as
 * `__error_details__`, and keeps the line (or label) unchanged.
 */
import type { Node } from './ast.js';
import { Exec, TemplateExecError } from './exec.js';
import { BUILTINS, LINE_FUNCTIONS, LOKI_FUNCTIONS, type FuncContext, type GoFunc } from './functions.js';
import { loadLocation, UTC, type GoLocation } from './go-time.js';
import { parseTemplate, TemplateParseError } from './parser.js';
import { LabelsValue, type TemplateData } from './values.js';

export { TemplateExecError, TemplateParseError };

/** `__error__` value Loki sets when a template fails to execute. */
export const TEMPLATE_FORMAT_ERR = 'TemplateFormatErr';

export interface TemplateOptions {
  /** Name in error messages: Loki uses "line" for line_format and "label" for label_format. Default "line". */
  name?: string;
  /** The server's time zone (Go's time.Local) as an IANA name. Default "UTC" (a container without TZ). */
  localZone?: string;
  /** Clock for `now`, in Unix nanoseconds. Default: the system clock. */
  now?: () => bigint;
}

const ALL_FUNCTIONS: ReadonlyMap<string, GoFunc> = new Map([...BUILTINS, ...LOKI_FUNCTIONS, ...LINE_FUNCTIONS]);

/** Names a template may call (text/template builtins, Loki's functions, `__line__`, `__timestamp__`). */
export const TEMPLATE_FUNCTION_NAMES: readonly string[] = [...ALL_FUNCTIONS.keys()].sort();

const systemNow = (): bigint => BigInt(Date.now()) * 1_000_000n;

function walkNodes(n: Node | undefined, visit: (n: Node) => void): void {
  if (n === undefined) return;
  visit(n);
  switch (n.type) {
    case 'list':
      n.nodes.forEach((c) => walkNodes(c, visit));
      break;
    case 'action':
      walkNodes(n.pipe, visit);
      break;
    case 'pipe':
      n.cmds.forEach((c) => walkNodes(c, visit));
      break;
    case 'command':
      n.args.forEach((c) => walkNodes(c, visit));
      break;
    case 'chain':
      walkNodes(n.node, visit);
      break;
    case 'if':
    case 'range':
    case 'with':
      walkNodes(n.pipe, visit);
      walkNodes(n.list, visit);
      walkNodes(n.elseList, visit);
      break;
    case 'template':
      walkNodes(n.pipe, visit);
      break;
  }
}

/** A compiled template. Not reentrant: one execution at a time (JavaScript runs them one at a time anyway). */
export class Template {
  /** The label names the template reads (`.name` fields), like Loki's RequiredLabelNames. */
  readonly requiredLabelNames: readonly string[];
  /** Set when the template is exactly `{{.name}}`: the output is that label's value ("" when absent). */
  readonly simpleKey: string | undefined;
  /** Whether the template calls `__line__` (callers can skip decoding the line otherwise). */
  readonly usesLine: boolean;
  readonly usesTimestamp: boolean;

  private readonly exec: Exec;
  private readonly data = new LabelsValue(new Map());
  private curLine: string | Buffer = '';
  private curTs = 0n;

  private constructor(
    readonly name: string,
    readonly source: string,
    parsed: ReturnType<typeof parseTemplate>,
    local: GoLocation,
    now: () => bigint,
  ) {
    const names = new Set<string>();
    let usesLine = false;
    let usesTimestamp = false;
    const visit = (n: Node): void => {
      if (n.type === 'field') n.ident.forEach((i) => i !== '' && names.add(i));
      if (n.type === 'identifier') {
        if (n.ident === '__line__') usesLine = true;
        if (n.ident === '__timestamp__') usesTimestamp = true;
      }
    };
    walkNodes(parsed.root, visit);
    for (const l of parsed.defined.values()) walkNodes(l, visit);
    this.requiredLabelNames = [...names];
    this.usesLine = usesLine;
    this.usesTimestamp = usesTimestamp;
    const nodes = parsed.root.nodes;
    let simple: string | undefined;
    if (nodes.length === 1 && nodes[0]!.type === 'action' && parsed.defined.size === 0) {
      const pipe = nodes[0].pipe;
      const arg = pipe.cmds.length === 1 && pipe.decl.length === 0 && pipe.cmds[0]!.args.length === 1 ? pipe.cmds[0]!.args[0]! : undefined;
      if (arg !== undefined && arg.type === 'field' && arg.ident.length === 1) simple = arg.ident[0];
    }
    this.simpleKey = simple;
    const ctx: FuncContext = {
      local,
      now,
      line: () => (typeof this.curLine === 'string' ? this.curLine : (this.curLine = this.curLine.toString('utf8'))),
      ts: () => this.curTs,
    };
    this.exec = new Exec({ name, text: source, root: parsed.root, defined: parsed.defined, funcs: ALL_FUNCTIONS }, ctx);
  }

  /** Parses `text`; throws TemplateParseError with Go's message (`template: line:1: function "foo" not defined`). */
  static parse(text: string, opts: TemplateOptions = {}): Template {
    const name = opts.name ?? 'line';
    const local = opts.localZone === undefined ? UTC : loadLocation(opts.localZone);
    if (local === undefined) throw new TemplateParseError(`unknown time zone ${opts.localZone}`);
    const parsed = parseTemplate(name, text, (f) => ALL_FUNCTIONS.has(f));
    return new Template(name, text, parsed, local, opts.now ?? systemNow);
  }

  /**
   * Executes against an entry's labels, its line and its timestamp (Unix ns). The line may be bytes: it is decoded
   * only if the template calls `__line__`. Throws TemplateExecError with Go's message.
   */
  execute(data: TemplateData, line: string | Buffer = '', tsNs = 0n): string {
    if (this.simpleKey !== undefined) return data.get(this.simpleKey) ?? '';
    this.curLine = line;
    this.curTs = tsNs;
    this.data.data = data;
    return this.exec.run(this.data);
  }
}

/** Parses a `line_format` template; errors read like Loki's (`invalid line template: template: line:1: ...`). */
export function lineFormatTemplate(text: string, opts: Omit<TemplateOptions, 'name'> = {}): Template {
  try {
    return Template.parse(text, { ...opts, name: 'line' });
  } catch (e) {
    if (e instanceof TemplateParseError) throw new TemplateParseError(`invalid line template: ${e.message}`);
    throw e;
  }
}

/** Parses one `label_format dst="template"` template; errors read like Loki's. */
export function labelFormatTemplate(label: string, text: string, opts: Omit<TemplateOptions, 'name'> = {}): Template {
  try {
    return Template.parse(text, { ...opts, name: 'label' });
  } catch (e) {
    if (e instanceof TemplateParseError) throw new TemplateParseError(`invalid template for label '${label}': ${e.message}`);
    throw e;
  }
}
