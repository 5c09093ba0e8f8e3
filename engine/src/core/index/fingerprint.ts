import { hash } from 'node:crypto';

/**
 * A stream's fingerprint: the first 8 bytes of SHA-256 over its canonical label string, as 16 lowercase hex
 * characters. It names chunk objects and index entries, so it must never change: a different function would
 * orphan every stored chunk. 64 bits keep collisions negligible per tenant and table (~3e-8 at a million
 * streams); the index builder still refuses a collision rather than merging two streams.
 */
export function fingerprint(canonicalLabels: string): string {
  return hash('sha256', canonicalLabels, 'hex').slice(0, 16);
}
