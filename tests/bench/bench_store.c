/*
 * bench_store.c - storage overhead of libbackend over the raw SQLite C API,
 * in one run.
 *
 * Usage: bench_store [N records, default 100000] [R rounds, default 3]
 *
 * The records are the User model of users_gen.h (decoded once from the
 * generated JSON, untimed), stored with a local copy of its descriptors
 * that marks `id` as the primary key and flattens `address` into three
 * columns; `tags` is a JSON text column, `role` the enum name. Both sides
 * write and read the same table (same DDL, same values, same pragmas:
 * WAL, synchronous=NORMAL), each in its own file:
 *  - libbackend: bk_store_* through the public API (statement cache,
 *    binding from the struct, decoding into the struct);
 *  - raw: sqlite3 prepared statements made once, SQLITE_STATIC binding,
 *    tags written and parsed by hand, strings strdup'd into the same
 *    structs - the same work a hand-written data layer does.
 * Operations (each side, interleaved, R rounds on fresh files; the best
 * round is reported):
 *  - bulk insert of N records in one transaction;
 *  - N lookups by primary key in random order (autocommit reads);
 *  - keyset pagination over the whole table, 20 rows a page, ordered by
 *    the key (libbackend: bk_query_after with the previous page's token);
 *  - N updates by id (every column) in one transaction.
 * Rows read are checked against the source records. Ratios are
 * libbackend / raw; the target is >= 0.95 for each (PASS/MISS is printed,
 * never asserted).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <sqlite3.h>
#include <unistd.h>
#include <dirent.h>
#include "users_gen.h"

#define SEED 0x5EEDB0B5C0FFEEull
#define PAGE 20
#define CHUNK 2000      /* rows (or PAGE-row pages: CHUNK / PAGE) per alternation */

/* Wall and thread CPU time, accumulated. */
typedef struct clock2 { double wall, cpu; } clock2;

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static clock2 clock_now(void) { clock2 c = { ug_now(), thread_cpu() }; return c; }

static void clock_add(clock2 *acc, clock2 t0)
{
    acc->wall += ug_now() - t0.wall;
    acc->cpu += thread_cpu() - t0.cpu;
}

#define TIMED(acc, stmt) do { clock2 t0_ = clock_now(); stmt; clock_add(&(acc), t0_); } while (0)

/* ---- the storage model: id is the key, address is flattened ------------------ */

static const bk_field STORE_USER_FIELDS[] = {
    BK_FIELD (User, id,         BK_I64, .primary_key = true),
    BK_FIELD (User, name,       BK_STR),
    BK_FIELD (User, email,      BK_STR),
    BK_FIELD (User, age,        BK_I32),
    BK_FIELD (User, active,     BK_BOOL),
    BK_FIELD (User, score,      BK_F64),
    BK_LIST  (User, tags,       BK_STR),
    BK_NESTED(User, address,    Address, &ADDRESS_DEF, .flatten = true),
    BK_FIELD (User, created_at, BK_TIMESTAMP),
    BK_ENUM  (User, role,       USER_ROLES),
};
static const bk_model_def STORE_USER_DEF = BK_MODEL_DEF(User, STORE_USER_FIELDS);

static const char RAW_DDL[] =
    "CREATE TABLE \"users\" (\"id\" INTEGER NOT NULL PRIMARY KEY, \"name\" TEXT NOT NULL, "
    "\"email\" TEXT NOT NULL, \"age\" INTEGER NOT NULL, \"active\" INTEGER NOT NULL, "
    "\"score\" REAL NOT NULL, \"tags\" TEXT NOT NULL, \"street\" TEXT NOT NULL, "
    "\"city\" TEXT NOT NULL, \"zip\" TEXT NOT NULL, \"created_at\" INTEGER NOT NULL, "
    "\"role\" TEXT NOT NULL)";
#define RAW_COLS "\"id\",\"name\",\"email\",\"age\",\"active\",\"score\",\"tags\",\"street\"," \
    "\"city\",\"zip\",\"created_at\",\"role\""

static void die_bk(const char *what, bk_status st, bk_error *err)
{
    fprintf(stderr, "FAIL: %s: %s: %s\n", what, bk_status_name(st), bk_error_message(err));
    exit(1);
}

static void die_sql(sqlite3 *db, const char *what)
{
    fprintf(stderr, "FAIL: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static void check_user(const char *who, const User *got, const User *want)
{
    char why[512];
    if (!users_equal(got, want, why, sizeof(why))) {
        fprintf(stderr, "FAIL: %s read back record %" PRId64 " wrong: %s\n", who, want->id, why);
        exit(1);
    }
}

/* ---- the raw side --------------------------------------------------------------- */

typedef struct raw {
    sqlite3 *db;
    sqlite3_stmt *ins, *get, *page, *upd;
    char *tags;             /* reused JSON buffer */
    size_t tags_cap;
} raw;

static void raw_exec(raw *r, const char *sql)
{
    if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die_sql(r->db, sql);
}

static sqlite3_stmt *raw_prepare(raw *r, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
        die_sql(r->db, sql);
    return s;
}

static void raw_open(raw *r, const char *path)
{
    memset(r, 0, sizeof(*r));
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
            SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        die_sql(r->db, path);
    sqlite3_busy_timeout(r->db, 5000);
    raw_exec(r, "PRAGMA journal_mode=WAL");
    raw_exec(r, "PRAGMA synchronous=NORMAL");
    raw_exec(r, RAW_DDL);
    r->ins = raw_prepare(r, "INSERT INTO \"users\" (" RAW_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
    r->get = raw_prepare(r, "SELECT " RAW_COLS " FROM \"users\" WHERE \"id\" = ?");
    r->page = raw_prepare(r, "SELECT " RAW_COLS " FROM \"users\" WHERE \"id\" > ? ORDER BY \"id\" "
        "LIMIT ?");
    r->upd = raw_prepare(r, "UPDATE \"users\" SET \"name\" = ?, \"email\" = ?, \"age\" = ?, "
        "\"active\" = ?, \"score\" = ?, \"tags\" = ?, \"street\" = ?, \"city\" = ?, \"zip\" = ?, "
        "\"created_at\" = ?, \"role\" = ? WHERE \"id\" = ?");
}

static void raw_close(raw *r)
{
    sqlite3_finalize(r->ins);
    sqlite3_finalize(r->get);
    sqlite3_finalize(r->page);
    sqlite3_finalize(r->upd);
    sqlite3_close_v2(r->db);
    free(r->tags);
}

/* tags as a compact JSON array of strings (escapes as JSON requires) */
static size_t raw_tags_json(raw *r, const bk_strs *t)
{
    size_t need = 2;
    for (size_t k = 0; k < t->len; k++)
        need += strlen(t->items[k]) * 6 + 3;
    if (need > r->tags_cap) {
        r->tags_cap = need * 2;
        r->tags = realloc(r->tags, r->tags_cap);
        if (!r->tags)
            exit(2);
    }
    char *o = r->tags;
    *o++ = '[';
    for (size_t k = 0; k < t->len; k++) {
        if (k)
            *o++ = ',';
        *o++ = '"';
        for (const unsigned char *p = (const unsigned char *)t->items[k]; *p; p++) {
            if (*p == '"' || *p == '\\') {
                *o++ = '\\';
                *o++ = (char)*p;
            } else if (*p < 0x20) {
                o += sprintf(o, "\\u%04x", *p);
            } else {
                *o++ = (char)*p;
            }
        }
        *o++ = '"';
    }
    *o++ = ']';
    return (size_t)(o - r->tags);
}

static char *raw_unescape(const char *s, size_t n)
{
    char *d = malloc(n + 1), *o = d;
    if (!d)
        exit(2);
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            *o++ = s[i];
            continue;
        }
        char c = s[++i];
        switch (c) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            unsigned v = (unsigned)strtoul((char[5]){ s[i + 1], s[i + 2], s[i + 3], s[i + 4], 0 },
                NULL, 16);
            i += 4;
            if (v < 0x80) {
                *o++ = (char)v;
            } else if (v < 0x800) {
                *o++ = (char)(0xC0 | v >> 6);
                *o++ = (char)(0x80 | (v & 0x3F));
            } else {
                *o++ = (char)(0xE0 | v >> 12);
                *o++ = (char)(0x80 | (v >> 6 & 0x3F));
                *o++ = (char)(0x80 | (v & 0x3F));
            }
            break;
        }
        default: *o++ = c; break;
        }
    }
    *o = '\0';
    return d;
}

/* Parse ["a","b",...] (as written above) into a bk_strs (malloc'd). */
static void raw_tags_parse(bk_strs *out, const char *s, size_t n)
{
    char *items[64];
    size_t len = 0;
    const char *p = s, *e = s + n;
    while (p < e && *p != '"')
        p++;
    while (p < e && *p == '"' && len < 64) {
        const char *q = ++p;
        while (q < e && *q != '"')
            q += *q == '\\' ? 2 : 1;
        items[len++] = raw_unescape(p, (size_t)(q - p));
        p = q + 1;
        while (p < e && *p != '"')
            p++;
    }
    out->len = len;
    out->items = len ? malloc(len * sizeof(char *)) : NULL;
    if (len)
        memcpy(out->items, items, len * sizeof(char *));
}

static char *col_dup(sqlite3_stmt *s, int i)
{
    const char *p = (const char *)sqlite3_column_text(s, i);
    size_t n = (size_t)sqlite3_column_bytes(s, i);
    char *d = malloc(n + 1);
    if (!d)
        exit(2);
    memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

static void raw_row(sqlite3_stmt *s, User *u)
{
    memset(u, 0, sizeof(*u));
    u->id = sqlite3_column_int64(s, 0);
    u->name = col_dup(s, 1);
    u->email = col_dup(s, 2);
    u->age = sqlite3_column_int(s, 3);
    u->active = sqlite3_column_int(s, 4) != 0;
    u->score = sqlite3_column_double(s, 5);
    raw_tags_parse(&u->tags, (const char *)sqlite3_column_text(s, 6),
        (size_t)sqlite3_column_bytes(s, 6));
    u->address.street = col_dup(s, 7);
    u->address.city = col_dup(s, 8);
    u->address.zip = col_dup(s, 9);
    u->created_at = sqlite3_column_int64(s, 10);
    const char *role = (const char *)sqlite3_column_text(s, 11);
    for (int k = 0; USER_ROLES[k]; k++)
        if (strcmp(USER_ROLES[k], role) == 0)
            u->role = k;
}

/* Bind the 11 non-key columns from parameter `first`. */
static void raw_bind(raw *r, sqlite3_stmt *s, int first, const User *u)
{
    int i = first;
    sqlite3_bind_text(s, i++, u->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, u->email, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, i++, u->age);
    sqlite3_bind_int(s, i++, u->active);
    sqlite3_bind_double(s, i++, u->score);
    size_t tn = raw_tags_json(r, &u->tags);
    sqlite3_bind_text(s, i++, r->tags, (int)tn, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, u->address.street, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, u->address.city, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, i++, u->address.zip, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, i++, u->created_at);
    sqlite3_bind_text(s, i++, USER_ROLES[u->role], -1, SQLITE_STATIC);
}

__attribute__((noinline)) static void raw_insert(raw *r, const User *us, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        sqlite3_bind_int64(r->ins, 1, us[i].id);
        raw_bind(r, r->ins, 2, &us[i]);
        if (sqlite3_step(r->ins) != SQLITE_DONE)
            die_sql(r->db, "insert");
        sqlite3_reset(r->ins);
    }
}

__attribute__((noinline)) static void raw_get(raw *r, int64_t id, User *u)
{
    sqlite3_bind_int64(r->get, 1, id);
    if (sqlite3_step(r->get) != SQLITE_ROW)
        die_sql(r->db, "get");
    raw_row(r->get, u);
    sqlite3_reset(r->get);
}

/* Lookups of us[order[from..to)] by key, every 997th checked. */
__attribute__((noinline)) static void raw_lookups(raw *r, const User *us, const size_t *order,
    size_t from, size_t to)
{
    User u;
    for (size_t i = from; i < to; i++) {
        const User *want = &us[order[i]];
        raw_get(r, want->id, &u);
        if (i % 997 == 0)
            check_user("raw", &u, want);
        users_plain_clear(&u);
    }
}

/* Keyset pagination state: the raw side keeps the last id. */
typedef struct raw_pager { int64_t after; bool done; } raw_pager;

/* Up to `pages` pages; returns the rows seen. */
__attribute__((noinline)) static size_t raw_pages(raw *r, raw_pager *pg, User *page, size_t pages)
{
    size_t rows = 0;
    for (size_t k = 0; k < pages && !pg->done; k++) {
        sqlite3_bind_int64(r->page, 1, pg->after);
        sqlite3_bind_int(r->page, 2, PAGE);
        size_t got = 0;
        while (sqlite3_step(r->page) == SQLITE_ROW)
            raw_row(r->page, &page[got++]);
        sqlite3_reset(r->page);
        if (got)
            pg->after = page[got - 1].id;
        for (size_t j = 0; j < got; j++)
            users_plain_clear(&page[j]);
        rows += got;
        pg->done = got < PAGE;
    }
    return rows;
}

__attribute__((noinline)) static void raw_update(raw *r, const User *us, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        raw_bind(r, r->upd, 1, &us[i]);
        sqlite3_bind_int64(r->upd, 12, us[i].id);
        if (sqlite3_step(r->upd) != SQLITE_DONE || sqlite3_changes(r->db) != 1)
            die_sql(r->db, "update");
        sqlite3_reset(r->upd);
    }
}

/* ---- the libbackend side ------------------------------------------------------------ */

__attribute__((noinline)) static void bk_insert(bk_store *tx, const bk_model *m, User *us, size_t from, size_t to)
{
    bk_error *err = NULL;
    bk_status st;
    for (size_t i = from; i < to; i++)
        if ((st = bk_store_insert(tx, m, &us[i], &err)) != BK_OK)
            die_bk("insert", st, err);
}

/* Lookups of us[order[from..to)] by key, every 997th checked. */
__attribute__((noinline)) static void bk_lookups(bk_store *s, const bk_model *m, const User *us,
    const size_t *order, size_t from, size_t to)
{
    bk_error *err = NULL;
    bk_status st;
    User u;
    for (size_t i = from; i < to; i++) {
        const User *want = &us[order[i]];
        if ((st = bk_store_get(&u, s, m, &want->id, &err)) != BK_OK)
            die_bk("get", st, err);
        if (i % 997 == 0)
            check_user("libbackend", &u, want);
        bk_clear(m, &u);
    }
}

/* Keyset pagination state: libbackend keeps the last page's token. */
typedef struct bk_pager { char *token; bool done; } bk_pager;

__attribute__((noinline)) static size_t bk_pages(bk_store *s, const bk_model *m, bk_pager *pg, User *page, size_t pages)
{
    size_t rows = 0;
    bk_error *err = NULL;
    bk_status st;
    for (size_t k = 0; k < pages && !pg->done; k++) {
        bk_query *q = NULL;
        bk_cursor *c = NULL;
        if ((st = bk_query_new(&q, s, m, &err)) != BK_OK ||
                (st = bk_query_limit(q, PAGE, &err)) != BK_OK ||
                (pg->token && (st = bk_query_after(q, pg->token, &err)) != BK_OK) ||
                (st = bk_query_run(&c, q, &err)) != BK_OK)
            die_bk("page query", st, err);
        size_t got = 0;
        while ((st = bk_cursor_next(c, &page[got], &err)) == BK_OK)
            got++;
        if (st != BK_ITEROVER)
            die_bk("cursor", st, err);
        bk_free(pg->token);
        pg->token = NULL;
        if (got && (st = bk_cursor_token(&pg->token, c, &err)) != BK_OK)
            die_bk("token", st, err);
        bk_cursor_free(c);
        bk_query_free(q);
        for (size_t j = 0; j < got; j++)
            bk_clear(m, &page[j]);
        rows += got;
        pg->done = got < PAGE;
    }
    return rows;
}

__attribute__((noinline)) static void bk_update(bk_store *tx, const bk_model *m, User *us, size_t from, size_t to)
{
    bk_error *err = NULL;
    bk_status st;
    for (size_t i = from; i < to; i++)
        if ((st = bk_store_update(tx, m, &us[i], NULL, 0, &err)) != BK_OK)
            die_bk("update", st, err);
}

/* ---- driver ------------------------------------------------------------------------- */

enum { OP_INSERT, OP_GET, OP_PAGE, OP_UPDATE, NOPS };
static const char *const OP_NAMES[NOPS] = {
    "bulk insert, 1 transaction", "lookup by primary key", "keyset page of 20 rows",
    "update by id, 1 transaction",
};
static const char *const OP_UNITS[NOPS] = { "rows/s", "rows/s", "pages/s", "rows/s" };

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

int main(int argc, char **argv)
{
    size_t n = 100000;
    int rounds = 3;
    if (argc > 1 && (n = (size_t)strtoul(argv[1], NULL, 10)) < PAGE) {
        fprintf(stderr, "usage: %s [records >= %d (default 100000)] [rounds (default 3)]\n",
            argv[0], PAGE);
        return 2;
    }
    if (argc > 2 && ((rounds = atoi(argv[2])) < 1 || rounds > 50)) {
        fprintf(stderr, "usage: %s [records] [rounds 1..50]\n", argv[0]);
        return 2;
    }
    users_doc doc;
    users_gen(&doc, n, SEED);
    bk_model *jm = NULL, *m = NULL;
    bk_error *err = NULL;
    bk_status st;
    if ((st = bk_model_new(&jm, &USER_DEF, &err)) != BK_OK ||
            (st = bk_model_new(&m, &STORE_USER_DEF, &err)) != BK_OK)
        die_bk("model", st, err);
    User *us = ug_xcalloc(n, sizeof(User));
    for (size_t i = 0; i < n; i++)
        if ((st = bk_json_decode(&us[i], jm, doc.text + doc.off[i], doc.elen[i], NULL, &err)) != BK_OK)
            die_bk("decode", st, err);
    /* lookups in a random order, the same for both */
    size_t *order = ug_xmalloc(n * sizeof(size_t));
    ug_rng rng = { SEED ^ 0xABCDEFull };
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(ug_next(&rng) % (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    char dir[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/bk-bench-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    printf("libbackend storage benchmark: libbackend %s, SQLite %s\n", bk_version(),
        sqlite3_libversion());
    printf("records: %zu   rounds: %d (best round reported)   files in %s\n", n, rounds, dir);

    /* per operation and side: best round's wall and CPU rates */
    double best_bk[NOPS], best_raw[NOPS], cbest_bk[NOPS], cbest_raw[NOPS];
    for (int k = 0; k < NOPS; k++)
        best_bk[k] = best_raw[k] = cbest_bk[k] = cbest_raw[k] = 0;
    User *page = ug_xcalloc(PAGE + 1, sizeof(User));
    size_t npages = 0;
    for (int r = 0; r < rounds; r++) {
        char path[400], uri[420];
        snprintf(path, sizeof(path), "%s/raw%d.db", dir, r);
        raw rw;
        raw_open(&rw, path);
        snprintf(uri, sizeof(uri), "sqlite:%s/bk%d.db", dir, r);
        bk_store *s = NULL, *tx = NULL;
        if ((st = bk_store_open(&s, uri, NULL, &err)) != BK_OK ||
                (st = bk_store_register(s, m, "users", &err)) != BK_OK)
            die_bk("open", st, err);
        clock2 t[NOPS][2];
        memset(t, 0, sizeof(t));
        /* Each operation runs in chunks, alternating the two sides chunk
         * by chunk, so a busy moment of the machine hits both alike. */
        /* insert: both transactions open side by side (two files) */
        TIMED(t[OP_INSERT][1], if ((st = bk_store_begin(&tx, s, &err)) != BK_OK) die_bk("begin", st, err));
        TIMED(t[OP_INSERT][0], raw_exec(&rw, "BEGIN IMMEDIATE"));
        for (size_t c = 0, k = 0; c < n; c += CHUNK, k++) {
            size_t e = c + CHUNK < n ? c + CHUNK : n;
            for (int side = 0; side < 2; side++) {
                if ((side == 0) == (k % 2 == 0))
                    TIMED(t[OP_INSERT][1], bk_insert(tx, m, us, c, e));
                else
                    TIMED(t[OP_INSERT][0], raw_insert(&rw, us, c, e));
            }
        }
        TIMED(t[OP_INSERT][1], if ((st = bk_store_commit(tx, &err)) != BK_OK) die_bk("commit", st, err));
        TIMED(t[OP_INSERT][0], raw_exec(&rw, "COMMIT"));
        /* lookups */
        for (size_t c = 0, k = 0; c < n; c += CHUNK, k++) {
            size_t e = c + CHUNK < n ? c + CHUNK : n;
            for (int side = 0; side < 2; side++) {
                if ((side == 0) == (k % 2 == 0))
                    TIMED(t[OP_GET][1], bk_lookups(s, m, us, order, c, e));
                else
                    TIMED(t[OP_GET][0], raw_lookups(&rw, us, order, c, e));
            }
        }
        /* pagination over the whole table */
        bk_pager bp = { NULL, false };
        raw_pager rp = { INT64_MIN, false };
        size_t rows_bk = 0, rows_raw = 0;
        npages = 0;
        for (size_t k = 0; !bp.done || !rp.done; k++) {
            for (int side = 0; side < 2; side++) {
                if ((side == 0) == (k % 2 == 0))
                    TIMED(t[OP_PAGE][1], rows_bk += bk_pages(s, m, &bp, page, CHUNK / PAGE));
                else
                    TIMED(t[OP_PAGE][0], rows_raw += raw_pages(&rw, &rp, page, CHUNK / PAGE));
            }
        }
        bk_free(bp.token);
        npages = n % PAGE == 0 ? n / PAGE + 1 : (n + PAGE - 1) / PAGE;
        if (rows_bk != n || rows_raw != n) {
            fprintf(stderr, "FAIL: pagination saw %zu (libbackend) and %zu (raw) rows of %zu\n",
                rows_bk, rows_raw, n);
            return 1;
        }
        /* updates: every column of every row, one transaction each side */
        for (size_t i = 0; i < n; i++) {
            us[i].age = (us[i].age + 1) % 151;
            us[i].score += 0.5;
        }
        TIMED(t[OP_UPDATE][1], if ((st = bk_store_begin(&tx, s, &err)) != BK_OK) die_bk("begin", st, err));
        TIMED(t[OP_UPDATE][0], raw_exec(&rw, "BEGIN IMMEDIATE"));
        for (size_t c = 0, k = 0; c < n; c += CHUNK, k++) {
            size_t e = c + CHUNK < n ? c + CHUNK : n;
            for (int side = 0; side < 2; side++) {
                if ((side == 0) == (k % 2 == 0))
                    TIMED(t[OP_UPDATE][1], bk_update(tx, m, us, c, e));
                else
                    TIMED(t[OP_UPDATE][0], raw_update(&rw, us, c, e));
            }
        }
        TIMED(t[OP_UPDATE][1], if ((st = bk_store_commit(tx, &err)) != BK_OK) die_bk("commit", st, err));
        TIMED(t[OP_UPDATE][0], raw_exec(&rw, "COMMIT"));
        /* the updates landed on both sides */
        User u;
        if ((st = bk_store_get(&u, s, m, &us[n / 2].id, &err)) != BK_OK)
            die_bk("get", st, err);
        check_user("libbackend after update", &u, &us[n / 2]);
        bk_clear(m, &u);
        raw_get(&rw, us[n / 2].id, &u);
        check_user("raw after update", &u, &us[n / 2]);
        users_plain_clear(&u);
        for (int k = 0; k < NOPS; k++) {
            double units = k == OP_PAGE ? (double)npages : (double)n;
            double w_bk = units / t[k][1].wall, w_raw = units / t[k][0].wall;
            double c_bk = units / t[k][1].cpu, c_raw = units / t[k][0].cpu;
            if (w_bk > best_bk[k]) best_bk[k] = w_bk;
            if (w_raw > best_raw[k]) best_raw[k] = w_raw;
            if (c_bk > cbest_bk[k]) cbest_bk[k] = c_bk;
            if (c_raw > cbest_raw[k]) cbest_raw[k] = c_raw;
        }
        bk_store_close(s);
        raw_close(&rw);
    }
    double la[3];
    if (getloadavg(la, 3) == 3)
        printf("load average after: %.2f %.2f %.2f\n", la[0], la[1], la[2]);
    printf("\n%-30s %16s %16s %8s %9s  %s\n", "operation (best round)", "libbackend",
        "raw sqlite3", "ratio", "cpu ratio", "target >= 0.95");
    for (int k = 0; k < NOPS; k++) {
        double ratio = best_bk[k] / best_raw[k], cratio = cbest_bk[k] / cbest_raw[k];
        printf("%-30s %9.0f %-6s %9.0f %-6s %7.3fx %8.3fx  %s\n", OP_NAMES[k], best_bk[k],
            OP_UNITS[k], best_raw[k], OP_UNITS[k], ratio, cratio, ratio >= 0.95 ? "PASS" : "MISS");
    }
    printf("ratio: libbackend / raw, wall time; cpu ratio: the same with thread CPU time\n");
    printf("(%zu pages of %d rows per pagination pass)\n", npages, PAGE);
    for (size_t i = 0; i < n; i++)
        bk_clear(jm, &us[i]);
    free(us);
    free(page);
    free(order);
    users_doc_free(&doc);
    bk_model_unref(m);
    bk_model_unref(jm);
    rm_tree(dir);
    return 0;
}
