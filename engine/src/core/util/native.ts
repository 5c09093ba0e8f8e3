import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The engine's native addon (engine/native/strata_native.c, ADR 0013): LZ4 block decoding into a reused buffer and
 * memmem byte search, the two costs that dominate a scan of stored chunks. Built by the engine's `build` script.
 * Without it (built with STRATA_NATIVE=off, on a platform without a C compiler, or when it fails to load) the same
 * functions run on lz4-napi and Buffer#indexOf: same results, slower reads.
 */
interface Addon {
  lz4DecompressInto(src: Buffer, dst: Buffer, limit: number): number;
  indexOf(haystack: Buffer, needle: Buffer, from: number, to: number): number;
}

// Same relative path from src/core/util (tests) and dist/core/util (the built engine).
const ADDON_PATH = fileURLToPath(new URL('../../../native/build/strata_native.node', import.meta.url));

let loadError = 'not built';

function load(): Addon | undefined {
  if (!existsSync(ADDON_PATH)) return undefined;
  try {
    return createRequire(import.meta.url)(ADDON_PATH) as Addon;
  } catch (e) {
    // Built for another platform or a Node.js without Node-API 8: the fallbacks still give the same results.
    loadError = (e as Error).message;
    return undefined;
  }
}

const addon = load();

/** Whether the addon is loaded (logged at start-up; the tests require it). */
export const nativeAvailable = (): boolean => addon !== undefined;

/** Why the addon is not loaded ('not built', or the loader's error), for the start-up warning. */
export const nativeUnavailableReason = (): string => loadError;

/** The addon's file, for messages. */
export const nativeAddonPath = ADDON_PATH;

/**
 * Decodes the raw LZ4 block `src` into `dst` (which must not overlap it); returns the decoded length, or -1 when the
 * block is malformed or decodes to more than `limit` bytes. Bytes of `dst` past the result (up to its length) may be
 * overwritten: give it some room (NATIVE_SLACK) beyond `limit` to let the decoder copy 16 bytes at a time.
 * Undefined without the addon.
 */
export const lz4DecompressInto: ((src: Buffer, dst: Buffer, limit: number) => number) | undefined = addon?.lz4DecompressInto;

/** Room past the expected size that lets lz4DecompressInto copy in 16-byte steps to the end. */
export const NATIVE_SLACK = 32;

/**
 * The first offset ≥ from where `needle` lies wholly within haystack[from, to), or -1 (an empty needle is found at
 * `from`). memmem with the addon, Buffer#indexOf (bounded by a view) without.
 */
export const indexOfBytes: (haystack: Buffer, needle: Buffer, from: number, to: number) => number =
  addon !== undefined ? addon.indexOf : indexOfFallback;

function indexOfFallback(haystack: Buffer, needle: Buffer, from: number, to: number): number {
  if (to > haystack.length) to = haystack.length;
  if (from > to) return -1;
  if (to === haystack.length) return haystack.indexOf(needle, from);
  return haystack.subarray(0, to).indexOf(needle, from);
}
