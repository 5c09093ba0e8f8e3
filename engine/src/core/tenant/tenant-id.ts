import { EngineError } from '../errors.js';

/** Loki's limit on a tenant ID's length, in bytes. */
export const MAX_TENANT_ID_LENGTH = 150;
/** The tenant of every request when auth is disabled (Loki's `fake`). */
export const DEFAULT_TENANT = 'fake';

// Allowed: ASCII letters, digits and ! - _ . * ' ( ) — the set Loki documents for tenant IDs.
const ALLOWED = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!-_.*\'()') ALLOWED[c.charCodeAt(0)] = 1;

/**
 * Returns the tenant ID or throws a 400 naming the rule it breaks. Called before a tenant ID touches a file path
 * or an object key, so `..` or `/` can never escape a directory.
 */
export function validateTenantId(id: string): string {
  if (id.length === 0) throw new EngineError('unauthorized', 'no org id');
  if (Buffer.byteLength(id) > MAX_TENANT_ID_LENGTH) {
    throw new EngineError('bad_request', `tenant ID is too long: max ${MAX_TENANT_ID_LENGTH} characters`);
  }
  if (id === '.' || id === '..') throw new EngineError('bad_request', "tenant ID is '.' or '..'");
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c >= 128 || ALLOWED[c] === 0) {
      throw new EngineError('bad_request', `tenant ID '${id}' contains unsupported character '${String.fromCodePoint(id.codePointAt(i)!)}'`);
    }
  }
  return id;
}

/**
 * Resolves the tenant of a request from its X-Scope-OrgID header. With auth disabled every request belongs to
 * `fake`, as in Loki. Multi-tenant reads (`a|b`) are split by the caller when it allows them.
 */
export function resolveTenant(header: string | string[] | undefined, authEnabled: boolean): string {
  if (!authEnabled) return DEFAULT_TENANT;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') throw new EngineError('unauthorized', 'no org id');
  return validateTenantId(value);
}
