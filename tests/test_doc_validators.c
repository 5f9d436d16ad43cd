/*
 * test_doc_validators.c - validator names of model description documents
 * resolved to functions (bk_model_from_doc_ex, bk_doc_options) and one
 * field's value encoded for such functions (bk_json_encode_field).
 */
#include "test_util.h"
#include "test_chaos.h"

/* Event{start, end: i64, tags: list<str>} with a model validator, and a
 * field validator on Plan.name; Plan holds a list of events. */
static const char DOC[] =
    "{\"bk_model\":1,\"root\":\"Plan\",\"models\":["
    "{\"name\":\"Plan\",\"fields\":["
    "{\"name\":\"name\",\"type\":\"str\",\"max_len\":5,\"validator\":\"no_space\"},"
    "{\"name\":\"events\",\"type\":\"list<Event>\"}]},"
    "{\"name\":\"Event\",\"validator\":\"span_ok\",\"fields\":["
    "{\"name\":\"start\",\"type\":\"i64\"},"
    "{\"name\":\"end\",\"type\":\"i64\"}]}]}";

/* Tag: label checked by no_space only (no constraint), so that the
 * model's checks exist only through the resolved function. */
static const char DOC_ONLY_FN[] =
    "{\"bk_model\":1,\"root\":\"Tag\",\"models\":["
    "{\"name\":\"Tag\",\"fields\":["
    "{\"name\":\"label\",\"type\":\"str\",\"validator\":\"no_space\"}]}]}";

typedef struct { int calls; } counter;

static int no_space(const void *value, bk_report *r, void *payload)
{
    const char *s = *(char *const *)value;
    ((counter *)payload)->calls++;
    if (s && strchr(s, ' '))
        bk_report_problem(r, NULL, "no_space", "must not contain spaces", "{\"char\": \" \"}");
    return 0;
}

/* Event is a run-time model: int64 start then end. */
static int span_ok(const void *value, bk_report *r, void *payload)
{
    const int64_t *p = value;
    ((counter *)payload)->calls++;
    if (p[1] < p[0])
        bk_report_problem(r, "end", "end_before_start", "end must not be before start", NULL);
    return 0;
}

static int stop_all(const void *value, bk_report *r, void *payload)
{
    (void)value; (void)r; (void)payload;
    return 1;
}

static bk_status decode(bk_model *m, const char *json, bk_error **err)
{
    bk_record *rec = NULL;
    bk_status st = bk_record_new(&rec, m, err);
    if (st == BK_OK)
        st = bk_record_decode(rec, json, strlen(json), NULL, err);
    bk_record_free(rec);
    return st;
}

static void table_resolves_field_and_model_validators(void **state)
{
    (void)state;
    counter c1 = { 0 }, c2 = { 0 };
    const bk_doc_validator table[] = {
        { "no_space", no_space, &c1 },
        { "span_ok", span_ok, &c2 },
    };
    bk_doc_options o = BK_DOC_OPTIONS_INIT;
    o.validators = table;
    o.nvalidators = 2;
    bk_model *m = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_model_from_doc_ex(&m, DOC, strlen(DOC), &o, &err), BK_OK);

    assert_int_equal(decode(m, "{\"name\":\"ab\",\"events\":[{\"start\":1,\"end\":2}]}", &err),
        BK_OK);
    assert_int_equal(c1.calls, 1);
    assert_int_equal(c2.calls, 1);

    /* every problem together: a built-in constraint, the field validator
     * (same field), the model validator of list element 1 */
    assert_int_equal(decode(m, "{\"name\":\"a b c d\",\"events\":[{\"start\":1,\"end\":2},"
        "{\"start\":5,\"end\":3}]}", &err), BK_EVALIDATION);
    assert_int_equal(bk_error_count(err), 3);
    assert_string_equal(bk_error_path(err, 0), "$.name");
    assert_string_equal(bk_error_problem_code(err, 0), "too_long");
    assert_string_equal(bk_error_path(err, 1), "$.name");
    assert_string_equal(bk_error_problem_code(err, 1), "custom:no_space");
    assert_string_equal(bk_error_problem_message(err, 1), "must not contain spaces");
    assert_string_equal(bk_error_problem_params(err, 1), "{\"char\": \" \"}");
    assert_string_equal(bk_error_path(err, 2), "$.events[1].end");
    assert_string_equal(bk_error_problem_code(err, 2), "custom:end_before_start");
    assert_string_equal(bk_error_problem_message(err, 2), "end must not be before start");
    bk_error_free(err);
    err = NULL;
    assert_int_equal(c1.calls, 2);
    assert_int_equal(c2.calls, 3);
    bk_model_unref(m);
}

/* The resolver sees the declaring model and field; it hands out one
 * payload per validator, released once when the model is freed. */
typedef struct resolver_state {
    int resolved, released, fail_with;
    char seen[4][48];
    counter payloads[4];
} resolver_state;

static int resolve(bk_validate_fn *fn_out, void **payload_out, const bk_model *model,
    long field, const char *name, void *payload)
{
    resolver_state *rs = payload;
    if (rs->fail_with)
        return rs->fail_with;
    if (rs->resolved >= 4)
        return -1;
    snprintf(rs->seen[rs->resolved], sizeof(rs->seen[0]), "%s.%s=%s", bk_model_name(model),
        field >= 0 ? bk_model_field_name(model, (size_t)field) : "*", name);
    if (strcmp(name, "no_space") == 0) {
        if (field < 0 || bk_model_field_kind(model, (size_t)field) != BK_STR)
            return -2;                    /* a resolver can check the field's type */
        *fn_out = no_space;
    } else if (strcmp(name, "span_ok") == 0) {
        *fn_out = span_ok;
    } else {
        return 0;                         /* unknown: fn_out stays NULL */
    }
    *payload_out = &rs->payloads[rs->resolved++];
    return 0;
}

static void release(void *validator_payload, void *payload)
{
    resolver_state *rs = payload;
    assert_true((counter *)validator_payload >= rs->payloads
        && (counter *)validator_payload < rs->payloads + 4);
    rs->released++;
}

static void resolver_gets_model_and_field_and_releases_payloads(void **state)
{
    (void)state;
    resolver_state rs;
    memset(&rs, 0, sizeof(rs));
    bk_doc_options o;
    assert_int_equal(bk_doc_options_init(&o), BK_OK);
    assert_int_equal(bk_doc_options_init(NULL), BK_EINVAL);
    o.resolve = resolve;
    o.release = release;
    o.payload = &rs;
    bk_model *m = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_model_from_doc_ex(&m, DOC, strlen(DOC), &o, &err), BK_OK);
    assert_int_equal(rs.resolved, 2);
    assert_string_equal(rs.seen[0], "Plan.name=no_space");
    assert_string_equal(rs.seen[1], "Event.*=span_ok");
    assert_int_equal(decode(m, "{\"name\":\"x\",\"events\":[{\"start\":3,\"end\":1}]}", &err),
        BK_EVALIDATION);
    bk_assert_problem(err, "$.events[0].end", "custom:end_before_start");
    bk_error_free(err);
    err = NULL;
    assert_int_equal(rs.payloads[0].calls, 1);
    assert_int_equal(rs.payloads[1].calls, 1);

    bk_model *m2 = bk_model_ref(m);
    bk_model_unref(m);
    assert_int_equal(rs.released, 0);      /* still referenced */
    bk_model_unref(m2);
    assert_int_equal(rs.released, 2);
}

static void unknown_name_fails_the_load_with_the_field(void **state)
{
    (void)state;
    counter c = { 0 };
    const bk_doc_validator table[] = { { "span_ok", span_ok, &c } };
    bk_doc_options o = BK_DOC_OPTIONS_INIT;
    o.validators = table;
    o.nvalidators = 1;
    bk_model *m = (bk_model *)&c;
    bk_error *err = NULL;
    assert_int_equal(bk_model_from_doc_ex(&m, DOC, strlen(DOC), &o, &err), BK_EMODEL);
    assert_null(m);
    assert_int_equal(bk_error_code(err), BK_EMODEL);
    assert_string_equal(bk_error_message(err),
        "model Plan, field name: no validator named \"no_space\"");
    bk_error_free(err);
    err = NULL;

    /* a model validator the resolver does not know; payloads resolved
     * before are released */
    resolver_state rs;
    memset(&rs, 0, sizeof(rs));
    static const char doc2[] =
        "{\"bk_model\":1,\"root\":\"A\",\"models\":[{\"name\":\"A\",\"validator\":\"nope\","
        "\"fields\":[{\"name\":\"s\",\"type\":\"str\",\"validator\":\"no_space\"}]}]}";
    o = (bk_doc_options)BK_DOC_OPTIONS_INIT;
    o.resolve = resolve;
    o.release = release;
    o.payload = &rs;
    assert_int_equal(bk_model_from_doc_ex(&m, doc2, strlen(doc2), &o, &err), BK_EMODEL);
    assert_string_equal(bk_error_message(err), "model A: no validator named \"nope\"");
    bk_error_free(err);
    err = NULL;
    assert_int_equal(rs.resolved, 1);
    assert_int_equal(rs.released, 1);

    /* options with neither table nor resolver: every name is unknown */
    o = (bk_doc_options)BK_DOC_OPTIONS_INIT;
    assert_int_equal(bk_model_from_doc_ex(&m, DOC, strlen(DOC), &o, &err), BK_EMODEL);
    bk_error_free(err);
    err = NULL;

    /* the resolver failing: BK_EUSER */
    memset(&rs, 0, sizeof(rs));
    rs.fail_with = 7;
    o.resolve = resolve;
    o.payload = &rs;
    assert_int_equal(bk_model_from_doc_ex(&m, DOC, strlen(DOC), &o, &err), BK_EUSER);
    assert_string_equal(bk_error_message(err),
        "model Plan, field name: the validator resolver failed for \"no_space\" (7)");
    bk_error_free(err);
    err = NULL;

    /* a bad version; NULL options = bk_model_from_doc */
    o.version = 99;
    assert_int_equal(bk_model_from_doc_ex(&m, DOC, strlen(DOC), &o, &err), BK_EINVAL);
    bk_error_free(err);
    err = NULL;
    assert_int_equal(bk_model_from_doc_ex(&m, DOC, strlen(DOC), NULL, &err), BK_OK);
    assert_int_equal(decode(m, "{\"name\":\"a b\",\"events\":[{\"start\":3,\"end\":1}]}", &err),
        BK_OK);                             /* names only: nothing attached */
    bk_model_unref(m);
}

static void names_survive_a_round_trip(void **state)
{
    (void)state;
    counter c = { 0 };
    const bk_doc_validator table[] = { { "no_space", no_space, &c }, { "span_ok", span_ok, &c } };
    bk_doc_options o = BK_DOC_OPTIONS_INIT;
    o.validators = table;
    o.nvalidators = 2;
    bk_model *a = NULL, *b = NULL;
    char *ta = NULL, *tb = NULL;
    assert_int_equal(bk_model_from_doc_ex(&a, DOC, strlen(DOC), &o, NULL), BK_OK);
    assert_int_equal(bk_model_from_doc(&b, DOC, strlen(DOC), NULL), BK_OK);
    assert_int_equal(bk_model_to_doc(&ta, NULL, a, false, NULL), BK_OK);
    assert_int_equal(bk_model_to_doc(&tb, NULL, b, false, NULL), BK_OK);
    assert_string_equal(ta, tb);
    assert_non_null(strstr(ta, "\"validator\":\"no_space\""));
    assert_non_null(strstr(ta, "\"validator\":\"span_ok\""));
    /* and loads again, resolved */
    bk_model *c2 = NULL;
    assert_int_equal(bk_model_from_doc_ex(&c2, ta, strlen(ta), &o, NULL), BK_OK);
    bk_error *err = NULL;
    assert_int_equal(decode(c2, "{\"name\":\"a b\",\"events\":[]}", &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.name", "custom:no_space");
    bk_error_free(err);
    bk_free(ta);
    bk_free(tb);
    bk_model_unref(a);
    bk_model_unref(b);
    bk_model_unref(c2);
}

/* A model whose only check is a resolved function validates (its
 * has_checks is recomputed), on decode and with bk_validate. */
static void resolved_function_is_the_only_check(void **state)
{
    (void)state;
    counter c = { 0 };
    const bk_doc_validator table[] = { { "no_space", no_space, &c } };
    bk_doc_options o = BK_DOC_OPTIONS_INIT;
    o.validators = table;
    o.nvalidators = 1;
    bk_model *m = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_model_from_doc_ex(&m, DOC_ONLY_FN, strlen(DOC_ONLY_FN), &o, &err),
        BK_OK);
    bk_record *rec = NULL;
    assert_int_equal(bk_record_new(&rec, m, NULL), BK_OK);
    bk_decode_options d = BK_DECODE_OPTIONS_INIT;
    d.skip_validation = true;
    assert_int_equal(bk_record_decode(rec, "{\"label\":\"a b\"}", 15, &d, &err), BK_OK);
    assert_int_equal(c.calls, 0);
    assert_int_equal(bk_validate(m, bk_record_data(rec), 0, &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.label", "custom:no_space");
    bk_error_free(err);
    err = NULL;
    assert_int_equal(bk_record_decode(rec, "{\"label\":\"a b\"}", 15, NULL, &err),
        BK_EVALIDATION);
    bk_error_free(err);
    assert_int_equal(c.calls, 2);
    bk_record_free(rec);
    bk_model_unref(m);

    /* a validator returning non-zero stops the validation: BK_EUSER */
    const bk_doc_validator stop[] = { { "no_space", stop_all, NULL } };
    o.validators = stop;
    assert_int_equal(bk_model_from_doc_ex(&m, DOC_ONLY_FN, strlen(DOC_ONLY_FN), &o, NULL),
        BK_OK);
    err = NULL;
    assert_int_equal(decode(m, "{\"label\":\"ab\"}", &err), BK_EUSER);
    bk_error_free(err);
    bk_model_unref(m);
}

/* bk_json_encode_field: what a generic validator (a binding's) reads. */
typedef struct enc_probe {
    const bk_model *model;
    size_t field;
    char text[128];
} enc_probe;

static int encode_probe(const void *value, bk_report *r, void *payload)
{
    enc_probe *p = payload;
    bk_buf b = BK_BUF_INIT;
    (void)r;
    if (bk_json_encode_field(&b, p->model, p->field, value, NULL) != BK_OK)
        return 1;
    snprintf(p->text, sizeof(p->text), "%s", b.ptr);
    bk_buf_dispose(&b);
    return 0;
}

static int resolve_probe(bk_validate_fn *fn_out, void **payload_out, const bk_model *model,
    long field, const char *name, void *payload)
{
    enc_probe *p = payload;
    (void)name;
    p->model = model;                        /* borrowed: lives as long as the payload */
    p->field = (size_t)field;
    *fn_out = encode_probe;
    *payload_out = p;
    return 0;
}

static void encode_field_gives_a_validator_the_value_as_json(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"bk_model\":1,\"root\":\"B\",\"models\":["
        "{\"name\":\"B\",\"fields\":[{\"name\":\"n\",\"type\":\"i32\"},"
        "{\"name\":\"at\",\"type\":\"list<Span>\",\"validator\":\"probe\"}]},"
        "{\"name\":\"Span\",\"fields\":[{\"name\":\"when\",\"type\":\"timestamp\"}]}]}";
    enc_probe p;
    memset(&p, 0, sizeof(p));
    bk_doc_options o = BK_DOC_OPTIONS_INIT;
    o.resolve = resolve_probe;
    o.payload = &p;
    bk_model *m = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_model_from_doc_ex(&m, doc, strlen(doc), &o, &err), BK_OK);
    assert_int_equal(decode(m, "{\"n\":1,\"at\":[{\"when\":\"2024-01-02T03:04:05+00:00\"}]}",
        &err), BK_OK);
    assert_string_equal(p.text, "[{\"when\":\"2024-01-02T03:04:05Z\"}]");

    bk_buf b = BK_BUF_INIT;
    int32_t n = 5;
    assert_int_equal(bk_json_encode_field(&b, m, 0, &n, NULL), BK_OK);
    assert_string_equal(b.ptr, "5");
    assert_int_equal(bk_json_encode_field(&b, m, 2, &n, NULL), BK_EINVAL);
    assert_int_equal(bk_json_encode_field(&b, NULL, 0, &n, NULL), BK_EINVAL);
    assert_int_equal(bk_json_encode_field(&b, m, 0, NULL, NULL), BK_EINVAL);
    assert_string_equal(b.ptr, "5");
    bk_buf_dispose(&b);
    bk_model_unref(m);
}

/* Allocation failures anywhere in a load with a resolver: a clean
 * BK_ENOMEM, every resolved payload released, nothing leaked. */

static void load_survives_every_allocation_failure(void **state)
{
    (void)state;
    assert_int_equal(bk_set_allocator(chaos_malloc, chaos_realloc, chaos_free), BK_OK);
    chaos_live = 0;
    for (long n = 0;; n++) {
        resolver_state rs;
        memset(&rs, 0, sizeof(rs));
        bk_doc_options o = BK_DOC_OPTIONS_INIT;
        o.resolve = resolve;
        o.release = release;
        o.payload = &rs;
        bk_model *m = NULL;
        bk_error *err = NULL;
        chaos_arm(n);
        bk_status st = bk_model_from_doc_ex(&m, DOC, strlen(DOC), &o, &err);
        bool done = chaos_count <= n;            /* no allocation failed */
        chaos_disarm();
        if (st == BK_OK) {
            assert_non_null(m);
            assert_int_equal(rs.resolved, 2);
            bk_model_unref(m);
        } else {
            assert_int_equal(st, BK_ENOMEM);
            assert_null(m);
            bk_error_free(err);
        }
        assert_int_equal(rs.released, rs.resolved);
        assert_int_equal(chaos_live, 0);
        if (done) {
            assert_int_equal(st, BK_OK);
            break;
        }
    }
    assert_int_equal(bk_set_allocator(NULL, NULL, NULL), BK_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_resolves_field_and_model_validators),
        cmocka_unit_test(resolver_gets_model_and_field_and_releases_payloads),
        cmocka_unit_test(unknown_name_fails_the_load_with_the_field),
        cmocka_unit_test(names_survive_a_round_trip),
        cmocka_unit_test(resolved_function_is_the_only_check),
        cmocka_unit_test(encode_field_gives_a_validator_the_value_as_json),
        cmocka_unit_test(load_survives_every_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
