/*
 * test_json.c - the JSON codec: every kind, the serde attributes, unions,
 * errors with paths and codes, limits, streams, records, DOM conversion.
 */
#include "test_util.h"
#include "test_models.h"
#include <math.h>
#include <unistd.h>
#include <pthread.h>

static bk_model *build(const bk_model_def *def)
{
    bk_model *m = NULL;
    bk_error *err = NULL;
    bk_status st = bk_model_new(&m, def, &err);
    if (st != BK_OK)
        fprintf(stderr, "build failed: %s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    return m;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            return false;
    return true;
}

static const char USER_JSON[] =
    "{\"id\":42,\"name\":\"Zo\\u00eb \\\"Z\\\" \xe6\x97\xa5\",\"email\":\"zoe@example.com\",\"age\":31,"
    "\"active\":false,\"score\":73.25,\"tags\":[\"a\",\"b\\n\"],"
    "\"address\":{\"street\":\"1 Main\",\"city\":\"Paris\",\"zip\":\"75001\"},"
    "\"created_at\":\"2024-03-01T12:30:00.5+02:00\",\"role\":\"admin\",\"nickname\":null}";

static void decode_user_fills_every_field(void **state)
{
    (void)state;
    bk_model *m = build(&USER_DEF);
    User u;
    bk_error *err = NULL;
    assert_int_equal(bk_json_decode(&u, m, USER_JSON, strlen(USER_JSON), NULL, &err), BK_OK);
    assert_int_equal(u.id, 42);
    assert_string_equal(u.name, "Zo\xc3\xab \"Z\" \xe6\x97\xa5");
    assert_string_equal(u.email, "zoe@example.com");
    assert_int_equal(u.age, 31);
    assert_false(u.active);
    assert_true(u.score == 73.25);
    assert_int_equal(u.tags.len, 2);
    assert_string_equal(u.tags.items[1], "b\n");
    assert_string_equal(u.address.city, "Paris");
    /* 2024-03-01T10:30:00.5Z */
    assert_int_equal(u.created_at, 1709289000500000LL);
    assert_int_equal(u.role, ROLE_ADMIN);
    assert_int_equal(u.nickname_p, BK_NULL);
    assert_null(u.nickname);

    char *out = NULL;
    size_t len = 0;
    assert_int_equal(bk_json_encode(&out, &len, m, &u, NULL, &err), BK_OK);
    assert_string_equal(out,
        "{\"id\":42,\"name\":\"Zo\xc3\xab \\\"Z\\\" \xe6\x97\xa5\",\"email\":\"zoe@example.com\","
        "\"age\":31,\"active\":false,\"score\":73.25,\"tags\":[\"a\",\"b\\n\"],"
        "\"address\":{\"street\":\"1 Main\",\"city\":\"Paris\",\"zip\":\"75001\"},"
        "\"created_at\":\"2024-03-01T10:30:00.500Z\",\"role\":\"admin\",\"nickname\":null}");
    assert_int_equal(len, strlen(out));
    /* encode -> decode -> encode is a fixed point */
    User u2;
    assert_int_equal(bk_json_decode(&u2, m, out, len, NULL, &err), BK_OK);
    char *out2 = NULL;
    assert_int_equal(bk_json_encode(&out2, NULL, m, &u2, NULL, &err), BK_OK);
    assert_string_equal(out, out2);
    bk_free(out);
    bk_free(out2);
    bk_clear(m, &u);
    bk_clear(m, &u2);
    assert_true(all_zero(&u, sizeof(u)));
    bk_model_unref(m);
}

static void defaults_apply_when_absent(void **state)
{
    (void)state;
    bk_model *m = build(&USER_DEF);
    const char *j = "{\"id\":1,\"name\":\"a\",\"email\":\"e\",\"age\":1,"
        "\"address\":{\"street\":\"s\",\"city\":\"c\",\"zip\":\"z\"},\"created_at\":\"1970-01-01T00:00:00Z\"}";
    User u;
    assert_int_equal(bk_json_decode(&u, m, j, strlen(j), NULL, NULL), BK_OK);
    assert_true(u.active);              /* default_json "true" */
    assert_true(u.score == 0.0);        /* default_zero */
    assert_int_equal(u.tags.len, 0);    /* default [] */
    assert_int_equal(u.role, ROLE_MEMBER);
    assert_int_equal(u.nickname_p, BK_ABSENT);
    assert_int_equal(u.created_at, 0);
    char *out = NULL;
    assert_int_equal(bk_json_encode(&out, NULL, m, &u, NULL, NULL), BK_OK);
    /* absent optional is left out */
    assert_null(strstr(out, "nickname"));
    bk_free(out);
    bk_clear(m, &u);
    bk_model_unref(m);
}

static void data_driven_decode_cases(void **state)
{
    (void)state;
    bk_model *m = build(&USER_DEF);
    size_t len;
    char *text = bk_test_read("decode_cases.jsonl", &len);
    assert_non_null(text);
    int cases = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *c = json_loads(line, 0, &je);
        assert_non_null(c);
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *input = json_string_value(json_object_get(c, "input"));
        size_t input_len = json_string_length(json_object_get(c, "input"));
        const char *want = json_string_value(json_object_get(c, "status"));
        User u;
        memset(&u, 0x5a, sizeof(u));
        bk_error *err = NULL;
        bk_status st = bk_json_decode(&u, m, input, input_len, NULL, &err);
        if (strcmp(bk_status_name(st), want) != 0) {
            fprintf(stderr, "case '%s': got %s (%s), want %s\n", name, bk_status_name(st),
                bk_error_message(err), want);
            fail();
        }
        json_t *probs = json_object_get(c, "problems");
        if (st != BK_OK) {
            assert_int_equal(bk_error_code(err), st);
            assert_true(all_zero(&u, sizeof(u)));  /* failed decode leaves it cleared */
            if (bk_error_count(err) != json_array_size(probs)) {
                fprintf(stderr, "case '%s': %zu problems, want %zu: %s\n", name,
                    bk_error_count(err), json_array_size(probs), bk_error_message(err));
                for (size_t i = 0; i < bk_error_count(err); i++)
                    fprintf(stderr, "  %s %s\n", bk_error_path(err, i), bk_error_problem_code(err, i));
                fail();
            }
            for (size_t i = 0; i < json_array_size(probs); i++) {
                json_t *p = json_array_get(probs, i);
                assert_string_equal(bk_error_path(err, i), json_string_value(json_array_get(p, 0)));
                assert_string_equal(bk_error_problem_code(err, i), json_string_value(json_array_get(p, 1)));
            }
        } else {
            bk_clear(m, &u);
        }
        bk_error_free(err);
        json_decref(c);
        cases++;
    }
    assert_true(cases >= 25);
    free(text);
    bk_model_unref(m);
}

static void syntax_error_has_line_and_column(void **state)
{
    (void)state;
    bk_model *m = build(&USER_DEF);
    const char *j = "{\n  \"id\": 1,\n  \"name\": tru\n}";
    User u;
    bk_error *err = NULL;
    assert_int_equal(bk_json_decode(&u, m, j, strlen(j), NULL, &err), BK_ESYNTAX);
    size_t off, line, col;
    assert_int_equal(bk_error_location(err, 0, &off, &line, &col), BK_OK);
    assert_int_equal(line, 3);
    assert_int_equal(col, 11);
    assert_int_equal(off, 23);
    assert_string_equal(bk_error_path(err, 0), "$.name");
    assert_int_equal(bk_error_http_status(err), 400);
    bk_error_free(err);
    bk_model_unref(m);
}

static void invalid_utf8_is_rejected(void **state)
{
    (void)state;
    bk_model *m = build(&ADDRESS_DEF);
    const char *bad[] = {
        "{\"street\":\"\xc0\xaf\",\"city\":\"c\",\"zip\":\"z\"}",        /* overlong */
        "{\"street\":\"\xed\xa0\x80\",\"city\":\"c\",\"zip\":\"z\"}",    /* surrogate */
        "{\"street\":\"\xf4\x90\x80\x80\",\"city\":\"c\",\"zip\":\"z\"}", /* > U+10FFFF */
        "{\"street\":\"a\xe6\x97\",\"city\":\"c\",\"zip\":\"z\"}",        /* truncated */
        "{\"street\":\"\x80\",\"city\":\"c\",\"zip\":\"z\"}",            /* stray continuation */
        "{\"street\":\"\\udc00\",\"city\":\"c\",\"zip\":\"z\"}",         /* lone low surrogate */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        Address a;
        bk_error *err = NULL;
        assert_int_equal(bk_json_decode(&a, m, bad[i], strlen(bad[i]), NULL, &err), BK_EDECODE);
        bk_assert_problem(err, "$.street", "invalid_utf8");
        bk_error_free(err);
    }
    /* the string is reported, and decoding goes on to the next problem */
    {
        const char *two = "{\"street\":\"a\xff\xfe\",\"city\":5,\"zip\":\"z\"}";
        Address b;
        bk_error *e2 = NULL;
        assert_int_equal(bk_json_decode(&b, m, two, strlen(two), NULL, &e2), BK_EDECODE);
        assert_int_equal(bk_error_count(e2), 2);
        bk_assert_problem(e2, "$.street", "invalid_utf8");
        bk_assert_problem(e2, "$.city", "type");
        bk_error_free(e2);
    }
    /* a valid surrogate pair decodes to the 4-byte sequence */
    const char *ok = "{\"street\":\"\\ud83d\\ude00\",\"city\":\"c\",\"zip\":\"z\"}";
    Address a;
    assert_int_equal(bk_json_decode(&a, m, ok, strlen(ok), NULL, NULL), BK_OK);
    assert_string_equal(a.street, "\xf0\x9f\x98\x80");
    bk_clear(m, &a);
    /* invalid UTF-8 in a struct is refused by the encoder, with the path */
    Address w = { (char *)"ok", (char *)"\xff", (char *)"z" };
    bk_error *err = NULL;
    char *out = NULL;
    assert_int_equal(bk_json_encode(&out, NULL, m, &w, NULL, &err), BK_EDECODE);
    assert_null(out);
    bk_assert_problem(err, "$.city", "invalid_utf8");
    bk_error_free(err);
    bk_model_unref(m);
}

/* ---- every kind ---------------------------------------------------------- */

typedef struct {
    bool b;
    int8_t i8; int16_t i16; int32_t i32; int64_t i64;
    uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
    float f32; double f64;
    char *s;
    bk_bytes by;
    int64_t ts;
    int32_t day;
    bk_uuid id;
    int e;
    Address *ptr;
    bk_list addrs;
    bk_i64s nums;
    bk_map counts;
    bk_list matrix;
    json_t *raw;
    int32_t opt;
    bk_presence opt_p;
} Kinds;

static const bk_type_def I32_LIST = { .kind = BK_LIST, .elem_kind = BK_I32 };
static const bk_field KINDS_FIELDS[] = {
    BK_FIELD(Kinds, b, BK_BOOL),
    BK_FIELD(Kinds, i8, BK_I8), BK_FIELD(Kinds, i16, BK_I16),
    BK_FIELD(Kinds, i32, BK_I32), BK_FIELD(Kinds, i64, BK_I64),
    BK_FIELD(Kinds, u8, BK_U8), BK_FIELD(Kinds, u16, BK_U16),
    BK_FIELD(Kinds, u32, BK_U32), BK_FIELD(Kinds, u64, BK_U64),
    BK_FIELD(Kinds, f32, BK_F32), BK_FIELD(Kinds, f64, BK_F64),
    BK_FIELD(Kinds, s, BK_STR),
    BK_FIELD(Kinds, by, BK_BYTES),
    BK_FIELD(Kinds, ts, BK_TIMESTAMP),
    BK_FIELD(Kinds, day, BK_DATE),
    BK_FIELD(Kinds, id, BK_UUID),
    BK_ENUM(Kinds, e, ROLES),
    BK_NESTED_PTR(Kinds, ptr, Address, &ADDRESS_DEF),
    BK_LIST_MODEL(Kinds, addrs, &ADDRESS_DEF),
    BK_LIST(Kinds, nums, BK_I64),
    BK_MAP(Kinds, counts, BK_I32),
    BK_LIST_OF(Kinds, matrix, &I32_LIST),
    BK_FIELD(Kinds, raw, BK_JSON),
    BK_FIELD(Kinds, opt, BK_I32, BK_PRESENCE(Kinds, opt_p)),
};
static const bk_model_def KINDS_DEF = BK_MODEL_DEF(Kinds, KINDS_FIELDS);

static const char KINDS_JSON[] =
    "{\"b\":true,\"i8\":-128,\"i16\":32767,\"i32\":-2147483648,\"i64\":-9223372036854775808,"
    "\"u8\":255,\"u16\":65535,\"u32\":4294967295,\"u64\":18446744073709551615,"
    "\"f32\":1.5,\"f64\":-0.1,\"s\":\"x\",\"by\":\"AAEC/w==\",\"ts\":\"1969-12-31T23:59:59.999999Z\","
    "\"day\":\"2000-02-29\",\"id\":\"0123abcd-4567-89ef-0123-456789abcdef\",\"e\":\"guest\","
    "\"ptr\":{\"street\":\"s\",\"city\":\"c\",\"zip\":\"z\"},"
    "\"addrs\":[{\"street\":\"a\",\"city\":\"b\",\"zip\":\"c\"}],\"nums\":[1,-2,3],"
    "\"counts\":{\"x\":1,\"y\":2},\"matrix\":[[1,2],[],[3]],\"raw\":{\"any\":[1,\"two\",null]},\"opt\":7}";

static void every_kind_round_trips(void **state)
{
    (void)state;
    bk_model *m = build(&KINDS_DEF);
    Kinds k;
    bk_error *err = NULL;
    bk_status st = bk_json_decode(&k, m, KINDS_JSON, strlen(KINDS_JSON), NULL, &err);
    if (st != BK_OK)
        fprintf(stderr, "%s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    assert_true(k.b);
    assert_int_equal(k.i8, -128);
    assert_int_equal(k.i16, 32767);
    assert_int_equal(k.i32, INT32_MIN);
    assert_true(k.i64 == INT64_MIN);
    assert_int_equal(k.u8, 255);
    assert_true(k.u64 == UINT64_MAX);
    assert_true(k.f32 == 1.5f);
    assert_true(k.f64 == -0.1);
    assert_int_equal(k.by.len, 4);
    assert_int_equal(k.by.data[3], 0xff);
    assert_int_equal(k.ts, -1);
    assert_int_equal(k.day, 11016);
    assert_int_equal(k.id.bytes[0], 0x01);
    assert_int_equal(k.id.bytes[15], 0xef);
    assert_int_equal(k.e, 2);
    assert_non_null(k.ptr);
    assert_string_equal(k.ptr->zip, "z");
    assert_int_equal(k.addrs.len, 1);
    assert_string_equal(((Address *)k.addrs.items)[0].city, "b");
    assert_int_equal(k.nums.len, 3);
    assert_int_equal(k.nums.items[1], -2);
    assert_int_equal(k.counts.len, 2);
    assert_string_equal(k.counts.keys[1], "y");
    assert_int_equal(((int32_t *)k.counts.values)[1], 2);
    assert_int_equal(k.matrix.len, 3);
    assert_int_equal(((bk_i32s *)k.matrix.items)[2].items[0], 3);
    assert_true(json_is_object(k.raw));
    assert_int_equal(k.opt_p, BK_PRESENT);
    assert_int_equal(k.opt, 7);
    char *out = NULL;
    assert_int_equal(bk_json_encode(&out, NULL, m, &k, NULL, &err), BK_OK);
    assert_string_equal(out,
        "{\"b\":true,\"i8\":-128,\"i16\":32767,\"i32\":-2147483648,\"i64\":-9223372036854775808,"
        "\"u8\":255,\"u16\":65535,\"u32\":4294967295,\"u64\":18446744073709551615,"
        "\"f32\":1.5,\"f64\":-0.1,\"s\":\"x\",\"by\":\"AAEC/w==\",\"ts\":\"1969-12-31T23:59:59.999999Z\","
        "\"day\":\"2000-02-29\",\"id\":\"0123abcd-4567-89ef-0123-456789abcdef\",\"e\":\"guest\","
        "\"ptr\":{\"street\":\"s\",\"city\":\"c\",\"zip\":\"z\"},"
        "\"addrs\":[{\"street\":\"a\",\"city\":\"b\",\"zip\":\"c\"}],\"nums\":[1,-2,3],"
        "\"counts\":{\"x\":1,\"y\":2},\"matrix\":[[1,2],[],[3]],\"raw\":{\"any\":[1,\"two\",null]},\"opt\":7}");
    bk_free(out);

    /* pretty output re-decodes to the same struct */
    bk_encode_options eo = BK_ENCODE_OPTIONS_INIT;
    eo.indent = 2;
    assert_int_equal(bk_json_encode(&out, NULL, m, &k, &eo, &err), BK_OK);
    assert_non_null(strstr(out, "{\n  \"b\": true,\n  \"i8\": -128,"));
    Kinds k2;
    assert_int_equal(bk_json_decode(&k2, m, out, strlen(out), NULL, &err), BK_OK);
    assert_int_equal(k2.matrix.len, 3);
    bk_free(out);
    bk_clear(m, &k2);

    /* DOM conversions: jansson's integers stop at INT64_MAX */
    json_t *v = NULL;
    assert_int_equal(bk_json_to_value(&v, m, &k, &err), BK_EDECODE);
    bk_assert_problem(err, "$", "out_of_range");
    bk_error_free(err);
    assert_null(v);
    k.u64 = 7;
    assert_int_equal(bk_json_to_value(&v, m, &k, &err), BK_OK);
    assert_int_equal(json_integer_value(json_object_get(v, "u32")), 4294967295LL);
    Kinds k3;
    assert_int_equal(bk_json_from_value(&k3, m, v, NULL, &err), BK_OK);
    assert_string_equal(k3.ptr->street, "s");
    json_object_set_new(v, "u8", json_integer(256));
    Kinds k4;
    assert_int_equal(bk_json_from_value(&k4, m, v, NULL, &err), BK_EDECODE);
    bk_assert_problem(err, "$.u8", "out_of_range");
    bk_error_free(err);
    json_decref(v);
    bk_clear(m, &k3);
    bk_clear(m, &k);
    bk_model_unref(m);
}

static void f32_extremes_round_trip(void **state)
{
    (void)state;
    bk_model *m = build(&KINDS_DEF);
    Kinds k;
    memset(&k, 0, sizeof(k));
    k.f32 = 3.40282347e38f; /* FLT_MAX */
    char *out = NULL;
    assert_int_equal(bk_json_encode(&out, NULL, m, &k, NULL, NULL), BK_OK);
    assert_non_null(strstr(out, "\"f32\":3.4028235e38"));
    Kinds k2;
    assert_int_equal(bk_json_decode(&k2, m, out, strlen(out), &(bk_decode_options)BK_DECODE_OPTIONS_INIT,
        NULL), BK_EDECODE); /* other fields are missing: decode only f32 below */
    bk_free(out);
    bk_error *err = NULL;
    const char *j = "{\"f32\":3.4028235e38}";
    assert_int_equal(bk_json_decode(&k2, m, j, strlen(j), NULL, &err), BK_EDECODE);
    for (size_t i = 0; i < bk_error_count(err); i++)
        assert_string_not_equal(bk_error_path(err, i), "$.f32");
    bk_error_free(err);
    j = "{\"f32\":3.4028236e38}"; /* rounds past FLT_MAX */
    assert_int_equal(bk_json_decode(&k2, m, j, strlen(j), NULL, &err), BK_EDECODE);
    bk_assert_problem(err, "$.f32", "out_of_range");
    bk_error_free(err);
    bk_model_unref(m);
}

static void integers_are_range_checked_never_truncated(void **state)
{
    (void)state;
    bk_model *m = build(&KINDS_DEF);
    struct { const char *field, *value; } cases[] = {
        { "i8", "128" }, { "i8", "-129" }, { "i16", "32768" }, { "i32", "2147483648" },
        { "i64", "9223372036854775808" }, { "i64", "-9223372036854775809" },
        { "u8", "256" }, { "u8", "-1" }, { "u16", "65536" }, { "u32", "4294967296" },
        { "u64", "18446744073709551616" }, { "u64", "-0" }, { "f32", "1e39" }, { "f64", "1e309" },
        { "i32", "99999999999999999999999" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char doc[256], path[64];
        snprintf(doc, sizeof(doc), "{\"%s\":%s}", cases[i].field, cases[i].value);
        snprintf(path, sizeof(path), "$.%s", cases[i].field);
        Kinds k;
        bk_error *err = NULL;
        assert_int_equal(bk_json_decode(&k, m, doc, strlen(doc), NULL, &err), BK_EDECODE);
        if (strcmp(cases[i].value, "-0") == 0) {
            /* -0 is zero: fine for u64; only the missing fields are reported */
            bk_error_free(err);
            continue;
        }
        bk_assert_problem(err, path, "out_of_range");
        bk_error_free(err);
    }
    bk_model_unref(m);
}

static void encode_failure_rolls_back_the_buffer(void **state)
{
    (void)state;
    bk_model *m = build(&KINDS_DEF);
    Kinds k;
    memset(&k, 0, sizeof(k));
    k.s = (char *)"s";
    k.f64 = NAN;
    bk_error *err = NULL;
    bk_buf b = BK_BUF_INIT;
    assert_int_equal(bk_json_encode_buf(&b, m, &k, NULL, &err), BK_EDECODE);
    bk_assert_problem(err, "$.f64", "out_of_range");
    assert_int_equal(b.len, 0);
    bk_error_free(err);
    k.f64 = 1;
    k.e = 9; /* enum index out of range */
    assert_int_equal(bk_json_encode_buf(&b, m, &k, NULL, &err), BK_EDECODE);
    bk_assert_problem(err, "$.e", "invalid_value");
    bk_error_free(err);
    k.e = 0;
    /* appending keeps what was there */
    assert_int_equal(bk_json_encode_buf(&b, m, &k, NULL, NULL), BK_OK);
    size_t one = b.len;
    assert_int_equal(bk_json_encode_buf(&b, m, &k, NULL, NULL), BK_OK);
    assert_int_equal(b.len, 2 * one);
    assert_int_equal(strlen(b.ptr), b.len);
    bk_buf_dispose(&b);
    bk_model_unref(m);
}

/* ---- attributes ------------------------------------------------------------- */

typedef struct {
    int32_t user_id;
    char *display_name;
    char *secret;
    bk_strs labels;
    int32_t level;
    char *note;
    bk_presence note_p;
} Attrs;

static const char *const NAME_ALIASES[] = { "name", "userName", NULL };
static const bk_field ATTRS_FIELDS[] = {
    BK_FIELD(Attrs, user_id, BK_I32),
    BK_FIELD(Attrs, display_name, BK_STR, .aliases = NAME_ALIASES),
    BK_FIELD(Attrs, secret, BK_STR, .skip = true),
    BK_LIST(Attrs, labels, BK_STR, .default_json = "[]", .skip_if = BK_SKIP_IF_EMPTY),
    BK_FIELD(Attrs, level, BK_I32, .default_json = "3", .skip_if = BK_SKIP_IF_DEFAULT),
    BK_FIELD(Attrs, note, BK_STR, .rename = "Remark", BK_PRESENCE(Attrs, note_p),
             .skip_if = BK_SKIP_IF_ABSENT),
};

static void rename_all_alias_skip_and_skip_if(void **state)
{
    (void)state;
    static const bk_model_def def = BK_MODEL_DEF(Attrs, ATTRS_FIELDS,
        .rename_all = BK_CASE_CAMEL, .deny_unknown = true);
    bk_model *m = build(&def);
    assert_string_equal(bk_model_field_json_name(m, 0), "userId");
    assert_string_equal(bk_model_field_json_name(m, 5), "Remark");
    Attrs a;
    bk_error *err = NULL;
    const char *j = "{\"userId\":1,\"userName\":\"n\",\"Remark\":null}";
    assert_int_equal(bk_json_decode(&a, m, j, strlen(j), NULL, &err), BK_OK);
    assert_string_equal(a.display_name, "n");
    assert_int_equal(a.level, 3);
    assert_int_equal(a.note_p, BK_NULL);
    char *out = NULL;
    assert_int_equal(bk_json_encode(&out, NULL, m, &a, NULL, &err), BK_OK);
    /* labels empty -> skipped; level == default -> skipped; note null -> skipped */
    assert_string_equal(out, "{\"userId\":1,\"displayName\":\"n\"}");
    bk_free(out);
    a.level = 4;
    assert_int_equal(bk_json_encode(&out, NULL, m, &a, NULL, &err), BK_OK);
    assert_string_equal(out, "{\"userId\":1,\"displayName\":\"n\",\"level\":4}");
    bk_free(out);
    bk_clear(m, &a);
    /* the skipped field is unknown in JSON, so deny_unknown refuses it */
    j = "{\"userId\":1,\"displayName\":\"n\",\"secret\":\"s\",\"user_id\":2}";
    assert_int_equal(bk_json_decode(&a, m, j, strlen(j), NULL, &err), BK_EDECODE);
    bk_assert_problem(err, "$.secret", "unknown_field");
    bk_assert_problem(err, "$.user_id", "unknown_field");
    bk_error_free(err);
    /* an alias and the name together are a duplicate */
    j = "{\"userId\":1,\"displayName\":\"n\",\"name\":\"m\"}";
    assert_int_equal(bk_json_decode(&a, m, j, strlen(j), NULL, &err), BK_EDECODE);
    bk_assert_problem(err, "$.name", "duplicate_key");
    bk_error_free(err);
    bk_model_unref(m);
}

typedef struct { char *city; char *zip; } Place;
typedef struct { int64_t id; Place place; char *name; } Located;
static const bk_field PLACE_FIELDS[] = { BK_FIELD(Place, city, BK_STR), BK_FIELD(Place, zip, BK_STR) };
static const bk_model_def PLACE_DEF = BK_MODEL_DEF(Place, PLACE_FIELDS);
static const bk_field LOCATED_FIELDS[] = {
    BK_FIELD(Located, id, BK_I64),
    BK_NESTED(Located, place, Place, &PLACE_DEF, .flatten = true),
    BK_FIELD(Located, name, BK_STR),
};

static void flatten_works_with_deny_unknown(void **state)
{
    (void)state;
    static const bk_model_def def = BK_MODEL_DEF(Located, LOCATED_FIELDS, .deny_unknown = true);
    bk_model *m = build(&def);
    Located l;
    bk_error *err = NULL;
    const char *j = "{\"zip\":\"75001\",\"id\":5,\"city\":\"Paris\",\"name\":\"n\"}";
    assert_int_equal(bk_json_decode(&l, m, j, strlen(j), NULL, &err), BK_OK);
    assert_string_equal(l.place.city, "Paris");
    assert_string_equal(l.place.zip, "75001");
    char *out = NULL;
    assert_int_equal(bk_json_encode(&out, NULL, m, &l, NULL, &err), BK_OK);
    assert_string_equal(out, "{\"id\":5,\"city\":\"Paris\",\"zip\":\"75001\",\"name\":\"n\"}");
    bk_free(out);
    bk_clear(m, &l);
    j = "{\"id\":5,\"city\":\"Paris\",\"zip\":\"1\",\"name\":\"n\",\"country\":\"FR\",\"place\":{}}";
    assert_int_equal(bk_json_decode(&l, m, j, strlen(j), NULL, &err), BK_EDECODE);
    assert_int_equal(bk_error_count(err), 2);
    bk_assert_problem(err, "$.country", "unknown_field");
    bk_assert_problem(err, "$.place", "unknown_field");
    bk_error_free(err);
    j = "{\"id\":5,\"city\":\"Paris\",\"name\":\"n\"}";
    assert_int_equal(bk_json_decode(&l, m, j, strlen(j), NULL, &err), BK_EDECODE);
    bk_assert_problem(err, "$.zip", "missing");
    bk_error_free(err);
    bk_model_unref(m);
}

/* ---- unions ------------------------------------------------------------------ */

typedef struct { double radius; } Circle;
typedef struct { double w, h; } Rect;
typedef struct { int kind; union { Circle circle; Rect rect; } u; } Shape;
static const bk_field CIRCLE_FIELDS[] = { BK_FIELD(Circle, radius, BK_F64) };
static const bk_model_def CIRCLE_DEF = BK_MODEL_DEF(Circle, CIRCLE_FIELDS, .deny_unknown = true);
static const bk_field RECT_FIELDS[] = { BK_FIELD(Rect, w, BK_F64), BK_FIELD(Rect, h, BK_F64) };
static const bk_model_def RECT_DEF = BK_MODEL_DEF(Rect, RECT_FIELDS, .deny_unknown = true);
static const bk_type_def CIRCLE_T = { .kind = BK_MODEL, .model = &CIRCLE_DEF };
static const bk_type_def RECT_T = { .kind = BK_MODEL, .model = &RECT_DEF };
static const bk_variant SHAPE_VARIANTS[] = {
    BK_VARIANT(Shape, u.circle, "circle", &CIRCLE_T),
    BK_VARIANT(Shape, u.rect, "rect", &RECT_T),
    BK_VARIANT_UNIT("empty"),
};
typedef struct { Shape shape; } Drawing;

static void check_union(bk_tagging tagging, const char *circle, const char *rect,
    const char *empty, const char *bad, const char *bad_path, const char *bad_code)
{
    bk_union_def ud = BK_UNION_DEF(Shape, kind, SHAPE_VARIANTS, .tagging = tagging, .tag = "t",
        .content = "c");
    bk_field fields[] = { BK_UNION(Drawing, shape, &ud) };
    bk_model_def def = BK_MODEL_DEF(Drawing, fields);
    bk_model *m = build(&def);
    const char *docs[] = { circle, rect, empty };
    for (int i = 0; i < 3; i++) {
        char doc[256];
        snprintf(doc, sizeof(doc), "{\"shape\":%s}", docs[i]);
        Drawing d;
        bk_error *err = NULL;
        bk_status st = bk_json_decode(&d, m, doc, strlen(doc), NULL, &err);
        if (st != BK_OK)
            fprintf(stderr, "%s: %s\n", doc, bk_error_message(err));
        assert_int_equal(st, BK_OK);
        assert_int_equal(d.shape.kind, i);
        if (i == 0)
            assert_true(d.shape.u.circle.radius == 1.5);
        if (i == 1)
            assert_true(d.shape.u.rect.h == 3.0);
        char *out = NULL;
        assert_int_equal(bk_json_encode(&out, NULL, m, &d, NULL, &err), BK_OK);
        assert_string_equal(out, doc);
        bk_free(out);
        bk_clear(m, &d);
    }
    char doc[256];
    snprintf(doc, sizeof(doc), "{\"shape\":%s}", bad);
    Drawing d;
    bk_error *err = NULL;
    assert_int_equal(bk_json_decode(&d, m, doc, strlen(doc), NULL, &err), BK_EDECODE);
    bk_assert_problem(err, bad_path, bad_code);
    bk_error_free(err);
    bk_model_unref(m);
}

static void unions_in_four_representations(void **state)
{
    (void)state;
    check_union(BK_TAG_EXTERNAL, "{\"circle\":{\"radius\":1.5}}", "{\"rect\":{\"w\":2.0,\"h\":3.0}}",
        "\"empty\"", "{\"hexagon\":{}}", "$.shape.hexagon", "unknown_variant");
    check_union(BK_TAG_INTERNAL, "{\"t\":\"circle\",\"radius\":1.5}",
        "{\"t\":\"rect\",\"w\":2.0,\"h\":3.0}", "{\"t\":\"empty\"}",
        "{\"radius\":1.5}", "$.shape.t", "missing");
    check_union(BK_TAG_ADJACENT, "{\"t\":\"circle\",\"c\":{\"radius\":1.5}}",
        "{\"t\":\"rect\",\"c\":{\"w\":2.0,\"h\":3.0}}", "{\"t\":\"empty\"}",
        "{\"t\":\"rect\",\"c\":{\"w\":\"x\",\"h\":1}}", "$.shape.c.w", "type");
    check_union(BK_UNTAGGED, "{\"radius\":1.5}", "{\"w\":2.0,\"h\":3.0}", "null",
        "{\"side\":1}", "$.shape", "unknown_variant");
    /* internal tag after the payload fields is found too */
    check_union(BK_TAG_INTERNAL, "{\"t\":\"circle\",\"radius\":1.5}",
        "{\"t\":\"rect\",\"w\":2.0,\"h\":3.0}", "{\"t\":\"empty\"}",
        "{\"radius\":1.5,\"t\":\"rect\"}", "$.shape.w", "missing");
}

/* ---- limits and caps ---------------------------------------------------------- */

static void limits_are_enforced(void **state)
{
    (void)state;
    bk_model *m = build(&KINDS_DEF);
    Kinds k;
    bk_error *err = NULL;
    bk_decode_options o;
    assert_int_equal(bk_decode_options_init(&o), BK_OK);
    o.max_depth = 3;
    const char *deep = "{\"raw\":[[[[1]]]]}";
    assert_int_equal(bk_json_decode(&k, m, deep, strlen(deep), &o, &err), BK_ELIMIT);
    bk_assert_problem(err, "$.raw", "too_deep");
    bk_error_free(err);

    bk_decode_options_init(&o);
    o.max_string = 4;
    const char *longs = "{\"s\":\"abcde\",\"by\":\"AAAAAAAA\"}";
    assert_int_equal(bk_json_decode(&k, m, longs, strlen(longs), &o, &err), BK_ELIMIT);
    bk_assert_problem(err, "$.s", "too_long");
    bk_assert_problem(err, "$.by", "too_long");
    bk_error_free(err);

    bk_decode_options_init(&o);
    o.max_size = 10;
    assert_int_equal(bk_json_decode(&k, m, longs, strlen(longs), &o, &err), BK_ELIMIT);
    bk_assert_problem(err, "$", "too_large");
    bk_error_free(err);

    /* a hostile document with thousands of problems stops at the cap */
    bk_decode_options_init(&o);
    o.max_errors = 5;
    char big[20000];
    size_t n = (size_t)snprintf(big, sizeof(big), "{\"nums\":[");
    for (int i = 0; i < 2000; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"x\"", i ? "," : "");
    snprintf(big + n, sizeof(big) - n, "]}");
    assert_int_equal(bk_json_decode(&k, m, big, strlen(big), &o, &err), BK_EDECODE);
    assert_int_equal(bk_error_count(err), 5);
    assert_true(bk_error_truncated(err));
    assert_string_equal(bk_error_path(err, 4), "$.nums[4]");
    bk_error_free(err);

    /* duplicates may be allowed: the last one wins */
    bk_decode_options_init(&o);
    o.allow_duplicate_keys = true;
    const char *dup = "{\"s\":\"a\",\"s\":\"b\",\"counts\":{\"k\":1,\"k\":2}}";
    assert_int_equal(bk_json_decode(&k, m, dup, strlen(dup), NULL, &err), BK_EDECODE);
    bk_assert_problem(err, "$.s", "duplicate_key");
    bk_assert_problem(err, "$.counts.k", "duplicate_key");
    bk_error_free(err);
    bk_decode_options_init(&o);
    o.allow_duplicate_keys = true;
    bk_model_unref(m);

    bk_model *am = build(&ADDRESS_DEF);
    Address a;
    const char *dup2 = "{\"street\":\"a\",\"street\":\"b\",\"city\":\"c\",\"zip\":\"z\"}";
    assert_int_equal(bk_json_decode(&a, am, dup2, strlen(dup2), &o, &err), BK_OK);
    assert_string_equal(a.street, "b");
    bk_clear(am, &a);
    bk_model_unref(am);
}

static void bad_arguments_are_errors_not_crashes(void **state)
{
    (void)state;
    bk_model *m = build(&ADDRESS_DEF);
    Address a;
    bk_error *err = NULL;
    assert_int_equal(bk_json_decode(NULL, m, "{}", 2, NULL, &err), BK_EINVAL);
    bk_error_free(err);
    assert_int_equal(bk_json_decode(&a, NULL, "{}", 2, NULL, &err), BK_EINVAL);
    bk_error_free(err);
    int not_a_model = 7;
    assert_int_equal(bk_json_decode(&a, (const bk_model *)&not_a_model, "{}", 2, NULL, &err), BK_EMISUSE);
    bk_error_free(err);
    bk_decode_options o = BK_DECODE_OPTIONS_INIT;
    o.version = 99;
    assert_int_equal(bk_json_decode(&a, m, "{}", 2, &o, &err), BK_EINVAL);
    bk_error_free(err);
    assert_int_equal(bk_json_decode(&a, m, "{}", 2, NULL, NULL), BK_EDECODE); /* NULL err is fine */
    assert_int_equal(bk_error_code(NULL), BK_EINVAL);
    assert_string_equal(bk_error_message(NULL), "");
    bk_error_free(NULL);
    bk_model_unref(m);
}

/* ---- streams --------------------------------------------------------------------- */

static void streams_decode_one_record_at_a_time(void **state)
{
    (void)state;
    bk_model *m = build(&ADDRESS_DEF);
    const char *arr = " [ {\"street\":\"a\",\"city\":\"b\",\"zip\":\"c\"},\n"
        "{\"street\":1,\"city\":\"b\",\"zip\":\"c\"}, {\"street\":\"x\",\"city\":\"y\",\"zip\":\"z\"} ] ";
    bk_json_stream *s = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_json_stream_new_buffer(&s, m, arr, strlen(arr), BK_STREAM_AUTO, NULL, &err), BK_OK);
    Address a;
    assert_int_equal(bk_json_stream_next(s, &a, &err), BK_OK);
    assert_string_equal(a.street, "a");
    bk_clear(m, &a);
    assert_int_equal(bk_json_stream_next(s, &a, &err), BK_EDECODE);
    assert_int_equal(bk_error_record_index(err), 1);
    bk_assert_problem(err, "$.street", "type");
    bk_error_free(err);
    assert_int_equal(bk_json_stream_next(s, &a, &err), BK_OK);
    assert_string_equal(a.zip, "z");
    assert_int_equal(bk_json_stream_index(s), 2);
    bk_clear(m, &a);
    assert_int_equal(bk_json_stream_next(s, &a, &err), BK_ITEROVER);
    assert_int_equal(bk_json_stream_next(s, &a, &err), BK_ITEROVER);
    bk_json_stream_free(s);

    /* NDJSON through a pipe, in small writes */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    const char *nd = "{\"street\":\"1\",\"city\":\"b\",\"zip\":\"c\"}\n\n"
                     "{\"street\":\"2\",\"city\":\"b\",\"zip\":\"c\"}\n"
                     "not json\n"
                     "{\"street\":\"3\",\"city\":\"b\",\"zip\":\"c\"}";
    assert_int_equal(write(fds[1], nd, strlen(nd)), (ssize_t)strlen(nd));
    close(fds[1]);
    assert_int_equal(bk_json_stream_new_fd(&s, m, fds[0], BK_STREAM_NDJSON, NULL, &err), BK_OK);
    int ok = 0, bad = 0;
    for (;;) {
        bk_status st = bk_json_stream_next(s, &a, &err);
        if (st == BK_ITEROVER)
            break;
        if (st == BK_OK) {
            ok++;
            bk_clear(m, &a);
        } else {
            assert_int_equal(st, BK_ESYNTAX);
            assert_int_equal(bk_error_record_index(err), 2);
            bk_error_free(err);
            bad++;
        }
    }
    assert_int_equal(ok, 3);
    assert_int_equal(bad, 1);
    bk_json_stream_free(s);
    close(fds[0]);

    /* a large array through a FILE*, crossing many read chunks */
    FILE *f = tmpfile();
    assert_non_null(f);
    fputc('[', f);
    for (int i = 0; i < 5000; i++)
        fprintf(f, "%s{\"street\":\"%d\",\"city\":\"%0200d\",\"zip\":\"z\"}", i ? "," : "", i, i);
    fputc(']', f);
    rewind(f);
    assert_int_equal(bk_json_stream_new_file(&s, m, f, BK_STREAM_ARRAY, NULL, &err), BK_OK);
    int count = 0;
    while (bk_json_stream_next(s, &a, &err) == BK_OK) {
        char want[16];
        snprintf(want, sizeof(want), "%d", count);
        assert_string_equal(a.street, want);
        bk_clear(m, &a);
        count++;
    }
    assert_int_equal(count, 5000);
    bk_json_stream_free(s);
    fclose(f);

    /* multi-byte UTF-8, escapes and literals cut by read-chunk boundaries */
    bk_model *um = build(&USER_DEF);
    f = tmpfile();
    assert_non_null(f);
    fputc('[', f);
    for (int i = 0; i < 20000; i++)
        fprintf(f, "%s{\"id\":%d,\"name\":\"%.*s\\u00e9\xe6\x97\xa5\xf0\x9f\x98\x80\",\"email\":\"e\","
            "\"age\":%d,\"active\":%s,\"nickname\":null,\"address\":{\"street\":\"s\",\"city\":\"c\","
            "\"zip\":\"z\"},\"created_at\":\"2024-01-01T00:00:00Z\"}", i ? ",\n" : "", i,
            i % 13, "abcdefghijklm", i % 100, i % 2 ? "true" : "false");
    fputc(']', f);
    rewind(f);
    assert_int_equal(bk_json_stream_new_file(&s, um, f, BK_STREAM_ARRAY, NULL, &err), BK_OK);
    count = 0;
    User u;
    bk_status ust;
    while ((ust = bk_json_stream_next(s, &u, &err)) == BK_OK) {
        assert_int_equal(u.id, count);
        assert_int_equal(u.active, count % 2);
        assert_int_equal(u.nickname_p, BK_NULL);
        assert_int_equal(strlen(u.name), (size_t)(count % 13) + 2 + 3 + 4);
        bk_clear(um, &u);
        count++;
    }
    if (ust != BK_ITEROVER)
        fprintf(stderr, "record %d: %s\n", count, bk_error_message(err));
    assert_int_equal(ust, BK_ITEROVER);
    assert_int_equal(count, 20000);
    bk_json_stream_free(s);
    fclose(f);
    bk_model_unref(um);

    /* a broken frame ends the stream */
    const char *broken = "[{\"street\":\"a\",\"city\":\"b\",\"zip\":\"c\"} {\"street\":\"a\"}]";
    assert_int_equal(bk_json_stream_new_buffer(&s, m, broken, strlen(broken), BK_STREAM_ARRAY, NULL, &err), BK_OK);
    assert_int_equal(bk_json_stream_next(s, &a, &err), BK_OK);
    bk_clear(m, &a);
    assert_int_equal(bk_json_stream_next(s, &a, &err), BK_ESYNTAX);
    bk_error_free(err);
    assert_int_equal(bk_json_stream_next(s, &a, &err), BK_ITEROVER);
    bk_json_stream_free(s);
    const char *unterminated = "[{\"street\":\"a\",\"city\":\"b\",\"zip\":\"c\"},";
    assert_int_equal(bk_json_stream_new_buffer(&s, m, unterminated, strlen(unterminated), BK_STREAM_ARRAY, NULL, &err), BK_OK);
    assert_int_equal(bk_json_stream_next(s, &a, &err), BK_OK);
    bk_clear(m, &a);
    assert_int_equal(bk_json_stream_next(s, &a, &err), BK_ESYNTAX);
    bk_error_free(err);
    bk_json_stream_free(s);
    bk_model_unref(m);
}

/* ---- records ------------------------------------------------------------------------ */

static void records_of_c_models(void **state)
{
    (void)state;
    bk_model *m = build(&USER_DEF);
    bk_record *r = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_record_new(&r, m, &err), BK_OK);
    assert_int_equal(bk_record_decode(r, USER_JSON, strlen(USER_JSON), NULL, &err), BK_OK);
    int64_t v;
    assert_int_equal(bk_record_get_i64(&v, r, "age", &err), BK_OK);
    assert_int_equal(v, 31);
    const char *s;
    assert_int_equal(bk_record_get_str(&s, r, "role", &err), BK_OK);
    assert_string_equal(s, "admin");
    assert_int_equal(bk_record_set_str(r, "role", "guest", &err), BK_OK);
    assert_int_equal(((User *)bk_record_data(r))->role, ROLE_GUEST);
    assert_int_equal(bk_record_set_str(r, "role", "root", &err), BK_EDECODE);
    bk_assert_problem(err, "$", "invalid_value");
    bk_error_free(err);
    assert_int_equal(bk_record_set_i64(r, "age", 1LL << 40, &err), BK_EDECODE);
    bk_assert_problem(err, "$", "out_of_range");
    bk_error_free(err);
    assert_int_equal(bk_record_get_str(&s, r, "age", &err), BK_EDECODE);
    bk_assert_problem(err, "$", "type");
    bk_error_free(err);
    assert_int_equal(bk_record_get_i64(&v, r, "nope", &err), BK_ENOTFOUND);
    bk_error_free(err);
    assert_int_equal(bk_record_get_str(&s, r, "nickname", &err), BK_ENOTFOUND);
    bk_error_free(err);
    assert_int_equal(bk_record_set_str(r, "nickname", "zz", &err), BK_OK);
    bk_presence p;
    assert_int_equal(bk_record_get_presence(&p, r, "nickname", &err), BK_OK);
    assert_int_equal(p, BK_PRESENT);
    assert_int_equal(bk_record_set_str(r, "created_at", "2020-01-01T00:00:00Z", &err), BK_OK);
    assert_int_equal(bk_record_get_i64(&v, r, "created_at", &err), BK_OK);
    assert_int_equal(v, 1577836800000000LL);
    json_t *addr = NULL;
    assert_int_equal(bk_record_get_json(&addr, r, "address", &err), BK_OK);
    assert_string_equal(json_string_value(json_object_get(addr, "city")), "Paris");
    json_object_set_new(addr, "city", json_string("Lyon"));
    assert_int_equal(bk_record_set_json(r, "address", addr, &err), BK_OK);
    json_object_set_new(addr, "zip", json_integer(5));
    assert_int_equal(bk_record_set_json(r, "address", addr, &err), BK_EDECODE);
    bk_assert_problem(err, "$.zip", "type");
    bk_error_free(err);
    json_decref(addr);
    assert_string_equal(((User *)bk_record_data(r))->address.city, "Lyon");
    char *out = NULL;
    assert_int_equal(bk_record_encode(&out, NULL, r, NULL, &err), BK_OK);
    assert_non_null(strstr(out, "\"nickname\":\"zz\""));
    assert_non_null(strstr(out, "\"role\":\"guest\""));
    bk_free(out);
    assert_int_equal(bk_record_set_presence(r, "nickname", BK_ABSENT, &err), BK_OK);
    assert_int_equal(bk_record_encode(&out, NULL, r, NULL, &err), BK_OK);
    assert_null(strstr(out, "nickname"));
    bk_free(out);
    bk_record_free(r);
    bk_model_unref(m);
}

static void builder_models_decode_into_records(void **state)
{
    (void)state;
    bk_builder *b = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_builder_new(&b, &err), BK_OK);
    assert_int_equal(bk_builder_model(b, "Point", &err), BK_OK);
    assert_int_equal(bk_builder_field(b, "x", "i32", &err), BK_OK);
    assert_int_equal(bk_builder_field(b, "y", "i32", &err), BK_OK);
    assert_int_equal(bk_builder_model(b, "Path", &err), BK_OK);
    assert_int_equal(bk_builder_model_attr(b, "rename_all", "\"camelCase\"", &err), BK_OK);
    assert_int_equal(bk_builder_field(b, "path_name", "str", &err), BK_OK);
    assert_int_equal(bk_builder_field(b, "points", "list<Point>", &err), BK_OK);
    assert_int_equal(bk_builder_field(b, "weight", "f64", &err), BK_OK);
    assert_int_equal(bk_builder_field_attr(b, "optional", "true", &err), BK_OK);
    bk_model *m = NULL;
    assert_int_equal(bk_builder_build(&m, b, "Path", &err), BK_OK);
    bk_builder_free(b);
    bk_record *r = NULL;
    assert_int_equal(bk_record_new(&r, m, &err), BK_OK);
    const char *j = "{\"pathName\":\"p\",\"points\":[{\"x\":1,\"y\":2},{\"x\":3,\"y\":\"4\"}]}";
    assert_int_equal(bk_record_decode(r, j, strlen(j), NULL, &err), BK_EDECODE);
    bk_assert_problem(err, "$.points[1].y", "type");
    bk_error_free(err);
    j = "{\"pathName\":\"p\",\"points\":[{\"x\":1,\"y\":2},{\"x\":3,\"y\":4}],\"weight\":2.5}";
    assert_int_equal(bk_record_decode(r, j, strlen(j), NULL, &err), BK_OK);
    double w;
    assert_int_equal(bk_record_get_f64(&w, r, "weight", &err), BK_OK);
    assert_true(w == 2.5);
    char *out = NULL;
    assert_int_equal(bk_record_encode(&out, NULL, r, NULL, &err), BK_OK);
    assert_string_equal(out, j);
    bk_free(out);
    bk_record_free(r);
    bk_model_unref(m);
}

/* ---- one model, many threads --------------------------------------------------- */

typedef struct { bk_model *m; int ok; } thread_arg;

static void *decode_encode_loop(void *p)
{
    thread_arg *a = p;
    bk_model *m = bk_model_ref(a->m);
    for (int i = 0; i < 2000; i++) {
        User u;
        char *out = NULL;
        if (bk_json_decode(&u, m, USER_JSON, strlen(USER_JSON), NULL, NULL) != BK_OK)
            continue;
        if (bk_json_encode(&out, NULL, m, &u, NULL, NULL) == BK_OK && strstr(out, "\"id\":42"))
            a->ok++;
        bk_free(out);
        bk_clear(m, &u);
    }
    bk_model_unref(m);
    return NULL;
}

static void a_model_is_shared_between_threads(void **state)
{
    (void)state;
    bk_model *m = build(&USER_DEF);
    pthread_t t[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].m = m;
        args[i].ok = 0;
        assert_int_equal(pthread_create(&t[i], NULL, decode_encode_loop, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(args[i].ok, 2000);
    }
    bk_model_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_user_fills_every_field),
        cmocka_unit_test(defaults_apply_when_absent),
        cmocka_unit_test(data_driven_decode_cases),
        cmocka_unit_test(syntax_error_has_line_and_column),
        cmocka_unit_test(invalid_utf8_is_rejected),
        cmocka_unit_test(every_kind_round_trips),
        cmocka_unit_test(integers_are_range_checked_never_truncated),
        cmocka_unit_test(f32_extremes_round_trip),
        cmocka_unit_test(encode_failure_rolls_back_the_buffer),
        cmocka_unit_test(rename_all_alias_skip_and_skip_if),
        cmocka_unit_test(flatten_works_with_deny_unknown),
        cmocka_unit_test(unions_in_four_representations),
        cmocka_unit_test(limits_are_enforced),
        cmocka_unit_test(bad_arguments_are_errors_not_crashes),
        cmocka_unit_test(streams_decode_one_record_at_a_time),
        cmocka_unit_test(records_of_c_models),
        cmocka_unit_test(builder_models_decode_into_records),
        cmocka_unit_test(a_model_is_shared_between_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
