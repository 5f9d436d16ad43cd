/*
 * test_text.c - text helpers: UTF-8, RFC 3339 timestamps, dates, UUIDs,
 * base64, shortest double/float formatting and exact double parsing.
 *
 * Table-driven; the number tests also compare against a brute-force
 * reference built on printf/strtod in the C locale (this program never
 * calls setlocale, so it runs in "C").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Deterministic PRNG (xorshift64*), reseeded per test. */
static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s ? s : 1; }
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static double bits_to_double(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }
static uint64_t double_to_bits(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }
static float bits_to_float(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static uint32_t float_to_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

/* ==== UTF-8 =============================================================== */

typedef struct { const char *bytes; size_t len; bool ok; const char *what; } utf8_case;
#define U8(s, ok, what) { s, sizeof(s) - 1, ok, what }

static const utf8_case utf8_cases[] = {
    U8("", true, "empty"),
    U8("plain ascii", true, "ascii"),
    U8("\x00\x7f", true, "NUL and DEL are valid"),
    U8("\xc2\x80", true, "U+0080 smallest 2-byte"),
    U8("\xdf\xbf", true, "U+07FF largest 2-byte"),
    U8("\xe0\xa0\x80", true, "U+0800 smallest 3-byte"),
    U8("\xed\x9f\xbf", true, "U+D7FF below surrogates"),
    U8("\xee\x80\x80", true, "U+E000 above surrogates"),
    U8("\xef\xbf\xbf", true, "U+FFFF largest 3-byte"),
    U8("\xf0\x90\x80\x80", true, "U+10000 smallest 4-byte"),
    U8("\xf4\x8f\xbf\xbf", true, "U+10FFFF largest code point"),
    U8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", true, "mixed"),
    U8("\xc0\x80", false, "overlong NUL C0 80"),
    U8("\xc1\xbf", false, "overlong C1"),
    U8("\xe0\x80\x80", false, "overlong E0 80 80"),
    U8("\xe0\x9f\xbf", false, "overlong E0 9F BF"),
    U8("\xf0\x80\x80\x80", false, "overlong F0 80 80 80"),
    U8("\xf0\x8f\xbf\xbf", false, "overlong F0 8F BF BF"),
    U8("\xed\xa0\x80", false, "surrogate U+D800"),
    U8("\xed\xbf\xbf", false, "surrogate U+DFFF"),
    U8("\xed\xa0\xbd\xed\xb8\x80", false, "CESU-8 surrogate pair"),
    U8("\xf4\x90\x80\x80", false, "U+110000"),
    U8("\xf5\x80\x80\x80", false, "F5 lead"),
    U8("\xff", false, "FF"),
    U8("\xfe", false, "FE"),
    U8("\x80", false, "stray continuation"),
    U8("a\xbf", false, "stray continuation after ascii"),
    U8("\xc2", false, "truncated 2-byte"),
    U8("\xe2\x82", false, "truncated 3-byte"),
    U8("\xf0\x9f\x98", false, "truncated 4-byte"),
    U8("\xc2\x41", false, "bad continuation in 2-byte"),
    U8("\xe2\x28\xa1", false, "bad first continuation in 3-byte"),
    U8("\xe2\x82\x28", false, "bad second continuation in 3-byte"),
    U8("\xf0\x9f\x98\x28", false, "bad third continuation in 4-byte"),
    U8("\xf0\x28\x8c\xbc", false, "bad first continuation in 4-byte"),
    U8("\xc2\xc2\x80", false, "lead where continuation expected"),
};

static void test_utf8_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
        const utf8_case *c = &utf8_cases[i];
        if (bk__utf8_valid((const unsigned char *)c->bytes, c->len) != c->ok)
            fail_msg("utf8 case '%s': expected %s", c->what, c->ok ? "valid" : "invalid");
    }
}

/* Every position around the 8- and 16-byte ASCII strides: one bad byte or
 * one multi-byte sequence at offset k of an ASCII buffer of length n. */
static void test_utf8_fast_path_boundaries(void **state)
{
    (void)state;
    unsigned char buf[80];
    static const struct { const char *seq; size_t len; bool ok; } ins[] = {
        {"\x80", 1, false}, {"\xff", 1, false}, {"\xc0\x80", 2, false},
        {"\xed\xa0\x80", 3, false}, {"\xc3\xa9", 2, true}, {"\xe2\x82\xac", 3, true},
        {"\xf0\x9f\x98\x80", 4, true},
    };
    for (size_t n = 0; n <= 48; n++) {
        memset(buf, 'a', sizeof buf);
        if (!bk__utf8_valid(buf, n))
            fail_msg("all-ascii buffer of %zu bytes rejected", n);
        for (size_t t = 0; t < sizeof ins / sizeof ins[0]; t++) {
            for (size_t k = 0; k + ins[t].len <= n; k++) {
                memset(buf, 'a', sizeof buf);
                memcpy(buf + k, ins[t].seq, ins[t].len);
                if (bk__utf8_valid(buf, n) != ins[t].ok)
                    fail_msg("n=%zu k=%zu seq #%zu: expected %d", n, k, t, ins[t].ok);
                /* The same sequence cut by the end of the buffer. */
                if (ins[t].ok && ins[t].len > 1 && bk__utf8_valid(buf, k + ins[t].len - 1))
                    fail_msg("n=%zu k=%zu seq #%zu truncated accepted", n, k, t);
            }
        }
    }
    /* A high byte beyond len must not be looked at. */
    memset(buf, 'a', sizeof buf);
    buf[16] = 0xff;
    assert_true(bk__utf8_valid(buf, 16));
    assert_false(bk__utf8_valid(buf, 17));
}

/* Every code point encodes to something valid; every 2-byte and 3-byte
 * pattern is accepted exactly when it is a valid scalar value. */
static void test_utf8_exhaustive_small(void **state)
{
    (void)state;
    unsigned char b[4];
    for (unsigned x = 0; x < 0x10000; x++) {
        b[0] = (unsigned char)(x >> 8);
        b[1] = (unsigned char)x;
        bool exp;
        if (b[0] < 0x80)
            exp = b[1] < 0x80;
        else
            exp = b[0] >= 0xC2 && b[0] <= 0xDF && (b[1] & 0xC0) == 0x80;
        if (bk__utf8_valid(b, 2) != exp)
            fail_msg("2 bytes %02x %02x: expected %d", b[0], b[1], exp);
    }
    for (unsigned cp = 0x800; cp < 0x10000; cp++) {
        b[0] = (unsigned char)(0xE0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        bool exp = cp < 0xD800 || cp > 0xDFFF;
        if (bk__utf8_valid(b, 3) != exp)
            fail_msg("U+%04X: expected %d", cp, exp);
    }
    for (unsigned cp = 0x10000; cp <= 0x10FFFF; cp += 0x3F) {
        b[0] = (unsigned char)(0xF0 | cp >> 18);
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        if (!bk__utf8_valid(b, 4))
            fail_msg("U+%06X rejected", cp);
    }
}

/* ==== timestamps ========================================================== */

#define TS_MIN INT64_C(-62167219200000000)  /* 0000-01-01T00:00:00Z */
#define TS_MAX INT64_C(253402300799999999)  /* 9999-12-31T23:59:59.999999Z */

typedef struct { const char *text; int64_t us; } ts_ok_case;

/* Expected values computed independently (Python datetime). */
static const ts_ok_case ts_ok[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"1970-01-01t00:00:00z", 0},
    {"1970-01-01 00:00:00Z", 0},
    {"1970-01-01T00:00:00+00:00", 0},
    {"1970-01-01T00:00:00-00:00", 0},
    {"1970-01-01T00:00:00.000001Z", 1},
    {"1969-12-31T23:59:59Z", -1000000},
    {"1969-12-31T23:59:59.999999Z", -1},
    {"2000-02-29T00:00:00Z", INT64_C(951782400000000)},
    {"1600-02-29T12:00:00.5Z", INT64_C(-11670955199500000)},
    {"1900-03-01T00:00:00Z", INT64_C(-2203891200000000)},
    {"2038-01-19T03:14:07Z", INT64_C(2147483647000000)},
    {"0001-01-01T00:00:00Z", INT64_C(-62135596800000000)},
    {"2024-03-10T12:34:56.789+05:30", INT64_C(1710054296789000)},
    {"2024-03-10T07:04:56.789Z", INT64_C(1710054296789000)},
    {"2021-01-01T00:00:00+23:59", INT64_C(1609372860000000)},
    {"2021-01-01T00:00:00-23:59", INT64_C(1609545540000000)},
    {"1234-05-06T07:08:09.123456+01:02", INT64_C(-23215053230876544)},
    {"1970-01-01T00:00:00.1Z", 100000},
    {"1970-01-01T00:00:00.12Z", 120000},
    {"1970-01-01T00:00:00.123Z", 123000},
    {"1970-01-01T00:00:00.123000Z", 123000},
    {"1970-01-01T00:00:00.123456Z", 123456},
    {"1970-01-01T00:00:00.1234560Z", 123456},
    {"1970-01-01T00:00:00.123456000Z", 123456},
    {"1970-01-01T00:00:00.000000000Z", 0},
    {"0000-01-01T00:00:00Z", TS_MIN},
    {"0000-01-01T01:00:00+01:00", TS_MIN},
    {"9999-12-31T23:59:59.999999Z", TS_MAX},
    {"9999-12-31T22:59:59.999999-01:00", TS_MAX},
};

static const char *const ts_bad[] = {
    "",
    "1970-01-01T00:00:00",            /* no offset */
    "1970-01-01T00:00:00ZZ",          /* trailing byte */
    "1970-01-01T00:00:00Z ",
    "1970-01-01T00:00:00+00:00 ",
    "1970-01-01T00:00:00+0000",
    "1970-01-01T00:00:00+00",
    "1970-01-01T00:00:00+24:00",
    "1970-01-01T00:00:00+05:60",
    "1970-01-01T00:00:00 05:00",
    "1970-01-01T00:00:00.Z",          /* empty fraction */
    "1970-01-01T00:00:00.1234567Z",   /* 7th digit non-zero */
    "2020-01-01T12:00:00.1234567Z",
    "1970-01-01T00:00:00.000000001Z", /* 9th digit non-zero */
    "1970-01-01T00:00:00.0000000000Z",/* 10 digits */
    "1970-01-01T00:00:00,5Z",
    "1970-01-01T24:00:00Z",
    "1970-01-01T23:60:00Z",
    "1970-01-01T23:59:60Z",           /* leap second */
    "2016-12-31T23:59:60Z",
    "1900-02-29T00:00:00Z",           /* not a leap year */
    "2001-02-29T00:00:00Z",
    "2000-02-30T00:00:00Z",
    "2021-04-31T00:00:00Z",
    "2021-13-01T00:00:00Z",
    "2021-00-01T00:00:00Z",
    "2021-01-00T00:00:00Z",
    "2021-01-32T00:00:00Z",
    "2021-1-01T00:00:00Z",
    "2021-01-01X00:00:00Z",
    "2021-01-01T00-00:00Z",
    "2021-01-01T00:00-00Z",
    "2021/01/01T00:00:00Z",
    "20210101T000000Z",
    "+2021-01-01T00:00:00Z",
    "-001-01-01T00:00:00Z",
    "2021-01-01T0a:00:00Z",
    "2021-01-01T00:00:00.1a2Z",
    "0000-01-01T00:00:00+00:01",      /* before year 0 */
    "0000-01-01T00:59:59.999999+01:00",
    "9999-12-31T23:59:59-00:01",      /* after year 9999 */
    "9999-12-31T23:00:00-01:00",
};

static void test_ts_parse_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ts_ok / sizeof ts_ok[0]; i++) {
        int64_t us = 12345;
        if (!bk__ts_parse(ts_ok[i].text, strlen(ts_ok[i].text), &us))
            fail_msg("rejected '%s'", ts_ok[i].text);
        if (us != ts_ok[i].us)
            fail_msg("'%s': got %lld, want %lld", ts_ok[i].text, (long long)us, (long long)ts_ok[i].us);
    }
}

static void test_ts_parse_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ts_bad / sizeof ts_bad[0]; i++) {
        int64_t us = 777;
        if (bk__ts_parse(ts_bad[i], strlen(ts_bad[i]), &us))
            fail_msg("accepted '%s' as %lld", ts_bad[i], (long long)us);
        if (us != 777)
            fail_msg("'%s': output written on failure", ts_bad[i]);
    }
}

/* Every proper prefix of a valid timestamp is invalid, and the parser never
 * reads past len (the prefix is copied into an exact-size heap block so
 * that ASan catches over-reads). */
static void test_ts_parse_prefixes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ts_ok / sizeof ts_ok[0]; i++) {
        size_t len = strlen(ts_ok[i].text);
        for (size_t n = 0; n < len; n++) {
            char *p = malloc(n ? n : 1);
            assert_non_null(p);
            memcpy(p, ts_ok[i].text, n);
            int64_t us;
            bool ok = bk__ts_parse(p, n, &us);
            free(p);
            if (ok)
                fail_msg("prefix %zu of '%s' accepted", n, ts_ok[i].text);
        }
    }
}

typedef struct { int64_t us; const char *text; } ts_fmt_case;

static const ts_fmt_case ts_fmt[] = {
    {0, "1970-01-01T00:00:00Z"},
    {1, "1970-01-01T00:00:00.000001Z"},
    {-1, "1969-12-31T23:59:59.999999Z"},
    {-1000, "1969-12-31T23:59:59.999Z"},
    {-1000000, "1969-12-31T23:59:59Z"},
    {123000, "1970-01-01T00:00:00.123Z"},
    {120000, "1970-01-01T00:00:00.120Z"},
    {100000, "1970-01-01T00:00:00.100Z"},
    {123400, "1970-01-01T00:00:00.123400Z"},
    {123456, "1970-01-01T00:00:00.123456Z"},
    {INT64_C(951782400000000), "2000-02-29T00:00:00Z"},
    {INT64_C(1710054296789000), "2024-03-10T07:04:56.789Z"},
    {INT64_C(-11670955199500000), "1600-02-29T12:00:00.500Z"},
    {TS_MIN, "0000-01-01T00:00:00Z"},
    {TS_MAX, "9999-12-31T23:59:59.999999Z"},
    {TS_MIN - 1, "-0001-12-31T23:59:59.999999Z"},
    {TS_MAX + 1, "10000-01-01T00:00:00Z"},
};

static void test_ts_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ts_fmt / sizeof ts_fmt[0]; i++) {
        char out[40];
        memset(out, 'x', sizeof out);
        size_t n = bk__ts_format(out, ts_fmt[i].us);
        if (strcmp(out, ts_fmt[i].text) != 0 || n != strlen(ts_fmt[i].text))
            fail_msg("%lld: got '%s' (%zu), want '%s'", (long long)ts_fmt[i].us, out, n, ts_fmt[i].text);
    }
}

/* Any int64 formats into the 40-byte buffer without overflow. */
static void test_ts_format_extremes(void **state)
{
    (void)state;
    const int64_t v[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, -INT64_C(86400000000),
        INT64_C(-62167219200000001)};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[41];
        out[40] = '#';
        size_t n = bk__ts_format(out, v[i]);
        assert_true(n < 40);
        assert_int_equal(n, strlen(out));
        assert_int_equal(out[40], '#');
    }
    char out[40];
    bk__ts_format(out, INT64_MIN);
    assert_string_equal(out, "-290308-12-21T19:59:05.224192Z");
    bk__ts_format(out, INT64_MAX);
    assert_string_equal(out, "294247-01-10T04:00:54.775807Z");
}

/* parse(format(x)) == x over the whole valid range, and for canonical
 * texts format(parse(t)) == t. */
static void test_ts_roundtrip(void **state)
{
    (void)state;
    rng_seed(11);
    const uint64_t span = (uint64_t)(TS_MAX - TS_MIN) + 1;
    for (int i = 0; i < 200000; i++) {
        int64_t us = TS_MIN + (int64_t)(rng_next() % span);
        switch (i % 4) {
        case 1: us -= us % 1000000; break;      /* whole seconds */
        case 2: us -= us % 1000; break;         /* whole milliseconds */
        default: break;
        }
        if (us < TS_MIN)
            us += 1000000;
        char out[40];
        size_t n = bk__ts_format(out, us);
        int64_t back;
        if (!bk__ts_parse(out, n, &back) || back != us)
            fail_msg("%lld -> '%s' does not parse back", (long long)us, out);
        char again[40];
        bk__ts_format(again, back);
        assert_string_equal(out, again);
    }
    for (size_t i = 0; i < sizeof ts_fmt / sizeof ts_fmt[0]; i++) {
        int64_t us;
        if (ts_fmt[i].us < TS_MIN || ts_fmt[i].us > TS_MAX)
            continue;
        assert_true(bk__ts_parse(ts_fmt[i].text, strlen(ts_fmt[i].text), &us));
        assert_int_equal(us, ts_fmt[i].us);
    }
}

/* ==== dates =============================================================== */

typedef struct { const char *text; int32_t days; } date_case;

static const date_case dates[] = {
    {"1970-01-01", 0},
    {"1969-12-31", -1},
    {"1970-01-02", 1},
    {"2000-02-29", 11016},
    {"2000-03-01", 11017},
    {"2024-02-29", 19782},
    {"1900-03-01", -25508},
    {"1600-02-29", -135081},
    {"0001-01-01", -719162},
    {"0000-01-01", -719528},
    {"0000-02-29", -719469},            /* year 0 is a leap year */
    {"9999-12-31", 2932896},
};

static void test_date_parse_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        int32_t d = 99;
        if (!bk__date_parse(dates[i].text, 10, &d) || d != dates[i].days)
            fail_msg("'%s': got %d, want %d", dates[i].text, d, dates[i].days);
        char out[16];
        size_t n = bk__date_format(out, dates[i].days);
        assert_int_equal(n, 10);
        assert_string_equal(out, dates[i].text);
    }
    static const char *const bad[] = {
        "1900-02-29", "2023-02-29", "2024-02-30", "2024-04-31", "2024-00-10", "2024-13-10",
        "2024-01-00", "2024-01-32", "2024/01/01", "2024-1-01", "24-01-01", "2024-01-0a",
        "2024-01-01T", " 2024-01-0", "-024-01-01", "2024-01-1 ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t d = 99;
        if (bk__date_parse(bad[i], strlen(bad[i]), &d) || d != 99)
            fail_msg("accepted '%s'", bad[i]);
    }
    int32_t d;
    assert_false(bk__date_parse("2024-01-01", 9, &d));
    assert_false(bk__date_parse("2024-01-011", 11, &d));
}

/* Every day of years 0000..9999 round-trips, and consecutive days are
 * consecutive integers. */
static void test_date_roundtrip_all(void **state)
{
    (void)state;
    for (int32_t day = -719528; day <= 2932896; day++) {
        char out[16];
        size_t n = bk__date_format(out, day);
        int32_t back;
        if (n != 10 || !bk__date_parse(out, n, &back) || back != day)
            fail_msg("day %d -> '%s'", day, out);
    }
    char out[16];
    bk__date_format(out, -719529);
    assert_string_equal(out, "-0001-12-31");
    bk__date_format(out, 2932897);
    assert_string_equal(out, "10000-01-01");
    /* The extremes fit in 16 bytes. */
    assert_true(bk__date_format(out, INT32_MIN) < 16);
    assert_string_equal(out, "-5877641-06-23");
    assert_true(bk__date_format(out, INT32_MAX) < 16);
    assert_string_equal(out, "5881580-07-11");
}

/* ==== UUID ================================================================ */

static void test_uuid(void **state)
{
    (void)state;
    static const unsigned char want[16] = {0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
        0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00};
    unsigned char u[16];
    char out[37];
    assert_true(bk__uuid_parse("123e4567-e89b-12d3-a456-426614174000", 36, u));
    assert_memory_equal(u, want, 16);
    assert_true(bk__uuid_parse("123E4567-E89B-12D3-A456-426614174000", 36, u));
    assert_memory_equal(u, want, 16);
    bk__uuid_format(out, u);
    assert_string_equal(out, "123e4567-e89b-12d3-a456-426614174000");

    static const char *const bad[] = {
        "123e4567-e89b-12d3-a456-42661417400",    /* 35 */
        "123e4567-e89b-12d3-a456-4266141740000",  /* 37 */
        "123e4567e89b-12d3-a456-4266141740000",
        "123e4567-e89b-12d3-a456_426614174000",
        "123e456-7e89b-12d3-a456-426614174000",
        "123g4567-e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-42661417400z",
        "{23e4567-e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-4266141740 0",
        "123e4567-e89b-12d3-a456-42661417400\xff",
        "123e4567 e89b 12d3 a456 426614174000",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(u, 0xAA, sizeof u);
        if (bk__uuid_parse(bad[i], strlen(bad[i]), u))
            fail_msg("accepted '%s'", bad[i]);
        for (int k = 0; k < 16; k++)
            assert_int_equal(u[k], 0xAA);
    }
    rng_seed(5);
    for (int i = 0; i < 10000; i++) {
        unsigned char in[16], back[16];
        for (int k = 0; k < 16; k++)
            in[k] = (unsigned char)rng_next();
        bk__uuid_format(out, in);
        assert_int_equal(strlen(out), 36);
        assert_true(bk__uuid_parse(out, 36, back));
        assert_memory_equal(in, back, 16);
    }
}

/* ==== base64 ============================================================== */

typedef struct { const char *raw; const char *enc; } b64_case;

static const b64_case b64_vectors[] = {   /* RFC 4648 section 10 */
    {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static void test_b64_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof b64_vectors / sizeof b64_vectors[0]; i++) {
        const b64_case *c = &b64_vectors[i];
        size_t rn = strlen(c->raw), en = strlen(c->enc);
        assert_int_equal(bk__b64_encoded_len(rn), en);
        char enc[16] = {0};
        bk__b64_encode(enc, (const unsigned char *)c->raw, rn);
        assert_string_equal(enc, c->enc);
        unsigned char dec[16];
        size_t dn = 999;
        if (!bk__b64_decode(dec, &dn, c->enc, en))
            fail_msg("rejected '%s'", c->enc);
        assert_int_equal(dn, rn);
        assert_memory_equal(dec, c->raw, rn);
    }
    unsigned char all[3] = {0xfb, 0xff, 0xbf};
    char enc[4];
    bk__b64_encode(enc, all, 3);
    assert_memory_equal(enc, "+/+/", 4);
    assert_int_equal(bk__b64_encoded_len(SIZE_MAX), SIZE_MAX);
}

static void test_b64_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg=", "Zg", "Z", "Zm9vY",            /* length not a multiple of 4 */
        "Z===", "====", "Zg=a",               /* misplaced padding */
        "Zg==Zg==", "Zm8=Zm9v",               /* padding in the middle */
        "Zh==", "Zm9=",                       /* non-zero trailing bits */
        "Zm9v\n", "Zm 9v", "Zm9v ", " Zm9v",  /* whitespace */
        "Zm 9", "Zm9\n", "Zm9v\r\nZm9v",
        "Zm-_", "Zm9*", "Zm9\x80", "Zm9\xff", "Zm9\0",
        "Zm9vYmF=", "Zm9vY===",
    };
    static const size_t bad_len[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = bad_len[i] ? bad_len[i] : strlen(bad[i]);
        unsigned char out[16];
        size_t on = 4242;
        if (bk__b64_decode(out, &on, bad[i], n))
            fail_msg("accepted #%zu '%s'", i, bad[i]);
        assert_int_equal(on, 4242);
    }
    /* Every single-character corruption of a valid encoding is caught or
     * decodes to a 6-bit-different value; corruption by a non-alphabet
     * byte is always caught. */
    const char *good = "QUJDREVGR0hJSktMTU5PUA==";
    size_t gl = strlen(good);
    for (size_t pos = 0; pos < gl; pos++) {
        for (int c = 0; c < 256; c++) {
            if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", c) && c)
                continue;
            if (c == '=' && pos >= gl - 2)
                continue;
            char tmp[32];
            memcpy(tmp, good, gl);
            tmp[pos] = (char)c;
            unsigned char out[32];
            size_t on;
            if (bk__b64_decode(out, &on, tmp, gl))
                fail_msg("byte 0x%02x at %zu accepted", c, pos);
        }
    }
}

static void test_b64_roundtrip(void **state)
{
    (void)state;
    rng_seed(3);
    unsigned char raw[300], dec[300];
    char enc[400];
    for (size_t n = 0; n <= 300; n++) {
        for (int rep = 0; rep < 20; rep++) {
            for (size_t k = 0; k < n; k++)
                raw[k] = (unsigned char)rng_next();
            size_t en = bk__b64_encoded_len(n);
            assert_int_equal(en, (n + 2) / 3 * 4);
            bk__b64_encode(enc, raw, n);
            size_t dn;
            if (!bk__b64_decode(dec, &dn, enc, en))
                fail_msg("n=%zu: own encoding rejected", n);
            assert_int_equal(dn, n);
            assert_memory_equal(dec, raw, n);
        }
    }
}

/* ==== doubles: formatting ================================================= */

typedef struct { double v; const char *text; } dfmt_case;

static const dfmt_case dfmt[] = {
    {0.0, "0.0"},
    {-0.0, "-0.0"},
    {1.0, "1.0"},
    {-1.0, "-1.0"},
    {100.0, "100.0"},
    {0.1, "0.1"},
    {0.1 + 0.2, "0.30000000000000004"},
    {123.456, "123.456"},
    {-123.456, "-123.456"},
    {1.5, "1.5"},
    {0.5, "0.5"},
    {2.0 / 3.0, "0.6666666666666666"},
    {3.141592653589793, "3.141592653589793"},
    {5e-324, "5e-324"},
    {-5e-324, "-5e-324"},
    {1e-323, "1e-323"},
    {2.2250738585072014e-308, "2.2250738585072014e-308"},
    {2.225073858507201e-308, "2.225073858507201e-308"},   /* largest subnormal */
    {1.7976931348623157e308, "1.7976931348623157e308"},
    {-1.7976931348623157e308, "-1.7976931348623157e308"},
    {1e300, "1e300"},
    {1e23, "1e23"},
    {1e22, "1e22"},
    {1e21, "1e21"},
    {1e16, "1e16"},
    {1e15, "1000000000000000.0"},
    {123456789012345.0, "123456789012345.0"},
    {9007199254740992.0, "9007199254740992.0"},
    {9007199254740994.0, "9007199254740994.0"},
    {4503599627370497.0, "4503599627370497.0"},
    {1.2345678901234568e20, "1.2345678901234568e20"},
    {-2.5e20, "-2.5e20"},
    {1.5e-7, "1.5e-7"},
    {1e-5, "0.00001"},
    {1.2345e-5, "0.000012345"},
    {1e-6, "1e-6"},
    {1.5e-6, "1.5e-6"},
    {0.001, "0.001"},
    {1234.5, "1234.5"},
    {4.35, "4.35"},
    {2.9802322387695312e-8, "2.9802322387695312e-8"},
    {0x1.52d02c7e14af5p+76, "9.999999999999997e22"}, /* the double below 1e23 */
    {5.0e-310, "5e-310"},
    {1.9156918820264798e-56, "1.9156918820264798e-56"},
    {4.940656458412465e-324 * 3, "1.5e-323"},
    {1.0e-7, "1e-7"},
    {12345678.0, "12345678.0"},
    {0.000123, "0.000123"},
};

static void test_fmt_double_known(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dfmt / sizeof dfmt[0]; i++) {
        char out[32];
        memset(out, 'x', sizeof out);
        size_t n = bk__fmt_double(out, dfmt[i].v);
        if (strcmp(out, dfmt[i].text) != 0 || n != strlen(out))
            fail_msg("%a: got '%s', want '%s'", dfmt[i].v, out, dfmt[i].text);
    }
    char out[32];
    assert_int_equal(bk__fmt_double(out, INFINITY), 4);
    assert_string_equal(out, "null");
    assert_int_equal(bk__fmt_double(out, NAN), 4);
    assert_string_equal(out, "null");
}

/* Count the significant digits of our output and its decimal exponent
 * (value = 0.d1d2... without the sign, as digits + exponent of d1). */
static void sig_digits(const char *txt, char *digs, int *exp10)
{
    char all[40];
    int na = 0, point = -1, e = 0;
    const char *s = txt + (*txt == '-');
    for (; *s && *s != 'e'; s++) {
        if (*s == '.')
            point = na;
        else
            all[na++] = *s;
    }
    if (*s == 'e')
        e = atoi(s + 1);
    if (point < 0)
        point = na;
    int i = 0;
    while (i < na && all[i] == '0')
        i++;
    int j = na;
    while (j > i && all[j - 1] == '0')
        j--;
    memcpy(digs, all + i, (size_t)(j - i));
    digs[j - i] = '\0';
    *exp10 = e + point - i - 1;
}

/* Reference: the fewest digits p such that some p-digit decimal reads back
 * as v (printf's correctly rounded nearest, or the other neighbour), and the
 * nearest p-digit decimal if that one works. */
static int ref_shortest_double(double v, char *digs, int *exp10, bool *nearest)
{
    char b[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(b, sizeof b, "%.*e", p - 1, v);
        if (strtod(b, NULL) == v) {
            sig_digits(b, digs, exp10);
            *nearest = true;
            return p;
        }
        char d[32];
        int n = 0;
        const char *s = b + (b[0] == '-');
        for (; *s != 'e'; s++)
            if (*s != '.')
                d[n++] = *s;
        d[n] = '\0';
        unsigned long long D = strtoull(d, NULL, 10);
        int e = atoi(strchr(b, 'e') + 1);
        unsigned long long D2 = fabs(strtod(b, NULL)) < fabs(v) ? D + 1 : D - 1;
        char c[64];
        snprintf(c, sizeof c, "%s%llue%d", v < 0 ? "-" : "", D2, e - (n - 1));
        if (strtod(c, NULL) == v) {
            *nearest = false;
            return p;
        }
    }
    return -1;
}

static uint64_t random_double_bits(int i)
{
    uint64_t b = rng_next();
    switch (i % 6) {
    case 1: /* exponents near 1.0: the common JSON range */
        b = (b & UINT64_C(0x800FFFFFFFFFFFFF)) | (uint64_t)(1023 - 40 + (int)(rng_next() % 80)) << 52;
        break;
    case 2: /* subnormals and the smallest normals */
        b &= UINT64_C(0x801FFFFFFFFFFFFF);
        break;
    case 3: /* short mantissas (many trailing zero bits) */
        b &= ~((UINT64_C(1) << (rng_next() % 53)) - 1);
        break;
    case 4: /* decimal-looking values */
        return double_to_bits((double)(int64_t)(rng_next() % 2000000 - 1000000) / 1000.0);
    default:
        break;
    }
    return b;
}

/* fmt_double then bk__parse_double (and strtod) gives the same bits for 10^6
 * random finite doubles. */
static void test_fmt_double_roundtrip_random(void **state)
{
    (void)state;
    rng_seed(0x5eed);
    int done = 0;
    for (int i = 0; done < 1000000; i++) {
        uint64_t bits = random_double_bits(i);
        double v = bits_to_double(bits);
        if (!isfinite(v))
            continue;
        done++;
        char out[32];
        size_t n = bk__fmt_double(out, v);
        double back;
        if (n != strlen(out) || n > 25)
            fail_msg("%a: bad length for '%s'", v, out);
        if (!bk__parse_double(out, n, &back) || double_to_bits(back) != bits)
            fail_msg("%a -> '%s' -> %a", v, out, back);
        if (double_to_bits(strtod(out, NULL)) != bits)
            fail_msg("%a -> '%s': strtod disagrees", v, out);
    }
}

/* The output has the fewest significant digits possible, and is the
 * nearest such decimal when that one reads back. */
static void test_fmt_double_shortest(void **state)
{
    (void)state;
    rng_seed(0xabc);
    for (int i = 0; i < 30000; i++) {
        double v = bits_to_double(random_double_bits(i));
        if (!isfinite(v) || v == 0)
            continue;
        char out[32], md[40], rd[40];
        int me, re;
        bool nearest = false;
        bk__fmt_double(out, v);
        int p = ref_shortest_double(v, rd, &re, &nearest);
        sig_digits(out, md, &me);
        if (p < 0)
            fail_msg("%a: the reference found no round-tripping text", v);
        if ((int)strlen(md) != p)
            fail_msg("%a: '%s' has %zu digits, shortest is %d", v, out, strlen(md), p);
        if (nearest && (strcmp(md, rd) != 0 || me != re))
            fail_msg("%a: '%s' is not the nearest (%s e%d)", v, out, rd, re);
    }
}

/* ==== floats: formatting ================================================== */

typedef struct { uint32_t bits; const char *text; } ffmt_case;

static const ffmt_case ffmt[] = {
    {0x00000000, "0.0"},
    {0x80000000, "-0.0"},
    {0x3f800000, "1.0"},
    {0x3dcccccd, "0.1"},            /* 0.1f */
    {0x3e99999a, "0.3"},            /* 0.3f */
    {0x3f8ccccd, "1.1"},            /* 1.1f */
    {0x40490fd0, "3.14159"},        /* 3.14159f */
    {0x42c80000, "100.0"},
    {0x4b800000, "16777216.0"},     /* 2^24 */
    {0x7f7fffff, "3.4028235e38"},   /* FLT_MAX */
    {0xff7fffff, "-3.4028235e38"},
    {0x00800000, "1.1754944e-38"},  /* FLT_MIN */
    {0x00000001, "1e-45"},          /* smallest subnormal */
    {0x80000001, "-1e-45"},
    {0x007fffff, "1.1754942e-38"},  /* largest subnormal */
    {0x5f0ac723, "1e19"},
    {0x4cbebc20, "100000000.0"},
    {0x322bcc77, "1e-8"},
    {0x3727c5ac, "0.00001"},
    /* The only two floats where the decoder's route (decimal -> double ->
     * float) changes the answer, found by checking all 2^32 floats: the
     * float's own shortest, 7.038531e-26, reads back as the even neighbour
     * 0x15ae43fe, which in turn gets that shorter text. */
    {0x15ae43fd, "7.0385307e-26"},
    {0x15ae43fe, "7.038531e-26"},
};

static void test_fmt_float_known(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ffmt / sizeof ffmt[0]; i++) {
        char out[32];
        size_t n = bk__fmt_float(out, bits_to_float(ffmt[i].bits));
        if (strcmp(out, ffmt[i].text) != 0 || n != strlen(out))
            fail_msg("0x%08x: got '%s', want '%s'", ffmt[i].bits, out, ffmt[i].text);
    }
    char out[32];
    bk__fmt_float(out, (float)INFINITY);
    assert_string_equal(out, "null");
}

/* Reference for floats, with the decoder's semantics: parse as double,
 * then round to float. */
static int ref_shortest_float(float f, char *digs, int *exp10, bool *nearest)
{
    char b[64];
    for (int p = 1; p <= 9; p++) {
        snprintf(b, sizeof b, "%.*e", p - 1, (double)f);
        if ((float)strtod(b, NULL) == f) {
            sig_digits(b, digs, exp10);
            *nearest = true;
            return p;
        }
        char d[32];
        int n = 0;
        const char *s = b + (b[0] == '-');
        for (; *s != 'e'; s++)
            if (*s != '.')
                d[n++] = *s;
        d[n] = '\0';
        unsigned long long D = strtoull(d, NULL, 10);
        int e = atoi(strchr(b, 'e') + 1);
        unsigned long long D2 = fabs(strtod(b, NULL)) < fabs((double)f) ? D + 1 : D - 1;
        char c[64];
        snprintf(c, sizeof c, "%s%llue%d", f < 0 ? "-" : "", D2, e - (n - 1));
        if ((float)strtod(c, NULL) == f) {
            *nearest = false;
            return p;
        }
    }
    return -1;
}

static void test_fmt_float_roundtrip_random(void **state)
{
    (void)state;
    rng_seed(0xf10a7);
    int done = 0;
    for (int i = 0; done < 1000000; i++) {
        uint32_t bits = (uint32_t)rng_next();
        if (i % 3 == 1)
            bits &= 0x80FFFFFF;     /* subnormal and tiny */
        float f = bits_to_float(bits);
        if (!isfinite(f))
            continue;
        done++;
        char out[32];
        size_t n = bk__fmt_float(out, f);
        double back;
        if (n != strlen(out) || n > 20)
            fail_msg("0x%08x: bad length for '%s'", bits, out);
        if (!bk__parse_double(out, n, &back) || float_to_bits((float)back) != bits)
            fail_msg("0x%08x -> '%s' does not read back", bits, out);
    }
}

static void test_fmt_float_shortest(void **state)
{
    (void)state;
    rng_seed(0xf1);
    for (int i = 0; i < 30000; i++) {
        uint32_t bits = (uint32_t)rng_next();
        if (i % 3 == 1)
            bits &= 0x80FFFFFF;
        float f = bits_to_float(bits);
        if (!isfinite(f) || f == 0)
            continue;
        char out[32], md[40], rd[40];
        int me, re;
        bool nearest = false;
        bk__fmt_float(out, f);
        int p = ref_shortest_float(f, rd, &re, &nearest);
        sig_digits(out, md, &me);
        if (p < 0)
            fail_msg("0x%08x: the reference found no round-tripping text", bits);
        if ((int)strlen(md) != p)
            fail_msg("0x%08x: '%s' has %zu digits, shortest is %d", bits, out, strlen(md), p);
        if (nearest && (strcmp(md, rd) != 0 || me != re))
            fail_msg("0x%08x: '%s' is not the nearest (%s e%d)", bits, out, rd, re);
    }
}

/* ==== doubles: parsing ==================================================== */

static void check_parse_vs_strtod(const char *s)
{
    double want = strtod(s, NULL), got = -12345.0;
    bool ok = bk__parse_double(s, strlen(s), &got);
    if (isinf(want)) {
        if (ok)
            fail_msg("'%s' overflows but was accepted as %a", s, got);
        if (got != -12345.0)
            fail_msg("'%s': output written on failure", s);
        return;
    }
    if (!ok)
        fail_msg("'%s' rejected", s);
    if (double_to_bits(got) != double_to_bits(want))
        fail_msg("'%s': got %a, strtod says %a", s, got, want);
}

static const char *const parse_hard[] = {
    "0", "-0", "0.0", "-0.0", "0e10", "-0E-10", "0.000000000000000000000000000000e999",
    "1", "-1", "1.5", "0.1", "0.3", "123.456", "1e0", "1E+2", "1e-2",
    "9007199254740992", "9007199254740993", "9007199254740994", "9007199254740995",
    "9007199254740993.0000000000000000001", "9007199254740992.9999999999999999999",
    "18014398509481985", "18014398509481987",
    "4503599627370496.5", "4503599627370497.5", "4503599627370496.5000000000000000000001",
    "2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072014e-308",
    "2.225073858507201136057409796709131975934819546351645648e-308",
    "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
    "2.47032822920623272088284396434110686182529901307162382212792841250337753635104375932649918180817996189898282347722858865463328355177969898199387398005390939063150356595155702263922908583924491051844359318028499365361525003193704576782492193656236698636584807570015857692699037063119282795585513329278343384093519780155312465972635795746227664652728272200563740064854999770965994704540208281662262378573934507363390079677619305775067401763246736009689513405355374585166611342237666786041621596804619144672918403005300575308490487653917113865916462395249126236538818796362393732804238910186723484976682350898633885879256283027559956575244555072551893136908362547791869486679949683240497058210285131854513962138377228261454376934125320985913276672363281255e-324",
    "1e23", "8.98846567431158e307", "1.7976931348623157e308", "1.7976931348623158e308",
    "1.7976931348623159e308", "1e308", "1e309", "-1e309", "1e400", "1e-400", "-1e-400",
    "1e-99999999999999999999", "1e99999999999999999999", "0.0000001e-330",
    "7.2057594037927933e16", "7.2057594037927935e16", "3.0540316310502e-310",
    /* rounding carries into the next binade */
    "9007199254740991.75", "1.9999999999999999", "0.99999999999999999", "18014398509481983.9",
    "2.2250738585072013e-308",
    "3.14159265358979323846264338327950288419716939937510",
    "0.1000000000000000055511151231257827021181583404541015625",
    "0.1000000000000000055511151231257827021181583404541015624",
    "0.1000000000000000055511151231257827021181583404541015626",
    "123456789012345678901234567890e-10", "123456789012345678901234567890",
    "0.000000000000000000000000000000123456789012345678901234567890",
    "100000000000000000000000000000000000000000000000000000000000000000000001",
    "9999999999999999999", "99999999999999999999", "18446744073709551615", "18446744073709551616",
    "1844674407370955161.5", "10000000000000000000000000000000000000000000e-44",
    "5e-324", "1e-323", "2e-323", "3e-324", "6e-324",
    "1.00000000000000011102230246251565404236316680908203125",
    "1.00000000000000011102230246251565404236316680908203124",
    "1.00000000000000011102230246251565404236316680908203126",
    "1.0000000000000002220446049250313080847263336181640625",
    "6.631236846766476e-316", "3.2379086165851934e-319", "1.8e308", "-1.8e308",
    "179769313486231580793728971405301e276", "179769313486231580793728971405302e276",
    "17976931348623158079372897140530341507993413271003782693617377898044496829276475094664736545e217",
    "17976931348623158079372897140530341507993413271003782693617377898044496829276475094664736544e217",
};

static void test_parse_double_hard(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_hard / sizeof parse_hard[0]; i++)
        check_parse_vs_strtod(parse_hard[i]);
    double d;
    assert_true(bk__parse_double("-0", 2, &d));
    assert_true(signbit(d) && d == 0);
    assert_true(bk__parse_double("-1e-400", 7, &d));
    assert_true(signbit(d) && d == 0);
    assert_false(bk__parse_double("1e309", 5, &d));
    /* Not a JSON number: rejected rather than misread. */
    static const char *const bad[] = {"", "-", "1.", ".5", "1e", "1e+", "abc", "1x", "+1", "1.5e3x",
        "0x10", "inf", "nan", "1 ", " 1", "--1", "1..2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (bk__parse_double(bad[i], strlen(bad[i]), &d))
            fail_msg("accepted '%s'", bad[i]);
    /* Only [s, s+len) is read. */
    assert_true(bk__parse_double("12345", 3, &d));
    assert_true(d == 123.0);
}

/* Long digit strings: 800 digits in the integer part, in the fraction,
 * with the deciding digit far beyond the 780 kept by the slow path. */
static void test_parse_double_long(void **state)
{
    (void)state;
    static char s[2100];
    /* 2^-1074 * 3 / 2 written exactly has 767 significant digits; append
     * digits beyond it. */
    for (int len = 760; len <= 2000; len += 37) {
        memset(s, '0', sizeof s);
        s[0] = '4';
        s[1] = '.';
        for (int k = 2; k < len; k++)
            s[k] = (char)('0' + (k * 7) % 10);
        int n = len;
        n += sprintf(s + n, "e-%d", 324 - (len % 5));
        check_parse_vs_strtod(s);
    }
    for (int len = 300; len <= 1600; len += 100) {
        s[0] = '1';
        for (int k = 1; k < len; k++)
            s[k] = '0';
        s[len] = '\0';
        check_parse_vs_strtod(s);           /* 10^(len-1) */
        s[len - 1] = '1';
        check_parse_vs_strtod(s);           /* 10^(len-1) + 1 */
        sprintf(s + len, "e-%d", len);
        check_parse_vs_strtod(s);
    }
    /* A midpoint followed by 1000 zeros then a 1: only the sticky digit
     * decides. 4503599627370496.5 is the midpoint of 2^52 and 2^52+1. */
    strcpy(s, "4503599627370496.5");
    size_t n = strlen(s);
    memset(s + n, '0', 1000);
    s[n + 1000] = '\0';
    check_parse_vs_strtod(s);
    s[n + 1000] = '1';
    s[n + 1001] = '\0';
    check_parse_vs_strtod(s);
}

/* Random decimal strings of 1..40 digits (some up to 800) with random
 * exponents agree with strtod bit for bit. */
static void test_parse_double_random(void **state)
{
    (void)state;
    rng_seed(0xdec1);
    char s[1000];
    for (int it = 0; it < 300000; it++) {
        int nd = 1 + (int)(rng_next() % 40);
        if (it % 50 == 0)
            nd = 1 + (int)(rng_next() % 800);
        int n = 0, k = 0;
        if (rng_next() & 1)
            s[n++] = '-';
        int pt = (int)(rng_next() % (uint64_t)(nd + 1));
        if (pt == 0) {
            s[n++] = '0';
        } else {
            s[n++] = (char)('1' + rng_next() % 9);
            for (k = 1; k < pt; k++)
                s[n++] = (char)('0' + rng_next() % 10);
        }
        if (k < nd) {
            s[n++] = '.';
            for (; k < nd; k++) {
                char c = (char)('0' + rng_next() % 10);
                switch (it % 5) {   /* runs that make near-ties */
                case 1: if (k > 16) c = '0'; break;
                case 2: if (k > 16) c = '9'; break;
                case 3: if (k > 15) c = k == 16 ? '5' : '0'; break;
                default: break;
                }
                s[n++] = c;
            }
        }
        if (rng_next() % 4) {
            s[n++] = (rng_next() & 1) ? 'e' : 'E';
            int r = (int)(rng_next() % 3);
            if (r)
                s[n++] = r == 1 ? '-' : '+';
            n += sprintf(s + n, "%d", (int)(rng_next() % 360));
        }
        s[n] = '\0';
        check_parse_vs_strtod(s);
    }
}

/* Exact midpoints between adjacent doubles (where rounding is decided by
 * ties-to-even), and the same plus or minus a tiny amount. */
static void test_parse_double_midpoints(void **state)
{
    (void)state;
#if LDBL_MANT_DIG >= 64
    rng_seed(0x41d);
    static char s[1200], t[1300];
    for (int it = 0; it < 20000; it++) {
        uint64_t bits = random_double_bits(it) & UINT64_C(0x7FFFFFFFFFFFFFFF);
        double d = bits_to_double(bits);
        double nx = nextafter(d, INFINITY);
        if (!isfinite(nx))
            continue;
        long double mid = ((long double)d + (long double)nx) / 2;
        snprintf(s, sizeof s, "%.780Le", mid);
        char *e = strchr(s, 'e'), ex[16];
        snprintf(ex, sizeof ex, "%s", e);
        char *q = e;
        while (q[-1] == '0')
            q--;
        if (q[-1] == '.')
            q--;
        strcpy(q, ex);
        check_parse_vs_strtod(s);           /* exact midpoint */
        size_t L = (size_t)(q - s);
        memcpy(t, s, L);
        t[L] = '\0';
        if (!strchr(t, '.'))
            strcat(t, ".");
        strcat(t, "0000000000000000000000000001");
        strcat(t, ex);
        check_parse_vs_strtod(t);           /* just above */
        memcpy(t, s, L);
        t[L] = '\0';
        if (t[L - 1] > '0' && t[L - 1] <= '9') {
            t[L - 1]--;
            strcat(t, "99999999999999999999999999");
            strcat(t, ex);
            check_parse_vs_strtod(t);       /* just below */
        }
    }
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_table),
        cmocka_unit_test(test_utf8_fast_path_boundaries),
        cmocka_unit_test(test_utf8_exhaustive_small),
        cmocka_unit_test(test_ts_parse_valid),
        cmocka_unit_test(test_ts_parse_invalid),
        cmocka_unit_test(test_ts_parse_prefixes),
        cmocka_unit_test(test_ts_format),
        cmocka_unit_test(test_ts_format_extremes),
        cmocka_unit_test(test_ts_roundtrip),
        cmocka_unit_test(test_date_parse_format),
        cmocka_unit_test(test_date_roundtrip_all),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_b64_invalid),
        cmocka_unit_test(test_b64_roundtrip),
        cmocka_unit_test(test_fmt_double_known),
        cmocka_unit_test(test_fmt_double_roundtrip_random),
        cmocka_unit_test(test_fmt_double_shortest),
        cmocka_unit_test(test_fmt_float_known),
        cmocka_unit_test(test_fmt_float_roundtrip_random),
        cmocka_unit_test(test_fmt_float_shortest),
        cmocka_unit_test(test_parse_double_hard),
        cmocka_unit_test(test_parse_double_long),
        cmocka_unit_test(test_parse_double_random),
        cmocka_unit_test(test_parse_double_midpoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
