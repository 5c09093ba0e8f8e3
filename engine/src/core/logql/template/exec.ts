/**
 * Executes a parsed template the way text/template's exec.go does: pipelines pass the previous value as the last
 * argument, functions get Go's argument type checks, missing map keys give the zero value (Loki parses with
 * `missingkey=zero`), and errors carry Go's form
 * `template: line:1:2: executing "line" at <.foo>: foo is not a method but has arguments`.
 */
import type { BranchNode, ChainNode, CommandNode, FieldNode, ListNode, Node, NumberNode, PipeNode, VariableNode } from './ast.js';
import { nodeString } from './ast.js';
import { goQuote } from '../../util/go/quote.js';
import { formatValue } from './go-fmt.js';
import { civil, formatTime, localLocation, timeString, UTC, unixSeconds } from './go-time.js';
import { FuncError, type FuncContext, type GoFunc, type ParamType } from './functions.js';
import { GoInt, GoTime, int, isTrue, LabelsValue, cmpStr, typeName, type GoValue } from './values.js';

export class TemplateExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateExecError';
  }
}

const MISSING: unique symbol = Symbol('missing');
type Final = GoValue | typeof MISSING;

const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

const MAX_EXEC_DEPTH = 100000;

interface Variable {
  name: string;
  value: GoValue;
}

export interface ExecTemplate {
  name: string;
  text: string;
  root: ListNode;
  defined: Map<string, ListNode>;
  funcs: ReadonlyMap<string, GoFunc>;
}

function paramTypeName(t: ParamType): string {
  switch (t) {
    case 'any':
      return 'interface {}';
    case 'value':
      return 'reflect.Value';
    case 'time':
      return 'time.Time';
    default:
      return t;
  }
}

function matchesType(v: GoValue, t: ParamType): boolean {
  switch (t) {
    case 'any':
    case 'value':
      return true;
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'float64':
      return typeof v === 'number';
    case 'int':
    case 'int64':
      return v instanceof GoInt && v.type === t;
    case 'time':
      return v instanceof GoTime;
  }
}

export class Exec {
  private vars: Variable[] = [];
  private node: Node | undefined;
  private depth = 0;
  out = '';

  constructor(
    private readonly tmpl: ExecTemplate,
    private readonly ctx: FuncContext,
  ) {}

  run(data: GoValue): string {
    this.vars = [{ name: '$', value: data }];
    this.out = '';
    this.walk(data, this.tmpl.root);
    return this.out;
  }

  private at(n: Node): void {
    this.node = n;
  }

  errorf(msg: string): never {
    const name = this.tmpl.name;
    const n = this.node;
    if (n === undefined) throw new TemplateExecError(`template: ${name}: ${msg}`);
    const before = this.tmpl.text.slice(0, n.pos);
    const nl = before.lastIndexOf('\n');
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    const col = Buffer.byteLength(nl < 0 ? before : before.slice(nl + 1), 'utf8');
    throw new TemplateExecError(`template: ${name}:${line}:${col}: executing ${goQuote(name)} at <${nodeString(n)}>: ${msg}`);
  }

  private mark(): number {
    return this.vars.length;
  }

  private pop(mark: number): void {
    this.vars.length = mark;
  }

  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.errorf(`undefined variable: ${name}`);
  }

  private walk(dot: GoValue, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'comment':
        return;
      case 'if':
      case 'with':
        return this.walkIfOrWith(node, dot);
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        return this.walkRange(dot, node);
      case 'template': {
        const list = this.tmpl.defined.get(node.name);
        if (list === undefined) this.errorf(`template ${goQuote(node.name)} not defined`);
        if (this.depth >= MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
        const newDot = node.pipe === undefined ? undefined : this.evalPipeline(dot, node.pipe);
        const savedVars = this.vars;
        this.vars = [{ name: '$', value: newDot }];
        this.depth++;
        try {
          this.walk(newDot, list);
        } finally {
          this.depth--;
          this.vars = savedVars;
        }
        return;
      }
      case 'text':
        this.out += node.text;
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  private walkIfOrWith(node: BranchNode, dot: GoValue): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) this.walk(node.type === 'with' ? val : dot, node.list);
      else if (node.elseList !== undefined) this.walk(dot, node.elseList);
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: GoValue, r: BranchNode): void {
    this.at(r);
    const outer = this.mark();
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.mark();
      const decl = r.pipe.decl;
      const one = (index: GoValue, elem: GoValue): void => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem);
          else this.vars[this.vars.length - 1]!.value = elem;
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
          else this.vars[this.vars.length - 2]!.value = index;
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.pop(mark);
        }
      };
      try {
        if (Array.isArray(val)) {
          if (val.length > 0) {
            val.forEach((e, i) => one(int(i), e === null ? undefined : e));
            return;
          }
        } else if (val instanceof Map) {
          if (val.size > 0) {
            for (const k of [...val.keys()].sort(cmpStr)) {
              const e = val.get(k)!;
              one(k, e === null ? undefined : e);
            }
            return;
          }
        } else if (val instanceof LabelsValue) {
          const entries = val.sortedEntries();
          if (entries.length > 0) {
            for (const [k, v] of entries) one(k, v);
            return;
          }
        } else if (val instanceof GoInt) {
          if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
          if (val.v > 0n) {
            for (let i = 0n; i < val.v; i++) one(undefined, new GoInt(i, val.type));
            return;
          }
        } else if (val !== undefined && val !== null) {
          this.errorf(`range can't iterate over ${formatValue(val)}`);
        }
      } catch (e) {
        if (e !== BREAK) throw e;
        return;
      }
      if (r.elseList !== undefined) this.walk(dot, r.elseList);
    } finally {
      this.pop(outer);
    }
  }

  private evalPipeline(dot: GoValue, pipe: PipeNode): GoValue {
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // A nil interface{} result is an invalid value from here on (Go's value.Elem()).
      if (value === null) value = undefined;
    }
    const v = value === MISSING ? undefined : value;
    for (const variable of pipe.decl) {
      if (pipe.isAssign) this.setVar(variable.ident[0]!, v);
      else this.vars.push({ name: variable.ident[0]!, value: v });
    }
    return v;
  }

  private notAFunction(args: Node[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier': {
        this.at(first);
        const fn = this.tmpl.funcs.get(first.ident);
        if (fn === undefined) this.errorf(`${goQuote(first.ident)} is not a defined function`);
        return this.evalCall(dot, fn, cmd, first.ident, cmd.args, final);
      }
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
      // falls through (errorf throws)
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
    this.errorf(`can't evaluate command ${goQuote(nodeString(first))}`);
  }

  private idealConstant(n: NumberNode): GoValue {
    this.at(n);
    if (n.ideal === 'float') return n.float;
    if (n.ideal === 'int') return new GoInt(n.int, 'int');
    this.errorf(`${n.text} overflows int`);
  }

  private evalFieldNode(dot: GoValue, field: FieldNode, args: Node[], final: Final): GoValue {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: GoValue, chain: ChainNode, args: Node[], final: Final): GoValue {
    this.at(chain);
    if (chain.field.length === 0) this.errorf('internal error: no fields in evalChainNode');
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, 'any', chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: GoValue, v: VariableNode, args: Node[], final: Final): GoValue {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: GoValue, receiver: GoValue, node: Node, ident: string[], args: Node[], final: Final): GoValue {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, node, [], MISSING, receiver);
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver);
  }

  private evalField(dot: GoValue, fieldName: string, node: Node, args: Node[], final: Final, receiver: GoValue): GoValue {
    if (receiver === undefined) return undefined;
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (receiver instanceof LabelsValue) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      // missingkey=zero: the zero value of the map's element type (string)
      return receiver.data.get(fieldName) ?? '';
    }
    if (receiver instanceof Map) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      const v = receiver.get(fieldName);
      return v === null ? undefined : v;
    }
    if (receiver instanceof GoTime) {
      const m = timeMethods[fieldName];
      if (m !== undefined) return this.evalCall(dot, m, node, fieldName, args, final, receiver);
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typeName(receiver)}`);
  }

  private validateType(value: GoValue, typ: ParamType): GoValue {
    if (value === undefined) {
      if (typ === 'any' || typ === 'value') return undefined;
      this.errorf(`invalid value; expected ${paramTypeName(typ)}`);
    }
    if (!matchesType(value, typ)) {
      this.errorf(`wrong type for value; expected ${paramTypeName(typ)}; got ${typeName(value)}`);
    }
    return value;
  }

  private evalArg(dot: GoValue, typ: ParamType, n: Node): GoValue {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ === 'any' || typ === 'value') return undefined;
        this.errorf(`cannot assign nil to ${paramTypeName(typ)}`);
      // falls through (errorf throws)
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, [], MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier': {
        const fn = this.tmpl.funcs.get(n.ident);
        if (fn === undefined) this.errorf(`${goQuote(n.ident)} is not a defined function`);
        return this.validateType(this.evalCall(dot, fn, n, n.ident, [n], MISSING), typ);
      }
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, [], MISSING), typ);
    }
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        this.errorf(`expected bool; found ${nodeString(n)}`);
      // falls through (errorf throws)
      case 'float64':
        if (n.type === 'number' && n.isFloat) return n.float;
        this.errorf(`expected float; found ${nodeString(n)}`);
      // falls through (errorf throws)
      case 'int':
      case 'int64':
        if (n.type === 'number' && n.isInt) return new GoInt(n.int, typ);
        this.errorf(`expected integer; found ${nodeString(n)}`);
      // falls through (errorf throws)
      case 'string':
        if (n.type === 'string') return n.text;
        this.errorf(`expected string; found ${nodeString(n)}`);
      // falls through (errorf throws)
      case 'any':
      case 'value':
        return this.evalEmptyInterface(n);
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${paramTypeName(typ)}`);
  }

  private evalEmptyInterface(n: Node): GoValue {
    this.at(n);
    switch (n.type) {
      case 'bool':
        return n.value;
      case 'number':
        return this.idealConstant(n);
      case 'string':
        return n.text;
    }
    this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
  }

  private evalCall(dot: GoValue, fn: GoFunc, node: Node, name: string, args: Node[], final: Final, receiver?: GoValue): GoValue {
    const given = args.length > 0 ? args.slice(1) : args;
    let numIn = given.length;
    if (final !== MISSING) numIn++;
    let numFixed = given.length;
    const nParams = fn.params.length + (fn.variadic !== undefined ? 1 : 0);
    if (fn.variadic !== undefined) {
      numFixed = fn.params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${fn.params.length} got ${given.length}`);
    } else if (numIn !== nParams) {
      this.errorf(`wrong number of args for ${name}: want ${nParams} got ${numIn}`);
    }
    if (fn.shortCircuit !== undefined) {
      // and/or evaluate their arguments lazily and return the deciding one.
      const wantTruth = fn.shortCircuit === 'or';
      let v: GoValue = undefined;
      for (const a of given) {
        v = this.evalArg(dot, 'value', a);
        if (isTrue(v) === wantTruth) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }
    const argv: GoValue[] = [];
    let i = 0;
    for (; i < numFixed && i < given.length; i++) argv.push(this.evalArg(dot, fn.params[i]!, given[i]!));
    if (fn.variadic !== undefined) for (; i < given.length; i++) argv.push(this.evalArg(dot, fn.variadic, given[i]!));
    if (final !== MISSING) {
      let t: ParamType;
      if (fn.variadic !== undefined) t = numIn - 1 < numFixed ? fn.params[numIn - 1]! : fn.variadic;
      else t = fn.params[fn.params.length - 1]!;
      argv.push(this.validateType(final, t));
    }
    try {
      return fn.call(argv, this.ctx, receiver);
    } catch (e) {
      if (e instanceof FuncError) {
        this.at(node);
        this.errorf(`error calling ${name}: ${e.message}`);
      }
      throw e;
    }
  }

  private printValue(n: Node, v: GoValue): void {
    this.at(n);
    this.out += v === undefined ? '<no value>' : typeof v === 'string' ? v : formatValue(v);
  }
}

// time.Time methods reachable from a template (e.g. `{{ (__timestamp__).Unix }}`).
const timeMethods: Record<string, GoFunc> = {
  Unix: { params: [], call: (_a, _c, t) => int(unixSeconds(t as GoTime), 'int64') },
  UnixMilli: { params: [], call: (_a, _c, t) => int(floorDivBig((t as GoTime).ns, 1_000_000n), 'int64') },
  UnixMicro: { params: [], call: (_a, _c, t) => int(floorDivBig((t as GoTime).ns, 1000n), 'int64') },
  UnixNano: { params: [], call: (_a, _c, t) => int((t as GoTime).ns, 'int64') },
  Year: { params: [], call: (_a, _c, t) => int(civil(t as GoTime).year) },
  Month: { params: [], call: (_a, _c, t) => MONTHS[civil(t as GoTime).month - 1]! },
  Day: { params: [], call: (_a, _c, t) => int(civil(t as GoTime).day) },
  Hour: { params: [], call: (_a, _c, t) => int(civil(t as GoTime).hour) },
  Minute: { params: [], call: (_a, _c, t) => int(civil(t as GoTime).min) },
  Second: { params: [], call: (_a, _c, t) => int(civil(t as GoTime).sec) },
  Nanosecond: { params: [], call: (_a, _c, t) => int(civil(t as GoTime).nsec) },
  YearDay: { params: [], call: (_a, _c, t) => int(civil(t as GoTime).yday) },
  Weekday: { params: [], call: (_a, _c, t) => DAYS[civil(t as GoTime).weekday]! },
  Format: { params: ['string'], call: (a, _c, t) => formatTime(t as GoTime, a[0] as string) },
  String: { params: [], call: (_a, _c, t) => timeString(t as GoTime) },
  UTC: { params: [], call: (_a, _c, t) => new GoTime((t as GoTime).ns, UTC) },
  Local: { params: [], call: (_a, c, t) => new GoTime((t as GoTime).ns, localLocation(c.local)) },
  IsZero: { params: [], call: (_a, _c, t) => (t as GoTime).ns === -62135596800000000000n },
};

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function floorDivBig(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
