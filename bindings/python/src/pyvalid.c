/*
 * pyvalid.c - Python callables as custom validators (see pybk.h).
 *
 * bk_model_from_doc_ex(doc, resolve) loads a model description document
 * and asks the Python callable resolve(model_name, field_name or None,
 * validator_name) for each validator name of the loaded model: it returns a
 * check callable, or None for an unknown name (the load then fails with
 * BK_EMODEL). Each check is attached through a C trampoline, with the
 * declaring model (borrowed: the payload lives exactly as long as the
 * model's schema, bk_doc_options.release drops it).
 *
 * When the model validates (on decode, possibly on a thread that released
 * the GIL, or in bk_validate), the trampoline takes the GIL
 * (PyGILState_Ensure), encodes the value it is given - the field's value
 * (bk_json_encode_field) or the whole struct (bk_json_encode_buf) - and
 * calls check(json_bytes). check returns None or a sequence of problems
 * (path_suffix or None, code, message, params_json or None), each reported
 * with bk_report_problem (so as `custom:<code>`).
 *
 * Any exception check raises stops the validation: it is kept in a
 * thread-local slot, and the call that validated raises it instead of the
 * C error (pyvalid_pending_raise, called where the binding turns a
 * bk_error into an exception). Validation of one value runs on one thread,
 * so the slot of that thread is the right one.
 */
#define PY_SSIZE_T_CLEAN
#include "pybk.h"

static const pybk_hooks *v_hooks;

/* The exception a check raised on this thread (a new reference), or NULL. */
static _Thread_local PyObject *t_pending;

/* Move the current Python exception into this thread's slot (keeping the
 * first one when several checks fail). The GIL is held. */
static void stash_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = PyErr_GetRaisedException();
#else
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    if (exc && tb)
        PyException_SetTraceback(exc, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
#endif
    if (!t_pending)
        t_pending = exc;
    else
        Py_XDECREF(exc);
}

int pyvalid_pending_raise(void)
{
    PyObject *exc = t_pending;
    if (!exc)
        return 0;
    t_pending = NULL;
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
#endif
    return 1;
}

/* The payload of one attached check. */
typedef struct pyv {
    PyObject *check;         /* one reference */
    const bk_model *model;   /* borrowed: the payload dies with the model */
    long field;              /* -1: the model's validator */
} pyv;

/* Report the problems check returned (None or a sequence of tuples).
 * 0, or -1 with a Python exception set. */
static int report_all(PyObject *res, bk_report *r)
{
    if (res == Py_None)
        return 0;
    PyObject *seq = PySequence_Fast(res, "a validator check returns None or a list of problems");
    if (!seq)
        return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        const char *path, *code, *msg, *params;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "zssz:problem", &path, &code,
                &msg, &params)) {
            Py_DECREF(seq);
            return -1;
        }
        bk_status st = bk_report_problem(r, path, code, msg, params);
        if (st != BK_OK) {
            Py_DECREF(seq);
            if (st == BK_ENOMEM)
                PyErr_NoMemory();
            else
                PyErr_Format(PyExc_ValueError, "validator problem %s: the params are not a JSON "
                    "object (%s)", code, params ? params : "NULL");
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

/* The trampoline of every Python check: see the top of the file. */
static int run_check(const void *value, bk_report *r, void *payload)
{
    pyv *v = payload;
    int rc = 0;
    PyGILState_STATE g = PyGILState_Ensure();
    if (t_pending) {                 /* an earlier check failed: stop */
        PyGILState_Release(g);
        return 1;
    }
    bk_buf b = BK_BUF_INIT;
    bk_error *e = NULL;
    bk_status st = v->field >= 0
        ? bk_json_encode_field(&b, v->model, (size_t)v->field, value, &e)
        : bk_json_encode_buf(&b, v->model, value, NULL, &e);
    if (st != BK_OK) {
        PyErr_Format(PyExc_RuntimeError, "a validated value cannot be encoded: %s",
            e ? bk_error_message(e) : bk_status_name(st));
        bk_error_free(e);
        rc = 1;
    } else {
        PyObject *data = PyBytes_FromStringAndSize(b.ptr ? b.ptr : "", (Py_ssize_t)b.len);
        PyObject *res = data ? PyObject_CallOneArg(v->check, data) : NULL;
        Py_XDECREF(data);
        if (!res || report_all(res, r) < 0)
            rc = 1;
        Py_XDECREF(res);
    }
    bk_buf_dispose(&b);
    if (rc)
        stash_exception();
    PyGILState_Release(g);
    return rc;
}

/* Whether the interpreter is shutting down: taking the GIL from another
 * thread then would block that thread for good. */
static int py_finalizing(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing();
#else
    return _Py_IsFinalizing();
#endif
}

/* bk_doc_options.release: drop a check when its model is freed (from any
 * thread, so the GIL is taken; nothing to do once Python is gone or going:
 * the function object is then left to the interpreter's teardown). */
static void release_check(void *payload, void *ctx)
{
    pyv *v = payload;
    (void)ctx;
    if (Py_IsInitialized() && !py_finalizing()) {
        PyGILState_STATE g = PyGILState_Ensure();
        Py_DECREF(v->check);
        PyGILState_Release(g);
    }
    PyMem_RawFree(v);
}

/* bk_doc_options.resolve: ask the Python resolver (the GIL is held: the
 * load runs with it). */
static int resolve_check(bk_validate_fn *fn_out, void **payload_out, const bk_model *model,
    long field, const char *name, void *payload)
{
    PyObject *check = PyObject_CallFunction((PyObject *)payload, "szs", bk_model_name(model),
        field >= 0 ? bk_model_field_name(model, (size_t)field) : NULL, name);
    if (!check) {
        stash_exception();
        return -1;
    }
    if (check == Py_None) {
        Py_DECREF(check);
        return 0;                    /* unknown: the load fails with BK_EMODEL */
    }
    if (!PyCallable_Check(check)) {
        Py_DECREF(check);
        PyErr_Format(PyExc_TypeError, "the validator resolver returned a non-callable for %s",
            name);
        stash_exception();
        return -1;
    }
    pyv *v = PyMem_RawMalloc(sizeof(*v));
    if (!v) {
        Py_DECREF(check);
        PyErr_NoMemory();
        stash_exception();
        return -1;
    }
    v->check = check;
    v->model = model;
    v->field = field;
    *fn_out = run_check;
    *payload_out = v;
    return 0;
}

/* bk_model_from_doc_ex(doc, resolve) -> bk_model: see the top of the file. */
static PyObject *py_model_from_doc_ex(PyObject *mod, PyObject *args)
{
    (void)mod;
    const char *doc;
    Py_ssize_t len;
    PyObject *resolve;
    if (!PyArg_ParseTuple(args, "s#O:bk_model_from_doc_ex", &doc, &len, &resolve))
        return NULL;
    if (!PyCallable_Check(resolve))
        return PyErr_Format(PyExc_TypeError, "bk_model_from_doc_ex: resolve must be callable");
    bk_doc_options o;
    bk_doc_options_init(&o);
    o.resolve = resolve_check;
    o.release = release_check;
    o.payload = resolve;
    bk_model *m = NULL;
    bk_error *e = NULL;
    Py_XSETREF(t_pending, NULL);
    bk_status st = bk_model_from_doc_ex(&m, doc, (size_t)len, &o, &e);
    if (st != BK_OK) {
        if (pyvalid_pending_raise()) {
            bk_error_free(e);
            return NULL;
        }
        return pybk_raise(e);
    }
    return v_hooks->model_to_py(m);
}

static PyMethodDef pyvalid_functions[] = {
    { "bk_model_from_doc_ex", py_model_from_doc_ex, METH_VARARGS,
      "bk_model_from_doc_ex(doc, resolve) -> bk_model: load a model description document; "
      "resolve(model, field or None, name) returns the check callable of each validator name "
      "(or None: unknown, BK_EMODEL). check(json_bytes) returns None or a list of "
      "(path_suffix, code, message, params_json) problems; an exception it raises is raised "
      "by the call that validated." },
    { NULL, NULL, 0, NULL },
};

int pyvalid_init(PyObject *module, const pybk_hooks *hooks)
{
    v_hooks = hooks;
    if (PyModule_AddFunctions(module, pyvalid_functions) < 0)
        return -1;
    /* SWIG's proxy imports the names listed in __all__ */
    PyObject *all = PyObject_GetAttrString(module, "__all__");
    if (!all) {
        PyErr_Clear();
        return 0;
    }
    int rc = 0;
    for (const PyMethodDef *d = pyvalid_functions; rc == 0 && d->ml_name; d++) {
        PyObject *n = PyUnicode_FromString(d->ml_name);
        rc = n && PyList_Check(all) ? PyList_Append(all, n) : -1;
        Py_XDECREF(n);
    }
    Py_DECREF(all);
    return rc;
}
