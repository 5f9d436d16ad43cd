/*
 * text_wide.c - the store's text checks with AVX-512, picked at run time.
 *
 * Every str a row binds is checked to be UTF-8 without NUL, and every
 * list<str> is written as JSON text; rows mix scripts, so a check that
 * branches on the bytes mispredicts, and the SSE2 check of store_text.h
 * has to assemble a short text in a register piece by piece. With
 * AVX-512BW a text of up to 62 bytes is one masked load: the bytes past
 * its end are neither read nor faulted on (the mask), and its byte classes
 * are 64-bit masks, checked without a branch on its length or bytes.
 *
 * The implementation is chosen on first use, per process: the wide one
 * when the CPU and the OS have AVX-512F/BW/VL and BMI2 (__builtin_cpu_*)
 * and the environment variable BK_TEXT_WIDE is not "0", else the inline
 * ones of store_text.h. Both give the same answers (the
 * wide one is "sure" or defers to text_ok_any, as the SSE2 classes do);
 * tests run both through bk__text_wide_use.
 *
 * Thread-safety: the choice is an atomic pointer; threads that race to
 * make it store the same value.
 */
#include <stdlib.h>
#include "store_text.h"

#if defined(BK__TEXT_WIDE)
#include <immintrin.h>

#define WIDE __attribute__((target("avx512f,avx512bw,avx512vl,bmi,bmi2")))

/*
 * Whether the bytes of v (those of mask m, at most 62; the rest zero) are
 * UTF-8 without NUL for sure, from their byte classes: no byte that is
 * never valid, no NUL, and the continuation bytes exactly where the leads
 * call for them (one after a two-byte lead, two after a three-byte one,
 * three after a four-byte one), which also refuses a sequence cut short by
 * the end (its continuation would be a zero byte, at most at bit 62).
 * Leads whose second byte has a narrower range (E0, ED, F0, F4) and the
 * bytes never valid are "not sure": the full check decides.
 */
static WIDE inline bool wide_sure(__m512i v, __mmask64 m)
{
    uint64_t c = _mm512_cmplt_epi8_mask(v, _mm512_set1_epi8(-64));         /* 80..BF */
    uint64_t l = _mm512_cmpgt_epi8_mask(v, _mm512_set1_epi8(-63)) &        /* C2..F4 */
        _mm512_cmplt_epi8_mask(v, _mm512_set1_epi8(-11));
    uint64_t l3 = l & _mm512_cmpgt_epi8_mask(v, _mm512_set1_epi8(-33));    /* E0..F4 */
    uint64_t l4 = l & _mm512_cmpgt_epi8_mask(v, _mm512_set1_epi8(-17));    /* F0..F4 */
    uint64_t hi = _mm512_movepi8_mask(v);
    uint64_t odd = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8((char)0xE0)) |
        _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8((char)0xED)) |
        _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8((char)0xF0)) |
        _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8((char)0xF4)) |
        _mm512_mask_cmpeq_epi8_mask(m, v, _mm512_setzero_si512());
    uint64_t bad = odd | (hi & ~(c | l));
    return !bad && ((l << 1) | (l3 << 2) | (l4 << 3)) == c;
}

/* text_ok (store_text.h): texts of up to 62 bytes in one masked load. */
static WIDE bool text_ok_wide(const char *s, size_t n)
{
    if (n <= 62) {
        __mmask64 m = _bzhi_u64(~0ull, (unsigned)n);
        if (wide_sure(_mm512_maskz_loadu_epi8(m, s), m))
            return true;
    }
    return text_ok_any(s, n);
}

/*
 * fast_strs_json (store_text.h): an item of up to 62 bytes is loaded,
 * classed and stored in one masked load and store each; longer ones take
 * the byte loop.
 */
static WIDE int strs_json_wide(bk_buf *b, const bk_strs *l)
{
    b->len = 0;
    if (b->cap < 3 && bk__buf_reserve(b, 2) != BK_OK)
        return -1;
    size_t at = 0;
    b->ptr[at++] = '[';
    for (size_t k = 0; k < l->len; k++) {
        const char *q = l->items[k];
        if (!q)
            return 0;
        size_t n = strlen(q);
        b->len = at;
        if (at + n + 5 > b->cap && bk__buf_reserve(b, n + 4) != BK_OK)   /* , " ... " ] NUL */
            return -1;
        char *o = b->ptr + at;
        *o = ',';
        o += k != 0;
        *o++ = '"';
        if (n <= 62) {
            __mmask64 m = _bzhi_u64(~0ull, (unsigned)n);
            __m512i v = _mm512_maskz_loadu_epi8(m, q);
            _mm512_mask_storeu_epi8(o, m, v);
            /* a quote, a backslash or a control character: the encoder's */
            if (_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"')) |
                    _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\')) |
                    _mm512_mask_cmplt_epu8_mask(m, v, _mm512_set1_epi8(0x20)))
                return 0;
            if (!wide_sure(v, m) && !text_ok_any(o, n))
                return 0;
        } else {
            unsigned seen = 0;
            for (size_t j = 0; j < n; j++) {
                seen |= k_jclass[(unsigned char)q[j]];
                o[j] = q[j];
            }
            if (seen & 3)
                return 0;
            if ((seen & 4) && !utf8_ok(o, n))
                return 0;
        }
        o += n;
        *o++ = '"';
        at = (size_t)(o - b->ptr);
    }
    b->ptr[at++] = ']';
    b->ptr[at] = '\0';
    b->len = at;
    return 1;
}

static bool text_ok_base(const char *s, size_t n) { return text_ok(s, n); }
static int strs_json_base(bk_buf *b, const bk_strs *l) { return fast_strs_json(b, l); }

/* Whether the CPU (and the OS) have what the wide checks use, and the
 * environment does not turn them off (BK_TEXT_WIDE=0: the inline checks,
 * for measurements and debugging). */
static bool wide_cpu(void)
{
    const char *env = getenv("BK_TEXT_WIDE");
    if (env && strcmp(env, "0") == 0)
        return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi2");
}

static bool text_ok_pick(const char *s, size_t n);
static int strs_json_pick(bk_buf *b, const bk_strs *l);

_Atomic(bk__text_ok_fn) bk__text_ok_impl = text_ok_pick;
_Atomic(bk__strs_json_fn) bk__strs_json_impl = strs_json_pick;

bool bk__text_wide_use(bool wide)
{
    wide = wide && wide_cpu();
    atomic_store_explicit(&bk__text_ok_impl, wide ? text_ok_wide : text_ok_base,
        memory_order_relaxed);
    atomic_store_explicit(&bk__strs_json_impl, wide ? strs_json_wide : strs_json_base,
        memory_order_relaxed);
    return wide;
}

/* The first call of either: make the choice, then do the call. */
static bool text_ok_pick(const char *s, size_t n)
{
    bk__text_wide_use(true);
    return text_check(s, n);
}

static int strs_json_pick(bk_buf *b, const bk_strs *l)
{
    bk__text_wide_use(true);
    return strs_json_check(b, l);
}

#else
typedef int bk__text_wide_unused;   /* (ISO C: no empty translation unit) */
#endif
