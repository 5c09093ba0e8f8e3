/**
 * Builds engine/native/strata_native.c into build/strata_native.node with the C compiler (`$CC`, else `cc`) against
 * the Node-API headers of the Node.js running this script. Run by the engine's `build` script; rebuilds only when the
 * source is newer than the addon. STRATA_NATIVE=off skips it (the engine then uses its JavaScript fallbacks, which
 * are slower; see docs/adr/0013-native-read-path.md).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'strata_native.c');
const out = join(here, 'build', 'strata_native.node');

if (process.env.STRATA_NATIVE === 'off') {
  // The engine loads the addon whenever its file exists: remove one left by an earlier build.
  rmSync(out, { force: true });
  console.log('strata native: skipped (STRATA_NATIVE=off); the engine will use its slower JavaScript fallbacks');
  process.exit(0);
}
if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs && statSync(out).mtimeMs >= statSync(fileURLToPath(import.meta.url)).mtimeMs) {
  process.exit(0);
}

/** Where node_api.h may be: next to this Node's binary (official archives, the `node` npm package), then the system. */
function headerDir() {
  const bin = dirname(process.execPath);
  const candidates = [
    join(bin, '..', 'include', 'node'),
    join(bin, '..', 'node_modules', `node-${process.platform}-${process.arch}`, 'include', 'node'),
    '/usr/local/include/node',
    '/usr/include/node',
  ];
  if (process.env.STRATA_NODE_HEADERS) candidates.unshift(process.env.STRATA_NODE_HEADERS);
  const found = candidates.find((d) => existsSync(join(d, 'node_api.h')));
  if (found === undefined) {
    fail(`no node_api.h found (looked in ${candidates.join(', ')}); set STRATA_NODE_HEADERS to Node's include/node directory`);
  }
  return found;
}

function fail(msg) {
  console.error(`strata native: ${msg}\n  (STRATA_NATIVE=off builds without the addon; reads are then slower)`);
  process.exit(1);
}

const cc = process.env.CC || 'cc';
const args = ['-O3', '-std=c11', '-fPIC', '-shared', '-Wall', '-Wextra', '-Werror', '-I', headerDir(), '-o', out, src];
if (process.platform === 'darwin') args.splice(4, 0, '-undefined', 'dynamic_lookup');
mkdirSync(dirname(out), { recursive: true });
try {
  execFileSync(cc, args, { stdio: 'inherit' });
} catch (e) {
  fail(`${cc} ${args.join(' ')} failed: ${e.message}`);
}
console.log(`strata native: built ${out}`);
