/*
 * store_text.h - the store's byte tests on text it binds and reads back:
 * word-at-a-time tests, the UTF-8-without-NUL check (of text read from a
 * database, and of a str before it is bound), the short-string copy, and
 * list<str> in our JSON encoding both ways. Inline, for store.c and for
 * the built-in SQLite adapter's row reader and binder (one reading of the
 * rules, inlined where a row is decoded or bound); at its end, the
 * pointers through which the adapter reaches the AVX-512 versions
 * (text_wide.c) when the CPU has them. Internal.
 */
#ifndef BK_STORE_TEXT_H
#define BK_STORE_TEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "internal.h"

/* ---- word-at-a-time byte tests ------------------------------------------------------------ */

#define BK__ONES 0x0101010101010101ull
#define BK__HIGH 0x8080808080808080ull

/* Nonzero iff some byte of w is zero (exact as to whether any byte is,
 * not which). */
static inline uint64_t swar_zero(uint64_t w) { return (w - BK__ONES) & ~w & BK__HIGH; }

/* Nonzero iff some byte of w is NUL or >= 0x80. */
static inline uint64_t swar_nul_high(uint64_t w) { return (w & BK__HIGH) | swar_zero(w); }

/* The bytes of a text of 1 to 7 bytes as one word (two overlapping loads
 * of 4, or its first, middle and last byte, the rest spaces), for
 * swar_nul_high: zero when every byte is ASCII and none is NUL. */
static inline uint64_t text_word(const unsigned char *p, size_t n)
{
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        return (uint64_t)a << 32 | b;
    }
    return 0x2020202020000000ull | p[0] | (uint64_t)p[n >> 1] << 8 | (uint64_t)p[n - 1] << 16;
}

/* Whether test(word) is zero for every 8-byte word of s[0..n): the last
 * word overlaps the one before. False for n < 8 after a byte test below. */
#define SWAR_ALL_CLEAR(s, n, test, byte_bad, out)                              \
    do {                                                                       \
        const char *s_ = (s);                                                  \
        size_t n_ = (n), i_ = 0;                                               \
        uint64_t w_, acc_ = 0;                                                 \
        if (n_ >= 8) {                                                         \
            for (; i_ + 8 <= n_; i_ += 8) {                                    \
                memcpy(&w_, s_ + i_, 8);                                       \
                acc_ |= test(w_);                                              \
            }                                                                  \
            if (i_ < n_) {                                                     \
                memcpy(&w_, s_ + n_ - 8, 8);                                   \
                acc_ |= test(w_);                                              \
            }                                                                  \
            (out) = acc_ == 0;                                                 \
        } else {                                                               \
            bool ok_ = true;                                                   \
            for (; i_ < n_ && ok_; i_++) {                                     \
                unsigned char b_ = (unsigned char)s_[i_];                      \
                ok_ = !(byte_bad);                                             \
            }                                                                  \
            (out) = ok_;                                                       \
        }                                                                      \
    } while (0)

/* s[0..n) is all bytes 0x01..0x7f (no NUL, ASCII: valid UTF-8). */
static inline bool plain_ascii(const char *s, size_t n)
{
    bool ok;
    SWAR_ALL_CLEAR(s, n, swar_nul_high, b_ == 0 || b_ >= 0x80, ok);
    return ok;
}


#if defined(__GNUC__)
#define BK__HOT_INLINE inline __attribute__((always_inline))
#define BK__NOINLINE __attribute__((noinline, unused))
#define BK__COLD __attribute__((noinline, cold))
#else
#define BK__HOT_INLINE inline
#define BK__NOINLINE
#define BK__COLD
#endif


#if defined(__SSE2__)
static inline bool text_short_ok(const unsigned char *p, size_t n);
#endif

/* UTF-8 check: a text of 4 to 32 bytes from its byte classes (SSE2),
 * else an ASCII fast path (8 bytes a step). */
static inline bool utf8_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
#if defined(__SSE2__)
    if (n >= 4 && n <= 32 && text_short_ok(p, n))
        return true;
#endif
    while (e - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (w & 0x8080808080808080ull)
            break;
        p += 8;
    }
    /* ASCII and two-byte sequences here (accented Latin text); a three- or
     * four-byte lead (or an invalid byte) goes to the full validator */
    while (p < e) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
        } else if (c >= 0xC2 && c < 0xE0) {
            if (e - p < 2 || (p[1] & 0xC0) != 0x80)
                return false;
            p += 2;
        } else {
            return bk__utf8_valid(p, (size_t)(e - p));
        }
    }
    return true;
}

#if !defined(__SSE2__)
/* Index of the lowest flagged byte of a nonzero SWAR mask (little-endian
 * load: the first byte in memory; for swar_zero and swar_nul_high the
 * lowest flag is always exact). */
static inline unsigned swar_first(uint64_t m)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(m) >> 3;
#else
    unsigned i = 0;
    while (!(m & 0x80u)) {
        m >>= 8;
        i++;
    }
    return i;
#endif
}
#endif

/*
 * s[0..n) is valid UTF-8 without NUL (text we may return as a C string):
 * one pass over ASCII in blocks (16 bytes a step with SSE2, else 8), a
 * block holding a NUL or a non-ASCII byte jumping to that byte; two- and
 * three-byte sequences are checked in place (the rules of
 * bk__utf8_valid: no overlong forms, no surrogates) and the blocks resume
 * after them; the last partial block is checked as the block ending the
 * text (overlapping checked bytes, which are masked out), a text shorter
 * than a block as one block made of its bytes. NUL, four-byte sequences
 * and invalid bytes go to the full validator.
 */
#if defined(__SSE2__)
/* bit i set: byte i of v is NUL or not ASCII */
static inline unsigned sse_nul_high(__m128i v)
{
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, _mm_setzero_si128())));
}
static inline unsigned ctz32(unsigned m)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctz(m);
#else
    unsigned i = 0;
    while (!(m & 1u)) {
        m >>= 1;
        i++;
    }
    return i;
#endif
}
#endif

#if defined(__SSE2__)
/*
 * p at a NUL or non-ASCII byte of [p, e): a two- or three-byte sequence
 * moves *pp past it (true); anything else (NUL, a four-byte lead, an
 * invalid byte, a bad or cut sequence) returns false with *ok the verdict
 * on the rest of the text.
 */
static inline bool text_seq(const unsigned char **pp, const unsigned char *e, bool *ok)
{
    const unsigned char *p = *pp;
    unsigned c = *p;
    if (c >= 0xC2 && c < 0xE0) {                /* U+0080..U+07FF */
        if (e - p < 2 || (p[1] & 0xC0) != 0x80) {
            *ok = false;
            return false;
        }
        *pp = p + 2;
        return true;
    }
    if (c >= 0xE0 && c < 0xF0) {                /* U+0800..U+FFFF, no surrogates */
        if (e - p < 3) {
            *ok = false;
            return false;
        }
        unsigned c1 = p[1];
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (c1 < lo || c1 > hi || (p[2] & 0xC0) != 0x80) {
            *ok = false;
            return false;
        }
        *pp = p + 3;
        return true;
    }
    *ok = c != 0 && !memchr(p, 0, (size_t)(e - p)) && bk__utf8_valid(p, (size_t)(e - p));
    return false;
}

/*
 * The flagged bytes (NUL or not ASCII) of the text from `base`, bit i for
 * base[i] (f exact: every other byte there is ASCII, not NUL), checked in
 * order, each sequence skipping the flags of its continuation bytes.
 * *end: where the sequences checked end (past base + 16 when the last
 * one crosses it). False with *ok the verdict when one is not a two- or
 * three-byte sequence.
 */
static inline bool text_flags(const unsigned char *base, const unsigned char *e, uint32_t f,
    const unsigned char **end, bool *ok)
{
    const unsigned char *p = base;
    do {
        p = base + ctz32(f);
        if (!text_seq(&p, e, ok))
            return false;
        size_t k = (size_t)(p - base);
        f = k < 32 ? f & (0xffffffffu << k) : 0;
    } while (f);
    *end = p;
    return true;
}

/*
 * Byte classes for the branch-free check of short texts, bit i of each
 * mask for byte i. c: continuation bytes 0x80..0xBF; l: leads 0xC2..0xEF;
 * l3: the three-byte ones among them (0xE0..0xEF); bad: NUL, 0xE0 and
 * 0xED (whose second byte has a narrower range), and every other byte
 * that is not ASCII (0xC0, 0xC1, 0xF0..0xFF: four-byte leads are left to
 * the full check). Signed compares: ASCII bytes are the non-negative ones.
 */
typedef struct { uint64_t c, l, l3, bad; } text_classes;

static inline void text_local(__m128i v, unsigned *c, unsigned *l, unsigned *l3, unsigned *bad)
{
    unsigned h = (unsigned)_mm_movemask_epi8(v);
    unsigned mc = (unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(_mm_set1_epi8(-64), v));
    unsigned ml = (unsigned)_mm_movemask_epi8(_mm_and_si128(
        _mm_cmpgt_epi8(v, _mm_set1_epi8(-63)), _mm_cmpgt_epi8(_mm_set1_epi8(-16), v)));
    unsigned ge_e0 = (unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(v, _mm_set1_epi8(-33)));
    unsigned sp = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
        _mm_cmpeq_epi8(v, _mm_set1_epi8(-32)), _mm_cmpeq_epi8(v, _mm_set1_epi8(-19))),
        _mm_cmpeq_epi8(v, _mm_setzero_si128())));
    *c = mc;
    *l = ml;
    *l3 = ml & ge_e0;
    *bad = sp | (h & ~(mc | ml));
}

/*
 * The bytes of p[0..n), n < 16, in order in the low n lanes of a register,
 * without a branch on n and without a read outside them: its first 4
 * bytes, then the rest of its last 4 shifted down past them (SSE shifts by
 * 64 bits or more give 0: nothing when n >= 8), or'ed with its first 8
 * bytes and the rest of its last 8 (loaded from zeros when n < 8, the same
 * bytes again when n >= 8). The lanes above are zero for n >= 4. n >= 4;
 * with from1, 1 <= n too: under 4 bytes its first, middle and last byte
 * stand for its first 4 (lanes n..3 hold copies of its bytes).
 */
static BK__HOT_INLINE __m128i bytes_in_order(const unsigned char *p, size_t n, bool from1)
{
    static const unsigned char zeros[8];
    const unsigned char *e = p + n;
    uint32_t u, w, tiny = 0;
    if (from1)
        tiny = (uint32_t)p[0] | (uint32_t)p[n >> 1] << 8 | (uint32_t)p[n - 1] << 16;
    const unsigned char *u4 = !from1 || n >= 4 ? p : (const unsigned char *)&tiny;
    const unsigned char *w4 = !from1 || n >= 4 ? e - 4 : zeros;
    memcpy(&u, u4, 4);
    memcpy(&w, w4, 4);
    __m128i x4 = _mm_or_si128(_mm_cvtsi32_si128((int)u), _mm_slli_epi64(_mm_srl_epi64(
        _mm_cvtsi32_si128((int)w), _mm_cvtsi32_si128(8 * (8 - (int)n))), 32));
    const unsigned char *a8 = n >= 8 ? p : zeros, *b8 = n >= 8 ? e - 8 : zeros;
    __m128i x8 = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)a8),
        _mm_srl_epi64(_mm_loadl_epi64((const __m128i *)(const void *)b8),
            _mm_cvtsi32_si128(8 * (16 - (int)n))));
    return _mm_or_si128(x4, x8);
}

/*
 * The classes of s[0..n), 4 <= n <= 32, at their offsets: from the first
 * and the last 16 bytes (a byte loaded twice is classed the same twice,
 * the second mask moved to its offsets); under 16, from the text's bytes
 * put in order in one register (two overlapping loads, the second shifted).
 * ASCII texts are classed too (all masks 0): a branch on whether a text
 * is ASCII mispredicts on rows that mix scripts.
 */
static BK__HOT_INLINE void text_short_classes(const unsigned char *p, size_t n, text_classes *g)
{
    const unsigned char *e = p + n;
    unsigned c, l, l3, bad;
    if (n >= 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(e - 16));
        unsigned s = (unsigned)n - 16;
        text_local(a, &c, &l, &l3, &bad);
        g->c = c, g->l = l, g->l3 = l3, g->bad = bad;
        text_local(b, &c, &l, &l3, &bad);
        g->c |= (uint64_t)c << s, g->l |= (uint64_t)l << s, g->l3 |= (uint64_t)l3 << s;
        g->bad |= (uint64_t)bad << s;
        return;
    }
    __m128i x = bytes_in_order(p, n, false);
    unsigned keep = (1u << n) - 1;
    text_local(x, &c, &l, &l3, &bad);
    g->c = c & keep;
    g->l = l & keep;
    g->l3 = l3 & keep;
    g->bad = bad & keep;
}

/* Whether the classes of a text make it valid UTF-8 without NUL for sure:
 * no bad byte, and the continuation bytes are exactly those the leads
 * call for (one after a two-byte lead, two after a three-byte one), which
 * also refuses a sequence cut short by the end of the text. False says
 * nothing: the full check decides. */
static inline bool text_classes_ok(const text_classes *k)
{
    return !k->bad && ((k->l << 1) | (k->l3 << 2)) == k->c;
}

/* Whether s[0..n), 4 <= n <= 32, is valid UTF-8 without NUL for sure,
 * from its byte classes (false: the full check decides). Without a branch
 * on the bytes: texts mixing scripts make a byte-by-byte check mispredict. */
static inline bool text_short_ok(const unsigned char *p, size_t n)
{
    text_classes g;
    text_short_classes(p, n, &g);
    return text_classes_ok(&g);
}

/* text_ok for any length, every byte (the SSE2 flag-mask walk). */
static BK__NOINLINE bool text_ok_any(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n, *q;
    bool ok = true;
    if (n < 8) {
        if (!n || !swar_nul_high(text_word(p, n)))
            return true;
        /* byte by byte */
        while (p < e) {
            if (*p - 1u < 0x7fu)
                p++;
            else if (!text_seq(&p, e, &ok))
                return ok;
        }
        return true;
    }
    if (n < 16) {
        /* the first 8 bytes and the last 8 as one block; the flags as
         * offsets in the text (the overlap flagged twice, at one offset) */
        unsigned m = sse_nul_high(_mm_unpacklo_epi64(
            _mm_loadl_epi64((const __m128i *)(const void *)p),
            _mm_loadl_epi64((const __m128i *)(const void *)(e - 8))));
        if (!m)
            return true;
        uint32_t f = (m & 0xffu) | (uint32_t)(m >> 8) << (n - 8);
        return text_flags(p, e, f, &q, &ok) || ok;
    }
    /* 16 bytes a step; a block with flags has them all checked in place,
     * the next block starting after them */
    while (e - p >= 16) {
        unsigned m = sse_nul_high(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (!m) {
            p += 16;
            continue;
        }
        if (!text_flags(p, e, m, &q, &ok))
            return ok;
        p = q - p > 16 ? q : p + 16;
    }
    if (p == e)
        return true;
    /* the last 16 bytes, without those before p (checked) */
    const unsigned char *t = e - 16;
    unsigned m = sse_nul_high(_mm_loadu_si128((const __m128i *)(const void *)t)) &
        (0xffffu << (unsigned)(p - t));
    if (!m)
        return true;
    return text_flags(t, e, m, &q, &ok) || ok;
}

/*
 * s[0..n) is valid UTF-8 without NUL (text we may return as a C string, or
 * bind as text). Most texts of a row are 4 to 32 bytes: their byte
 * classes (text_short_classes, text_classes_ok) in straight-line code;
 * anything else (longer or shorter texts, and what the classes leave
 * open) goes to text_ok_any.
 */
static BK__HOT_INLINE bool text_ok(const char *s, size_t n)
{
    text_classes g;
    if (n < 4 || n > 32)
        return text_ok_any(s, n);
    text_short_classes((const unsigned char *)s, n, &g);
    return text_classes_ok(&g) || text_ok_any(s, n);
}
#else
static BK__HOT_INLINE bool text_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    uint64_t w;
    if (n < 8) {
        if (!n || !swar_nul_high(text_word(p, n)))
            return true;
        goto bytes;
    }
#if defined(__SSE2__)
    if (n < 16) {
        /* the first 8 bytes and the last 8 as one block */
        unsigned m = sse_nul_high(_mm_unpacklo_epi64(
            _mm_loadl_epi64((const __m128i *)(const void *)p),
            _mm_loadl_epi64((const __m128i *)(const void *)(e - 8))));
        if (!m)
            return true;
        /* the first flagged byte (the first 8 are clean when none is there) */
        p = m & 0xffu ? p + ctz32(m) : e - 16 + ctz32(m);
        goto one;
    }
    for (;;) {
        unsigned m;
        while (e - p >= 16) {
            if ((m = sse_nul_high(_mm_loadu_si128((const __m128i *)(const void *)p))) != 0) {
                p += ctz32(m);
                goto one;
            }
            p += 16;
        }
        if (p == e)
            return true;
        if (n >= 16) {
            /* the last 16 bytes, without those before p (checked) */
            const unsigned char *t = e - 16;
            m = sse_nul_high(_mm_loadu_si128((const __m128i *)(const void *)t)) &
                (0xffffu << (unsigned)(p - t));
            if (!m)
                return true;
            p = t + ctz32(m);
            goto one;
        }
#else
    for (;;) {
        uint64_t m;
        while (e - p >= 8) {
            memcpy(&w, p, 8);
            if ((m = swar_nul_high(w)) != 0) {
                p += swar_first(m);
                goto one;
            }
            p += 8;
        }
        if (p == e)
            return true;
        if (n >= 8) {
            memcpy(&w, e - 8, 8);
            if (!swar_nul_high(w))
                return true;
        }
#endif
    bytes:
        /* a few bytes left, one of them NUL or not ASCII: byte by byte */
        while (p < e && *p - 1u < 0x7fu)
            p++;
        if (p == e)
            return true;
    one: {
            unsigned c = *p;   /* NUL or not ASCII */
            if (c >= 0xC2 && c < 0xE0) {            /* U+0080..U+07FF */
                if (e - p < 2 || (p[1] & 0xC0) != 0x80)
                    return false;
                p += 2;
                continue;
            }
            if (c >= 0xE0 && c < 0xF0) {            /* U+0800..U+FFFF, no surrogates */
                if (e - p < 3)
                    return false;
                unsigned c1 = p[1];
                unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
                if (c1 < lo || c1 > hi || (p[2] & 0xC0) != 0x80)
                    return false;
                p += 3;
                continue;
            }
            return c != 0 && !memchr(p, 0, (size_t)(e - p)) &&
                bk__utf8_valid(p, (size_t)(e - p));
        }
    }
}

#endif

/* A string's copy (n bytes and a NUL); NULL when out of memory. Short
 * strings (most of a row's) are copied inline, with two overlapping loads
 * and stores, without a call to memcpy. */
static inline char *str_copy(const char *s, size_t n)
{
    char *cp = bk__malloc(n + 1);
    if (!cp)
        return NULL;
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(cp, &a, 8);
        memcpy(cp + n - 8, &b, 8);
#if defined(__SSE2__)
    } else if (n > 16 && n <= 32) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
        _mm_storeu_si128((__m128i *)(void *)cp, a);
        _mm_storeu_si128((__m128i *)(void *)(cp + n - 16), b);
#endif
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(cp, &a, 4);
        memcpy(cp + n - 4, &b, 4);
    } else if (n < 4) {
        if (n) {
            cp[0] = s[0];
            cp[n >> 1] = s[n >> 1];
            cp[n - 1] = s[n - 1];
        }
    } else {
        memcpy(cp, s, n);
    }
    cp[n] = '\0';
    return cp;
}

/* Byte classes of a JSON string of our encoding: 0 plain ASCII,
 * 1 the closing quote, 2 what needs an escape (the fast path gives up),
 * 4 a byte of a multi-byte UTF-8 sequence (checked afterwards). */
static const unsigned char k_jclass[256] = {
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2, 2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,2,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4, 4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4, 4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4, 4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,
    4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4, 4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,
};

/*
 * Fast path for the most common JSON column, a list of strings written by
 * our encoder: ["a","b"] with no whitespace and no escapes. Returns 1 when
 * it decoded, 0 when the text is anything else (the generic decoder then
 * reads it, with its exact errors), -1 on OOM. Strings are checked UTF-8,
 * as the decoder would. One scan per string (a byte-class table), then
 * its copy.
 */
static inline int fast_strs(bk_strs *out, const char *p, size_t n)
{
    if (n < 2 || p[0] != '[' || p[n - 1] != ']')
        return 0;
    if (n == 2)
        return 1;
    /* up to 16 items kept on the stack, then copied out */
    char *small[16];
    char **items = small;
    size_t count = 0, cap = 16, i = 1, last = n - 1;
    const unsigned char *u = (const unsigned char *)p;
    int r = 0;
    for (;;) {
        if (u[i] != '"')
            goto out;
        size_t from = ++i;
        unsigned seen = 0;
        for (;; i++) {
            if (i >= last)
                goto out;
            unsigned k = k_jclass[u[i]];
            if (k == 1)
                break;
            seen |= k;
        }
        if (seen & 2)
            goto out;                     /* an escape or a control character */
        if ((seen & 4) && !utf8_ok(p + from, i - from))
            goto out;
        if (count == cap) {
            char **grown = bk__malloc(cap * 2 * sizeof(char *));
            if (!grown) {
                r = -1;
                goto out;
            }
            memcpy(grown, items, count * sizeof(char *));
            if (items != small)
                bk__free(items);
            items = grown;
            cap *= 2;
        }
        char *str = str_copy(p + from, i - from);
        if (!str) {
            r = -1;
            goto out;
        }
        items[count++] = str;
        i++;
        if (i == last)
            break;
        if (u[i] != ',')
            goto out;
        i++;
    }
    char **final = items;
    if (items == small && !(final = bk__malloc(count * sizeof(char *)))) {
        r = -1;
        goto out;
    }
    if (final != items)
        memcpy(final, items, count * sizeof(char *));
    out->items = final;
    out->len = count;
    return 1;
out:
    for (size_t k = 0; k < count; k++)
        bk__free(items[k]);
    if (items != small)
        bk__free(items);
    return r;
}

/*
 * Fast path for the most common JSON column, a list of strings: when no
 * string needs an escape, write ["a","b"] directly (what the encoder
 * writes) into b (emptied): per string its length, room made once, then
 * one pass that copies and classifies each byte (k_jclass). Returns 1 when
 * written, 0 when the generic encoder must do it (a string with an escape,
 * invalid UTF-8 or NULL: its exact errors), -1 on OOM.
 */
static inline int fast_strs_json(bk_buf *b, const bk_strs *l)
{
    b->len = 0;
    if (b->cap < 3 && bk__buf_reserve(b, 2) != BK_OK)
        return -1;
    size_t at = 0;
    b->ptr[at++] = '[';
    for (size_t k = 0; k < l->len; k++) {
        const unsigned char *q = (const unsigned char *)l->items[k];
        if (!q)
            return 0;
        size_t n = strlen((const char *)q);
        b->len = at;
        /* , " ... " ] NUL, and room for a 16-byte store of a short item */
        if (at + n + 21 > b->cap && bk__buf_reserve(b, n + 20) != BK_OK)
            return -1;
        char *o = b->ptr + at;
        if (k)
            *o++ = ',';
        *o++ = '"';
#if defined(__SSE2__)
        if (n - 1 < 15) {
            /* 1..15 bytes: in order in one register, stored whole (what is
             * past the item is written over next), classed without a branch
             * on their length or bytes */
            __m128i x = bytes_in_order(q, n, true);
            _mm_storeu_si128((__m128i *)(void *)o, x);
            unsigned keep = (1u << n) - 1;
            __m128i esc = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))), _mm_and_si128(
                _mm_cmpgt_epi8(_mm_set1_epi8(0x20), x), _mm_cmpgt_epi8(x, _mm_set1_epi8(-1))));
            if ((unsigned)_mm_movemask_epi8(esc) & keep)
                return 0;                 /* a quote, a backslash or a control character */
            text_classes g;
            unsigned c, l3, ld, bad;
            text_local(x, &c, &ld, &l3, &bad);
            g.c = c & keep, g.l = ld & keep, g.l3 = l3 & keep, g.bad = bad & keep;
            if (!text_classes_ok(&g) && !text_ok_any(o, n))
                return 0;
            o += n;
            *o++ = '"';
            at = (size_t)(o - b->ptr);
            continue;
        }
#endif
        unsigned seen = 0;
        for (size_t j = 0; j < n; j++) {
            seen |= k_jclass[q[j]];
            o[j] = (char)q[j];
        }
        if (seen & 3)
            return 0;                     /* a quote, a backslash or a control character */
        if ((seen & 4) && !utf8_ok(o, n))
            return 0;
        o += n;
        *o++ = '"';
        at = (size_t)(o - b->ptr);
    }
    b->ptr[at++] = ']';
    b->ptr[at] = '\0';
    b->len = at;
    return 1;
}

/* ---- the widest implementation of this CPU (text_wide.c) ------------------------------------ */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <stdatomic.h>
#define BK__TEXT_WIDE 1
typedef bool (*bk__text_ok_fn)(const char *s, size_t n);
typedef int (*bk__strs_json_fn)(bk_buf *b, const bk_strs *l);
extern _Atomic(bk__text_ok_fn) bk__text_ok_impl;
extern _Atomic(bk__strs_json_fn) bk__strs_json_impl;
/* text_ok and fast_strs_json, the same answers, through the implementation
 * picked for this CPU on first use (AVX-512 when it has it): for the write
 * path, where a row's texts are checked one after another. */
#define text_check(s, n) \
    (atomic_load_explicit(&bk__text_ok_impl, memory_order_relaxed)((s), (n)))
#define strs_json_check(b, l) \
    (atomic_load_explicit(&bk__strs_json_impl, memory_order_relaxed)((b), (l)))
/* Use the wide implementation (true: when the CPU has it) or the inline
 * one (false), for every thread; returns whether the wide one is in use.
 * For tests (both must agree) and measurements. */
bool bk__text_wide_use(bool wide);
#else
#define text_check(s, n) text_ok(s, n)
#define strs_json_check(b, l) fast_strs_json(b, l)
#endif

#endif
