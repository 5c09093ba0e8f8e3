/** Go's unicode.IsSpace set (JavaScript's \s also has U+FEFF and lacks U+0085). */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Go's strings.TrimSpace. */
export function trimSpace(s: string): string {
  return s.replace(GO_SPACE, '');
}
