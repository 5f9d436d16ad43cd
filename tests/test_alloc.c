/*
 * test_alloc.c - allocation-failure sweep (after jansson's test_chaos.c and
 * SQLite's malloc tests): for every N, fail the Nth allocation of a decode,
 * an encode, a model build and a stream, and check the call fails cleanly
 * with BK_ENOMEM (or succeeds, once N is past its last allocation), that
 * the target is left cleared, and that nothing leaks (the counting
 * allocator must end balanced; ASan/valgrind check the rest).
 */
#include "test_util.h"
#include "test_models.h"
#include "test_chaos.h"

static int setup(void **state)
{
    (void)state;
    chaos_live = 0;
    return bk_set_allocator(chaos_malloc, chaos_realloc, chaos_free) == BK_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    chaos_fail_at = -1;
    return bk_set_allocator(NULL, NULL, NULL) == BK_OK ? 0 : -1;
}

static const char DOC[] =
    "{\"id\":42,\"name\":\"Zo\\u00eb \\\"Z\\\"\",\"email\":\"zoe@example.com\",\"age\":31,"
    "\"active\":false,\"score\":73.25,\"tags\":[\"a\",\"b\\n\",\"c\",\"d\",\"e\",\"f\"],"
    "\"address\":{\"street\":\"1 Main\",\"city\":\"Paris\",\"zip\":\"75001\"},"
    "\"created_at\":\"2024-03-01T12:30:00.5+02:00\",\"nickname\":\"zz\"}";
static const char BAD_DOC[] =
    "{\"id\":\"x\",\"name\":1,\"email\":true,\"age\":[],\"tags\":[1,2,3],\"zzz\":1}";

static bool is_zero(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            return false;
    return true;
}

static void model_build_survives_every_failure(void **state)
{
    (void)state;
    long n;
    for (n = 0;; n++) {
        chaos_arm(n);
        bk_model *m = NULL;
        bk_error *err = NULL;
        bk_status st = bk_model_new(&m, &USER_DEF, &err);
        chaos_disarm();
        if (st == BK_OK) {
            assert_true(chaos_count <= n);   /* never a swallowed refusal */
            bk_model_unref(m);
            break;
        }
        assert_int_equal(st, BK_ENOMEM);
        assert_null(m);
        assert_int_equal(bk_error_code(err), BK_ENOMEM);
        bk_error_free(err);
        assert_int_equal(chaos_live, 0);
    }
    assert_true(n > 5);
    assert_int_equal(chaos_live, 0);
}

/* User with constraints of every family the decoder checks inline or hands
 * to the full check (lengths, pattern, format, ranges, one_of, items, each). */
static const bk_field CADDRESS_FIELDS[] = {
    BK_FIELD(Address, street, BK_STR, BK_MIN_LEN(2)),
    BK_FIELD(Address, city, BK_STR, BK_ONE_OF("[\"Paris\", \"Lyon\"]")),
    BK_FIELD(Address, zip, BK_STR, BK_PATTERN("^[0-9]{5}$")),
};
static const bk_model_def CADDRESS_DEF = BK_MODEL_DEF(Address, CADDRESS_FIELDS);
static const bk_field CUSER_FIELDS[] = {
    BK_FIELD(User, id, BK_I64, BK_MIN(1), BK_MULTIPLE_OF(2)),
    BK_FIELD(User, name, BK_STR, BK_MIN_LEN(1), BK_MAX_LEN(3)),
    BK_FIELD(User, email, BK_STR, BK_FORMAT(BK_FORMAT_EMAIL)),
    BK_FIELD(User, age, BK_I32, BK_MIN(0), BK_MAX(150)),
    BK_FIELD(User, active, BK_BOOL, .default_json = "true"),
    BK_FIELD(User, score, BK_F64, BK_LT(50), .default_zero = true),
    BK_LIST(User, tags, BK_STR, BK_MAX_ITEMS(4), BK_UNIQUE_ITEMS,
            BK_EACH(BK_MAX_LEN(1)), .default_json = "[]"),
    BK_NESTED(User, address, Address, &CADDRESS_DEF),
    BK_FIELD(User, created_at, BK_TIMESTAMP),
    BK_ENUM(User, role, ROLES, BK_ONE_OF("[\"admin\"]"), .default_json = "\"admin\""),
    BK_FIELD(User, nickname, BK_STR, BK_PRESENCE(User, nickname_p), BK_MESSAGES("too_long", "nick!"),
             BK_MAX_LEN(1)),
};
static const bk_model_def CUSER_DEF = BK_MODEL_DEF(User, CUSER_FIELDS);
/* DOC breaks five of CUSER_DEF's constraints (name, score, tags twice,
 * nickname) and passes the others, which must be checked all the same. */

static void sweep_decode_model(const bk_model_def *def, const char *doc, bk_status final)
{
    bk_model *m = NULL;
    assert_int_equal(bk_model_new(&m, def, NULL), BK_OK);
    long base = chaos_live;
    long n;
    for (n = 0;; n++) {
        User u;
        memset(&u, 0x33, sizeof(u));
        bk_error *err = NULL;
        chaos_arm(n);
        bk_status st = bk_json_decode(&u, m, doc, strlen(doc), NULL, &err);
        chaos_disarm();
        if (st == final && chaos_count <= n) {
            if (st == BK_OK)
                bk_clear(m, &u);
            bk_error_free(err);
            assert_int_equal(chaos_live, base);
            break;
        }
        if (st != BK_ENOMEM) {
            /* the failure hit nothing this run needed: not possible once
             * chaos_count > n, since allocation n was refused */
            fprintf(stderr, "n=%ld status %s: %s\n", n, bk_status_name(st), bk_error_message(err));
            fail();
        }
        assert_true(is_zero(&u, sizeof(u)));
        assert_int_equal(bk_error_code(err), BK_ENOMEM);
        bk_error_free(err);
        assert_int_equal(chaos_live, base);
    }
    assert_true(n > 3);
    bk_model_unref(m);
}

static void sweep_decode(const char *doc, bk_status final)
{
    sweep_decode_model(&USER_DEF, doc, final);
}

static void decode_survives_every_failure(void **state)
{
    (void)state;
    sweep_decode(DOC, BK_OK);
}

static void failing_decode_survives_every_failure(void **state)
{
    (void)state;
    sweep_decode(BAD_DOC, BK_EDECODE);
}

static void validating_decode_survives_every_failure(void **state)
{
    (void)state;
    sweep_decode_model(&CUSER_DEF, DOC, BK_EVALIDATION);
}

/* bk_validate on a decoded struct: every refusal is BK_ENOMEM, never a
 * shorter list of problems; the full list once nothing fails. */
static void validate_survives_every_failure(void **state)
{
    (void)state;
    bk_model *m = NULL;
    assert_int_equal(bk_model_new(&m, &CUSER_DEF, NULL), BK_OK);
    bk_decode_options o = BK_DECODE_OPTIONS_INIT;
    o.skip_validation = true;
    User u;
    assert_int_equal(bk_json_decode(&u, m, DOC, strlen(DOC), &o, NULL), BK_OK);
    long base = chaos_live;
    long n;
    size_t full = 0;
    for (n = 0;; n++) {
        bk_error *err = NULL;
        chaos_arm(n);
        bk_status st = bk_validate(m, &u, 0, &err);
        chaos_disarm();
        if (chaos_count <= n) {
            assert_int_equal(st, BK_EVALIDATION);
            full = bk_error_count(err);
            bk_assert_problem(err, "$.name", "too_long");
            bk_assert_problem(err, "$.score", "above_max");
            bk_assert_problem(err, "$.tags", "too_many_items");
            bk_assert_problem(err, "$.tags[1]", "too_long");
            bk_assert_problem(err, "$.nickname", "too_long");
            bk_error_free(err);
            break;
        }
        assert_int_equal(st, BK_ENOMEM);
        assert_int_equal(bk_error_code(err), BK_ENOMEM);
        bk_error_free(err);
        assert_int_equal(chaos_live, base);
    }
    assert_true(n > 3);
    assert_int_equal(full, 5);
    bk_clear(m, &u);
    bk_model_unref(m);
    assert_int_equal(chaos_live, 0);
}

static void encode_survives_every_failure(void **state)
{
    (void)state;
    bk_model *m = NULL;
    assert_int_equal(bk_model_new(&m, &USER_DEF, NULL), BK_OK);
    User u;
    assert_int_equal(bk_json_decode(&u, m, DOC, strlen(DOC), NULL, NULL), BK_OK);
    long base = chaos_live;
    long n;
    for (n = 0;; n++) {
        char *out = NULL;
        bk_error *err = NULL;
        chaos_arm(n);
        bk_status st = bk_json_encode(&out, NULL, m, &u, NULL, &err);
        chaos_disarm();
        if (st == BK_OK) {
            assert_true(chaos_count <= n);
            assert_non_null(out);
            bk_free(out);
            break;
        }
        assert_int_equal(st, BK_ENOMEM);
        assert_null(out);
        bk_error_free(err);
        assert_int_equal(chaos_live, base);
    }
    assert_true(n >= 1);
    /* an encode into a buffer with room needs no allocation at all */
    bk_buf b = BK_BUF_INIT;
    assert_int_equal(bk_json_encode_buf(&b, m, &u, NULL, NULL), BK_OK);
    bk_buf_reset(&b);
    chaos_arm(0);
    assert_int_equal(bk_json_encode_buf(&b, m, &u, NULL, NULL), BK_OK);
    chaos_disarm();
    bk_buf_dispose(&b);
    bk_clear(m, &u);
    bk_model_unref(m);
    assert_int_equal(chaos_live, 0);
}

static void stream_survives_every_failure(void **state)
{
    (void)state;
    bk_model *m = NULL;
    assert_int_equal(bk_model_new(&m, &ADDRESS_DEF, NULL), BK_OK);
    const char *arr = "[{\"street\":\"a\",\"city\":\"b\",\"zip\":\"c\"},{\"street\":\"d\",\"city\":\"e\",\"zip\":\"f\"}]";
    long base = chaos_live;
    long n;
    for (n = 0;; n++) {
        bk_json_stream *s = NULL;
        bk_error *err = NULL;
        int got = 0;
        bool failed = false;
        chaos_arm(n);
        bk_status st = bk_json_stream_new_buffer(&s, m, arr, strlen(arr), BK_STREAM_ARRAY, NULL, &err);
        if (st == BK_OK) {
            Address a;
            while ((st = bk_json_stream_next(s, &a, &err)) == BK_OK) {
                got++;
                bk_clear(m, &a);
            }
            if (st != BK_ITEROVER)
                failed = true;
        } else {
            failed = true;
        }
        chaos_disarm();
        bk_json_stream_free(s);
        if (failed) {
            assert_int_equal(st, BK_ENOMEM);
            bk_error_free(err);
            assert_int_equal(chaos_live, base);
            continue;
        }
        assert_true(chaos_count <= n);
        assert_int_equal(got, 2);
        assert_int_equal(chaos_live, base);
        break;
    }
    bk_model_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(model_build_survives_every_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(decode_survives_every_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(failing_decode_survives_every_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(validating_decode_survives_every_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(validate_survives_every_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(encode_survives_every_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(stream_survives_every_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
