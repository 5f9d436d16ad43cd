/*
 * store_schema.c - tables from models: DDL, drift detection, the SQL that
 * would reconcile a table with its model, and versioned migrations.
 *
 * DDL: one column per stored column (bk__col) with the driver's type,
 * NOT NULL unless the field is optional (or a nullable pointer), the key
 * as PRIMARY KEY; a UNIQUE index "<table>_<column>_key" per unique field
 * and an index "<table>_<column>_idx" per indexed field.
 *
 * Drift: an existing table is described by the driver (table_info) and
 * compared column by column; every difference is one problem of a
 * BK_ESCHEMA error, at path $.<table>.<column>.
 *
 * Migrations: rows (version, name, checksum = SHA-256 hex of the SQL,
 * applied_at = RFC 3339 UTC) in "bk_migrations". Each pending migration
 * runs in its own transaction opened with the driver's begin_exclusive
 * (SQLite: BEGIN IMMEDIATE), and the applied set is re-read under that
 * lock, so processes starting together apply each migration once.
 */
#include <stdio.h>
#include <time.h>
#include "store_internal.h"

#define MIG_TABLE "bk_migrations"

void bk_store_table_info_clear(bk_store_table_info *info)
{
    if (!info)
        return;
    for (size_t i = 0; i < info->ncolumns; i++) {
        bk__free(info->columns[i].name);
        bk__free(info->columns[i].type);
    }
    for (size_t i = 0; i < info->nindexes; i++) {
        bk__free(info->indexes[i].name);
        bk__free(info->indexes[i].column);
    }
    bk__free(info->columns);
    bk__free(info->indexes);
    memset(info, 0, sizeof(*info));
}

static bool ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

/* ---- DDL ------------------------------------------------------------------------ */

static void column_def(bk__sb *s, const bk__col *c)
{
    bk__sb_ident(s, c->name);
    bk__sb_put(s, " ");
    bk__sb_put(s, c->decl);
    if (!c->nullable)
        bk__sb_put(s, " NOT NULL");
    if (c->pk)
        bk__sb_put(s, " PRIMARY KEY");
}

static void table_def(bk__sb *s, const bk__table *t, const char *name, bool if_not_exists)
{
    bk__sb_put(s, if_not_exists ? "CREATE TABLE IF NOT EXISTS " : "CREATE TABLE ");
    bk__sb_ident(s, name);
    bk__sb_put(s, " (\n");
    for (size_t i = 0; i < t->ncols; i++) {
        bk__sb_put(s, "    ");
        column_def(s, &t->cols[i]);
        bk__sb_put(s, i + 1 < t->ncols ? ",\n" : "\n");
    }
    bk__sb_put(s, ");\n");
}

static void index_def(bk__sb *s, const bk__table *t, const bk__col *c, bool if_not_exists)
{
    bool unique = c->unique;
    char name[2 * BK__IDENT_MAX + 8];
    snprintf(name, sizeof(name), "%s_%s_%s", t->name, c->name, unique ? "key" : "idx");
    bk__sb_put(s, unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
    if (if_not_exists)
        bk__sb_put(s, "IF NOT EXISTS ");
    bk__sb_ident(s, name);
    bk__sb_put(s, " ON ");
    bk__sb_ident(s, t->name);
    bk__sb_put(s, " (");
    bk__sb_ident(s, c->name);
    bk__sb_put(s, ");\n");
}

static bool wants_index(const bk__col *c) { return !c->pk && (c->unique || c->index); }

bk_status bk__schema_create_sql(bk_buf *out, const bk_store_driver *drv, const bk__table *t,
    bool if_not_exists)
{
    BK__UNUSED(drv);
    bk__sb s = { *out, false };
    table_def(&s, t, t->name, if_not_exists);
    for (size_t i = 0; i < t->ncols; i++)
        if (wants_index(&t->cols[i]))
            index_def(&s, t, &t->cols[i], if_not_exists);
    *out = s.b;
    return s.oom ? BK_ENOMEM : BK_OK;
}

/* ---- drift ------------------------------------------------------------------------ */

static const bk_store_column_info *find_info_col(const bk_store_table_info *ti, const char *n)
{
    for (size_t i = 0; i < ti->ncolumns; i++)
        if (ieq(ti->columns[i].name, n))
            return &ti->columns[i];
    return NULL;
}

static bool has_index(const bk_store_table_info *ti, const char *col, bool unique)
{
    for (size_t i = 0; i < ti->nindexes; i++)
        if (ti->indexes[i].column && ieq(ti->indexes[i].column, col) &&
                (!unique || ti->indexes[i].unique))
            return true;
    return false;
}

static bool is_model_col(const bk__table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (ieq(t->cols[i].name, name))
            return true;
    return false;
}

static void path_of(char *out, size_t n, const bk__table *t, const char *col)
{
    snprintf(out, n, "$.%s.%s", t->name, col);
}

/* Record every difference between the table (ti) and the model (t);
 * returns how many. *rebuild: some difference needs a table rebuild. */
static size_t compare(bk__errors *acc, const bk__table *t, const bk_store_table_info *ti,
    bool *rebuild)
{
    size_t n = 0;
    char path[2 * BK__IDENT_MAX + 8];
    *rebuild = false;
    for (size_t i = 0; i < t->ncols; i++) {
        const bk__col *c = &t->cols[i];
        const bk_store_column_info *ci = find_info_col(ti, c->name);
        path_of(path, sizeof(path), t, c->name);
        if (!ci) {
            n++;
            if (acc)
                bk__errors_add(acc, BK_ESCHEMA, path, "missing_column", 0, 0, 0,
                    "table %s has no column %s (the model stores %s%s here)", t->name, c->name,
                    c->decl, c->nullable ? "" : " NOT NULL");
            if (c->pk)
                *rebuild = true;
            continue;
        }
        if (!ieq(ci->type, c->decl)) {
            n++;
            *rebuild = true;
            if (acc)
                bk__errors_add(acc, BK_ESCHEMA, path, "type", 0, 0, 0,
                    "column %s.%s is %s, the model stores %s", t->name, c->name,
                    *ci->type ? ci->type : "untyped", c->decl);
        }
        if (!c->pk && ci->not_null == c->nullable) {
            n++;
            *rebuild = true;
            if (acc)
                bk__errors_add(acc, BK_ESCHEMA, path, "nullability", 0, 0, 0,
                    ci->not_null ? "column %s.%s is NOT NULL, the model field is optional"
                                 : "column %s.%s allows NULL, the model requires a value",
                    t->name, c->name);
        }
        if (ci->primary_key != c->pk) {
            n++;
            *rebuild = true;
            if (acc)
                bk__errors_add(acc, BK_ESCHEMA, path, "primary_key", 0, 0, 0,
                    c->pk ? "column %s.%s is not the primary key, the model's key is"
                          : "column %s.%s is (part of) the primary key, the model's key is "
                            "another field", t->name, c->name);
        }
    }
    for (size_t i = 0; i < ti->ncolumns; i++) {
        const bk_store_column_info *ci = &ti->columns[i];
        if (is_model_col(t, ci->name))
            continue;
        n++;
        path_of(path, sizeof(path), t, ci->name);
        if (acc)
            bk__errors_add(acc, BK_ESCHEMA, path, "extra_column", 0, 0, 0,
                "table %s has a column %s that the model does not store", t->name, ci->name);
        if (ci->primary_key)
            *rebuild = true;       /* a key column cannot be dropped */
        for (size_t k = 0; k < ti->nindexes; k++)
            if (ti->indexes[k].column && ieq(ti->indexes[k].column, ci->name) &&
                    strncmp(ti->indexes[k].name, "sqlite_autoindex_", 17) == 0)
                *rebuild = true;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        const bk__col *c = &t->cols[i];
        if (!wants_index(c) || has_index(ti, c->name, c->unique))
            continue;
        n++;
        path_of(path, sizeof(path), t, c->name);
        if (acc)
            bk__errors_add(acc, BK_ESCHEMA, path, "missing_index", 0, 0, 0,
                "column %s.%s has no %sindex", t->name, c->name, c->unique ? "unique " : "");
    }
    return n;
}

/*
 * Make sure the table of t exists and matches: create it (with its
 * indexes) under the migration lock when missing, else compare. c is an
 * exclusive connection outside any transaction.
 */
bk_status bk__schema_ensure(bk__conn *c, const bk__table *t, bk_error **err)
{
    const bk_store_driver *d = c->drv;
    bk_store_table_info ti;
    bk_status st = d->table_info(c->c, t->name, &ti, err);
    if (st != BK_OK)
        return st;
    if (!ti.exists) {
        if ((st = d->begin_exclusive(c->c, err)) != BK_OK)
            return st;
        /* re-read under the lock: another process may have created it */
        if ((st = d->table_info(c->c, t->name, &ti, err)) == BK_OK && !ti.exists) {
            bk_buf sql = BK_BUF_INIT;
            if (bk__schema_create_sql(&sql, d, t, true) != BK_OK)
                st = bk__error_oom(err);
            else
                st = d->exec(c->c, sql.ptr, err);
            bk_buf_dispose(&sql);
        }
        if (st == BK_OK)
            st = d->exec(c->c, "COMMIT", err);
        if (st != BK_OK) {
            d->exec(c->c, "ROLLBACK", NULL);
            bk_store_table_info_clear(&ti);
            return st;
        }
        if (!ti.exists)
            return BK_OK;
    }
    bk__errors acc;
    bk__errors_init(&acc, 1000);
    bool rebuild;
    size_t n = compare(&acc, t, &ti, &rebuild);
    bk_store_table_info_clear(&ti);
    if (n == 0) {
        bk__errors_dispose(&acc);
        return BK_OK;
    }
    return bk__errors_finish(&acc, err);
}

/* ---- diff ------------------------------------------------------------------------- */

/* A literal of the zero value of column c (for new NOT NULL columns): the
 * driver's for scalar kinds when it has one (PostgreSQL: `false`, `''::bytea`). */
static void zero_literal(bk__sb *s, const bk_store_driver *drv, const bk__col *c)
{
    const char *lit = !c->json && drv->zero_literal ? drv->zero_literal(c->t->kind) : NULL;
    if (lit) {
        bk__sb_put(s, lit);
        return;
    }
    switch (c->t->kind) {
    case BK_STR:
        bk__sb_put(s, "''");
        return;
    case BK_BYTES:
        bk__sb_put(s, "X''");
        return;
    case BK_UUID:
        bk__sb_put(s, "'00000000-0000-0000-0000-000000000000'");
        return;
    case BK_ENUM: {
        const bk__enum *e = c->t->enm;
        if (e->n)
            bk__sb_literal(s, e->names[0], e->lens[0]);
        else
            bk__sb_put(s, "''");
        return;
    }
    case BK_F32: case BK_F64:
        bk__sb_put(s, "0.0");
        return;
    default:
        break;
    }
    if (!c->json) {
        bk__sb_put(s, "0");
        return;
    }
    void *zero = bk__calloc(1, c->t->size ? c->t->size : 1);
    bk_buf b = BK_BUF_INIT;
    if (!zero || bk__json_encode_type(&b, c->t, zero, NULL) != BK_OK)
        bk__sb_put(s, "'null'");
    else
        bk__sb_literal(s, b.ptr, b.len);
    bk_buf_dispose(&b);
    bk__free(zero);
}

/* The rebuild of an existing table: new table, copy, swap, indexes. */
static void rebuild_sql(bk__sb *s, const bk_store_driver *drv, const bk__table *t,
    const bk_store_table_info *ti)
{
    char tmp[BK__IDENT_MAX + 16];
    snprintf(tmp, sizeof(tmp), "%s__bk_new", t->name);
    bk__sb_fmt(s, "-- %s: a column changes type, nullability or key: the table is rebuilt "
        "(new table, copy, drop, rename; SQLite cannot alter a column in place). Rows whose "
        "values do not fit make the copy fail: review before applying.\n", t->name);
    table_def(s, t, tmp, false);
    bk__sb_put(s, "INSERT INTO ");
    bk__sb_ident(s, tmp);
    bk__sb_put(s, " (");
    bk__sb_put(s, t->select_list);
    bk__sb_put(s, ")\n    SELECT ");
    for (size_t i = 0; i < t->ncols; i++) {
        const bk__col *c = &t->cols[i];
        const bk_store_column_info *ci = find_info_col(ti, c->name);
        if (i)
            bk__sb_put(s, ", ");
        if (!ci) {
            if (c->nullable)
                bk__sb_put(s, "NULL");
            else
                zero_literal(s, drv, c);
            continue;
        }
        bool cast = !ieq(ci->type, c->decl);
        bool coalesce = !c->nullable && !ci->not_null && !c->pk;
        if (coalesce)
            bk__sb_put(s, "COALESCE(");
        if (cast) {
            bk__sb_put(s, "CAST(");
            bk__sb_ident(s, c->name);
            bk__sb_fmt(s, " AS %s)", c->decl);
        } else {
            bk__sb_ident(s, c->name);
        }
        if (coalesce) {
            bk__sb_put(s, ", ");
            zero_literal(s, drv, c);
            bk__sb_put(s, ")");
        }
    }
    bk__sb_put(s, " FROM ");
    bk__sb_ident(s, t->name);
    bk__sb_put(s, ";\nDROP TABLE ");
    bk__sb_ident(s, t->name);
    bk__sb_put(s, ";\nALTER TABLE ");
    bk__sb_ident(s, tmp);
    bk__sb_put(s, " RENAME TO ");
    bk__sb_ident(s, t->name);
    bk__sb_put(s, ";\n");
    for (size_t i = 0; i < t->ncols; i++)
        if (wants_index(&t->cols[i]))
            index_def(s, t, &t->cols[i], false);
}

/* ALTER TABLE statements for differences that do not need a rebuild. */
static void alter_sql(bk__sb *s, const bk_store_driver *drv, const bk__table *t,
    const bk_store_table_info *ti)
{
    for (size_t i = 0; i < ti->ncolumns; i++) {
        const bk_store_column_info *ci = &ti->columns[i];
        if (is_model_col(t, ci->name))
            continue;
        for (size_t k = 0; k < ti->nindexes; k++)
            if (ti->indexes[k].column && ieq(ti->indexes[k].column, ci->name)) {
                bk__sb_put(s, "DROP INDEX ");
                bk__sb_ident(s, ti->indexes[k].name);
                bk__sb_put(s, ";\n");
            }
        bk__sb_put(s, "ALTER TABLE ");
        bk__sb_ident(s, t->name);
        bk__sb_put(s, " DROP COLUMN ");
        bk__sb_ident(s, ci->name);
        bk__sb_put(s, ";\n");
    }
    for (size_t i = 0; i < t->ncols; i++) {
        const bk__col *c = &t->cols[i];
        if (find_info_col(ti, c->name))
            continue;
        bk__sb_put(s, "ALTER TABLE ");
        bk__sb_ident(s, t->name);
        bk__sb_put(s, " ADD COLUMN ");
        column_def(s, c);
        if (!c->nullable) {
            bk__sb_put(s, " DEFAULT ");
            zero_literal(s, drv, c);
        }
        bk__sb_put(s, ";\n");
    }
    for (size_t i = 0; i < t->ncols; i++) {
        const bk__col *c = &t->cols[i];
        if (wants_index(c) && !has_index(ti, c->name, c->unique))
            index_def(s, t, c, false);
    }
}

bk_status bk_store_diff(char **sql_out, bk_store *store, const bk_model *model,
    const char *table, bk_error **err)
{
    if (!sql_out)
        return bk__error_set(err, BK_EINVAL, "bk_store_diff: NULL sql_out");
    *sql_out = NULL;
    bk_status st = bk__store_check(store, "bk_store_diff", err);
    if (st != BK_OK)
        return st;
    if (!bk__model_ok(model))
        return bk__error_set(err, model ? BK_EMISUSE : BK_EINVAL, "bk_store_diff: not a model");
    bk__table *t = NULL;
    if ((st = bk__table_new(&t, store->root->drv, (bk_model *)model, table, err)) != BK_OK)
        return st;
    bk__conn *c = NULL;
    bool rel = false;
    bk_store_table_info ti;
    memset(&ti, 0, sizeof(ti));
    bk__sb s = { BK_BUF_INIT, false };
    if ((st = bk__conn_for(&c, &rel, store, false, err)) != BK_OK)
        goto done;
    if ((st = c->drv->table_info(c->c, t->name, &ti, err)) != BK_OK)
        goto done;
    if (!ti.exists) {
        bk__sb_fmt(&s, "-- %s does not exist\n", t->name);
        table_def(&s, t, t->name, false);
        for (size_t i = 0; i < t->ncols; i++)
            if (wants_index(&t->cols[i]))
                index_def(&s, t, &t->cols[i], false);
    } else {
        bool rebuild;
        if (compare(NULL, t, &ti, &rebuild) > 0) {
            if (rebuild)
                rebuild_sql(&s, c->drv, t, &ti);
            else
                alter_sql(&s, c->drv, t, &ti);
        }
    }
    if (s.oom || (!s.b.ptr && bk__buf_append(&s.b, "", 0) != BK_OK)) {
        st = bk__error_oom(err);
        goto done;
    }
    *sql_out = s.b.ptr;
    s.b.ptr = NULL;
done:
    if (rel)
        bk__conn_release(store->root, c);
    bk_store_table_info_clear(&ti);
    bk__sb_dispose(&s);
    bk__table_free(t);
    return st;
}

/* ---- migrations -------------------------------------------------------------------- */

typedef struct applied {
    int64_t version;
    char checksum[65];
} applied;

static bk_status check_list(const bk_migration *m, size_t n, const char *fn, bk_error **err)
{
    if (n && !m)
        return bk__error_set(err, BK_EINVAL, "%s: NULL migrations", fn);
    for (size_t i = 0; i < n; i++) {
        if (!m[i].name || !m[i].sql)
            return bk__error_set(err, BK_EINVAL, "%s: migration %zu has no name or SQL", fn, i);
        if (m[i].version <= 0 || (i && m[i].version <= m[i - 1].version))
            return bk__error_set(err, BK_ECONFLICT, "%s: migration versions must be positive "
                "and strictly increasing (%lld after %lld)", fn, (long long)m[i].version,
                (long long)(i ? m[i - 1].version : 0));
    }
    return BK_OK;
}

static bk_status create_mig_table(bk__conn *c, bk_error **err)
{
    const bk_store_driver *d = c->drv;
    bk__sb s = { BK_BUF_INIT, false };
    bk__sb_fmt(&s, "CREATE TABLE IF NOT EXISTS \"" MIG_TABLE "\" (\"version\" %s NOT NULL "
        "PRIMARY KEY, \"name\" %s NOT NULL, \"checksum\" %s NOT NULL, \"applied_at\" %s NOT "
        "NULL)", d->column_type(BK_I64), d->column_type(BK_STR), d->column_type(BK_STR),
        d->column_type(BK_STR));
    bk_status st = s.oom ? bk__error_oom(err) : d->exec(c->c, s.b.ptr, err);
    bk__sb_dispose(&s);
    return st;
}

static bk_status read_applied(applied **out, size_t *n_out, bk__conn *c, bk_error **err)
{
    const bk_store_driver *d = c->drv;
    *out = NULL;
    *n_out = 0;
    bk_store_stmt *s = NULL;
    bk_status st = d->prepare(&s, c->c, "SELECT \"version\", \"checksum\" FROM \"" MIG_TABLE
        "\" ORDER BY \"version\"", err);
    if (st != BK_OK)
        return st;
    applied *v = NULL;
    size_t n = 0, cap = 0;
    while ((st = d->step(s, err)) == BK_OK) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            applied *nv = bk__realloc(v, nc * sizeof(*nv));
            if (!nv) {
                st = bk__error_oom(err);
                break;
            }
            v = nv;
            cap = nc;
        }
        size_t len;
        const char *sum = d->column_text(s, 1, &len);
        v[n].version = d->column_i64(s, 0);
        snprintf(v[n].checksum, sizeof(v[n].checksum), "%.*s", (int)(len > 64 ? 64 : len), sum);
        n++;
    }
    d->finalize(s);
    if (st != BK_ITEROVER) {
        bk__free(v);
        return st;
    }
    *out = v;
    *n_out = n;
    return BK_OK;
}

/*
 * Compare the applied set with the list: a changed checksum, or a pending
 * migration older than the newest applied one, is BK_ECONFLICT. *next is
 * the index of the first pending migration (n when none); *pending counts
 * them.
 */
static bk_status reconcile(const applied *a, size_t na, const bk_migration *m, char (*sums)[65],
    size_t n, size_t *next, size_t *pending, const char *fn, bk_error **err)
{
    int64_t newest = na ? a[na - 1].version : 0;
    *next = n;
    *pending = 0;
    for (size_t i = 0; i < n; i++) {
        const applied *hit = NULL;
        for (size_t k = 0; k < na && !hit; k++)
            if (a[k].version == m[i].version)
                hit = &a[k];
        if (hit) {
            if (strcmp(hit->checksum, sums[i]) != 0)
                return bk__error_set(err, BK_ECONFLICT, "%s: migration %lld (%s) was changed "
                    "after it was applied (checksum %s, now %s)", fn, (long long)m[i].version,
                    m[i].name, hit->checksum, sums[i]);
            continue;
        }
        if (m[i].version < newest)
            return bk__error_set(err, BK_ECONFLICT, "%s: migration %lld (%s) is pending but "
                "older than the newest applied one (%lld): it would run out of order", fn,
                (long long)m[i].version, m[i].name, (long long)newest);
        if (*next == n)
            *next = i;
        (*pending)++;
    }
    return BK_OK;
}

static char (*checksums(const bk_migration *m, size_t n))[65]
{
    char (*sums)[65] = bk__calloc(n ? n : 1, sizeof(*sums));
    if (sums)
        for (size_t i = 0; i < n; i++)
            bk__sha256_hex(sums[i], m[i].sql, strlen(m[i].sql));
    return sums;
}

static bk_status record(bk__conn *c, const bk_migration *m, const char *sum, bk_error **err)
{
    const bk_store_driver *d = c->drv;
    bk__sb q = { BK_BUF_INIT, false };
    bk__sb_put(&q, "INSERT INTO \"" MIG_TABLE "\" (\"version\", \"name\", \"checksum\", "
        "\"applied_at\") VALUES (?, ?, ?, ?)");
    bk__sql sql;
    if (bk__sql_finish(&sql, d, &q) != BK_OK)
        return bk__error_oom(err);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[40];
    size_t wn = bk__ts_format(when, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
    bk_store_stmt *s = NULL;
    bk_status st = d->prepare(&s, c->c, sql.text, err);
    if (st == BK_OK) st = d->bind_i64(s, 1, m->version, err);
    if (st == BK_OK) st = d->bind_text(s, 2, m->name, strlen(m->name), err);
    if (st == BK_OK) st = d->bind_text(s, 3, sum, 64, err);
    if (st == BK_OK) st = d->bind_text(s, 4, when, wn, err);
    if (st == BK_OK && (st = d->step(s, err)) == BK_ITEROVER)
        st = BK_OK;
    if (s)
        d->finalize(s);
    bk__free(sql.text);
    return st;
}

bk_status bk_store_migrate(bk_store *store, const bk_migration *migrations, size_t n,
    size_t *applied_out, bk_error **err)
{
    static const char fn[] = "bk_store_migrate";
    if (applied_out)
        *applied_out = 0;
    bk_status st = bk__store_check(store, fn, err);
    if (st != BK_OK)
        return st;
    if (store->magic == BK__MAGIC_TX)
        return bk__error_set(err, BK_EMISUSE, "%s: migrate the store, not a transaction "
            "(each migration runs in its own)", fn);
    if ((st = check_list(migrations, n, fn, err)) != BK_OK)
        return st;
    char (*sums)[65] = checksums(migrations, n);
    if (!sums)
        return bk__error_oom(err);
    bk__conn *c = NULL;
    bool rel = false;
    size_t done_count = 0;
    if ((st = bk__conn_for(&c, &rel, store, true, err)) != BK_OK)
        goto out;
    const bk_store_driver *d = c->drv;
    for (bool created = false;; created = true) {
        if ((st = d->begin_exclusive(c->c, err)) != BK_OK)
            break;
        /* the ledger is created under the lock too: PostgreSQL's CREATE
         * TABLE IF NOT EXISTS is not safe against a concurrent one */
        if (!created && (st = create_mig_table(c, err)) != BK_OK) {
            d->exec(c->c, "ROLLBACK", NULL);
            break;
        }
        applied *a = NULL;
        size_t na = 0, next = n, pending = 0;
        st = read_applied(&a, &na, c, err);
        if (st == BK_OK)
            st = reconcile(a, na, migrations, sums, n, &next, &pending, fn, err);
        bk__free(a);
        if (st == BK_OK && next == n && (st = d->exec(c->c, "COMMIT", err)) == BK_OK)
            break;                         /* nothing pending (keeps a new ledger) */
        if (st != BK_OK) {
            d->exec(c->c, "ROLLBACK", NULL);
            break;
        }
        const bk_migration *m = &migrations[next];
        bk_error *e = NULL;
        st = d->exec(c->c, m->sql, &e);
        if (st != BK_OK) {
            d->exec(c->c, "ROLLBACK", NULL);
            if (st == BK_ENOMEM) {
                bk_error_free(e);
                st = bk__error_oom(err);
            } else {
                st = bk__error_set(err, st == BK_EBUSY ? BK_EBUSY : BK_EIO, "%s: migration "
                    "%lld (%s) failed and was rolled back: %s", fn, (long long)m->version,
                    m->name, bk_error_message(e));
                bk_error_free(e);
            }
            break;
        }
        if ((st = record(c, m, sums[next], err)) == BK_OK)
            st = d->exec(c->c, "COMMIT", err);
        if (st != BK_OK) {
            d->exec(c->c, "ROLLBACK", NULL);
            break;
        }
        done_count++;
    }
out:
    if (rel)
        bk__conn_release(store->root, c);
    bk__free(sums);
    if (applied_out)
        *applied_out = done_count;
    return st;
}

bk_status bk_store_pending(size_t *count_out, bk_store *store, const bk_migration *migrations,
    size_t n, bk_error **err)
{
    static const char fn[] = "bk_store_pending";
    if (!count_out)
        return bk__error_set(err, BK_EINVAL, "%s: NULL count_out", fn);
    *count_out = 0;
    bk_status st = bk__store_check(store, fn, err);
    if (st != BK_OK)
        return st;
    if ((st = check_list(migrations, n, fn, err)) != BK_OK)
        return st;
    char (*sums)[65] = checksums(migrations, n);
    if (!sums)
        return bk__error_oom(err);
    bk__conn *c = NULL;
    bool rel = false;
    bk_store_table_info ti;
    memset(&ti, 0, sizeof(ti));
    if ((st = bk__conn_for(&c, &rel, store, false, err)) != BK_OK)
        goto out;
    if ((st = c->drv->table_info(c->c, MIG_TABLE, &ti, err)) != BK_OK)
        goto out;
    if (!ti.exists) {
        *count_out = n;
        goto out;
    }
    applied *a = NULL;
    size_t na = 0, next, pending = 0;
    if ((st = read_applied(&a, &na, c, err)) == BK_OK)
        st = reconcile(a, na, migrations, sums, n, &next, &pending, fn, err);
    bk__free(a);
    if (st == BK_OK)
        *count_out = pending;
out:
    if (rel)
        bk__conn_release(store->root, c);
    bk_store_table_info_clear(&ti);
    bk__free(sums);
    return st;
}
