/*
 * test_store_pg.c - what only the PostgreSQL driver (lib/store_pg.c) does:
 * its URIs and their messages, lock timeouts, cursors over a connection
 * that breaks, identity sequences moved by keys given concurrently. The conformance suite (test_store.c) covers the rest.
 *
 * Needs a server: BK_TEST_PG_URI, or BK_TEST_PG_URI_FILE (the ctest
 * fixture pg_server_start); without one every test is skipped. Each test
 * works in a schema of its own, t<pid>_<n>, dropped at the end.
 *
 * Only the public API is used.
 */
#include "test_util.h"
#include "test_pg.h"
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <libpq-fe.h>

static char g_pg_uri[400];
static int g_seq;

#define E (&err_)
#define OK(call) do { \
        bk_error *err_ = NULL; \
        bk_status st_ = (call); \
        if (st_ != BK_OK) \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call, \
                bk_status_name(st_), bk_error_message(err_)); \
        bk_error_free(err_); \
        assert_int_equal(st_, BK_OK); \
    } while (0)

static bool pg_run(const char *sql) { return bk_test_pg_run(g_pg_uri, sql); }

/* A fresh schema; out: a URI whose search path is it, plus `extra`. */
static void fresh_uri(char *out, size_t n, const char *extra)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE SCHEMA t%ld_%d", (long)getpid(), ++g_seq);
    assert_true(pg_run(sql));
    snprintf(out, n, "%s%coptions=-csearch_path%%3Dt%ld_%d%s", g_pg_uri,
        strchr(g_pg_uri, '?') ? '&' : '?', (long)getpid(), g_seq, extra ? extra : "");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct { int64_t id; int64_t n; } Counter;
static const bk_field COUNTER_FIELDS[] = {
    BK_FIELD(Counter, id, BK_I64, .primary_key = true),
    BK_FIELD(Counter, n, BK_I64),
};
static const bk_model_def COUNTER_DEF = BK_MODEL_DEF(Counter, COUNTER_FIELDS);
static bk_model *g_counter;

static int setup(void **state)
{
    (void)state;
    if (!g_pg_uri[0])
        skip();
    return 0;
}

/* ---- URIs ------------------------------------------------------------------------------ */

/* A URI libpq cannot parse is BK_EINVAL with libpq's reason, which may
 * quote the offending value: a password given as a query parameter is
 * still never shown. */
static void a_bad_uri_never_shows_the_password(void **state)
{
    (void)state;
    static const char *uris[] = {
        "postgresql:///db?user=bk&password=s3cr%zzet",
        "postgresql:///db?password=s3cr%zzet&user=bk",
        "postgres://bk:s3cr%zzet@localhost/db",
        "postgresql://bk:s3cr%zzet@localhost/db?password=s3cr%zzet",
    };
    for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
        bk_store *s = NULL;
        bk_error *err = NULL;
        assert_int_equal(bk_store_open(&s, uris[i], NULL, &err), BK_EINVAL);
        assert_null(s);
        const char *msg = bk_error_message(err);
        if (strstr(msg, "s3cr"))
            fprintf(stderr, "%s -> %s\n", uris[i], msg);
        assert_null(strstr(msg, "s3cr"));
        assert_non_null(strstr(msg, "bad connection URI"));
        bk_error_free(err);
    }
}

/* ---- lock waits -------------------------------------------------------------------------- */

/* busy_timeout_ms = 0 means "do not wait" (SQLite: BK_EBUSY at once), not
 * PostgreSQL's lock_timeout = 0, "wait forever". */
static void a_zero_busy_timeout_does_not_wait_for_locks(void **state)
{
    (void)state;
    char uri[700];
    fresh_uri(uri, sizeof(uri), NULL);
    bk_store_options o = BK_STORE_OPTIONS_INIT;
    o.busy_timeout_ms = 0;
    bk_store *a = NULL, *b = NULL, *tx = NULL;
    OK(bk_store_open(&a, uri, &o, E));
    OK(bk_store_open(&b, uri, &o, E));
    OK(bk_store_register(a, g_counter, "counter", E));
    OK(bk_store_register(b, g_counter, "counter", E));
    Counter c = { 1, 0 };
    OK(bk_store_insert(a, g_counter, &c, E));
    /* a holds the row lock; b must not wait for it */
    OK(bk_store_begin(&tx, a, E));
    c.n = 1;
    OK(bk_store_update(tx, g_counter, &c, NULL, 0, E));
    double t0 = now_s();
    bk_error *err = NULL;
    Counter c2 = { 1, 2 };
    /* without the fix this call would block until the row is released:
     * let an alarm end the test instead of hanging ctest */
    alarm(20);
    bk_status st = bk_store_update(b, g_counter, &c2, NULL, 0, &err);
    alarm(0);
    double took = now_s() - t0;
    if (st != BK_EBUSY)
        fprintf(stderr, "update -> %s: %s\n", bk_status_name(st), bk_error_message(err));
    assert_int_equal(st, BK_EBUSY);
    assert_true(took < 2.0);
    bk_error_free(err);
    OK(bk_store_rollback(tx, E));
    OK(bk_store_update(b, g_counter, &c2, NULL, 0, E));
    bk_store_close(a);
    bk_store_close(b);
}

/* ---- a connection that breaks under a cursor --------------------------------------------- */

static void kill_backends(const char *app) { assert_true(bk_test_pg_kill(g_pg_uri, app)); }

/* Read a cursor to its end: the status that ended it. */
static bk_status read_to_end(bk_cursor *cur, int64_t *rows)
{
    Counter c;
    bk_status st;
    *rows = 0;
    bk_error *err = NULL;
    while ((st = bk_cursor_next(cur, &c, &err)) == BK_OK)
        ++*rows;
    bk_error_free(err);
    return st;
}

/* A cursor streaming rows when its connection breaks fails with BK_EIO
 * (after the rows already received), never with rows of another
 * statement; freeing it is safe, and the next call reconnects. In a
 * transaction, the transaction is lost: its commit fails. */
static void a_cursor_over_a_broken_connection_fails_cleanly(void **state)
{
    (void)state;
    char uri[700], app[64], extra[96];
    snprintf(app, sizeof(app), "bk_cur_%ld", (long)getpid());
    snprintf(extra, sizeof(extra), "&application_name=%s", app);
    fresh_uri(uri, sizeof(uri), extra);
    bk_store_options o = BK_STORE_OPTIONS_INIT;
    o.pool_size = 1;
    bk_store *s = NULL;
    OK(bk_store_open(&s, uri, &o, E));
    OK(bk_store_register(s, g_counter, "counter", E));
    enum { N = 20000 };
    Counter *rows = calloc(N, sizeof(*rows));
    assert_non_null(rows);
    for (int i = 0; i < N; i++)
        rows[i] = (Counter){ i + 1, i };
    OK(bk_store_insert_many(s, g_counter, rows, N, E));
    free(rows);
    for (int in_tx = 0; in_tx < 2; in_tx++) {
        bk_store *tx = NULL, *on = s;
        if (in_tx) {
            OK(bk_store_begin(&tx, s, E));
            on = tx;
        }
        bk_query *q = NULL;
        bk_cursor *cur = NULL;
        Counter c;
        OK(bk_query_new(&q, on, g_counter, E));
        OK(bk_query_run(&cur, q, E));
        OK(bk_cursor_next(cur, &c, E));
        assert_int_equal(c.id, 1);
        kill_backends(app);
        int64_t n = 0;
        assert_int_equal(read_to_end(cur, &n), BK_EIO);
        assert_true(n < N - 1);
        bk_cursor_free(cur);
        bk_query_free(q);
        if (in_tx) {
            bk_error *err = NULL;
            assert_int_equal(bk_store_commit(tx, &err), BK_EIO);
            bk_error_free(err);
        }
        int64_t count = -1;
        OK(bk_query_new(&q, s, g_counter, E));
        OK(bk_query_count(&count, q, E));
        assert_int_equal(count, N);
        bk_query_free(q);
    }
    bk_store_close(s);
}

/* ---- an aborted transaction ------------------------------------------------------------ */

#define FAILS(code, call) do { \
        bk_error *err_ = NULL; \
        bk_status st_ = (call); \
        if (st_ != (code)) \
            fprintf(stderr, "%s:%d: %s -> %s (want %s): %s\n", __FILE__, __LINE__, #call, \
                bk_status_name(st_), bk_status_name(code), bk_error_message(err_)); \
        assert_int_equal(st_, (code)); \
        bk_error_free(err_); \
    } while (0)

/* A statement that fails aborts PostgreSQL's transaction: every later
 * statement, and the commit, fail with the status of the first error
 * (docs/storage.md), not a generic BK_EIO. */
static void an_aborted_transaction_reports_the_first_error(void **state)
{
    (void)state;
    char uri[700];
    fresh_uri(uri, sizeof(uri), NULL);
    bk_store *s = NULL, *tx = NULL;
    OK(bk_store_open(&s, uri, NULL, E));
    OK(bk_store_register(s, g_counter, "counter", E));
    Counter c = { 1, 0 };
    OK(bk_store_insert(s, g_counter, &c, E));
    OK(bk_store_begin(&tx, s, E));
    FAILS(BK_ECONFLICT, bk_store_insert(tx, g_counter, &c, E));
    c.id = 2;
    FAILS(BK_ECONFLICT, bk_store_insert(tx, g_counter, &c, E));
    FAILS(BK_ECONFLICT, bk_store_commit(tx, E));
    OK(bk_store_insert(s, g_counter, &c, E));       /* the connection is fine again */
    bk_store_close(s);
}

/* A transaction in which a statement failed is still a transaction: when
 * its connection then breaks, its later statements fail (BK_EIO) until it
 * is rolled back, and never run in autocommit on the new connection. */
static void a_failed_then_lost_transaction_never_goes_on_in_autocommit(void **state)
{
    (void)state;
    char uri[700], app[64], extra[96];
    snprintf(app, sizeof(app), "bk_failost_%ld", (long)getpid());
    snprintf(extra, sizeof(extra), "&application_name=%s", app);
    fresh_uri(uri, sizeof(uri), extra);
    bk_store_options o = BK_STORE_OPTIONS_INIT;
    o.pool_size = 1;
    bk_store *s = NULL, *tx = NULL;
    OK(bk_store_open(&s, uri, &o, E));
    OK(bk_store_register(s, g_counter, "counter", E));
    Counter c = { 1, 0 };
    OK(bk_store_insert(s, g_counter, &c, E));
    OK(bk_store_begin(&tx, s, E));
    FAILS(BK_ECONFLICT, bk_store_insert(tx, g_counter, &c, E));
    kill_backends(app);
    c.id = 2;
    FAILS(BK_EIO, bk_store_insert(tx, g_counter, &c, E));
    FAILS(BK_EIO, bk_store_insert(tx, g_counter, &c, E));
    OK(bk_store_rollback(tx, E));
    int64_t n = -1;
    bk_query *q = NULL;
    OK(bk_query_new(&q, s, g_counter, E));
    OK(bk_query_count(&n, q, E));
    assert_int_equal(n, 1);                         /* id 2 was never written */
    bk_query_free(q);
    bk_store_close(s);
}

/* ---- a cursor freed before its end -------------------------------------------------------- */

typedef struct { int64_t id; char *pad; } Slow;
static const bk_field SLOW_FIELDS[] = {
    BK_FIELD(Slow, id, BK_I64, .primary_key = true),
    BK_FIELD(Slow, pad, BK_STR),
};
static const bk_model_def SLOW_DEF = BK_MODEL_DEF(Slow, SLOW_FIELDS);

/* A fresh schema with table "slow" of 40 rows, each costing the server
 * 25 ms to read for the role bk_slow_reader (a row security policy that
 * sleeps; rows over 8 kB, so that each is sent as it is made). out: a
 * URI for that role, with `options` (URI-encoded -c settings) added. */
static void slow_table(char *out, size_t n, bk_model *m, const char *options)
{
    char uri[700], sql[1024], schema[64];
    fresh_uri(uri, sizeof(uri), NULL);
    snprintf(schema, sizeof(schema), "t%ld_%d", (long)getpid(), g_seq);
    bk_store *owner = NULL;
    OK(bk_store_open(&owner, uri, NULL, E));
    OK(bk_store_register(owner, m, "slow", E));
    char *pad = malloc(9001);
    assert_non_null(pad);
    memset(pad, 'x', 9000);
    pad[9000] = '\0';
    for (int i = 1; i <= 40; i++) {
        Slow row = { i, pad };
        OK(bk_store_insert(owner, m, &row, E));
    }
    free(pad);
    bk_store_close(owner);
    snprintf(sql, sizeof(sql), "DO $$ BEGIN CREATE ROLE bk_slow_reader LOGIN; EXCEPTION WHEN "
        "duplicate_object THEN NULL; END $$; GRANT USAGE ON SCHEMA %s TO bk_slow_reader; "
        "GRANT SELECT ON %s.slow TO bk_slow_reader; "
        "ALTER TABLE %s.slow ENABLE ROW LEVEL SECURITY; CREATE POLICY slow_rows ON %s.slow "
        "USING ((SELECT true FROM pg_sleep(0.025 + 0 * id)))", schema, schema, schema, schema);
    assert_true(pg_run(sql));
    /* (rows in key order without a sort, which would read them all first) */
    snprintf(out, n, "%s%%20-cenable_sort%%3Doff%s&user=bk_slow_reader", uri, options);
}

/* A cursor of a transaction freed before its end, whose statement then
 * fails on the server (here a statement timeout, BK_EBUSY: retryable):
 * the transaction is aborted, and its commit reports that error's status,
 * as when the cursor is read to its end. */
static void a_cursor_freed_early_keeps_the_status_of_its_error(void **state)
{
    (void)state;
    bk_model *m = NULL;
    OK(bk_model_new(&m, &SLOW_DEF, E));
    char uri[900];
    slow_table(uri, sizeof(uri), m, "%20-cstatement_timeout%3D300");
    bk_store *s = NULL, *tx = NULL;
    OK(bk_store_open(&s, uri, NULL, E));
    OK(bk_store_register(s, m, "slow", E));
    for (int early = 0; early < 2; early++) {
        OK(bk_store_begin(&tx, s, E));
        bk_query *q = NULL;
        bk_cursor *cur = NULL;
        Slow row = { 0 };
        OK(bk_query_new(&q, tx, m, E));
        OK(bk_query_run(&cur, q, E));
        OK(bk_cursor_next(cur, &row, E));
        assert_int_equal(row.id, 1);
        bk_clear(m, &row);
        if (!early) {
            bk_error *err = NULL;
            bk_status st;
            while ((st = bk_cursor_next(cur, &row, &err)) == BK_OK)
                bk_clear(m, &row);
            assert_int_equal(st, BK_EBUSY);
            bk_error_free(err);
        }
        bk_cursor_free(cur);
        bk_query_free(q);
        bk_error *err = NULL;
        bk_status st = bk_store_commit(tx, &err);
        if (st != BK_EBUSY)
            fprintf(stderr, "commit (early=%d) -> %s: %s\n", early, bk_status_name(st),
                bk_error_message(err));
        assert_int_equal(st, BK_EBUSY);
        bk_error_free(err);
    }
    bk_store_close(s);
    bk_model_unref(m);
}

/* ---- caller-given keys, concurrently ------------------------------------------------------ */

typedef struct { int64_t id; int64_t n; } Item;
static const bk_field ITEM_FIELDS[] = {
    BK_FIELD(Item, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_FIELD(Item, n, BK_I64),
};
static const bk_model_def ITEM_DEF = BK_MODEL_DEF(Item, ITEM_FIELDS);

enum { KT_THREADS = 4, KT_ROUNDS = 400, KT_STRIDE = 1000 };

typedef struct {
    bk_store *s;                  /* a store (connection) of its own */
    bk_model *m;
    pthread_barrier_t *go, *done;
    int t;
    bk_status st;                 /* the first failure */
    char msg[300];
} kt_worker;

/* Round r: insert key r * KT_STRIDE + KT_THREADS - t (the threads give
 * their keys at the same moment, the largest first), in a transaction
 * every other round. cmocka's asserts are for the main thread: a failure
 * is kept for it. */
static void *kt_run(void *arg)
{
    kt_worker *w = arg;
    for (int r = 1; r <= KT_ROUNDS; r++) {
        pthread_barrier_wait(w->go);
        Item it = { (int64_t)r * KT_STRIDE + KT_THREADS - w->t, r };
        bk_error *err = NULL;
        bk_status st;
        if (r % 2) {
            st = bk_store_insert(w->s, w->m, &it, &err);
        } else {
            bk_store *tx = NULL;
            st = bk_store_begin(&tx, w->s, &err);
            if (st == BK_OK && (st = bk_store_insert(tx, w->m, &it, &err)) == BK_OK)
                st = bk_store_commit(tx, &err);
            else if (tx)
                bk_store_rollback(tx, NULL);
        }
        if (st != BK_OK && w->st == BK_OK) {
            w->st = st;
            snprintf(w->msg, sizeof(w->msg), "round %d, key %lld: %s", r, (long long)it.id,
                bk_error_message(err));
        }
        bk_error_free(err);
        pthread_barrier_wait(w->done);
    }
    return NULL;
}

/* Keys given by several connections at once (the identity sequence is
 * moved past each by key_taken, in autocommit and in transactions) leave
 * the sequence past the largest of them: the next generated key is above
 * it, never a collision. A check-then-set of the sequence that is not
 * atomic lets a smaller key set it last, and the generated key then
 * collides (BK_ECONFLICT) in some rounds. */
static void concurrent_given_keys_keep_the_sequence_above_them(void **state)
{
    (void)state;
    char uri[700];
    fresh_uri(uri, sizeof(uri), NULL);
    bk_model *m = NULL;
    OK(bk_model_new(&m, &ITEM_DEF, E));
    bk_store_options o = BK_STORE_OPTIONS_INIT;
    o.pool_size = 1;
    bk_store *main_s = NULL;
    OK(bk_store_open(&main_s, uri, &o, E));
    OK(bk_store_register(main_s, m, "item", E));
    pthread_barrier_t go, done;
    assert_int_equal(pthread_barrier_init(&go, NULL, KT_THREADS + 1), 0);
    assert_int_equal(pthread_barrier_init(&done, NULL, KT_THREADS + 1), 0);
    kt_worker w[KT_THREADS];
    pthread_t th[KT_THREADS];
    for (int t = 0; t < KT_THREADS; t++) {
        w[t] = (kt_worker){ .m = m, .go = &go, .done = &done, .t = t, .st = BK_OK };
        OK(bk_store_open(&w[t].s, uri, &o, E));
        OK(bk_store_register(w[t].s, m, "item", E));
    }
    for (int t = 0; t < KT_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, kt_run, &w[t]), 0);
    int collided = 0, first = 0;
    char first_msg[300] = "";
    for (int r = 1; r <= KT_ROUNDS; r++) {
        pthread_barrier_wait(&go);
        pthread_barrier_wait(&done);
        /* every given key is in: a generated one goes above them all */
        Item it = { 0, -r };
        bk_error *err = NULL;
        bk_status st = bk_store_insert(main_s, m, &it, &err);
        int64_t top = (int64_t)r * KT_STRIDE + KT_THREADS;
        if (st != BK_OK || it.id <= top) {
            if (!collided++) {
                first = r;
                snprintf(first_msg, sizeof(first_msg), "%s -> %s (key %lld, largest given %lld)",
                    bk_status_name(st), st != BK_OK ? bk_error_message(err) : "ok",
                    (long long)it.id, (long long)top);
            }
        }
        bk_error_free(err);
    }
    for (int t = 0; t < KT_THREADS; t++) {
        pthread_join(th[t], NULL);
        if (w[t].st != BK_OK)
            fprintf(stderr, "thread %d: %s: %s\n", t, bk_status_name(w[t].st), w[t].msg);
        assert_int_equal(w[t].st, BK_OK);
        bk_store_close(w[t].s);
    }
    pthread_barrier_destroy(&go);
    pthread_barrier_destroy(&done);
    if (collided)
        fprintf(stderr, "%d of %d rounds: the generated key did not go above the given "
            "ones; first in round %d: %s\n", collided, KT_ROUNDS, first, first_msg);
    assert_int_equal(collided, 0);
    int64_t n = -1;
    bk_query *q = NULL;
    OK(bk_query_new(&q, main_s, m, E));
    OK(bk_query_count(&n, q, E));
    assert_int_equal(n, KT_ROUNDS * (KT_THREADS + 1));
    bk_query_free(q);
    bk_store_close(main_s);
    bk_model_unref(m);
}

/* A key_taken that fails after taking its lock of the sequence (here the
 * role may insert but not setval: 42501, BK_EIO) releases it, even in a
 * transaction left open, aborted: other sessions still give keys (a lock
 * left held would make them wait, then fail with BK_EBUSY). */
static void a_failed_key_taken_leaves_no_lock(void **state)
{
    (void)state;
    char uri[700], sql[600], schema[64];
    fresh_uri(uri, sizeof(uri), NULL);
    snprintf(schema, sizeof(schema), "t%ld_%d", (long)getpid(), g_seq);
    bk_model *m = NULL;
    OK(bk_model_new(&m, &ITEM_DEF, E));
    bk_store_options o = BK_STORE_OPTIONS_INIT;
    o.busy_timeout_ms = 500;
    bk_store *owner = NULL, *limited = NULL, *tx = NULL;
    OK(bk_store_open(&owner, uri, &o, E));
    OK(bk_store_register(owner, m, "item", E));
    snprintf(sql, sizeof(sql), "DO $$ BEGIN CREATE ROLE bk_no_setval LOGIN; EXCEPTION WHEN "
        "duplicate_object THEN NULL; END $$; GRANT USAGE ON SCHEMA %s TO bk_no_setval; "
        "GRANT SELECT, INSERT ON %s.item TO bk_no_setval", schema, schema);
    assert_true(pg_run(sql));
    char luri[760];
    snprintf(luri, sizeof(luri), "%s&user=bk_no_setval", uri);
    OK(bk_store_open(&limited, luri, &o, E));
    OK(bk_store_register(limited, m, "item", E));
    Item it = { 0, 1 };
    OK(bk_store_insert(limited, m, &it, E));        /* a generated key needs no setval */
    it = (Item){ 100, 2 };
    FAILS(BK_EIO, bk_store_insert(limited, m, &it, E));
    int64_t k = 100;
    Item got;
    FAILS(BK_ENOTFOUND, bk_store_get(&got, owner, m, &k, E));   /* nothing written */
    it = (Item){ 200, 3 };
    OK(bk_store_insert(owner, m, &it, E));
    OK(bk_store_begin(&tx, limited, E));
    it = (Item){ 300, 4 };
    FAILS(BK_EIO, bk_store_insert(tx, m, &it, E));
    it = (Item){ 400, 5 };
    OK(bk_store_insert(owner, m, &it, E));          /* tx is still open */
    it = (Item){ 0, 6 };
    OK(bk_store_insert(owner, m, &it, E));
    assert_int_equal(it.id, 401);
    OK(bk_store_rollback(tx, E));
    bk_store_close(limited);
    bk_store_close(owner);
    bk_model_unref(m);
}

/* A given key whose sequence cannot be moved in time (another session
 * holds key_taken's advisory lock: lock_timeout, BK_EBUSY, retryable)
 * writes nothing, by insert or by upsert: the retry succeeds, and the
 * next generated key is above it. (Moving the sequence after the write
 * left the row in: the retry was a conflict.) */
static void a_given_key_that_times_out_writes_nothing(void **state)
{
    (void)state;
    char uri[700], schema[64], sql[300];
    fresh_uri(uri, sizeof(uri), NULL);
    snprintf(schema, sizeof(schema), "t%ld_%d", (long)getpid(), g_seq);
    bk_model *m = NULL;
    OK(bk_model_new(&m, &ITEM_DEF, E));
    bk_store_options o = BK_STORE_OPTIONS_INIT;
    o.busy_timeout_ms = 200;                           /* the session's lock_timeout */
    bk_store *s = NULL;
    OK(bk_store_open(&s, uri, &o, E));
    OK(bk_store_register(s, m, "item", E));
    PGconn *holder = PQconnectdb(g_pg_uri);
    assert_int_equal(PQstatus(holder), CONNECTION_OK);
    /* the lock of lib/store_pg.c's key_taken: (its class, the sequence's OID) */
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(1651207028, "
        "pg_get_serial_sequence('%s.item', 'id')::regclass::oid::int)", schema);
    PGresult *r = PQexec(holder, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    Item it = { 100, 1 }, got;
    int64_t k = 100;
    FAILS(BK_EBUSY, bk_store_insert(s, m, &it, E));
    FAILS(BK_ENOTFOUND, bk_store_get(&got, s, m, &k, E));
    it = (Item){ 100, 2 };
    FAILS(BK_EBUSY, bk_store_upsert(s, m, &it, E));
    FAILS(BK_ENOTFOUND, bk_store_get(&got, s, m, &k, E));
    PQfinish(holder);                                  /* the lock goes with it */
    it = (Item){ 100, 3 };
    OK(bk_store_insert(s, m, &it, E));
    OK(bk_store_get(&got, s, m, &k, E));
    assert_int_equal(got.n, 3);
    it = (Item){ 0, 4 };
    OK(bk_store_insert(s, m, &it, E));
    assert_int_equal(it.id, 101);
    bk_store_close(s);
    bk_model_unref(m);
}

/* ---- the suite ------------------------------------------------------------------------ */

int main(void)
{
    int pg = bk_test_pg_uri(g_pg_uri, sizeof(g_pg_uri));
    if (pg < 0)
        return 1;
    if (pg == 0)
        fprintf(stderr, "note: PostgreSQL not tested (no BK_TEST_PG_URI)\n");
    bk_error *err = NULL;
    if (bk_model_new(&g_counter, &COUNTER_DEF, &err) != BK_OK) {
        fprintf(stderr, "model: %s\n", bk_error_message(err));
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(a_bad_uri_never_shows_the_password, setup),
        cmocka_unit_test_setup(a_zero_busy_timeout_does_not_wait_for_locks, setup),
        cmocka_unit_test_setup(a_cursor_over_a_broken_connection_fails_cleanly, setup),
        cmocka_unit_test_setup(an_aborted_transaction_reports_the_first_error, setup),
        cmocka_unit_test_setup(a_failed_then_lost_transaction_never_goes_on_in_autocommit, setup),
        cmocka_unit_test_setup(a_cursor_freed_early_keeps_the_status_of_its_error, setup),
        cmocka_unit_test_setup(concurrent_given_keys_keep_the_sequence_above_them, setup),
        cmocka_unit_test_setup(a_failed_key_taken_leaves_no_lock, setup),
        cmocka_unit_test_setup(a_given_key_that_times_out_writes_nothing, setup),
    };
    int failed = cmocka_run_group_tests_name("store_pg", tests, NULL, NULL);
    for (int seq = 1; pg > 0 && seq <= g_seq; seq++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS t%ld_%d CASCADE", (long)getpid(), seq);
        pg_run(sql);
    }
    bk_model_unref(g_counter);
    return failed;
}
