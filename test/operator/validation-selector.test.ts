import { parseSelector, selectorError } from '../../operator/src/validation/selector.js';

describe('stream selector validation', () => {
  it('parses matchers with every operator, Go escapes and raw strings', () => {
    expect(parseSelector('{namespace="prod", app=~"api|web", level!="debug", pod!~`canary-.*`}')).toEqual([
      { name: 'namespace', op: '=', value: 'prod' },
      { name: 'app', op: '=~', value: 'api|web' },
      { name: 'level', op: '!=', value: 'debug' },
      { name: 'pod', op: '!~', value: 'canary-.*' },
    ]);
    expect(parseSelector(' { path = "a\\"b\\\\c\\u00e9\\x41" } ')).toEqual([{ name: 'path', op: '=', value: 'a"b\\céA' }]);
    expect(parseSelector('{app=~"(?i)API"}')).toHaveLength(1);
    expect(parseSelector('{app=~"(?P<x>a)b"}')).toHaveLength(1);
  });

  it.each([
    ['', 'expecting "{"'],
    ['app="x"', 'expecting "{"'],
    ['{}', 'at least one label matcher'],
    ['{app}', 'expecting one of =, !=, =~, !~'],
    ['{app="x"', 'expecting "," or "}"'],
    ['{app="x} ', 'unterminated string'],
    ['{1app="x"}', 'expecting a label name'],
    ['{app=x}', 'expecting a quoted label value'],
    ['{app="x"} |= "error"', 'only a stream selector is allowed'],
    ['{app=~"("}', 'invalid regexp "("'],
    ['{app="\\q"}', 'invalid escape sequence \\q'],
    ['{app=~".*"}', 'at least one regexp or equality matcher that does not have an empty-compatible value'],
    ['{app!="x"}', 'empty-compatible'],
    ['{app=""}', 'empty-compatible'],
  ])('rejects %j', (selector, message) => {
    expect(selectorError(selector)).toContain(message);
  });

  it('accepts a selector when one matcher excludes the empty value', () => {
    expect(selectorError('{app=~".*", env="prod"}')).toBeUndefined();
    expect(selectorError('{app=~".+"}')).toBeUndefined();
    expect(selectorError('{app!~""}')).toBeUndefined();
  });
});
