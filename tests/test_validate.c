/*
 * test_validate.c - constraints, custom validators, error bodies.
 *
 * The table-driven part reads tests/data/validate_cases.json: each case
 * names a field of the Form model below, a JSON value for it, and the
 * problems expected (path and code), so boundary values (limit passes,
 * limit + 1 fails) and Unicode edge cases are data, not code.
 */
#include "test_util.h"

typedef struct { int64_t start; int64_t end; } Span;
typedef struct {
    int32_t age;
    double ratio;
    int64_t qty;
    char *name;
    char *code;
    char *email;
    char *site;
    char *host;
    char *ip4;
    char *ip6;
    char *when;
    char *day;
    char *clock;
    char *id;
    char *color;
    int32_t level;
    char *kind;
    bk_strs tags;
    bk_i32s nums;
    bk_map attrs;
    bk_bytes blob;
    Span span;
    char *nick;
    bk_presence nick_p;
    uint64_t big;
    int64_t seq;
} Form;

static int span_ok(const void *value, bk_report *r, void *payload)
{
    (void)payload;
    const Span *s = value;
    if (s->end < s->start)
        bk_report_problem(r, "end", "end_before_start", "end must not be before start",
            "{\"start\":0}");
    return 0;
}

static int even(const void *value, bk_report *r, void *payload)
{
    int *calls = payload;
    (*calls)++;
    if (*(const int32_t *)value % 2)
        bk_report_problem(r, NULL, "even", "must be even", NULL);
    return 0;
}

static int g_even_calls;

static const bk_field SPAN_FIELDS[] = {
    BK_FIELD(Span, start, BK_I64),
    BK_FIELD(Span, end, BK_I64),
};
static const bk_model_def SPAN_DEF = BK_MODEL_DEF(Span, SPAN_FIELDS,
    .validate = span_ok, .validate_name = "span_ok");

static const bk_field FORM_FIELDS[] = {
    BK_FIELD(Form, age, BK_I32, BK_MIN(0), BK_MAX(150), .default_zero = true),
    BK_FIELD(Form, ratio, BK_F64, BK_GT(0), BK_LT(1), .default_json = "0.5"),
    BK_FIELD(Form, qty, BK_I64, BK_MULTIPLE_OF(5), .default_zero = true),
    BK_FIELD(Form, name, BK_STR, BK_MIN_LEN(1), BK_MAX_LEN(5), .default_json = "\"ann\"",
             BK_MESSAGES("too_long", "Name is too long")),
    BK_FIELD(Form, code, BK_STR, BK_PATTERN("^[A-Z]{2}-[0-9]+$"), .default_json = "\"AB-1\""),
    BK_FIELD(Form, email, BK_STR, BK_FORMAT(BK_FORMAT_EMAIL), .default_json = "\"a@b.co\""),
    BK_FIELD(Form, site, BK_STR, BK_FORMAT(BK_FORMAT_URI), .default_json = "\"http://x.org/\""),
    BK_FIELD(Form, host, BK_STR, BK_FORMAT(BK_FORMAT_HOSTNAME), .default_json = "\"x.org\""),
    BK_FIELD(Form, ip4, BK_STR, BK_FORMAT(BK_FORMAT_IPV4), .default_json = "\"1.2.3.4\""),
    BK_FIELD(Form, ip6, BK_STR, BK_FORMAT(BK_FORMAT_IPV6), .default_json = "\"::1\""),
    BK_FIELD(Form, when, BK_STR, BK_FORMAT(BK_FORMAT_DATE_TIME), .default_json = "\"2024-01-01T00:00:00Z\""),
    BK_FIELD(Form, day, BK_STR, BK_FORMAT(BK_FORMAT_DATE), .default_json = "\"2024-01-01\""),
    BK_FIELD(Form, clock, BK_STR, BK_FORMAT(BK_FORMAT_TIME), .default_json = "\"10:00:00Z\""),
    BK_FIELD(Form, id, BK_STR, BK_FORMAT(BK_FORMAT_UUID), .default_json = "\"01234567-89ab-cdef-0123-456789abcdef\""),
    BK_FIELD(Form, color, BK_STR, BK_ONE_OF("[\"red\",\"green\"]"), .default_json = "\"red\""),
    BK_FIELD(Form, level, BK_I32, BK_VALIDATE(even, "even", &g_even_calls), .default_json = "4"),
    BK_FIELD(Form, kind, BK_STR, BK_CONST("\"fixed\""), .default_json = "\"fixed\""),
    BK_LIST(Form, tags, BK_STR, BK_MAX_ITEMS(3), BK_UNIQUE_ITEMS,
            BK_EACH(BK_MIN_LEN(2), BK_PATTERN("^[a-z]+$")), .default_json = "[]"),
    BK_LIST(Form, nums, BK_I32, BK_MIN_ITEMS(1), BK_EACH(BK_MAX(9)), .default_json = "[1]"),
    BK_MAP(Form, attrs, BK_I32, BK_MAX_ITEMS(2), BK_EACH(BK_MIN(0)), .default_json = "{}"),
    BK_FIELD(Form, blob, BK_BYTES, BK_MAX_LEN(3), .default_json = "\"\""),
    BK_NESTED(Form, span, Span, &SPAN_DEF, .default_json = "{\"start\":1,\"end\":2}"),
    BK_FIELD(Form, nick, BK_STR, BK_PRESENCE(Form, nick_p), BK_MIN_LEN(3)),
    BK_FIELD(Form, big, BK_U64, BK_MAX(18446744073709551615.0), .default_zero = true),
    BK_FIELD(Form, seq, BK_I64, BK_MIN(1), .default_json = "1"),
};
static const bk_model_def FORM_DEF = BK_MODEL_DEF(Form, FORM_FIELDS, .deny_unknown = true);

static bk_model *g_form;

static int setup(void **state)
{
    (void)state;
    bk_error *err = NULL;
    if (bk_model_new(&g_form, &FORM_DEF, &err) != BK_OK) {
        fprintf(stderr, "Form: %s\n", bk_error_message(err));
        bk_error_free(err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bk_model_unref(g_form);
    return 0;
}

static void defaults_are_valid(void **state)
{
    (void)state;
    Form f;
    bk_error *err = NULL;
    bk_status st = bk_json_decode(&f, g_form, "{}", 2, NULL, &err);
    if (st != BK_OK)
        fprintf(stderr, "%s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    assert_int_equal(bk_validate(g_form, &f, 0, &err), BK_OK);
    bk_clear(g_form, &f);
}

static void table_driven_cases(void **state)
{
    (void)state;
    size_t len;
    char *text = bk_test_read("validate_cases.json", &len);
    assert_non_null(text);
    json_error_t je;
    json_t *cases = json_loads(text, 0, &je);
    free(text);
    assert_true(json_is_array(cases));
    size_t i;
    json_t *c;
    int failed = 0;
    json_array_foreach(cases, i, c) {
        const char *field = json_string_value(json_object_get(c, "field"));
        json_t *value = json_object_get(c, "value");
        json_t *want = json_object_get(c, "problems");
        json_t *doc = json_object();
        json_object_set(doc, field, value);
        char *body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        Form f;
        bk_error *err = NULL;
        bk_status st = bk_json_decode(&f, g_form, body, strlen(body), NULL, &err);
        bool ok = true;
        if (json_array_size(want) == 0) {
            ok = st == BK_OK;
        } else {
            ok = st == BK_EVALIDATION && bk_error_count(err) == json_array_size(want);
            for (size_t k = 0; ok && k < json_array_size(want); k++) {
                json_t *p = json_array_get(want, k);
                ok = strcmp(bk_error_path(err, k), json_string_value(json_array_get(p, 0))) == 0 &&
                     strcmp(bk_error_problem_code(err, k), json_string_value(json_array_get(p, 1))) == 0;
            }
        }
        if (!ok) {
            fprintf(stderr, "case %zu (%s): %s -> %s: %s\n", i,
                json_string_value(json_object_get(c, "note")), body, bk_status_name(st),
                bk_error_message(err));
            for (size_t k = 0; k < bk_error_count(err); k++)
                fprintf(stderr, "   %s %s %s\n", bk_error_path(err, k), bk_error_problem_code(err, k),
                    bk_error_problem_params(err, k));
            failed++;
        }
        if (st == BK_OK)
            bk_clear(g_form, &f);
        bk_error_free(err);
        free(body);
    }
    assert_true(json_array_size(cases) >= 60);
    json_decref(cases);
    assert_int_equal(failed, 0);
}

static void every_violation_is_reported_with_params(void **state)
{
    (void)state;
    const char *body = "{\"age\":151,\"name\":\"toolong\",\"tags\":[\"ab\",\"x\",\"ab\",\"Q1\"],"
        "\"email\":\"nope\",\"span\":{\"start\":5,\"end\":1},\"nums\":[]}";
    Form f;
    bk_error *err = NULL;
    assert_int_equal(bk_json_decode(&f, g_form, body, strlen(body), NULL, &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.age", "above_max");
    bk_assert_problem(err, "$.name", "too_long");
    bk_assert_problem(err, "$.tags", "too_many_items");
    bk_assert_problem(err, "$.tags", "unique");
    bk_assert_problem(err, "$.tags[1]", "too_short");
    bk_assert_problem(err, "$.tags[3]", "pattern");
    bk_assert_problem(err, "$.email", "format");
    bk_assert_problem(err, "$.span.end", "custom:end_before_start");
    bk_assert_problem(err, "$.nums", "too_few_items");
    assert_int_equal(bk_error_count(err), 9);
    for (size_t i = 0; i < bk_error_count(err); i++) {
        if (strcmp(bk_error_path(err, i), "$.age") == 0) {
            assert_string_equal(bk_error_problem_params(err, i), "{\"max\":150}");
            assert_string_equal(bk_error_problem_message(err, i), "must be <= 150");
        }
        if (strcmp(bk_error_path(err, i), "$.name") == 0)
            assert_string_equal(bk_error_problem_message(err, i), "Name is too long");
    }
    assert_int_equal(bk_error_http_status(err), 422);
    char *json = NULL;
    assert_int_equal(bk_error_to_json(&json, NULL, err, NULL), BK_OK);
    json_error_t je;
    json_t *v = json_loads(json, 0, &je);
    assert_non_null(v);
    json_t *e = json_object_get(v, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "validation_failed");
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 422);
    json_t *d0 = json_array_get(json_object_get(e, "details"), 0);
    assert_string_equal(json_string_value(json_object_get(d0, "path")), "$.age");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(d0, "params"), "max")), 150);
    assert_int_equal(json_array_size(json_object_get(e, "details")), 9);
    json_decref(v);
    bk_free(json);

    bk_http_options ho;
    assert_int_equal(bk_http_options_init(&ho), BK_OK);
    ho.problem_json = true;
    ho.status[BK_EVALIDATION] = 400;
    assert_int_equal(bk_error_http_status_ex(err, &ho), 400);
    assert_int_equal(bk_error_to_json(&json, NULL, err, &ho), BK_OK);
    v = json_loads(json, 0, &je);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "title")), "Bad Request");
    assert_int_equal(json_integer_value(json_object_get(v, "status")), 400);
    assert_int_equal(json_array_size(json_object_get(v, "errors")), 9);
    json_decref(v);
    bk_free(json);
    bk_error_free(err);
}

static void shape_and_constraint_problems_are_reported_together(void **state)
{
    (void)state;
    const char *body = "{\"age\":\"x\",\"name\":\"toolong\",\"tags\":[\"ok\",7]}";
    Form f;
    bk_error *err = NULL;
    /* a shape problem makes it a 400, and the violations come along */
    assert_int_equal(bk_json_decode(&f, g_form, body, strlen(body), NULL, &err), BK_EDECODE);
    assert_int_equal(bk_error_count(err), 3);
    bk_assert_problem(err, "$.age", "type");
    bk_assert_problem(err, "$.name", "too_long");
    bk_assert_problem(err, "$.tags[1]", "type");
    assert_int_equal(bk_error_http_status(err), 400);
    bk_error_free(err);
}

static void internal_errors_do_not_leak_details(void **state)
{
    (void)state;
    Form f;
    bk_error *err = NULL;
    bk_decode_options o = BK_DECODE_OPTIONS_INIT;
    o.version = 77; /* a programming error: 500, and no internals in the body */
    assert_int_equal(bk_json_decode(&f, g_form, "{}", 2, &o, &err), BK_EINVAL);
    assert_int_equal(bk_error_http_status(err), 500);
    char *json = NULL;
    assert_int_equal(bk_error_to_json(&json, NULL, err, NULL), BK_OK);
    assert_string_equal(json, "{\"error\":{\"message\":\"internal error\",\"code\":\"internal\",\"status\":500}}");
    bk_free(json);
    bk_error_free(err);
}

static void validation_can_be_skipped_and_run_on_demand(void **state)
{
    (void)state;
    Form f;
    bk_error *err = NULL;
    bk_decode_options o = BK_DECODE_OPTIONS_INIT;
    o.skip_validation = true;
    const char *body = "{\"age\":-1}";
    assert_int_equal(bk_json_decode(&f, g_form, body, strlen(body), &o, &err), BK_OK);
    assert_int_equal(bk_validate(g_form, &f, 0, &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.age", "below_min");
    bk_error_free(err);
    f.age = 20;
    assert_int_equal(bk_validate(g_form, &f, 0, &err), BK_OK);
    /* optional fields are checked only when present */
    assert_int_equal(f.nick_p, BK_ABSENT);
    f.nick = bk_malloc(2);
    strcpy(f.nick, "x");
    f.nick_p = BK_NULL;
    assert_int_equal(bk_validate(g_form, &f, 0, &err), BK_OK);
    f.nick_p = BK_PRESENT;
    assert_int_equal(bk_validate(g_form, &f, 0, &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.nick", "too_short");
    bk_error_free(err);
    /* the custom validator ran with its payload */
    g_even_calls = 0;
    f.level = 5;
    assert_int_equal(bk_validate(g_form, &f, 0, &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.level", "custom:even");
    assert_true(g_even_calls > 0);
    bk_error_free(err);
    bk_clear(g_form, &f);
}

/* ---- the decoder's fast checks agree with the full check -------------------------
 *
 * The decoder validates a value first by the fast checks compiled when the
 * model is built (lengths from what it decoded, ASCII or not; integer and
 * float bounds in the value's own arithmetic) and falls back to the full
 * check only when one fails. bk_validate() on the struct always runs the
 * full check. Both must report exactly the same problems (path, code,
 * message, params) for every input, in particular at the boundaries. */

typedef struct {
    char *s;
    char *e;
    char *p;
    bk_strs tags;
    int8_t i8;
    int64_t i64;
    int64_t big;
    uint64_t u64;
    uint32_t u32;
    float f32;
    double f64;
    bk_bytes b;
    bk_map m;
    bk_i32s nums;
    char *one;
    char *fixed;
    char *both;
    int32_t pick;
    uint64_t ubig;
    int lvl;
    double real;
    int64_t seven;
} Edge;

static const char *const EDGE_LEVELS[] = { "lo", "mid", "hi", NULL };

static const bk_field EDGE_FIELDS[] = {
    BK_FIELD(Edge, s, BK_STR, BK_MIN_LEN(3), BK_MAX_LEN(5), .default_json = "\"abc\""),
    BK_FIELD(Edge, e, BK_STR, BK_FORMAT(BK_FORMAT_EMAIL), .default_json = "\"a@b.c\""),
    BK_FIELD(Edge, p, BK_STR, BK_PATTERN("^[a-z\\u00e9]+$"), BK_MAX_LEN(4),
             .default_json = "\"a\""),
    BK_LIST(Edge, tags, BK_STR, BK_MAX_ITEMS(3), BK_EACH(BK_MIN_LEN(2), BK_MAX_LEN(3)),
            .default_json = "[]"),
    BK_FIELD(Edge, i8, BK_I8, BK_GT(-3.5), BK_LT(100.5), .default_zero = true),
    BK_FIELD(Edge, i64, BK_I64, BK_MIN(9007199254740993.0), .default_json = "9007199254740992"),
    BK_FIELD(Edge, big, BK_I64, BK_GT(-9223372036854775808.0), BK_LT(9223372036854775807.0),
             .default_zero = true),
    BK_FIELD(Edge, u64, BK_U64, BK_GT(18446744073709549568.0), .default_json = "18446744073709551615"),
    BK_FIELD(Edge, u32, BK_U32, BK_MIN(1), BK_MAX(4294967295.0), .default_json = "1"),
    BK_FIELD(Edge, f32, BK_F32, BK_GT(0), BK_LT(1), .default_json = "0.5"),
    BK_FIELD(Edge, f64, BK_F64, BK_MIN(-1.5), BK_LT(2.5), .default_zero = true),
    BK_FIELD(Edge, b, BK_BYTES, BK_MIN_LEN(1), BK_MAX_LEN(3), .default_json = "\"QQ==\""),
    BK_MAP(Edge, m, BK_STR, BK_MAX_ITEMS(2), BK_EACH(BK_MAX_LEN(2)), .default_json = "{}"),
    BK_LIST(Edge, nums, BK_I32, BK_MIN_ITEMS(1), BK_EACH(BK_GT(0)), .default_json = "[1]"),
    BK_FIELD(Edge, one, BK_STR, BK_ONE_OF("[\"x\",\"\\u00e9\"]"), BK_MAX_LEN(1),
             .default_json = "\"x\""),
    BK_FIELD(Edge, fixed, BK_STR, BK_CONST("\"k\\u00e9\""), .default_json = "\"k\\u00e9\""),
    BK_FIELD(Edge, both, BK_STR, BK_ONE_OF("[\"a\",\"b\"]"), BK_CONST("\"a\""),
             .default_json = "\"a\""),
    BK_FIELD(Edge, pick, BK_I32, BK_ONE_OF("[1, -2, 300]"), BK_MIN(-1), .default_json = "1"),
    BK_FIELD(Edge, ubig, BK_U64, BK_ONE_OF("[9223372036854775807, 0]"), .default_zero = true),
    BK_ENUM(Edge, lvl, EDGE_LEVELS, BK_ONE_OF("[\"lo\",\"hi\"]"), .default_json = "\"lo\""),
    BK_FIELD(Edge, real, BK_F64, BK_ONE_OF("[0.5, 1]"), .default_json = "1"),
    BK_FIELD(Edge, seven, BK_I64, BK_CONST("7"), .default_json = "7"),
};
static const bk_model_def EDGE_DEF = BK_MODEL_DEF(Edge, EDGE_FIELDS);

/* The problems of err as one text, a line each (NULL err: ""). */
static char *problems_text(const bk_error *err)
{
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    for (size_t i = 0; err && i < bk_error_count(err); i++) {
        const char *params = bk_error_problem_params(err, i);
        size_t need = strlen(bk_error_path(err, i)) + strlen(bk_error_problem_code(err, i)) +
            strlen(bk_error_problem_message(err, i)) + strlen(params ? params : "") + 8;
        while (len + need >= cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        len += (size_t)snprintf(out + len, cap - len, "%s|%s|%s|%s\n", bk_error_path(err, i),
            bk_error_problem_code(err, i), bk_error_problem_message(err, i),
            params ? params : "");
    }
    return out;
}

/* Decode {"<field>": <json>} validating inline, then without validation
 * and bk_validate() the struct; the outcomes must be the same. Returns
 * whether the value was valid. */
static bool check_paths_agree(bk_model *m, const char *field, const char *json)
{
    char body[1200];
    snprintf(body, sizeof(body), "{\"%s\":%s}", field, json);
    Edge a, b;
    bk_error *ea = NULL, *eb = NULL;
    bk_status sa = bk_json_decode(&a, m, body, strlen(body), NULL, &ea);
    bk_decode_options o = BK_DECODE_OPTIONS_INIT;
    o.skip_validation = true;
    bk_status sb = bk_json_decode(&b, m, body, strlen(body), &o, &eb);
    if (sb == BK_OK) {
        sb = bk_validate(m, &b, 0, &eb);
        bk_clear(m, &b);
    } else if (sa == BK_EVALIDATION) {
        fprintf(stderr, "%s: a shape problem without validation only\n", body);
        fail();
    }
    if (sa == BK_OK)
        bk_clear(m, &a);
    char *ta = problems_text(ea), *tb = problems_text(eb);
    if (sa != sb || strcmp(ta, tb) != 0) {
        fprintf(stderr, "%s:\n inline (%s):\n%s bk_validate (%s):\n%s", body,
            bk_status_name(sa), ta, bk_status_name(sb), tb);
        fail();
    }
    free(ta);
    free(tb);
    bk_error_free(ea);
    bk_error_free(eb);
    return sa == BK_OK;
}

static void fast_and_full_checks_agree_at_the_boundaries(void **state)
{
    (void)state;
    bk_model *m = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_model_new(&m, &EDGE_DEF, &err), BK_OK);
    static const struct { const char *field, *json; bool ok; } cases[] = {
        /* lengths in code points: ASCII and not, raw and escaped, at the limits */
        { "s", "\"ab\"", false }, { "s", "\"abc\"", true }, { "s", "\"abcde\"", true },
        { "s", "\"abcdef\"", false }, { "s", "\"\"", false },
        { "s", "\"\xc3\xa9\xc3\xa9\"", false },                   /* 2 cp, 4 bytes */
        { "s", "\"\xc3\xa9\xc3\xa9\xc3\xa9\"", true },            /* 3 cp, 6 bytes */
        { "s", "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"", true },   /* 5 cp, 10 bytes */
        { "s", "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"", false }, /* 6 cp */
        { "s", "\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"", false },   /* 2 cp, 8 bytes */
        { "s", "\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"", true }, /* 3 cp, 12 bytes */
        { "s", "\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\"", true },
        { "s", "\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00a\"", false },
        { "s", "\"\\u00e9\\u00e9\"", false }, { "s", "\"\\u00e9\\u00e9\\u00e9\"", true },
        { "s", "\"a\\u00e9\xe6\x97\xa5\"", true }, { "s", "\"e\xcc\x81\"", false },
        { "s", "\"\\n\\t\"", false }, { "s", "\"\\n\\t\\\"\"", true },
        { "s", "\"\xff\xfe\xfd\"", false },                       /* invalid UTF-8 */
        { "s", "\"ab\xc3\"", false }, { "s", "\"\\ud800abc\"", false },
        /* pattern + max_len */
        { "p", "\"abcd\"", true }, { "p", "\"abcde\"", false }, { "p", "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"", true },
        { "p", "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"", false }, { "p", "\"ab1\"", false },
        { "p", "\"\"", false },
        /* emails at the edges */
        { "e", "\"a@b\"", true }, { "e", "\"a.b@c.d\"", true }, { "e", "\".a@b.c\"", false },
        { "e", "\"a.@b.c\"", false }, { "e", "\"a..b@c.d\"", false }, { "e", "\"@b.c\"", false },
        { "e", "\"a@\"", false }, { "e", "\"a@b.\"", false }, { "e", "\"a@.b\"", false },
        { "e", "\"a@-b.c\"", false }, { "e", "\"a@b-.c\"", false }, { "e", "\"a@b.1\"", false },
        { "e", "\"a@b.1a\"", true }, { "e", "\"a@[1.2.3.4]\"", true }, { "e", "\"a@[IPv6:::1]\"", true },
        { "e", "\"a@[1.2.3]\"", false }, { "e", "\"a@b@c\"", false }, { "e", "\"\xc3\xa9@b.c\"", false },
        { "e", "\"a@\xc3\xa9.c\"", false }, { "e", "\"!#$%&'*+/=?^_`{|}~-@x.y\"", true },
        { "e", "\"a b@c.d\"", false }, { "e", "\"a@b..c\"", false }, { "e", "\"\"", false },
        { "e", "\"\\u0061@b.c\"", true },
        /* elements: lengths at the limits, ASCII and not */
        { "tags", "[]", true }, { "tags", "[\"ab\",\"abc\"]", true }, { "tags", "[\"a\"]", false },
        { "tags", "[\"abcd\"]", false }, { "tags", "[\"\xc3\xa9\xc3\xa9\"]", true },
        { "tags", "[\"\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\"]", true },
        { "tags", "[\"\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\"]", false },
        { "tags", "[\"\xc3\xa9\"]", false }, { "tags", "[\"ab\",\"ab\",\"ab\",\"ab\"]", false },
        { "tags", "[\"ab\",\"x\",\"abcd\",\"ab\"]", false }, { "tags", "[\"ab\",7]", false },
        { "tags", "[\"ab\",\"\xff\"]", false },
        /* integer bounds: exclusive fractions, 2^53, the ends of the 64-bit ranges */
        { "i8", "-4", false }, { "i8", "-3", true }, { "i8", "100", true }, { "i8", "101", false },
        { "i8", "127", false }, { "i8", "-128", false },
        { "i64", "9007199254740991", false }, { "i64", "9007199254740992", true },
        { "i64", "9007199254740993", true }, { "i64", "-9223372036854775808", false },
        { "big", "-9223372036854775808", false }, { "big", "-9223372036854775807", true },
        { "big", "9223372036854775807", true }, { "big", "0", true },
        { "u64", "18446744073709549568", false }, { "u64", "18446744073709549569", true },
        { "u64", "18446744073709551615", true }, { "u64", "0", false },
        { "u32", "0", false }, { "u32", "1", true }, { "u32", "4294967295", true },
        /* float bounds: exclusive ends, the smallest values past them, -0 */
        { "f32", "0", false }, { "f32", "-0.0", false }, { "f32", "1e-45", true },
        { "f32", "0.99999994", true }, { "f32", "1", false }, { "f32", "0.999999999", false },
        { "f64", "-1.5", true }, { "f64", "-1.5000000000000002", false }, { "f64", "2.5", false },
        { "f64", "2.4999999999999996", true }, { "f64", "5e-324", true },
        /* bytes, maps, lists of numbers, one_of */
        { "b", "\"\"", false }, { "b", "\"QQ==\"", true }, { "b", "\"QUJD\"", true },
        { "b", "\"QUJDRA==\"", false },
        { "m", "{}", true }, { "m", "{\"a\":\"xy\",\"b\":\"\xc3\xa9\xc3\xa9\"}", true },
        { "m", "{\"a\":\"xyz\"}", false }, { "m", "{\"a\":\"\",\"b\":\"\",\"c\":\"\"}", false },
        { "nums", "[]", false }, { "nums", "[1,2]", true }, { "nums", "[1,0]", false },
        { "one", "\"x\"", true }, { "one", "\"\\u00e9\"", true }, { "one", "\"y\"", false },
        { "one", "\"xx\"", false }, { "one", "\"\xc3\xa9\"", true }, { "one", "\"\"", false },
        /* one_of and const compared as values: strings, integers, enums */
        { "fixed", "\"k\xc3\xa9\"", true }, { "fixed", "\"k\\u00E9\"", true },
        { "fixed", "\"k\"", false }, { "fixed", "\"k\xc3\xa9 \"", false },
        { "both", "\"a\"", true }, { "both", "\"b\"", false }, { "both", "\"c\"", false },
        { "pick", "1", true }, { "pick", "300", true }, { "pick", "-2", false },
        { "pick", "2", false }, { "pick", "-1", false },
        { "ubig", "9223372036854775807", true }, { "ubig", "0", true }, { "ubig", "1", false },
        { "ubig", "18446744073709551615", false }, { "ubig", "9223372036854775808", false },
        { "lvl", "\"lo\"", true }, { "lvl", "\"hi\"", true }, { "lvl", "\"mid\"", false },
        { "real", "0.5", true }, { "real", "1.0", true }, { "real", "1e0", true },
        { "real", "0.25", false }, { "seven", "7", true }, { "seven", "-7", false },
        { "seven", "8", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool ok = check_paths_agree(m, cases[i].field, cases[i].json);
        if (ok != cases[i].ok) {
            fprintf(stderr, "case %zu: %s = %s: expected %s\n", i, cases[i].field, cases[i].json,
                cases[i].ok ? "valid" : "invalid");
            fail();
        }
    }
    /* emails and local parts at the byte limits (64, 254) */
    char local[80], json[400];
    memset(local, 'a', sizeof(local));
    for (size_t ln = 62; ln <= 66; ln++) {
        snprintf(json, sizeof(json), "\"%.*s@x.io\"", (int)ln, local);
        assert_true(check_paths_agree(m, "e", json) == (ln <= 64));
    }
    for (size_t total = 252; total <= 256; total++) {
        /* a@ + labels of 63 and the rest */
        char dom[300];
        size_t dn = total - 2, k = 0;
        while (k < dn) {
            size_t run = dn - k > 63 ? 63 : dn - k;
            if (k && dn - k > 1) {
                dom[k++] = '.';
                run = run > dn - k ? dn - k : run;
            }
            memset(dom + k, 'b', run);
            k += run;
        }
        snprintf(json, sizeof(json), "\"a@%.*s\"", (int)dn, dom);
        assert_true(check_paths_agree(m, "e", json) == (total <= 254));
    }
    bk_model_unref(m);
}

/* Random strings and numbers around the limits: the two paths agree. */
static void fast_and_full_checks_agree_on_random_values(void **state)
{
    (void)state;
    bk_model *m = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_model_new(&m, &EDGE_DEF, &err), BK_OK);
    static const char *const pieces[] = {
        "a", "b", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80", "\\u00e9", "\\ud83d\\ude00",
        ".", "@", "-", "1", "\\n", "[", "]", ":", "\\u0041", "\xc3", "\xff",
    };
    static const char *const fields[] = { "s", "e", "p", "one", "fixed", "both" };
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char json[256];
    for (int iter = 0; iter < 4000; iter++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        size_t n = x % 8, k = 0;
        json[k++] = '"';
        uint64_t y = x;
        for (size_t i = 0; i < n; i++) {
            y = y * 6364136223846793005ull + 1442695040888963407ull;
            const char *pc = pieces[(y >> 33) % (sizeof(pieces) / sizeof(pieces[0]))];
            /* mostly valid UTF-8: the lone bytes are rare */
            if ((pc[0] == '\xc3' || pc[0] == '\xff') && !pc[1] && (y >> 20) % 8)
                pc = "a";
            memcpy(json + k, pc, strlen(pc));
            k += strlen(pc);
        }
        json[k++] = '"';
        json[k] = '\0';
        check_paths_agree(m, fields[(x >> 40) % 6], json);
        char list[300];
        snprintf(list, sizeof(list), "[%s,\"ab\"]", json);
        check_paths_agree(m, "tags", list);
        snprintf(json, sizeof(json), "%d", (int)(x % 220) - 110);
        check_paths_agree(m, "i8", json);
        snprintf(json, sizeof(json), "[%d]", (int)(x % 5) - 2);
        check_paths_agree(m, "nums", json);
        snprintf(json, sizeof(json), "%d", (int)(x % 303) - 2);
        check_paths_agree(m, "pick", json);
        snprintf(json, sizeof(json), "%.17g", ((double)(x % 2001) - 1000.0) / 400.0);
        check_paths_agree(m, (x >> 52) % 2 ? "f32" : "f64", json);
    }
    bk_model_unref(m);
}

/* A model validator of a model flattened into another runs when the outer
 * object is decoded (the outer model has no validator of its own), at the
 * outer object's path, as bk_validate() runs it. */
typedef struct { int32_t n; Span span; } Outer;

static void flattened_model_validators_run_inline(void **state)
{
    (void)state;
    static const bk_field OUTER_FIELDS[] = {
        BK_FIELD(Outer, n, BK_I32),
        BK_NESTED(Outer, span, Span, &SPAN_DEF, .flatten = true),
    };
    static const bk_model_def OUTER_DEF = BK_MODEL_DEF(Outer, OUTER_FIELDS);
    bk_model *m = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_model_new(&m, &OUTER_DEF, &err), BK_OK);
    const char *body = "{\"n\":1,\"start\":5,\"end\":1}";
    Outer o;
    assert_int_equal(bk_json_decode(&o, m, body, strlen(body), NULL, &err), BK_EVALIDATION);
    assert_int_equal(bk_error_count(err), 1);
    bk_assert_problem(err, "$.end", "custom:end_before_start");
    bk_error_free(err);
    err = NULL;
    bk_decode_options opts = BK_DECODE_OPTIONS_INIT;
    opts.skip_validation = true;
    assert_int_equal(bk_json_decode(&o, m, body, strlen(body), &opts, &err), BK_OK);
    assert_int_equal(bk_validate(m, &o, 0, &err), BK_EVALIDATION);
    assert_int_equal(bk_error_count(err), 1);
    bk_assert_problem(err, "$.end", "custom:end_before_start");
    bk_error_free(err);
    bk_clear(m, &o);
    body = "{\"n\":1,\"start\":1,\"end\":5}";
    assert_int_equal(bk_json_decode(&o, m, body, strlen(body), NULL, &err), BK_OK);
    bk_clear(m, &o);
    bk_model_unref(m);
}

/* A model validator runs on a clean object only, when decoding and in
 * bk_validate() alike: not when the object's own fields, or a model nested
 * in it, have a problem. */
typedef struct { int32_t lo; int32_t hi; } Win;
typedef struct { Win win; Span span; } Both;

static int win_ok(const void *value, bk_report *r, void *payload)
{
    int *calls = payload;
    const Win *w = value;
    (*calls)++;
    if (w->hi <= w->lo)
        bk_report_problem(r, "hi", "hi_not_above_lo", "hi must be above lo", NULL);
    return 0;
}

static int g_win_calls;

static void model_validators_run_on_clean_objects_only(void **state)
{
    (void)state;
    static const bk_field WIN_FIELDS[] = {
        BK_FIELD(Win, lo, BK_I32, BK_MIN(0)),
        BK_FIELD(Win, hi, BK_I32),
    };
    static const bk_model_def WIN_DEF = BK_MODEL_DEF(Win, WIN_FIELDS,
        .validate = win_ok, .validate_payload = &g_win_calls, .validate_name = "win_ok");
    static const bk_field BOTH_FIELDS[] = {
        BK_NESTED(Both, win, Win, &WIN_DEF),
        BK_NESTED(Both, span, Span, &SPAN_DEF),
    };
    static const bk_model_def BOTH_DEF = BK_MODEL_DEF(Both, BOTH_FIELDS);
    bk_model *m = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_model_new(&m, &BOTH_DEF, &err), BK_OK);
    static const struct { const char *body; const char *path, *code; int calls; } cases[] = {
        /* lo below its minimum: win's validator is not run (hi <= lo not reported);
         * span is clean, so its validator runs and reports */
        { "{\"win\":{\"lo\":-1,\"hi\":-5},\"span\":{\"start\":5,\"end\":1}}",
          "$.win.lo", "below_min", 0 },
        /* win clean: its validator runs */
        { "{\"win\":{\"lo\":3,\"hi\":1},\"span\":{\"start\":1,\"end\":2}}",
          "$.win.hi", "custom:hi_not_above_lo", 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *body = cases[i].body;
        Both o;
        for (int pass = 0; pass < 2; pass++) {
            g_win_calls = 0;
            if (pass == 0) {
                assert_int_equal(bk_json_decode(&o, m, body, strlen(body), NULL, &err),
                    BK_EVALIDATION);
            } else {
                bk_decode_options opts = BK_DECODE_OPTIONS_INIT;
                opts.skip_validation = true;
                assert_int_equal(bk_json_decode(&o, m, body, strlen(body), &opts, &err), BK_OK);
                assert_int_equal(bk_validate(m, &o, 0, &err), BK_EVALIDATION);
                bk_clear(m, &o);
            }
            assert_int_equal(g_win_calls, cases[i].calls);
            bk_assert_problem(err, cases[i].path, cases[i].code);
            if (i == 0) {
                assert_int_equal(bk_error_count(err), 2);
                bk_assert_problem(err, "$.span.end", "custom:end_before_start");
            } else {
                assert_int_equal(bk_error_count(err), 1);
            }
            bk_error_free(err);
            err = NULL;
        }
    }
    bk_model_unref(m);
}

/* ---- model errors: constraints that cannot apply ------------------------------ */

typedef struct { int32_t n; char *s; bk_strs l; } Bad;

static void bad_constraints_fail_the_build(void **state)
{
    (void)state;
    struct { bk_field f; const char *needle; } cases[] = {
        { BK_FIELD(Bad, n, BK_I32, BK_MAX_LEN(3)), "min_len/max_len" },
        { BK_FIELD(Bad, s, BK_STR, BK_MIN(1)), "min/max" },
        { BK_FIELD(Bad, n, BK_I32, BK_MIN(5), BK_MAX(1)), "above max" },
        { BK_FIELD(Bad, n, BK_I32, BK_MULTIPLE_OF(0)), "positive" },
        { BK_FIELD(Bad, s, BK_STR, BK_PATTERN("(ab")), "pattern" },
        { BK_FIELD(Bad, s, BK_STR, BK_PATTERN("a\\1")), "pattern" },
        { BK_FIELD(Bad, n, BK_I32, BK_PATTERN("a")), "strings only" },
        { BK_FIELD(Bad, n, BK_I32, BK_ONE_OF("[1, \"x\"]")), "one_of value 1" },
        { BK_FIELD(Bad, n, BK_I32, BK_ONE_OF("[]")), "non-empty" },
        { BK_FIELD(Bad, n, BK_I32, BK_ONE_OF("[1,")), "one_of is not valid JSON here" },
        { BK_FIELD(Bad, n, BK_I32, BK_ONE_OF("[9223372036854775808]")), "too big integer" },
        { BK_FIELD(Bad, n, BK_I32, BK_CONST("1.5")), "const" },
        { BK_FIELD(Bad, s, BK_STR, BK_UNIQUE_ITEMS), "lists only" },
        { BK_LIST(Bad, l, BK_STR, BK_EACH(BK_MIN(1))), "min/max" },
        { BK_FIELD(Bad, s, BK_STR, BK_MESSAGES("nope", "x")), "unknown code" },
        { BK_FIELD(Bad, s, BK_STR, BK_FORMAT((bk_format)99)), "format" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bk_field fields[1] = { cases[i].f };
        bk_model_def def = BK_MODEL_DEF(Bad, fields);
        bk_model *m = NULL;
        bk_error *err = NULL;
        bk_status st = bk_model_new(&m, &def, &err);
        if (st != BK_EMODEL || !strstr(bk_error_message(err), cases[i].needle)) {
            fprintf(stderr, "case %zu: %s: %s\n", i, bk_status_name(st), bk_error_message(err));
            fail();
        }
        assert_null(m);
        bk_error_free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_valid),
        cmocka_unit_test(table_driven_cases),
        cmocka_unit_test(every_violation_is_reported_with_params),
        cmocka_unit_test(shape_and_constraint_problems_are_reported_together),
        cmocka_unit_test(internal_errors_do_not_leak_details),
        cmocka_unit_test(validation_can_be_skipped_and_run_on_demand),
        cmocka_unit_test(bad_constraints_fail_the_build),
        cmocka_unit_test(fast_and_full_checks_agree_at_the_boundaries),
        cmocka_unit_test(fast_and_full_checks_agree_on_random_values),
        cmocka_unit_test(flattened_model_validators_run_inline),
        cmocka_unit_test(model_validators_run_on_clean_objects_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
