/**
 * WAL segment files: naming, record framing, and a reader that never throws on bad bytes.
 *
 * Frame: u32 LE payload length | u32 LE crc32(payload) | payload (docs/wal-format.md). A segment is a plain
 * sequence of frames; a checkpoint file uses the same framing.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ByteWriter, WalFormatError, decodeRecord, writeRecord, type WalRecord } from './record.js';

export const FRAME_HEADER_SIZE = 8;
const NAME_WIDTH = 8;
/** Bytes read from a segment per I/O (a fresh buffer each time: decoded lines are views into it). */
const READ_CHUNK = 4 * 1024 * 1024;

/** `00000042`: zero-padded so a plain directory listing sorts in write order. */
export function segmentName(seq: number): string {
  return String(seq).padStart(NAME_WIDTH, '0');
}

export function checkpointName(seq: number): string {
  return `checkpoint.${segmentName(seq)}`;
}

export function checkpointTmpName(seq: number): string {
  return `${checkpointName(seq)}.tmp`;
}

export type WalFileKind = 'segment' | 'checkpoint' | 'checkpoint-tmp';

const SEGMENT_RE = /^(\d+)$/;
const CHECKPOINT_RE = /^checkpoint\.(\d+)$/;
const CHECKPOINT_TMP_RE = /^checkpoint\.(\d+)\.tmp$/;

/** Classifies a file name of the WAL directory; anything else is not ours and is left alone. */
export function parseWalFileName(name: string): { kind: WalFileKind; seq: number } | undefined {
  let kind: WalFileKind;
  let m = SEGMENT_RE.exec(name);
  if (m) kind = 'segment';
  else if ((m = CHECKPOINT_RE.exec(name))) kind = 'checkpoint';
  else if ((m = CHECKPOINT_TMP_RE.exec(name))) kind = 'checkpoint-tmp';
  else return undefined;
  const seq = Number(m[1]);
  // Only the names we write (so a number always maps back to the same file name).
  if (!Number.isSafeInteger(seq) || segmentName(seq) !== m[1]) return undefined;
  return { kind, seq };
}

export interface WalDirListing {
  /** Ascending. */
  segments: number[];
  /** Complete checkpoints, ascending. */
  checkpoints: number[];
  /** Checkpoints whose write never finished (a crash before the rename). */
  tmpCheckpoints: number[];
}

/** Lists the WAL directory; a missing directory is an empty WAL. */
export async function listWalDir(dir: string): Promise<WalDirListing> {
  const out: WalDirListing = { segments: [], checkpoints: [], tmpCheckpoints: [] };
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const name of names) {
    const f = parseWalFileName(name);
    if (f === undefined) continue;
    if (f.kind === 'segment') out.segments.push(f.seq);
    else if (f.kind === 'checkpoint') out.checkpoints.push(f.seq);
    else out.tmpCheckpoints.push(f.seq);
  }
  const asc = (a: number, b: number): number => a - b;
  out.segments.sort(asc);
  out.checkpoints.sort(asc);
  out.tmpCheckpoints.sort(asc);
  return out;
}

/**
 * Appends one framed record to `w`: the payload is encoded in place after an 8-byte hole, then the hole is filled
 * with its length and crc32. On a throw `w` may hold a partial frame: callers roll `w.pos` back.
 */
export function appendFrame(w: ByteWriter, r: WalRecord): void {
  w.ensure(FRAME_HEADER_SIZE);
  const start = w.pos;
  w.pos += FRAME_HEADER_SIZE;
  writeRecord(w, r);
  const end = w.pos;
  const len = end - start - FRAME_HEADER_SIZE;
  const buf = w.buf;
  buf.writeUInt32LE(len, start);
  buf.writeUInt32LE(crc32(buf.subarray(start + FRAME_HEADER_SIZE, end)), start + 4);
}

/** The records as a sequence of frames, exactly as they are laid out in a segment. */
export function encodeRecords(records: Iterable<WalRecord>): Buffer {
  const w = new ByteWriter(4096);
  for (const r of records) appendFrame(w, r);
  return Buffer.from(w.bytes());
}

/** A region of a WAL file replay could not use. */
export interface CorruptRegion {
  /** File name inside the WAL directory. */
  file: string;
  /** Byte offset of the first skipped byte. */
  offset: number;
  skippedBytes: number;
  reason: string;
}

/**
 * Decodes frames held fully in memory; stops at the first bad frame and returns it as `corrupt` (tests, tools).
 */
export function decodeFrames(
  buf: Buffer,
  file = '<buffer>',
): { records: WalRecord[]; corrupt: CorruptRegion[] } {
  const records: WalRecord[] = [];
  const corrupt: CorruptRegion[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const bad = checkFrame(buf, pos, buf.length - pos, buf.length - pos);
    if (typeof bad === 'string') {
      corrupt.push({ file, offset: pos, skippedBytes: buf.length - pos, reason: bad });
      break;
    }
    const payload = buf.subarray(pos + FRAME_HEADER_SIZE, pos + FRAME_HEADER_SIZE + bad);
    try {
      records.push(decodeRecord(payload));
    } catch (err) {
      corrupt.push({ file, offset: pos, skippedBytes: FRAME_HEADER_SIZE + bad, reason: undecodable(err) });
    }
    pos += FRAME_HEADER_SIZE + bad;
  }
  return { records, corrupt };
}

/**
 * Validates the frame at `buf[pos]`: returns its payload length, or why it ends the file. `avail` is how many bytes
 * of the frame are in `buf`, `left` how many bytes the file has from the frame on.
 */
function checkFrame(buf: Buffer, pos: number, avail: number, left: number): number | string {
  if (left < FRAME_HEADER_SIZE) return `truncated frame header (${left} of ${FRAME_HEADER_SIZE} bytes; torn write)`;
  const len = buf.readUInt32LE(pos);
  const crc = buf.readUInt32LE(pos + 4);
  if (len === 0) {
    return crc === 0 ? 'zero-filled tail (zero-length frame)' : 'zero-length frame';
  }
  if (len > left - FRAME_HEADER_SIZE) {
    return `frame length ${len} runs past end of file (${left - FRAME_HEADER_SIZE} bytes left; torn write)`;
  }
  if (avail < FRAME_HEADER_SIZE + len) throw new Error('checkFrame: frame not buffered'); // caller bug, not data
  const actual = crc32(buf.subarray(pos + FRAME_HEADER_SIZE, pos + FRAME_HEADER_SIZE + len));
  if (actual !== crc) return `checksum mismatch (stored ${hex(crc)}, computed ${hex(actual)})`;
  return len;
}

function hex(v: number): string {
  return `0x${v.toString(16).padStart(8, '0')}`;
}

function undecodable(err: unknown): string {
  return `undecodable record: ${err instanceof WalFormatError || err instanceof Error ? err.message : String(err)}`;
}

export interface ReadFileResult {
  records: number;
  bytes: number;
}

/**
 * Streams the frames of one WAL file to `visit`, in order. Never throws on file content: a torn, zero-filled or
 * checksum-failing frame ends the file and is passed to `onCorrupt` (with everything after it counted as skipped);
 * a frame whose checksum holds but whose payload does not decode is skipped alone. I/O errors are reported the
 * same way. An exception thrown by `visit` propagates (after the file is closed).
 */
export async function readWalFile(
  dir: string,
  file: string,
  visit: (r: WalRecord) => void,
  onCorrupt: (c: CorruptRegion) => void,
): Promise<ReadFileResult> {
  const result: ReadFileResult = { records: 0, bytes: 0 };
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(join(dir, file), 'r');
  } catch (err) {
    onCorrupt({ file, offset: 0, skippedBytes: 0, reason: `cannot open: ${errText(err)}` });
    return result;
  }
  // Offsets: `buf[0]` is file byte `base`; the next frame starts at buf[start]; buf[start, end) is loaded.
  let size = 0;
  let base = 0;
  let buf = Buffer.alloc(0);
  let start = 0;
  let end = 0;
  let offset = 0;
  let visitError: { err: unknown } | undefined;
  try {
    size = (await fh.stat()).size;
    // Loads at least `need` bytes from `start` (the caller checked the file has them) into a FRESH buffer.
    const fill = async (need: number): Promise<void> => {
      const fileLeft = size - (base + end);
      const cap = Math.max(need, Math.min(READ_CHUNK, end - start + fileLeft));
      const next = Buffer.allocUnsafeSlow(cap);
      buf.copy(next, 0, start, end);
      base += start;
      end -= start;
      start = 0;
      buf = next;
      while (end < need) {
        const { bytesRead } = await fh.read(buf, end, buf.length - end, base + end);
        if (bytesRead === 0) throw new Error(`file shrank to ${base + end} bytes while reading`);
        end += bytesRead;
      }
    };
    for (;;) {
      offset = base + start;
      const left = size - offset;
      if (left <= 0) break;
      if (end - start < FRAME_HEADER_SIZE && left >= FRAME_HEADER_SIZE) await fill(FRAME_HEADER_SIZE);
      if (left >= FRAME_HEADER_SIZE) {
        const len = buf.readUInt32LE(start);
        if (len > 0 && len <= left - FRAME_HEADER_SIZE && end - start < FRAME_HEADER_SIZE + len) {
          await fill(FRAME_HEADER_SIZE + len);
        }
      }
      const len = checkFrame(buf, start, end - start, left);
      if (typeof len === 'string') {
        onCorrupt({ file, offset, skippedBytes: left, reason: len });
        break;
      }
      const payload = buf.subarray(start + FRAME_HEADER_SIZE, start + FRAME_HEADER_SIZE + len);
      start += FRAME_HEADER_SIZE + len;
      let rec: WalRecord;
      try {
        rec = decodeRecord(payload);
      } catch (err) {
        onCorrupt({ file, offset, skippedBytes: FRAME_HEADER_SIZE + len, reason: undecodable(err) });
        continue;
      }
      result.records++;
      result.bytes += FRAME_HEADER_SIZE + len;
      try {
        visit(rec);
      } catch (err) {
        visitError = { err };
        break;
      }
    }
  } catch (err) {
    // Only I/O can get here (open, stat, read): report it like corruption so startup goes on.
    onCorrupt({ file, offset, skippedBytes: Math.max(0, size - offset), reason: `read error: ${errText(err)}` });
  } finally {
    await fh.close().catch(() => undefined);
  }
  // The caller's own exception is not corruption: it propagates.
  if (visitError) throw visitError.err;
  return result;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
