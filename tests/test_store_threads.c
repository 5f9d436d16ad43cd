/*
 * test_store_threads.c - one store handle shared by several threads.
 *
 * Four threads use one bk_store on a SQLite file (a pool of four
 * connections): each inserts N rows, reads each back, updates it, and
 * counts its rows; all of them also increment one shared counter row with
 * read-modify-write transactions (bk_store_transact, so lock contention is
 * retried). The final counts are exact: N rows per thread, every row
 * updated once, and the counter equal to the number of increments (no
 * lost update). A second test gives the threads a pool of one connection,
 * so they queue for it.
 *
 * N is 150 by default; BK_THREADS_N overrides it (the ThreadSanitizer
 * phase of scripts/test.sh runs this test with a smaller N).
 *
 * The same two tests run on PostgreSQL when a server is given
 * (BK_TEST_PG_URI or BK_TEST_PG_URI_FILE, see test_pg.h), each in a schema
 * of its own; there the counter's read-modify-write transactions are
 * SERIALIZABLE and the losers of a race fail with a serialization error,
 * which bk_store_transact retries.
 */
#include "test_util.h"
#include "test_pg.h"
#include <dirent.h>
#include <pthread.h>
#include <unistd.h>
#include <libpq-fe.h>   /* (also tells the build to link libpq: test_pg.h uses it) */

typedef struct {
    int64_t id;
    int32_t owner;
    int32_t seq;
    int64_t hits;
    char *name;
} Item;

static const bk_field ITEM_FIELDS[] = {
    BK_FIELD(Item, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_FIELD(Item, owner, BK_I32, .index = true),
    BK_FIELD(Item, seq, BK_I32),
    BK_FIELD(Item, hits, BK_I64),
    BK_FIELD(Item, name, BK_STR),
};
static const bk_model_def ITEM_DEF = BK_MODEL_DEF(Item, ITEM_FIELDS);

enum { THREADS = 4, COUNTER_ID = 1000000 };

static bk_model *g_item;
static char g_dir[256];
static int g_n = 150;
static char g_pg_uri[400];     /* "" when PostgreSQL is not tested */
static bool g_on_pg;           /* the current group's engine */

typedef struct {
    bk_store *s;
    int owner;
    int increments;
    bk_status st;
    char where[160];
} worker;

static char *dup_name(int owner, int seq)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "item %d/%d", owner, seq);
    char *p = bk_malloc(strlen(buf) + 1);
    if (p)
        strcpy(p, buf);
    return p;
}

/* Read the counter row and add one, in the caller's transaction. */
static bk_status bump(bk_store *tx, void *payload, bk_error **err)
{
    (void)payload;
    Item c;
    int64_t id = COUNTER_ID;
    bk_status st = bk_store_get(&c, tx, g_item, &id, err);
    if (st != BK_OK)
        return st;
    c.hits++;
    st = bk_store_update(tx, g_item, &c, NULL, 0, err);
    bk_clear(g_item, &c);
    return st;
}

#define STEP(call, what) do { \
        bk_error *e_ = NULL; \
        w->st = (call); \
        if (w->st != BK_OK) { \
            snprintf(w->where, sizeof(w->where), "%s: %s", what, bk_error_message(e_)); \
            bk_error_free(e_); \
            return NULL; \
        } \
    } while (0)

static void *run(void *p)
{
    worker *w = p;
    for (int i = 0; i < g_n; i++) {
        Item it = { 0, w->owner, i, 0, dup_name(w->owner, i) }, back;
        STEP(bk_store_insert(w->s, g_item, &it, &e_), "insert");
        STEP(bk_store_get(&back, w->s, g_item, &it.id, &e_), "get");
        if (back.owner != w->owner || back.seq != i || strcmp(back.name, it.name) != 0) {
            w->st = BK_ERROR;
            snprintf(w->where, sizeof(w->where), "row %lld read back wrong", (long long)it.id);
            return NULL;
        }
        back.hits = 1;
        const char *fields[] = { "hits" };
        STEP(bk_store_update(w->s, g_item, &back, fields, 1, &e_), "update");
        bk_clear(g_item, &back);
        bk_clear(g_item, &it);
        if (i % 10 == 0) {
            STEP(bk_store_transact(w->s, bump, NULL, 50, &e_), "transact");
            w->increments++;
        }
        if (i % 25 == 0) {
            bk_query *q = NULL;
            int64_t n = 0;
            STEP(bk_query_new(&q, w->s, g_item, &e_), "query");
            bk_error *e = NULL;
            w->st = bk_query_where_i64(q, "owner", BK_OP_EQ, w->owner, &e);
            if (w->st == BK_OK)
                w->st = bk_query_count(&n, q, &e);
            bk_query_free(q);
            if (w->st != BK_OK || n != i + 1) {
                snprintf(w->where, sizeof(w->where), "count %lld after %d: %s", (long long)n,
                    i + 1, bk_error_message(e));
                bk_error_free(e);
                if (w->st == BK_OK)
                    w->st = BK_ERROR;
                return NULL;
            }
        }
    }
    return NULL;
}

static void check_store(bk_store *s)
{
    bk_error *err = NULL;
    Item c = { COUNTER_ID, -1, 0, 0, NULL };
    c.name = bk_malloc(8);
    strcpy(c.name, "counter");
    assert_int_equal(bk_store_insert(s, g_item, &c, &err), BK_OK);
    bk_clear(g_item, &c);

    worker w[THREADS];
    pthread_t th[THREADS];
    for (int k = 0; k < THREADS; k++) {
        memset(&w[k], 0, sizeof(w[k]));
        w[k].s = s;
        w[k].owner = k;
        assert_int_equal(pthread_create(&th[k], NULL, run, &w[k]), 0);
    }
    int increments = 0;
    for (int k = 0; k < THREADS; k++) {
        pthread_join(th[k], NULL);
        if (w[k].st != BK_OK)
            fprintf(stderr, "thread %d: %s -> %s\n", k, bk_status_name(w[k].st), w[k].where);
        assert_int_equal(w[k].st, BK_OK);
        increments += w[k].increments;
    }
    /* exact final counts */
    bk_query *q = NULL;
    int64_t n = -1;
    assert_int_equal(bk_query_new(&q, s, g_item, &err), BK_OK);
    assert_int_equal(bk_query_where_i64(q, "owner", BK_OP_GE, 0, &err), BK_OK);
    assert_int_equal(bk_query_count(&n, q, &err), BK_OK);
    assert_int_equal(n, (int64_t)THREADS * g_n);
    assert_int_equal(bk_query_where_i64(q, "hits", BK_OP_EQ, 1, &err), BK_OK);
    assert_int_equal(bk_query_count(&n, q, &err), BK_OK);
    assert_int_equal(n, (int64_t)THREADS * g_n);          /* every row updated */
    bk_query_free(q);
    for (int k = 0; k < THREADS; k++) {
        assert_int_equal(bk_query_new(&q, s, g_item, &err), BK_OK);
        assert_int_equal(bk_query_where_i64(q, "owner", BK_OP_EQ, k, &err), BK_OK);
        assert_int_equal(bk_query_count(&n, q, &err), BK_OK);
        assert_int_equal(n, g_n);
        bk_query_free(q);
    }
    int64_t id = COUNTER_ID;
    assert_int_equal(bk_store_get(&c, s, g_item, &id, &err), BK_OK);
    assert_int_equal(c.hits, increments);                   /* no lost update */
    assert_int_equal(increments, THREADS * ((g_n + 9) / 10));
    bk_clear(g_item, &c);
}

/* PostgreSQL: a fresh schema "th<pid>_<name>" (replaced if it exists;
 * with create false, only dropped). */
static void pg_schema(char *uri, size_t n, const char *name, bool create)
{
    char schema[64], sql[320];
    snprintf(schema, sizeof(schema), "th%ld_%.*s", (long)getpid(),
        (int)strcspn(name, "."), name);
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE%s%s", schema,
        create ? "; CREATE SCHEMA " : "", create ? schema : "");
    assert_true(bk_test_pg_run(g_pg_uri, sql));
    snprintf(uri, n, "%s%coptions=-csearch_path%%3D%s", g_pg_uri,
        strchr(g_pg_uri, '?') ? '&' : '?', schema);
}

static bk_store *open_file(const char *name, size_t pool)
{
    char uri[600];
    if (g_on_pg)
        pg_schema(uri, sizeof(uri), name, true);
    else
        snprintf(uri, sizeof(uri), "sqlite:%s/%s", g_dir, name);
    bk_store_options o = BK_STORE_OPTIONS_INIT;
    o.pool_size = pool;
    bk_store *s = NULL;
    bk_error *err = NULL;
    bk_status st = bk_store_open(&s, uri, &o, &err);
    if (st == BK_OK)
        st = bk_store_register(s, g_item, "items", &err);
    if (st != BK_OK)
        fprintf(stderr, "open %s: %s\n", uri, bk_error_message(err));
    assert_int_equal(st, BK_OK);
    return s;
}

static void four_threads_one_store_exact_counts(void **state)
{
    (void)state;
    bk_store *s = open_file("threads.db", 4);
    check_store(s);
    bk_store_close(s);
}

static void four_threads_queue_for_one_connection(void **state)
{
    (void)state;
    bk_store *s = open_file("queue.db", 1);
    check_store(s);
    bk_store_close(s);
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[600];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int main(void)
{
    const char *env = getenv("BK_THREADS_N");
    if (env && atoi(env) > 0)
        g_n = atoi(env);
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof(g_dir), "%s/bk-threads-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    bk_error *err = NULL;
    if (bk_model_new(&g_item, &ITEM_DEF, &err) != BK_OK) {
        fprintf(stderr, "model: %s\n", bk_error_message(err));
        return 1;
    }
    int pg = bk_test_pg_uri(g_pg_uri, sizeof(g_pg_uri));
    if (pg < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(four_threads_one_store_exact_counts),
        cmocka_unit_test(four_threads_queue_for_one_connection),
    };
    int failed = cmocka_run_group_tests_name("threads[sqlite]", tests, NULL, NULL);
    if (pg > 0) {
        g_on_pg = true;
        failed += cmocka_run_group_tests_name("threads[postgresql]", tests, NULL, NULL);
        char uri[600];
        pg_schema(uri, sizeof(uri), "threads", false);
        pg_schema(uri, sizeof(uri), "queue", false);
    }
    bk_model_unref(g_item);
    rm_tree(g_dir);
    return failed;
}
