/* The tests' reference for text a store may bind and return: strict UTF-8
 * (no overlong forms, no surrogates, up to U+10FFFF) without NUL, checked
 * the slow, obvious way, byte by byte; and the texts fed to it and to the
 * store's checks. */
#ifndef BK_TEST_TEXT_H
#define BK_TEST_TEXT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline bool bk_test_text_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* xorshift64: the tests' random numbers (deterministic). */
static inline uint64_t bk_test_next(uint64_t *r)
{
    *r ^= *r << 13, *r ^= *r >> 7, *r ^= *r << 17;
    return *r;
}

/*
 * A text of up to `want` bytes (< 200) into text: runs of ASCII, ASCII and
 * two-byte, two- and three-byte, or any characters (four-byte ones too),
 * or random bytes; two in three with one byte changed (half the time at
 * the character boundary after a multi-byte character) to an odd byte or
 * a random one. Returns its length.
 */
static inline size_t bk_test_mixed_text(unsigned char *text, size_t want, uint64_t *r)
{
    static const char *const chars[] = {
        "a", "Z", " ", "~", "\xc2\x80", "\xc3\xa9", "\xdf\xbf", "\xe0\xa0\x80", "\xe6\x97\xa5",
        "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf0\x9f\x98\x80",
        "\xf4\x8f\xbf\xbf", "\xf3\xa0\x80\x81",
    };
    static const unsigned char odd[] = {
        0x00, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
    };
    size_t n = 0;
    unsigned mode = (unsigned)(bk_test_next(r) >> 8) % 5;
    while (n < want) {
        uint64_t x = bk_test_next(r);
        if (mode == 4) {
            text[n++] = (unsigned char)x;
            continue;
        }
        size_t pick = mode == 0 ? (size_t)(x % 4)
            : mode == 1 ? (size_t)(x % 8)
            : mode == 2 ? 4 + (size_t)(x % 8)
            : (size_t)(x % (sizeof(chars) / sizeof(chars[0])));
        size_t run = 1 + (size_t)(x >> 32) % 6;
        size_t cl = strlen(chars[pick]);
        for (size_t k = 0; k < run && n + cl <= want; k++) {
            memcpy(text + n, chars[pick], cl);
            n += cl;
        }
        if (n + cl > want)
            break;
    }
    uint64_t x = bk_test_next(r);
    size_t at = n ? (size_t)(x >> 16) % n : 0;
    if (n && (x >> 12) % 2) {
        size_t k = at;
        while (k < n && !(k && text[k - 1] >= 0x80 && (text[k] < 0x80 || text[k] >= 0xC0)))
            k++;
        at = k < n ? k : at;
    }
    if (n && x % 3 == 0)
        text[at] = odd[(x >> 40) % sizeof(odd)];
    else if (n && x % 3 == 1)
        text[at] = (unsigned char)(x >> 40);
    return n;
}

/* A byte sequence put into texts (bk_test_each_text). */
typedef struct bk_test_seq { const char *b; size_t n; } bk_test_seq;

/*
 * fn(text, n, arg) for each text of len bytes of a fill (whole
 * characters, then 'z' up to len), len 0..max_len but gap_from..gap_to-1,
 * with each of the sequences bad inserted at every position (an empty one
 * once per length). Returns how many texts.
 */
static inline size_t bk_test_each_text(const char *const *fills, size_t nfills,
    const bk_test_seq *bad, size_t nbad, size_t max_len, size_t gap_from, size_t gap_to,
    void (*fn)(const unsigned char *text, size_t n, void *arg), void *arg)
{
    unsigned char text[256];
    size_t count = 0;
    for (size_t fill = 0; fill < nfills; fill++)
        for (size_t len = 0; len <= max_len; len = len + 1 == gap_from ? gap_to : len + 1)
            for (size_t b = 0; b < nbad; b++)
                for (size_t at = 0; at <= len; at++) {
                    if (bad[b].n == 0 && at > 0)
                        break;
                    size_t n = 0, fl = strlen(fills[fill]);
                    while (n + fl <= len) {
                        memcpy(text + n, fills[fill], fl);
                        n += fl;
                    }
                    while (n < len)
                        text[n++] = 'z';
                    size_t pos = at < n ? at : n;
                    memmove(text + pos + bad[b].n, text + pos, n - pos);
                    memcpy(text + pos, bad[b].b, bad[b].n);
                    fn(text, n + bad[b].n, arg);
                    count++;
                }
    return count;
}

#endif
