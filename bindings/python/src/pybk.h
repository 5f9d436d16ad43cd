/*
 * pybk.h - the hand-written C half of the Python module backend._backend.
 *
 * The SWIG-generated half (backend.i) wraps the C API one function at a
 * time; this half adds what a thin wrapper cannot do well:
 *  - raising one exception per failure from a bk_error (the class comes from
 *    the table the `backend` package registers, see pybk_raise());
 *  - jansson values <-> Python objects;
 *  - the fast model instances behind `backend.Model` (ModelBase, ModelInfo,
 *    Field): a bk_record per instance, fields converted on access, decoding
 *    and encoding of whole lists with the GIL released.
 *
 * Everything here uses the public C API only (backend.h).
 */
#ifndef PYBK_H
#define PYBK_H

#include <Python.h>
#include <backend.h>

/* Conversions that need SWIG's type table; backend.i provides them. */
typedef struct pybk_hooks {
    /* The bk_model behind a SWIG model object (borrowed); NULL with a
     * Python exception set when o is not one. */
    bk_model *(*model_from_py)(PyObject *o);
    /* A new SWIG model object that owns one reference of m (taken over). */
    PyObject *(*model_to_py)(bk_model *m);
    /* A new SWIG error object that owns err (taken over). */
    PyObject *(*error_to_py)(bk_error *err);
} pybk_hooks;

/* Add the types and functions of this half to the module. 0 or -1. */
int pybk_init(PyObject *module, const pybk_hooks *hooks);

/* Raise the exception for err and free it (err is consumed; NULL gives a
 * generic error). Always returns NULL. */
PyObject *pybk_raise(bk_error *err);

/* Raise the exception for a status without an error handle. NULL. */
PyObject *pybk_raise_status(bk_status st, const char *message);

/* A jansson value as Python objects (new reference), or NULL + exception. */
PyObject *pybk_json_to_py(const json_t *v);

/* Python objects (None, bool, int, float, str, list, tuple, dict with str
 * keys, model instances) as a new jansson value, or NULL + exception. */
json_t *pybk_py_to_json(PyObject *o);

/* Records of model instances lent to C calls (for src/pystore.c). */
int pybk_is_instance(PyObject *o);
/* The record of instance o, marked busy until pybk_instance_return(); with
 * create, an instance without a record gets an empty one. NULL + exception. */
bk_record *pybk_instance_lend(PyObject *o, int create);
/* changed: 0 read only, 1 scalar fields written (key, version), 2 replaced. */
void pybk_instance_return(PyObject *o, int changed);

/* Python callables as custom validators (src/pyvalid.c): adds
 * bk_model_from_doc_ex(doc, resolve) to the module. 0 or -1. */
int pyvalid_init(PyObject *module, const pybk_hooks *hooks);
/* When a Python validator raised on this thread during the last
 * validation, raise that exception (1); else 0. Called wherever a failed
 * C call becomes an exception. */
int pyvalid_pending_raise(void);

#endif
