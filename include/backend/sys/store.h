/**
 * @file backend/sys/store.h
 * @brief The storage adapter interface, for authors of new engines.
 *
 * Weaker stability than the public API: it may change in a minor release
 * (the `version` member tells which). The generic store (connection pool,
 * transactions and savepoints, statement cache, SQL generation for schema,
 * CRUD and queries, migrations, drift detection) is written once against
 * this interface; an adapter supplies connections, statements and a few
 * dialect facts. Adding an engine = one more ::bk_store_driver passing the
 * storage conformance suite (tests/test_store.c runs it for every driver).
 */
#ifndef BK_SYS_STORE_H
#define BK_SYS_STORE_H

#include "../common.h"
#include "../error.h"
#include "../model.h"
#include "../store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An adapter's connection (opaque to the core). */
typedef struct bk_store_conn bk_store_conn;
/** An adapter's prepared statement (opaque to the core). */
typedef struct bk_store_stmt bk_store_stmt;

/** Column value types as reported by an adapter. */
typedef enum bk_sql_type {
    BK_SQL_NULL = 0, BK_SQL_INTEGER, BK_SQL_REAL, BK_SQL_TEXT, BK_SQL_BLOB
} bk_sql_type;

/** One value of a result row, as read by bk_store_driver.row. */
typedef struct bk_store_value {
    bk_sql_type type;  /**< storage class of the value */
    int64_t i;         /**< BK_SQL_INTEGER */
    double f;          /**< BK_SQL_REAL */
    /** BK_SQL_TEXT (UTF-8, NUL-terminated) or BK_SQL_BLOB bytes; borrowed,
     * valid until the statement's next step, reset or finalize. */
    const void *p;
    size_t n;          /**< bytes at p (text: without the NUL) */
} bk_store_value;

/** What the core needs to know about an existing table (drift detection). */
typedef struct bk_store_column_info {
    char *name;        /**< column name */
    char *type;        /**< declared type, upper case ("INTEGER", "TEXT") */
    bool not_null;     /**< NOT NULL */
    bool primary_key;  /**< part of the primary key */
} bk_store_column_info;

/** An existing index (drift detection). */
typedef struct bk_store_index_info {
    char *name;        /**< index name */
    char *column;      /**< first column */
    bool unique;       /**< UNIQUE */
} bk_store_index_info;

/** An existing table, filled by bk_store_driver.table_info (all strings
 * allocated with bk_malloc; freed by the core with bk_store_table_info_clear). */
typedef struct bk_store_table_info {
    bool exists;
    bk_store_column_info *columns;
    size_t ncolumns;
    bk_store_index_info *indexes;
    size_t nindexes;
} bk_store_table_info;

/** @brief Release what a table_info holds. NULL-safe. @since 0.1 */
BK_EXTERN(void) bk_store_table_info_clear(bk_store_table_info *info);

/** Version of ::bk_store_driver: 2 added bind_row, 3 added key_taken and
 * zero_literal. A driver that says 1 (and ends its struct at `row`) or 2
 * (ends at `bind_row`) is still accepted; the later members are then
 * treated as NULL. */
#define BK_STORE_DRIVER_VERSION 3

/**
 * An engine. Every function returns a bk_status and fills `err` on failure
 * with the engine's message; constraint failures map to BK_ECONFLICT
 * (unique, primary key), BK_EVALIDATION (NOT NULL, CHECK), lock contention to
 * BK_EBUSY, the rest to BK_EIO. A connection is used by one thread at a time
 * (the core guarantees it).
 */
typedef struct bk_store_driver {
    unsigned int version;          /**< ::BK_STORE_DRIVER_VERSION */
    const char *scheme;            /**< URI scheme it serves ("sqlite") */
    bool numbered_params;          /**< placeholders $1, $2 (else ?) */
    /** Whether the URI rest designates a database private to one
     * connection (SQLite ":memory:"): the pool then holds one connection.
     * NULL: never. */
    bool (*single_connection)(const char *uri_rest);

    /** SQL type of a column of this kind ("INTEGER", "TEXT", ...). */
    const char *(*column_type)(bk_kind kind);

    bk_status (*open)(bk_store_conn **out, const char *uri_rest, const bk_store_options *opts,
        bk_error **err);
    void (*close)(bk_store_conn *c);
    /** Run statements without results (several, separated by ';'). */
    bk_status (*exec)(bk_store_conn *c, const char *sql, bk_error **err);
    bk_status (*prepare)(bk_store_stmt **out, bk_store_conn *c, const char *sql, bk_error **err);
    /* Parameters are numbered from 1 (the first `?` or `$1`), result
     * columns from 0. */
    bk_status (*bind_null)(bk_store_stmt *s, int i, bk_error **err);
    bk_status (*bind_i64)(bk_store_stmt *s, int i, int64_t v, bk_error **err);
    bk_status (*bind_f64)(bk_store_stmt *s, int i, double v, bk_error **err);
    /** Text and blobs: the core keeps @p v unchanged until the statement
     * is reset, so an adapter may refer to it without copying. A NULL @p v
     * with @p n == 0 is an empty value, not SQL NULL. */
    bk_status (*bind_text)(bk_store_stmt *s, int i, const char *v, size_t n, bk_error **err);
    bk_status (*bind_blob)(bk_store_stmt *s, int i, const void *v, size_t n, bk_error **err);
    /** BK_OK: a row is available; BK_ITEROVER: done. */
    bk_status (*step)(bk_store_stmt *s, bk_error **err);
    int (*column_count)(bk_store_stmt *s);
    bk_sql_type (*column_type_of)(bk_store_stmt *s, int i);
    int64_t (*column_i64)(bk_store_stmt *s, int i);
    double (*column_f64)(bk_store_stmt *s, int i);
    /** Valid until the next step, reset or finalize. */
    const char *(*column_text)(bk_store_stmt *s, int i, size_t *len);
    const void *(*column_blob)(bk_store_stmt *s, int i, size_t *len);
    /** Ready the statement for new bindings and a new run. */
    void (*reset)(bk_store_stmt *s);
    void (*finalize)(bk_store_stmt *s);
    /** Rows changed by the last statement. */
    int64_t (*changes)(bk_store_conn *c);
    /** Describe a table (exists = false when missing). */
    bk_status (*table_info)(bk_store_conn *c, const char *table, bk_store_table_info *out,
        bk_error **err);
    /** Take the migration lock (released when the transaction ends): for
     * SQLite BEGIN IMMEDIATE, for PostgreSQL an advisory lock. */
    bk_status (*begin_exclusive)(bk_store_conn *c, bk_error **err);
    /** Begin an ordinary transaction that may write. SQLite: BEGIN
     * IMMEDIATE (the write lock is taken, waiting up to the busy timeout,
     * before any statement runs, so two transactions never deadlock on a
     * lock upgrade); PostgreSQL: BEGIN ISOLATION LEVEL SERIALIZABLE (the
     * loser of a conflict fails with BK_EBUSY, and is retried). */
    bk_status (*begin)(bk_store_conn *c, bk_error **err);
    /** Declared type of a key column generated by the database (auto_id on
     * an integer key): SQLite "INTEGER" (a rowid alias), PostgreSQL
     * "BIGINT GENERATED BY DEFAULT AS IDENTITY". */
    const char *(*auto_key_type)(bk_kind kind);
    /** Name of the SQL function f(haystack, needle) returning the 1-based
     * position of the first occurrence of needle, 0 when absent (SQLite
     * "instr", PostgreSQL "strpos"): PREFIX and CONTAINS filters. */
    const char *find_function;
    /** Read the first @p n columns of the current row at once (the hot
     * path of every read of an added driver; the built-in SQLite adapter
     * reads straight into the struct instead). @p want[i] is the storage class the core
     * expects (from the model). For BK_SQL_TEXT the adapter may return the
     * value converted to text without reporting its own class (the core
     * validates the text: UTF-8, no NUL); NULL must stay BK_SQL_NULL, and a
     * value that cannot be converted is reported as BK_SQL_BLOB with
     * p == NULL. For the other classes out[i].type is the value's actual
     * class. Optional: when NULL, the core reads each column with
     * column_type_of and the column_* functions. */
    void (*row)(bk_store_stmt *s, int n, const bk_sql_type *want, bk_store_value *out);
    /** Bind @p n values at once as parameters @p first .. @p first + n - 1:
     * vals[i].type says which member holds
     * the value (BK_SQL_NULL: SQL NULL; BK_SQL_TEXT and BK_SQL_BLOB: p and
     * n, kept unchanged by the core until the statement is reset, and a
     * NULL p with n == 0 is an empty value, not NULL). The same result as
     * the bind_* functions called one by one, stopping at the first
     * failure. Optional (version 2). The core no longer calls it: a write
     * binds each value with bind_* as soon as it is checked, which costs
     * less than gathering the row first; it is accepted, and not used.
     * @since 0.1 (driver version 2) */
    bk_status (*bind_row)(bk_store_stmt *s, int first, int n, const bk_store_value *vals,
        bk_error **err);
    /** Called before a row is written with a key given by the caller
     * (insert or upsert of a non-zero key) into a table whose integer key
     * the database generates (auto_key_type), once the row's values are
     * bound (a refused value calls nothing): make later generated keys
     * greater than @p key, as SQLite's rowid does by itself (PostgreSQL
     * advances the identity sequence). Before the write, so that when it
     * fails nothing is written, and a key generated by another session
     * from then on is not @p key; when the write fails after it, the keys
     * up to @p key are skipped (a gap, as sequences have). @p table and
     * @p column are identifiers, unquoted. Optional (version 3): NULL when
     * the engine needs nothing. @since 0.1 (driver version 3) */
    bk_status (*key_taken)(bk_store_conn *c, const char *table, const char *column, int64_t key,
        bk_error **err);
    /** A SQL literal of the zero value of a column of @p kind, for the
     * DEFAULT of a required column added by a diff, and COALESCE in a
     * rebuild; NULL for the core's own (`0`, `0.0`, `''`, `X''` ...), which
     * fit SQLite. Only scalar kinds are asked (JSON columns are text).
     * Optional (version 3). @since 0.1 (driver version 3) */
    const char *(*zero_literal)(bk_kind kind);
} bk_store_driver;

/**
 * @brief Make a driver available to bk_store_open() for its scheme. The
 * driver struct must outlive every store using it. SQLite is built in.
 * @retval BK_OK, BK_EINVAL (bad version, scheme taken), BK_ENOMEM.
 * Versions 1 to 3 (::BK_STORE_DRIVER_VERSION) are accepted.
 * Thread-safe. @since 0.1
 */
BK_EXTERN(bk_status) bk_store_register_driver(const bk_store_driver *driver, bk_error **err);

#ifdef __cplusplus
}
#endif
#endif
