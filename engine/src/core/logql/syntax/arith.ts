import type { BinaryOp } from './ast.js';

/**
 * LogQL's binary operators on two numbers, with Go's float semantics, shared by literal folding at parse time and
 * by the evaluator. Loki guards division and modulo by zero with NaN (Prometheus would give ±Inf).
 */
export function arithmetic(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return r === 0 ? NaN : l / r;
    // Go's math.Mod: the result has the sign of x; JavaScript's % agrees, including for infinities and NaN.
    case '%':
      return r === 0 ? NaN : l % r;
    case '^':
      return goPow(l, r);
    default:
      return NaN;
  }
}

/** The comparison operators; undefined for any other operator. */
export function compare(op: BinaryOp, l: number, r: number): boolean | undefined {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '>=':
      return l >= r;
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    default:
      return undefined;
  }
}

/** Go's math.Pow: 1^y and x^±0 are 1 even for NaN, and (-1)^±Inf is 1; elsewhere JavaScript's ** agrees. */
function goPow(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return x ** y;
}
