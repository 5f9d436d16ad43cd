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
 *
 * Also: text read back is checked (UTF-8 without NUL) wherever the bad
 * byte sits in texts of every length around the check's block sizes.
 */
#include "test_util.h"
#include <math.h>
#include <unistd.h>
#include <sqlite3.h>
#include "store_internal.h"   /* bk__store_query_text: rows written by hand */
#include "test_text.h"

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

/* Read back text (made of the bytes text[0..n)) as item 3's name, and
 * check it against the reference validator: the same bytes, or the
 * column's exact error. Returns whether it was refused. */
static bool read_back_text(bk_store *s, const unsigned char *text, size_t n)
{
    char sql[512], *out = NULL;
    bk_error *err = NULL;
    int w = snprintf(sql, sizeof(sql), "UPDATE items SET name = CAST(X'");
    for (size_t k = 0; k < n; k++)
        w += snprintf(sql + w, sizeof(sql) - (size_t)w, "%02x", text[k]);
    snprintf(sql + w, sizeof(sql) - (size_t)w, "' AS TEXT) WHERE id = 3");
    assert_int_equal(bk__store_query_text(&out, s, sql, &err), BK_OK);
    bk_free(out);
    Item it;
    int64_t id = 3;
    bk_status st = bk_store_get(&it, s, g_item, &id, &err);
    if (bk_test_text_valid(text, n)) {
        assert_int_equal(st, BK_OK);
        assert_int_equal(strlen(it.name), n);
        assert_memory_equal(it.name, text, n);
        bk_clear(g_item, &it);
        return false;
    }
    assert_int_equal(st, BK_EIO);
    assert_string_equal(bk_error_message(err), "$.items.name: row of items does not "
        "decode: column name: text that is not valid UTF-8 without NUL");
    assert_null(it.name);
    bk_error_free(err);
    return true;
}

/* Texts of 0..120 bytes mixing runs of ASCII and two-, three- and
 * four-byte characters (so sequences start, end and cross anywhere in a
 * 16-byte block) or random bytes, two in three with one byte changed,
 * against the reference validator. */
static void mixed_text_is_checked_like_the_reference(void **state)
{
    (void)state;
    bk_store *s = open_store();
    uint64_t r = 0x9E3779B97F4A7C15ull;
    unsigned char text[160];
    size_t refused = 0, total = 0;
    for (int iter = 0; iter < 6000; iter++) {
        size_t n = bk_test_mixed_text(text, (size_t)(bk_test_next(&r) % 121), &r);
        refused += read_back_text(s, text, n);
        total++;
    }
    assert_true(refused > 1500 && total > refused + 1500);
    bk_store_close(s);
}

/* Each text read back as item 3's name (arg: the store, and the count of
 * refused ones). */
typedef struct { bk_store *s; size_t refused; } read_back_arg;

static void read_back_one(const unsigned char *text, size_t n, void *arg)
{
    read_back_arg *a = arg;
    a->refused += read_back_text(a->s, text, n);
}

/* Texts of 0..40 and 60..66 bytes (ASCII, with two-, three- and four-byte
 * characters), each with one of several bad sequences (NUL, a stray
 * continuation byte, an invalid lead, a truncated character, a surrogate,
 * an overlong form) at every position, written by hand as the column's
 * text: a row that is not valid UTF-8 without NUL is BK_EIO with the
 * column's message, any other comes back byte for byte. */
static void text_is_checked_at_every_position(void **state)
{
    (void)state;
    static const char *const fills[] = { "a", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80" };
    static const bk_test_seq bad[] = {
        { "", 0 }, { "\0", 1 }, { "\x80", 1 }, { "\xff", 1 }, { "\xc3", 1 }, { "\xe6\x97", 2 },
        { "\xed\xa0\x80", 3 }, { "\xc0\xaf", 2 }, { "\xe0\x9f\xbf", 3 }, { "\xf4\x90\x80\x80", 4 },
        { "\xc3\xa9", 2 }, { "\xef\xbf\xbf", 3 },
    };
    read_back_arg a = { open_store(), 0 };
    size_t checked = bk_test_each_text(fills, 4, bad, sizeof(bad) / sizeof(bad[0]),
        66, 41, 60, read_back_one, &a);                /* 0..40, 60..66 bytes */
    assert_true(a.refused > 1000 && checked > a.refused);
    bk_store_close(a.s);
}

/* ---- the SQLite row reader against the generic path ------------------------------- */

typedef struct {
    int64_t id;
    int32_t i32;
    bool flag;
    double f;
    char *s;
    int role;
    bk_strs tags;
    int8_t i8;
    uint64_t u64;
    int32_t oi;
    bk_presence oi_p;
    char *os;
    bk_presence os_p;
    float f32;
} Wide;

static const char *const WIDE_ROLES[] = { "admin", "member", "guest", "ad", NULL };

static const bk_field WIDE_FIELDS[] = {
    BK_FIELD(Wide, id,   BK_I64, .primary_key = true),
    BK_FIELD(Wide, i32,  BK_I32),
    BK_FIELD(Wide, flag, BK_BOOL),
    BK_FIELD(Wide, f,    BK_F64),
    BK_FIELD(Wide, s,    BK_STR),
    BK_ENUM (Wide, role, WIDE_ROLES),
    BK_LIST (Wide, tags, BK_STR),
    BK_FIELD(Wide, i8,   BK_I8),
    BK_FIELD(Wide, u64,  BK_U64),
    BK_FIELD(Wide, oi,   BK_I32, BK_PRESENCE(Wide, oi_p)),
    BK_FIELD(Wide, os,   BK_STR, BK_PRESENCE(Wide, os_p)),
    BK_FIELD(Wide, f32,  BK_F32),
};
static const bk_model_def WIDE_DEF = BK_MODEL_DEF(Wide, WIDE_FIELDS);

/* Register "sqlitegeneric": a copy of the SQLite driver, which the core
 * reads and binds generically (value by value), not with the adapter's
 * own loops. Once. */
static void register_generic(void)
{
    static bk_store_driver copy;
    static bool registered;
    bk_error *err = NULL;
    if (registered)
        return;
    copy = bk__sqlite_driver;
    copy.scheme = "sqlitegeneric";
    assert_int_equal(bk_store_register_driver(&copy, &err), BK_OK);
    registered = true;
}

/* What a read gave: the status, the error's text, the object as JSON;
 * then, through a cursor ordered by column `col`, the keyset token of
 * the row (the reader leaves the row's values for it) and the rows of
 * the page after that token. */
static void read_outcome(bk_store *s, const bk_model *m, const char *col, char *out, size_t cap)
{
    Wide w;
    int64_t id = 1;
    bk_error *err = NULL;
    bk_status st = bk_store_get(&w, s, m, &id, &err);
    if (st != BK_OK) {
        Wide zero;
        memset(&zero, 0, sizeof(zero));
        assert_memory_equal(&w, &zero, sizeof(w));     /* cleared, never half-filled */
        snprintf(out, cap, "%s %s", bk_status_name(st), bk_error_message(err));
        bk_error_free(err);
        return;
    }
    char *json = NULL;
    assert_int_equal(bk_json_encode(&json, NULL, m, &w, NULL, &err), BK_OK);
    bk_clear(m, &w);
    bk_query *q = NULL;
    bk_cursor *c = NULL;
    char *tok = NULL;
    assert_int_equal(bk_query_new(&q, s, m, &err), BK_OK);
    if (bk_query_order_by(q, col, false, &err) != BK_OK) {
        bk_error_free(err);             /* (a JSON column does not order) */
        err = NULL;
        col = "id";
        assert_int_equal(bk_query_order_by(q, col, false, &err), BK_OK);
    }
    assert_int_equal(bk_query_run(&c, q, &err), BK_OK);
    char toks[600] = "";                /* each row's token, in order */
    while ((st = bk_cursor_next(c, &w, &err)) == BK_OK) {
        bk_free(tok);
        assert_int_equal(bk_cursor_token(&tok, c, &err), BK_OK);
        size_t used = strlen(toks);
        snprintf(toks + used, sizeof(toks) - used, "%s ", tok);
        bk_clear(m, &w);
    }
    assert_int_equal(st, BK_ITEROVER);
    bk_cursor_free(c);
    bk_query_free(q);
    /* the page after the first row's token */
    bk_free(tok);
    tok = bk_malloc(strcspn(toks, " ") + 1);
    memcpy(tok, toks, strcspn(toks, " "));
    tok[strcspn(toks, " ")] = '\0';
    size_t after = 0;
    assert_int_equal(bk_query_new(&q, s, m, &err), BK_OK);
    assert_int_equal(bk_query_order_by(q, col, false, &err), BK_OK);
    assert_int_equal(bk_query_after(q, tok, &err), BK_OK);
    assert_int_equal(bk_query_run(&c, q, &err), BK_OK);
    while ((st = bk_cursor_next(c, &w, &err)) == BK_OK) {
        after++;
        bk_clear(m, &w);
    }
    assert_int_equal(st, BK_ITEROVER);
    bk_cursor_free(c);
    bk_query_free(q);
    snprintf(out, cap, "OK %s tokens %s after %zu", json, toks, after);
    bk_free(json);
    bk_free(tok);
}

/*
 * Values written by another program into every kind of column the SQLite
 * reader reads natively (and the ones it hands on): the fitting ones, and
 * NULL, other classes, integers out of range, text that is not UTF-8 or
 * holds NUL, names not in the enum, JSON not in our encoding; each read
 * through SQLite's reader and through a copy of the driver (which the core
 * reads generically, value by value), with the same outcome: the same
 * object, or the same error.
 */
static void the_sqlite_reader_reads_like_the_generic_path(void **state)
{
    (void)state;
    bk_error *err = NULL;
    register_generic();
    bk_model *m = NULL;
    assert_int_equal(bk_model_new(&m, &WIDE_DEF, &err), BK_OK);
    char path[] = "/tmp/bk-reader-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char uri[64], guri[80];
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    snprintf(guri, sizeof(guri), "sqlitegeneric:%s", path);
    bk_store *fast = NULL, *gen = NULL;
    assert_int_equal(bk_store_open(&fast, uri, NULL, &err), BK_OK);
    assert_int_equal(bk_store_register(fast, m, "wide", &err), BK_OK);
    assert_int_equal(bk_store_open(&gen, guri, NULL, &err), BK_OK);
    assert_int_equal(bk_store_register(gen, m, "wide", &err), BK_OK);
    char *tags[] = { "a", "b" };
    Wide w = { 1, 7, true, 1.5, "text", 1, { tags, 2 }, -3, 9, 4, BK_PRESENT, "o", BK_PRESENT,
        2.5f };
    assert_int_equal(bk_store_insert(fast, m, &w, &err), BK_OK);
    Wide w2 = w;
    w2.id = 2;
    assert_int_equal(bk_store_insert(fast, m, &w2, &err), BK_OK);
    static const char *const cols[] = { "i32", "flag", "f", "s", "role", "tags", "i8", "u64",
        "oi", "os", "f32" };
    static const char *const vals[] = {
        "NULL", "0", "1", "2", "-1", "127", "128", "-129", "2147483647", "2147483648",
        "-2147483648", "-2147483649", "9223372036854775807", "-9223372036854775808",
        "0.0", "1.5", "-2.25", "1e300", "'1'", "'12'", "'abc'", "''", "'admin'", "'ad'",
        "'adm'", "'guest'", "'GUEST'", "X''", "X'61'", "CAST(X'61626300' AS TEXT)",
        "CAST(X'c3a9' AS TEXT)", "CAST(X'c3' AS TEXT)", "CAST(X'eda080' AS TEXT)",
        "'[]'", "'[\"x\"]'", "'[\"x\",\"y\"]'", "'[\"a\\\"b\"]'", "'[ \"x\"]'", "'[\"x\",]'",
        "'[1]'", "'{}'", "'[\"\\u00e9\"]'", "'[\"h\u00e9\"]'",
        "CAST(X'5b2261ff225d' AS TEXT)", ("'[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\","
        "\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]'"),
    };
    size_t compared = 0, refused = 0;
    for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
        for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
            char sql[600], *out = NULL, a[2048], b[2048];
            snprintf(sql, sizeof(sql), "UPDATE wide SET \"%s\" = %s WHERE id = 1", cols[c],
                vals[v]);
            if (bk__store_query_text(&out, fast, sql, &err) != BK_OK) {
                /* the table refuses it (NOT NULL): no other program writes it */
                assert_non_null(strstr(bk_error_message(err), "NOT NULL"));
                bk_error_free(err);
                err = NULL;
                continue;
            }
            bk_free(out);
            read_outcome(fast, m, cols[c], a, sizeof(a));
            read_outcome(gen, m, cols[c], b, sizeof(b));
            if (strcmp(a, b) != 0)
                fail_msg("column %s = %s: reader \"%s\", generic \"%s\"", cols[c], vals[v], a, b);
            compared++;
            refused += strncmp(a, "OK ", 3) != 0;
        }
        /* back to a value that fits */
        char sql[200], *out = NULL;
        static const char *const good[] = { "7", "1", "1.5", "'text'", "'member'", "'[]'", "-3",
            "9", "4", "'o'", "2.5" };
        snprintf(sql, sizeof(sql), "UPDATE wide SET \"%s\" = %s WHERE id = 1", cols[c], good[c]);
        assert_int_equal(bk__store_query_text(&out, fast, sql, &err), BK_OK);
        bk_free(out);
    }
    assert_true(refused > 100 && compared > refused + 100);
    bk_store_close(fast);
    bk_store_close(gen);
    bk_model_unref(m);
    unlink(path);
    char side[80];
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

/* Cap the length of a text or blob every open connection of s binds. */
static void limit_length(bk_store *s, int n)
{
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i].c)
            sqlite3_limit((sqlite3 *)(void *)s->conns[i].c, SQLITE_LIMIT_LENGTH, n);
}

/*
 * The engine refusing a bind (a text over its length limit) on the SQLite
 * adapter's binder and on the generic path (a copy of the driver): the
 * same error, and a value of a later column that the core refuses wins
 * over it (the error a check of every value before binding any gives);
 * nothing written either way.
 */
static void a_refused_bind_and_a_refused_value_report_alike(void **state)
{
    (void)state;
    bk_error *err = NULL;
    register_generic();
    bk_model *m = NULL;
    assert_int_equal(bk_model_new(&m, &WIDE_DEF, &err), BK_OK);
    char out[2][4][512];
    for (int side = 0; side < 2; side++) {
        bk_store_options o;
        bk_store_options_init(&o);
        o.pool_size = 1;
        bk_store *s = NULL;
        assert_int_equal(bk_store_open(&s, side ? "sqlitegeneric::memory:" : "sqlite::memory:",
            &o, &err), BK_OK);
        assert_int_equal(bk_store_register(s, m, "wide", &err), BK_OK);
        limit_length(s, 100);
        char big[300];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        char *tags[] = { big };
        for (int k = 0; k < 4; k++) {
            Wide w = { 1, 7, true, 1.5, "text", 1, { NULL, 0 }, -3, 9, 4, BK_PRESENT, "o",
                BK_PRESENT, 2.5f };
            switch (k) {
            case 0: w.s = big; break;                              /* the engine refuses */
            case 1: w.s = big; w.role = 9; break;                  /* ... and a later value */
            case 2: w.tags.items = tags; w.tags.len = 1; w.u64 = UINT64_MAX; break;
            default: w.os = big; w.f32 = (float)INFINITY; break;   /* optional, then f32 */
            }
            bk_status st = bk_store_insert(s, m, &w, &err);
            assert_int_not_equal(st, BK_OK);
            snprintf(out[side][k], sizeof(out[side][k]), "%s %s", bk_status_name(st),
                bk_error_message(err));
            bk_error_free(err);
            err = NULL;
            int64_t id = 1;
            Wide back;
            assert_int_equal(bk_store_get(&back, s, m, &id, &err), BK_ENOTFOUND);
            bk_error_free(err);
            err = NULL;
        }
        bk_store_close(s);
    }
    for (int k = 0; k < 4; k++)
        if (strcmp(out[0][k], out[1][k]) != 0)
            fail_msg("case %d: binder \"%s\", generic \"%s\"", k, out[0][k], out[1][k]);
    assert_non_null(strstr(out[0][0], "BK_EIO"));
    assert_non_null(strstr(out[0][1], "BK_EVALIDATION"));   /* the later value wins */
    assert_non_null(strstr(out[0][1], "role"));
    assert_non_null(strstr(out[0][2], "u64"));
    assert_non_null(strstr(out[0][3], "f32"));
    bk_model_unref(m);
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
        cmocka_unit_test(text_is_checked_at_every_position),
        cmocka_unit_test(mixed_text_is_checked_like_the_reference),
        cmocka_unit_test(the_sqlite_reader_reads_like_the_generic_path),
        cmocka_unit_test(a_refused_bind_and_a_refused_value_report_alike),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    bk_model_unref(g_item);
    return failed;
}
