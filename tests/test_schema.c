/*
 * test_schema.c - JSON Schema (draft 2020-12) and OpenAPI export of models.
 *
 * Exact text for small models (every kind, every union tagging), merging and
 * name clashes across separately built models, errors and allocation
 * failures, and a cross-check with an independent validator: for every
 * model and input of tests/data/schema_cases.json the decoder's verdict
 * (with validation) must equal the expected one, and when python3-jsonschema
 * is installed, its verdict on the exported schema too (tests/schema_check.py).
 */
#include "test_util.h"
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------- */

static bk_model *doc_model(const char *doc)
{
    bk_model *m = NULL;
    bk_error *err = NULL;
    bk_status st = bk_model_from_doc(&m, doc, strlen(doc), &err);
    if (st != BK_OK)
        fprintf(stderr, "model: %s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    bk_error_free(err);
    return m;
}

static char *schema_of(const bk_model *m, bool pretty)
{
    char *out = NULL;
    size_t len = 0;
    bk_error *err = NULL;
    bk_status st = bk_model_json_schema(&out, &len, m, pretty, &err);
    if (st != BK_OK)
        fprintf(stderr, "schema: %s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    bk_error_free(err);
    return out;
}

static char *openapi_of(bk_model *const *models, size_t n)
{
    char *out = NULL;
    bk_error *err = NULL;
    bk_status st = bk_models_openapi(&out, NULL, models, n, false, &err);
    if (st != BK_OK)
        fprintf(stderr, "openapi: %s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    bk_error_free(err);
    return out;
}

static void assert_contains_(const char *hay, const char *needle, const char *file, int line)
{
    if (strstr(hay, needle))
        return;
    fprintf(stderr, "%s:%d: \"%s\" not in \"%s\"\n", file, line, needle, hay);
    fail();
}
#define assert_contains(h, n) assert_contains_((h), (n), __FILE__, __LINE__)

#define FAILS(code, needle, call) do { \
        bk_error *e_ = NULL; \
        bk_status s_ = (call); \
        if (s_ != (code)) \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call, \
                bk_status_name(s_), bk_error_message(e_)); \
        assert_int_equal(s_, (code)); \
        assert_int_equal(bk_error_code(e_), (code)); \
        assert_contains(bk_error_message(e_), (needle)); \
        bk_error_free(e_); \
    } while (0)
#define E (&e_)

/* ---- exact text ------------------------------------------------------------- */

static const char PET_DOC[] =
    "{\"bk_model\":1,\"root\":\"Pet\",\"models\":[{\"name\":\"Pet\",\"rename_all\":\"camelCase\","
    "\"deny_unknown\":true,\"fields\":["
    "{\"name\":\"id\",\"type\":\"u32\"},"
    "{\"name\":\"pet_name\",\"type\":\"str\",\"min_len\":1,\"max_len\":40},"
    "{\"name\":\"kind\",\"type\":\"Kind\",\"default\":\"dog\"},"
    "{\"name\":\"tags\",\"type\":\"list<str>\",\"default_zero\":true,\"unique_items\":true,"
    "\"each\":{\"pattern\":\"^[a-z]+$\"}},"
    "{\"name\":\"owner\",\"type\":\"ptr<Pet>\",\"optional\":true},"
    "{\"name\":\"weight\",\"type\":\"f64\",\"optional\":true,\"exclusive_min\":0},"
    "{\"name\":\"born\",\"type\":\"date\",\"optional\":true}]}],"
    "\"enums\":[{\"name\":\"Kind\",\"values\":[\"dog\",\"cat\"]}]}";

static const char PET_DEFS[] =
    "{\"Pet\":{\"type\":\"object\",\"properties\":{"
    "\"id\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":4294967295},"
    "\"petName\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":40},"
    "\"kind\":{\"$ref\":\"#/$defs/Kind\",\"default\":\"dog\"},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"pattern\":\"^[a-z]+$\"},"
    "\"uniqueItems\":true},"
    "\"owner\":{\"anyOf\":[{\"$ref\":\"#/$defs/Pet\"},{\"type\":\"null\"}]},"
    "\"weight\":{\"type\":[\"number\",\"null\"],\"exclusiveMinimum\":0},"
    "\"born\":{\"type\":[\"string\",\"null\"],\"format\":\"date\"}},"
    "\"required\":[\"id\",\"petName\"],\"additionalProperties\":false},"
    "\"Kind\":{\"type\":\"string\",\"enum\":[\"dog\",\"cat\"]}}";

/* PET_DEFS with "#/$defs/" references rewritten to "#/components/schemas/". */
static char *openapi_defs(void)
{
    static const char from[] = "#/$defs/", to[] = "#/components/schemas/";
    char *out = malloc(2 * sizeof(PET_DEFS));
    assert_non_null(out);
    const char *p = PET_DEFS;
    char *o = out;
    for (const char *q; (q = strstr(p, from)) != NULL; p = q + strlen(from)) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, strlen(to));
        o += strlen(to);
    }
    strcpy(o, p);
    return out;
}

static void small_model_schema_is_exact(void **state)
{
    (void)state;
    bk_model *m = doc_model(PET_DOC);
    char *s = schema_of(m, false);
    char want[4096];
    snprintf(want, sizeof(want), "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
        "\"$ref\":\"#/$defs/Pet\",\"$defs\":%s}", PET_DEFS);
    assert_string_equal(s, want);
    bk_free(s);
    /* pretty: two-space indent, same content */
    s = schema_of(m, true);
    static const char pre[] = "{\n  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",\n"
        "  \"$ref\": \"#/$defs/Pet\",\n  \"$defs\": {\n    \"Pet\": {\n      \"type\": \"object\",\n"
        "      \"properties\": {\n        \"id\": {\n          \"type\": \"integer\",\n";
    assert_true(strncmp(s, pre, strlen(pre)) == 0);
    assert_contains(s, "\"weight\": {\n          \"type\": [\n            \"number\",\n"
        "            \"null\"\n          ],\n          \"exclusiveMinimum\": 0\n        },\n");
    json_t *a = json_loads(s, 0, NULL), *b = json_loads(want, 0, NULL);
    assert_non_null(a);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    bk_free(s);
    /* OpenAPI: the same schemas as components */
    char *defs = openapi_defs();
    s = openapi_of(&m, 1);
    snprintf(want, sizeof(want), "{\"components\":{\"schemas\":%s}}", defs);
    assert_string_equal(s, want);
    bk_free(s);
    free(defs);
    bk_model_unref(m);
}

/* Each tagging, every kind, the C ranges, reals in shortest form. */
static const char UNIONS_DOC[] =
    "{\"bk_model\":1,\"root\":\"T\",\"models\":[{\"name\":\"T\",\"fields\":["
    "{\"name\":\"ext\",\"type\":\"Ext\"},{\"name\":\"int\",\"type\":\"Int\"},"
    "{\"name\":\"adj\",\"type\":\"Adj\"},{\"name\":\"unt\",\"type\":\"Unt\",\"optional\":true}]},"
    "{\"name\":\"Sq\",\"deny_unknown\":true,\"fields\":[{\"name\":\"side\",\"type\":\"f32\","
    "\"multiple_of\":0.1}]}],"
    "\"unions\":["
    "{\"name\":\"Ext\",\"variants\":[{\"name\":\"sq\",\"type\":\"Sq\"},{\"name\":\"off\"}]},"
    "{\"name\":\"Int\",\"tagging\":\"internal\",\"tag\":\"k\",\"variants\":[{\"name\":\"sq\","
    "\"type\":\"Sq\"},{\"name\":\"off\"}]},"
    "{\"name\":\"Adj\",\"tagging\":\"adjacent\",\"variants\":[{\"name\":\"n\",\"type\":\"i8\"},"
    "{\"name\":\"off\"}]},"
    "{\"name\":\"Unt\",\"tagging\":\"untagged\",\"variants\":[{\"name\":\"b\",\"type\":\"bytes\"},"
    "{\"name\":\"m\",\"type\":\"map<uuid>\"},{\"name\":\"off\"}]}]}";

static const char UNIONS_SCHEMA[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$ref\":\"#/$defs/T\","
    "\"$defs\":{"
    "\"T\":{\"type\":\"object\",\"properties\":{\"ext\":{\"$ref\":\"#/$defs/Ext\"},"
    "\"int\":{\"$ref\":\"#/$defs/Int\"},\"adj\":{\"$ref\":\"#/$defs/Adj\"},"
    "\"unt\":{\"anyOf\":[{\"$ref\":\"#/$defs/Unt\"},{\"type\":\"null\"}]}},"
    "\"required\":[\"ext\",\"int\",\"adj\"]},"
    "\"Ext\":{\"oneOf\":[{\"type\":\"object\",\"properties\":{\"sq\":{\"$ref\":\"#/$defs/Sq\"}},"
    "\"required\":[\"sq\"],\"additionalProperties\":false},{\"const\":\"off\"}]},"
    "\"Int\":{\"oneOf\":[{\"type\":\"object\",\"properties\":{\"k\":{\"const\":\"sq\"},"
    "\"side\":{\"type\":\"number\",\"minimum\":-3.4028234663852886e38,"
    "\"maximum\":3.4028234663852886e38,\"multipleOf\":0.1}},\"required\":[\"k\",\"side\"],"
    "\"additionalProperties\":false},{\"type\":\"object\",\"properties\":{\"k\":{\"const\":\"off\"}},"
    "\"required\":[\"k\"]}]},"
    "\"Adj\":{\"oneOf\":[{\"type\":\"object\",\"properties\":{\"type\":{\"const\":\"n\"},"
    "\"content\":{\"type\":\"integer\",\"minimum\":-128,\"maximum\":127}},"
    "\"required\":[\"type\",\"content\"],\"additionalProperties\":false},"
    "{\"type\":\"object\",\"properties\":{\"type\":{\"const\":\"off\"}},\"required\":[\"type\"],"
    "\"additionalProperties\":false}]},"
    "\"Unt\":{\"anyOf\":[{\"type\":\"string\",\"contentEncoding\":\"base64\",\"pattern\":"
    "\"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$\"},"
    "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\",\"format\":\"uuid\"}},"
    "{\"type\":\"null\"}]},"
    "\"Sq\":{\"type\":\"object\",\"properties\":{\"side\":{\"type\":\"number\","
    "\"minimum\":-3.4028234663852886e38,\"maximum\":3.4028234663852886e38,\"multipleOf\":0.1}},"
    "\"required\":[\"side\"],\"additionalProperties\":false}}}";

static void unions_schema_is_exact(void **state)
{
    (void)state;
    bk_model *m = doc_model(UNIONS_DOC);
    char *s = schema_of(m, false);
    assert_string_equal(s, UNIONS_SCHEMA);
    bk_free(s);
    bk_model_unref(m);
}

/* A C model: every plain kind with its range, constraints from macros. */
typedef enum { SIZE_S, SIZE_M } Size;
static const char *const SIZES[] = { "s", "m", NULL };
typedef struct { char *street; } Address;
static const bk_field ADDRESS_FIELDS[] = { BK_FIELD(Address, street, BK_STR, BK_MIN_LEN(1)) };
static const bk_model_def ADDRESS_DEF = BK_MODEL_DEF(Address, ADDRESS_FIELDS);
typedef struct {
    bool b; int8_t i8; int16_t i16; int32_t i32; int64_t i64;
    uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64; float f32; double f64;
    char *s; bk_bytes by; int64_t ts; int32_t d; bk_uuid id; Size size; json_t *j;
    Address home; bk_map where; bk_strs tags; bk_presence tags_p;
} Kinds;
static const bk_field KINDS_FIELDS[] = {
    BK_FIELD(Kinds, b, BK_BOOL),
    BK_FIELD(Kinds, i8, BK_I8),
    BK_FIELD(Kinds, i16, BK_I16, BK_MIN(-1e6)),          /* looser than the range: kept */
    BK_FIELD(Kinds, i32, BK_I32, BK_MAX(1e10)),
    BK_FIELD(Kinds, i64, BK_I64, BK_MIN(-100.5), BK_MAX(100)),
    BK_FIELD(Kinds, u8, BK_U8),
    BK_FIELD(Kinds, u16, BK_U16),
    BK_FIELD(Kinds, u32, BK_U32),
    BK_FIELD(Kinds, u64, BK_U64, BK_MAX(1e30)),
    BK_FIELD(Kinds, f32, BK_F32, BK_MAX(1e300)),
    BK_FIELD(Kinds, f64, BK_F64, BK_LT(1e300), BK_MULTIPLE_OF(1e-3)),
    BK_FIELD(Kinds, s, BK_STR, BK_FORMAT(BK_FORMAT_EMAIL), BK_MESSAGES("format", "an e-mail")),
    BK_FIELD(Kinds, by, BK_BYTES, BK_MAX_LEN(0)),
    BK_FIELD(Kinds, ts, BK_TIMESTAMP),
    BK_FIELD(Kinds, d, BK_DATE),
    BK_FIELD(Kinds, id, BK_UUID),
    BK_ENUM(Kinds, size, SIZES, BK_CONST("\"m\"")),
    BK_FIELD(Kinds, j, BK_JSON, .default_json = "{\"a\":[1,2.5,\"\\u0001\"]}"),
    BK_NESTED(Kinds, home, Address, &ADDRESS_DEF),
    BK_MAP_OF(Kinds, where, &(const bk_type_def){ .kind = BK_MODEL, .model = &ADDRESS_DEF },
              BK_MIN_ITEMS(1), BK_MAX_ITEMS(9)),
    BK_LIST(Kinds, tags, BK_STR, BK_PRESENCE(Kinds, tags_p), BK_EACH(BK_ONE_OF("[\"x\"]"))),
};
static const bk_model_def KINDS_DEF = BK_MODEL_DEF(Kinds, KINDS_FIELDS);

static void c_models_map_every_kind(void **state)
{
    (void)state;
    bk_model *m = NULL;
    assert_int_equal(bk_model_new(&m, &KINDS_DEF, NULL), BK_OK);
    char *s = schema_of(m, false);
    static const char *const parts[] = {
        "\"b\":{\"type\":\"boolean\"}",
        "\"i8\":{\"type\":\"integer\",\"minimum\":-128,\"maximum\":127}",
        "\"i16\":{\"type\":\"integer\",\"minimum\":-32768,\"maximum\":32767}",
        "\"i32\":{\"type\":\"integer\",\"minimum\":-2147483648,\"maximum\":2147483647}",
        "\"i64\":{\"type\":\"integer\",\"minimum\":-100.5,\"maximum\":100}",
        "\"u8\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":255}",
        "\"u16\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":65535}",
        "\"u32\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":4294967295}",
        "\"u64\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":18446744073709551615}",
        "\"f32\":{\"type\":\"number\",\"minimum\":-3.4028234663852886e38,"
            "\"maximum\":3.4028234663852886e38}",
        "\"f64\":{\"type\":\"number\",\"exclusiveMaximum\":1e300,\"multipleOf\":0.001}",
        "\"s\":{\"type\":\"string\",\"format\":\"email\"}",
        "\"by\":{\"type\":\"string\",\"contentEncoding\":\"base64\",\"pattern\":\"^(?:",
        "=)?$\",\"maxLength\":0}",
        "\"ts\":{\"type\":\"string\",\"format\":\"date-time\"}",
        "\"d\":{\"type\":\"string\",\"format\":\"date\"}",
        "\"id\":{\"type\":\"string\",\"format\":\"uuid\"}",
        "\"size\":{\"$ref\":\"#/$defs/Kinds_size\",\"const\":\"m\"}",
        "\"j\":{\"default\":{\"a\":[1,2.5,\"\\u0001\"]}}",
        "\"home\":{\"$ref\":\"#/$defs/Address\"}",
        "\"where\":{\"type\":\"object\",\"additionalProperties\":{\"$ref\":\"#/$defs/Address\"},"
            "\"minProperties\":1,\"maxProperties\":9}",
        "\"tags\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":\"string\",\"enum\":[\"x\"]}}",
        "\"required\":[\"b\",\"i8\",\"i16\",\"i32\",\"i64\",\"u8\",\"u16\",\"u32\",\"u64\",\"f32\","
            "\"f64\",\"s\",\"by\",\"ts\",\"d\",\"id\",\"size\",\"home\",\"where\"]}",
        "\"Kinds_size\":{\"type\":\"string\",\"enum\":[\"s\",\"m\"]}",
        "\"Address\":{\"type\":\"object\",\"properties\":{\"street\":{\"type\":\"string\","
            "\"minLength\":1}},\"required\":[\"street\"]}}}",
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        assert_contains(s, parts[i]);
    bk_free(s);
    bk_model_unref(m);
}

/* ---- several models ----------------------------------------------------------- */

typedef struct { Address a; } Home;
static const bk_field HOME_FIELDS[] = { BK_NESTED(Home, a, Address, &ADDRESS_DEF) };
static const bk_model_def HOME_DEF = BK_MODEL_DEF(Home, HOME_FIELDS);
typedef struct { Address b; int32_t n; } Office;
static const bk_field OFFICE_FIELDS[] = {
    BK_NESTED(Office, b, Address, &ADDRESS_DEF),
    BK_FIELD(Office, n, BK_I32),
};
static const bk_model_def OFFICE_DEF = BK_MODEL_DEF(Office, OFFICE_FIELDS);

static void openapi_merges_equal_definitions_and_rejects_clashes(void **state)
{
    (void)state;
    bk_model *ms[3] = { NULL, NULL, NULL };
    assert_int_equal(bk_model_new(&ms[0], &HOME_DEF, NULL), BK_OK);
    assert_int_equal(bk_model_new(&ms[1], &OFFICE_DEF, NULL), BK_OK);
    /* Address was built twice (two schemas): equal schemas, written once */
    char *s = openapi_of(ms, 2);
    assert_string_equal(s, "{\"components\":{\"schemas\":{"
        "\"Home\":{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/components/schemas/Address\"}},"
        "\"required\":[\"a\"]},"
        "\"Office\":{\"type\":\"object\",\"properties\":{\"b\":{\"$ref\":\"#/components/schemas/Address\"},"
        "\"n\":{\"type\":\"integer\",\"minimum\":-2147483648,\"maximum\":2147483647}},"
        "\"required\":[\"b\",\"n\"]},"
        "\"Address\":{\"type\":\"object\",\"properties\":{\"street\":{\"type\":\"string\","
        "\"minLength\":1}},\"required\":[\"street\"]}}}}");
    bk_free(s);
    /* a model given twice, or reached and given, is written once */
    ms[2] = ms[0];
    s = openapi_of(ms, 3);
    assert_non_null(strstr(s, "\"Home\""));
    assert_null(strstr(strstr(s, "\"Home\"") + 1, "\"Home\""));
    bk_free(s);
    /* a different Address */
    ms[2] = doc_model("{\"bk_model\":1,\"root\":\"Box\",\"models\":[{\"name\":\"Box\",\"fields\":"
        "[{\"name\":\"at\",\"type\":\"Address\"}]},{\"name\":\"Address\",\"fields\":[{\"name\":"
        "\"street\",\"type\":\"str\"}]}]}");
    s = (char *)&s;
    FAILS(BK_EMODEL, "two different definitions are named Address",
        bk_models_openapi(&s, NULL, ms, 3, true, E));
    assert_null(s);
    /* no models: no schemas */
    s = openapi_of(NULL, 0);
    assert_string_equal(s, "{\"components\":{\"schemas\":{}}}");
    bk_free(s);
    for (int i = 0; i < 3; i++)
        bk_model_unref(ms[i]);
}

/* ---- errors -------------------------------------------------------------------------- */

typedef struct { uint64_t big; } Big;
static const bk_field BIG_FIELDS[] = {
    BK_FIELD(Big, big, BK_U64, .default_json = "18446744073709551615"),
};
static const bk_model_def BIG_DEF = BK_MODEL_DEF(Big, BIG_FIELDS);
static const bk_field BIG_ONE_OF_FIELDS[] = {
    BK_FIELD(Big, big, BK_U64, BK_CONST("18446744073709551615")),
};
static const bk_model_def BIG_ONE_OF_DEF = BK_MODEL_DEF(Big, BIG_ONE_OF_FIELDS);

static void errors_and_misuse(void **state)
{
    (void)state;
    bk_model *m = doc_model(PET_DOC);
    char *s = (char *)&s;
    size_t len = 9;
    FAILS(BK_EINVAL, "NULL", bk_model_json_schema(NULL, NULL, m, false, E));
    FAILS(BK_EINVAL, "NULL", bk_model_json_schema(&s, &len, NULL, false, E));
    assert_null(s);
    assert_int_equal(len, 0);
    struct { uint32_t magic; char pad[256]; } fake = { 0xdeadbeef, { 0 } };
    FAILS(BK_EMISUSE, "not a model", bk_model_json_schema(&s, NULL,
        (const bk_model *)(void *)&fake, false, E));
    bk_model *list[2] = { m, NULL };
    FAILS(BK_EINVAL, "models[1] is NULL", bk_models_openapi(&s, NULL, list, 2, false, E));
    list[1] = (bk_model *)(void *)&fake;
    FAILS(BK_EMISUSE, "models[1]", bk_models_openapi(&s, NULL, list, 2, false, E));
    FAILS(BK_EINVAL, "NULL", bk_models_openapi(&s, NULL, NULL, 1, false, E));
    FAILS(BK_EINVAL, "NULL", bk_models_openapi(NULL, NULL, list, 1, false, E));
    assert_int_equal(bk_model_json_schema(&s, NULL, NULL, false, NULL), BK_EINVAL);
    bk_model_unref(m);
    /* values beyond jansson's integers */
    const bk_model_def *defs[] = { &BIG_DEF, &BIG_ONE_OF_DEF };
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(bk_model_new(&m, defs[i], NULL), BK_OK);
        s = (char *)&s;
        FAILS(BK_EUNSUPPORTED, "cannot be written", bk_model_json_schema(&s, &len, m, false, E));
        assert_null(s);
        FAILS(BK_EUNSUPPORTED, "bk_models_openapi", bk_models_openapi(&s, &len, &m, 1, false, E));
        bk_model_unref(m);
    }
}

/* ---- allocation failures --------------------------------------------------------- */

static long g_fail_at = -1, g_allocs;

static void *failing_malloc(size_t n)
{
    if (g_fail_at >= 0 && g_allocs++ == g_fail_at)
        return NULL;
    return malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
    if (g_fail_at >= 0 && g_allocs++ == g_fail_at)
        return NULL;
    return realloc(p, n);
}

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    bk_model *ms[2] = { doc_model(UNIONS_DOC), doc_model(PET_DOC) };
    char *want = schema_of(ms[0], true);
    assert_int_equal(bk_set_allocator(failing_malloc, failing_realloc, free), BK_OK);
    for (int op = 0; op < 2; op++) {
        long n;
        for (n = 0;; n++) {
            char *out = (char *)&out;
            bk_error *err = NULL;
            g_fail_at = n;
            g_allocs = 0;
            bk_status st = op == 0 ? bk_model_json_schema(&out, NULL, ms[0], true, &err)
                                   : bk_models_openapi(&out, NULL, ms, 2, false, &err);
            g_fail_at = -1;
            if (st == BK_OK) {
                if (op == 0)
                    assert_string_equal(out, want);
                bk_free(out);
                break;
            }
            assert_int_equal(st, BK_ENOMEM);
            assert_int_equal(bk_error_code(err), BK_ENOMEM);
            assert_null(out);
            bk_error_free(err);
            assert_true(n < 100000);
        }
        assert_true(n > 5);
    }
    assert_int_equal(bk_set_allocator(NULL, NULL, NULL), BK_OK);
    bk_free(want);
    bk_model_unref(ms[0]);
    bk_model_unref(ms[1]);
}

/* ---- cross-check with python3-jsonschema ---------------------------------------- */

/* One input: its text, the verdict the corpus expects, and the format
 * the independent validator needs to check to agree (NULL: none). */
typedef struct input {
    char *text;
    bool valid;
    const char *format;
} input;

static void add_input(input **in, size_t *n, char *text, bool valid, const char *format)
{
    *in = realloc(*in, (*n + 1) * sizeof(**in));
    assert_non_null(*in);
    assert_non_null(text);
    (*in)[*n].text = text;
    (*in)[*n].valid = valid;
    (*in)[*n].format = format;
    (*n)++;
}

/* entry merged over base (keys of "$omit" removed), as compact text. */
static char *merged(const json_t *base, const json_t *entry)
{
    json_t *o = json_deep_copy(base);
    const char *k;
    json_t *v;
    assert_non_null(o);
    json_object_foreach((json_t *)entry, k, v) {
        if (strcmp(k, "$omit") == 0) {
            for (size_t i = 0; i < json_array_size(v); i++)
                json_object_del(o, json_string_value(json_array_get(v, i)));
        } else {
            assert_int_equal(json_object_set(o, k, v), 0);
        }
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* The inputs of one corpus case, in the order of the keys below. */
static size_t case_inputs(const json_t *c, input **in)
{
    static const char *const keys[] = { "valid", "invalid", "valid_raw", "invalid_raw",
        "valid_text", "invalid_text" };
    const json_t *base = json_object_get(c, "base");
    size_t n = 0;
    *in = NULL;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const json_t *arr = json_object_get(c, keys[k]);
        bool valid = strncmp(keys[k], "valid", 5) == 0;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            const json_t *e = json_array_get(arr, i);
            char *text;
            if (k >= 4)
                text = strdup(json_string_value(e));
            else if (k < 2 && base)
                text = merged(base, e);
            else
                text = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
            add_input(in, &n, text, valid, NULL);
        }
    }
    /* "invalid_format": {"<format>": [entries]}: invalid only for a validator
     * that checks that format (python-jsonschema needs optional packages for
     * some) */
    const char *fmt;
    const json_t *arr;
    json_object_foreach(json_object_get(c, "invalid_format"), fmt, arr)
        for (size_t i = 0; i < json_array_size(arr); i++)
            add_input(in, &n, base ? merged(base, json_array_get(arr, i))
                : json_dumps(json_array_get(arr, i), JSON_COMPACT), false, fmt);
    return n;
}

/* The decoder's verdict (validation on); *why gets the error message. */
static bool bk_accepts(const bk_model *m, const char *text, char **why)
{
    void *obj = calloc(1, bk_model_size(m));
    bk_error *err = NULL;
    assert_non_null(obj);
    bk_status st = bk_json_decode(obj, m, text, strlen(text), NULL, &err);
    if (st != BK_OK && st != BK_EVALIDATION && st != BK_EDECODE && st != BK_ESYNTAX) {
        fprintf(stderr, "unexpected %s for %s: %s\n", bk_status_name(st), text,
            bk_error_message(err));
        fail();
    }
    *why = strdup(st == BK_OK ? "accepted" : bk_error_message(err));
    bk_error_free(err);
    bk_clear(m, obj);
    free(obj);
    return st == BK_OK;
}

/* The interpreter: /usr/bin/python3 (Debian's python3-jsonschema), or
 * $BK_PYTHON. */
static const char *python(void)
{
    const char *p = getenv("BK_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

/* Whether the interpreter can import jsonschema. */
static bool have_jsonschema(void)
{
    char cmd[1024];
    if (access(python(), X_OK) != 0)
        return false;
    snprintf(cmd, sizeof(cmd), "%s -c 'import jsonschema' >/dev/null 2>&1", python());
    return system(cmd) == 0;
}

static void cross_check_with_python_jsonschema(void **state)
{
    (void)state;
    size_t len;
    char *data = bk_test_read("schema_cases.json", &len);
    assert_non_null(data);
    json_error_t jerr;
    json_t *root = json_loads(data, 0, &jerr);
    if (!root)
        fprintf(stderr, "schema_cases.json:%d: %s\n", jerr.line, jerr.text);
    assert_non_null(root);
    free(data);
    const json_t *cases = json_object_get(root, "cases");
    size_t ncases = json_array_size(cases), failures = 0, total = 0;
    assert_true(ncases >= 8);
    input **ins = calloc(ncases, sizeof(*ins));
    size_t *nins = calloc(ncases, sizeof(*nins));
    char **schemas = calloc(ncases, sizeof(*schemas));
    assert_true(ins && nins && schemas);
    json_t *py = json_array();

    /* the decoder against the expected verdicts; the schemas */
    for (size_t c = 0; c < ncases; c++) {
        const json_t *cs = json_array_get(cases, c);
        const char *name = json_string_value(json_object_get(cs, "name"));
        char *doc = json_dumps(json_object_get(cs, "model"), JSON_COMPACT);
        bk_model *m = doc_model(doc);
        free(doc);
        schemas[c] = schema_of(m, false);
        nins[c] = case_inputs(cs, &ins[c]);
        json_t *texts = json_array();
        for (size_t i = 0; i < nins[c]; i++) {
            char *why = NULL;
            bool ok = bk_accepts(m, ins[c][i].text, &why);
            if (ok != ins[c][i].valid) {
                fprintf(stderr, "%s: decoder %s %s, expected %s (%s)\n", name,
                    ok ? "accepts" : "rejects", ins[c][i].text,
                    ins[c][i].valid ? "valid" : "invalid", why);
                failures++;
            }
            free(why);
            json_array_append_new(texts, json_string(ins[c][i].text));
            total++;
        }
        json_t *o = json_object();
        json_object_set_new(o, "schema", json_string(schemas[c]));
        json_object_set_new(o, "inputs", texts);
        json_array_append_new(py, o);
        bk_model_unref(m);
    }

    /* the same inputs through python3-jsonschema */
    if (!have_jsonschema()) {
        printf("skip: %s with jsonschema not found (apt-get install python3-jsonschema); "
            "the decoder's verdicts were checked, the independent validator's were not\n",
            python());
    } else {
        char path[] = "/tmp/bk_schema_cases_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "w");
        assert_non_null(f);
        assert_int_equal(json_dumpf(py, f, JSON_COMPACT), 0);
        fclose(f);
        const char *dir = getenv("BK_TEST_DATA");
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), "%s %s/../schema_check.py %s", python(),
            dir ? dir : "tests/data", path);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        char line[4096], formats[1024] = "";
        size_t unchecked = 0;
        /* first line: the formats its FormatChecker checks */
        if (fgets(line, sizeof(line), p) && strncmp(line, "formats ", 8) == 0)
            snprintf(formats, sizeof(formats), ",%.*s,", (int)strcspn(line + 8, "\n"), line + 8);
        for (size_t c = 0; c < ncases; c++) {
            const char *name = json_string_value(json_object_get(json_array_get(cases, c), "name"));
            if (!fgets(line, sizeof(line), p)) {
                fprintf(stderr, "%s: no verdicts from %s\n", name, cmd);
                failures++;
                break;
            }
            if (line[0] == 'E') {
                fprintf(stderr, "%s: the schema is not valid draft 2020-12: %s%s\n", name, line,
                    schemas[c]);
                failures++;
                continue;
            }
            assert_true(strlen(line) >= nins[c]);
            for (size_t i = 0; i < nins[c]; i++) {
                bool ok = line[i] == '1';
                char fmt[64];
                snprintf(fmt, sizeof(fmt), ",%s,", ins[c][i].format ? ins[c][i].format : "");
                if (ins[c][i].format && !strstr(formats, fmt)) {
                    unchecked++;
                    continue;
                }
                if (ok != ins[c][i].valid) {
                    fprintf(stderr, "%s: jsonschema %s %s, the decoder %s it\nschema: %s\n",
                        name, ok ? "accepts" : "rejects", ins[c][i].text,
                        ins[c][i].valid ? "accepts" : "rejects", schemas[c]);
                    failures++;
                }
            }
        }
        int rc = pclose(p);
        unlink(path);
        assert_int_equal(rc, 0);
        printf("cross-check: %zu inputs in %zu models compared with python3-jsonschema "
            "(%zu not: their format is not checked there), %zu disagreements\n",
            total - unchecked, ncases, unchecked, failures);
    }
    for (size_t c = 0; c < ncases; c++) {
        for (size_t i = 0; i < nins[c]; i++)
            free(ins[c][i].text);
        free(ins[c]);
        bk_free(schemas[c]);
    }
    free(ins);
    free(nins);
    free(schemas);
    json_decref(py);
    json_decref(root);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_model_schema_is_exact),
        cmocka_unit_test(unions_schema_is_exact),
        cmocka_unit_test(c_models_map_every_kind),
        cmocka_unit_test(openapi_merges_equal_definitions_and_rejects_clashes),
        cmocka_unit_test(errors_and_misuse),
        cmocka_unit_test(allocation_failures_are_clean),
        cmocka_unit_test(cross_check_with_python_jsonschema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
