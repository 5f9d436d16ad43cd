/*
 * store_internal.h - the storage module's private contract between
 * store.c (generic core: handles, pool, statement cache, CRUD, queries,
 * transactions), store_schema.c (DDL, drift, diff, migrations),
 * store_sqlite.c (the SQLite driver) and sha256.c.
 *
 * The core talks to engines only through bk_store_driver
 * (backend/sys/store.h). SQL is written with `?` placeholders everywhere;
 * bk__sql_finish() rewrites them as $1, $2 ... for drivers with numbered
 * parameters (identifiers are validated, so a `?` can only be ours).
 *
 * Ownership: a root store owns its connections (bk__conn), the tables it
 * registered (bk__table, each holding a model reference) and their SQL
 * texts. Transactions, queries and cursors hold a reference on the root
 * (bk_store.refs) so the root outlives them.
 */
#ifndef BK_STORE_INTERNAL_H
#define BK_STORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include "internal.h"
#include "backend/sys/store.h"

#define BK__MAGIC_STORE  0x6b73746fu /* root store */
#define BK__MAGIC_TX     0x6b74786eu /* transaction handle */
#define BK__MAGIC_QUERY  0x6b717279u
#define BK__MAGIC_CURSOR 0x6b637572u

/* Longest identifier (table, column, index) accepted: PostgreSQL's limit. */
#define BK__IDENT_MAX 63

/* ---- SHA-256 (sha256.c) ---------------------------------------------------- */
typedef struct bk__sha256 {
    uint32_t h[8];
    uint64_t len;          /* bytes hashed so far */
    unsigned char buf[64];
    size_t nbuf;
} bk__sha256;
void bk__sha256_init(bk__sha256 *c);
void bk__sha256_update(bk__sha256 *c, const void *data, size_t n);
void bk__sha256_final(bk__sha256 *c, unsigned char out[32]);
/* SHA-256 of data[0..n) as 64 lower-case hex digits and a NUL. */
void bk__sha256_hex(char out[65], const void *data, size_t n);

/* ---- SQL text ---------------------------------------------------------------- */
/* A SQL text with its length and cache hash (computed once for fixed texts).
 * slot: for the fixed texts of a registered table, a number unique within
 * its store (from 1), the index of the statement in each connection's
 * slot array (a hit without hashing or comparing the text); 0: none. */
typedef struct bk__sql {
    char *text;
    size_t len;
    uint64_t hash;
    uint32_t slot;
} bk__sql;

uint64_t bk__sql_hash(const char *s, size_t n);
/* True for [A-Za-z_][A-Za-z0-9_]{0,62}. */
bool bk__ident_ok(const char *s);

/* A SQL text under construction; an allocation failure is remembered
 * (oom) and every later append is a no-op, so callers check once. */
typedef struct bk__sb {
    bk_buf b;
    bool oom;
} bk__sb;
void bk__sb_putn(bk__sb *s, const char *t, size_t n);
void bk__sb_put(bk__sb *s, const char *t);
/* "name", with any double quote doubled. */
void bk__sb_ident(bk__sb *s, const char *name);
/* 'text', with any single quote doubled (generated SQL shown to people). */
void bk__sb_literal(bk__sb *s, const char *t, size_t n);
void bk__sb_fmt(bk__sb *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void bk__sb_dispose(bk__sb *s);
/* Turn the text (with `?` placeholders) into the driver's dialect and move
 * it into *out with its hash; s is left empty. BK_ENOMEM (also when s.oom). */
bk_status bk__sql_finish(bk__sql *out, const bk_store_driver *drv, bk__sb *s);
void bk__sql_dispose(bk__sql *s);

/* ---- tables -------------------------------------------------------------------- */
/* How a column's value is bound and read, decided once per table from the
 * field's kind, so the hot loops switch once per column. */
typedef enum bk__colop {
    BK__COP_BOOL, BK__COP_I8, BK__COP_I16, BK__COP_I32, BK__COP_I64,
    BK__COP_U8, BK__COP_U16, BK__COP_U32, BK__COP_U64,
    BK__COP_F32, BK__COP_F64,
    BK__COP_STR, BK__COP_BYTES, BK__COP_UUID, BK__COP_ENUM,
    BK__COP_STRS,              /* list<str>: JSON text with fast paths */
    BK__COP_JSON               /* any other JSON column (ptr<Model>: NULL when NULL) */
} bk__colop;

/* One step of a bind program: a column of the write statements' order,
 * flattened so the bind loop needs neither the order array nor the
 * column's description (bk__col) but for its rare paths. */
typedef struct bk__bindop {
    size_t offset;             /* of the value, absolute */
    size_t presence_offset;    /* absolute; valid if op has BK__BIND_OPT */
    const bk__enum *enm;       /* BK__COP_ENUM: its names */
    uint32_t col;              /* index in cols: slow paths, scratch slot */
    uint16_t param;            /* the statement parameter it binds (1-based) */
    uint8_t op;                /* bk__colop, | BK__BIND_OPT when optional */
} bk__bindop;
#define BK__BIND_OPT 0x80u

/* One stored column: a declared field, or a field of a flattened model. */
typedef struct bk__col {
    const char *name;          /* declared field name (borrowed from the model) */
    const char *json_name;     /* JSON name, for validation problem paths */
    const bk__field *f;        /* the declaring field */
    const bk__type *t;
    size_t offset;             /* absolute within the outer struct */
    size_t presence_offset;    /* absolute; valid if optional */
    size_t top;                /* index of the top-level field it belongs to */
    bool optional;             /* presence tracked: NULL when absent/null */
    bool nullable;             /* column allows NULL */
    bool pk, auto_id, unique, index, version;
    bool json;                 /* stored as JSON text */
    bk_sql_type sql;           /* storage class */
    bk__colop op;              /* bind and read dispatch */
    const char *decl;          /* declared SQL type (driver's) */
} bk__col;

typedef struct bk__table {
    struct bk__table *next;    /* the store's list (published atomically) */
    bk_model *model;           /* a reference */
    char *name;
    bk__col *cols;
    size_t ncols;
    bk_sql_type *want;         /* storage class of each column (cols[i].sql) */
    size_t pk;                 /* index of the key column */
    long version;              /* index of the row-version column, or -1 */
    /* columns bound, in parameter order, by ins (every column), ins_auto
     * (all but the key) and upd; one allocation (all_order) */
    size_t *all_order, *auto_order, *upd_order;
    size_t nupd;
    /* the same three orders as bind programs (one allocation: all_prog) */
    bk__bindop *all_prog, *auto_prog, *upd_prog;
    uint32_t slot_base;        /* first statement slot (0: not registered) */
    char *select_list;         /* "a","b",... in column order */
    char *select_from;         /* SELECT <select_list> FROM "t" */
    bk__sql ins;               /* INSERT with every column */
    bk__sql ins_auto;          /* INSERT without the key, RETURNING the key */
    bk__sql get;               /* SELECT ... WHERE key = ? */
    bk__sql upd;               /* UPDATE every non-key column WHERE key = ? [AND version = ?] */
    bk__sql del;               /* DELETE WHERE key = ? */
    bk__sql ups;               /* INSERT ... ON CONFLICT (key) DO UPDATE ... */
    bk__sql exists;            /* SELECT 1 WHERE key = ? */
    /* Query texts of the common shapes, made by the first query of each
     * and published atomically (NULL until then): no filter, no offset,
     * ordered by the key only; index (descending ? 2 : 0) + (after a
     * non-NULL key ? 1 : 0). */
    _Atomic(bk__sql *) page_sql[4];
    /* the ordering hash (tokens) of "by the key only", ascending and
     * descending */
    char key_hash[2][17];
    /* one freed query, and one freed cursor of a single order key, kept
     * for the next (a page loop makes and frees one of each per page);
     * freed with the table */
    _Atomic(void *) spare_query;
    _Atomic(void *) spare_cursor;
} bk__table;

/* Statement slots of a registered table: the fixed texts, then the four
 * page shapes. */
enum {
    BK__SLOT_INS, BK__SLOT_INS_AUTO, BK__SLOT_GET, BK__SLOT_UPD, BK__SLOT_DEL, BK__SLOT_UPS,
    BK__SLOT_EXISTS, BK__SLOT_PAGE, BK__TABLE_SLOTS = BK__SLOT_PAGE + 4
};

/* Build the column list and SQL of model m stored as table (both checked:
 * BK_EMODEL for a model that cannot be stored, BK_EINVAL for a bad table
 * name). */
bk_status bk__table_new(bk__table **out, const bk_store_driver *drv, bk_model *m,
    const char *table, bk_error **err);
void bk__table_free(bk__table *t);

/* ---- connections and statements --------------------------------------------------- */
typedef struct bk__stmt {
    bk_store_stmt *s;
    char *sql;                 /* owned copy (cached statements) */
    size_t len;
    uint64_t hash;
    struct bk__stmt *prev, *next;  /* LRU list, most recent first */
    struct bk__stmt *hnext;        /* hash chain */
    uint32_t slot;             /* the connection's slots[slot] is this one (0: none) */
    bool busy;                 /* handed out (running, or held by a cursor) */
    bool cached;               /* in the cache (else freed when put back) */
} bk__stmt;

typedef struct bk__conn {
    bk_store_conn *c;
    const bk_store_driver *drv;
    /* statement cache: LRU of `cap` entries by SQL text */
    bk__stmt **buckets;
    size_t nbuckets;
    bk__stmt *lru_first, *lru_last;
    size_t ncached, cap;
    bk__stmt **slots;          /* by bk__sql.slot: cached statements of fixed texts */
    uint32_t nslots;
    /* pool state (see bk__conn_for) */
    atomic_int state;          /* 0: free; 1: checked out (claimed by compare-and-swap) */
    atomic_uintptr_t owner;    /* the holding thread's pool identity (0: none) */
    atomic_int users;          /* nested checkouts by the owner (not in_tx) */
    bool in_tx;                /* by a transaction (exclusive); the holder's */
    /* per-column scratch for values encoded before binding */
    bk_buf *scratch;
    size_t nscratch;
} bk__conn;

/* Take a statement for sql from c's cache (prepared on a miss; a fresh,
 * uncached one when the cached one is busy). Put it back with
 * bk__stmt_put, which resets it. */
bk_status bk__stmt_get(bk__stmt **out, bk__conn *c, const bk__sql *sql, bk_error **err);
void bk__stmt_put(bk__conn *c, bk__stmt *st);

/* ---- stores ---------------------------------------------------------------------- */
struct bk_store {
    uint32_t magic;            /* BK__MAGIC_STORE or BK__MAGIC_TX */
    bk_store *root;            /* itself for a root store */
    /* root */
    const bk_store_driver *drv;
    char *uri_rest;
    bk_store_options opts;
    bk__conn *conns;
    size_t nconns;
    pthread_mutex_t mu;        /* pool */
    pthread_cond_t cv;
    atomic_int waiters;        /* threads waiting on cv */
    pthread_mutex_t reg_mu;    /* serialises registrations */
    uint32_t next_slot;        /* statement slots handed out (guarded by reg_mu) */
    _Atomic(bk__table *) tables;
    atomic_long refs;          /* the handle + transactions, queries, cursors */
    atomic_bool closed;        /* bk_store_close() was called */
    /* transaction */
    bk__conn *conn;
    pthread_t thread;
    int depth;                 /* 0: BEGIN; n > 0: SAVEPOINT bk_sp_<n> */
    bk_store *parent;          /* enclosing transaction (depth > 0) */
    bk_store *child;           /* open nested transaction */
    int cursors;               /* open cursors on this transaction */
};

/* Check a store handle: BK_EMISUSE for a dead handle or a transaction used
 * from another thread. */
bk_status bk__store_check(bk_store *s, const char *fn, bk_error **err);
/* A connection for one operation on s: the transaction's own, or one
 * checked out of the pool (re-entrant for the owning thread; waits up to
 * busy_timeout_ms: BK_EBUSY). *release says whether bk__conn_release must
 * be called. exclusive: a connection no one else uses (transactions,
 * migrations). */
bk_status bk__conn_for(bk__conn **out, bool *release, bk_store *s, bool exclusive,
    bk_error **err);
void bk__conn_release(bk_store *root, bk__conn *c);
/* The table of model m on root (NULL if not registered). Lock-free. */
bk__table *bk__store_table(bk_store *root, const bk_model *m);
void bk__store_unref(bk_store *root);

/* Run one statement with no parameters and return the first column of
 * every row joined by '\n' in *out (bk_free). For tests and checks
 * (PRAGMA integrity_check). */
bk_status bk__store_query_text(char **out, bk_store *s, const char *sql, bk_error **err);

/* ---- schema (store_schema.c) -------------------------------------------------------- */
/* Create the table if missing, else compare it with the model (BK_ESCHEMA
 * listing every difference). Runs on connection c (not in a transaction). */
bk_status bk__schema_ensure(bk__conn *c, const bk__table *t, bk_error **err);
/* The CREATE TABLE and CREATE INDEX statements of t, ';'-separated. */
bk_status bk__schema_create_sql(bk_buf *out, const bk_store_driver *drv, const bk__table *t,
    bool if_not_exists);

/* The index of the name s[0..n) in enum e, or e->n when it has no such name. */
static inline size_t bk__enum_find(const bk__enum *e, const char *s, size_t n)
{
    size_t j = 0;
    while (j < e->n && (e->lens[j] != n || memcmp(e->names[j], s, n) != 0))
        j++;
    return j;
}

/* ---- reading rows (store.c), for the built-in adapters' row readers ---------------- */
/* Decode value v (result column c of t) into obj: every case, with the
 * exact errors (NULL, a class or a range that does not fit, bad text). */
bk_status bk__store_read_col(const bk_store_value *v, const bk__table *t, const bk__col *c,
    char *obj, bk_error **err);
/*
 * A built-in adapter's row reader: the current row of s (every column of t,
 * in order) straight into obj, which the caller zeroed, with the core's
 * rules (what bk__store_read_col accepts and refuses, the same errors;
 * store_text.h has the text check inline);
 * each value read is also left in vals (room for t->ncols), valid until
 * the statement moves. On failure obj may be partly filled: the caller
 * clears it.
 */
typedef bk_status (*bk__row_reader)(bk_store_stmt *s, const bk__table *t, char *obj,
    bk_store_value *vals, bk_error **err);

/* ---- binding rows (store.c), for the built-in adapters' row binders ---------------- */
/* The value to bind for column col of t from the struct's value at p, with
 * every check (value_of: NaN, enum range, JSON encoding, u64 range...);
 * text and blobs borrowed from the struct or from the connection's scratch
 * buffer of the column. Fails BK_EVALIDATION (a refused value), BK_ENOMEM. */
bk_status bk__store_value_of(bk_store_value *o, bk__conn *cn, const bk__table *t, size_t col,
    const void *p, bk_error **err);
/* Connection c's scratch buffer number slot (a column's index: where a
 * value encoded for binding lives until the statement is reset), emptied;
 * NULL when out of memory. The grown array: bk__store_scratch_grow. */
bk_buf *bk__store_scratch_grow(bk__conn *c, size_t slot);
static inline bk_buf *bk__store_scratch(bk__conn *c, size_t slot)
{
    if (slot >= c->nscratch)
        return bk__store_scratch_grow(c, slot);
    c->scratch[slot].len = 0;
    return &c->scratch[slot];
}
/* The driver failed (status st, its error be, taken) to bind step k of
 * prog[0..n) for obj: a value of a later step that is refused wins (the
 * error a check of every value before binding any would give), else the
 * driver's error is the result. */
bk_status bk__store_bind_failed(bk__conn *cn, const bk__table *t, const char *obj,
    const bk__bindop *prog, size_t k, size_t n, bk_status st, bk_error *be, bk_error **err);

/* ---- drivers (store_sqlite.c) ------------------------------------------------------ */
extern const bk_store_driver bk__sqlite_driver;
/* Its row reader: one pass per row, column ops read natively. */
extern const bk__row_reader bk__sqlite_read_row;
/* Its row binder: bind_prog's loop with the sqlite3_bind_* calls inline
 * (the same checks; what it does not bind natively goes through
 * bk__store_value_of). */
bk_status bk__sqlite_bind_prog(bk__conn *cn, bk_store_stmt *s, const bk__table *t,
    const char *obj, const bk__bindop *prog, size_t n, bk_error **err);
/*
 * A write statement s of the SQLite adapter run in one call: prog[0..n)
 * of obj bound (the binder's loop, a failed bind looked at only after the
 * last one), stepped to its end, reset. key: when not NULL, the statement
 * returns its generated key (RETURNING), read into *key (BK_EIO when no
 * row comes); changes: when not NULL, the rows it changed. Fails as
 * bk__sqlite_bind_prog, or with the engine's error (the driver's mapping).
 */
bk_status bk__sqlite_write(bk__conn *cn, bk_store_stmt *s, const bk__table *t,
    const char *obj, const bk__bindop *prog, size_t n, int64_t *key, int64_t *changes,
    bk_error **err);
/* The PostgreSQL driver (store_pg.c), for "postgresql:" and "postgres:". */
extern const bk_store_driver bk__pg_driver;
extern const bk_store_driver bk__pg_driver_alias;

#endif
