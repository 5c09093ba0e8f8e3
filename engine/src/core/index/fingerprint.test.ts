import { fingerprint } from './fingerprint.js';

it('is the first 8 bytes of SHA-256 in hex, pinned forever (it names objects on disk)', () => {
  // Independently: printf '{app="api"}' | sha256sum
  expect(fingerprint('{app="api"}')).toBe('d5d0c20f449f34b4');
  expect(fingerprint('{}')).toBe('44136fa355b3678a');
  expect(fingerprint('')).toBe('e3b0c44298fc1c14');
});

it('is 16 lowercase hex characters and differs between label sets', () => {
  const a = fingerprint('{app="api", env="prod"}');
  const b = fingerprint('{app="api", env="dev"}');
  expect(a).toMatch(/^[0-9a-f]{16}$/);
  expect(a).not.toBe(b);
  // UTF-8 input is hashed as UTF-8.
  expect(fingerprint('{app="é"}')).toBe(fingerprint(Buffer.from('{app="é"}', 'utf8').toString()));
});
