/** Injection token for the framework-free Engine that every controller routes to. */
export const ENGINE = Symbol('strata.engine');
