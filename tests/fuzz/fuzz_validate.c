/*
 * fuzz_validate.c - differential fuzzer for the validation fast paths.
 *
 * Each input is decoded twice into a model with constraints at awkward
 * limits (ASCII vs non-ASCII lengths, 2^53 and u64 bounds, exclusive float
 * bounds, one_of/const with escapes): once validating inline (the decoder's
 * compiled fast checks), once with skip_validation followed by bk_validate()
 * (the plain walk). Both must report the same status and the same problems
 * (sorted: inline reports in document order, bk_validate in field order).
 * The input is also checked as an email and a hostname against a plain
 * reference copy of the rules (docs/validation.md#formats) that the
 * table-driven and SSE2 scanners must agree with. Any difference aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <backend.h>
#include "internal.h"

typedef struct { char *street; char *zip; } FAddr;
typedef struct {
    char *s; char *e; char *p; bk_strs tags; int8_t i8; int64_t i64; uint64_t u64;
    float f32; double f64; bk_bytes b; bk_map m; bk_i32s nums; char *one; FAddr addr;
    char *h; char *fixed; int32_t pick; int64_t seven;
} FEdge;

static const bk_field FADDR_FIELDS[] = {
    BK_FIELD(FAddr, street, BK_STR, BK_MIN_LEN(1), BK_MAX_LEN(6), .default_json = "\"x\""),
    BK_FIELD(FAddr, zip, BK_STR, BK_MIN_LEN(3), BK_MAX_LEN(5), .default_json = "\"123\""),
};
static const bk_model_def FADDR_DEF = BK_MODEL_DEF(FAddr, FADDR_FIELDS);
static const bk_field FEDGE_FIELDS[] = {
    BK_FIELD(FEdge, s, BK_STR, BK_MIN_LEN(3), BK_MAX_LEN(5), .default_json = "\"abc\""),
    BK_FIELD(FEdge, e, BK_STR, BK_FORMAT(BK_FORMAT_EMAIL), BK_MAX_LEN(60), .default_json = "\"a@b.c\""),
    BK_FIELD(FEdge, p, BK_STR, BK_PATTERN("^[a-z\\u00e9]+$"), BK_MAX_LEN(4), .default_json = "\"a\""),
    BK_LIST(FEdge, tags, BK_STR, BK_MAX_ITEMS(3), BK_EACH(BK_MIN_LEN(2), BK_MAX_LEN(3)), .default_json = "[]"),
    BK_FIELD(FEdge, i8, BK_I8, BK_GT(-3.5), BK_LT(100.5), .default_zero = true),
    BK_FIELD(FEdge, i64, BK_I64, BK_MIN(9007199254740993.0), .default_json = "9007199254740992"),
    BK_FIELD(FEdge, u64, BK_U64, BK_GT(18446744073709549568.0), .default_json = "18446744073709551615"),
    BK_FIELD(FEdge, f32, BK_F32, BK_GT(0), BK_LT(1), .default_json = "0.5"),
    BK_FIELD(FEdge, f64, BK_F64, BK_MIN(-1.5), BK_LT(2.5), .default_zero = true),
    BK_FIELD(FEdge, b, BK_BYTES, BK_MIN_LEN(1), BK_MAX_LEN(3), .default_json = "\"QQ==\""),
    BK_MAP(FEdge, m, BK_STR, BK_MAX_ITEMS(2), BK_EACH(BK_MAX_LEN(2)), .default_json = "{}"),
    BK_LIST(FEdge, nums, BK_I32, BK_MIN_ITEMS(1), BK_EACH(BK_GT(0)), .default_json = "[1]"),
    BK_FIELD(FEdge, one, BK_STR, BK_ONE_OF("[\"x\",\"\\u00e9\"]"), .default_json = "\"x\""),
    BK_NESTED(FEdge, addr, FAddr, &FADDR_DEF, .default_json = "{}"),
    BK_FIELD(FEdge, h, BK_STR, BK_FORMAT(BK_FORMAT_HOSTNAME), .default_json = "\"x\""),
    BK_FIELD(FEdge, fixed, BK_STR, BK_CONST("\"k\\u00e9\""), .default_json = "\"k\\u00e9\""),
    BK_FIELD(FEdge, pick, BK_I32, BK_ONE_OF("[1, -2, 300]"), BK_MIN(-1), .default_json = "1"),
    BK_FIELD(FEdge, seven, BK_I64, BK_CONST("7"), .default_json = "7"),
};
static const bk_model_def FEDGE_DEF = BK_MODEL_DEF(FEdge, FEDGE_FIELDS);

static bk_model *g_m;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Problems as sorted lines: inline validation reports in document order,
 * bk_validate in field order. */
static char *text(const bk_error *err)
{
    size_t np = err ? bk_error_count(err) : 0;
    char **lines = calloc(np + 1, sizeof(char *));
    for (size_t i = 0; i < np; i++) {
        const char *pa = bk_error_problem_params(err, i);
        size_t need = strlen(bk_error_path(err, i)) + strlen(bk_error_problem_code(err, i)) +
            strlen(bk_error_problem_message(err, i)) + strlen(pa ? pa : "") + 8;
        lines[i] = malloc(need);
        snprintf(lines[i], need, "%s|%s|%s|%s\n", bk_error_path(err, i),
            bk_error_problem_code(err, i), bk_error_problem_message(err, i), pa ? pa : "");
    }
    qsort(lines, np, sizeof(char *), cmp_str);
    size_t total = 1;
    for (size_t i = 0; i < np; i++)
        total += strlen(lines[i]);
    char *out = malloc(total);
    out[0] = 0;
    for (size_t i = 0; i < np; i++) {
        strcat(out, lines[i]);
        free(lines[i]);
    }
    free(lines);
    return out;
}

static bool ref_alnum(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool ref_atext(unsigned char c) { return ref_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL); }
static bool ref_hostname(const char *s, size_t n)
{
    if (n == 0 || n > 253) return false;
    size_t i = 0;
    for (;;) {
        size_t start = i; bool all = true;
        for (; i < n && s[i] != '.'; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!ref_alnum(c) && c != '-') return false;
            all = all && c >= '0' && c <= '9';
        }
        if (i == start || i - start > 63 || s[start] == '-' || s[i - 1] == '-') return false;
        if (i == n) return !all;
        i++;
    }
}
static bool ref_email(const char *s, size_t n)
{
    if (n > 254) return false;
    const char *at = memchr(s, '@', n);
    if (!at) return false;
    size_t ln = (size_t)(at - s);
    if (ln == 0 || ln > 64 || s[0] == '.' || s[ln - 1] == '.') return false;
    for (size_t i = 0; i < ln; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' ? s[i + 1] == '.' : !ref_atext(c)) return false;
    }
    const char *d = at + 1; size_t dn = n - ln - 1;
    if (dn >= 2 && d[0] == '[' && d[dn - 1] == ']') {
        bool v6 = dn - 2 >= 5;
        for (size_t k = 0; v6 && k < 5; k++)
            v6 = (d[1 + k] | (d[1 + k] >= 'A' && d[1 + k] <= 'Z' ? 0x20 : 0)) == "ipv6:"[k];
        if (v6) return bk__format_check(BK_FORMAT_IPV6, d + 6, dn - 7);
        return bk__format_check(BK_FORMAT_IPV4, d + 1, dn - 2);
    }
    return ref_hostname(d, dn);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (!g_m) {
        bk_error *e = NULL;
        if (bk_model_new(&g_m, &FEDGE_DEF, &e) != BK_OK) {
            fprintf(stderr, "model: %s\n", bk_error_message(e));
            abort();
        }
    }
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    if (bk__format_check(BK_FORMAT_EMAIL, copy, size) != ref_email(copy, size) ||
        bk__format_check(BK_FORMAT_HOSTNAME, copy, size) != ref_hostname(copy, size)) {
        fprintf(stderr, "format mismatch\n");
        abort();
    }
    free(copy);
    FEdge a, b;
    bk_error *ea = NULL, *eb = NULL;
    bk_status sa = bk_json_decode(&a, g_m, (const char *)data, size, NULL, &ea);
    bk_decode_options o = BK_DECODE_OPTIONS_INIT;
    o.skip_validation = true;
    bk_status sb = bk_json_decode(&b, g_m, (const char *)data, size, &o, &eb);
    if (sb == BK_OK) {
        sb = bk_validate(g_m, &b, 0, &eb);
        bk_clear(g_m, &b);
        char *ta = text(ea), *tb = text(eb);
        if (sa != sb || strcmp(ta, tb) != 0) {
            fprintf(stderr, "mismatch: %s vs %s\n%s---\n%s", bk_status_name(sa), bk_status_name(sb), ta, tb);
            abort();
        }
        free(ta);
        free(tb);
    } else if (sa == BK_OK) {
        abort();
    }
    if (sa == BK_OK)
        bk_clear(g_m, &a);
    bk_error_free(ea);
    bk_error_free(eb);
    return 0;
}
