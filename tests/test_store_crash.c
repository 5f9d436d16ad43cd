/*
 * test_store_crash.c - transactions survive SIGKILL all-or-nothing.
 *
 * A child process inserts rows in transactions of K rows, in a loop, and
 * does nothing else; the parent kills it with SIGKILL after a random short
 * delay, then opens the database itself and checks it:
 *  - PRAGMA integrity_check answers "ok" (run through the SQLite driver's
 *    own interface, as the core would);
 *  - the row count is a multiple of K and every batch present has exactly
 *    its K rows (k = 0..K-1), each with the checksum derived from (batch,
 *    k) and the payload written with it: no partial transaction, no
 *    partial record.
 * Many rounds on the same file, each child continuing after the last
 * committed batch. Total time stays well under 20 s.
 *
 * This test forks, so scripts/test.sh leaves it out of the valgrind phase.
 */
#include "test_util.h"
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "store_internal.h"

enum { K = 7, ROUNDS = 30 };

typedef struct {
    int64_t id;
    int64_t batch;
    int32_t k;
    int64_t checksum;
    char *payload;
} Row;

static const bk_field ROW_FIELDS[] = {
    BK_FIELD(Row, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_FIELD(Row, batch, BK_I64, .index = true),
    BK_FIELD(Row, k, BK_I32),
    BK_FIELD(Row, checksum, BK_I64),
    BK_FIELD(Row, payload, BK_STR),
};
static const bk_model_def ROW_DEF = BK_MODEL_DEF(Row, ROW_FIELDS);

static char g_dir[256];
static char g_path[400];

static int64_t checksum_of(int64_t batch, int32_t k)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)batch;
    h = (h ^ (uint64_t)k) * 0x100000001b3ull;
    h ^= h >> 29;
    return (int64_t)(h & 0x7fffffffffffffffull);
}

static void payload_of(char *out, size_t n, int64_t batch, int32_t k)
{
    /* a few hundred bytes, so a row spans more than a trivial write */
    int w = snprintf(out, n, "batch %lld row %d:", (long long)batch, k);
    for (size_t i = (size_t)w; i + 1 < n && i < 300; i++)
        out[i] = (char)('a' + (batch + k + (int64_t)i) % 26);
    out[n < 301 ? n - 1 : 300] = '\0';
}

/* The child: batches of K rows, forever (until killed). Never returns. */
static void writer(void)
{
    bk_model *m = NULL;
    bk_store *s = NULL;
    bk_error *err = NULL;
    char uri[450];
    snprintf(uri, sizeof(uri), "sqlite:%s", g_path);
    if (bk_model_new(&m, &ROW_DEF, &err) != BK_OK || bk_store_open(&s, uri, NULL, &err) != BK_OK ||
            bk_store_register(s, m, "rows", &err) != BK_OK)
        _exit(3);
    /* continue after the last committed batch */
    int64_t batch = 0;
    bk_query *q = NULL;
    bk_cursor *c = NULL;
    Row last;
    if (bk_query_new(&q, s, m, &err) != BK_OK || bk_query_order_by(q, "batch", true, &err) != BK_OK ||
            bk_query_limit(q, 1, &err) != BK_OK || bk_query_run(&c, q, &err) != BK_OK)
        _exit(4);
    if (bk_cursor_next(c, &last, &err) == BK_OK) {
        batch = last.batch + 1;
        bk_clear(m, &last);
    }
    bk_cursor_free(c);
    bk_query_free(q);
    char text[320];
    for (;; batch++) {
        bk_store *tx = NULL;
        if (bk_store_begin(&tx, s, &err) != BK_OK)
            _exit(5);
        for (int32_t k = 0; k < K; k++) {
            payload_of(text, sizeof(text), batch, k);
            Row r = { 0, batch, k, checksum_of(batch, k), text };
            if (bk_store_insert(tx, m, &r, &err) != BK_OK)
                _exit(6);
        }
        if (bk_store_commit(tx, &err) != BK_OK)
            _exit(7);
    }
}

/* PRAGMA integrity_check through the driver interface. */
static void integrity_ok(void)
{
    const bk_store_driver *d = &bk__sqlite_driver;
    bk_store_options o = BK_STORE_OPTIONS_INIT;
    bk_store_conn *c = NULL;
    bk_store_stmt *st = NULL;
    bk_error *err = NULL;
    assert_int_equal(d->open(&c, g_path, &o, &err), BK_OK);
    assert_int_equal(d->prepare(&st, c, "PRAGMA integrity_check", &err), BK_OK);
    assert_int_equal(d->step(st, &err), BK_OK);
    size_t n;
    const char *v = d->column_text(st, 0, &n);
    if (n != 2 || memcmp(v, "ok", 2) != 0)
        fprintf(stderr, "integrity_check: %.*s\n", (int)n, v);
    assert_true(n == 2 && memcmp(v, "ok", 2) == 0);
    assert_int_equal(d->step(st, &err), BK_ITEROVER);
    d->finalize(st);
    d->close(c);
}

/* Every batch from `from` on complete and consistent, and the total
 * count a multiple of K; returns the number of rows, *next the batch
 * after the last. */
static int64_t check_rows(bk_model *m, int64_t from, int64_t *next)
{
    char uri[450];
    snprintf(uri, sizeof(uri), "sqlite:%s", g_path);
    bk_store *s = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_store_open(&s, uri, NULL, &err), BK_OK);
    assert_int_equal(bk_store_register(s, m, "rows", &err), BK_OK);
    bk_query *q = NULL;
    bk_cursor *c = NULL;
    assert_int_equal(bk_query_new(&q, s, m, &err), BK_OK);
    int64_t count = -1;
    assert_int_equal(bk_query_count(&count, q, &err), BK_OK);
    assert_int_equal(count % K, 0);
    assert_int_equal(bk_query_where_i64(q, "batch", BK_OP_GE, from, &err), BK_OK);
    assert_int_equal(bk_query_order_by(q, "batch", false, &err), BK_OK);
    assert_int_equal(bk_query_order_by(q, "k", false, &err), BK_OK);
    assert_int_equal(bk_query_run(&c, q, &err), BK_OK);
    Row r;
    int64_t rows = 0, batch = -1;
    int32_t expect_k = 0;
    char text[320];
    bk_status st;
    while ((st = bk_cursor_next(c, &r, &err)) == BK_OK) {
        if (expect_k == K || batch < 0) {
            assert_true(r.batch > batch);
            batch = r.batch;
            expect_k = 0;
        }
        assert_int_equal(r.batch, batch);
        assert_int_equal(r.k, expect_k);
        assert_int_equal(r.checksum, checksum_of(r.batch, r.k));
        payload_of(text, sizeof(text), r.batch, r.k);
        assert_string_equal(r.payload, text);
        expect_k++;
        rows++;
        bk_clear(m, &r);
    }
    assert_int_equal(st, BK_ITEROVER);
    assert_true(rows == 0 || expect_k == K);      /* the last batch is complete too */
    int64_t seen = -1;
    assert_int_equal(bk_query_count(&seen, q, &err), BK_OK);
    assert_int_equal(seen, rows);
    *next = batch + 1;
    if (from == 0)
        assert_int_equal(count, rows);
    bk_cursor_free(c);
    bk_query_free(q);
    bk_store_close(s);
    return count;
}

static void killed_writers_leave_whole_transactions(void **state)
{
    (void)state;
    bk_model *m = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_model_new(&m, &ROW_DEF, &err), BK_OK);
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    const char *env = getenv("BK_CRASH_SEED");
    if (env)
        seed = (unsigned)strtoul(env, NULL, 10);
    printf("# seed %u (BK_CRASH_SEED to repeat)\n", seed);
    int64_t prev = 0, next = 0;
    int grew = 0;
    for (int round = 0; round < ROUNDS; round++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            writer();
        /* 5..150 ms: sometimes during open, mostly mid-transaction */
        long ms = 5 + (long)(rand_r(&seed) % 146);
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status))
            fprintf(stderr, "round %d: the writer exited with %d\n", round,
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        integrity_ok();
        int64_t from = next;
        int64_t rows = check_rows(m, from > 0 ? from - 1 : 0, &next);
        if (next < from)
            next = from;
        assert_true(rows >= prev);                /* committed batches stay */
        grew += rows > prev;
        prev = rows;
    }
    int64_t end;
    assert_int_equal(check_rows(m, 0, &end), prev);    /* everything, once more */
    printf("# %d rounds, %lld rows in %lld transactions; %d rounds committed more\n", ROUNDS,
        (long long)prev, (long long)(prev / K), grew);
    assert_true(grew > 0);
    bk_model_unref(m);
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
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof(g_dir), "%s/bk-crash-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(g_path, sizeof(g_path), "%s/crash.db", g_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(killed_writers_leave_whole_transactions),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    rm_tree(g_dir);
    return failed;
}
