/*
 * pybk.c - the hand-written C half of backend._backend (see pybk.h).
 *
 * Model instances. A `backend.Model` subclass is a Python subclass of the C
 * type ModelBase. Each instance owns one bk_record of its class's model (the
 * class's ModelInfo holds the model and, per field, how to convert). The
 * record is the truth: attribute reads convert the field from the record
 * (and cache the Python value), attribute writes go through the record's
 * typed setters, so the C library checks every value. Values that Python
 * code may mutate in place (lists, dicts, nested instances, raw JSON) are
 * cached as "live" and written back to the record ("synced") before the
 * record is encoded, validated or compared. An instance that nobody touched
 * encodes straight from the record the decoder filled.
 *
 * Lists. decode_list() decodes a JSON array with the library's record stream
 * into one record per element with the GIL released, then wraps each record
 * in an instance; encode_list() writes the records of a list of instances
 * into one buffer with the GIL released. While an instance's record is read
 * without the GIL, the instance is marked busy and refuses writes.
 *
 * Errors. Every failure becomes one exception built by the factory that the
 * `backend` package registers (set_error_factory): its class comes from the
 * status, and it carries every problem as (path, code, message, params,
 * offset, line, column).
 */
#define PY_SSIZE_T_CLEAN
#include "pybk.h"
#include <datetime.h>
#include <structmember.h>
#include <stdio.h>
#include <string.h>

static const pybk_hooks *g_hooks;
static PyObject *g_factory;         /* set_error_factory(); NULL before */

/* ---- small helpers ------------------------------------------------------------ */

/* A str from UTF-8 that may (in theory) be invalid: never fails on bad bytes. */
static PyObject *str_of(const char *s)
{
    if (!s)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

/* Howard Hinnant's civil-date algorithms (days since 1970-01-01). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* ---- errors ----------------------------------------------------------------------- */

enum { LOC_KEEP, LOC_STRIP, LOC_REBASE };

/* Where problems come from and how to rewrite them. */
typedef struct problem_ctx {
    const char *prefix;     /* replaces the leading "$" of each path; NULL keeps it */
    int loc;                /* LOC_* */
    const char *doc;        /* LOC_REBASE: the whole document ... */
    size_t doclen;
    size_t base;            /* ... and where the element starts in it */
} problem_ctx;

static void locate(const char *doc, size_t len, size_t off, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (doc[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Append problem i of err, rewritten by ctx, to list. 0 or -1. */
static int append_problem(PyObject *list, const bk_error *err, size_t i, const problem_ctx *ctx)
{
    const char *path = bk_error_path(err, i);
    size_t off = 0, line = 0, col = 0;
    bk_error_location(err, i, &off, &line, &col);
    if (ctx->loc == LOC_STRIP) {
        off = line = col = 0;
    } else if (ctx->loc == LOC_REBASE && line) {
        off += ctx->base;
        locate(ctx->doc, ctx->doclen, off, &line, &col);
    }
    PyObject *p;
    if (ctx->prefix && path && path[0] == '$')
        p = PyUnicode_FromFormat("%s%s", ctx->prefix, path + 1);
    else
        p = str_of(path ? path : "$");
    PyObject *code = str_of(bk_error_problem_code(err, i));
    PyObject *msg = str_of(bk_error_problem_message(err, i));
    PyObject *params = str_of(bk_error_problem_params(err, i));
    PyObject *t = NULL;
    if (p && code && msg && params)
        t = Py_BuildValue("(OOOOnnn)", p, code, msg, params, (Py_ssize_t)off, (Py_ssize_t)line,
            (Py_ssize_t)col);
    Py_XDECREF(p);
    Py_XDECREF(code);
    Py_XDECREF(msg);
    Py_XDECREF(params);
    if (!t)
        return -1;
    int rc = PyList_Append(list, t);
    Py_DECREF(t);
    return rc;
}

/* The summary of rewritten problems, as C writes it (error.c summary()):
 * "<path>: <message>[ (line L, column C)][ (and N more problems[, list
 * truncated])]". NULL + exception on failure. */
static PyObject *summary_of(PyObject *problems, bool truncated)
{
    Py_ssize_t np = PyList_GET_SIZE(problems);
    if (!np)
        return PyUnicode_FromString("error");
    PyObject *p0 = PyList_GET_ITEM(problems, 0);
    Py_ssize_t line = PyLong_AsSsize_t(PyTuple_GET_ITEM(p0, 5));
    PyObject *m;
    if (line)
        m = PyUnicode_FromFormat("%U: %U (line %zd, column %zd)", PyTuple_GET_ITEM(p0, 0),
            PyTuple_GET_ITEM(p0, 2), line, PyLong_AsSsize_t(PyTuple_GET_ITEM(p0, 6)));
    else
        m = PyUnicode_FromFormat("%U: %U", PyTuple_GET_ITEM(p0, 0), PyTuple_GET_ITEM(p0, 2));
    if (m && (np > 1 || truncated))
        Py_SETREF(m, PyUnicode_FromFormat("%U (and %zd more problem%s%s)", m, np - 1,
            np - 1 == 1 ? "" : "s", truncated ? ", list truncated" : ""));
    return m;
}

/* Call the factory and raise what it returns. Steals nothing. */
static PyObject *raise_with(int status, PyObject *message, PyObject *problems, int http,
    const char *public_code, int truncated, long long record_index, PyObject *handle)
{
    if (!g_factory) {
        PyErr_SetObject(PyExc_RuntimeError, message);
        return NULL;
    }
    PyObject *exc = PyObject_CallFunction(g_factory, "iOOisiLO", status, message, problems, http,
        public_code ? public_code : "internal", truncated, record_index,
        handle ? handle : Py_None);
    if (!exc)
        return NULL;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}

/* Raise one problem that the binding finds itself (as C would report it). */
static PyObject *raise_problem(bk_status st, const char *path, const char *code,
    const char *message)
{
    PyObject *problems = PyList_New(0);
    PyObject *t = Py_BuildValue("(ssssnnn)", path, code, message, "{}", (Py_ssize_t)0,
        (Py_ssize_t)0, (Py_ssize_t)0);
    PyObject *m = PyUnicode_FromFormat("%s: %s", path, message);
    if (problems && t && m && PyList_Append(problems, t) == 0) {
        int http = st == BK_EVALIDATION ? 422 : 400;
        raise_with((int)st, m, problems, http, st == BK_EVALIDATION ? "validation_failed"
            : "invalid_body", 0, -1, NULL);
    }
    Py_XDECREF(problems);
    Py_XDECREF(t);
    Py_XDECREF(m);
    return NULL;
}

/* Raise for err (consumed), its problems rewritten by ctx. */
static PyObject *raise_ctx(bk_error *err, const problem_ctx *ctx)
{
    if (pyvalid_pending_raise()) {   /* a Python validator raised: that wins */
        bk_error_free(err);
        return NULL;
    }
    if (!err)
        return pybk_raise_status(BK_ERROR, "unknown error");
    PyObject *problems = PyList_New(0);
    PyObject *message = NULL, *handle = NULL;
    size_t n = bk_error_count(err);
    for (size_t i = 0; problems && i < n; i++) {
        if (append_problem(problems, err, i, ctx) < 0)
            Py_CLEAR(problems);
    }
    if (problems && n && (ctx->prefix || ctx->loc != LOC_KEEP))
        message = summary_of(problems, bk_error_truncated(err));   /* rewritten problems */
    else if (problems)
        message = str_of(bk_error_message(err));
    int status = (int)bk_error_code(err);
    int http = bk_error_http_status(err);
    const char *pub = bk_error_public_code(err);
    int truncated = bk_error_truncated(err);
    long long ri = bk_error_record_index(err);
    PyObject *res = NULL;
    if (problems && message) {
        /* The handle goes with the exception only when the problems are
         * reported as the handle has them (bodies are then written by C). */
        if (g_hooks && g_hooks->error_to_py && !ctx->prefix && ctx->loc == LOC_KEEP) {
            handle = g_hooks->error_to_py(err);   /* takes err over */
            err = NULL;
        }
        if (handle || !PyErr_Occurred())
            res = raise_with(status, message, problems, http, pub, truncated, ri, handle);
    }
    bk_error_free(err);
    Py_XDECREF(handle);
    Py_XDECREF(problems);
    Py_XDECREF(message);
    return res;
}

PyObject *pybk_raise(bk_error *err)
{
    problem_ctx ctx = { NULL, LOC_KEEP, NULL, 0, 0 };
    return raise_ctx(err, &ctx);
}

static PyObject *raise_prefixed(bk_error *err, const char *prefix)
{
    problem_ctx ctx = { prefix, LOC_KEEP, NULL, 0, 0 };
    return raise_ctx(err, &ctx);
}

PyObject *pybk_raise_status(bk_status st, const char *message)
{
    PyObject *m = str_of(message ? message : bk_status_name(st));
    PyObject *problems = PyList_New(0);
    if (m && problems)
        raise_with((int)st, m, problems, 0, NULL, 0, -1, NULL);
    Py_XDECREF(m);
    Py_XDECREF(problems);
    return NULL;
}

static PyObject *py_set_error_factory(PyObject *self, PyObject *fn)
{
    (void)self;
    if (fn != Py_None && !PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "set_error_factory: a callable or None");
        return NULL;
    }
    Py_XSETREF(g_factory, fn == Py_None ? NULL : Py_NewRef(fn));
    Py_RETURN_NONE;
}

/* ---- jansson <-> Python --------------------------------------------------------- */

PyObject *pybk_json_to_py(const json_t *v)
{
    if (!v) {
        PyErr_SetString(PyExc_ValueError, "NULL JSON value");
        return NULL;
    }
    switch (json_typeof(v)) {
    case JSON_NULL:
        Py_RETURN_NONE;
    case JSON_TRUE:
        Py_RETURN_TRUE;
    case JSON_FALSE:
        Py_RETURN_FALSE;
    case JSON_INTEGER:
        return PyLong_FromLongLong(json_integer_value(v));
    case JSON_REAL:
        return PyFloat_FromDouble(json_real_value(v));
    case JSON_STRING:
        return PyUnicode_DecodeUTF8(json_string_value(v), (Py_ssize_t)json_string_length(v),
            "strict");
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        PyObject *l = PyList_New((Py_ssize_t)n);
        if (!l)
            return NULL;
        if (Py_EnterRecursiveCall(" converting JSON")) {
            Py_DECREF(l);
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            PyObject *x = pybk_json_to_py(json_array_get(v, i));
            if (!x) {
                Py_LeaveRecursiveCall();
                Py_DECREF(l);
                return NULL;
            }
            PyList_SET_ITEM(l, (Py_ssize_t)i, x);
        }
        Py_LeaveRecursiveCall();
        return l;
    }
    case JSON_OBJECT: {
        PyObject *d = PyDict_New();
        if (!d)
            return NULL;
        if (Py_EnterRecursiveCall(" converting JSON")) {
            Py_DECREF(d);
            return NULL;
        }
        const char *key;
        size_t klen;
        json_t *x;
        json_object_keylen_foreach((json_t *)v, key, klen, x) {
            PyObject *k = PyUnicode_DecodeUTF8(key, (Py_ssize_t)klen, "strict");
            PyObject *pv = k ? pybk_json_to_py(x) : NULL;
            int rc = pv ? PyDict_SetItem(d, k, pv) : -1;
            Py_XDECREF(k);
            Py_XDECREF(pv);
            if (rc < 0) {
                Py_LeaveRecursiveCall();
                Py_DECREF(d);
                return NULL;
            }
        }
        Py_LeaveRecursiveCall();
        return d;
    }
    }
    PyErr_SetString(PyExc_ValueError, "unknown JSON value type");
    return NULL;
}

static PyTypeObject ModelBase_Type;
static json_t *instance_to_json(PyObject *o);

json_t *pybk_py_to_json(PyObject *o)
{
    if (o == Py_None)
        return json_null();
    if (o == Py_True)
        return json_true();
    if (o == Py_False)
        return json_false();
    if (PyLong_Check(o)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        if (overflow) {
            PyErr_SetString(PyExc_OverflowError,
                "integer outside the 64-bit signed range of JSON values here");
            return NULL;
        }
        return json_integer(v);
    }
    if (PyFloat_Check(o)) {
        double d = PyFloat_AS_DOUBLE(o);
        json_t *j = json_real(d);     /* NULL for NaN and infinities */
        if (!j)
            PyErr_SetString(PyExc_ValueError, "NaN and infinities are not JSON numbers");
        return j;
    }
    if (PyUnicode_Check(o)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(o, &n);
        if (!s)
            return NULL;
        json_t *j = json_stringn_nocheck(s, (size_t)n);
        if (!j)
            PyErr_NoMemory();
        return j;
    }
    if (PyObject_TypeCheck(o, &ModelBase_Type))
        return instance_to_json(o);
    if (PyList_Check(o) || PyTuple_Check(o)) {
        PyObject *seq = PySequence_Fast(o, "a sequence");
        if (!seq)
            return NULL;
        json_t *a = json_array();
        if (!a || Py_EnterRecursiveCall(" converting to JSON")) {
            json_decref(a);
            Py_DECREF(seq);
            if (!a)
                PyErr_NoMemory();
            return NULL;
        }
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        for (Py_ssize_t i = 0; i < n; i++) {
            json_t *x = pybk_py_to_json(PySequence_Fast_GET_ITEM(seq, i));
            if (!x || json_array_append_new(a, x) != 0) {
                if (x)
                    PyErr_NoMemory();
                json_decref(a);
                a = NULL;
                break;
            }
        }
        Py_LeaveRecursiveCall();
        Py_DECREF(seq);
        return a;
    }
    if (PyDict_Check(o)) {
        json_t *obj = json_object();
        if (!obj || Py_EnterRecursiveCall(" converting to JSON")) {
            json_decref(obj);
            if (!obj)
                PyErr_NoMemory();
            return NULL;
        }
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(o, &pos, &k, &v)) {
            if (!PyUnicode_Check(k)) {
                PyErr_Format(PyExc_TypeError, "JSON object keys must be str, not %.100s",
                    Py_TYPE(k)->tp_name);
                json_decref(obj);
                obj = NULL;
                break;
            }
            Py_ssize_t kn;
            const char *ks = PyUnicode_AsUTF8AndSize(k, &kn);
            json_t *x = ks ? pybk_py_to_json(v) : NULL;
            if (!x || json_object_setn_new_nocheck(obj, ks, (size_t)kn, x) != 0) {
                if (x)
                    PyErr_NoMemory();
                json_decref(obj);
                obj = NULL;
                break;
            }
        }
        Py_LeaveRecursiveCall();
        return obj;
    }
    PyErr_Format(PyExc_TypeError, "%.100s is not a JSON value", Py_TYPE(o)->tp_name);
    return NULL;
}

/* ---- ModelInfo: a class's model and its field table ------------------------------- */

typedef struct pybk_field {
    char *cname;            /* declared name (owned) */
    char *cpath;            /* "$.jsonName" (owned), prefix of this field's problems */
    PyObject *name;         /* declared name */
    bk_kind kind;
    bool optional;
    PyObject *enum_values;  /* BK_ENUM: tuple, index -> Python value */
    PyObject *from_json;    /* JSON-shaped Python value -> Python value (or NULL) */
    PyObject *to_json;      /* Python value -> JSON-shaped Python value (or NULL) */
    bool slice;             /* read from the record's encoding (see field_slice) */
    const char *key;        /* the JSON name as the encoder writes it (= json name) */
    size_t key_len;
} pybk_field;

typedef struct ModelInfo {
    PyObject_HEAD
    bk_model *model;        /* one reference */
    PyObject *handle;       /* the SWIG model object */
    Py_ssize_t n;
    pybk_field *f;
    PyObject *index;        /* dict: declared name -> field index */
    Py_ssize_t nslice;      /* fields with .slice set */
} ModelInfo;

static PyTypeObject ModelInfo_Type;

static bool is_ident(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* "$.name" or "$[\"a b\"]", as the decoder writes paths. */
static char *field_path(const char *json_name)
{
    size_t n = strlen(json_name);
    char *p = PyMem_Malloc(n * 6 + 8);
    if (!p)
        return NULL;
    if (is_ident(json_name)) {
        snprintf(p, n + 3, "$.%s", json_name);
        return p;
    }
    size_t k = 0;
    p[k++] = '$';
    p[k++] = '[';
    p[k++] = '"';
    for (const unsigned char *s = (const unsigned char *)json_name; *s; s++) {
        if (*s == '"' || *s == '\\') {
            p[k++] = '\\';
            p[k++] = (char)*s;
        } else if (*s < 0x20) {
            k += (size_t)snprintf(p + k, 7, "\\u%04x", *s);
        } else {
            p[k++] = (char)*s;
        }
    }
    p[k++] = '"';
    p[k++] = ']';
    p[k] = '\0';
    return p;
}

static int ModelInfo_traverse(ModelInfo *self, visitproc visit, void *arg)
{
    Py_VISIT(self->handle);
    Py_VISIT(self->index);
    for (Py_ssize_t i = 0; i < self->n; i++) {
        Py_VISIT(self->f[i].enum_values);
        Py_VISIT(self->f[i].from_json);
        Py_VISIT(self->f[i].to_json);
    }
    return 0;
}

static int ModelInfo_clear(ModelInfo *self)
{
    Py_CLEAR(self->handle);
    Py_CLEAR(self->index);
    for (Py_ssize_t i = 0; i < self->n; i++) {
        Py_CLEAR(self->f[i].enum_values);
        Py_CLEAR(self->f[i].from_json);
        Py_CLEAR(self->f[i].to_json);
    }
    return 0;
}

static void ModelInfo_dealloc(ModelInfo *self)
{
    PyObject_GC_UnTrack(self);
    ModelInfo_clear(self);
    for (Py_ssize_t i = 0; i < self->n; i++) {
        PyMem_Free(self->f[i].cname);
        PyMem_Free(self->f[i].cpath);
        Py_XDECREF(self->f[i].name);
    }
    PyMem_Free(self->f);
    bk_model_unref(self->model);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static char *dup_cstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = PyMem_Malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

static bool live_kind(bk_kind k);

/* ModelInfo(handle, converters): converters holds, per declared field, a
 * tuple (enum_values or None, from_json or None, to_json or None[, plain]),
 * plain being true when the field is an ordinary member of the JSON object
 * (not flattened, not skipped). */
static PyObject *ModelInfo_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    PyObject *handle, *convs;
    static char *kwlist[] = { "handle", "converters", NULL };
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:ModelInfo", kwlist, &handle, &convs))
        return NULL;
    if (!g_hooks)
        return PyErr_Format(PyExc_RuntimeError, "module not initialised");
    bk_model *m = g_hooks->model_from_py(handle);
    if (!m)
        return NULL;
    PyObject *seq = PySequence_Fast(convs, "converters must be a sequence");
    if (!seq)
        return NULL;
    Py_ssize_t n = (Py_ssize_t)bk_model_field_count(m);
    if (PySequence_Fast_GET_SIZE(seq) != n) {
        Py_DECREF(seq);
        return PyErr_Format(PyExc_ValueError, "model %s has %zd fields, %zd converters given",
            bk_model_name(m), n, PySequence_Fast_GET_SIZE(seq));
    }
    ModelInfo *self = (ModelInfo *)type->tp_alloc(type, 0);
    if (!self) {
        Py_DECREF(seq);
        return NULL;
    }
    self->model = bk_model_ref(m);
    self->handle = Py_NewRef(handle);
    self->f = PyMem_Calloc(n ? (size_t)n : 1, sizeof(pybk_field));
    self->index = PyDict_New();
    if (!self->f || !self->index)
        goto fail;
    self->n = n;
    for (Py_ssize_t i = 0; i < n; i++) {
        pybk_field *f = &self->f[i];
        PyObject *t = PySequence_Fast_GET_ITEM(seq, i), *ev, *fj, *tj;
        int plain = 0;
        if (!PyArg_ParseTuple(t, "OOO|p:converter", &ev, &fj, &tj, &plain))
            goto fail;
        const char *name = bk_model_field_name(m, (size_t)i);
        f->cname = dup_cstr(name);
        f->cpath = field_path(bk_model_field_json_name(m, (size_t)i));
        f->name = PyUnicode_FromString(name);
        if (!f->cname || !f->cpath || !f->name)
            goto fail;
        f->kind = bk_model_field_kind(m, (size_t)i);
        f->optional = bk_model_field_optional(m, (size_t)i);
        /* Composite values are read from the record's encoding when the
         * field is written as its own member under a key that needs no
         * escaping (plain: not flattened, not skipped - Python knows). */
        const char *jn = bk_model_field_json_name(m, (size_t)i);
        bool simple_key = true;
        for (const unsigned char *q = (const unsigned char *)jn; *q; q++)
            if (*q < 0x20 || *q > 0x7e || *q == '"' || *q == '\\')
                simple_key = false;
        if (plain && simple_key && (f->kind == BK_UUID || live_kind(f->kind))) {
            f->slice = true;
            f->key = jn;              /* borrowed from the model, which info keeps */
            f->key_len = strlen(jn);
            self->nslice++;
        }
        if (ev != Py_None) {
            if (!PyTuple_Check(ev)) {
                PyErr_SetString(PyExc_TypeError, "enum values must be a tuple");
                goto fail;
            }
            f->enum_values = Py_NewRef(ev);
        }
        if (fj != Py_None)
            f->from_json = Py_NewRef(fj);
        if (tj != Py_None)
            f->to_json = Py_NewRef(tj);
        if (f->kind == BK_ENUM && !f->enum_values) {
            PyErr_Format(PyExc_ValueError, "field %s: an enum needs its values", name);
            goto fail;
        }
        PyObject *ix = PyLong_FromSsize_t(i);
        int rc = ix ? PyDict_SetItem(self->index, f->name, ix) : -1;
        Py_XDECREF(ix);
        if (rc < 0)
            goto fail;
    }
    Py_DECREF(seq);
    return (PyObject *)self;
fail:
    Py_DECREF(seq);
    Py_DECREF(self);
    return NULL;
}

static PyObject *ModelInfo_get_handle(ModelInfo *self, void *c)
{
    (void)c;
    return Py_NewRef(self->handle);
}

static PyObject *ModelInfo_get_names(ModelInfo *self, void *c)
{
    (void)c;
    PyObject *t = PyTuple_New(self->n);
    for (Py_ssize_t i = 0; t && i < self->n; i++)
        PyTuple_SET_ITEM(t, i, Py_NewRef(self->f[i].name));
    return t;
}

static PyGetSetDef ModelInfo_getset[] = {
    { "handle", (getter)ModelInfo_get_handle, NULL, "the model (a _backend.bk_model)", NULL },
    { "names", (getter)ModelInfo_get_names, NULL, "declared field names, in order", NULL },
    { NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject ModelInfo_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "backend._backend.ModelInfo",
    .tp_basicsize = sizeof(ModelInfo),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A model and how its fields convert to Python (internal to backend.Model).",
    .tp_new = ModelInfo_new,
    .tp_dealloc = (destructor)ModelInfo_dealloc,
    .tp_traverse = (traverseproc)ModelInfo_traverse,
    .tp_clear = (inquiry)ModelInfo_clear,
    .tp_getset = ModelInfo_getset,
};

/* ---- ModelBase: instances --------------------------------------------------------- */

enum { ST_NONE = 0, ST_CLEAN = 1, ST_LIVE = 2 };

typedef struct ModelBase {
    PyObject_HEAD
    bk_record *rec;         /* NULL until initialised */
    ModelInfo *info;
    PyObject **vals;        /* NULL, or info->n cached values */
    unsigned char *state;   /* per cached value: ST_* */
    Py_ssize_t busy;        /* > 0 while the record is read without the GIL */
    bk_buf enc;             /* the record's encoding while fields are read from it */
    bool enc_ok;
    Py_ssize_t enc_uses;    /* fields read from enc; at info->nslice it is released */
} ModelBase;

static PyObject *g_info_name;   /* "__bk_info__" */

/* The ModelInfo of a class (built on first use by the package). New ref. */
static ModelInfo *info_of(PyTypeObject *cls)
{
    PyObject *o = PyObject_GetAttr((PyObject *)cls, g_info_name);
    if (!o)
        return NULL;
    if (!PyObject_TypeCheck(o, &ModelInfo_Type)) {
        Py_DECREF(o);
        PyErr_Format(PyExc_TypeError, "%.100s.__bk_info__ is not a ModelInfo", cls->tp_name);
        return NULL;
    }
    return (ModelInfo *)o;
}

static int ModelBase_traverse(ModelBase *self, visitproc visit, void *arg)
{
    Py_VISIT(self->info);
    if (self->vals)
        for (Py_ssize_t i = 0; i < self->info->n; i++)
            Py_VISIT(self->vals[i]);
    return 0;
}

static void drop_cache(ModelBase *self)
{
    if (!self->vals)
        return;
    PyObject **v = self->vals;
    Py_ssize_t n = self->info ? self->info->n : 0;
    self->vals = NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        Py_XDECREF(v[i]);
    PyMem_Free(v);
    PyMem_Free(self->state);
    self->state = NULL;
}

static int ModelBase_clear(ModelBase *self)
{
    drop_cache(self);
    return 0;
}

/* Forget the encoding fields were being read from (the record changed). */
static void drop_enc(ModelBase *self)
{
    bk_buf_dispose(&self->enc);
    self->enc_ok = false;
    self->enc_uses = 0;
}

static void ModelBase_dealloc(ModelBase *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    drop_cache(self);
    drop_enc(self);
    bk_record_free(self->rec);
    self->rec = NULL;
    Py_CLEAR(self->info);
    /* (subtype_dealloc drops the reference a heap subclass's instance
     * holds on its type, since this base type is static) */
    tp->tp_free((PyObject *)self);
}

static PyObject *ModelBase_new(PyTypeObject *cls, PyObject *args, PyObject *kw)
{
    (void)args;
    (void)kw;
    ModelInfo *info = info_of(cls);
    if (!info)
        return NULL;
    ModelBase *self = (ModelBase *)cls->tp_alloc(cls, 0);
    if (!self) {
        Py_DECREF(info);
        return NULL;
    }
    self->info = info;
    return (PyObject *)self;
}

/* Wrap a record (taken over) in a new instance of cls. */
static ModelBase *wrap_record(PyTypeObject *cls, ModelInfo *info, bk_record *rec)
{
    ModelBase *o = (ModelBase *)cls->tp_alloc(cls, 0);
    if (!o) {
        bk_record_free(rec);
        return NULL;
    }
    o->rec = rec;
    o->info = (ModelInfo *)Py_NewRef(info);
    /* No Python references inside yet, so no cycles: keep the collector
     * away until a list, dict or instance is cached (track()), unless the
     * class added a __dict__ or slots of its own. */
    if (cls->tp_basicsize == (Py_ssize_t)sizeof(ModelBase) && cls->tp_dictoffset == 0)
        PyObject_GC_UnTrack(o);
    return o;
}

static int need_rec(ModelBase *self)
{
    if (self->rec)
        return 0;
    PyErr_Format(PyExc_RuntimeError, "%.100s instance is not initialised",
        Py_TYPE(self)->tp_name);
    return -1;
}

static int not_busy(ModelBase *self)
{
    if (!self->busy)
        return 0;
    PyErr_Format(PyExc_RuntimeError,
        "%.100s instance is being encoded by another thread", Py_TYPE(self)->tp_name);
    return -1;
}

static int ensure_cache(ModelBase *self)
{
    if (self->vals)
        return 0;
    Py_ssize_t n = self->info->n ? self->info->n : 1;
    self->vals = PyMem_Calloc((size_t)n, sizeof(PyObject *));
    self->state = PyMem_Calloc((size_t)n, 1);
    if (!self->vals || !self->state) {
        PyMem_Free(self->vals);
        PyMem_Free(self->state);
        self->vals = NULL;
        self->state = NULL;
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* An instance caching only atomic values (str, int, datetime ...) cannot
 * be part of a reference cycle; one holding a list, dict or instance can,
 * so the collector must see it from then on. */
static void track(ModelBase *self)
{
    if (!PyObject_GC_IsTracked((PyObject *)self))
        PyObject_GC_Track(self);
}

static bool live_kind(bk_kind k)
{
    return k == BK_LIST || k == BK_MAP || k == BK_MODEL || k == BK_MODEL_PTR ||
           k == BK_UNION || k == BK_JSON;
}

/* A new instance of cls decoded from a jansson value. */
static PyObject *instance_from_value(PyTypeObject *cls, const json_t *j, int skip_validation)
{
    ModelInfo *info = info_of(cls);
    if (!info)
        return NULL;
    bk_decode_options opts;
    bk_decode_options_init(&opts);
    opts.skip_validation = skip_validation != 0;
    bk_record *rec = NULL;
    bk_error *e = NULL;
    bk_status st = bk_record_new(&rec, info->model, &e);
    if (st == BK_OK)
        st = bk_json_from_value(bk_record_data(rec), info->model, j, &opts, &e);
    PyObject *res = NULL;
    if (st != BK_OK) {
        bk_record_free(rec);
        problem_ctx ctx = { NULL, LOC_STRIP, NULL, 0, 0 };
        raise_ctx(e, &ctx);
    } else {
        res = (PyObject *)wrap_record(cls, info, rec);
    }
    Py_DECREF(info);
    return res;
}

/* ---- reading composite fields from the record's encoding ----
 * The public API gives a composite field (list, map, nested model, union,
 * raw JSON) as a jansson value only (bk_record_get_json_at: the field is
 * encoded, then parsed by jansson), and a nested model would then be dumped
 * and decoded again. Instead the record is encoded once (bk_json_encode_buf,
 * compact), the field's member is found in that text, and the value is read
 * from there: a nested model decoded by the C decoder straight from its
 * bytes, anything else parsed into Python objects by the small reader
 * below. The text is the encoder's, so it is well-formed; the reader still
 * fails cleanly on anything else. The encoding is dropped when the record
 * changes, or once every such field has been read. */

static size_t frame_value(const char *p, size_t avail);

/* The member value of field f in self's encoding: 1 and its bytes, 0 when
 * the member is not there (left out by skip_if ...), -1 on error. */
static int field_slice(ModelBase *self, const pybk_field *f, const char **vp, size_t *vn)
{
    if (!self->enc_ok) {
        bk_buf_reset(&self->enc);
        if (bk_json_encode_buf(&self->enc, self->info->model, bk_record_data(self->rec), NULL,
                NULL) != BK_OK)
            return 0;                      /* the slow path reports the problem */
        self->enc_ok = true;
        self->enc_uses = 0;
    }
    const char *p = self->enc.ptr, *e = p + self->enc.len;
    if (p == e || *p != '{')
        return 0;
    p++;
    while (p < e && *p == '"') {
        const char *k = ++p;
        while (p < e && *p != '"')
            p += *p == '\\' ? 2 : 1;
        if (p >= e)
            return 0;
        size_t kn = (size_t)(p - k);
        p++;                               /* closing quote */
        if (p >= e || *p != ':')
            return 0;
        p++;
        size_t n = frame_value(p, (size_t)(e - p));
        if (!n)
            return 0;
        if (kn == f->key_len && memcmp(k, f->key, kn) == 0) {
            *vp = p;
            *vn = n;
            return 1;
        }
        p += n;
        if (p < e && *p == ',')
            p++;
    }
    return 0;
}

typedef struct jreader {
    const char *p, *e;
} jreader;

static PyObject *jr_value(jreader *r);

static PyObject *jr_fail(void)
{
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "unexpected text in a record's encoding");
    return NULL;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int jr_hex4(jreader *r, unsigned *out)
{
    if (r->e - r->p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(r->p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + (unsigned)h;
    }
    r->p += 4;
    *out = v;
    return 0;
}

static PyObject *jr_string(jreader *r)
{
    const char *s = ++r->p, *q = s;
    bool esc = false;
    while (q < r->e && *q != '"') {
        if (*q == '\\') {
            esc = true;
            q++;
        }
        q++;
    }
    if (q >= r->e)
        return jr_fail();
    if (!esc) {
        r->p = q + 1;
        return PyUnicode_DecodeUTF8(s, q - s, "strict");
    }
    char *buf = PyMem_Malloc((size_t)(q - s) + 1), *o = buf;
    if (!buf)
        return PyErr_NoMemory();
    while (r->p < q) {
        char c = *r->p++;
        if (c != '\\') {
            *o++ = c;
            continue;
        }
        c = *r->p++;
        switch (c) {
        case '"': case '\\': case '/': *o++ = c; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (jr_hex4(r, &cp) < 0)
                goto bad;
            if (cp >= 0xD800 && cp < 0xDC00 && r->p + 6 <= q && r->p[0] == '\\' &&
                r->p[1] == 'u') {
                r->p += 2;
                if (jr_hex4(r, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                    goto bad;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp < 0x80) {
                *o++ = (char)cp;
            } else if (cp < 0x800) {
                *o++ = (char)(0xC0 | (cp >> 6));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *o++ = (char)(0xE0 | (cp >> 12));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *o++ = (char)(0xF0 | (cp >> 18));
                *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            goto bad;
        }
    }
    r->p = q + 1;
    PyObject *res = PyUnicode_DecodeUTF8(buf, o - buf, "strict");
    PyMem_Free(buf);
    return res;
bad:
    PyMem_Free(buf);
    return jr_fail();
}

static PyObject *jr_number(jreader *r)
{
    const char *s = r->p;
    bool real = false;
    while (r->p < r->e && (strchr("+-0123456789", *r->p) || *r->p == '.' || *r->p == 'e' ||
                           *r->p == 'E')) {
        if (*r->p == '.' || *r->p == 'e' || *r->p == 'E')
            real = true;
        r->p++;
    }
    size_t n = (size_t)(r->p - s);
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp))
        return jr_fail();
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (real) {
        double d = PyOS_string_to_double(tmp, NULL, NULL);
        return d == -1.0 && PyErr_Occurred() ? NULL : PyFloat_FromDouble(d);
    }
    return PyLong_FromString(tmp, NULL, 10);
}

static PyObject *jr_value(jreader *r)
{
    if (r->p >= r->e)
        return jr_fail();
    char c = *r->p;
    if (c == '"')
        return jr_string(r);
    if (c == '-' || (c >= '0' && c <= '9'))
        return jr_number(r);
    if (c == 't' && r->e - r->p >= 4 && memcmp(r->p, "true", 4) == 0) {
        r->p += 4;
        Py_RETURN_TRUE;
    }
    if (c == 'f' && r->e - r->p >= 5 && memcmp(r->p, "false", 5) == 0) {
        r->p += 5;
        Py_RETURN_FALSE;
    }
    if (c == 'n' && r->e - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
        r->p += 4;
        Py_RETURN_NONE;
    }
    if (c != '[' && c != '{')
        return jr_fail();
    if (Py_EnterRecursiveCall(" reading JSON"))
        return NULL;
    PyObject *res = NULL;
    r->p++;
    if (c == '[') {
        PyObject *l = PyList_New(0);
        if (l && r->p < r->e && *r->p == ']') {
            r->p++;
            res = l;
        } else {
            while (l) {
                PyObject *x = jr_value(r);
                if (!x || PyList_Append(l, x) < 0) {
                    Py_XDECREF(x);
                    break;
                }
                Py_DECREF(x);
                if (r->p < r->e && *r->p == ',') {
                    r->p++;
                } else if (r->p < r->e && *r->p == ']') {
                    r->p++;
                    res = l;
                    break;
                } else {
                    break;
                }
            }
            if (!res)
                Py_XDECREF(l);
        }
    } else {
        PyObject *d = PyDict_New();
        if (d && r->p < r->e && *r->p == '}') {
            r->p++;
            res = d;
        } else {
            while (d) {
                PyObject *k = r->p < r->e && *r->p == '"' ? jr_string(r) : NULL;
                if (!k || r->p >= r->e || *r->p != ':') {
                    Py_XDECREF(k);
                    break;
                }
                r->p++;
                PyObject *x = jr_value(r);
                int rc = x ? PyDict_SetItem(d, k, x) : -1;
                Py_DECREF(k);
                Py_XDECREF(x);
                if (rc < 0)
                    break;
                if (r->p < r->e && *r->p == ',') {
                    r->p++;
                } else if (r->p < r->e && *r->p == '}') {
                    r->p++;
                    res = d;
                    break;
                } else {
                    break;
                }
            }
            if (!res)
                Py_XDECREF(d);
        }
    }
    Py_LeaveRecursiveCall();
    return res ? res : jr_fail();
}

/* Field i read from the record's encoding; NULL without an exception when
 * the member is not in it (the caller takes the slow path). */
static PyObject *field_from_enc(ModelBase *self, Py_ssize_t i, bool *found)
{
    const pybk_field *f = &self->info->f[i];
    const char *vp;
    size_t vn;
    *found = false;
    int r = field_slice(self, f, &vp, &vn);
    if (r <= 0)
        return NULL;
    *found = true;
    PyObject *v;
    if (vn == 4 && memcmp(vp, "null", 4) == 0) {
        v = Py_NewRef(Py_None);
    } else if (f->from_json && PyType_Check(f->from_json) &&
               PyType_IsSubtype((PyTypeObject *)f->from_json, &ModelBase_Type)) {
        /* a nested model: decoded from its bytes by the C decoder */
        PyTypeObject *cls = (PyTypeObject *)f->from_json;
        ModelInfo *info = info_of(cls);
        v = NULL;
        if (info) {
            bk_decode_options opts;
            bk_decode_options_init(&opts);
            opts.skip_validation = true;
            bk_record *rec = NULL;
            bk_error *e = NULL;
            bk_status st = bk_record_new(&rec, info->model, &e);
            if (st == BK_OK)
                st = bk_record_decode(rec, vp, vn, &opts, &e);
            if (st != BK_OK) {
                bk_record_free(rec);
                raise_prefixed(e, f->cpath);
            } else {
                v = (PyObject *)wrap_record(cls, info, rec);
            }
            Py_DECREF(info);
        }
    } else {
        jreader rd = { vp, vp + vn };
        v = jr_value(&rd);
        if (v && f->from_json && v != Py_None)
            Py_SETREF(v, PyObject_CallOneArg(f->from_json, v));
    }
    if (++self->enc_uses >= self->info->nslice)
        drop_enc(self);                  /* every such field read: free the text */
    return v;
}

/* Field i of the record as a Python value (new reference). */
static PyObject *field_from_c(ModelBase *self, Py_ssize_t i)
{
    const pybk_field *f = &self->info->f[i];
    bk_record *r = self->rec;
    bk_error *e = NULL;
    bk_status st;
    if (f->optional) {
        bk_presence p = BK_PRESENT;
        if (bk_record_get_presence(&p, r, f->cname, &e) != BK_OK)
            return raise_prefixed(e, f->cpath);
        if (p != BK_PRESENT)
            Py_RETURN_NONE;
    }
    switch (f->kind) {
    case BK_BOOL: {
        bool b = false;
        if ((st = bk_record_get_bool(&b, r, f->cname, &e)) != BK_OK)
            return raise_prefixed(e, f->cpath);
        return PyBool_FromLong(b);
    }
    case BK_I8: case BK_I16: case BK_I32: case BK_I64:
    case BK_U8: case BK_U16: case BK_U32: {
        int64_t v = 0;
        if ((st = bk_record_get_i64_at(&v, r, (size_t)i, &e)) != BK_OK)
            return raise_prefixed(e, f->cpath);
        return PyLong_FromLongLong(v);
    }
    case BK_U64: {
        uint64_t v = 0;
        if ((st = bk_record_get_u64(&v, r, f->cname, &e)) != BK_OK)
            return raise_prefixed(e, f->cpath);
        return PyLong_FromUnsignedLongLong(v);
    }
    case BK_F32: case BK_F64: {
        double v = 0;
        if ((st = bk_record_get_f64_at(&v, r, (size_t)i, &e)) != BK_OK)
            return raise_prefixed(e, f->cpath);
        return PyFloat_FromDouble(v);
    }
    case BK_STR: {
        const char *s = NULL;
        if ((st = bk_record_get_str_at(&s, r, (size_t)i, &e)) != BK_OK) {
            if (st == BK_ENOTFOUND) {       /* a NULL string (never set) */
                bk_error_free(e);
                Py_RETURN_NONE;
            }
            return raise_prefixed(e, f->cpath);
        }
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "strict");
    }
    case BK_ENUM: {
        int64_t v = 0;
        if ((st = bk_record_get_i64_at(&v, r, (size_t)i, &e)) != BK_OK)
            return raise_prefixed(e, f->cpath);
        if (v < 0 || v >= PyTuple_GET_SIZE(f->enum_values))
            return PyErr_Format(PyExc_ValueError, "enum index %lld out of range", (long long)v);
        return Py_NewRef(PyTuple_GET_ITEM(f->enum_values, (Py_ssize_t)v));
    }
    case BK_TIMESTAMP: {
        int64_t us = 0;
        if ((st = bk_record_get_i64_at(&us, r, (size_t)i, &e)) != BK_OK)
            return raise_prefixed(e, f->cpath);
        int64_t secs = floordiv(us, 1000000), frac = us - secs * 1000000;
        int64_t days = floordiv(secs, 86400), sod = secs - days * 86400, y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        if (y < 1 || y > 9999)
            return PyErr_Format(PyExc_OverflowError, "timestamp year %lld is outside 1..9999",
                (long long)y);
        return PyDateTimeAPI->DateTime_FromDateAndTime((int)y, (int)m, (int)d, (int)(sod / 3600),
            (int)(sod / 60 % 60), (int)(sod % 60), (int)frac, PyDateTime_TimeZone_UTC,
            PyDateTimeAPI->DateTimeType);
    }
    case BK_DATE: {
        int64_t days = 0, y;
        unsigned m, d;
        if ((st = bk_record_get_i64_at(&days, r, (size_t)i, &e)) != BK_OK)
            return raise_prefixed(e, f->cpath);
        civil_from_days(days, &y, &m, &d);
        if (y < 1 || y > 9999)
            return PyErr_Format(PyExc_OverflowError, "date year %lld is outside 1..9999",
                (long long)y);
        return PyDate_FromDate((int)y, (int)m, (int)d);
    }
    case BK_BYTES: {
        const unsigned char *b = NULL;
        size_t n = 0;
        if ((st = bk_record_get_bytes(&b, &n, r, f->cname, &e)) != BK_OK)
            return raise_prefixed(e, f->cpath);
        return PyBytes_FromStringAndSize((const char *)b, (Py_ssize_t)n);
    }
    default: {
        /* UUIDs and composite kinds: from the record's encoding when the
         * member is there, else the field's JSON (through jansson), then the
         * converter (a nested model's class decodes the value directly). */
        if (f->slice) {
            bool found;
            PyObject *v = field_from_enc(self, i, &found);
            if (v || found)
                return v;
        }
        json_t *j = NULL;
        if ((st = bk_record_get_json_at(&j, r, (size_t)i, &e)) != BK_OK)
            return raise_prefixed(e, f->cpath);
        if (f->from_json && !json_is_null(j) && PyType_Check(f->from_json) &&
            PyType_IsSubtype((PyTypeObject *)f->from_json, &ModelBase_Type)) {
            PyObject *o = instance_from_value((PyTypeObject *)f->from_json, j, 1);
            json_decref(j);
            return o;
        }
        PyObject *v = pybk_json_to_py(j);
        json_decref(j);
        if (v && f->from_json && v != Py_None)
            Py_SETREF(v, PyObject_CallOneArg(f->from_json, v));
        return v;
    }
    }
}

static PyObject *get_field(ModelBase *self, Py_ssize_t i)
{
    if (need_rec(self) < 0)
        return NULL;
    if (self->vals && self->vals[i])
        return Py_NewRef(self->vals[i]);
    PyObject *v = field_from_c(self, i);
    if (!v)
        return NULL;
    if (ensure_cache(self) < 0) {
        Py_DECREF(v);
        return NULL;
    }
    self->vals[i] = Py_NewRef(v);
    self->state[i] = (v != Py_None && live_kind(self->info->f[i].kind)) ? ST_LIVE : ST_CLEAN;
    if (self->state[i] == ST_LIVE)
        track(self);
    return v;
}

/* Set field i from any Python value through its JSON form (the decoder
 * checks it exactly as in a document). */
static int set_generic(ModelBase *self, Py_ssize_t i, PyObject *v)
{
    const pybk_field *f = &self->info->f[i];
    PyObject *jv = f->to_json && v != Py_None ? PyObject_CallOneArg(f->to_json, v) : Py_NewRef(v);
    if (!jv)
        return -1;
    json_t *j = pybk_py_to_json(jv);
    Py_DECREF(jv);
    if (!j)
        return -1;
    bk_error *e = NULL;
    bk_status st = bk_record_set_json_at(self->rec, (size_t)i, j, &e);
    json_decref(j);
    if (st != BK_OK) {
        raise_prefixed(e, f->cpath);
        return -1;
    }
    return 0;
}

static int64_t datetime_us(PyObject *v, int *ok)
{
    int64_t days = days_from_civil(PyDateTime_GET_YEAR(v), (unsigned)PyDateTime_GET_MONTH(v),
        (unsigned)PyDateTime_GET_DAY(v));
    int64_t us = ((days * 86400 + PyDateTime_DATE_GET_HOUR(v) * 3600 +
                   PyDateTime_DATE_GET_MINUTE(v) * 60 + PyDateTime_DATE_GET_SECOND(v)) *
                  1000000) + PyDateTime_DATE_GET_MICROSECOND(v);
    *ok = 1;
    PyObject *tz = PyDateTime_DATE_GET_TZINFO(v);
    if (tz != Py_None) {
        PyObject *off = PyObject_CallMethod(v, "utcoffset", NULL);
        if (!off) {
            *ok = 0;
            return 0;
        }
        if (PyDelta_Check(off))
            us -= ((int64_t)PyDateTime_DELTA_GET_DAYS(off) * 86400 +
                   PyDateTime_DELTA_GET_SECONDS(off)) * 1000000 +
                  PyDateTime_DELTA_GET_MICROSECONDS(off);
        Py_DECREF(off);
    }
    return us;
}

static int set_field(ModelBase *self, Py_ssize_t i, PyObject *v)
{
    if (need_rec(self) < 0 || not_busy(self) < 0)
        return -1;
    const pybk_field *f = &self->info->f[i];
    bk_record *r = self->rec;
    bk_error *e = NULL;
    bk_status st = BK_OK;
    bool done = true;
    if (!v) {                           /* del obj.field */
        if (!f->optional) {
            PyErr_Format(PyExc_AttributeError, "field %s is not optional: it cannot be deleted",
                f->cname);
            return -1;
        }
        st = bk_record_set_presence(r, f->cname, BK_ABSENT, &e);
    } else if (v == Py_None && f->optional) {
        st = bk_record_set_presence(r, f->cname, BK_NULL, &e);
    } else {
        switch (f->kind) {
        case BK_BOOL:
            if (PyBool_Check(v))
                st = bk_record_set_bool(r, f->cname, v == Py_True, &e);
            else
                done = false;
            break;
        case BK_I8: case BK_I16: case BK_I32: case BK_I64:
        case BK_U8: case BK_U16: case BK_U32: case BK_U64:
            if (PyLong_Check(v) && !PyBool_Check(v)) {
                int overflow = 0;
                long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
                if (x == -1 && PyErr_Occurred())
                    return -1;
                if (!overflow) {
                    st = bk_record_set_i64_at(r, (size_t)i, x, &e);
                } else {
                    unsigned long long u = overflow > 0 ? PyLong_AsUnsignedLongLong(v) : 0;
                    if (overflow < 0 || (u == (unsigned long long)-1 && PyErr_Occurred())) {
                        /* beyond 64 bits: what the decoder says of such a number */
                        char msg[160];
                        PyErr_Clear();
                        snprintf(msg, sizeof(msg), "value out of range for field \"%s\"",
                            f->cname);
                        raise_problem(BK_EDECODE, f->cpath, "out_of_range", msg);
                        return -1;
                    }
                    st = bk_record_set_u64(r, f->cname, u, &e);
                }
            } else {
                done = false;
            }
            break;
        case BK_F32: case BK_F64:
            if (PyFloat_Check(v))
                st = bk_record_set_f64_at(r, (size_t)i, PyFloat_AS_DOUBLE(v), &e);
            else
                done = false;
            break;
        case BK_STR:
        case BK_ENUM:
        case BK_UUID: {
            PyObject *s = NULL;
            if (PyUnicode_Check(v))
                s = Py_NewRef(v);
            else if (f->to_json && f->kind != BK_STR)   /* Enum members, uuid.UUID */
                s = PyObject_CallOneArg(f->to_json, v);
            if (!s && PyErr_Occurred())
                return -1;
            if (s && PyUnicode_Check(s)) {
                Py_ssize_t n;
                const char *c = PyUnicode_AsUTF8AndSize(s, &n);
                if (!c) {
                    Py_DECREF(s);
                    return -1;
                }
                if ((size_t)n == strlen(c))
                    st = bk_record_set_str_at(r, (size_t)i, c, &e);
                else
                    done = false;              /* an embedded NUL: the decoder reports it */
            } else {
                done = false;
            }
            Py_XDECREF(s);
            break;
        }
        case BK_TIMESTAMP:
            if (PyDateTime_Check(v)) {
                int ok;
                int64_t us = datetime_us(v, &ok);
                if (!ok)
                    return -1;
                st = bk_record_set_i64_at(r, (size_t)i, us, &e);
            } else {
                done = false;
            }
            break;
        case BK_DATE:
            if (PyDate_Check(v) && !PyDateTime_Check(v))
                st = bk_record_set_i64_at(r, (size_t)i,
                    days_from_civil(PyDateTime_GET_YEAR(v), (unsigned)PyDateTime_GET_MONTH(v),
                        (unsigned)PyDateTime_GET_DAY(v)), &e);
            else
                done = false;
            break;
        case BK_BYTES:
            if (PyBytes_Check(v) || PyByteArray_Check(v) || PyMemoryView_Check(v)) {
                Py_buffer view;
                if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0)
                    return -1;
                st = bk_record_set_bytes(r, f->cname, view.buf, (size_t)view.len, &e);
                PyBuffer_Release(&view);
            } else {
                done = false;
            }
            break;
        default:
            done = false;
            break;
        }
    }
    if (!done) {
        if (set_generic(self, i, v) < 0)
            return -1;
    } else if (st != BK_OK) {
        raise_prefixed(e, f->cpath);
        return -1;
    }
    drop_enc(self);
    if (self->vals && self->vals[i]) {   /* the record holds the value now */
        Py_CLEAR(self->vals[i]);
        self->state[i] = ST_NONE;
    }
    return 0;
}

static PyObject *field_from_c(ModelBase *self, Py_ssize_t i);

/* Write live cached values back into the record - those that differ from
 * what the record holds (read it again and compare), so that values only
 * read are never rewritten. 0 or -1. */
static int sync_values(ModelBase *self)
{
    if (need_rec(self) < 0)
        return -1;
    if (!self->vals)
        return 0;
    for (Py_ssize_t i = 0; i < self->info->n; i++) {
        if (self->state[i] != ST_LIVE)
            continue;
        PyObject *fresh = field_from_c(self, i);
        if (!fresh)
            return -1;
        int same = PyObject_RichCompareBool(fresh, self->vals[i], Py_EQ);
        Py_DECREF(fresh);
        if (same < 0)
            return -1;
        if (same)
            continue;
        if (not_busy(self) < 0)
            return -1;
        PyObject *v = Py_NewRef(self->vals[i]);
        int rc = set_generic(self, i, v);
        Py_DECREF(v);
        drop_enc(self);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static json_t *instance_to_json(PyObject *o)
{
    ModelBase *m = (ModelBase *)o;
    if (sync_values(m) < 0)
        return NULL;
    json_t *j = NULL;
    bk_error *e = NULL;
    if (bk_json_to_value(&j, m->info->model, bk_record_data(m->rec), &e) != BK_OK) {
        pybk_raise(e);
        return NULL;
    }
    return j;
}

/* ---- decoding and encoding ---------------------------------------------------------- */

#define GIL_THRESHOLD 65536   /* release the GIL for documents at least this long */

static int parse_decode_opts(bk_decode_options *o, int skip_validation, Py_ssize_t max_errors)
{
    bk_decode_options_init(o);
    o->skip_validation = skip_validation != 0;
    if (max_errors < 0) {
        PyErr_SetString(PyExc_ValueError, "max_errors must be >= 0");
        return -1;
    }
    if (max_errors > 0)
        o->max_errors = (size_t)max_errors;
    return 0;
}

/* Decode data into a new record of info's model. NULL + exception. */
static bk_record *decode_one(ModelInfo *info, PyObject *data, int skip_validation,
    Py_ssize_t max_errors, int locations)
{
    bk_decode_options opts;
    if (parse_decode_opts(&opts, skip_validation, max_errors) < 0)
        return NULL;
    Py_buffer view;
    if (PyUnicode_Check(data)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(data, &n);
        if (!s)
            return NULL;
        if (PyBuffer_FillInfo(&view, data, (void *)s, n, 1, PyBUF_SIMPLE) < 0)
            return NULL;
    } else if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    bk_record *rec = NULL;
    bk_error *e = NULL;
    bk_status st = bk_record_new(&rec, info->model, &e);
    if (st == BK_OK) {
        if (view.len >= GIL_THRESHOLD) {
            Py_BEGIN_ALLOW_THREADS
            st = bk_record_decode(rec, view.buf, (size_t)view.len, &opts, &e);
            Py_END_ALLOW_THREADS
        } else {
            st = bk_record_decode(rec, view.buf, (size_t)view.len, &opts, &e);
        }
    }
    PyBuffer_Release(&view);
    if (st != BK_OK) {
        bk_record_free(rec);
        problem_ctx ctx = { NULL, locations ? LOC_KEEP : LOC_STRIP, NULL, 0, 0 };
        raise_ctx(e, &ctx);
        return NULL;
    }
    return rec;
}

/* ModelBase._bk_from_json(data, skip_validation=False, max_errors=0,
 * locations=True) -> a new instance of the class. */
static PyObject *ModelBase_from_json(PyObject *cls, PyObject *args, PyObject *kw)
{
    PyObject *data;
    int skip = 0, locations = 1;
    Py_ssize_t max_errors = 0;
    static char *kwlist[] = { "data", "skip_validation", "max_errors", "locations", NULL };
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|pnp:_bk_from_json", kwlist, &data, &skip,
            &max_errors, &locations))
        return NULL;
    ModelInfo *info = info_of((PyTypeObject *)cls);
    if (!info)
        return NULL;
    bk_record *rec = decode_one(info, data, skip, max_errors, locations);
    PyObject *res = rec ? (PyObject *)wrap_record((PyTypeObject *)cls, info, rec) : NULL;
    Py_DECREF(info);
    return res;
}

/* ModelBase._bk_from_value(value, skip_validation=True) -> a new instance
 * from JSON-shaped Python values (through jansson; problems have no
 * locations). */
static PyObject *ModelBase_from_value(PyObject *cls, PyObject *args, PyObject *kw)
{
    PyObject *value;
    int skip = 1;
    static char *kwlist[] = { "value", "skip_validation", NULL };
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p:_bk_from_value", kwlist, &value, &skip))
        return NULL;
    json_t *j = pybk_py_to_json(value);
    if (!j)
        return NULL;
    PyObject *res = instance_from_value((PyTypeObject *)cls, j, skip);
    json_decref(j);
    return res;
}

/* self._bk_load(data, skip_validation=False, max_errors=0, locations=True):
 * (re)initialise self from JSON (for __init__). */
static PyObject *ModelBase_load(ModelBase *self, PyObject *args, PyObject *kw)
{
    PyObject *data;
    int skip = 0, locations = 1;
    Py_ssize_t max_errors = 0;
    static char *kwlist[] = { "data", "skip_validation", "max_errors", "locations", NULL };
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|pnp:_bk_load", kwlist, &data, &skip,
            &max_errors, &locations))
        return NULL;
    if (not_busy(self) < 0)
        return NULL;
    bk_record *rec = decode_one(self->info, data, skip, max_errors, locations);
    if (!rec)
        return NULL;
    drop_cache(self);
    drop_enc(self);
    bk_record_free(self->rec);
    self->rec = rec;
    Py_RETURN_NONE;
}

static PyObject *encode_bytes(ModelBase *self, int indent)
{
    if (sync_values(self) < 0)
        return NULL;
    bk_encode_options opts;
    bk_encode_options_init(&opts);
    opts.indent = indent;
    bk_buf b = BK_BUF_INIT;
    bk_error *e = NULL;
    if (bk_json_encode_buf(&b, self->info->model, bk_record_data(self->rec), &opts, &e) != BK_OK) {
        bk_buf_dispose(&b);
        return pybk_raise(e);
    }
    PyObject *res = PyBytes_FromStringAndSize(b.ptr ? b.ptr : "", (Py_ssize_t)b.len);
    bk_buf_dispose(&b);
    return res;
}

static PyObject *ModelBase_to_json(ModelBase *self, PyObject *args, PyObject *kw)
{
    int indent = 0;
    static char *kwlist[] = { "indent", NULL };
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|i:_bk_to_json", kwlist, &indent))
        return NULL;
    return encode_bytes(self, indent);
}

static PyObject *ModelBase_sync(ModelBase *self, PyObject *unused)
{
    (void)unused;
    if (sync_values(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *ModelBase_validate(ModelBase *self, PyObject *args, PyObject *kw)
{
    Py_ssize_t max_errors = 0;
    static char *kwlist[] = { "max_errors", NULL };
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|n:_bk_validate", kwlist, &max_errors))
        return NULL;
    if (max_errors < 0)
        return PyErr_Format(PyExc_ValueError, "max_errors must be >= 0");
    if (sync_values(self) < 0)
        return NULL;
    bk_error *e = NULL;
    if (bk_validate(self->info->model, bk_record_data(self->rec), (size_t)max_errors, &e) != BK_OK)
        return pybk_raise(e);
    Py_RETURN_NONE;
}

/* self._bk_to_value() -> the JSON value as Python objects (via jansson). */
static PyObject *ModelBase_to_value(ModelBase *self, PyObject *unused)
{
    (void)unused;
    json_t *j = instance_to_json((PyObject *)self);
    if (!j)
        return NULL;
    PyObject *v = pybk_json_to_py(j);
    json_decref(j);
    return v;
}

/* self._bk_presence(name) -> 0 absent, 1 null, 2 present. */
static PyObject *ModelBase_presence(ModelBase *self, PyObject *name)
{
    if (need_rec(self) < 0)
        return NULL;
    PyObject *ix = PyDict_GetItemWithError(self->info->index, name);
    if (!ix)
        return PyErr_Occurred() ? NULL : PyErr_Format(PyExc_AttributeError, "no field %R", name);
    Py_ssize_t i = PyLong_AsSsize_t(ix);
    if (self->vals && self->state[i] != ST_NONE && self->vals[i] != Py_None)
        return PyLong_FromLong(BK_PRESENT);
    bk_presence p = BK_PRESENT;
    bk_error *e = NULL;
    if (bk_record_get_presence(&p, self->rec, self->info->f[i].cname, &e) != BK_OK)
        return pybk_raise(e);
    return PyLong_FromLong(p);
}

static PyObject *ModelBase_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b))
        Py_RETURN_NOTIMPLEMENTED;
    if (a == b)
        return PyBool_FromLong(op == Py_EQ);
    PyObject *x = encode_bytes((ModelBase *)a, 0);
    PyObject *y = x ? encode_bytes((ModelBase *)b, 0) : NULL;
    PyObject *res = y ? PyObject_RichCompare(x, y, op) : NULL;
    Py_XDECREF(x);
    Py_XDECREF(y);
    return res;
}

static PyObject *ModelBase_get_info(ModelBase *self, void *c)
{
    (void)c;
    return Py_NewRef(self->info ? (PyObject *)self->info : Py_None);
}

static PyMethodDef ModelBase_methods[] = {
    { "_bk_from_json", (PyCFunction)(void (*)(void))ModelBase_from_json,
      METH_VARARGS | METH_KEYWORDS | METH_CLASS,
      "_bk_from_json(data, skip_validation=False, max_errors=0, locations=True): decode a "
      "new instance (the C decoder, every problem reported)" },
    { "_bk_from_value", (PyCFunction)(void (*)(void))ModelBase_from_value,
      METH_VARARGS | METH_KEYWORDS | METH_CLASS,
      "_bk_from_value(value, skip_validation=True): a new instance from JSON-shaped values" },
    { "_bk_load", (PyCFunction)(void (*)(void))ModelBase_load, METH_VARARGS | METH_KEYWORDS,
      "_bk_load(data, skip_validation=False, max_errors=0, locations=True): decode into self" },
    { "_bk_to_json", (PyCFunction)(void (*)(void))ModelBase_to_json, METH_VARARGS | METH_KEYWORDS,
      "_bk_to_json(indent=0) -> bytes" },
    { "_bk_sync", (PyCFunction)ModelBase_sync, METH_NOARGS,
      "write values changed in place back into the record" },
    { "_bk_validate", (PyCFunction)(void (*)(void))ModelBase_validate,
      METH_VARARGS | METH_KEYWORDS, "_bk_validate(max_errors=0): bk_validate the record" },
    { "_bk_to_value", (PyCFunction)ModelBase_to_value, METH_NOARGS,
      "the record as JSON-shaped Python values (bk_json_to_value)" },
    { "_bk_presence", (PyCFunction)ModelBase_presence, METH_O,
      "_bk_presence(name) -> 0 (absent), 1 (null) or 2 (present)" },
    { NULL, NULL, 0, NULL },
};

static PyGetSetDef ModelBase_getset[] = {
    { "_bk_info", (getter)ModelBase_get_info, NULL, "the instance's ModelInfo", NULL },
    { NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject ModelBase_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "backend._backend.ModelBase",
    .tp_basicsize = sizeof(ModelBase),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Base of backend.Model: an instance owns one bk_record.",
    .tp_new = ModelBase_new,
    .tp_dealloc = (destructor)ModelBase_dealloc,
    .tp_traverse = (traverseproc)ModelBase_traverse,
    .tp_clear = (inquiry)ModelBase_clear,
    .tp_richcompare = ModelBase_richcompare,
    .tp_hash = PyObject_HashNotImplemented,
    .tp_methods = ModelBase_methods,
    .tp_getset = ModelBase_getset,
};

/* ---- Field: the data descriptor of each declared field ----------------------------- */

typedef struct FieldDesc {
    PyObject_HEAD
    PyObject *name;
    PyObject *dict;
    ModelInfo *cached_info;   /* the info cached_index was found in */
    Py_ssize_t cached_index;
} FieldDesc;

static PyTypeObject FieldDesc_Type;

static int FieldDesc_init(FieldDesc *self, PyObject *args, PyObject *kw)
{
    PyObject *name;
    static char *kwlist[] = { "name", NULL };
    if (!PyArg_ParseTupleAndKeywords(args, kw, "U:Field", kwlist, &name))
        return -1;
    Py_XSETREF(self->name, Py_NewRef(name));
    Py_CLEAR(self->cached_info);
    return 0;
}

static int FieldDesc_traverse(FieldDesc *self, visitproc visit, void *arg)
{
    Py_VISIT(self->name);
    Py_VISIT(self->dict);
    Py_VISIT(self->cached_info);
    return 0;
}

static int FieldDesc_clear(FieldDesc *self)
{
    Py_CLEAR(self->name);
    Py_CLEAR(self->dict);
    Py_CLEAR(self->cached_info);
    return 0;
}

static void FieldDesc_dealloc(FieldDesc *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    FieldDesc_clear(self);
    tp->tp_free((PyObject *)self);
}

static Py_ssize_t desc_index(FieldDesc *self, ModelBase *inst)
{
    if (self->cached_info == inst->info)
        return self->cached_index;
    if (!inst->info || !self->name) {
        PyErr_SetString(PyExc_RuntimeError, "uninitialised model instance or field");
        return -1;
    }
    PyObject *ix = PyDict_GetItemWithError(inst->info->index, self->name);
    if (!ix) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_AttributeError, "%.100s has no field %U", Py_TYPE(inst)->tp_name,
                self->name);
        return -1;
    }
    Py_ssize_t i = PyLong_AsSsize_t(ix);
    Py_XSETREF(self->cached_info, (ModelInfo *)Py_NewRef(inst->info));
    self->cached_index = i;
    return i;
}

static PyObject *FieldDesc_get(FieldDesc *self, PyObject *inst, PyObject *owner)
{
    (void)owner;
    if (!inst || inst == Py_None)
        return Py_NewRef(self);
    if (!PyObject_TypeCheck(inst, &ModelBase_Type))
        return PyErr_Format(PyExc_TypeError, "a backend.Model field on a %.100s",
            Py_TYPE(inst)->tp_name);
    Py_ssize_t i = desc_index(self, (ModelBase *)inst);
    return i < 0 ? NULL : get_field((ModelBase *)inst, i);
}

static int FieldDesc_set(FieldDesc *self, PyObject *inst, PyObject *value)
{
    if (!PyObject_TypeCheck(inst, &ModelBase_Type)) {
        PyErr_Format(PyExc_TypeError, "a backend.Model field on a %.100s", Py_TYPE(inst)->tp_name);
        return -1;
    }
    Py_ssize_t i = desc_index(self, (ModelBase *)inst);
    return i < 0 ? -1 : set_field((ModelBase *)inst, i, value);
}

static PyMemberDef FieldDesc_members[] = {
    { "name", T_OBJECT, offsetof(FieldDesc, name), READONLY, "the declared field name" },
    { NULL, 0, 0, 0, NULL },
};

static PyTypeObject FieldDesc_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "backend._backend.Field",
    .tp_basicsize = sizeof(FieldDesc),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Field(name): the descriptor of a declared field of a backend.Model class.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)FieldDesc_init,
    .tp_dealloc = (destructor)FieldDesc_dealloc,
    .tp_traverse = (traverseproc)FieldDesc_traverse,
    .tp_clear = (inquiry)FieldDesc_clear,
    .tp_descr_get = (descrgetfunc)FieldDesc_get,
    .tp_descr_set = (descrsetfunc)FieldDesc_set,
    .tp_members = FieldDesc_members,
    .tp_dictoffset = offsetof(FieldDesc, dict),
};

/* ---- lists ----------------------------------------------------------------------------- */

/* The end of the JSON value at p (framing only, as lib/json_stream.c frames
 * array elements): its length, or 0 when it does not end. */
static size_t frame_value(const char *p, size_t avail)
{
    size_t i = 0, depth = 0;
    bool in_str = false;
    if (avail == 0)
        return 0;
    char c0 = p[0];
    if (c0 != '{' && c0 != '[' && c0 != '"') {
        while (i < avail && p[i] != ',' && p[i] != ']' && p[i] != '}' && p[i] != ' ' &&
               p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
            i++;
        return i;
    }
    for (; i < avail; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            if (!in_str && depth == 0)
                return i + 1;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return 0;
            if (--depth == 0)
                return i + 1;
        }
    }
    return 0;
}

static size_t skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
        i++;
    return i;
}

/* Where element k of the array in p starts (or SIZE_MAX). Used only to
 * place problems of failed elements in the whole document. */
static size_t element_start(const char *p, size_t n, long long k)
{
    size_t i = skip_ws(p, n, 0);
    if (i >= n || p[i] != '[')
        return SIZE_MAX;
    i++;
    for (long long e = 0;; e++) {
        i = skip_ws(p, n, i);
        if (i >= n || p[i] == ']')
            return SIZE_MAX;
        if (e == k)
            return i;
        size_t len = frame_value(p + i, n - i);
        if (!len)
            return SIZE_MAX;
        i = skip_ws(p, n, i + len);
        if (i >= n || p[i] != ',')
            return SIZE_MAX;
        i++;
    }
}

typedef struct elem_error {
    bk_error *err;
    long long index;        /* element index, or -1 for the array itself */
} elem_error;

/* Build and raise one exception from the problems of several elements. */
static PyObject *raise_list_errors(elem_error *errs, size_t nerr, const char *doc, size_t len,
    size_t max_errors, bool stopped)
{
    if (pyvalid_pending_raise())     /* a Python validator raised: that wins */
        return NULL;
    PyObject *problems = PyList_New(0);
    if (!problems)
        return NULL;
    size_t pick = 0;   /* the error whose status the whole takes */
    for (size_t k = 0; k < nerr; k++) {
        if (bk_error_code(errs[k].err) != BK_EVALIDATION) {
            pick = k;
            break;
        }
    }
    bool truncated = stopped;
    for (size_t k = 0; k < nerr; k++) {
        const bk_error *e = errs[k].err;
        char prefix[48];
        problem_ctx ctx = { NULL, LOC_KEEP, doc, len, 0 };
        if (errs[k].index >= 0) {
            snprintf(prefix, sizeof(prefix), "$[%lld]", errs[k].index);
            ctx.prefix = prefix;
            size_t base = element_start(doc, len, errs[k].index);
            if (base != SIZE_MAX) {
                ctx.loc = LOC_REBASE;
                ctx.base = base;
            }
        }
        if (bk_error_truncated(e))
            truncated = true;
        for (size_t i = 0; i < bk_error_count(e); i++) {
            if ((size_t)PyList_GET_SIZE(problems) >= max_errors) {
                truncated = true;
                break;
            }
            if (append_problem(problems, e, i, &ctx) < 0) {
                Py_DECREF(problems);
                return NULL;
            }
        }
    }
    const bk_error *pe = errs[pick].err;
    PyObject *message = PyList_GET_SIZE(problems) ? summary_of(problems, truncated)
                                                  : str_of(bk_error_message(pe));
    PyObject *res = NULL;
    if (message)
        res = raise_with((int)bk_error_code(pe), message, problems, bk_error_http_status(pe),
            bk_error_public_code(pe), truncated, errs[pick].index, NULL);
    Py_XDECREF(message);
    Py_DECREF(problems);
    return res;
}

/* decode_list(cls, data, skip_validation=False, max_errors=0) -> list of
 * instances of cls, one per element of the JSON array in data. */
static PyObject *py_decode_list(PyObject *mod, PyObject *args, PyObject *kw)
{
    (void)mod;
    PyObject *cls, *data;
    int skip = 0;
    Py_ssize_t max_errors = 0;
    static char *kwlist[] = { "cls", "data", "skip_validation", "max_errors", NULL };
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|pn:decode_list", kwlist, &cls, &data, &skip,
            &max_errors))
        return NULL;
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &ModelBase_Type))
        return PyErr_Format(PyExc_TypeError, "decode_list: cls must be a backend.Model class");
    bk_decode_options opts;
    if (parse_decode_opts(&opts, skip, max_errors) < 0)
        return NULL;
    ModelInfo *info = info_of((PyTypeObject *)cls);
    if (!info)
        return NULL;
    Py_buffer view;
    if (PyUnicode_Check(data)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(data, &n);
        if (!s || PyBuffer_FillInfo(&view, data, (void *)s, n, 1, PyBUF_SIMPLE) < 0) {
            Py_DECREF(info);
            return NULL;
        }
    } else if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(info);
        return NULL;
    }
    const char *doc = view.buf;
    size_t len = (size_t)view.len;
    bk_json_stream *s = NULL;
    bk_error *e = NULL;
    if (bk_json_stream_new_buffer(&s, info->model, doc, len, BK_STREAM_ARRAY, &opts, &e) != BK_OK) {
        PyBuffer_Release(&view);
        Py_DECREF(info);
        return pybk_raise(e);
    }
    bk_record **recs = NULL;
    size_t n = 0, cap = 0, nerr = 0, cerr = 0, nproblems = 0;
    elem_error *errs = NULL;
    bool oom = false, stopped = false;
    bk_record *spare = NULL;
    bk_status fatal = BK_OK;
    Py_BEGIN_ALLOW_THREADS
    for (;;) {
        if (!spare && bk_record_new(&spare, info->model, NULL) != BK_OK) {
            oom = true;
            break;
        }
        long long before = bk_json_stream_index(s);
        bk_error *ee = NULL;
        bk_status st = bk_json_stream_next(s, bk_record_data(spare), &ee);
        if (st == BK_ITEROVER)
            break;
        if (st == BK_OK) {
            if (nerr)               /* already failing: only problems matter now */
                continue;
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 1024;
                bk_record **nr = realloc(recs, nc * sizeof(*nr));
                if (!nr) {
                    oom = true;
                    break;
                }
                recs = nr;
                cap = nc;
            }
            recs[n++] = spare;
            spare = NULL;
            continue;
        }
        if (st == BK_ENOMEM || st == BK_EIO || !ee) {
            fatal = st;
            bk_error_free(ee);
            break;
        }
        if (nerr == cerr) {
            size_t nc = cerr ? cerr * 2 : 8;
            elem_error *ne = realloc(errs, nc * sizeof(*ne));
            if (!ne) {
                bk_error_free(ee);
                oom = true;
                break;
            }
            errs = ne;
            cerr = nc;
        }
        long long after = bk_json_stream_index(s);
        errs[nerr].err = ee;
        errs[nerr].index = after != before ? after : -1;   /* -1: the array's framing */
        nerr++;
        nproblems += bk_error_count(ee) ? bk_error_count(ee) : 1;
        if (nproblems >= opts.max_errors) {
            stopped = bk_json_stream_next(s, bk_record_data(spare), NULL) != BK_ITEROVER;
            break;
        }
    }
    Py_END_ALLOW_THREADS
    bk_record_free(spare);
    bk_json_stream_free(s);
    PyObject *res = NULL;
    if (oom || fatal != BK_OK) {
        if (oom)
            PyErr_NoMemory();
        else
            pybk_raise_status(fatal, "decoding the list failed");
    } else if (nerr) {
        raise_list_errors(errs, nerr, doc, len, opts.max_errors, stopped);
    } else {
        res = PyList_New((Py_ssize_t)n);
        for (size_t i = 0; res && i < n; i++) {
            ModelBase *o = wrap_record((PyTypeObject *)cls, info, recs[i]);
            recs[i] = NULL;
            if (!o) {
                Py_CLEAR(res);
                break;
            }
            PyList_SET_ITEM(res, (Py_ssize_t)i, (PyObject *)o);
        }
    }
    for (size_t i = 0; i < n; i++)
        bk_record_free(recs[i]);
    free(recs);
    for (size_t k = 0; k < nerr; k++)
        bk_error_free(errs[k].err);
    free(errs);
    PyBuffer_Release(&view);
    Py_DECREF(info);
    return res;
}

/* encode_list(items) -> bytes: the JSON array of the instances' records
 * (compact), encoded with the GIL released. */
static PyObject *py_encode_list(PyObject *mod, PyObject *items)
{
    (void)mod;
    PyObject *seq = PySequence_Fast(items, "encode_list: a sequence of backend.Model instances");
    if (!seq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    ModelBase **objs = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(*objs));
    if (!objs) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    Py_ssize_t k = 0;
    for (; k < n; k++) {
        PyObject *o = PySequence_Fast_GET_ITEM(seq, k);
        if (!PyObject_TypeCheck(o, &ModelBase_Type)) {
            PyErr_Format(PyExc_TypeError, "encode_list: item %zd is a %.100s, not a "
                "backend.Model instance", k, Py_TYPE(o)->tp_name);
            break;
        }
        if (sync_values((ModelBase *)o) < 0)
            break;
        objs[k] = (ModelBase *)Py_NewRef(o);
        objs[k]->busy++;
    }
    PyObject *res = NULL;
    if (k == n) {
        /* Encode the records back to back (bk_json_encode_buf appends),
         * remembering where each ends, then lay them out with '[' ',' ']'
         * in the bytes object: the copy into it is needed anyway. */
        bk_buf b = BK_BUF_INIT;
        bk_error *e = NULL;
        bk_status st = BK_OK;
        size_t *ends = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(size_t));
        if (!ends) {
            PyErr_NoMemory();
        } else {
            Py_BEGIN_ALLOW_THREADS
            for (Py_ssize_t i = 0; i < n; i++) {
                st = bk_json_encode_buf(&b, objs[i]->info->model, bk_record_data(objs[i]->rec),
                    NULL, &e);
                if (st != BK_OK)
                    break;
                ends[i] = b.len;
            }
            Py_END_ALLOW_THREADS
            if (st != BK_OK) {
                pybk_raise(e);
            } else {
                size_t total = b.len + 2 + (n > 1 ? (size_t)n - 1 : 0);
                res = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
                if (res) {
                    char *out = PyBytes_AS_STRING(res);
                    const char *src = b.ptr;
                    Py_BEGIN_ALLOW_THREADS
                    size_t at = 0, from = 0;
                    out[at++] = '[';
                    for (Py_ssize_t i = 0; i < n; i++) {
                        if (i)
                            out[at++] = ',';
                        memcpy(out + at, src + from, ends[i] - from);
                        at += ends[i] - from;
                        from = ends[i];
                    }
                    out[at++] = ']';
                    Py_END_ALLOW_THREADS
                }
            }
            PyMem_Free(ends);
        }
        bk_buf_dispose(&b);
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        objs[i]->busy--;
        Py_DECREF(objs[i]);
    }
    PyMem_Free(objs);
    Py_DECREF(seq);
    return res;
}

/* ---- records lent to the storage half (src/pystore.c) --------------------------------- */

int pybk_is_instance(PyObject *o)
{
    return PyObject_TypeCheck(o, &ModelBase_Type);
}

/* Lend the record of instance o to a C call made without the GIL: values
 * changed in place are written back first, and the instance refuses writes
 * (busy) until pybk_instance_return(). With create, an instance made by
 * cls.__new__ (no record yet) gets an empty record of its model. NULL +
 * exception when o is not an instance, is busy, or has no record. */
bk_record *pybk_instance_lend(PyObject *o, int create)
{
    if (!pybk_is_instance(o)) {
        PyErr_Format(PyExc_TypeError, "a backend.Model instance is required, not %.100s",
            Py_TYPE(o)->tp_name);
        return NULL;
    }
    ModelBase *self = (ModelBase *)o;
    if (!self->rec && create && self->info) {
        bk_error *e = NULL;
        if (bk_record_new(&self->rec, self->info->model, &e) != BK_OK) {
            pybk_raise(e);
            return NULL;
        }
    }
    if (not_busy(self) < 0 || sync_values(self) < 0)
        return NULL;
    self->busy++;
    return self->rec;
}

/* End a loan. changed: 0 the call only read the record; 1 it wrote some
 * scalar fields (a generated key, a row version): cached values other than
 * live ones are forgotten (live ones were written back before the call,
 * which does not change them); 2 the record was replaced as a whole. */
void pybk_instance_return(PyObject *o, int changed)
{
    ModelBase *self = (ModelBase *)o;
    self->busy--;
    if (!changed)
        return;
    drop_enc(self);
    if (changed == 2 || !self->vals) {
        drop_cache(self);
        return;
    }
    for (Py_ssize_t i = 0; i < self->info->n; i++) {
        if (self->state[i] != ST_LIVE) {
            Py_CLEAR(self->vals[i]);
            self->state[i] = ST_NONE;
        }
    }
}

/* json_roundtrip(obj): Python -> jansson -> Python (tests the converters). */
static PyObject *py_json_roundtrip(PyObject *mod, PyObject *o)
{
    (void)mod;
    json_t *j = pybk_py_to_json(o);
    if (!j)
        return NULL;
    PyObject *r = pybk_json_to_py(j);
    json_decref(j);
    return r;
}

static PyMethodDef pybk_functions[] = {
    { "set_error_factory", py_set_error_factory, METH_O,
      "set_error_factory(fn): fn(status, message, problems, http_status, public_code, "
      "truncated, record_index, handle) builds the exception raised for a failure" },
    { "decode_list", (PyCFunction)(void (*)(void))py_decode_list, METH_VARARGS | METH_KEYWORDS,
      "decode_list(cls, data, skip_validation=False, max_errors=0) -> list of cls instances "
      "(the JSON array decoded by the C record stream, GIL released)" },
    { "encode_list", py_encode_list, METH_O,
      "encode_list(items) -> bytes: the compact JSON array of the instances (GIL released)" },
    { "json_roundtrip", py_json_roundtrip, METH_O,
      "json_roundtrip(obj): obj converted to a jansson value and back (for tests)" },
    { NULL, NULL, 0, NULL },
};

int pybk_init(PyObject *module, const pybk_hooks *hooks)
{
    g_hooks = hooks;
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI)
        return -1;
    if (!g_info_name && !(g_info_name = PyUnicode_InternFromString("__bk_info__")))
        return -1;
    if (PyType_Ready(&ModelInfo_Type) < 0 || PyType_Ready(&ModelBase_Type) < 0 ||
        PyType_Ready(&FieldDesc_Type) < 0)
        return -1;
    if (PyModule_AddObjectRef(module, "ModelInfo", (PyObject *)&ModelInfo_Type) < 0 ||
        PyModule_AddObjectRef(module, "ModelBase", (PyObject *)&ModelBase_Type) < 0 ||
        PyModule_AddObjectRef(module, "Field", (PyObject *)&FieldDesc_Type) < 0)
        return -1;
    if (PyModule_AddFunctions(module, pybk_functions) < 0 || pyvalid_init(module, hooks) < 0)
        return -1;
    /* SWIG's builtin mode lists the public names in __all__ (its Python
     * proxy imports *): add ours. */
    PyObject *all = PyObject_GetAttrString(module, "__all__");
    if (!all) {
        PyErr_Clear();
        return 0;
    }
    static const char *const names[] = { "ModelInfo", "ModelBase", "Field", NULL };
    int rc = 0;
    for (size_t i = 0; rc == 0 && names[i]; i++) {
        PyObject *n = PyUnicode_FromString(names[i]);
        rc = n && PyList_Check(all) ? PyList_Append(all, n) : -1;
        Py_XDECREF(n);
    }
    for (const PyMethodDef *d = pybk_functions; rc == 0 && d->ml_name; d++) {
        PyObject *n = PyUnicode_FromString(d->ml_name);
        rc = n && PyList_Check(all) ? PyList_Append(all, n) : -1;
        Py_XDECREF(n);
    }
    Py_DECREF(all);
    return rc;
}
