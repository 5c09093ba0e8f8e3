/**
 * An error from one of the Go-compatible parsers in this folder; `message` is the exact text Go (or the Go library
 * Loki uses) would print, because Loki returns those texts to users verbatim.
 */
export class GoSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoSyntaxError';
  }
}
