/*
 * backend.i - SWIG 4 interface of the thin module backend._backend.
 *
 * One Python function per C function of the public API (storage excepted,
 * for now: see docs/python.md), with the same names and argument order, and
 * these conventions instead of C's out-parameters:
 *
 *  - `bk_error **err` is never passed: a failure raises the exception of its
 *    status (backend.Error and its subclasses, from one table built from the
 *    C status enum by the `backend` package; see pybk_raise()). A status
 *    returned without an error (functions with no `err` parameter) raises
 *    too; BK_ITEROVER raises StopIteration.
 *  - Outputs are return values: `bk_model **out` -> a model object (which
 *    owns one reference: bk_model_unref runs when it is collected),
 *    `char **out, size_t *len_out` -> str (bytes for encoded JSON), freed
 *    with bk_free; `json_t **out` -> Python values; typed getters return
 *    the value.
 *  - Handles (bk_model, bk_record, bk_builder, bk_error, bk_json_stream,
 *    bk_buf) are Python objects whose destructor frees them, so the C
 *    free/unref functions are not exposed (no double free is possible).
 *  - Struct storage (`void *out` / `const void *obj`) is a bk_record whose
 *    model must be the model argument.
 *  - Input buffers (`const char *buf, size_t len`) take bytes, bytearray,
 *    memoryview or str (UTF-8).
 *  - Calls that can take long (decode, encode, documents, schemas,
 *    validation) release the GIL; no call here calls back into Python.
 *
 * The hand-written half (src/pybk.c) adds the fast model instances behind
 * backend.Model and is initialised from %init below.
 */
%module(package="backend", docstring="Thin SWIG binding of libbackend's C API (see the backend package).") _backend

%{
#define SWIG_FILE_WITH_INIT
#include "pybk.h"

/* Borrowed streams' buffers: stream pointer -> the Python object whose
 * bytes it reads (kept alive until the stream is freed). */
static PyObject *g_stream_bufs;

/* Raise backend.MisuseError (the GIL is held) and return its status. */
static bk_status pybk__misuse(const char *msg)
{
    pybk_raise_status(BK_EMISUSE, msg);
    return BK_EMISUSE;
}

/* Storage arguments are records of the model given with them. */
static bk_status pybk__check_rec(const bk_record *rec, const bk_model *model)
{
    if (!rec || !model)
        return pybk__misuse("a record and a model are required");
    if (bk_record_model(rec) != model)
        return pybk__misuse("the record belongs to another model");
    return BK_OK;
}
%}

/* ---- common typemaps ----------------------------------------------------------- */

%include <stdint.i>

%nothread;   /* the GIL is released only where %thread says so */

/* bk_error **err: hidden; a failure raises. */
%typemap(in, numinputs=0) bk_error **err (bk_error *temp = NULL) { $1 = &temp; }
%typemap(argout) bk_error **err {
  if (*$1) {
    Py_XDECREF($result);
    pybk_raise(*$1);
    *$1 = NULL;
    SWIG_fail;
  }
}
%typemap(freearg) bk_error **err { if (*$1) bk_error_free(*$1); }

/* bk_status results: None on success, an exception otherwise. */
%typemap(out) bk_status { $result = SWIG_Py_Void(); }
%typemap(ret) bk_status {
  if ($1 != BK_OK) {
    Py_XDECREF($result);
    if (!PyErr_Occurred()) {
      if ($1 == BK_ITEROVER)
        PyErr_SetNone(PyExc_StopIteration);
      else
        pybk_raise_status($1, NULL);
    }
    return NULL;
  }
}

/* ... except where the status is the data: bk_error_code returns it. */
%typemap(out) bk_status bk_error_code { $result = PyLong_FromLong((long)$1); }
%typemap(ret) bk_status bk_error_code "";

/* Handles returned through an out-parameter (owned by the new object). */
%define BK_OUT_HANDLE(TYPE)
%typemap(in, numinputs=0) TYPE **out (TYPE *temp = NULL) { $1 = &temp; }
%typemap(argout) TYPE **out {
  if (*$1)
    $result = SWIG_Python_AppendOutput($result,
        SWIG_NewPointerObj(SWIG_as_voidptr(*$1), $*1_descriptor, SWIG_POINTER_OWN));
}
%enddef
BK_OUT_HANDLE(bk_model)
BK_OUT_HANDLE(bk_record)
BK_OUT_HANDLE(bk_builder)
BK_OUT_HANDLE(bk_json_stream)

/* char **out (+ size_t *len_out): text to free with bk_free. */
%typemap(in, numinputs=0) char **out (char *temp = NULL) { $1 = &temp; }
%typemap(argout) char **out {
  if (*$1) {
    PyObject *s_ = PyUnicode_DecodeUTF8(*$1, (Py_ssize_t)strlen(*$1), "strict");
    bk_free(*$1);
    *$1 = NULL;
    if (!s_) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, s_);
  }
}
%typemap(freearg) char **out { bk_free(*$1); }
%typemap(in, numinputs=0) (char **out_text, size_t *len_out) (char *temp = NULL, size_t tlen = 0) {
  $1 = &temp; $2 = &tlen;
}
%typemap(argout) (char **out_text, size_t *len_out) {
  if (*$1) {
    PyObject *s_ = PyUnicode_DecodeUTF8(*$1, (Py_ssize_t)*$2, "strict");
    bk_free(*$1);
    *$1 = NULL;
    if (!s_) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, s_);
  }
}
%typemap(freearg) (char **out_text, size_t *len_out) { bk_free(*$1); }
/* Encoded JSON as bytes. */
%typemap(in, numinputs=0) (char **out_bytes, size_t *len_out) (char *temp = NULL, size_t tlen = 0) {
  $1 = &temp; $2 = &tlen;
}
%typemap(argout) (char **out_bytes, size_t *len_out) {
  if (*$1) {
    PyObject *s_ = PyBytes_FromStringAndSize(*$1, (Py_ssize_t)*$2);
    bk_free(*$1);
    *$1 = NULL;
    if (!s_) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, s_);
  }
}
%typemap(freearg) (char **out_bytes, size_t *len_out) { bk_free(*$1); }
%apply (char **out_text, size_t *len_out) { (char **out, size_t *len_out) };

/* json_t **out: Python values (the reference is dropped). */
%typemap(in, numinputs=0) json_t **out (json_t *temp = NULL) { $1 = &temp; }
%typemap(argout) json_t **out {
  if (*$1) {
    PyObject *v_ = pybk_json_to_py(*$1);
    json_decref(*$1);
    *$1 = NULL;
    if (!v_) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, v_);
  }
}
%typemap(freearg) json_t **out { json_decref(*$1); }
/* const json_t *value: from Python values. */
%typemap(in) const json_t *value { $1 = pybk_py_to_json($input); if (!$1) SWIG_fail; }
%typemap(freearg) const json_t *value { json_decref((json_t *)$1); }

/* Input bytes: bytes, bytearray, memoryview or str. */
%typemap(in) (const char *buf, size_t len) (Py_buffer view, int have_view = 0) {
  if (PyUnicode_Check($input)) {
    Py_ssize_t n_;
    const char *s_ = PyUnicode_AsUTF8AndSize($input, &n_);
    if (!s_) SWIG_fail;
    $1 = ($1_ltype)s_;
    $2 = (size_t)n_;
  } else {
    if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) < 0) SWIG_fail;
    have_view = 1;
    $1 = ($1_ltype)view.buf;
    $2 = (size_t)view.len;
  }
}
%typemap(freearg) (const char *buf, size_t len) { if (have_view$argnum) PyBuffer_Release(&view$argnum); }
%typemap(typecheck) (const char *buf, size_t len) { $1 = PyUnicode_Check($input) || PyObject_CheckBuffer($input); }
%apply (const char *buf, size_t len) { (const char *doc, size_t len) };
%apply (const char *buf, size_t len) { (const unsigned char *data, size_t len) };

/* Typed getters' outputs. */
%typemap(in, numinputs=0) bool *out (bool temp = false) { $1 = &temp; }
%typemap(argout) bool *out { $result = SWIG_Python_AppendOutput($result, PyBool_FromLong(*$1)); }
%typemap(in, numinputs=0) int64_t *out (int64_t temp = 0) { $1 = &temp; }
%typemap(argout) int64_t *out { $result = SWIG_Python_AppendOutput($result, PyLong_FromLongLong(*$1)); }
%typemap(in, numinputs=0) uint64_t *out (uint64_t temp = 0) { $1 = &temp; }
%typemap(argout) uint64_t *out { $result = SWIG_Python_AppendOutput($result, PyLong_FromUnsignedLongLong(*$1)); }
%typemap(in, numinputs=0) double *out (double temp = 0) { $1 = &temp; }
%typemap(argout) double *out { $result = SWIG_Python_AppendOutput($result, PyFloat_FromDouble(*$1)); }
%typemap(in, numinputs=0) const char **out (const char *temp = NULL) { $1 = ($1_ltype)&temp; }
%typemap(freearg) const char **out "";   /* borrowed from the record */
%typemap(argout) const char **out {
  if (*$1) {
    PyObject *s_ = PyUnicode_DecodeUTF8(*$1, (Py_ssize_t)strlen(*$1), "strict");
    if (!s_) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, s_);
  }
}
%typemap(in, numinputs=0) (const unsigned char **out, size_t *len_out) (const unsigned char *temp = NULL, size_t tlen = 0) {
  $1 = ($1_ltype)&temp; $2 = &tlen;
}
%typemap(argout) (const unsigned char **out, size_t *len_out) {
  if (result == BK_OK) {
    PyObject *b_ = PyBytes_FromStringAndSize((const char *)(*$1 ? *$1 : (const unsigned char *)""), (Py_ssize_t)*$2);
    if (!b_) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, b_);
  }
}
%typemap(in, numinputs=0) bk_presence *out (bk_presence temp = 0) { $1 = &temp; }
%typemap(argout) bk_presence *out { $result = SWIG_Python_AppendOutput($result, PyLong_FromLong(*$1)); }
%typemap(in) bk_presence { long v_ = PyLong_AsLong($input); if (v_ == -1 && PyErr_Occurred()) SWIG_fail; $1 = (bk_presence)v_; }
%typemap(typecheck) bk_presence = int;
%typemap(in, numinputs=0) size_t *OUT (size_t temp = 0) { $1 = &temp; }
%typemap(argout) size_t *OUT { $result = SWIG_Python_AppendOutput($result, PyLong_FromSize_t(*$1)); }

/* Sequences. */
%typemap(in) (bk_model *const *models, size_t n) (bk_model **arr = NULL) {
  PyObject *seq_ = PySequence_Fast($input, "a sequence of models");
  if (!seq_) SWIG_fail;
  Py_ssize_t n_ = PySequence_Fast_GET_SIZE(seq_);
  arr = calloc((size_t)(n_ ? n_ : 1), sizeof(*arr));
  if (!arr) { Py_DECREF(seq_); PyErr_NoMemory(); SWIG_fail; }
  for (Py_ssize_t i_ = 0; i_ < n_; i_++) {
    void *p_ = NULL;
    if (!SWIG_IsOK(SWIG_ConvertPtr(PySequence_Fast_GET_ITEM(seq_, i_), &p_, SWIGTYPE_p_bk_model, 0)) || !p_) {
      Py_DECREF(seq_);
      PyErr_Format(PyExc_TypeError, "item %zd is not a model", i_);
      SWIG_fail;
    }
    arr[i_] = p_;
  }
  Py_DECREF(seq_);
  $1 = arr;
  $2 = (size_t)n_;
}
%typemap(freearg) (bk_model *const *models, size_t n) { free(arr$argnum); }
%typemap(in) (const char *const *names, size_t n) (const char **arr = NULL, PyObject *seq = NULL) {
  seq = PySequence_Fast($input, "a sequence of str");
  if (!seq) SWIG_fail;
  Py_ssize_t n_ = PySequence_Fast_GET_SIZE(seq);
  arr = calloc((size_t)(n_ ? n_ : 1), sizeof(*arr));
  if (!arr) { PyErr_NoMemory(); SWIG_fail; }
  for (Py_ssize_t i_ = 0; i_ < n_; i_++) {
    arr[i_] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i_));
    if (!arr[i_]) SWIG_fail;
  }
  $1 = ($1_ltype)arr;
  $2 = (size_t)n_;
}
%typemap(freearg) (const char *const *names, size_t n) { free(arr$argnum); Py_XDECREF(seq$argnum); }

/* A borrowed model returned by value (bk_record_model): a new reference. */
%typemap(out) const bk_model * {
  $result = $1 ? SWIG_NewPointerObj(SWIG_as_voidptr(bk_model_ref((bk_model *)$1)), SWIGTYPE_p_bk_model, SWIG_POINTER_OWN)
               : SWIG_Py_Void();
}

/* ---- handles: opaque, freed by their destructor ------------------------------------ */

%nodefaultctor bk_model;
%nodefaultctor bk_record;
%nodefaultctor bk_builder;
%nodefaultctor bk_error;
%nodefaultctor bk_json_stream;
%nodefaultctor bk_report;
struct bk_model {};
struct bk_record {};
struct bk_builder {};
struct bk_error {};
struct bk_json_stream {};
struct bk_report {};
%extend bk_model { ~bk_model() { bk_model_unref($self); } }
%extend bk_record { ~bk_record() { bk_record_free($self); } }
%extend bk_builder { ~bk_builder() { bk_builder_free($self); } }
%extend bk_error { ~bk_error() { bk_error_free($self); } }
%extend bk_json_stream {
  ~bk_json_stream() {
    bk_json_stream_free($self);
    if (g_stream_bufs) {
      PyObject *k_ = PyLong_FromVoidPtr($self);
      if (k_ && PyDict_DelItem(g_stream_bufs, k_) < 0)
        PyErr_Clear();
      Py_XDECREF(k_);
    }
  }
}

/* bk_buf: a growable buffer the encoders append to. */
%feature("python:slot", "sq_length", functype="lenfunc") bk_buf::__len__;
%ignore bk_buf::ptr;
%ignore bk_buf::cap;
%immutable bk_buf::len;
%extend bk_buf {
  bk_buf() { return calloc(1, sizeof(bk_buf)); }
  ~bk_buf() { bk_buf_dispose($self); free($self); }
  PyObject *bytes() { return PyBytes_FromStringAndSize($self->ptr ? $self->ptr : "", (Py_ssize_t)$self->len); }
  size_t __len__() { return $self->len; }
}

/* ---- what is not exposed ------------------------------------------------------------
 * Freeing functions (the objects' destructors call them), raw memory
 * (bk_malloc, bk_free, bk_record_data), C function pointers and static C
 * descriptors (bk_set_allocator, bk_model_new with bk_model_def/bk_field:
 * Python builds models from documents or the builder), FILE * streams. */
%ignore bk_model_unref;
%ignore bk_record_free;
%ignore bk_builder_free;
%ignore bk_error_free;
%ignore bk_json_stream_free;
%ignore bk_malloc;
%ignore bk_free;
%ignore bk_set_allocator;
%ignore bk_record_data;
%ignore bk_model_new;
%ignore bk_json_stream_new_file;
%ignore bk_buf_detach;
%ignore bk_builder_field_validator;
%ignore bk_builder_model_validator;
/* bound by src/pyvalid.c with a Python resolver instead of bk_doc_options */
%ignore bk_model_from_doc_ex;
/* Functions on struct storage: replaced by record-checked versions below. */
%ignore bk_clear;
%ignore bk_json_decode;
%ignore bk_json_encode_buf;
%ignore bk_json_encode;
%ignore bk_json_to_value;
%ignore bk_json_from_value;
%ignore bk_json_stream_next;
%ignore bk_json_stream_new_buffer;
%ignore bk_validate;
%ignore bk_error_location;
/* Types that only C structs use. */
%ignore bk_bytes; %ignore bk_uuid; %ignore bk_bools; %ignore bk_i8s; %ignore bk_i16s;
%ignore bk_i32s; %ignore bk_i64s; %ignore bk_u8s; %ignore bk_u16s; %ignore bk_u32s;
%ignore bk_u64s; %ignore bk_f32s; %ignore bk_f64s; %ignore bk_strs; %ignore bk_bytes_list;
%ignore bk_uuids; %ignore bk_ints; %ignore bk_jsons; %ignore bk_list; %ignore bk_map;
%ignore bk_type_def; %ignore bk_check; %ignore bk_field; %ignore bk_model_def;
%ignore bk_variant; %ignore bk_union_def;
%ignore bk_http_options::status;

/* Long-running calls release the GIL (the record-checked versions below
 * release it themselves, after their checks). */
%thread bk_model_from_doc;
%thread bk_model_to_doc;
%thread bk_model_json_schema;
%thread bk_models_openapi;
%thread bk_record_decode;
%thread bk_record_encode;

/* ---- the headers ----------------------------------------------------------------- */

/* (SWIG does not evaluate the casts in the header's presence macros) */
%constant int BK_ABSENT = 0;
%constant int BK_NULL = 1;
%constant int BK_PRESENT = 2;
%include <backend/common.h>
%include <backend/error.h>
%include <backend/model.h>
%include <backend/json.h>
/* bk_record_encode gives bytes (the other char **out outputs are text). */
%apply (char **out_bytes, size_t *len_out) { (char **out, size_t *len_out) };
%include <backend/record.h>
%apply (char **out_text, size_t *len_out) { (char **out, size_t *len_out) };
%include <backend/validate.h>

/* bk_http_options.status[]: per status overrides. */
%extend bk_http_options {
  bk_http_options() {
    bk_http_options *o = calloc(1, sizeof(*o));
    if (o) bk_http_options_init(o);
    return o;
  }
  ~bk_http_options() { free($self); }
  void set_status(int status, int http) {
    if (status >= 0 && status < 32) $self->status[status] = http;
  }
  int get_status(int status) {
    return status >= 0 && status < 32 ? $self->status[status] : 0;
  }
}
%extend bk_decode_options {
  bk_decode_options() {
    bk_decode_options *o = calloc(1, sizeof(*o));
    if (o) bk_decode_options_init(o);
    return o;
  }
  ~bk_decode_options() { free($self); }
}
%extend bk_encode_options {
  bk_encode_options() {
    bk_encode_options *o = calloc(1, sizeof(*o));
    if (o) bk_encode_options_init(o);
    return o;
  }
  ~bk_encode_options() { free($self); }
}

/* ---- record-checked versions of the storage functions ------------------------------ */

%apply (char **out_bytes, size_t *len_out) { (char **out, size_t *len_out) };
%rename(bk_json_encode) pybk_json_encode;
%rename(bk_json_decode) pybk_json_decode;
%rename(bk_json_encode_buf) pybk_json_encode_buf;
%rename(bk_json_to_value) pybk_json_to_value;
%rename(bk_json_from_value) pybk_json_from_value;
%rename(bk_json_stream_next) pybk_json_stream_next;
%rename(bk_json_stream_new_buffer) pybk_json_stream_new_buffer;
%rename(bk_validate) pybk_validate;
%rename(bk_clear) pybk_clear;
%rename(bk_error_location) pybk_error_location;
%rename(bk_builder_field_validator) pybk_builder_field_validator;
%rename(bk_builder_model_validator) pybk_builder_model_validator;
%inline %{
/* bk_clear(model, rec): release what the record holds. */
void pybk_clear(const bk_model *model, bk_record *rec)
{
    if (pybk__check_rec(rec, model) == BK_OK)
        bk_clear(model, bk_record_data(rec));
    else
        PyErr_Clear();
}

bk_status pybk_json_decode(bk_record *rec, const bk_model *model, const char *buf, size_t len,
    const bk_decode_options *opts, bk_error **err)
{
    bk_status st = pybk__check_rec(rec, model);
    if (st != BK_OK)
        return st;
    bk_record_clear(rec);
    Py_BEGIN_ALLOW_THREADS
    st = bk_json_decode(bk_record_data(rec), model, buf, len, opts, err);
    Py_END_ALLOW_THREADS
    return st;
}

bk_status pybk_json_encode(char **out, size_t *len_out, const bk_model *model, bk_record *rec,
    const bk_encode_options *opts, bk_error **err)
{
    bk_status st = pybk__check_rec(rec, model);
    if (st != BK_OK)
        return st;
    Py_BEGIN_ALLOW_THREADS
    st = bk_json_encode(out, len_out, model, bk_record_data(rec), opts, err);
    Py_END_ALLOW_THREADS
    return st;
}

bk_status pybk_json_encode_buf(bk_buf *buf, const bk_model *model, bk_record *rec,
    const bk_encode_options *opts, bk_error **err)
{
    bk_status st = pybk__check_rec(rec, model);
    if (st != BK_OK)
        return st;
    Py_BEGIN_ALLOW_THREADS
    st = bk_json_encode_buf(buf, model, bk_record_data(rec), opts, err);
    Py_END_ALLOW_THREADS
    return st;
}

bk_status pybk_json_to_value(json_t **out, const bk_model *model, bk_record *rec, bk_error **err)
{
    bk_status st = pybk__check_rec(rec, model);
    return st != BK_OK ? st : bk_json_to_value(out, model, bk_record_data(rec), err);
}

bk_status pybk_json_from_value(bk_record *rec, const bk_model *model, const json_t *value,
    const bk_decode_options *opts, bk_error **err)
{
    bk_status st = pybk__check_rec(rec, model);
    if (st != BK_OK)
        return st;
    bk_record_clear(rec);
    return bk_json_from_value(bk_record_data(rec), model, value, opts, err);
}

bk_status pybk_validate(const bk_model *model, bk_record *rec, size_t max_errors, bk_error **err)
{
    bk_status st = pybk__check_rec(rec, model);
    if (st != BK_OK)
        return st;
    Py_BEGIN_ALLOW_THREADS
    st = bk_validate(model, bk_record_data(rec), max_errors, err);
    Py_END_ALLOW_THREADS
    return st;
}

/* The stream keeps the Python buffer object alive (not a copy). */
bk_status pybk_json_stream_new_buffer(bk_json_stream **out, const bk_model *model,
    PyObject *data, bk_stream_format format, const bk_decode_options *opts, bk_error **err)
{
    Py_buffer view;
    const char *p;
    size_t n;
    if (PyBytes_Check(data)) {
        p = PyBytes_AS_STRING(data);
        n = (size_t)PyBytes_GET_SIZE(data);
    } else if (PyUnicode_Check(data)) {
        Py_ssize_t sn;
        p = PyUnicode_AsUTF8AndSize(data, &sn);
        if (!p)
            return BK_EINVAL;
        n = (size_t)sn;
    } else {
        /* Other buffers may change: read a bytes copy. */
        if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
            return BK_EINVAL;
        PyObject *copy = PyBytes_FromStringAndSize(view.buf, view.len);
        PyBuffer_Release(&view);
        if (!copy)
            return BK_ENOMEM;
        bk_status st = pybk_json_stream_new_buffer(out, model, copy, format, opts, err);
        Py_DECREF(copy);
        return st;
    }
    if (!g_stream_bufs && !(g_stream_bufs = PyDict_New()))
        return BK_ENOMEM;
    bk_status st = bk_json_stream_new_buffer(out, model, p, n, format, opts, err);
    if (st == BK_OK) {
        PyObject *k = PyLong_FromVoidPtr(*out);
        if (!k || PyDict_SetItem(g_stream_bufs, k, data) < 0) {
            Py_XDECREF(k);
            bk_json_stream_free(*out);
            *out = NULL;
            return BK_ENOMEM;
        }
        Py_DECREF(k);
    }
    return st;
}

bk_status pybk_json_stream_next(bk_json_stream *s, bk_record *rec, bk_error **err)
{
    if (!s || !rec)
        return pybk__misuse("a stream and a record are required");
    bk_record_clear(rec);
    bk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bk_json_stream_next(s, bk_record_data(rec), err);
    Py_END_ALLOW_THREADS
    return st;
}

/* Validators are C functions: from Python only their names can be set
 * (the document attribute `validator`). */
bk_status pybk_builder_field_validator(bk_builder *b, const char *name, bk_error **err)
{
    return bk_builder_field_validator(b, NULL, NULL, name, err);
}

bk_status pybk_builder_model_validator(bk_builder *b, const char *name, bk_error **err)
{
    return bk_builder_model_validator(b, NULL, NULL, name, err);
}
%}
%apply (char **out_text, size_t *len_out) { (char **out, size_t *len_out) };

/* bk_error_location(err, i) -> [offset, line, column]. */
bk_status pybk_error_location(const bk_error *err, size_t i, size_t *OUT, size_t *OUT, size_t *OUT);

%{
bk_status pybk_error_location(const bk_error *err, size_t i, size_t *off, size_t *line, size_t *col)
{
    return bk_error_location(err, i, off, line, col);
}

/* Hooks for the hand-written half. */
static bk_model *pybk__model_from_py(PyObject *o)
{
    void *p = NULL;
    if (!SWIG_IsOK(SWIG_ConvertPtr(o, &p, SWIGTYPE_p_bk_model, 0)) || !p) {
        PyErr_SetString(PyExc_TypeError, "a _backend.bk_model is required");
        return NULL;
    }
    return (bk_model *)p;
}

static PyObject *pybk__model_to_py(bk_model *m)
{
    PyObject *self = NULL;   /* SWIG_NewPointerObj names it (builtin types) */
    return SWIG_NewPointerObj(SWIG_as_voidptr(m), SWIGTYPE_p_bk_model, SWIG_POINTER_OWN);
}

static PyObject *pybk__error_to_py(bk_error *e)
{
    PyObject *self = NULL;   /* SWIG_NewPointerObj names it (builtin types) */
    PyObject *o = SWIG_NewPointerObj(SWIG_as_voidptr(e), SWIGTYPE_p_bk_error, SWIG_POINTER_OWN);
    if (!o)
        bk_error_free(e);
    return o;
}

static const pybk_hooks pybk__hooks = { pybk__model_from_py, pybk__model_to_py, pybk__error_to_py };
%}

%init %{
  if (pybk_init(m, &pybk__hooks) < 0)
    return NULL;
%}

/* ---- storage (src/pystore.c) ----------------------------------------------------------
 * Stores, transactions, queries and cursors are handles of pystore.c
 * (_backend.bk_store, bk_query, bk_cursor) that know when they are closed
 * or ended: using one then raises MisuseError instead of touching freed
 * memory. The functions keep their C names and argument order, with these
 * differences: outputs are return values; `obj`/`out` take a bk_record of
 * the model or a backend.Model instance; keys are Python values of the key's
 * type (int, str, uuid.UUID / text / 16 bytes; timestamps and dates as
 * integers); migrations are a sequence of (version, name, sql) tuples (no
 * count); bk_store_update takes a sequence of field names or None;
 * bk_store_transact calls a Python callable fn(tx) (no payload), and an
 * exception fn raises is re-raised (a BusyError makes C retry). Every call
 * that may touch the database releases the GIL (pystore.c does it, and
 * transact's callback takes it back). Storage handles hold connections and
 * locks, so their release functions are bound too, idempotent:
 * bk_store_close (a transaction: rolled back), bk_query_free,
 * bk_cursor_free; the destructors do the same.
 */
%{
#include "pystore.h"

static bk_record *pystore__record_from_py(PyObject *o)
{
    void *p = NULL;
    if (!SWIG_IsOK(SWIG_ConvertPtr(o, &p, SWIGTYPE_p_bk_record, 0)))
        return NULL;
    return (bk_record *)p;
}

static const pystore_hooks pystore__hooks = { pybk__model_from_py, pystore__record_from_py };
%}

%ignore bk_store_open; %ignore bk_store_close; %ignore bk_store_register; %ignore bk_store_diff;
%ignore bk_store_migrate; %ignore bk_store_pending; %ignore bk_store_insert;
%ignore bk_store_insert_many; %ignore bk_store_get; %ignore bk_store_update;
%ignore bk_store_upsert; %ignore bk_store_delete; %ignore bk_store_begin; %ignore bk_store_commit;
%ignore bk_store_rollback; %ignore bk_store_transact; %ignore bk_query_new; %ignore bk_query_free;
%ignore bk_query_where; %ignore bk_query_where_i64; %ignore bk_query_where_f64;
%ignore bk_query_where_str; %ignore bk_query_where_bool; %ignore bk_query_group_begin;
%ignore bk_query_group_end; %ignore bk_query_order_by; %ignore bk_query_limit;
%ignore bk_query_offset; %ignore bk_query_after; %ignore bk_query_count; %ignore bk_query_run;
%ignore bk_cursor_next; %ignore bk_cursor_token; %ignore bk_cursor_free;
%ignore bk_migration; %ignore bk_tx_fn;
%include <backend/store.h>

%extend bk_store_options {
  bk_store_options() {
    bk_store_options *o = calloc(1, sizeof(*o));
    if (o) bk_store_options_init(o);
    return o;
  }
  ~bk_store_options() { free($self); }
}

/* New handles returned through an out-parameter. */
%typemap(in, numinputs=0) PyObject **OUT_HANDLE (PyObject *temp = NULL) { $1 = &temp; }
%typemap(argout) PyObject **OUT_HANDLE {
  if (*$1) {
    $result = SWIG_Python_AppendOutput($result, *$1);
    *$1 = NULL;
  }
}
%typemap(freearg) PyObject **OUT_HANDLE { Py_XDECREF(*$1); }

%rename(bk_store_open) pystore_open;
%rename(bk_store_close) pystore_close;
%rename(bk_store_register) pystore_register;
%rename(bk_store_diff) pystore_diff;
%rename(bk_store_migrate) pystore_migrate;
%rename(bk_store_pending) pystore_pending;
%rename(bk_store_insert) pystore_insert;
%rename(bk_store_insert_many) pystore_insert_many;
%rename(bk_store_get) pystore_get;
%rename(bk_store_update) pystore_update;
%rename(bk_store_upsert) pystore_upsert;
%rename(bk_store_delete) pystore_delete;
%rename(bk_store_begin) pystore_begin;
%rename(bk_store_commit) pystore_commit;
%rename(bk_store_rollback) pystore_rollback;
%rename(bk_store_transact) pystore_transact;
%rename(bk_query_new) pyquery_new;
%rename(bk_query_free) pyquery_free;
%rename(bk_query_where) pyquery_where;
%rename(bk_query_where_i64) pyquery_where_i64;
%rename(bk_query_where_f64) pyquery_where_f64;
%rename(bk_query_where_str) pyquery_where_str;
%rename(bk_query_where_bool) pyquery_where_bool;
%rename(bk_query_group_begin) pyquery_group_begin;
%rename(bk_query_group_end) pyquery_group_end;
%rename(bk_query_order_by) pyquery_order_by;
%rename(bk_query_limit) pyquery_limit;
%rename(bk_query_offset) pyquery_offset;
%rename(bk_query_after) pyquery_after;
%rename(bk_query_count) pyquery_count;
%rename(bk_query_run) pyquery_run;
%rename(bk_cursor_next) pycursor_next;
%rename(bk_cursor_token) pycursor_token;
%rename(bk_cursor_free) pycursor_free;

bk_status pystore_open(PyObject **OUT_HANDLE, const char *uri, const bk_store_options *opts,
    bk_error **err);
bk_status pystore_close(PyObject *store);
bk_status pystore_register(PyObject *store, bk_model *model, const char *table, bk_error **err);
bk_status pystore_diff(char **out, PyObject *store, const bk_model *model, const char *table,
    bk_error **err);
bk_status pystore_migrate(size_t *OUT, PyObject *store, PyObject *migrations, bk_error **err);
bk_status pystore_pending(size_t *OUT, PyObject *store, PyObject *migrations, bk_error **err);
bk_status pystore_insert(PyObject *store, const bk_model *model, PyObject *obj, bk_error **err);
bk_status pystore_insert_many(PyObject *store, const bk_model *model, PyObject *objs,
    bk_error **err);
bk_status pystore_get(PyObject *out, PyObject *store, const bk_model *model, PyObject *key,
    bk_error **err);
bk_status pystore_update(PyObject *store, const bk_model *model, PyObject *obj,
    PyObject *fields, bk_error **err);
bk_status pystore_upsert(PyObject *store, const bk_model *model, PyObject *obj, bk_error **err);
bk_status pystore_delete(PyObject *store, const bk_model *model, PyObject *key, bk_error **err);
bk_status pystore_begin(PyObject **OUT_HANDLE, PyObject *store, bk_error **err);
bk_status pystore_commit(PyObject *tx, bk_error **err);
bk_status pystore_rollback(PyObject *tx, bk_error **err);
bk_status pystore_transact(PyObject *store, PyObject *fn, int max_attempts, bk_error **err);
bk_status pyquery_new(PyObject **OUT_HANDLE, PyObject *store, PyObject *model, bk_error **err);
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
bk_status pyquery_run(PyObject **OUT_HANDLE, PyObject *q, bk_error **err);
bk_status pycursor_next(PyObject *c, PyObject *out, bk_error **err);
bk_status pycursor_token(char **out, PyObject *c, bk_error **err);
bk_status pycursor_free(PyObject *c);

%init %{
  if (pystore_init(m, &pystore__hooks) < 0)
    return NULL;
%}
