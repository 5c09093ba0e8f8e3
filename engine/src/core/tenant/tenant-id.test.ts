import { resolveTenant, validateTenantId } from './tenant-id.js';
import { EngineError } from '../errors.js';

function errorOf(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('expected an EngineError');
}

describe('tenant IDs', () => {
  it('accepts every character Loki allows', () => {
    expect(validateTenantId("team-a_1.prod!*'(x)")).toBe("team-a_1.prod!*'(x)");
    expect(validateTenantId('x'.repeat(150))).toHaveLength(150);
  });

  it('rejects IDs that could escape a path or break a key', () => {
    for (const bad of ['..', '.']) expect(errorOf(() => validateTenantId(bad)).message).toBe("tenant ID is '.' or '..'");
    for (const bad of ['a/b', 'a\\b', 'a b', 'ü', 'a|b', 'a\u0000b']) {
      const e = errorOf(() => validateTenantId(bad));
      expect(e.status).toBe(400);
      expect(e.message).toContain('unsupported character');
    }
    expect(errorOf(() => validateTenantId('x'.repeat(151))).message).toBe('tenant ID is too long: max 150 characters');
  });

  it('uses `fake` when auth is disabled and requires X-Scope-OrgID when it is on', () => {
    expect(resolveTenant(undefined, false)).toBe('fake');
    expect(resolveTenant('anything', false)).toBe('fake');
    const e = errorOf(() => resolveTenant(undefined, true));
    expect([e.status, e.message]).toEqual([401, 'no org id']);
    expect(resolveTenant('team-a', true)).toBe('team-a');
  });
});
