/*
 * pystore.h - the storage half of backend._backend: safe handles for
 * stores, transactions, queries and cursors, and the functions backend.i
 * exposes under the C names (bk_store_*, bk_query_*, bk_cursor_*).
 *
 * The C handles are raw pointers whose lifetimes the C library ties to
 * each other (a transaction is freed by its commit, a query of a
 * transaction must not outlive it, a store must not be closed while a call
 * runs on it). Python code cannot be trusted to follow those rules, so each
 * C handle lives inside a Python object that knows whether it is still
 * valid, which thread it belongs to and which calls are running on it:
 * using an ended or closed handle raises backend.MisuseError, never
 * touches freed memory. See pystore.c for the rules.
 */
#ifndef PYSTORE_H
#define PYSTORE_H

#include "pybk.h"

/* Conversions that need SWIG's type table; backend.i provides them. */
typedef struct pystore_hooks {
    /* The bk_model behind a SWIG model object (borrowed); NULL + TypeError. */
    bk_model *(*model_from_py)(PyObject *o);
    /* The bk_record behind a SWIG record object (borrowed), or NULL without
     * an exception when o is not one. */
    bk_record *(*record_from_py)(PyObject *o);
} pystore_hooks;

/* Add the handle types to the module. 0 or -1. */
int pystore_init(PyObject *module, const pystore_hooks *hooks);

/* ---- the functions of the thin module (backend.i renames them) -------------------
 * `obj`/`out` arguments are a _backend.bk_record of the model or a
 * backend.Model instance of it; keys are Python values of the key's type. */
bk_status pystore_open(PyObject **out, const char *uri, const bk_store_options *opts,
    bk_error **err);
bk_status pystore_close(PyObject *store);
bk_status pystore_register(PyObject *store, bk_model *model, const char *table, bk_error **err);
bk_status pystore_diff(char **out, PyObject *store, const bk_model *model, const char *table,
    bk_error **err);
bk_status pystore_migrate(size_t *applied, PyObject *store, PyObject *migrations,
    bk_error **err);
bk_status pystore_pending(size_t *count, PyObject *store, PyObject *migrations, bk_error **err);
bk_status pystore_insert(PyObject *store, const bk_model *model, PyObject *obj, bk_error **err);
bk_status pystore_insert_many(PyObject *store, const bk_model *model, PyObject *objs,
    bk_error **err);
bk_status pystore_get(PyObject *out, PyObject *store, const bk_model *model, PyObject *key,
    bk_error **err);
bk_status pystore_update(PyObject *store, const bk_model *model, PyObject *obj,
    PyObject *fields, bk_error **err);
bk_status pystore_upsert(PyObject *store, const bk_model *model, PyObject *obj, bk_error **err);
bk_status pystore_delete(PyObject *store, const bk_model *model, PyObject *key, bk_error **err);
bk_status pystore_begin(PyObject **out, PyObject *store, bk_error **err);
bk_status pystore_commit(PyObject *tx, bk_error **err);
bk_status pystore_rollback(PyObject *tx, bk_error **err);
bk_status pystore_transact(PyObject *store, PyObject *fn, int max_attempts, bk_error **err);

bk_status pyquery_new(PyObject **out, PyObject *store, PyObject *model, bk_error **err);
bk_status pyquery_free(PyObject *q);
bk_status pyquery_where(PyObject *q, const char *field, bk_op op, const char *json_value,
    bk_error **err);
bk_status pyquery_where_i64(PyObject *q, const char *field, bk_op op, int64_t value,
    bk_error **err);
bk_status pyquery_where_f64(PyObject *q, const char *field, bk_op op, double value,
    bk_error **err);
bk_status pyquery_where_str(PyObject *q, const char *field, bk_op op, const char *value,
    bk_error **err);
bk_status pyquery_where_bool(PyObject *q, const char *field, bk_op op, bool value,
    bk_error **err);
bk_status pyquery_group_begin(PyObject *q, bool any, bk_error **err);
bk_status pyquery_group_end(PyObject *q, bk_error **err);
bk_status pyquery_order_by(PyObject *q, const char *field, bool descending, bk_error **err);
bk_status pyquery_limit(PyObject *q, size_t limit, bk_error **err);
bk_status pyquery_offset(PyObject *q, size_t offset, bk_error **err);
bk_status pyquery_after(PyObject *q, const char *token, bk_error **err);
bk_status pyquery_count(int64_t *out, PyObject *q, bk_error **err);
bk_status pyquery_run(PyObject **out, PyObject *q, bk_error **err);
bk_status pycursor_next(PyObject *c, PyObject *out, bk_error **err);
bk_status pycursor_token(char **out, PyObject *c, bk_error **err);
bk_status pycursor_free(PyObject *c);

#endif
