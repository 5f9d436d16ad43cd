/*
 * test_text_wide.c - the store's two implementations of its write-path
 * text checks (lib/text_wide.c: AVX-512, picked at run time; store_text.h:
 * SSE2, inline) give the same answers as the reference, never read a byte
 * past a text, and make the store refuse the same rows.
 *
 * Every text is placed so that it ends where a page without access
 * begins: a load of one byte too many faults. The wide tests are skipped
 * (and say so) on a CPU without AVX-512BW/VL and BMI2; valgrind does not
 * report AVX-512 to the program, so under it they are skipped too.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE   /* mmap's MAP_ANONYMOUS */
#endif
#include "test_util.h"
#include <sys/mman.h>
#include <unistd.h>
#include "store_text.h"
#include "test_text.h"

#if defined(BK__TEXT_WIDE)

/* Two pages, the second without access: texts are copied to end at it. */
static unsigned char *g_area;
static size_t g_page;

static int area_setup(void **state)
{
    (void)state;
    g_page = (size_t)sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, 2 * g_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect((char *)p + g_page, g_page, PROT_NONE) != 0)
        return -1;
    g_area = p;
    return 0;
}

static int area_teardown(void **state)
{
    (void)state;
    munmap(g_area, 2 * g_page);
    bk__text_wide_use(true);   /* what the process would pick */
    return 0;
}

/* text[0..n) copied to end at the guard page; its address. */
static const char *at_edge(const unsigned char *text, size_t n)
{
    unsigned char *p = g_area + g_page - n;
    memcpy(p, text, n);
    return (const char *)p;
}

/* One text against the reference (arg: the count of refused ones). */
static void check_one(const unsigned char *text, size_t n, void *arg)
{
    bool want = bk_test_text_valid(text, n);
    if (text_check(at_edge(text, n), n) != want) {
        fprintf(stderr, "%zu bytes:", n);
        for (size_t k = 0; k < n; k++)
            fprintf(stderr, " %02x", text[k]);
        fprintf(stderr, ": expected %d\n", want);
        fail();
    }
    *(size_t *)arg += !want;
}

/* Whether the check in use agrees with the reference on texts of 0..70
 * bytes of each fill with each bad sequence at every position, and on
 * random mixed texts of up to 140 bytes. */
static void check_like_the_reference(void)
{
    static const char *const fills[] = {
        "a", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80", "\xf3\xa0\x80\x81",
    };
    static const bk_test_seq bad[] = {
        { "", 0 }, { "\0", 1 }, { "\x80", 1 }, { "\xff", 1 }, { "\xc3", 1 }, { "\xe6\x97", 2 },
        { "\xed\xa0\x80", 3 }, { "\xc0\xaf", 2 }, { "\xe0\x9f\xbf", 3 }, { "\xf4\x90\x80\x80", 4 },
        { "\xf0\x8f\xbf\xbf", 4 }, { "\xf5\x80\x80\x80", 4 }, { "\xc3\xa9", 2 },
        { "\xef\xbf\xbf", 3 }, { "\xe0\xa0\x80", 3 }, { "\xed\x9f\xbf", 3 },
        { "\xf0\x90\x80\x80", 4 }, { "\xf4\x8f\xbf\xbf", 4 }, { "\xf3\xa0\x80", 3 },
        { "\xf2\x80", 2 }, { "\xf1", 1 }, { "\xf3\xa0\x80\x81\x80", 5 },
    };
    size_t refused = 0;
    size_t checked = bk_test_each_text(fills, sizeof(fills) / sizeof(fills[0]), bad,
        sizeof(bad) / sizeof(bad[0]), 70, 0, 0, check_one, &refused);
    unsigned char text[256];
    uint64_t r = 0x2545F4914F6CDD1Dull;
    for (int i = 0; i < 40000; i++) {
        check_one(text, bk_test_mixed_text(text, (size_t)(bk_test_next(&r) % 141), &r),
            &refused);
        checked++;
    }
    assert_true(refused > 20000 && checked - refused > 20000);
}

static void the_inline_check_agrees_with_the_reference(void **state)
{
    (void)state;
    assert_false(bk__text_wide_use(false));
    check_like_the_reference();
}

static void the_wide_check_agrees_with_the_reference(void **state)
{
    (void)state;
    if (!bk__text_wide_use(true)) {
        fprintf(stderr, "no AVX-512BW/VL and BMI2 here: the wide check is not tested\n");
        skip();
    }
    check_like_the_reference();
}

/* ---- list<str> as JSON text ------------------------------------------------------------ */

/* A list of up to 6 items (each at the edge of its own page of area, one
 * page pair per item) from pools with quotes, backslashes, control
 * characters, text that is not UTF-8, and items of 60..130 bytes. */
typedef struct { unsigned char *base; char *items[6]; bk_strs l; } item_pages;

static void make_list(item_pages *ip, uint64_t *r)
{
    unsigned char text[256];
    ip->l.len = (size_t)(bk_test_next(r) % 7);
    ip->l.items = ip->items;
    for (size_t k = 0; k < ip->l.len; k++) {
        uint64_t x = bk_test_next(r);
        size_t n;
        switch (x % 6) {
        case 0: n = 0; break;
        case 1: n = (size_t)snprintf((char *)text, sizeof(text), "tag%u", (unsigned)(x >> 8) % 100);
            break;
        case 2: {
            static const char *const odd[] = { "a\"b", "back\\slash", "new\nline", "\x01",
                "caf\xc3\xa9", "\xe6\x9d\xb1\xe4\xba\xac", "\xc3", "\xed\xa0\x80x", "\x7f" };
            n = strlen(odd[(x >> 8) % 9]);
            memcpy(text, odd[(x >> 8) % 9], n);
            break;
        }
        case 3:
            /* 60..130 bytes; often 60..66 with a lead (cut short) or a
             * whole character at the end, at lanes 59..65 */
            n = (x >> 40) % 2 ? 60 + (size_t)((x >> 8) % 7) : 60 + (size_t)((x >> 8) % 71);
            for (size_t j = 0; j < n; j++)
                text[j] = (unsigned char)('a' + j % 26);
            if ((x >> 20) % 2)
                text[(x >> 24) % n] = (x >> 30) % 2 ? '"' : 0xC3;
            if ((x >> 41) % 2) {
                static const char *const ends[] = { "\xc3", "\xe6\x97", "\xf3\xa0\x80",
                    "\xc3\xa9", "\xe6\x97\xa5", "\xf3\xa0\x80\x81" };
                const char *e = ends[(x >> 44) % 6];
                memcpy(text + n - strlen(e), e, strlen(e));
            }
            break;
        default:
            do
                n = bk_test_mixed_text(text, (size_t)(bk_test_next(r) % 70), r);
            while (memchr(text, 0, n));
            break;
        }
        /* item k ends at the guard page of page pair k */
        unsigned char *end = ip->base + (2 * k + 1) * g_page;
        end[-1] = 0;
        memcpy(end - 1 - n, text, n);
        ip->items[k] = (char *)(end - 1 - n);
    }
}

/* What an encoder must give for the list l: 1 and ["a","b"] when every
 * item is there, UTF-8 and needs no escape (no quote, backslash or
 * control character); 0 otherwise. Into out (its length). */
static int reference_json(const bk_strs *l, char *out, size_t *len)
{
    size_t at = 0;
    out[at++] = '[';
    for (size_t k = 0; k < l->len; k++) {
        const unsigned char *q = (const unsigned char *)l->items[k];
        if (!q)
            return 0;
        size_t n = strlen((const char *)q);
        if (!bk_test_text_valid(q, n))
            return 0;
        for (size_t j = 0; j < n; j++)
            if (q[j] == '"' || q[j] == '\\' || q[j] < 0x20)
                return 0;
        if (k)
            out[at++] = ',';
        out[at++] = '"';
        memcpy(out + at, q, n);
        at += n;
        out[at++] = '"';
    }
    out[at++] = ']';
    out[at] = '\0';
    *len = at;
    return 1;
}

/* The list encoder in use against the reference, on 20 000 random lists
 * (each item ending at a page without access), into a buffer kept from
 * list to list (as a connection's scratch buffer is). Returns whether it
 * wrote some and declined some. */
static bool encode_like_the_reference(unsigned char *base)
{
    bk_buf b = { 0 };
    item_pages ip = { base, { 0 }, { 0 } };
    uint64_t r = 0x9E3779B97F4A7C15ull;
    size_t written = 0, declined = 0;
    static char want[6 * 200 + 16];
    for (int i = 0; i < 20000; i++) {
        make_list(&ip, &r);
        size_t wlen = 0;
        int w = reference_json(&ip.l, want, &wlen);
        int got = strs_json_check(&b, &ip.l);
        if (got != w || (w == 1 && (b.len != wlen || memcmp(b.ptr, want, wlen + 1) != 0))) {
            fprintf(stderr, "list %d: got %d \"%s\", want %d \"%s\"\n", i, got,
                got == 1 ? b.ptr : "", w, w == 1 ? want : "");
            fail();
        }
        written += w == 1;
        declined += w == 0;
    }
    bk_buf_dispose(&b);
    return written > 2000 && declined > 2000;
}

/* Every item of 1 and 2 bytes (each byte 1..255), and of 3 bytes over
 * the bytes where classes change, alone in a list, ending at a page
 * without access: the encoder in use against the reference. */
static void encode_short_items_like_the_reference(unsigned char *base)
{
    static const unsigned char edges[] = {
        0x01, 0x1f, 0x20, 0x21, 0x22, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f, 0x80, 0xbf, 0xc0, 0xc1,
        0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
    };
    bk_buf b = { 0 };
    char want[32];
    char *item = (char *)base + g_page - 4;   /* up to 3 bytes and the NUL */
    bk_strs l = { &item, 1 };
    size_t ne = sizeof(edges);
    for (unsigned x = 1; x < 256 * 256 + ne * ne * ne; x++) {
        size_t n;
        unsigned char t[3];
        if (x < 256) {
            n = 1, t[0] = (unsigned char)x;
        } else if (x < 256 * 256) {
            if (x % 256 == 0)
                continue;
            n = 2, t[0] = (unsigned char)(x / 256), t[1] = (unsigned char)(x % 256);
        } else {
            unsigned y = x - 256 * 256;
            n = 3, t[0] = edges[y / (ne * ne)], t[1] = edges[y / ne % ne], t[2] = edges[y % ne];
        }
        item = (char *)base + g_page - 1 - n;
        memcpy(item, t, n);
        item[n] = '\0';
        size_t wlen = 0;
        int w = reference_json(&l, want, &wlen);
        int got = strs_json_check(&b, &l);
        if (got != w || (w == 1 && (b.len != wlen || memcmp(b.ptr, want, wlen + 1) != 0))) {
            fprintf(stderr, "item %02x %02x %02x (%zu bytes): got %d, want %d\n", t[0],
                n > 1 ? t[1] : 0, n > 2 ? t[2] : 0, n, got, w);
            fail();
        }
    }
    bk_buf_dispose(&b);
}

static unsigned char *item_area(size_t pairs)
{
    unsigned char *base = mmap(NULL, 2 * pairs * g_page, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(base != MAP_FAILED);
    for (size_t k = 0; k < pairs; k++)
        assert_int_equal(mprotect(base + (2 * k + 1) * g_page, g_page, PROT_NONE), 0);
    return base;
}

static void the_inline_encoder_writes_what_the_reference_says(void **state)
{
    (void)state;
    unsigned char *base = item_area(6);
    assert_false(bk__text_wide_use(false));
    encode_short_items_like_the_reference(base);
    assert_true(encode_like_the_reference(base));
    munmap(base, 12 * g_page);
}

static void the_wide_encoder_writes_what_the_reference_says(void **state)
{
    (void)state;
    if (!bk__text_wide_use(true)) {
        fprintf(stderr, "no AVX-512BW/VL and BMI2 here: the wide encoder is not tested\n");
        skip();
    }
    unsigned char *base = item_area(6);
    encode_short_items_like_the_reference(base);
    assert_true(encode_like_the_reference(base));
    munmap(base, 12 * g_page);
}

/* ---- the store refuses the same rows either way ------------------------------------------ */

typedef struct { int64_t id; char *name; bk_strs tags; } Note;
static const bk_field NOTE_FIELDS[] = {
    BK_FIELD(Note, id,   BK_I64, .primary_key = true),
    BK_FIELD(Note, name, BK_STR),
    BK_LIST (Note, tags, BK_STR),
};
static const bk_model_def NOTE_DEF = BK_MODEL_DEF(Note, NOTE_FIELDS);

static void write_rows(bk_store *s, bk_model *m, int64_t first)
{
    bk_error *err = NULL;
    char *tags_ok[] = { "caf\xc3\xa9", "ops" }, *tags_bad[] = { "ops", "caf\xc3" };
    Note good = { first, "J\xc3\xbcrgen \xe6\x97\xa5\xe6\x9c\xac", { tags_ok, 2 } };
    Note bad_name = { first + 1, "J\xc3rgen", { tags_ok, 2 } };
    Note bad_tag = { first + 2, "Ana", { tags_bad, 2 } };
    assert_int_equal(bk_store_insert(s, m, &good, &err), BK_OK);
    assert_int_equal(bk_store_update(s, m, &good, NULL, 0, &err), BK_OK);
    assert_int_equal(bk_store_insert(s, m, &bad_name, &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.name", "invalid_utf8");
    bk_error_free(err);
    err = NULL;
    assert_int_equal(bk_store_insert(s, m, &bad_tag, &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.tags[1]", "invalid_utf8");
    bk_error_free(err);
    err = NULL;
    bad_name.id = first;
    assert_int_equal(bk_store_update(s, m, &bad_name, NULL, 0, &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.name", "invalid_utf8");
    bk_error_free(err);
    err = NULL;
    Note back;
    assert_int_equal(bk_store_get(&back, s, m, &first, &err), BK_OK);
    assert_string_equal(back.name, good.name);
    assert_int_equal(back.tags.len, 2);
    assert_string_equal(back.tags.items[0], "caf\xc3\xa9");
    bk_clear(m, &back);
    int64_t absent = first + 1;
    assert_int_equal(bk_store_get(&back, s, m, &absent, &err), BK_ENOTFOUND);
    bk_error_free(err);
}

static void the_store_refuses_the_same_rows_either_way(void **state)
{
    (void)state;
    bk_error *err = NULL;
    bk_model *m = NULL;
    bk_store *s = NULL;
    assert_int_equal(bk_model_new(&m, &NOTE_DEF, &err), BK_OK);
    assert_int_equal(bk_store_open(&s, "sqlite::memory:", NULL, &err), BK_OK);
    assert_int_equal(bk_store_register(s, m, "notes", &err), BK_OK);
    bk__text_wide_use(false);
    write_rows(s, m, 1);
    bool wide = bk__text_wide_use(true);
    write_rows(s, m, 10);
    bk_store_close(s);
    bk_model_unref(m);
    if (!wide) {
        fprintf(stderr, "no AVX-512BW/VL and BMI2 here: rows were written the inline way only\n");
        skip();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_inline_check_agrees_with_the_reference),
        cmocka_unit_test(the_wide_check_agrees_with_the_reference),
        cmocka_unit_test(the_inline_encoder_writes_what_the_reference_says),
        cmocka_unit_test(the_wide_encoder_writes_what_the_reference_says),
        cmocka_unit_test(the_store_refuses_the_same_rows_either_way),
    };
    return cmocka_run_group_tests(tests, area_setup, area_teardown);
}

#else

int main(void)
{
    fprintf(stderr, "not x86-64 with GCC or clang: there is only the inline check\n");
    return 0;
}

#endif
