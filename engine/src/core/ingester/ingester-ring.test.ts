import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nopLogger } from '../util/logger.js';
import { waitForZone } from './ingester-ring.js';

describe('waitForZone', () => {
  it('waits until the zone file has a value (the kubelet writes the annotation once the operator set it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-zone-'));
    try {
      const file = join(dir, 'zone');
      writeFileSync(file, ''); // the downward-API file exists but the annotation is not set yet
      setTimeout(() => writeFileSync(file, 'eu-west-1b\n'), 120);
      const started = Date.now();
      expect(await waitForZone(file, { logger: nopLogger, pollMs: 20 })).toBe('eu-west-1b');
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
