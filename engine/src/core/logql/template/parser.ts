/**
 * Parser of Go's text/template, following text/template/parse: same grammar, same checks at parse time
 * (undefined functions and variables, non-executable pipeline stages, `{{break}}` outside `{{range}}`) and the
 * same messages, e.g. `template: line:1: function "foo" not defined`.
 */
import type {
  ActionNode,
  BranchNode,
  CommandNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  TemplateNode,
  VariableNode,
} from './ast.js';
import { nodeString } from './ast.js';
import { goQuote } from '../../util/go/quote.js';
import { parseGoFloat, parseGoInt } from '../../util/go/strconv.js';
import { I, lex, type Item } from './lexer.js';

export class TemplateParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateParseError';
  }
}

/** A parsed template: the root list and the `{{define}}`d templates. */
export interface ParsedTemplate {
  name: string;
  text: string;
  root: ListNode;
  defined: Map<string, ListNode>;
}

const MAX_DEPTH = 10000;

// --- Go literal syntax -----------------------------------------------------------------------------------------

function utf8Encode(cp: number, out: number[]): void {
  const b = Buffer.from(String.fromCodePoint(cp), 'utf8');
  for (const x of b) out.push(x);
}

/**
 * strconv.UnquoteChar on `s` at `i`: returns [bytes appended, next index] or undefined on a syntax error.
 * `quote` is the enclosing quote (an escaped quote of the other kind is an error).
 */
function unquoteChar(s: string, i: number, quote: string, out: number[]): number | undefined {
  const c = s[i]!;
  if (c === quote && (quote === "'" || quote === '"')) return undefined;
  if (c !== '\\') {
    const cp = s.codePointAt(i)!;
    utf8Encode(cp, out);
    return i + (cp > 0xffff ? 2 : 1);
  }
  const e = s[i + 1];
  if (e === undefined) return undefined;
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
  if (simple[e] !== undefined) {
    out.push(simple[e]!);
    return i + 2;
  }
  if (e === "'" || e === '"') {
    if (e !== quote) return undefined;
    out.push(e.charCodeAt(0));
    return i + 2;
  }
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    const h = s.slice(i + 2, i + 2 + n);
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) return undefined;
    const v = parseInt(h, 16);
    if (e === 'x') out.push(v);
    else {
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return undefined;
      utf8Encode(v, out);
    }
    return i + 2 + n;
  }
  if (e >= '0' && e <= '7') {
    const o = s.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(o)) return undefined;
    const v = parseInt(o, 8);
    if (v > 255) return undefined;
    out.push(v);
    return i + 4;
  }
  return undefined;
}

/** strconv.Unquote for "…" and `…` literals; undefined on a syntax error. */
export function goUnquote(q: string): string | undefined {
  if (q.length < 2) return undefined;
  const quote = q[0]!;
  if (quote !== q[q.length - 1]) return undefined;
  const body = q.slice(1, -1);
  if (quote === '`') {
    if (body.includes('`')) return undefined;
    return body.replace(/\r/g, '');
  }
  if (quote !== '"') return undefined;
  if (!body.includes('\\') && !body.includes('"') && !body.includes('\n')) return body;
  const out: number[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] === '\n') return undefined;
    const n = unquoteChar(body, i, '"', out);
    if (n === undefined) return undefined;
    i = n;
  }
  return Buffer.from(out).toString('utf8');
}

// --- parser ----------------------------------------------------------------------------------------------------

class Parser {
  private readonly items: Item[];
  private idx = 0;
  private readonly token: Item[] = [];
  private peekCount = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private stackDepth = 0;
  private lastLine = 1;
  private actionLine = 0;
  readonly defined = new Map<string, ListNode>();

  constructor(
    private readonly name: string,
    text: string,
    private readonly hasFunction: (name: string) => boolean,
  ) {
    this.items = lex(text);
  }

  private nextItem(): Item {
    const it = this.items[Math.min(this.idx, this.items.length - 1)]!;
    this.idx++;
    this.lastLine = it.line;
    return it;
  }

  private next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.nextItem();
    return this.token[this.peekCount]!;
  }

  private backup(): void {
    this.peekCount++;
  }

  private backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }

  private backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }

  private peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1]!;
    this.peekCount = 1;
    this.token[0] = this.nextItem();
    return this.token[0];
  }

  private nextNonSpace(): Item {
    let t: Item;
    do t = this.next();
    while (t.typ === I.Space);
    return t;
  }

  private peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  errorf(msg: string): never {
    throw new TemplateParseError(`template: ${this.name}:${this.lastLine}: ${msg}`);
  }

  private itemString(t: Item): string {
    if (t.typ === I.EOF) return 'EOF';
    if (t.typ === I.Error) return t.val;
    if (t.typ > I.Keyword) return `<${t.val}>`;
    const runes = Array.from(t.val);
    if (runes.length > 10) return goQuote(runes.slice(0, 10).join('')) + '...';
    return goQuote(t.val);
  }

  private unexpected(t: Item, context: string): never {
    if (t.typ === I.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at ${this.name}:${this.actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(t.val + extra);
    }
    this.errorf(`unexpected ${this.itemString(t)} in ${context}`);
  }

  private expect(typ: I, context: string): Item {
    const t = this.nextNonSpace();
    if (t.typ !== typ) this.unexpected(t, context);
    return t;
  }

  parse(): ListNode {
    const root: ListNode = { type: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().typ !== I.EOF) {
      if (this.peek().typ === I.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === I.Define) {
          this.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    return root;
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const t = this.nextNonSpace();
    if (t.typ !== I.String && t.typ !== I.RawString) this.unexpected(t, context);
    const name = goUnquote(t.val);
    if (name === undefined) this.errorf('invalid syntax');
    this.expect(I.RightDelim, context);
    const saved = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    this.vars = saved;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.addDefinition(name, list);
  }

  private addDefinition(name: string, list: ListNode): void {
    const existing = this.defined.get(name);
    if (existing !== undefined && !isEmptyTree(existing) && !isEmptyTree(list)) {
      this.errorf(`template: multiple definition of template ${goQuote(name)}`);
    }
    if (existing === undefined || isEmptyTree(existing)) this.defined.set(name, list);
  }

  private itemList(): [ListNode, Node] {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().typ !== I.EOF) {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case I.Text:
        return { type: 'text', pos: t.pos, text: t.val };
      case I.LeftDelim: {
        this.actionLine = t.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      default:
        this.unexpected(t, 'input');
    }
  }

  private action(): Node {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case I.Block:
        return this.blockControl();
      case I.Break:
        return this.loopControl('break', t.pos);
      case I.Continue:
        return this.loopControl('continue', t.pos);
      case I.Else:
        return this.elseControl();
      case I.End:
        return { type: 'end', pos: this.expect(I.RightDelim, 'end').pos };
      case I.If:
        return this.branch('if');
      case I.Range:
        return this.branch('range');
      case I.Template:
        return this.templateControl();
      case I.With:
        return this.branch('with');
    }
    this.backup();
    const tok = this.peek();
    const a: ActionNode = { type: 'action', pos: tok.pos, pipe: this.pipeline('command', I.RightDelim) };
    return a;
  }

  private loopControl(kind: 'break' | 'continue', pos: number): Node {
    const t = this.nextNonSpace();
    if (t.typ !== I.RightDelim) this.unexpected(t, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kind}}} outside {{range}}`);
    return { type: kind, pos };
  }

  private elseControl(): Node {
    const p = this.peekNonSpace();
    if (p.typ === I.If || p.typ === I.With) return { type: 'else', pos: p.pos };
    const t = this.expect(I.RightDelim, 'else');
    return { type: 'else', pos: t.pos };
  }

  private pipeline(context: string, end: I): PipeNode {
    const tok = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: tok.pos, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== I.Variable) break;
      this.next();
      const tokenAfterVariable = this.peek();
      const next = this.peekNonSpace();
      if (next.typ === I.Assign || next.typ === I.Declare) {
        pipe.isAssign = next.typ === I.Assign;
        this.nextNonSpace();
        pipe.decl.push(newVariable(v.pos, v.val));
        this.vars.push(v.val);
      } else if (next.typ === I.Char && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.peekNonSpace().typ;
          if (t === I.Variable || t === I.RightDelim || t === I.RightParen) continue decls;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else if (tokenAfterVariable.typ === I.Space) {
        this.backup3(v, tokenAfterVariable);
      } else {
        this.backup2(v);
      }
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.typ === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.typ) {
        case I.Bool:
        case I.CharConstant:
        case I.Complex:
        case I.Dot:
        case I.Field:
        case I.Identifier:
        case I.Number:
        case I.Nil:
        case I.RawString:
        case I.String:
        case I.Variable:
        case I.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]!.type;
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private branch(context: 'if' | 'range' | 'with'): BranchNode {
    const mark = this.vars.length;
    const pipe = this.pipeline(context, I.RightDelim);
    if (context === 'range') this.rangeDepth++;
    const [list, first] = this.itemList();
    let next = first;
    if (context === 'range') this.rangeDepth--;
    let elseList: ListNode | undefined;
    if (next.type === 'else') {
      // {{else if …}} / {{else with …}} nest an if/with in the else list whose {{end}} closes both.
      if (context === 'if' && this.peek().typ === I.If) {
        this.next();
        elseList = { type: 'list', pos: next.pos, nodes: [this.branch('if')] };
      } else if (context === 'with' && this.peek().typ === I.With) {
        this.next();
        elseList = { type: 'list', pos: next.pos, nodes: [this.branch('with')] };
      } else {
        [elseList, next] = this.itemList();
        if (next.type !== 'end') this.errorf(`expected end; found ${nodeString(next)}`);
      }
    }
    this.vars.length = mark;
    return { type: context, pos: pipe.pos, pipe, list, elseList };
  }

  private templateName(t: Item, context: string): string {
    if (t.typ !== I.String && t.typ !== I.RawString) this.unexpected(t, context);
    const s = goUnquote(t.val);
    if (s === undefined) this.errorf('invalid syntax');
    return s;
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    let pipe: PipeNode | undefined;
    if (this.nextNonSpace().typ !== I.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, I.RightDelim);
    }
    return { type: 'template', pos: t.pos, name, pipe };
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    const pipe = this.pipeline(context, I.RightDelim);
    const saved = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    this.vars = saved;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.addDefinition(name, list);
    return { type: 'template', pos: t.pos, name, pipe };
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== undefined) cmd.args.push(operand);
      const t = this.next();
      if (t.typ === I.Space) continue;
      if (t.typ === I.RightDelim || t.typ === I.RightParen) this.backup();
      else if (t.typ !== I.Pipe) this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): Node | undefined {
    const node = this.term();
    if (node === undefined) return undefined;
    if (this.peek().typ === I.Field) {
      const pos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().typ === I.Field) fields.push(this.next().val.slice(1));
      switch (node.type) {
        case 'field':
          return { type: 'field', pos, ident: [...node.ident, ...fields] };
        case 'variable':
          return { type: 'variable', pos, ident: [...node.ident, ...fields] };
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
      }
      return { type: 'chain', pos, node, field: fields };
    }
    return node;
  }

  private term(): Node | undefined {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case I.Identifier:
        if (!this.hasFunction(t.val)) this.errorf(`function ${goQuote(t.val)} not defined`);
        return { type: 'identifier', pos: t.pos, ident: t.val };
      case I.Dot:
        return { type: 'dot', pos: t.pos };
      case I.Nil:
        return { type: 'nil', pos: t.pos };
      case I.Variable: {
        const v = newVariable(t.pos, t.val);
        if (!this.vars.includes(v.ident[0]!)) this.errorf(`undefined variable ${goQuote(v.ident[0])}`);
        return v;
      }
      case I.Field:
        return { type: 'field', pos: t.pos, ident: t.val.slice(1).split('.') };
      case I.Bool:
        return { type: 'bool', pos: t.pos, value: t.val === 'true' };
      case I.CharConstant:
      case I.Complex:
      case I.Number:
        return this.newNumber(t);
      case I.LeftParen: {
        if (this.stackDepth >= MAX_DEPTH) this.errorf('max expression depth exceeded');
        this.stackDepth++;
        try {
          return this.pipeline('parenthesized pipeline', I.RightParen);
        } finally {
          this.stackDepth--;
        }
      }
      case I.String:
      case I.RawString: {
        const s = goUnquote(t.val);
        if (s === undefined) this.errorf('invalid syntax');
        return { type: 'string', pos: t.pos, quoted: t.val, text: s };
      }
    }
    this.backup();
    return undefined;
  }

  private newNumber(t: Item): NumberNode {
    const text = t.val;
    const n: NumberNode = { type: 'number', pos: t.pos, isInt: false, isUint: false, isFloat: false, int: 0n, float: 0, text, ideal: 'int' };
    if (t.typ === I.CharConstant) {
      const out: number[] = [];
      const end = unquoteChar(text, 1, "'", out);
      if (end === undefined) this.errorf('invalid syntax');
      if (text.slice(end) !== "'") this.errorf(`malformed character constant: ${text}`);
      const cp = Buffer.from(out).toString('utf8').codePointAt(0) ?? out[0]!;
      n.isInt = n.isUint = n.isFloat = true;
      n.int = BigInt(out.length === 1 && out[0]! >= 0x80 ? out[0]! : cp);
      n.float = Number(n.int);
      return n; // a rune constant is an int where no type is expected
    }
    if (t.typ === I.Complex || text.endsWith('i')) {
      // Complex constants are valid Go but no LogQL template function takes one.
      this.errorf(`complex constants are not supported: ${goQuote(text)}`);
    }
    const u = parseGoInt(text, true);
    if (typeof u === 'bigint') {
      n.isUint = true;
      n.int = u;
    }
    const i = parseGoInt(text);
    if (typeof i === 'bigint') {
      n.isInt = true;
      n.int = i;
      if (i === 0n) n.isUint = true;
    }
    if (n.isInt || n.isUint) {
      n.isFloat = true;
      n.float = Number(n.int);
    } else {
      const f = parseGoFloat(text);
      if (typeof f === 'number') {
        if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${goQuote(text)}`);
        n.isFloat = true;
        n.float = f;
        if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
          n.isInt = true;
          n.int = BigInt(f);
          if (f >= 0) n.isUint = true;
        }
      }
    }
    if (!n.isInt && !n.isUint && !n.isFloat) this.errorf(`illegal number syntax: ${goQuote(text)}`);
    const isHexInt = /^0[xX]./.test(text) && !/[pP]/.test(text);
    n.ideal = n.isFloat && !isHexInt && /[.eEpP]/.test(text) ? 'float' : n.isInt ? 'int' : 'overflow';
    return n;
  }
}

function newVariable(pos: number, ident: string): VariableNode {
  return { type: 'variable', pos, ident: ident.split('.') };
}

function isEmptyTree(n: Node): boolean {
  switch (n.type) {
    case 'list':
      return n.nodes.every(isEmptyTree);
    case 'text':
      return n.text.trim().length === 0;
    case 'comment':
      return true;
    default:
      return false;
  }
}

/** Parses `text` as a template named `name`; `hasFunction` says which identifiers are functions. */
export function parseTemplate(name: string, text: string, hasFunction: (name: string) => boolean): ParsedTemplate {
  const p = new Parser(name, text, hasFunction);
  const root = p.parse();
  return { name, text, root, defined: p.defined };
}
