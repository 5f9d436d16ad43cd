/*
 * test_store_cursor.c - a cursor outlives its query.
 *
 * bk_query_run() binds the query's filter values and keyset values into
 * the statement the cursor steps later; the query may be freed (or changed)
 * right after the run. Each test frees the query before the first
 * bk_cursor_next(), scribbles over fresh allocations of the same sizes (so
 * a cursor still reading the query's memory would see other text), and
 * checks every row. Under ASan and valgrind a read of the freed values is
 * reported as such.
 */
#include "test_util.h"

typedef struct {
    int64_t id;
    char *name;
    char *city;
    int32_t n;
} Item;

static const bk_field ITEM_FIELDS[] = {
    BK_FIELD(Item, id,   BK_I64, .primary_key = true),
    BK_FIELD(Item, name, BK_STR, .index = true),
    BK_FIELD(Item, city, BK_STR),
    BK_FIELD(Item, n,    BK_I32),
};
static const bk_model_def ITEM_DEF = BK_MODEL_DEF(Item, ITEM_FIELDS);

static bk_model *g_item;

static const char *const NAMES[] = {
    "alpha", "alphabet", "beta", "gamma", "alpine", "delta", "alpaca", "epsilon",
};
static const char *const CITIES[] = { "Paris", "Lyon", "Paris", "Nice", "Lyon", "Paris",
    "Paris", "Nice" };
#define NITEMS 8

static bk_store *open_store(void)
{
    bk_store *s = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_store_open(&s, "sqlite::memory:", NULL, &err), BK_OK);
    assert_int_equal(bk_store_register(s, g_item, "items", &err), BK_OK);
    for (int i = 0; i < NITEMS; i++) {
        Item it = { i + 1, (char *)NAMES[i], (char *)CITIES[i], i * 10 };
        assert_int_equal(bk_store_insert(s, g_item, &it, &err), BK_OK);
    }
    return s;
}

/* Allocate and fill blocks of the sizes the query's values had, so freed
 * memory is reused and overwritten. */
static void scribble(void)
{
    for (size_t n = 1; n <= 64; n++) {
        char *p = bk_malloc(n);
        assert_non_null(p);
        memset(p, 'Z', n);
        bk_free(p);
    }
}

/* Read the cursor to the end: the ids, in order. */
static size_t drain(bk_cursor *c, int64_t *ids, size_t max)
{
    size_t got = 0;
    bk_error *err = NULL;
    Item it;
    bk_status st;
    while ((st = bk_cursor_next(c, &it, &err)) == BK_OK) {
        assert_true(got < max);
        ids[got++] = it.id;
        assert_string_equal(it.name, NAMES[it.id - 1]);
        assert_string_equal(it.city, CITIES[it.id - 1]);
        bk_clear(g_item, &it);
    }
    assert_int_equal(st, BK_ITEROVER);
    return got;
}

static void query_freed_before_the_cursor_steps(void **state)
{
    (void)state;
    bk_store *s = open_store();
    bk_error *err = NULL;
    bk_query *q = NULL;
    /* the values come from a buffer freed and overwritten too */
    char *city = bk_malloc(6);
    memcpy(city, "Paris", 6);
    assert_int_equal(bk_query_new(&q, s, g_item, &err), BK_OK);
    assert_int_equal(bk_query_where_str(q, "city", BK_OP_EQ, city, &err), BK_OK);
    assert_int_equal(bk_query_where_str(q, "name", BK_OP_PREFIX, "alp", &err), BK_OK);
    assert_int_equal(bk_query_where(q, "name", BK_OP_NOT_IN, "[\"zeta\", \"\", \"alpine\"]", &err),
        BK_OK);
    bk_free(city);
    bk_cursor *c = NULL;
    assert_int_equal(bk_query_run(&c, q, &err), BK_OK);
    bk_query_free(q);
    scribble();
    int64_t ids[NITEMS];
    size_t n = drain(c, ids, NITEMS);
    assert_int_equal(n, 2);                  /* alpha and alpaca are in Paris */
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 7);
    bk_cursor_free(c);
    bk_store_close(s);
}

static void keyset_values_outlive_the_query(void **state)
{
    (void)state;
    bk_store *s = open_store();
    bk_error *err = NULL;
    bk_query *q = NULL;
    bk_cursor *c = NULL;
    /* first page by name: alpaca, alpha */
    assert_int_equal(bk_query_new(&q, s, g_item, &err), BK_OK);
    assert_int_equal(bk_query_order_by(q, "name", false, &err), BK_OK);
    assert_int_equal(bk_query_limit(q, 2, &err), BK_OK);
    assert_int_equal(bk_query_run(&c, q, &err), BK_OK);
    bk_query_free(q);
    int64_t ids[NITEMS];
    assert_int_equal(drain(c, ids, NITEMS), 2);
    assert_int_equal(ids[0], 7);
    assert_int_equal(ids[1], 1);
    char *token = NULL;
    assert_int_equal(bk_cursor_token(&token, c, &err), BK_OK);
    bk_cursor_free(c);
    /* the rest after the token (its text key is bound), query freed first */
    assert_int_equal(bk_query_new(&q, s, g_item, &err), BK_OK);
    assert_int_equal(bk_query_order_by(q, "name", false, &err), BK_OK);
    assert_int_equal(bk_query_where_str(q, "city", BK_OP_NE, "Nice", &err), BK_OK);
    assert_int_equal(bk_query_after(q, token, &err), BK_OK);
    bk_free(token);
    assert_int_equal(bk_query_run(&c, q, &err), BK_OK);
    bk_query_free(q);
    scribble();
    size_t n = drain(c, ids, NITEMS);
    /* alphabet, alpine, beta, delta (not gamma, epsilon: Nice) */
    assert_int_equal(n, 4);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 5);
    assert_int_equal(ids[2], 3);
    assert_int_equal(ids[3], 6);
    bk_cursor_free(c);
    bk_store_close(s);
}

static void query_changed_after_run_leaves_the_cursor_alone(void **state)
{
    (void)state;
    bk_store *s = open_store();
    bk_error *err = NULL;
    bk_query *q = NULL;
    bk_cursor *c1 = NULL, *c2 = NULL;
    assert_int_equal(bk_query_new(&q, s, g_item, &err), BK_OK);
    assert_int_equal(bk_query_where_str(q, "city", BK_OP_EQ, "Lyon", &err), BK_OK);
    assert_int_equal(bk_query_run(&c1, q, &err), BK_OK);
    /* more filters (the query's value array may move) and a second run */
    for (int i = 0; i < 20; i++)
        assert_int_equal(bk_query_where_str(q, "name", BK_OP_NE, "x-not-a-name", &err), BK_OK);
    assert_int_equal(bk_query_where_str(q, "name", BK_OP_EQ, "beta", &err), BK_OK);
    assert_int_equal(bk_query_run(&c2, q, &err), BK_OK);
    bk_query_free(q);
    scribble();
    int64_t ids[NITEMS];
    assert_int_equal(drain(c2, ids, NITEMS), 0);     /* beta is not in Lyon */
    assert_int_equal(drain(c1, ids, NITEMS), 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 5);
    bk_cursor_free(c1);
    bk_cursor_free(c2);
    bk_store_close(s);
}

static void empty_string_values_outlive_the_query(void **state)
{
    (void)state;
    bk_store *s = open_store();
    bk_error *err = NULL;
    bk_query *q = NULL;
    bk_cursor *c = NULL;
    assert_int_equal(bk_query_new(&q, s, g_item, &err), BK_OK);
    assert_int_equal(bk_query_where_str(q, "name", BK_OP_NE, "", &err), BK_OK);
    assert_int_equal(bk_query_where_str(q, "city", BK_OP_CONTAINS, "ice", &err), BK_OK);
    assert_int_equal(bk_query_run(&c, q, &err), BK_OK);
    bk_query_free(q);
    scribble();
    int64_t ids[NITEMS];
    assert_int_equal(drain(c, ids, NITEMS), 2);       /* gamma, epsilon: Nice */
    assert_int_equal(ids[0], 4);
    assert_int_equal(ids[1], 8);
    bk_cursor_free(c);
    bk_store_close(s);
}

int main(void)
{
    bk_error *err = NULL;
    if (bk_model_new(&g_item, &ITEM_DEF, &err) != BK_OK) {
        fprintf(stderr, "model: %s\n", bk_error_message(err));
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(query_freed_before_the_cursor_steps),
        cmocka_unit_test(keyset_values_outlive_the_query),
        cmocka_unit_test(query_changed_after_run_leaves_the_cursor_alone),
        cmocka_unit_test(empty_string_values_outlive_the_query),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    bk_model_unref(g_item);
    return failed;
}
