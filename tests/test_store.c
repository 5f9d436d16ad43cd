/*
 * test_store.c - the storage conformance suite.
 *
 * Written against the public API (backend/store.h), and run once per store
 * URI in STORE_URIS: every adapter must pass all of it. Today: SQLite files
 * in a temporary directory, sqlite::memory:, and PostgreSQL when the
 * environment names a server (BK_TEST_PG_URI, or BK_TEST_PG_URI_FILE: a
 * file holding the URI, written by scripts/pg-test-server.sh, which ctest
 * runs as a fixture; "skip" in it leaves PostgreSQL out). Each test opens
 * fresh databases (a new file for the file-backed URIs, a new schema on
 * the PostgreSQL server; in-memory databases are private to their store).
 *
 * Covered: opening (URIs, options), registration and the type mapping,
 * CRUD on structs and on run-time records, generated keys (integer and
 * UUIDv7), optimistic locking, upsert, insert_many atomicity, error codes
 * (asserted exactly), decoding failures, drift reports and the diff SQL
 * (applied, then registration succeeds), migrations (checksums, order,
 * failures, two concurrent migrators), queries (every operator, groups,
 * ordering, limit/offset, count, keyset pagination), transactions
 * (nesting, thread binding, retries), and an SQL-injection suite.
 *
 * Only the public API is used (the test links libbackend.so like a user).
 */
#include "test_util.h"
#include "test_pg.h"
#include "store_internal.h"   /* bk__sqlite_driver: copies as older driver versions */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <libpq-fe.h>

/* ---- the store URIs of the suite ---------------------------------------------- */

typedef struct uri_kind {
    const char *name;
    const char *scheme_prefix;  /* "sqlite:"; PostgreSQL: the server's URI (g_pg_uri) */
    bool file;                  /* a shared database: several stores see one database */
} uri_kind;

static uri_kind STORE_URIS[] = {
    { "sqlite-file", "sqlite:", true },
    { "sqlite-memory", "sqlite::memory:", false },
    { "postgresql", NULL, true },      /* when a server is given */
};

static const uri_kind *g_kind;
static char g_dir[256];
static int g_seq;
static char g_pg_uri[400];              /* "" when PostgreSQL is not tested */

static bool is_sqlite(void) { return strncmp(g_kind->scheme_prefix, "sqlite:", 7) == 0; }
static bool is_pg(void) { return !is_sqlite(); }

/* PostgreSQL: every database of the suite is a schema of the test
 * database, t<pid>_<seq>, made the connection's search path. */
static void pg_schema_name(char *out, size_t n, int seq)
{
    snprintf(out, n, "t%ld_%d", (long)getpid(), seq);
}

static bool pg_run(const char *sql) { return bk_test_pg_run(g_pg_uri, sql); }

/* The URI of database number seq of the current kind. */
static void uri_of(char *out, size_t n, int seq)
{
    if (is_pg()) {
        char schema[64];
        pg_schema_name(schema, sizeof(schema), seq);
        snprintf(out, n, "%s%coptions=-csearch_path%%3D%s", g_pg_uri,
            strchr(g_pg_uri, '?') ? '&' : '?', schema);
    } else if (g_kind->file) {
        snprintf(out, n, "%s%s/db%d.sqlite", g_kind->scheme_prefix, g_dir, seq);
    } else {
        snprintf(out, n, "%s", g_kind->scheme_prefix);
    }
}

/* A fresh database URI for the current kind. */
static void fresh_uri(char *out, size_t n)
{
    ++g_seq;
    if (is_pg()) {
        char schema[64], sql[128];
        pg_schema_name(schema, sizeof(schema), g_seq);
        snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
        assert_true(pg_run(sql));
    }
    uri_of(out, n, g_seq);
}

/* ---- assertions ------------------------------------------------------------------ */

#define E (&err_)
/* Run a call that must succeed; print the error if not. */
#define OK(call) do { \
        bk_error *err_ = NULL; \
        bk_status st_ = (call); \
        if (st_ != BK_OK) \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call, \
                bk_status_name(st_), bk_error_message(err_)); \
        bk_error_free(err_); \
        assert_int_equal(st_, BK_OK); \
    } while (0)
/* Run a call that must fail with exactly `code`, with an error of that code. */
#define FAILS(code, call) do { \
        bk_error *err_ = NULL; \
        bk_status st_ = (call); \
        if (st_ != (code)) \
            fprintf(stderr, "%s:%d: %s -> %s (want %s): %s\n", __FILE__, __LINE__, #call, \
                bk_status_name(st_), bk_status_name(code), bk_error_message(err_)); \
        assert_int_equal(st_, (code)); \
        assert_non_null(err_); \
        assert_int_equal(bk_error_code(err_), (code)); \
        bk_error_free(err_); \
    } while (0)

static char *xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *d = bk_malloc(n + 1);
    assert_non_null(d);
    memcpy(d, s, n + 1);
    return d;
}

/* ---- models ------------------------------------------------------------------------ */

typedef enum { ROLE_ADMIN, ROLE_MEMBER, ROLE_GUEST } Role;
static const char *const ROLES[] = { "admin", "member", "guest", NULL };

typedef struct { char *city; char *zip; } Addr;       /* flattened: two columns */
typedef struct { double lat; double lon; } Geo;       /* nested: JSON text */

typedef struct {
    int64_t id;
    char *name;
    char *email;
    int32_t age;
    Role role;
    bk_strs tags;
    Addr addr;
    Geo geo;
    int64_t created_at;
    int32_t birthday;
    bk_uuid ext;
    bk_bytes avatar;
    double score;
    bool active;
    char *nick;
    bk_presence nick_p;
    int64_t version;
    json_t *meta;
    uint8_t level;
} User;

static const bk_field ADDR_FIELDS[] = {
    BK_FIELD(Addr, city, BK_STR),
    BK_FIELD(Addr, zip, BK_STR),
};
static const bk_model_def ADDR_DEF = BK_MODEL_DEF(Addr, ADDR_FIELDS);
static const bk_field GEO_FIELDS[] = {
    BK_FIELD(Geo, lat, BK_F64),
    BK_FIELD(Geo, lon, BK_F64),
};
static const bk_model_def GEO_DEF = BK_MODEL_DEF(Geo, GEO_FIELDS);

static const bk_field USER_FIELDS[] = {
    BK_FIELD(User, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_FIELD(User, name, BK_STR, BK_MAX_LEN(100000)),
    BK_FIELD(User, email, BK_STR, .unique = true),
    BK_FIELD(User, age, BK_I32, .index = true, BK_MIN(0), BK_MAX(150)),
    BK_ENUM(User, role, ROLES),
    BK_LIST(User, tags, BK_STR),
    BK_NESTED(User, addr, Addr, &ADDR_DEF, .flatten = true),
    BK_NESTED(User, geo, Geo, &GEO_DEF),
    BK_FIELD(User, created_at, BK_TIMESTAMP),
    BK_FIELD(User, birthday, BK_DATE),
    BK_FIELD(User, ext, BK_UUID),
    BK_FIELD(User, avatar, BK_BYTES),
    BK_FIELD(User, score, BK_F64),
    BK_FIELD(User, active, BK_BOOL),
    BK_FIELD(User, nick, BK_STR, BK_PRESENCE(User, nick_p)),
    BK_FIELD(User, version, BK_I64, .row_version = true),
    BK_FIELD(User, meta, BK_JSON),
    BK_FIELD(User, level, BK_U8),
};
static const bk_model_def USER_DEF = BK_MODEL_DEF(User, USER_FIELDS);

/* The same table seen with `tags` as plain text: writes what the User
 * model cannot decode. */
typedef struct {
    int64_t id;
    char *name;
    char *email;
    int32_t age;
    Role role;
    char *tags;
    Addr addr;
    char *geo;
    int64_t created_at;
    int32_t birthday;
    bk_uuid ext;
    bk_bytes avatar;
    double score;
    bool active;
    char *nick;
    bk_presence nick_p;
    int64_t version;
    json_t *meta;
    uint8_t level;
} UserRaw;

static const bk_field USER_RAW_FIELDS[] = {
    BK_FIELD(UserRaw, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_FIELD(UserRaw, name, BK_STR),
    BK_FIELD(UserRaw, email, BK_STR, .unique = true),
    BK_FIELD(UserRaw, age, BK_I32, .index = true),
    BK_ENUM(UserRaw, role, ROLES),
    BK_FIELD(UserRaw, tags, BK_STR),
    BK_NESTED(UserRaw, addr, Addr, &ADDR_DEF, .flatten = true),
    BK_FIELD(UserRaw, geo, BK_STR),
    BK_FIELD(UserRaw, created_at, BK_TIMESTAMP),
    BK_FIELD(UserRaw, birthday, BK_DATE),
    BK_FIELD(UserRaw, ext, BK_UUID),
    BK_FIELD(UserRaw, avatar, BK_BYTES),
    BK_FIELD(UserRaw, score, BK_F64),
    BK_FIELD(UserRaw, active, BK_BOOL),
    BK_FIELD(UserRaw, nick, BK_STR, BK_PRESENCE(UserRaw, nick_p)),
    BK_FIELD(UserRaw, version, BK_I64, .row_version = true),
    BK_FIELD(UserRaw, meta, BK_JSON),
    BK_FIELD(UserRaw, level, BK_U8),
};
static const bk_model_def USER_RAW_DEF = BK_MODEL_DEF(UserRaw, USER_RAW_FIELDS);

/* UUID keys generated by the store. */
typedef struct { bk_uuid id; char *title; } Doc;
static const bk_field DOC_FIELDS[] = {
    BK_FIELD(Doc, id, BK_UUID, .primary_key = true, .auto_id = true),
    BK_FIELD(Doc, title, BK_STR),
};
static const bk_model_def DOC_DEF = BK_MODEL_DEF(Doc, DOC_FIELDS);

/* String keys given by the caller. */
typedef struct { char *key; char *value; } Kv;
static const bk_field KV_FIELDS[] = {
    BK_FIELD(Kv, key, BK_STR, .primary_key = true),
    BK_FIELD(Kv, value, BK_STR),
};
static const bk_model_def KV_DEF = BK_MODEL_DEF(Kv, KV_FIELDS);

/* No primary key: cannot be stored. */
typedef struct { int64_t a; } NoKey;
static const bk_field NOKEY_FIELDS[] = { BK_FIELD(NoKey, a, BK_I64) };
static const bk_model_def NOKEY_DEF = BK_MODEL_DEF(NoKey, NOKEY_FIELDS);

/* Drift: version 1 and version 2 of a table. */
typedef struct { int64_t id; char *name; char *age; char *old; int64_t n; } PersonV1;
static const bk_field PERSON_V1_FIELDS[] = {
    BK_FIELD(PersonV1, id, BK_I64, .primary_key = true),
    BK_FIELD(PersonV1, name, BK_STR),
    BK_FIELD(PersonV1, age, BK_STR),
    BK_FIELD(PersonV1, old, BK_STR),
    BK_FIELD(PersonV1, n, BK_I64),
};
static const bk_model_def PERSON_V1_DEF = BK_MODEL_DEF(PersonV1, PERSON_V1_FIELDS);

typedef struct {
    int64_t id; char *name; int64_t age; char *email; int64_t n; bk_presence n_p;
} PersonV2;
static const bk_field PERSON_V2_FIELDS[] = {
    BK_FIELD(PersonV2, id, BK_I64, .primary_key = true),
    BK_FIELD(PersonV2, name, BK_STR, .index = true),
    BK_FIELD(PersonV2, age, BK_I64),
    BK_FIELD(PersonV2, email, BK_STR, .unique = true),
    BK_FIELD(PersonV2, n, BK_I64, BK_PRESENCE(PersonV2, n_p)),
};
static const bk_model_def PERSON_V2_DEF = BK_MODEL_DEF(PersonV2, PERSON_V2_FIELDS);

/* PersonV3 (built at run time in models_up): V1 plus an optional email and
 * an index on name, without `old`: only additions and removals. */

/* The migrations ledger, read through a model. */
typedef struct { int64_t version; char *name; char *checksum; char *applied_at; } MigRow;
static const bk_field MIG_FIELDS[] = {
    BK_FIELD(MigRow, version, BK_I64, .primary_key = true),
    BK_FIELD(MigRow, name, BK_STR),
    BK_FIELD(MigRow, checksum, BK_STR),
    BK_FIELD(MigRow, applied_at, BK_STR),
};
static const bk_model_def MIG_DEF = BK_MODEL_DEF(MigRow, MIG_FIELDS);

/* A counter table written by migrations. */
typedef struct { int64_t id; char *who; } Mark;
static const bk_field MARK_FIELDS[] = {
    BK_FIELD(Mark, id, BK_I64, .primary_key = true),
    BK_FIELD(Mark, who, BK_STR),
};
static const bk_model_def MARK_DEF = BK_MODEL_DEF(Mark, MARK_FIELDS);

static bk_model *g_user, *g_user_raw, *g_doc, *g_kv, *g_nokey, *g_p1, *g_p2, *g_p3, *g_mig,
    *g_mark;

static bk_model *build(const bk_model_def *def)
{
    bk_model *m = NULL;
    OK(bk_model_new(&m, def, E));
    return m;
}

/* ---- fixtures ---------------------------------------------------------------------- */

static bk_store *open_fresh(void)
{
    char uri[512];
    fresh_uri(uri, sizeof(uri));
    bk_store *s = NULL;
    OK(bk_store_open(&s, uri, NULL, E));
    return s;
}

static bk_store *open_users(void)
{
    bk_store *s = open_fresh();
    OK(bk_store_register(s, g_user, "users", E));
    return s;
}

static void user_fill(User *u, int i)
{
    char buf[128];
    memset(u, 0, sizeof(*u));
    snprintf(buf, sizeof(buf), "user %03d", i);
    u->name = xstrdup(buf);
    snprintf(buf, sizeof(buf), "u%d@example.com", i);
    u->email = xstrdup(buf);
    u->age = 20 + i % 50;
    u->role = (Role)(i % 3);
    u->tags.len = (size_t)(i % 3);
    if (u->tags.len) {
        u->tags.items = bk_malloc(u->tags.len * sizeof(char *));
        for (size_t k = 0; k < u->tags.len; k++) {
            snprintf(buf, sizeof(buf), "tag%zu-%d", k, i);
            u->tags.items[k] = xstrdup(buf);
        }
    }
    u->addr.city = xstrdup(i % 2 ? "Zürich" : "Paris");
    snprintf(buf, sizeof(buf), "%05d", 1000 + i);
    u->addr.zip = xstrdup(buf);
    u->geo.lat = 47.5 + i;
    u->geo.lon = -8.25;
    u->created_at = 1700000000000000LL + (int64_t)i * 1000001;
    u->birthday = 7000 + i;
    for (int k = 0; k < 16; k++)
        u->ext.bytes[k] = (unsigned char)(i * 16 + k);
    u->avatar.len = (size_t)(i % 4);
    if (u->avatar.len) {
        u->avatar.data = bk_malloc(u->avatar.len);
        for (size_t k = 0; k < u->avatar.len; k++)
            u->avatar.data[k] = (unsigned char)(k == 1 ? 0 : 0xf0 + k);
    }
    u->score = i * 1.5;
    u->active = i % 2 == 0;
    if (i % 5 == 0) {
        u->nick_p = BK_NULL;
    } else {
        snprintf(buf, sizeof(buf), "nick%d", i);
        u->nick = xstrdup(buf);
        u->nick_p = BK_PRESENT;
    }
    u->meta = json_pack("{s:i,s:[i,i]}", "i", i, "pair", i, -i);
    u->level = (uint8_t)(i % 256);
}

static void user_eq(const User *a, const User *b)
{
    assert_int_equal(a->id, b->id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->email, b->email);
    assert_int_equal(a->age, b->age);
    assert_int_equal(a->role, b->role);
    assert_int_equal(a->tags.len, b->tags.len);
    for (size_t k = 0; k < a->tags.len; k++)
        assert_string_equal(a->tags.items[k], b->tags.items[k]);
    assert_string_equal(a->addr.city, b->addr.city);
    assert_string_equal(a->addr.zip, b->addr.zip);
    assert_true(a->geo.lat == b->geo.lat && a->geo.lon == b->geo.lon);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->birthday, b->birthday);
    assert_memory_equal(a->ext.bytes, b->ext.bytes, 16);
    assert_int_equal(a->avatar.len, b->avatar.len);
    if (a->avatar.len)
        assert_memory_equal(a->avatar.data, b->avatar.data, a->avatar.len);
    assert_true(a->score == b->score);
    assert_int_equal(a->active, b->active);
    bool a_nick = a->nick_p == BK_PRESENT, b_nick = b->nick_p == BK_PRESENT;
    assert_int_equal(a_nick, b_nick);
    if (a_nick)
        assert_string_equal(a->nick, b->nick);
    assert_int_equal(a->version, b->version);
    assert_true(json_equal(a->meta, b->meta));
    assert_int_equal(a->level, b->level);
}

static int64_t count_all(bk_store *s, const bk_model *m)
{
    bk_query *q = NULL;
    int64_t n = -1;
    OK(bk_query_new(&q, s, m, E));
    OK(bk_query_count(&n, q, E));
    bk_query_free(q);
    return n;
}

/* ---- opening -------------------------------------------------------------------------- */

static void open_rejects_bad_uris_and_options(void **state)
{
    (void)state;
    bk_store *s = (bk_store *)1;
    FAILS(BK_EINVAL, bk_store_open(&s, NULL, NULL, E));
    assert_null(s);
    FAILS(BK_EINVAL, bk_store_open(&s, "no-scheme-here", NULL, E));
    FAILS(BK_EINVAL, bk_store_open(&s, "sqlite:", NULL, E));
    FAILS(BK_EINVAL, bk_store_open(&s, ":memory:", NULL, E));
    FAILS(BK_EUNSUPPORTED, bk_store_open(&s, "mysql://localhost/db", NULL, E));
    FAILS(BK_EUNSUPPORTED, bk_store_open(&s, "oracle:x", NULL, E));
    FAILS(BK_EIO, bk_store_open(&s, "sqlite:/nonexistent-dir-bk/sub/x.db", NULL, E));
    char dir_uri[300];
    snprintf(dir_uri, sizeof(dir_uri), "sqlite:%s", g_dir);   /* a directory */
    FAILS(BK_EIO, bk_store_open(&s, dir_uri, NULL, E));
    bk_store_options o;
    assert_int_equal(bk_store_options_init(&o), BK_OK);
    assert_int_equal(o.pool_size, 4);
    assert_int_equal(o.busy_timeout_ms, 5000);
    assert_int_equal(o.statement_cache, 64);
    assert_int_equal(bk_store_options_init(NULL), BK_EINVAL);
    o.pool_size = 0;
    FAILS(BK_EINVAL, bk_store_open(&s, "sqlite::memory:", &o, E));
    o.pool_size = 2;
    o.version = 99;
    FAILS(BK_EINVAL, bk_store_open(&s, "sqlite::memory:", &o, E));
    o.version = BK_STORE_OPTIONS_VERSION;
    o.statement_cache = 0;               /* no cache: still works */
    char uri[512];
    fresh_uri(uri, sizeof(uri));
    OK(bk_store_open(&s, uri, &o, E));
    OK(bk_store_register(s, g_kv, "kv", E));
    Kv kv = { xstrdup("k"), xstrdup("v") };
    OK(bk_store_insert(s, g_kv, &kv, E));
    Kv back;
    OK(bk_store_get(&back, s, g_kv, &kv.key, E));
    assert_string_equal(back.value, "v");
    bk_clear(g_kv, &back);
    bk_clear(g_kv, &kv);
    bk_store_close(s);
    bk_store_close(NULL);
    if (is_pg()) {
        /* a server that is not there: BK_EIO, and never the password in the message */
        bk_error *e = NULL;
        assert_int_equal(bk_store_open(&s, "postgresql://bob:s3cr3t-pw@127.0.0.1:1/db"
            "?connect_timeout=5", NULL, &e), BK_EIO);
        assert_null(s);
        assert_null(strstr(bk_error_message(e), "s3cr3t-pw"));
        bk_error_free(e);
        e = NULL;
        assert_int_equal(bk_store_open(&s, "postgresql://bob:s3cr3t-pw@localhost/db?bogus=1",
            NULL, &e), BK_EINVAL);
        assert_null(strstr(bk_error_message(e), "s3cr3t-pw"));
        bk_error_free(e);
        /* "postgres:" is the same driver */
        char alias[600];
        uri_of(uri, sizeof(uri), g_seq);
        snprintf(alias, sizeof(alias), "postgres:%s", strchr(uri, ':') + 1);
        OK(bk_store_open(&s, alias, NULL, E));
        Kv back2;
        const char *k = "k";
        OK(bk_store_register(s, g_kv, "kv", E));
        OK(bk_store_get(&back2, s, g_kv, &k, E));
        bk_clear(g_kv, &back2);
        bk_store_close(s);
    }
}

static void misuse_is_reported_not_crashed(void **state)
{
    (void)state;
    User u;
    memset(&u, 0, sizeof(u));
    FAILS(BK_EINVAL, bk_store_insert(NULL, g_user, &u, E));
    FAILS(BK_EINVAL, bk_store_register(NULL, g_user, "users", E));
    bk_store *s = open_fresh();
    FAILS(BK_EINVAL, bk_store_insert(s, g_user, NULL, E));
    FAILS(BK_EINVAL, bk_store_insert(s, NULL, &u, E));
    bk_query *q = NULL;
    FAILS(BK_EINVAL, bk_query_where(NULL, "x", BK_OP_EQ, "1", E));
    FAILS(BK_ENOTFOUND, bk_query_new(&q, s, g_user, E));
    assert_null(q);
    bk_query_free(NULL);
    bk_cursor_free(NULL);
    bk_store_close(s);
}

/* ---- registration and the type mapping ---------------------------------------------- */

static const char USERS_DDL[] =
    "-- fresh does not exist\n"
    "CREATE TABLE \"fresh\" (\n"
    "    \"id\" INTEGER NOT NULL PRIMARY KEY,\n"
    "    \"name\" TEXT NOT NULL,\n"
    "    \"email\" TEXT NOT NULL,\n"
    "    \"age\" INTEGER NOT NULL,\n"
    "    \"role\" TEXT NOT NULL,\n"
    "    \"tags\" TEXT NOT NULL,\n"
    "    \"city\" TEXT NOT NULL,\n"
    "    \"zip\" TEXT NOT NULL,\n"
    "    \"geo\" TEXT NOT NULL,\n"
    "    \"created_at\" INTEGER NOT NULL,\n"
    "    \"birthday\" INTEGER NOT NULL,\n"
    "    \"ext\" TEXT NOT NULL,\n"
    "    \"avatar\" BLOB NOT NULL,\n"
    "    \"score\" REAL NOT NULL,\n"
    "    \"active\" INTEGER NOT NULL,\n"
    "    \"nick\" TEXT,\n"
    "    \"version\" INTEGER NOT NULL,\n"
    "    \"meta\" TEXT NOT NULL,\n"
    "    \"level\" INTEGER NOT NULL\n"
    ");\n"
    "CREATE UNIQUE INDEX \"fresh_email_key\" ON \"fresh\" (\"email\");\n"
    "CREATE INDEX \"fresh_age_idx\" ON \"fresh\" (\"age\");\n";

static const char PG_USERS_DDL[] =
    "-- fresh does not exist\n"
    "CREATE TABLE \"fresh\" (\n"
    "    \"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY,\n"
    "    \"name\" TEXT NOT NULL,\n"
    "    \"email\" TEXT NOT NULL,\n"
    "    \"age\" INTEGER NOT NULL,\n"
    "    \"role\" TEXT NOT NULL,\n"
    "    \"tags\" TEXT NOT NULL,\n"
    "    \"city\" TEXT NOT NULL,\n"
    "    \"zip\" TEXT NOT NULL,\n"
    "    \"geo\" TEXT NOT NULL,\n"
    "    \"created_at\" BIGINT NOT NULL,\n"
    "    \"birthday\" INTEGER NOT NULL,\n"
    "    \"ext\" TEXT NOT NULL,\n"
    "    \"avatar\" BYTEA NOT NULL,\n"
    "    \"score\" DOUBLE PRECISION NOT NULL,\n"
    "    \"active\" BOOLEAN NOT NULL,\n"
    "    \"nick\" TEXT,\n"
    "    \"version\" BIGINT NOT NULL,\n"
    "    \"meta\" TEXT NOT NULL,\n"
    "    \"level\" SMALLINT NOT NULL\n"
    ");\n"
    "CREATE UNIQUE INDEX \"fresh_email_key\" ON \"fresh\" (\"email\");\n"
    "CREATE INDEX \"fresh_age_idx\" ON \"fresh\" (\"age\");\n";

static void register_creates_the_table_with_the_type_mapping(void **state)
{
    (void)state;
    bk_store *s = open_users();
    char *sql = NULL;
    OK(bk_store_diff(&sql, s, g_user, "users", E));
    assert_string_equal(sql, "");                 /* it matches */
    bk_free(sql);
    OK(bk_store_diff(&sql, s, g_user, "fresh", E));
    if (is_sqlite())
        assert_string_equal(sql, USERS_DDL);
    else
        assert_string_equal(sql, PG_USERS_DDL);
    bk_free(sql);
    OK(bk_store_register(s, g_user, "users", E));   /* again: a no-op */
    FAILS(BK_EINVAL, bk_store_register(s, g_user, "people", E));
    FAILS(BK_EMODEL, bk_store_register(s, g_nokey, "nokey", E));
    FAILS(BK_EINVAL, bk_store_register(s, g_kv, "kv; DROP TABLE users", E));
    FAILS(BK_EINVAL, bk_store_register(s, g_kv, "", E));
    FAILS(BK_EINVAL, bk_store_register(s, g_kv, "sqlite_master", E));
    FAILS(BK_EINVAL, bk_store_register(s, g_kv, NULL, E));
    FAILS(BK_EMODEL, bk_store_diff(&sql, s, g_nokey, "nokey", E));
    Kv kv = { NULL, NULL };
    FAILS(BK_ENOTFOUND, bk_store_insert(s, g_kv, &kv, E));
    bk_store_close(s);
}

/* ---- CRUD ------------------------------------------------------------------------------ */

static void insert_get_round_trip_every_kind(void **state)
{
    (void)state;
    bk_store *s = open_users();
    for (int i = 0; i < 12; i++) {
        User u, back;
        user_fill(&u, i);
        OK(bk_store_insert(s, g_user, &u, E));
        assert_int_equal(u.id, i + 1);           /* generated and written back */
        OK(bk_store_get(&back, s, g_user, &u.id, E));
        user_eq(&u, &back);
        if (i % 5 == 0)
            assert_int_equal(back.nick_p, BK_NULL);   /* NULL reads back as null */
        bk_clear(g_user, &back);
        bk_clear(g_user, &u);
    }
    /* an explicit key is kept */
    User u;
    user_fill(&u, 100);
    u.id = 5000;
    OK(bk_store_insert(s, g_user, &u, E));
    assert_int_equal(u.id, 5000);
    FAILS(BK_ECONFLICT, bk_store_insert(s, g_user, &u, E));   /* same key */
    bk_clear(g_user, &u);
    assert_int_equal(count_all(s, g_user), 13);
    bk_store_close(s);
}

/* A map stored as JSON text whose keys would not read back as they are:
 * a NULL key (JSON would have "") is "required" at its index, a key given
 * twice (a row decoder refuses it) "duplicate_key" at the key; short maps
 * and long ones (checked another way); nothing written. */
typedef struct { int64_t id; bk_map m; } Bag;
static const bk_field BAG_FIELDS[] = {
    BK_FIELD(Bag, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_MAP(Bag, m, BK_I32),
};
static const bk_model_def BAG_DEF = BK_MODEL_DEF(Bag, BAG_FIELDS);

static void map_keys_that_would_not_read_back_are_refused(void **state)
{
    (void)state;
    bk_model *m = build(&BAG_DEF);
    bk_store *s = open_fresh();
    OK(bk_store_register(s, m, "bags", E));
    static char names[40][8];
    char *keys[40];
    int32_t vals[40];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        keys[i] = names[i];
        vals[i] = i;
    }
    for (size_t len = 3; len <= 40; len += 37) {    /* 3 keys, then 40 */
        Bag b = { 0, { keys, vals, len } };
        keys[1] = NULL;
        bk_error *err = NULL;
        assert_int_equal(bk_store_insert(s, m, &b, &err), BK_EVALIDATION);
        bk_assert_problem(err, "$.m[1]", "required");
        bk_error_free(err);
        keys[1] = names[1];
        keys[len - 1] = names[0];                   /* k0 twice */
        err = NULL;
        assert_int_equal(bk_store_insert(s, m, &b, &err), BK_EVALIDATION);
        bk_assert_problem(err, "$.m.k0", "duplicate_key");
        bk_error_free(err);
        keys[len - 1] = names[len - 1];
        assert_int_equal(b.id, 0);
        OK(bk_store_insert(s, m, &b, E));
        Bag back;
        OK(bk_store_get(&back, s, m, &b.id, E));
        assert_int_equal(back.m.len, len);
        assert_string_equal(back.m.keys[len - 1], names[len - 1]);
        assert_int_equal(((int32_t *)back.m.values)[len - 1], (int32_t)len - 1);
        bk_clear(m, &back);
    }
    assert_int_equal(count_all(s, m), 2);
    bk_store_close(s);
    bk_model_unref(m);
}

/* Timestamps and dates inside a JSON column are RFC 3339 text, whose years
 * have four digits: the first and last instants of the years 0 to 9999
 * round-trip, one microsecond (or day) beyond is "out_of_range" at the
 * item, nothing written. */
typedef struct { int64_t id; bk_i64s stamps; bk_i32s days; } Times;
static const bk_field TIMES_FIELDS[] = {
    BK_FIELD(Times, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_LIST(Times, stamps, BK_TIMESTAMP),
    BK_LIST(Times, days, BK_DATE),
};
static const bk_model_def TIMES_DEF = BK_MODEL_DEF(Times, TIMES_FIELDS);

static void json_times_beyond_four_digit_years_are_refused(void **state)
{
    (void)state;
    bk_model *m = build(&TIMES_DEF);
    bk_store *s = open_fresh();
    OK(bk_store_register(s, m, "times", E));
    int64_t us[3] = { -62167219200000000LL, 0, 253402300799999999LL };
    int32_t days[3] = { -719528, 0, 2932896 };
    Times t = { 0, { us, 3 }, { days, 3 } };
    OK(bk_store_insert(s, m, &t, E));
    Times back;
    OK(bk_store_get(&back, s, m, &t.id, E));
    assert_int_equal(back.stamps.len, 3);
    assert_int_equal(back.days.len, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(back.stamps.items[i] == us[i]);
        assert_int_equal(back.days.items[i], days[i]);
    }
    bk_clear(m, &back);
    for (int k = 0; k < 4; k++) {
        Times bad = t;
        int64_t bus[3] = { us[0], us[1], us[2] };
        int32_t bdays[3] = { days[0], days[1], days[2] };
        bad.id = 0;
        bad.stamps.items = bus;
        bad.days.items = bdays;
        const char *path = NULL;
        switch (k) {
        case 0: bus[0]--; path = "$.stamps[0]"; break;
        case 1: bus[2]++; path = "$.stamps[2]"; break;
        case 2: bdays[0]--; path = "$.days[0]"; break;
        default: bdays[2]++; path = "$.days[2]"; break;
        }
        bk_error *err = NULL;
        assert_int_equal(bk_store_insert(s, m, &bad, &err), BK_EVALIDATION);
        bk_assert_problem(err, path, "out_of_range");
        bk_error_free(err);
    }
    assert_int_equal(count_all(s, m), 1);
    bk_store_close(s);
    bk_model_unref(m);
}

/* A JSON column nested as deep as the row decoder reads (256 levels: a
 * chain of 256 links) round-trips; one level more is "too_deep", nothing
 * written. */
typedef struct Link Link;
struct Link { int32_t n; Link *next; };
static const bk_model_def LINK_DEF;
static const bk_field LINK_FIELDS[] = {
    BK_FIELD(Link, n, BK_I32),
    BK_NESTED_PTR(Link, next, Link, &LINK_DEF),
};
static const bk_model_def LINK_DEF = BK_MODEL_DEF(Link, LINK_FIELDS);
typedef struct { int64_t id; Link *head; } Chain;
static const bk_field CHAIN_FIELDS[] = {
    BK_FIELD(Chain, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_NESTED_PTR(Chain, head, Link, &LINK_DEF),
};
static const bk_model_def CHAIN_DEF = BK_MODEL_DEF(Chain, CHAIN_FIELDS);

static void json_nested_deeper_than_a_read_takes_is_refused(void **state)
{
    (void)state;
    bk_model *m = build(&CHAIN_DEF);
    bk_store *s = open_fresh();
    OK(bk_store_register(s, m, "chains", E));
    static Link links[257];
    for (int i = 0; i < 257; i++)
        links[i] = (Link){ i, i + 1 < 257 ? &links[i + 1] : NULL };
    links[255].next = NULL;                           /* 256 links: 256 objects deep */
    Chain c = { 0, &links[0] };
    OK(bk_store_insert(s, m, &c, E));
    Chain back;
    OK(bk_store_get(&back, s, m, &c.id, E));
    int depth = 0;
    for (const Link *l = back.head; l; l = l->next)
        assert_int_equal(l->n, depth++);
    assert_int_equal(depth, 256);
    bk_clear(m, &back);
    links[255].next = &links[256];                    /* 257 */
    Chain deep = { 0, &links[0] };
    bk_error *err = NULL;
    assert_int_equal(bk_store_insert(s, m, &deep, &err), BK_EVALIDATION);
    assert_string_equal(bk_error_problem_code(err, 0), "too_deep");
    assert_int_equal(strncmp(bk_error_path(err, 0), "$.head.next.next", 16), 0);
    bk_error_free(err);
    assert_int_equal(count_all(s, m), 1);
    bk_store_close(s);
    bk_model_unref(m);
}

/* Drivers of versions 1 to 3 (copies of SQLite's: the core binds their
 * values with bind_* one by one, and reads with row() or column by
 * column) write and read as the built-in SQLite adapter does (its own
 * binder and row reader), refused values alike. */
static void drivers_of_every_version_write_alike(void **state)
{
    (void)state;
    static const char *const schemes[4] = { "sqlitev1", "sqlitev2", "sqlitev3", "sqlite" };
    static bk_store_driver drv[3];
    static bool registered;
    if (!registered) {
        for (int v = 0; v < 3; v++) {
            drv[v] = bk__sqlite_driver;
            drv[v].version = (unsigned)v + 1;
            drv[v].scheme = schemes[v];
            OK(bk_store_register_driver(&drv[v], E));
        }
        registered = true;
    }
    for (int v = 0; v < 4; v++) {
        char uri[64];
        snprintf(uri, sizeof(uri), "%s::memory:", schemes[v]);
        bk_store *s = NULL;
        OK(bk_store_open(&s, uri, NULL, E));
        OK(bk_store_register(s, g_user, "users", E));
        for (int i = 0; i < 6; i++) {
            User u, back;
            user_fill(&u, i);
            OK(bk_store_insert(s, g_user, &u, E));
            OK(bk_store_get(&back, s, g_user, &u.id, E));
            user_eq(&u, &back);
            bk_clear(g_user, &back);
            u.score += 0.25;                     /* every column, then named ones */
            u.nick_p = i % 2 ? BK_NULL : u.nick_p;
            OK(bk_store_update(s, g_user, &u, NULL, 0, E));
            u.age += 1;
            const char *const fields[] = { "age" };
            OK(bk_store_update(s, g_user, &u, fields, 1, E));
            OK(bk_store_get(&back, s, g_user, &u.id, E));
            if (u.nick_p != BK_PRESENT) {
                bk_free(u.nick);
                u.nick = NULL;
            }
            user_eq(&u, &back);
            bk_clear(g_user, &back);
            bk_clear(g_user, &u);
        }
        User w;
        user_fill(&w, 7);
        w.score = NAN;
        bk_error *err = NULL;
        assert_int_equal(bk_store_insert(s, g_user, &w, &err), BK_EVALIDATION);
        assert_non_null(strstr(bk_error_message(err), "finite"));
        bk_error_free(err);
        w.score = 1;
        w.role = (Role)9;
        FAILS(BK_EVALIDATION, bk_store_insert(s, g_user, &w, E));
        assert_int_equal(count_all(s, g_user), 6);
        bk_clear(g_user, &w);
        bk_store_close(s);
    }
}

static void errors_map_to_exact_codes(void **state)
{
    (void)state;
    bk_store *s = open_users();
    User u, v, back;
    user_fill(&u, 1);
    OK(bk_store_insert(s, g_user, &u, E));
    /* unique email -> 409 conflict */
    user_fill(&v, 2);
    bk_free(v.email);
    v.email = xstrdup(u.email);
    bk_error *err = NULL;
    assert_int_equal(bk_store_insert(s, g_user, &v, &err), BK_ECONFLICT);
    assert_int_equal(bk_error_http_status(err), 409);
    bk_error_free(err);
    assert_int_equal(v.id, 0);                   /* no key written back on failure */
    /* a required string that is NULL -> NOT NULL -> validation */
    bk_free(v.email);
    v.email = NULL;
    FAILS(BK_EVALIDATION, bk_store_insert(s, g_user, &v, E));
    /* the model's constraints are checked before any SQL */
    v.email = xstrdup("other@example.com");
    v.age = 200;
    err = NULL;
    assert_int_equal(bk_store_insert(s, g_user, &v, &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.age", "above_max");
    assert_int_equal(bk_error_http_status(err), 422);
    bk_error_free(err);
    v.age = 30;
    v.role = (Role)7;                            /* not a value of the enum */
    FAILS(BK_EVALIDATION, bk_store_insert(s, g_user, &v, E));
    v.role = ROLE_GUEST;
    v.score = HUGE_VAL;
    FAILS(BK_EVALIDATION, bk_store_insert(s, g_user, &v, E));
    v.score = 2;
    /* text that is not UTF-8 (a row no read could give back): validation,
     * at the field's path, nothing written; in a plain, an optional and a
     * flattened column, on insert, update and upsert */
    static const char *const not_utf8[] = { "\xff", "ab\xc3", "\xed\xa0\x80 surrogate",
        "caf\xc3\xa9\x80", "\xc0\xaf", "a longer text of more than 32 bytes \xf8" };
    for (size_t k = 0; k < sizeof(not_utf8) / sizeof(not_utf8[0]); k++) {
        char **slot[3] = { &v.name, &v.nick, &v.addr.city };
        const char *path[3] = { "$.name", "$.nick", "$.city" };   /* addr is flattened */
        for (int f = 0; f < 3; f++) {
            char *keep = *slot[f];
            bk_presence keep_p = v.nick_p;
            *slot[f] = (char *)not_utf8[k];
            v.nick_p = BK_PRESENT;
            err = NULL;
            assert_int_equal(bk_store_insert(s, g_user, &v, &err), BK_EVALIDATION);
            bk_assert_problem(err, path[f], "invalid_utf8");
            bk_error_free(err);
            err = NULL;
            char **uslot[3] = { &u.name, &u.nick, &u.addr.city };
            char *ukeep = *uslot[f];
            bk_presence ukeep_p = u.nick_p;
            *uslot[f] = (char *)not_utf8[k];
            u.nick_p = BK_PRESENT;
            assert_int_equal(bk_store_update(s, g_user, &u, NULL, 0, &err), BK_EVALIDATION);
            bk_assert_problem(err, path[f], "invalid_utf8");
            bk_error_free(err);
            err = NULL;
            assert_int_equal(bk_store_upsert(s, g_user, &u, &err), BK_EVALIDATION);
            bk_assert_problem(err, path[f], "invalid_utf8");
            bk_error_free(err);
            *uslot[f] = ukeep;
            u.nick_p = ukeep_p;
            *slot[f] = keep;
            v.nick_p = keep_p;
        }
    }
    /* a list<str> item that is NULL (JSON's null, which no read takes back
     * into a string) or not UTF-8: validation at the item's path, nothing
     * written, on insert, update and upsert */
    {
        char *items[3] = { "ok", NULL, "x" };
        bk_strs vkeep = v.tags, ukeep = u.tags;
        v.tags = u.tags = (bk_strs){ items, 3 };
        for (int bad = 0; bad < 2; bad++) {
            items[1] = bad ? "caf\xc3" : NULL;
            const char *code = bad ? "invalid_utf8" : "required";
            err = NULL;
            assert_int_equal(bk_store_insert(s, g_user, &v, &err), BK_EVALIDATION);
            bk_assert_problem(err, "$.tags[1]", code);
            bk_error_free(err);
            err = NULL;
            assert_int_equal(bk_store_update(s, g_user, &u, NULL, 0, &err), BK_EVALIDATION);
            bk_assert_problem(err, "$.tags[1]", code);
            bk_error_free(err);
            err = NULL;
            assert_int_equal(bk_store_upsert(s, g_user, &u, &err), BK_EVALIDATION);
            bk_assert_problem(err, "$.tags[1]", code);
            bk_error_free(err);
        }
        v.tags = vkeep;
        u.tags = ukeep;
    }
    assert_int_equal(count_all(s, g_user), 1);
    OK(bk_store_get(&back, s, g_user, &u.id, E));
    user_eq(&u, &back);                          /* the row as it was */
    bk_clear(g_user, &back);
    /* not found */
    int64_t missing = 999;
    FAILS(BK_ENOTFOUND, bk_store_get(&back, s, g_user, &missing, E));
    FAILS(BK_ENOTFOUND, bk_store_delete(s, g_user, &missing, E));
    v.id = 999;
    FAILS(BK_ENOTFOUND, bk_store_update(s, g_user, &v, NULL, 0, E));
    OK(bk_store_delete(s, g_user, &u.id, E));
    FAILS(BK_ENOTFOUND, bk_store_get(&back, s, g_user, &u.id, E));
    bk_clear(g_user, &u);
    bk_clear(g_user, &v);
    bk_store_close(s);
}

static void update_all_named_and_versioned(void **state)
{
    (void)state;
    bk_store *s = open_users();
    User u, back;
    user_fill(&u, 3);
    OK(bk_store_insert(s, g_user, &u, E));
    assert_int_equal(u.version, 0);
    bk_free(u.name);
    u.name = xstrdup("renamed");
    u.age = 99;
    OK(bk_store_update(s, g_user, &u, NULL, 0, E));
    assert_int_equal(u.version, 1);              /* incremented in the object */
    OK(bk_store_get(&back, s, g_user, &u.id, E));
    user_eq(&u, &back);                          /* ... and in the row */
    /* a stale copy loses: conflict, nothing written */
    back.version = 0;
    back.age = 1;
    FAILS(BK_ECONFLICT, bk_store_update(s, g_user, &back, NULL, 0, E));
    assert_int_equal(back.version, 0);
    bk_clear(g_user, &back);
    /* named fields: only those columns change */
    User part;
    user_fill(&part, 50);
    part.id = u.id;
    part.version = u.version;
    const char *fields[] = { "name", "addr" };
    OK(bk_store_update(s, g_user, &part, fields, 2, E));
    assert_int_equal(part.version, 2);
    OK(bk_store_get(&back, s, g_user, &u.id, E));
    assert_string_equal(back.name, part.name);
    assert_string_equal(back.addr.city, part.addr.city);  /* flattened: both columns */
    assert_string_equal(back.addr.zip, part.addr.zip);
    assert_string_equal(back.email, u.email);             /* untouched */
    assert_int_equal(back.age, 99);
    bk_clear(g_user, &back);
    /* validation of a partial update looks at the named fields only */
    part.age = 1000;                              /* invalid, but not updated */
    OK(bk_store_update(s, g_user, &part, fields, 1, E));
    const char *age_only[] = { "age" };
    bk_error *err = NULL;
    assert_int_equal(bk_store_update(s, g_user, &part, age_only, 1, &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.age", "above_max");
    bk_error_free(err);
    const char *bad[] = { "nope" };
    FAILS(BK_EINVAL, bk_store_update(s, g_user, &part, bad, 1, E));
    const char *key[] = { "id" };
    FAILS(BK_EINVAL, bk_store_update(s, g_user, &part, key, 1, E));
    bk_clear(g_user, &part);
    bk_clear(g_user, &u);
    bk_store_close(s);
}

static void upsert_inserts_then_updates(void **state)
{
    (void)state;
    bk_store *s = open_users();
    User u, back;
    user_fill(&u, 4);
    u.id = 77;
    OK(bk_store_upsert(s, g_user, &u, E));
    assert_int_equal(count_all(s, g_user), 1);
    bk_free(u.name);
    u.name = xstrdup("upserted");
    OK(bk_store_upsert(s, g_user, &u, E));
    assert_int_equal(u.version, 1);              /* the row's version, written back */
    assert_int_equal(count_all(s, g_user), 1);
    OK(bk_store_get(&back, s, g_user, &u.id, E));
    user_eq(&u, &back);
    bk_clear(g_user, &back);
    /* a zero auto key: a new row */
    User w;
    user_fill(&w, 5);
    OK(bk_store_upsert(s, g_user, &w, E));
    assert_int_equal(w.id, 78);
    /* unique violation on another column: conflict */
    bk_free(w.email);
    w.email = xstrdup(u.email);
    FAILS(BK_ECONFLICT, bk_store_upsert(s, g_user, &w, E));
    bk_clear(g_user, &w);
    bk_clear(g_user, &u);
    bk_store_close(s);
}

static void insert_many_is_all_or_nothing(void **state)
{
    (void)state;
    bk_store *s = open_users();
    enum { N = 40 };
    User *us = calloc(N, sizeof(User));
    for (int i = 0; i < N; i++)
        user_fill(&us[i], i);
    bk_free(us[25].email);
    us[25].email = xstrdup(us[3].email);         /* 25 collides with 3 */
    bk_error *err = NULL;
    assert_int_equal(bk_store_insert_many(s, g_user, us, N, &err), BK_ECONFLICT);
    assert_int_equal(bk_error_record_index(err), 25);
    bk_error_free(err);
    assert_int_equal(count_all(s, g_user), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(us[i].id, 0);            /* generated keys undone */
    /* an invalid object is found before anything is written */
    bk_free(us[25].email);
    us[25].email = xstrdup("fixed@example.com");
    us[30].age = -1;
    err = NULL;
    assert_int_equal(bk_store_insert_many(s, g_user, us, N, &err), BK_EVALIDATION);
    assert_int_equal(bk_error_record_index(err), 30);
    bk_error_free(err);
    us[30].age = 30;
    OK(bk_store_insert_many(s, g_user, us, N, E));
    assert_int_equal(count_all(s, g_user), N);
    /* consecutive keys (SQLite: from 1, the failed batch left no row;
     * PostgreSQL: after the 25 values the failed batch took from the
     * sequence, which a rollback does not give back) */
    assert_true(us[0].id >= 1);
    if (is_sqlite())
        assert_int_equal(us[0].id, 1);
    for (int i = 0; i < N; i++)
        assert_int_equal(us[i].id, us[0].id + i);
    OK(bk_store_insert_many(s, g_user, us, 0, E));
    /* inside a transaction: a savepoint */
    bk_store *tx = NULL;
    OK(bk_store_begin(&tx, s, E));
    for (int i = 0; i < N; i++) {
        us[i].id = 0;
        bk_free(us[i].email);
        char buf[64];
        snprintf(buf, sizeof(buf), "again%d@example.com", i);
        us[i].email = xstrdup(buf);
    }
    OK(bk_store_insert_many(tx, g_user, us, 10, E));
    assert_int_equal(count_all(tx, g_user), N + 10);
    OK(bk_store_rollback(tx, E));
    assert_int_equal(count_all(s, g_user), N);
    for (int i = 0; i < N; i++)
        bk_clear(g_user, &us[i]);
    free(us);
    bk_store_close(s);
}

static void keys_of_other_kinds(void **state)
{
    (void)state;
    bk_store *s = open_fresh();
    OK(bk_store_register(s, g_doc, "docs", E));
    OK(bk_store_register(s, g_kv, "kv", E));
    Doc d = { { { 0 } }, xstrdup("hello") }, back;
    OK(bk_store_insert(s, g_doc, &d, E));
    assert_int_equal(d.id.bytes[6] >> 4, 7);      /* UUIDv7 */
    assert_int_equal(d.id.bytes[8] >> 6, 2);      /* RFC 4122 variant */
    OK(bk_store_get(&back, s, g_doc, &d.id, E));
    assert_string_equal(back.title, "hello");
    assert_memory_equal(back.id.bytes, d.id.bytes, 16);
    bk_clear(g_doc, &back);
    Doc d2 = { { { 0 } }, xstrdup("second") };
    OK(bk_store_insert(s, g_doc, &d2, E));
    assert_memory_not_equal(d.id.bytes, d2.id.bytes, 16);
    bk_clear(g_doc, &d2);
    OK(bk_store_delete(s, g_doc, &d.id, E));
    FAILS(BK_ENOTFOUND, bk_store_get(&back, s, g_doc, &d.id, E));
    bk_clear(g_doc, &d);

    Kv kv = { xstrdup("a'b\"c"), xstrdup("1") }, kb;
    OK(bk_store_insert(s, g_kv, &kv, E));
    const char *key = "a'b\"c";
    OK(bk_store_get(&kb, s, g_kv, &key, E));
    assert_string_equal(kb.value, "1");
    bk_clear(g_kv, &kb);
    bk_free(kv.value);
    kv.value = xstrdup("2");
    OK(bk_store_update(s, g_kv, &kv, NULL, 0, E));
    OK(bk_store_get(&kb, s, g_kv, &key, E));
    assert_string_equal(kb.value, "2");
    bk_clear(g_kv, &kb);
    bk_clear(g_kv, &kv);
    bk_store_close(s);
}

static void records_use_the_same_code(void **state)
{
    (void)state;
    bk_builder *b = NULL;
    bk_model *m = NULL;
    OK(bk_builder_new(&b, E));
    OK(bk_builder_model(b, "Item", E));
    OK(bk_builder_field(b, "id", "i64", E));
    OK(bk_builder_field_attr(b, "primary_key", "true", E));
    OK(bk_builder_field_attr(b, "auto_id", "true", E));
    OK(bk_builder_field(b, "label", "str", E));
    OK(bk_builder_field_attr(b, "unique", "true", E));
    OK(bk_builder_field(b, "qty", "u16", E));
    OK(bk_builder_field(b, "tags", "list<str>", E));
    OK(bk_builder_build(&m, b, "Item", E));
    bk_builder_free(b);
    bk_store *s = open_fresh();
    OK(bk_store_register(s, m, "items", E));
    bk_record *r = NULL, *back = NULL;
    OK(bk_record_new(&r, m, E));
    OK(bk_record_set_str(r, "label", "pencil", E));
    OK(bk_record_set_i64(r, "qty", 12, E));
    json_t *tags = json_pack("[s,s]", "a", "b");
    OK(bk_record_set_json(r, "tags", tags, E));
    json_decref(tags);
    OK(bk_store_insert(s, m, bk_record_data(r), E));
    int64_t id = 0;
    OK(bk_record_get_i64(&id, r, "id", E));
    assert_int_equal(id, 1);
    OK(bk_record_new(&back, m, E));
    OK(bk_store_get(bk_record_data(back), s, m, &id, E));
    char *j1 = NULL, *j2 = NULL;
    OK(bk_record_encode(&j1, NULL, r, NULL, E));
    OK(bk_record_encode(&j2, NULL, back, NULL, E));
    assert_string_equal(j1, j2);
    bk_free(j1);
    bk_free(j2);
    FAILS(BK_ECONFLICT, bk_store_insert(s, m, bk_record_data(r), E));   /* label unique */
    bk_record_free(r);
    bk_record_free(back);
    bk_store_close(s);
    bk_model_unref(m);
}

static void a_row_that_does_not_decode_is_an_io_error(void **state)
{
    (void)state;
    /* two models over one table: one writes what the other cannot read */
    bk_store *s = open_users();
    OK(bk_store_register(s, g_user_raw, "users", E));
    UserRaw r;
    memset(&r, 0, sizeof(r));
    r.name = xstrdup("raw");
    r.email = xstrdup("raw@example.com");
    r.tags = xstrdup("{not json");
    r.addr.city = xstrdup("c");
    r.addr.zip = xstrdup("z");
    r.geo = xstrdup("{\"lat\":1,\"lon\":2}");
    r.meta = json_null();
    OK(bk_store_insert(s, g_user_raw, &r, E));
    User u;
    memset(&u, 0xAB, sizeof(u));
    bk_error *err = NULL;
    assert_int_equal(bk_store_get(&u, s, g_user, &r.id, &err), BK_EIO);
    bk_assert_problem(err, "$.users.tags", "type");
    assert_non_null(strstr(bk_error_message(err), "tags"));
    bk_error_free(err);
    User zero;
    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(&u, &zero, sizeof(u));   /* cleared, never half-filled */
    /* the same through a cursor */
    bk_query *q = NULL;
    bk_cursor *c = NULL;
    OK(bk_query_new(&q, s, g_user, E));
    OK(bk_query_run(&c, q, E));
    FAILS(BK_EIO, bk_cursor_next(c, &u, E));
    assert_memory_equal(&u, &zero, sizeof(u));
    assert_int_equal(bk_cursor_next(c, &u, NULL), BK_ITEROVER);
    bk_cursor_free(c);
    bk_query_free(q);
    /* an enum name that is not in the table of names */
    bk_free(r.tags);
    r.tags = xstrdup("[]");
    OK(bk_store_update(s, g_user_raw, &r, NULL, 0, E));
    OK(bk_store_get(&u, s, g_user, &r.id, E));
    bk_clear(g_user, &u);
    bk_clear(g_user_raw, &r);
    bk_store_close(s);
}

/* ---- transactions ------------------------------------------------------------------------ */

static void transactions_commit_rollback_and_nest(void **state)
{
    (void)state;
    bk_store *s = open_users();
    bk_store *tx = NULL, *in = NULL, *in2 = NULL;
    User a, b;
    user_fill(&a, 1);
    user_fill(&b, 2);
    OK(bk_store_begin(&tx, s, E));
    OK(bk_store_insert(tx, g_user, &a, E));
    assert_int_equal(count_all(tx, g_user), 1);
    OK(bk_store_rollback(tx, E));
    assert_int_equal(count_all(s, g_user), 0);
    a.id = 0;
    OK(bk_store_begin(&tx, s, E));
    OK(bk_store_insert(tx, g_user, &a, E));
    OK(bk_store_begin(&in, tx, E));              /* a savepoint */
    FAILS(BK_EMISUSE, bk_store_begin(&in2, tx, E));   /* the outer one has a child */
    OK(bk_store_insert(in, g_user, &b, E));
    assert_int_equal(count_all(in, g_user), 2);
    FAILS(BK_EMISUSE, bk_store_commit(tx, E));   /* the inner one is open */
    OK(bk_store_rollback(in, E));
    assert_int_equal(count_all(tx, g_user), 1);
    OK(bk_store_commit(tx, E));
    assert_int_equal(count_all(s, g_user), 1);
    /* inner commit, outer rollback: nothing */
    b.id = 0;
    OK(bk_store_begin(&tx, s, E));
    OK(bk_store_begin(&in, tx, E));
    OK(bk_store_insert(in, g_user, &b, E));
    OK(bk_store_commit(in, E));
    OK(bk_store_rollback(tx, E));
    assert_int_equal(count_all(s, g_user), 1);
    /* rolling back an outer transaction rolls back its open inner ones */
    OK(bk_store_begin(&tx, s, E));
    OK(bk_store_begin(&in, tx, E));
    OK(bk_store_rollback(tx, E));
    /* closing the store with a transaction handle rolls it back */
    b.id = 0;
    OK(bk_store_begin(&tx, s, E));
    OK(bk_store_insert(tx, g_user, &b, E));
    bk_store_close(tx);
    assert_int_equal(count_all(s, g_user), 1);
    FAILS(BK_EINVAL, bk_store_commit(NULL, E));
    FAILS(BK_EMISUSE, bk_store_commit(s, E));     /* not a transaction */
    bk_clear(g_user, &a);
    bk_clear(g_user, &b);
    bk_store_close(s);
}

typedef struct { bk_store *tx; bk_status insert, commit, rollback, begin; } other_thread;

static void *use_tx_elsewhere(void *p)
{
    other_thread *o = p;
    User u;
    user_fill(&u, 9);
    bk_error *e = NULL;
    o->insert = bk_store_insert(o->tx, g_user, &u, &e);
    bk_error_free(e);
    e = NULL;
    o->commit = bk_store_commit(o->tx, &e);
    bk_error_free(e);
    e = NULL;
    o->rollback = bk_store_rollback(o->tx, &e);
    bk_error_free(e);
    bk_store *in = NULL;
    e = NULL;
    o->begin = bk_store_begin(&in, o->tx, &e);
    bk_error_free(e);
    bk_clear(g_user, &u);
    return NULL;
}

static void a_transaction_belongs_to_its_thread(void **state)
{
    (void)state;
    bk_store *s = open_users();
    other_thread o;
    memset(&o, 0, sizeof(o));
    OK(bk_store_begin(&o.tx, s, E));
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, use_tx_elsewhere, &o), 0);
    pthread_join(th, NULL);
    assert_int_equal(o.insert, BK_EMISUSE);
    assert_int_equal(o.commit, BK_EMISUSE);
    assert_int_equal(o.rollback, BK_EMISUSE);
    assert_int_equal(o.begin, BK_EMISUSE);
    OK(bk_store_commit(o.tx, E));                /* still usable by its thread */
    bk_store_close(s);
}

typedef struct { int calls; int busy_times; bk_status fail_with; int base; } tx_script;

static bk_status scripted(bk_store *tx, void *payload, bk_error **err)
{
    tx_script *sc = payload;
    sc->calls++;
    User u;
    user_fill(&u, sc->base + sc->calls);
    bk_status st = bk_store_insert(tx, g_user, &u, err);
    bk_clear(g_user, &u);
    if (st != BK_OK)
        return st;
    if (sc->calls <= sc->busy_times)
        return BK_EBUSY;                         /* as if a lock timed out */
    return sc->fail_with;
}

static void transact_retries_busy_with_backoff(void **state)
{
    (void)state;
    bk_store *s = open_users();
    tx_script sc = { 0, 2, BK_OK, 100 };
    OK(bk_store_transact(s, scripted, &sc, 0, E));
    assert_int_equal(sc.calls, 3);
    assert_int_equal(count_all(s, g_user), 1);   /* the failed attempts rolled back */
    tx_script sc2 = { 0, 10, BK_OK, 200 };
    FAILS(BK_EBUSY, bk_store_transact(s, scripted, &sc2, 3, E));
    assert_int_equal(sc2.calls, 3);
    tx_script sc3 = { 0, 0, BK_EVALIDATION, 300 };
    FAILS(BK_EVALIDATION, bk_store_transact(s, scripted, &sc3, 5, E));
    assert_int_equal(sc3.calls, 1);              /* not retried */
    assert_int_equal(count_all(s, g_user), 1);
    FAILS(BK_EINVAL, bk_store_transact(s, NULL, NULL, 0, E));
    bk_store_close(s);
}

static void a_cursor_and_a_transaction_share_the_pool(void **state)
{
    (void)state;
    bk_store_options o = BK_STORE_OPTIONS_INIT;
    o.pool_size = 1;
    char uri[512];
    fresh_uri(uri, sizeof(uri));
    bk_store *s = NULL;
    OK(bk_store_open(&s, uri, &o, E));
    OK(bk_store_register(s, g_user, "users", E));
    for (int i = 0; i < 3; i++) {
        User u;
        user_fill(&u, i);
        OK(bk_store_insert(s, g_user, &u, E));
        bk_clear(g_user, &u);
    }
    bk_query *q = NULL;
    bk_cursor *c = NULL;
    OK(bk_query_new(&q, s, g_user, E));
    OK(bk_query_run(&c, q, E));
    User u;
    OK(bk_cursor_next(c, &u, E));
    /* the same thread may use the store while its cursor holds the connection */
    User other;
    int64_t id = 2;
    OK(bk_store_get(&other, s, g_user, &id, E));
    bk_clear(g_user, &other);
    /* but a transaction needs a connection of its own: none left */
    bk_store *tx = NULL;
    FAILS(BK_EMISUSE, bk_store_begin(&tx, s, E));
    bk_clear(g_user, &u);
    bk_cursor_free(c);
    OK(bk_store_begin(&tx, s, E));
    OK(bk_store_commit(tx, E));
    bk_query_free(q);
    bk_store_close(s);
}

/* ---- queries ------------------------------------------------------------------------------ */

enum { NQ = 60 };

static bk_store *open_with_rows(void)
{
    bk_store *s = open_users();
    User *us = calloc(NQ, sizeof(User));
    for (int i = 0; i < NQ; i++)
        user_fill(&us[i], i);
    OK(bk_store_insert_many(s, g_user, us, NQ, E));
    for (int i = 0; i < NQ; i++)
        bk_clear(g_user, &us[i]);
    free(us);
    return s;
}

/* Run q and collect the ids (up to max). */
static size_t ids_of(bk_query *q, int64_t *ids, size_t max)
{
    bk_cursor *c = NULL;
    OK(bk_query_run(&c, q, E));
    size_t n = 0;
    User u;
    bk_status st;
    bk_error *err = NULL;
    while ((st = bk_cursor_next(c, &u, &err)) == BK_OK) {
        if (n < max)
            ids[n] = u.id;
        n++;
        bk_clear(g_user, &u);
    }
    if (st != BK_ITEROVER)
        fprintf(stderr, "cursor: %s\n", bk_error_message(err));
    assert_int_equal(st, BK_ITEROVER);
    assert_null(err);
    bk_cursor_free(c);
    return n;
}

typedef void (*qbuild)(bk_query *q);

static size_t count_where(bk_store *s, qbuild f)
{
    bk_query *q = NULL;
    OK(bk_query_new(&q, s, g_user, E));
    f(q);
    int64_t n = -1;
    OK(bk_query_count(&n, q, E));
    int64_t ids[NQ];
    size_t m = ids_of(q, ids, NQ);
    assert_int_equal((size_t)n, m);             /* count and run agree */
    bk_query_free(q);
    return m;
}

/* Expected counts computed from user_fill(): age = 20 + i % 50, ... */
static size_t expect(bool (*pred)(int i))
{
    size_t n = 0;
    for (int i = 0; i < NQ; i++)
        n += pred(i);
    return n;
}

static void q_age_eq(bk_query *q) { OK(bk_query_where_i64(q, "age", BK_OP_EQ, 25, E)); }
static bool p_age_eq(int i) { return 20 + i % 50 == 25; }
static void q_age_ne(bk_query *q) { OK(bk_query_where(q, "age", BK_OP_NE, "25", E)); }
static bool p_age_ne(int i) { return 20 + i % 50 != 25; }
static void q_age_lt(bk_query *q) { OK(bk_query_where_i64(q, "age", BK_OP_LT, 30, E)); }
static bool p_age_lt(int i) { return 20 + i % 50 < 30; }
static void q_age_le(bk_query *q) { OK(bk_query_where_f64(q, "age", BK_OP_LE, 30.0, E)); }
static bool p_age_le(int i) { return 20 + i % 50 <= 30; }
static void q_age_gt(bk_query *q) { OK(bk_query_where(q, "age", BK_OP_GT, "60", E)); }
static bool p_age_gt(int i) { return 20 + i % 50 > 60; }
static void q_age_ge(bk_query *q) { OK(bk_query_where_i64(q, "age", BK_OP_GE, 60, E)); }
static bool p_age_ge(int i) { return 20 + i % 50 >= 60; }
static void q_age_in(bk_query *q) { OK(bk_query_where(q, "age", BK_OP_IN, "[21, 22, 99]", E)); }
static bool p_age_in(int i) { int a = 20 + i % 50; return a == 21 || a == 22; }
static void q_age_nin(bk_query *q) { OK(bk_query_where(q, "age", BK_OP_NOT_IN, "[21,22]", E)); }
static bool p_age_nin(int i) { int a = 20 + i % 50; return a != 21 && a != 22; }
static void q_in_empty(bk_query *q) { OK(bk_query_where(q, "age", BK_OP_IN, "[]", E)); }
static bool p_none(int i) { (void)i; return false; }
static void q_nin_empty(bk_query *q) { OK(bk_query_where(q, "age", BK_OP_NOT_IN, "[]", E)); }
static bool p_all(int i) { (void)i; return true; }
static void q_nick_null(bk_query *q) { OK(bk_query_where(q, "nick", BK_OP_IS_NULL, NULL, E)); }
static bool p_nick_null(int i) { return i % 5 == 0; }
static void q_nick_nn(bk_query *q) { OK(bk_query_where_str(q, "nick", BK_OP_IS_NOT_NULL, NULL, E)); }
static bool p_nick_nn(int i) { return i % 5 != 0; }
static void q_nick_eq_null(bk_query *q) { OK(bk_query_where(q, "nick", BK_OP_EQ, "null", E)); }
static void q_nick_in_null(bk_query *q) { OK(bk_query_where(q, "nick", BK_OP_IN, "[null, \"nick1\"]", E)); }
static bool p_nick_in_null(int i) { return i % 5 == 0 || i == 1; }
static void q_prefix(bk_query *q) { OK(bk_query_where_str(q, "name", BK_OP_PREFIX, "user 01", E)); }
static bool p_prefix(int i) { return i >= 10 && i < 20; }
static void q_contains(bk_query *q) { OK(bk_query_where(q, "name", BK_OP_CONTAINS, "\"5\"", E)); }
static bool p_contains(int i) { char b[16]; snprintf(b, sizeof(b), "%03d", i); return strchr(b, '5') != NULL; }
static void q_role(bk_query *q) { OK(bk_query_where_str(q, "role", BK_OP_EQ, "guest", E)); }
static bool p_role(int i) { return i % 3 == ROLE_GUEST; }
static void q_role_in(bk_query *q) { OK(bk_query_where(q, "role", BK_OP_IN, "[\"admin\",\"guest\"]", E)); }
static bool p_role_in(int i) { return i % 3 != ROLE_MEMBER; }
static void q_active(bk_query *q) { OK(bk_query_where_bool(q, "active", BK_OP_EQ, true, E)); }
static bool p_active(int i) { return i % 2 == 0; }
static void q_ts(bk_query *q) { OK(bk_query_where_str(q, "created_at", BK_OP_LT, "2023-11-14T22:13:30Z", E)); }
static bool p_ts(int i) { return 1700000000000000LL + (int64_t)i * 1000001 < 1700000010000000LL; }
static void q_date(bk_query *q) { OK(bk_query_where_str(q, "birthday", BK_OP_GE, "1989-03-04", E)); }
static bool p_date(int i) { return 7000 + i >= 7002; }
static void q_uuid(bk_query *q)
{
    /* ext of i = 2: bytes 32..47 */
    OK(bk_query_where_str(q, "ext", BK_OP_EQ, "20212223-2425-2627-2829-2a2b2c2d2e2f", E));
}
static bool p_uuid(int i) { return i % 16 == 2; }   /* the bytes wrap every 16 */
static void q_city(bk_query *q) { OK(bk_query_where_str(q, "city", BK_OP_EQ, "Zürich", E)); }
static bool p_city(int i) { return i % 2 == 1; }
static void q_level(bk_query *q) { OK(bk_query_where(q, "level", BK_OP_GE, "50", E)); }
static bool p_level(int i) { return i >= 50; }
static void q_or(bk_query *q)
{
    OK(bk_query_group_begin(q, true, E));
    OK(bk_query_where_i64(q, "age", BK_OP_EQ, 21, E));
    OK(bk_query_where_str(q, "role", BK_OP_EQ, "admin", E));
    OK(bk_query_group_end(q, E));
    OK(bk_query_where_bool(q, "active", BK_OP_EQ, false, E));
}
static bool p_or(int i) { return (20 + i % 50 == 21 || i % 3 == 0) && i % 2 == 1; }
static void q_nested(bk_query *q)
{
    OK(bk_query_group_begin(q, true, E));
    OK(bk_query_group_begin(q, false, E));
    OK(bk_query_where_i64(q, "age", BK_OP_GE, 30, E));
    OK(bk_query_where_i64(q, "age", BK_OP_LT, 35, E));
    OK(bk_query_group_end(q, E));
    OK(bk_query_group_begin(q, false, E));          /* empty AND group: true */
    OK(bk_query_group_end(q, E));
    OK(bk_query_group_end(q, E));
    OK(bk_query_group_begin(q, true, E));           /* empty OR group: false */
    OK(bk_query_group_end(q, E));
}
static void q_nested2(bk_query *q)
{
    OK(bk_query_group_begin(q, true, E));
    OK(bk_query_group_begin(q, false, E));
    OK(bk_query_where_i64(q, "age", BK_OP_GE, 30, E));
    OK(bk_query_where_i64(q, "age", BK_OP_LT, 35, E));
    OK(bk_query_group_end(q, E));
    OK(bk_query_where_i64(q, "age", BK_OP_EQ, 60, E));
    OK(bk_query_group_end(q, E));
}
static bool p_nested2(int i) { int a = 20 + i % 50; return (a >= 30 && a < 35) || a == 60; }

static void filters_return_exactly_the_matching_rows(void **state)
{
    (void)state;
    bk_store *s = open_with_rows();
    static const struct { qbuild q; bool (*p)(int); const char *name; } cases[] = {
        { q_age_eq, p_age_eq, "age = 25" }, { q_age_ne, p_age_ne, "age <> 25" },
        { q_age_lt, p_age_lt, "age < 30" }, { q_age_le, p_age_le, "age <= 30.0" },
        { q_age_gt, p_age_gt, "age > 60" }, { q_age_ge, p_age_ge, "age >= 60" },
        { q_age_in, p_age_in, "age IN" }, { q_age_nin, p_age_nin, "age NOT IN" },
        { q_in_empty, p_none, "IN []" }, { q_nin_empty, p_all, "NOT IN []" },
        { q_nick_null, p_nick_null, "nick IS NULL" }, { q_nick_nn, p_nick_nn, "IS NOT NULL" },
        { q_nick_eq_null, p_nick_null, "nick = null" },
        { q_nick_in_null, p_nick_in_null, "nick IN [null, ...]" },
        { q_prefix, p_prefix, "PREFIX" }, { q_contains, p_contains, "CONTAINS" },
        { q_role, p_role, "enum EQ" }, { q_role_in, p_role_in, "enum IN" },
        { q_active, p_active, "bool" }, { q_ts, p_ts, "timestamp" },
        { q_date, p_date, "date" }, { q_uuid, p_uuid, "uuid" },
        { q_city, p_city, "flattened column" }, { q_level, p_level, "u8" },
        { q_or, p_or, "OR group AND" }, { q_nested, p_none, "nested and empty groups" },
        { q_nested2, p_nested2, "nested groups" },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t got = count_where(s, cases[k].q), want = expect(cases[k].p);
        if (got != want)
            fprintf(stderr, "filter %s: %zu rows, want %zu\n", cases[k].name, got, want);
        assert_int_equal(got, want);
    }
    bk_store_close(s);
}

static void filters_are_type_checked_when_built(void **state)
{
    (void)state;
    bk_store *s = open_with_rows();
    bk_query *q = NULL;
    OK(bk_query_new(&q, s, g_user, E));
    bk_error *err = NULL;
    assert_int_equal(bk_query_where(q, "name", BK_OP_EQ, "5", &err), BK_EINVAL);
    assert_non_null(strstr(bk_error_message(err), "name"));
    bk_error_free(err);
    FAILS(BK_EINVAL, bk_query_where(q, "age", BK_OP_EQ, "\"5\"", E));
    FAILS(BK_EINVAL, bk_query_where(q, "age", BK_OP_EQ, "5.5", E));
    FAILS(BK_EINVAL, bk_query_where(q, "age", BK_OP_EQ, "not json", E));
    FAILS(BK_EINVAL, bk_query_where(q, "age", BK_OP_IN, "5", E));
    FAILS(BK_EINVAL, bk_query_where(q, "age", BK_OP_IN, "[1, \"x\"]", E));
    FAILS(BK_EINVAL, bk_query_where(q, "age", BK_OP_LT, "null", E));
    FAILS(BK_EINVAL, bk_query_where(q, "age", BK_OP_EQ, NULL, E));
    FAILS(BK_EINVAL, bk_query_where(q, "level", BK_OP_EQ, "300", E));     /* u8 range */
    FAILS(BK_EINVAL, bk_query_where_i64(q, "name", BK_OP_EQ, 5, E));
    FAILS(BK_EINVAL, bk_query_where_i64(q, "active", BK_OP_EQ, 1, E));
    FAILS(BK_EINVAL, bk_query_where_f64(q, "name", BK_OP_EQ, 5, E));
    FAILS(BK_EINVAL, bk_query_where_f64(q, "score", BK_OP_EQ, NAN, E));
    FAILS(BK_EINVAL, bk_query_where_str(q, "age", BK_OP_EQ, "5", E));
    FAILS(BK_EINVAL, bk_query_where_str(q, "role", BK_OP_EQ, "emperor", E));
    FAILS(BK_EINVAL, bk_query_where_str(q, "role", BK_OP_LT, "admin", E));
    FAILS(BK_EINVAL, bk_query_where_str(q, "ext", BK_OP_EQ, "not-a-uuid", E));
    FAILS(BK_EINVAL, bk_query_where_str(q, "created_at", BK_OP_EQ, "yesterday", E));
    FAILS(BK_EINVAL, bk_query_where_str(q, "name", BK_OP_EQ, "\xff\xfe", E));
    FAILS(BK_EINVAL, bk_query_where_bool(q, "age", BK_OP_EQ, true, E));
    FAILS(BK_EINVAL, bk_query_where_i64(q, "age", BK_OP_PREFIX, 1, E));
    FAILS(BK_EINVAL, bk_query_where(q, "age", BK_OP_CONTAINS, "1", E));
    FAILS(BK_EINVAL, bk_query_where_i64(q, "age", BK_OP_IN, 1, E));
    FAILS(BK_EINVAL, bk_query_where(q, "tags", BK_OP_EQ, "[]", E));       /* JSON text */
    OK(bk_query_where(q, "tags", BK_OP_IS_NOT_NULL, NULL, E));
    FAILS(BK_EINVAL, bk_query_where(q, "nope", BK_OP_EQ, "1", E));
    FAILS(BK_EINVAL, bk_query_where(q, NULL, BK_OP_EQ, "1", E));
    FAILS(BK_EINVAL, bk_query_where(q, "age", (bk_op)99, "1", E));
    FAILS(BK_EINVAL, bk_query_order_by(q, "nope", false, E));
    FAILS(BK_EINVAL, bk_query_order_by(q, "geo", false, E));
    FAILS(BK_EINVAL, bk_query_group_end(q, E));
    OK(bk_query_group_begin(q, true, E));
    bk_cursor *c = NULL;
    int64_t n;
    FAILS(BK_EINVAL, bk_query_run(&c, q, E));     /* a group is open */
    FAILS(BK_EINVAL, bk_query_count(&n, q, E));
    for (int i = 0; i < 31; i++)
        OK(bk_query_group_begin(q, false, E));
    FAILS(BK_EINVAL, bk_query_group_begin(q, false, E));
    bk_query_free(q);
    bk_store_close(s);
}

static void ordering_limit_offset_and_count(void **state)
{
    (void)state;
    bk_store *s = open_with_rows();
    bk_query *q = NULL;
    int64_t ids[NQ], n;
    OK(bk_query_new(&q, s, g_user, E));
    OK(bk_query_order_by(q, "age", true, E));     /* ties broken by the key */
    size_t got = ids_of(q, ids, NQ);
    assert_int_equal(got, NQ);
    for (size_t i = 1; i < got; i++) {
        int ai = 20 + (int)((ids[i] - 1) % 50), ap = 20 + (int)((ids[i - 1] - 1) % 50);
        assert_true(ap > ai || (ap == ai && ids[i - 1] < ids[i]));
    }
    OK(bk_query_limit(q, 5, E));
    OK(bk_query_offset(q, 2, E));
    int64_t page[5];
    assert_int_equal(ids_of(q, page, 5), 5);
    assert_memory_equal(page, ids + 2, sizeof(page));
    OK(bk_query_count(&n, q, E));
    assert_int_equal(n, NQ);                      /* count ignores limit and offset */
    OK(bk_query_offset(q, NQ, E));
    assert_int_equal(ids_of(q, page, 5), 0);
    bk_query_free(q);
    /* offset alone */
    OK(bk_query_new(&q, s, g_user, E));
    OK(bk_query_offset(q, NQ - 3, E));
    assert_int_equal(ids_of(q, ids, NQ), 3);
    assert_int_equal(ids[0], NQ - 2);
    bk_query_free(q);
    bk_store_close(s);
}

/* Walk the whole table in pages of `per` with tokens; compare with one run. */
static void paginate_like_one_run(bk_store *s, const char *field, bool desc, size_t per)
{
    int64_t all[NQ + 8], paged[NQ + 8];
    bk_query *q = NULL;
    OK(bk_query_new(&q, s, g_user, E));
    if (field)
        OK(bk_query_order_by(q, field, desc, E));
    size_t n_all = ids_of(q, all, NQ + 8);
    bk_query_free(q);
    size_t n = 0;
    char *token = NULL;
    for (int guard = 0; guard < 1000; guard++) {
        OK(bk_query_new(&q, s, g_user, E));
        if (field)
            OK(bk_query_order_by(q, field, desc, E));
        OK(bk_query_limit(q, per, E));
        if (token)
            OK(bk_query_after(q, token, E));
        bk_free(token);
        token = NULL;
        bk_cursor *c = NULL;
        OK(bk_query_run(&c, q, E));
        User u;
        size_t got = 0;
        while (bk_cursor_next(c, &u, NULL) == BK_OK) {
            paged[n++] = u.id;
            got++;
            bk_clear(g_user, &u);
        }
        if (got)
            OK(bk_cursor_token(&token, c, E));
        else
            FAILS(BK_ENOTFOUND, bk_cursor_token(&token, c, E));
        bk_cursor_free(c);
        bk_query_free(q);
        if (got < per)
            break;
    }
    bk_free(token);
    assert_int_equal(n, n_all);
    assert_memory_equal(paged, all, n * sizeof(int64_t));
}

static void keyset_pagination_with_tokens(void **state)
{
    (void)state;
    bk_store *s = open_with_rows();
    paginate_like_one_run(s, NULL, false, 7);
    paginate_like_one_run(s, "age", false, 7);
    paginate_like_one_run(s, "age", true, 5);
    paginate_like_one_run(s, "nick", false, 6);   /* nullable key: NULLs first */
    paginate_like_one_run(s, "nick", true, 6);    /* ... and last descending */
    paginate_like_one_run(s, "score", true, 9);
    paginate_like_one_run(s, "name", false, NQ);
    paginate_like_one_run(s, "id", true, 11);
    /* a token is bound to its ordering */
    bk_query *q = NULL;
    bk_cursor *c = NULL;
    User u;
    char *token = NULL;
    OK(bk_query_new(&q, s, g_user, E));
    OK(bk_query_order_by(q, "age", false, E));
    OK(bk_query_run(&c, q, E));
    OK(bk_cursor_next(c, &u, E));
    bk_clear(g_user, &u);
    OK(bk_cursor_token(&token, c, E));
    bk_cursor_free(c);
    bk_query_free(q);
    OK(bk_query_new(&q, s, g_user, E));
    FAILS(BK_EINVAL, bk_query_after(q, token, E));          /* no ordering */
    OK(bk_query_order_by(q, "age", true, E));
    FAILS(BK_EINVAL, bk_query_after(q, token, E));          /* other direction */
    bk_query_free(q);
    OK(bk_query_new(&q, s, g_user, E));
    OK(bk_query_order_by(q, "age", false, E));
    OK(bk_query_after(q, token, E));
    OK(bk_query_order_by(q, "score", false, E));            /* changed after: refused */
    FAILS(BK_EINVAL, bk_query_run(&c, q, E));
    FAILS(BK_EINVAL, bk_query_after(q, "", E));
    FAILS(BK_EINVAL, bk_query_after(q, "!!!!", E));
    FAILS(BK_EINVAL, bk_query_after(q, "WyJ4Il0", E));      /* ["x"] */
    FAILS(BK_EINVAL, bk_query_after(q, NULL, E));
    bk_query_free(q);
    bk_free(token);
    bk_store_close(s);
}

/* ---- SQL injection ------------------------------------------------------------------------ */

static const char *const PAYLOADS[] = {
    "'; DROP TABLE users; --",
    "\" OR 1=1 --",
    "' OR '1'='1",
    "a\x00" "b",                     /* a C string ends at NUL: "a" */
    "%",
    "_",
    "%_%",
    "50%_off\\",
    "\\",
    "’ OR ‘1’=‘1",                   /* unicode quotes */
    "＇ OR １=１ --",                 /* fullwidth */
    "\"users\"",
    "?",
    "$1",
    "); DELETE FROM users; --",
    "Robert'); DROP TABLE students;--",
    "\n\r\t",
    "",
    "日本語 😀",
    NULL,                            /* placeholder for a very long string */
};
enum { NPAY = sizeof(PAYLOADS) / sizeof(PAYLOADS[0]) };

static char *g_long;

static const char *payload(size_t i) { return PAYLOADS[i] ? PAYLOADS[i] : g_long; }

static int ucmp(const char *a, const char *b) { return strcmp(a, b); }

static bool op_holds(bk_op op, const char *name, const char *p)
{
    int c = ucmp(name, p);
    switch (op) {
    case BK_OP_EQ: return c == 0;
    case BK_OP_NE: return c != 0;
    case BK_OP_LT: return c < 0;
    case BK_OP_LE: return c <= 0;
    case BK_OP_GT: return c > 0;
    case BK_OP_GE: return c >= 0;
    case BK_OP_IN: return c == 0;
    case BK_OP_NOT_IN: return c != 0;
    case BK_OP_PREFIX: return strncmp(name, p, strlen(p)) == 0;
    case BK_OP_CONTAINS: return strstr(name, p) != NULL;
    default: return false;
    }
}

static void injection_payloads_are_only_ever_values(void **state)
{
    (void)state;
    g_long = malloc(100001);
    for (int i = 0; i < 100000; i++)
        g_long[i] = "'\";-%_"[i % 7];
    g_long[100000] = '\0';
    bk_store *s = open_users();
    /* one row per payload, named by it */
    for (size_t i = 0; i < NPAY; i++) {
        User u;
        user_fill(&u, (int)i);
        bk_free(u.name);
        u.name = xstrdup(payload(i));
        OK(bk_store_insert(s, g_user, &u, E));
        bk_clear(g_user, &u);
    }
    static const bk_op ops[] = { BK_OP_EQ, BK_OP_NE, BK_OP_LT, BK_OP_LE, BK_OP_GT, BK_OP_GE,
        BK_OP_IN, BK_OP_NOT_IN, BK_OP_PREFIX, BK_OP_CONTAINS };
    for (size_t pi = 0; pi < NPAY; pi++) {
        const char *p = payload(pi);
        json_t *js = json_string(p);
        char *pj = json_dumps(js, JSON_ENCODE_ANY);
        json_t *arr = json_pack("[O]", js);
        char *aj = json_dumps(arr, 0);
        json_decref(arr);
        json_decref(js);
        for (size_t oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++) {
            bk_op op = ops[oi];
            size_t want = 0;
            for (size_t r = 0; r < NPAY; r++)
                want += op_holds(op, payload(r), p);
            for (int form = 0; form < 2; form++) {
                if (form == 0 && (op == BK_OP_IN || op == BK_OP_NOT_IN))
                    continue;               /* typed setters take single values */
                bk_query *q = NULL;
                OK(bk_query_new(&q, s, g_user, E));
                if (form == 0)
                    OK(bk_query_where_str(q, "name", op, p, E));
                else
                    OK(bk_query_where(q, "name", op,
                        op == BK_OP_IN || op == BK_OP_NOT_IN ? aj : pj, E));
                int64_t n = -1;
                OK(bk_query_count(&n, q, E));
                int64_t ids[NPAY + 1];
                size_t m = ids_of(q, ids, NPAY + 1);
                if ((size_t)n != want || m != want)
                    fprintf(stderr, "payload %zu op %d form %d: %lld/%zu rows, want %zu\n", pi,
                        (int)op, form, (long long)n, m, want);
                assert_int_equal((size_t)n, want);
                assert_int_equal(m, want);
                if (op == BK_OP_EQ) {
                    /* the row whose name is the payload, and only it (the
                     * "a\0b" payload is "a", also the name of its row) */
                    assert_int_equal(m, 1);
                    User u;
                    OK(bk_store_get(&u, s, g_user, &ids[0], E));
                    assert_string_equal(u.name, p);
                    bk_clear(g_user, &u);
                }
                bk_query_free(q);
            }
        }
        /* as field names: never spliced, always "unknown field" */
        bk_query *q = NULL;
        OK(bk_query_new(&q, s, g_user, E));
        for (size_t oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++) {
            FAILS(BK_EINVAL, bk_query_where(q, p, ops[oi], "1", E));
            FAILS(BK_EINVAL, bk_query_where_str(q, p, ops[oi], "x", E));
            FAILS(BK_EINVAL, bk_query_where_i64(q, p, ops[oi], 1, E));
        }
        FAILS(BK_EINVAL, bk_query_order_by(q, p, false, E));
        const char *fields[] = { p };
        User u;
        user_fill(&u, 1);
        u.id = 1;
        FAILS(BK_EINVAL, bk_store_update(s, g_user, &u, fields, 1, E));
        bk_clear(g_user, &u);
        bk_query_free(q);
        /* as a table name: refused (unless it is an identifier: "_", "a") */
        bk_store *s2 = open_fresh();
        bool ident = *p && !(*p >= '0' && *p <= '9') && strspn(p,
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(p);
        if (ident)
            OK(bk_store_register(s2, g_kv, p, E));
        else
            FAILS(BK_EINVAL, bk_store_register(s2, g_kv, p, E));
        bk_store_close(s2);
        free(pj);
        free(aj);
    }
    /* the table is intact: same rows, same schema */
    assert_int_equal(count_all(s, g_user), NPAY);
    char *sql = NULL;
    OK(bk_store_diff(&sql, s, g_user, "users", E));
    assert_string_equal(sql, "");
    bk_free(sql);
    bk_store_close(s);
    free(g_long);
}

/* ---- drift -------------------------------------------------------------------------------- */

static void apply_sql(bk_store *s, int64_t version, const char *sql)
{
    bk_migration m = { version, "apply diff", sql };
    size_t n = 0;
    OK(bk_store_migrate(s, &m, 1, &n, E));
    assert_int_equal(n, 1);
}

static void drift_is_reported_then_reconciled_by_the_diff(void **state)
{
    (void)state;
    bk_store *s = open_fresh();
    OK(bk_store_register(s, g_p1, "people", E));
    PersonV1 p = { 1, xstrdup("Ada"), xstrdup("36"), xstrdup("x"), 5 };
    OK(bk_store_insert(s, g_p1, &p, E));
    bk_clear(g_p1, &p);
    bk_store *s2 = g_kind->file ? NULL : s;
    if (g_kind->file) {
        /* a second store on the same file: a fresh set of registrations */
        bk_store_close(s);
        char uri[512];
        uri_of(uri, sizeof(uri), g_seq);
        OK(bk_store_open(&s2, uri, NULL, E));
        s = s2;
    }
    bk_error *err = NULL;
    assert_int_equal(bk_store_register(s, g_p2, "people", &err), BK_ESCHEMA);
    /* every difference, each a problem */
    assert_int_equal(bk_error_count(err), 6);
    bk_assert_problem(err, "$.people.age", "type");
    bk_assert_problem(err, "$.people.email", "missing_column");
    bk_assert_problem(err, "$.people.n", "nullability");
    bk_assert_problem(err, "$.people.old", "extra_column");
    bk_assert_problem(err, "$.people.name", "missing_index");
    bk_assert_problem(err, "$.people.email", "missing_index");
    bk_error_free(err);
    /* nothing was changed; the model is not registered */
    PersonV2 q;
    memset(&q, 0, sizeof(q));
    FAILS(BK_ENOTFOUND, bk_store_insert(s, g_p2, &q, E));
    char *sql = NULL;
    OK(bk_store_diff(&sql, s, g_p2, "people", E));
    assert_non_null(strstr(sql, "rebuilt"));
    apply_sql(s, 1, sql);
    bk_free(sql);
    OK(bk_store_register(s, g_p2, "people", E));
    OK(bk_store_diff(&sql, s, g_p2, "people", E));
    assert_string_equal(sql, "");
    bk_free(sql);
    /* the row survived, converted */
    int64_t id = 1;
    OK(bk_store_get(&q, s, g_p2, &id, E));
    assert_string_equal(q.name, "Ada");
    assert_int_equal(q.age, 36);
    assert_string_equal(q.email, "");
    assert_int_equal(q.n_p, BK_PRESENT);
    assert_int_equal(q.n, 5);
    bk_clear(g_p2, &q);
    bk_store_close(s);
}

static void additive_drift_is_altered_in_place(void **state)
{
    (void)state;
    bk_store *s = open_fresh();
    OK(bk_store_register(s, g_p1, "people", E));
    bk_store_close(s);
    if (!g_kind->file)
        return;       /* the in-memory database went with its store */
    char uri[512];
    uri_of(uri, sizeof(uri), g_seq);
    OK(bk_store_open(&s, uri, NULL, E));
    bk_error *err = NULL;
    assert_int_equal(bk_store_register(s, g_p3, "people", &err), BK_ESCHEMA);
    assert_int_equal(bk_error_count(err), 3);
    bk_assert_problem(err, "$.people.email", "missing_column");
    bk_assert_problem(err, "$.people.old", "extra_column");
    bk_assert_problem(err, "$.people.name", "missing_index");
    bk_error_free(err);
    char *sql = NULL;
    OK(bk_store_diff(&sql, s, g_p3, "people", E));
    if (is_sqlite())
        assert_string_equal(sql,
            "ALTER TABLE \"people\" DROP COLUMN \"old\";\n"
            "ALTER TABLE \"people\" ADD COLUMN \"email\" TEXT;\n"
            "CREATE INDEX \"people_name_idx\" ON \"people\" (\"name\");\n");
    apply_sql(s, 1, sql);
    bk_free(sql);
    OK(bk_store_register(s, g_p3, "people", E));
    bk_store_close(s);
}

/* ---- migrations ------------------------------------------------------------------------ */

#define X10 "xxxxxxxxxx"
#define X200 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
static const bk_migration MIGS[] = {
    { 1, "create t1", "CREATE TABLE t1 (x INTEGER)" },
    { 2, "create t2", "-- " X200 "\nCREATE TABLE t2 (y INTEGER)" },
    { 5, "two statements", "CREATE TABLE t5 (z TEXT); INSERT INTO t5 VALUES ('a;b')" },
};

static void migrations_apply_once_in_order_with_checksums(void **state)
{
    (void)state;
    bk_store *s = open_fresh();
    size_t n = 99;
    OK(bk_store_pending(&n, s, MIGS, 3, E));
    assert_int_equal(n, 3);
    OK(bk_store_migrate(s, MIGS, 2, &n, E));
    assert_int_equal(n, 2);
    OK(bk_store_pending(&n, s, MIGS, 3, E));
    assert_int_equal(n, 1);
    OK(bk_store_migrate(s, MIGS, 3, &n, E));
    assert_int_equal(n, 1);
    OK(bk_store_migrate(s, MIGS, 3, &n, E));
    assert_int_equal(n, 0);
    /* the ledger, read through a model */
    OK(bk_store_register(s, g_mig, "bk_migrations", E));
    MigRow r;
    int64_t v = 1;
    OK(bk_store_get(&r, s, g_mig, &v, E));
    assert_string_equal(r.name, "create t1");
    assert_string_equal(r.checksum, "033b6a9707326a675b7e775e7c8818f4d15faa662e5355eee07fb315b251a442");
    assert_int_equal(strlen(r.applied_at), 27);  /* RFC 3339 with microseconds */
    bk_clear(g_mig, &r);
    v = 2;
    OK(bk_store_get(&r, s, g_mig, &v, E));
    assert_string_equal(r.checksum, "8b3bac122b16d7b45a70b0a7d26cffc09463c28d1097069157463b5a3863e10a");
    bk_clear(g_mig, &r);
    /* a changed migration: refused, nothing runs */
    bk_migration changed[3] = { MIGS[0], MIGS[1], MIGS[2] };
    changed[1].sql = "CREATE TABLE t2 (y TEXT)";
    bk_migration more[4] = { changed[0], changed[1], changed[2],
        { 6, "later", "CREATE TABLE t6 (a INTEGER)" } };
    FAILS(BK_ECONFLICT, bk_store_migrate(s, more, 4, &n, E));
    assert_int_equal(n, 0);
    FAILS(BK_ECONFLICT, bk_store_pending(&n, s, changed, 3, E));
    /* versions must increase */
    bk_migration bad[2] = { MIGS[1], MIGS[0] };
    FAILS(BK_ECONFLICT, bk_store_migrate(s, bad, 2, &n, E));
    bk_migration dup[2] = { MIGS[0], MIGS[0] };
    FAILS(BK_ECONFLICT, bk_store_pending(&n, s, dup, 2, E));
    bk_migration zero = { 0, "zero", "SELECT 1" };
    FAILS(BK_ECONFLICT, bk_store_migrate(s, &zero, 1, &n, E));
    /* a pending one older than the newest applied: would run out of order */
    bk_migration gap[4] = { MIGS[0], MIGS[1], { 3, "late", "SELECT 1" }, MIGS[2] };
    FAILS(BK_ECONFLICT, bk_store_migrate(s, gap, 4, &n, E));
    bk_migration noname = { 7, NULL, "SELECT 1" };
    FAILS(BK_EINVAL, bk_store_migrate(s, &noname, 1, &n, E));
    /* a failing one is rolled back; those before it stay */
    bk_migration tail[6] = { MIGS[0], MIGS[1], MIGS[2], { 6, "ok", "CREATE TABLE t6 (a INTEGER)" },
        { 7, "broken", "CREATE TABLE t7 (a INTEGER); INSERT INTO nowhere VALUES (1)" },
        { 8, "after", "CREATE TABLE t8 (a INTEGER)" } };
    bk_error *err = NULL;
    assert_int_equal(bk_store_migrate(s, tail, 6, &n, &err), BK_EIO);
    assert_non_null(strstr(bk_error_message(err), "broken"));
    bk_error_free(err);
    assert_int_equal(n, 1);
    OK(bk_store_pending(&n, s, tail, 6, E));
    assert_int_equal(n, 2);
    /* t7 does not exist: the failed migration left nothing */
    bk_migration probe = { 9, "probe", "CREATE TABLE t7 (a INTEGER)" };
    bk_migration fixed[7] = { tail[0], tail[1], tail[2], tail[3],
        { 7, "broken", "CREATE TABLE t7b (a INTEGER)" }, tail[5], probe };
    OK(bk_store_migrate(s, fixed, 7, &n, E));
    assert_int_equal(n, 3);
    bk_store *tx = NULL;
    OK(bk_store_begin(&tx, s, E));
    FAILS(BK_EMISUSE, bk_store_migrate(tx, MIGS, 3, &n, E));
    OK(bk_store_pending(&n, tx, MIGS, 3, E));
    assert_int_equal(n, 0);
    OK(bk_store_rollback(tx, E));
    OK(bk_store_migrate(s, NULL, 0, &n, E));
    assert_int_equal(n, 0);
    bk_store_close(s);
}

typedef struct { char uri[512]; size_t applied; bk_status st; } migrator;

/* Migrations are the engine's SQL: the table's key is the type an i64
 * field maps to (SQLite INTEGER, PostgreSQL BIGINT); the rest is portable. */
static bk_migration RACE[] = {
    { 1, "marks", NULL },
    { 2, "m2", "INSERT INTO marks (id, who) VALUES (2, '2')" },
    { 3, "m3", "INSERT INTO marks (id, who) VALUES (3, '3')" },
    { 4, "m4", "INSERT INTO marks (id, who) VALUES (4, '4')" },
    { 5, "m5", "INSERT INTO marks (id, who) VALUES (5, '5')" },
    { 6, "m6", "INSERT INTO marks (id, who) VALUES (6, '6')" },
};

static void *migrate_thread(void *p)
{
    migrator *m = p;
    bk_store *s = NULL;
    bk_error *e = NULL;
    m->st = bk_store_open(&s, m->uri, NULL, &e);
    if (m->st == BK_OK)
        m->st = bk_store_migrate(s, RACE, 6, &m->applied, &e);
    if (m->st != BK_OK)
        fprintf(stderr, "migrator: %s\n", bk_error_message(e));
    bk_error_free(e);
    bk_store_close(s);
    return NULL;
}

static void two_migrators_apply_each_migration_once(void **state)
{
    (void)state;
    if (!g_kind->file)
        skip();    /* two stores must share the database */
    RACE[0].sql = is_sqlite()
        ? "CREATE TABLE marks (id INTEGER NOT NULL PRIMARY KEY, who TEXT NOT NULL)"
        : "CREATE TABLE marks (id BIGINT NOT NULL PRIMARY KEY, who TEXT NOT NULL)";
    for (int round = 0; round < 5; round++) {
        migrator a, b;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        fresh_uri(a.uri, sizeof(a.uri));
        memcpy(b.uri, a.uri, sizeof(a.uri));
        pthread_t ta, tb;
        assert_int_equal(pthread_create(&ta, NULL, migrate_thread, &a), 0);
        assert_int_equal(pthread_create(&tb, NULL, migrate_thread, &b), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        assert_int_equal(a.st, BK_OK);
        assert_int_equal(b.st, BK_OK);
        assert_int_equal(a.applied + b.applied, 6);
        bk_store *s = NULL;
        OK(bk_store_open(&s, a.uri, NULL, E));
        OK(bk_store_register(s, g_mark, "marks", E));
        assert_int_equal(count_all(s, g_mark), 5);     /* each insert ran once */
        size_t n = 9;
        OK(bk_store_pending(&n, s, RACE, 6, E));
        assert_int_equal(n, 0);
        bk_store_close(s);
    }
}

/* ---- threads share one store ------------------------------------------------------------ */

typedef struct { bk_store *s; int base; bk_status st; } worker;

static void *work(void *p)
{
    worker *w = p;
    for (int i = 0; i < 25 && w->st == BK_OK; i++) {
        User u, back;
        user_fill(&u, w->base + i);
        bk_error *e = NULL;
        w->st = bk_store_insert(w->s, g_user, &u, &e);
        if (w->st == BK_OK)
            w->st = bk_store_get(&back, w->s, g_user, &u.id, &e);
        if (w->st == BK_OK) {
            if (strcmp(back.name, u.name) != 0)
                w->st = BK_ERROR;
            bk_clear(g_user, &back);
        }
        if (w->st != BK_OK)
            fprintf(stderr, "worker: %s\n", bk_error_message(e));
        bk_error_free(e);
        bk_clear(g_user, &u);
    }
    return NULL;
}

static void one_store_many_threads(void **state)
{
    (void)state;
    bk_store *s = open_users();
    worker w[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        w[k].s = s;
        w[k].base = 1000 * (k + 1);
        w[k].st = BK_OK;
        assert_int_equal(pthread_create(&th[k], NULL, work, &w[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        assert_int_equal(w[k].st, BK_OK);
    }
    assert_int_equal(count_all(s, g_user), 100);
    bk_store_close(s);
}

/* ---- PostgreSQL: a connection that breaks is reopened ---------------------------------------- */

static void kill_backends(const char *app) { assert_true(bk_test_pg_kill(g_pg_uri, app)); }

static void a_lost_connection_is_reopened(void **state)
{
    (void)state;
    if (!is_pg())
        skip();      /* an embedded database has no connection to lose */
    char uri[600], app[64];
    fresh_uri(uri, sizeof(uri));
    snprintf(app, sizeof(app), "bk_lost_%ld", (long)getpid());
    snprintf(uri + strlen(uri), sizeof(uri) - strlen(uri), "&application_name=%s", app);
    bk_store_options o = BK_STORE_OPTIONS_INIT;
    o.pool_size = 1;
    bk_store *s = NULL;
    OK(bk_store_open(&s, uri, &o, E));
    OK(bk_store_register(s, g_kv, "kv", E));
    Kv kv = { xstrdup("a"), xstrdup("1") }, back;
    OK(bk_store_insert(s, g_kv, &kv, E));
    /* outside a transaction: the call that meets the broken connection
     * fails, the next one reconnects (and prepares its statements again) */
    kill_backends(app);
    const char *key = "a";
    FAILS(BK_EIO, bk_store_get(&back, s, g_kv, &key, E));
    OK(bk_store_get(&back, s, g_kv, &key, E));
    assert_string_equal(back.value, "1");
    bk_clear(g_kv, &back);
    /* inside one: the transaction is gone; every call fails until it ends */
    bk_store *tx = NULL;
    OK(bk_store_begin(&tx, s, E));
    bk_free(kv.key);
    kv.key = xstrdup("b");
    OK(bk_store_insert(tx, g_kv, &kv, E));
    kill_backends(app);
    bk_free(kv.key);
    kv.key = xstrdup("c");
    FAILS(BK_EIO, bk_store_insert(tx, g_kv, &kv, E));
    FAILS(BK_EIO, bk_store_insert(tx, g_kv, &kv, E));    /* not in autocommit behind our back */
    FAILS(BK_EIO, bk_store_commit(tx, E));
    assert_int_equal(count_all(s, g_kv), 1);              /* b and c never happened */
    OK(bk_store_begin(&tx, s, E));
    kill_backends(app);
    FAILS(BK_EIO, bk_store_insert(tx, g_kv, &kv, E));
    OK(bk_store_rollback(tx, E));
    OK(bk_store_insert(s, g_kv, &kv, E));
    assert_int_equal(count_all(s, g_kv), 2);
    bk_clear(g_kv, &kv);
    bk_store_close(s);
}

/* ---- the suite ---------------------------------------------------------------------------- */

static int models_up(void)
{
    g_user = build(&USER_DEF);
    g_user_raw = build(&USER_RAW_DEF);
    g_doc = build(&DOC_DEF);
    g_kv = build(&KV_DEF);
    g_nokey = build(&NOKEY_DEF);
    g_p1 = build(&PERSON_V1_DEF);
    g_p2 = build(&PERSON_V2_DEF);
    g_mig = build(&MIG_DEF);
    g_mark = build(&MARK_DEF);
    bk_builder *b = NULL;
    /* PersonV3 has a presence member named like a field: build it at run time */
    OK(bk_builder_new(&b, E));
    OK(bk_builder_model(b, "PersonV3", E));
    OK(bk_builder_field(b, "id", "i64", E));
    OK(bk_builder_field_attr(b, "primary_key", "true", E));
    OK(bk_builder_field(b, "name", "str", E));
    OK(bk_builder_field_attr(b, "index", "true", E));
    OK(bk_builder_field(b, "age", "str", E));
    OK(bk_builder_field(b, "n", "i64", E));
    OK(bk_builder_field(b, "email", "str", E));
    OK(bk_builder_field_attr(b, "optional", "true", E));
    OK(bk_builder_build(&g_p3, b, "PersonV3", E));
    bk_builder_free(b);
    return 0;
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
    snprintf(g_dir, sizeof(g_dir), "%s/bk-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    int pg = bk_test_pg_uri(g_pg_uri, sizeof(g_pg_uri));
    if (pg < 0)
        return 1;
    if (pg == 0)
        fprintf(stderr, "note: PostgreSQL not tested (no BK_TEST_PG_URI)\n");
    STORE_URIS[2].scheme_prefix = g_pg_uri;
    models_up();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_rejects_bad_uris_and_options),
        cmocka_unit_test(misuse_is_reported_not_crashed),
        cmocka_unit_test(register_creates_the_table_with_the_type_mapping),
        cmocka_unit_test(insert_get_round_trip_every_kind),
        cmocka_unit_test(errors_map_to_exact_codes),
        cmocka_unit_test(drivers_of_every_version_write_alike),
        cmocka_unit_test(map_keys_that_would_not_read_back_are_refused),
        cmocka_unit_test(json_times_beyond_four_digit_years_are_refused),
        cmocka_unit_test(json_nested_deeper_than_a_read_takes_is_refused),
        cmocka_unit_test(update_all_named_and_versioned),
        cmocka_unit_test(upsert_inserts_then_updates),
        cmocka_unit_test(insert_many_is_all_or_nothing),
        cmocka_unit_test(keys_of_other_kinds),
        cmocka_unit_test(records_use_the_same_code),
        cmocka_unit_test(a_row_that_does_not_decode_is_an_io_error),
        cmocka_unit_test(transactions_commit_rollback_and_nest),
        cmocka_unit_test(a_transaction_belongs_to_its_thread),
        cmocka_unit_test(transact_retries_busy_with_backoff),
        cmocka_unit_test(a_cursor_and_a_transaction_share_the_pool),
        cmocka_unit_test(filters_return_exactly_the_matching_rows),
        cmocka_unit_test(filters_are_type_checked_when_built),
        cmocka_unit_test(ordering_limit_offset_and_count),
        cmocka_unit_test(keyset_pagination_with_tokens),
        cmocka_unit_test(injection_payloads_are_only_ever_values),
        cmocka_unit_test(drift_is_reported_then_reconciled_by_the_diff),
        cmocka_unit_test(additive_drift_is_altered_in_place),
        cmocka_unit_test(migrations_apply_once_in_order_with_checksums),
        cmocka_unit_test(two_migrators_apply_each_migration_once),
        cmocka_unit_test(one_store_many_threads),
        cmocka_unit_test(a_lost_connection_is_reopened),
    };
    int failed = 0;
    for (size_t k = 0; k < sizeof(STORE_URIS) / sizeof(STORE_URIS[0]); k++) {
        char name[64];
        snprintf(name, sizeof(name), "store[%s]", STORE_URIS[k].name);
        g_kind = &STORE_URIS[k];
        if (!g_kind->scheme_prefix || !*g_kind->scheme_prefix)
            continue;
        int first = g_seq + 1;
        failed += _cmocka_run_group_tests(name, tests, sizeof(tests) / sizeof(tests[0]),
            NULL, NULL);
        for (int seq = first; is_pg() && seq <= g_seq; seq++) {
            char schema[64], sql[128];      /* the server may be the user's: tidy up */
            pg_schema_name(schema, sizeof(schema), seq);
            snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
            pg_run(sql);
        }
    }
    bk_model *models[] = { g_user, g_user_raw, g_doc, g_kv, g_nokey, g_p1, g_p2, g_p3, g_mig,
        g_mark };
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
        bk_model_unref(models[i]);
    rm_tree(g_dir);
    return failed;
}
