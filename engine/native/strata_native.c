/*
 * Strata's native helpers for the read path's hot loop (ADR 0013): decoding an LZ4 block into a buffer the caller
 * reuses, and searching bytes with the C library's memmem. Everything else stays in TypeScript; the engine runs
 * without this addon (engine/src/core/util/native.ts falls back to lz4-napi and Buffer.indexOf).
 *
 * Only the stable Node-API (version 8) is used, so one build serves every Node.js release that has it.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <string.h>

/*
 * Decodes one raw LZ4 block (the block format: sequences of a token, literals, a 2-byte little-endian offset and a
 * match length) from src[0..n) into dst. Returns the decoded length, or -1 when the block is malformed: a length
 * or offset pointing outside the input or the output decoded so far, or output beyond `limit` bytes.
 *
 * dst has `cap` >= limit bytes; bytes between the end of the output and `cap` are scratch, so copies may be done
 * 16 or 8 bytes at a time past the end of a sequence ("wild" copies) when that room exists.
 */
static int64_t lz4_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t limit, size_t cap) {
  const uint8_t *s = src;
  const uint8_t *const se = src + n;
  uint8_t *d = dst;
  uint8_t *const de = dst + limit;
  uint8_t *const dcap = dst + cap;
  if (n == 0) return -1;
  for (;;) {
    if (s >= se) return -1;
    const unsigned token = *s++;
    size_t lit = token >> 4;
    if (lit == 15) {
      unsigned b;
      do {
        if (s >= se) return -1;
        b = *s++;
        lit += b;
      } while (b == 255);
    }
    if (lit > (size_t)(se - s) || lit > (size_t)(de - d)) return -1;
    if (lit <= 16 && (se - s) >= 16 && (dcap - d) >= 16) {
      memcpy(d, s, 16);
    } else {
      memcpy(d, s, lit);
    }
    d += lit;
    s += lit;
    if (s == se) break; /* the last sequence has literals only */
    if (se - s < 2) return -1;
    const size_t off = (size_t)s[0] | ((size_t)s[1] << 8);
    s += 2;
    if (off == 0 || off > (size_t)(d - dst)) return -1;
    size_t ml = token & 15;
    if (ml == 15) {
      unsigned b;
      do {
        if (s >= se) return -1;
        b = *s++;
        ml += b;
      } while (b == 255);
    }
    ml += 4;
    if (ml > (size_t)(de - d)) return -1;
    const uint8_t *m = d - off;
    uint8_t *const e = d + ml;
    if (off >= 16 && (size_t)(dcap - d) >= ml + 16) {
      /* Source and destination are at least 16 bytes apart: each 16-byte copy reads bytes already written. */
      do {
        memcpy(d, m, 16);
        d += 16;
        m += 16;
      } while (d < e);
    } else if (off >= 8 && (size_t)(dcap - d) >= ml + 8) {
      do {
        memcpy(d, m, 8);
        d += 8;
        m += 8;
      } while (d < e);
    } else {
      /* Short offsets repeat a pattern (off 1 is a run of one byte): byte by byte, as the format defines it. */
      while (d < e) *d++ = *m++;
    }
    d = e;
  }
  return (int64_t)(d - dst);
}

static int buffer_arg(napi_env env, napi_value v, void **data, size_t *len, const char *what) {
  bool is_buffer = false;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) {
    napi_throw_type_error(env, NULL, what);
    return 0;
  }
  if (napi_get_buffer_info(env, v, data, len) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return 0;
  }
  return 1;
}

/*
 * A non-negative integer argument (a length or an offset). Not napi_get_value_uint32: it wraps -1 to 4294967295 and
 * 2^32 to 0, turning a caller's bug into a silently different bound.
 */
static int size_arg(napi_env env, napi_value v, size_t *out, const char *what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return 0;
  }
  if (!(d >= 0 && d <= 9007199254740991.0) || d != (double)(uint64_t)d) {
    napi_throw_range_error(env, NULL, what);
    return 0;
  }
  *out = (size_t)d;
  return 1;
}

static napi_value number(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

/* lz4DecompressInto(src: Buffer, dst: Buffer, limit: number): number — see lz4_decode; limit is capped at dst's length. */
static napi_value lz4_decompress_into(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "lz4DecompressInto(src, dst, limit): 3 arguments expected");
    return NULL;
  }
  void *src, *dst;
  size_t n, cap, limit;
  if (!buffer_arg(env, argv[0], &src, &n, "lz4DecompressInto: src must be a Buffer")) return NULL;
  if (!buffer_arg(env, argv[1], &dst, &cap, "lz4DecompressInto: dst must be a Buffer")) return NULL;
  if (!size_arg(env, argv[2], &limit, "lz4DecompressInto: limit must be a non-negative integer")) return NULL;
  const size_t lim = limit < cap ? limit : cap;
  return number(env, lz4_decode((const uint8_t *)src, n, (uint8_t *)dst, lim, cap));
}

/*
 * indexOf(haystack: Buffer, needle: Buffer, from: number, to: number): number — the first offset >= from where
 * needle occurs wholly within haystack[from..to), or -1. An empty needle is found at `from` (as Buffer#indexOf).
 */
static napi_value index_of(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "indexOf(haystack, needle, from, to): 4 arguments expected");
    return NULL;
  }
  void *hay, *needle;
  size_t hn, nn, from, to;
  if (!buffer_arg(env, argv[0], &hay, &hn, "indexOf: haystack must be a Buffer")) return NULL;
  if (!buffer_arg(env, argv[1], &needle, &nn, "indexOf: needle must be a Buffer")) return NULL;
  if (!size_arg(env, argv[2], &from, "indexOf: from must be a non-negative integer")) return NULL;
  if (!size_arg(env, argv[3], &to, "indexOf: to must be a non-negative integer")) return NULL;
  if (to > hn) to = hn;
  if (from > to) return number(env, -1);
  if (nn == 0) return number(env, from);
  const uint8_t *base = (const uint8_t *)hay;
  const uint8_t *p = memmem(base + from, to - from, needle, nn);
  return number(env, p == NULL ? -1 : (int64_t)(p - base));
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "lz4DecompressInto", NAPI_AUTO_LENGTH, lz4_decompress_into, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "lz4DecompressInto", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "indexOf", NAPI_AUTO_LENGTH, index_of, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "indexOf", fn) != napi_ok) return NULL;
  return exports;
}
