/*
 * RFC 6455 §5.3 masking as a Node-API addon: one pass over the bytes.
 *
 * Why native at all: JavaScript cannot XOR more than 32 bits at a time, and
 * the WebAssembly path (src/mask.wat) must copy a payload into its own memory
 * and back out, three passes over memory that large frames feel. Here the
 * compiler vectorises a plain 64-bit loop and reads and writes each byte once.
 * The package works without this file built: src/mask.ts falls back.
 *
 * One pass by default; a memcpy and then a pass in place where the caller
 * asks (see COPY_FIRST_THRESHOLD).
 * Large copies into memory already mapped use streaming stores (Linux with
 * SSE2: see xor_mask_stream).
 */
#include <node_api.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#if defined(__SSE2__) && defined(__linux__)
#include <emmintrin.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

/* XORs len bytes of src into dst; byte i takes byte (i & 3) of `key`, least significant first.
 * src and dst may be the same buffer (unmasking in place), never overlapping otherwise. */
static void xor_mask(const uint8_t *src, uint8_t *dst, size_t len, uint32_t key) {
  uint8_t pattern[8];
  for (unsigned i = 0; i < 8; i++) pattern[i] = (uint8_t)(key >> (8 * (i & 3)));
  uint64_t word;
  memcpy(&word, pattern, 8);

  size_t i = 0;
  /* memcpy in and out keeps unaligned access defined; compilers turn it into plain loads. */
  for (; i + 32 <= len; i += 32) {
    uint64_t a, b, c, d;
    memcpy(&a, src + i, 8);
    memcpy(&b, src + i + 8, 8);
    memcpy(&c, src + i + 16, 8);
    memcpy(&d, src + i + 24, 8);
    a ^= word;
    b ^= word;
    c ^= word;
    d ^= word;
    memcpy(dst + i, &a, 8);
    memcpy(dst + i + 8, &b, 8);
    memcpy(dst + i + 16, &c, 8);
    memcpy(dst + i + 24, &d, 8);
  }
  for (; i + 8 <= len; i += 8) {
    uint64_t a;
    memcpy(&a, src + i, 8);
    a ^= word;
    memcpy(dst + i, &a, 8);
  }
  /* The pattern repeats every 4 bytes, so index i uses pattern[i & 7] as well as any. */
  for (; i < len; i++) dst[i] = src[i] ^ pattern[i & 7];
}

#if defined(__SSE2__) && defined(__linux__)
#define STREAM_MASKING 1
/* From this size a masked copy may bypass the cache (see below). */
#define STREAM_THRESHOLD ((size_t)1 << 20)

/*
 * A masked copy of a large payload into a new frame, with non-temporal stores.
 * A plain store first reads the destination's cache line from memory; a
 * streaming store does not, so the copy moves two bytes over the memory bus
 * per payload byte instead of three. The frame goes to the socket next, and
 * at this size it would have left the cache before being sent anyway.
 *
 * Only into memory already mapped, though (see `mapped`): a freshly mapped
 * page is zeroed by the kernel on first touch, through the cache, and
 * streaming stores then throw those cached lines away. Into fresh 16 MiB
 * targets they ran at half the speed of the plain loop (1.5 vs 3.0 GB/s,
 * Intel Xeon); into mapped ones at 1.25× ws in `pnpm bench`.
 */
static void xor_mask_stream(const uint8_t *src, uint8_t *dst, size_t len, uint32_t key) {
  /* Streaming stores need 16-byte aligned addresses: the first bytes go the ordinary way. */
  size_t head = (16 - ((uintptr_t)dst & 15)) & 15;
  xor_mask(src, dst, head, key);
  /* The key rotated so that its first byte is the one for index `head` (and every 16th byte after it). */
  unsigned shift = 8 * (head & 3);
  uint32_t rotated = shift ? (key >> shift) | (key << (32 - shift)) : key;
  __m128i k = _mm_set1_epi32((int)rotated);
  size_t i = head;
  for (; i + 64 <= len; i += 64) {
    __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
    __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
    _mm_stream_si128((__m128i *)(dst + i), _mm_xor_si128(a, k));
    _mm_stream_si128((__m128i *)(dst + i + 16), _mm_xor_si128(b, k));
    _mm_stream_si128((__m128i *)(dst + i + 32), _mm_xor_si128(c, k));
    _mm_stream_si128((__m128i *)(dst + i + 48), _mm_xor_si128(d, k));
  }
  for (; i + 16 <= len; i += 16) {
    _mm_stream_si128((__m128i *)(dst + i), _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + i)), k));
  }
  /* Streaming stores are weakly ordered: fence them before anyone reads the frame. */
  _mm_sfence();
  /* i - head is a multiple of 16, so index i takes the rotated key's first byte too. */
  xor_mask(src + i, dst + i, len - i, rotated);
}

/* Whether the target's pages are mapped already: four pages across it, by mincore(2). */
static int mapped(const uint8_t *target, size_t len) {
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0) return 0;
  unsigned char resident;
  for (size_t j = 0; j < 4; j++) {
    uintptr_t at = (uintptr_t)(target + (len / 4) * j + (size_t)page) & ~((uintptr_t)page - 1);
    if (mincore((void *)at, 1, &resident) != 0 || !(resident & 1)) return 0;
  }
  return 1;
}
#endif

/*
 * From this size a caller may ask for a memcpy then a pass in place instead
 * of one pass (`copyFirst`): the decoder does, when it assembles a received
 * payload. Which is faster depends on where source and target are cached, so
 * each call site uses what measured faster for it (Intel Xeon, `pnpm bench`,
 * several runs each): assembling 64 KiB payloads 1.00–1.15× ws copying
 * first, 0.84–1.02× in one pass; new 64 KiB client frames 0.96–1.09× in one
 * pass, 0.84–0.90× copying first. (On an AMD EPYC copying first was 10–25 % faster
 * for both.) Below STREAM_THRESHOLD only: above it see xor_mask_stream.
 */
#define COPY_FIRST_THRESHOLD ((size_t)32 << 10)
#if !defined(STREAM_MASKING)
#define STREAM_THRESHOLD ((size_t)-1)
#endif

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_MASK_ARGUMENT", message);
  return NULL;
}

static int bytes_of(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, (void **)data, &buffer, &offset) != napi_ok) return 0;
  return type == napi_uint8_array;
}

/*
 * mask(source, target, targetOffset, key[, copyFirst]): writes source XOR key into target
 * starting at targetOffset; target may be source (with offset 0). `key` is the
 * 4-byte key as a 32-bit number, its least significant byte applying to the
 * first byte of source: a number, not a buffer, so callers need not make a
 * view of the key inside a frame. Every bound is checked here, so JavaScript
 * cannot make it write out of range.
 */
static napi_value mask(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || argc > 5) {
    return throw_error(env, "mask(source, target, targetOffset, key[, copyFirst]) takes four or five arguments");
  }
  bool copy_first = false;
  if (argc == 5 && napi_get_value_bool(env, argv[4], &copy_first) != napi_ok) {
    return throw_error(env, "copyFirst must be a boolean");
  }
  uint8_t *src, *dst;
  size_t src_len, dst_len;
  double offset;
  uint32_t key;
  if (!bytes_of(env, argv[0], &src, &src_len) || !bytes_of(env, argv[1], &dst, &dst_len)) {
    return throw_error(env, "source and target must be Uint8Arrays");
  }
  /* napi_get_value_uint32 also takes negative numbers (as their low 32 bits), which is what an Int32 key word is. */
  if (napi_get_value_double(env, argv[2], &offset) != napi_ok || napi_get_value_uint32(env, argv[3], &key) != napi_ok) {
    return throw_error(env, "targetOffset and key must be numbers");
  }
  /* Written so that NaN fails too. */
  if (!(offset >= 0 && offset <= (double)dst_len) || offset != (double)(size_t)offset) {
    return throw_error(env, "targetOffset must be an index into the target");
  }
  size_t target_offset = (size_t)offset;
  if (src_len > dst_len - target_offset) {
    return throw_error(env, "the target is too short");
  }
  uint8_t *out = dst + target_offset;
  /* Partial overlap would read bytes already written; only exact aliasing is supported. */
  if (out != src && out < src + src_len && src < out + src_len) {
    return throw_error(env, "source and target overlap");
  }
  if (copy_first && out != src && src_len >= COPY_FIRST_THRESHOLD && src_len < STREAM_THRESHOLD) {
    memcpy(out, src, src_len);
    xor_mask(out, out, src_len, key);
    return NULL;
  }
#if defined(STREAM_MASKING)
  if (out != src && src_len >= STREAM_THRESHOLD && mapped(out, src_len)) {
    xor_mask_stream(src, out, src_len, key);
    return NULL;
  }
#endif
  xor_mask(src, out, src_len, key);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "mask", NAPI_AUTO_LENGTH, mask, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "mask", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
