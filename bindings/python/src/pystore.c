/*
 * pystore.c - storage handles of backend._backend (see pystore.h).
 *
 * Three Python types hold the C handles:
 *
 *  - bk_store: a store (root) or a transaction on one (from bk_store_begin;
 *    nested ones are savepoints). A root counts the calls running on it
 *    (`users`, protected by the GIL: counted in before the GIL is released,
 *    out after it is taken back); close() refuses new calls at once and
 *    closes the C store when the last running call returns, so no call ever
 *    runs on a freed store. A transaction belongs to the thread that began
 *    it (as in C) and this is checked here, before C sees the pointer; once
 *    committed or rolled back its pointer is forgotten (the C handle is
 *    freed), and so are those of its nested transactions.
 *  - bk_query: keeps its store handle alive and is refused once that
 *    handle is closed or ended (a C query of a transaction must not run
 *    after the transaction).
 *  - bk_cursor: keeps its store handle alive; listed on it, so that ending
 *    a transaction or closing a store first frees its open cursors (C
 *    refuses to commit with open cursors); a freed cursor raises.
 *
 * Every call that may touch the database releases the GIL; the only one
 * that calls back into Python (bk_store_transact) takes it back in its
 * callback. The C library keeps the root store's memory alive while
 * queries, cursors and transactions of it exist (reference counts), which
 * is what makes closing a store with open cursors safe.
 */
#define PY_SSIZE_T_CLEAN
#include "pystore.h"
#include <pythread.h>
#include <string.h>

static const pystore_hooks *g_sh;

typedef struct StoreH StoreH;
typedef struct CursorH CursorH;

/*
 * C cursors and queries taken from their Python handles with the GIL, to
 * be freed without it: freeing a cursor finishes its statement, and a
 * PostgreSQL cursor freed before its end reads the rest of its result
 * (as long as the server takes to produce it). The arrays are raw memory
 * (no GIL needed); when one cannot grow, that handle is freed at once,
 * with the GIL.
 */
typedef struct freeing {
    void **cur;             /* bk_cursor * */
    size_t ncur, ccur;
    void **q;               /* bk_query * */
    size_t nq, cq;
} freeing;

#define FREEING_INIT { NULL, 0, 0, NULL, 0, 0 }

/* C cursors whose Python handle another thread dropped (a garbage
 * collection there): each is freed by the thread that ran it, which may be
 * using the cursor's connection (a transaction's, or one its calls on the
 * store share) at any moment. */
typedef struct orphans {
    void **cur;             /* bk_cursor * */
    unsigned long *thread;  /* the thread of each */
    size_t n, cap;
} orphans;

struct StoreH {
    PyObject_HEAD
    bk_store *s;            /* NULL once closed (root) or ended (transaction) */
    bool tx;                /* a transaction handle */
    bool lent;              /* a transaction bk_store_transact runs: it ends it */
    bool closed;            /* root: close() was called (s goes when users reaches 0) */
    Py_ssize_t users;       /* calls running on s (root: without the GIL; transaction:
                             * a callback, such as a validator, may run inside one) */
    StoreH *root;           /* transaction: the root handle (strong) */
    StoreH *parent;         /* transaction: the handle it was begun on (strong) */
    StoreH *child;          /* transaction: its open nested transaction (borrowed) */
    unsigned long thread;   /* transaction: the thread that began it */
    CursorH *cursors;       /* open cursors run on this handle (borrowed, linked) */
    orphans orphans;        /* C cursors run on it and dropped by another thread */
    PyObject *keys;         /* root: dict model address -> key field index */
};

typedef struct QueryH {
    PyObject_HEAD
    bk_query *q;            /* NULL once freed */
    StoreH *store;          /* strong */
    PyObject *model;        /* the SWIG model (strong) */
    bk_model *m;
    bool busy;              /* running without the GIL */
    bool freed;             /* bk_query_free() was called while cursors were open */
    Py_ssize_t cursors;     /* open cursors run from it */
} QueryH;

struct CursorH {
    PyObject_HEAD
    bk_cursor *c;           /* NULL once freed */
    StoreH *store;          /* strong */
    CursorH *prev, *next;   /* in store->cursors while c is set */
    PyObject *model;        /* strong */
    QueryH *query;          /* strong: the C statement may point into the query's values */
    bk_model *m;
    unsigned long thread;   /* the thread that ran it */
    bool busy;
    const char *gone;       /* why c is NULL */
};

static PyTypeObject StoreH_Type, QueryH_Type, CursorH_Type;

/* ---- small helpers ------------------------------------------------------------ */

static bk_status misuse(const char *msg)
{
    pybk_raise_status(BK_EMISUSE, msg);
    return BK_EMISUSE;
}

static bk_status invalid(const char *msg)
{
    pybk_raise_status(BK_EINVAL, msg);
    return BK_EINVAL;
}

static StoreH *store_of(PyObject *o)
{
    if (o && PyObject_TypeCheck(o, &StoreH_Type))
        return (StoreH *)o;
    PyErr_Format(PyExc_TypeError, "a _backend.bk_store is required, not %.100s",
        o ? Py_TYPE(o)->tp_name : "NULL");
    return NULL;
}

#define LENT_MSG "bk_store_transact ends this transaction: return from fn to commit it, " \
    "raise to roll it back"

static unsigned long this_thread(void)
{
    return PyThread_get_thread_ident();
}

/* ---- cursors listed on their store handle --------------------------------------- */

static void cursor_unlink(CursorH *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (c->store && c->store->cursors == c)
        c->store->cursors = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static int freeing_push(void ***arr, size_t *n, size_t *cap, void *p)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        void **na = PyMem_RawRealloc(*arr, nc * sizeof(*na));
        if (!na)
            return -1;
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = p;
    return 0;
}

/* Free what f holds (without the GIL), and its arrays. */
static void freeing_run(freeing *f)
{
    for (size_t i = 0; i < f->ncur; i++)
        bk_cursor_free((bk_cursor *)f->cur[i]);
    for (size_t i = 0; i < f->nq; i++)
        bk_query_free((bk_query *)f->q[i]);
    PyMem_RawFree(f->cur);
    PyMem_RawFree(f->q);
    f->cur = NULL;
    f->q = NULL;
    f->ncur = f->ccur = f->nq = f->cq = 0;
}

/* Take the C cursor from c (the GIL is held) into f, with its query when
 * that was freed and waited for its last cursor. */
static void cursor_detach(CursorH *c, const char *why, freeing *f)
{
    if (!c->c)
        return;
    cursor_unlink(c);
    bk_cursor *cur = c->c;
    c->c = NULL;
    c->gone = why;
    bk_query *cq = NULL;
    QueryH *q = c->query;
    if (q && --q->cursors == 0 && q->freed) {
        cq = q->q;
        q->q = NULL;
    }
    if (freeing_push(&f->cur, &f->ncur, &f->ccur, cur) < 0)
        bk_cursor_free(cur);
    if (cq && freeing_push(&f->q, &f->nq, &f->cq, cq) < 0)
        bk_query_free(cq);
}

/* Free what f holds, releasing the GIL when there is anything. */
static void freeing_now(freeing *f)
{
    if (!f->ncur && !f->nq)
        return;
    Py_BEGIN_ALLOW_THREADS
    freeing_run(f);
    Py_END_ALLOW_THREADS
}

/* Keep C cursor cur (of thread) on h for that thread; -1 when out of memory. */
static int orphans_push(StoreH *h, void *cur, unsigned long thread)
{
    orphans *o = &h->orphans;
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 4;
        void **c = PyMem_RawRealloc(o->cur, nc * sizeof(*c));
        if (c)
            o->cur = c;
        unsigned long *t = c ? PyMem_RawRealloc(o->thread, nc * sizeof(*t)) : NULL;
        if (!t)
            return -1;
        o->thread = t;
        o->cap = nc;
    }
    o->cur[o->n] = cur;
    o->thread[o->n] = thread;
    o->n++;
    return 0;
}

/* Whether a thread of this ident still runs (the GIL is held): it is in
 * sys._current_frames() (which reads the thread states under the runtime's
 * lock; a thread inside a call has the frame of its caller). *frames
 * caches the dict; when it cannot be had, every thread counts as alive. */
static bool thread_alive(unsigned long ident, PyObject **frames)
{
    PyObject *et, *ev, *tb;     /* (a caller's pending exception is kept) */
    PyErr_Fetch(&et, &ev, &tb);
    if (!*frames) {
        PyObject *fn = PySys_GetObject("_current_frames");      /* borrowed */
        *frames = fn ? PyObject_CallNoArgs(fn) : NULL;
        if (!*frames || !PyDict_Check(*frames)) {
            Py_XDECREF(*frames);
            *frames = Py_NewRef(Py_None);
        }
    }
    int in = 1;
    if (*frames != Py_None) {
        PyObject *k = PyLong_FromUnsignedLong(ident);
        in = k ? PyDict_Contains(*frames, k) : -1;
        Py_XDECREF(k);
    }
    PyErr_Clear();
    PyErr_Restore(et, ev, tb);
    return in != 0;
}

/* Move h's orphans of the calling thread, or of a thread that is gone
 * (all: every one), into f. */
static void orphans_take(StoreH *h, freeing *f, bool all)
{
    orphans *o = &h->orphans;
    unsigned long me = this_thread();
    PyObject *frames = NULL;
    size_t k = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (all || o->thread[i] == me || !thread_alive(o->thread[i], &frames)) {
            if (freeing_push(&f->cur, &f->ncur, &f->ccur, o->cur[i]) < 0)
                bk_cursor_free((bk_cursor *)o->cur[i]);
        } else {
            o->cur[k] = o->cur[i];
            o->thread[k++] = o->thread[i];
        }
    }
    o->n = k;
    Py_XDECREF(frames);
}

/* Free h's orphans of the calling thread (the GIL is released meanwhile;
 * others may be added then: they were taken from h first). */
static void orphans_free_mine(StoreH *h)
{
    if (!h->orphans.n)
        return;
    freeing f = FREEING_INIT;
    orphans_take(h, &f, false);
    freeing_now(&f);
}

/* Free the C cursor (the GIL is released meanwhile). */
static void cursor_release(CursorH *c, const char *why)
{
    freeing f = FREEING_INIT;
    cursor_detach(c, why, &f);
    freeing_now(&f);
}

/* Take the open cursors of h that the calling thread may free into f: all
 * of a transaction's (one thread), and on a root the caller's own idle ones
 * (another thread's cursor may be in use on its connection right now; that
 * thread frees it on its next use). */
static void store_detach_cursors(StoreH *h, const char *why, freeing *f)
{
    unsigned long me = this_thread();
    CursorH *c = h->cursors;
    while (c) {
        CursorH *next = c->next;
        if (h->tx || (c->thread == me && !c->busy))
            cursor_detach(c, why, f);
        c = next;
    }
    orphans_take(h, f, false);
}

/* The same, freed at once (the GIL is released meanwhile). */
static void store_release_cursors(StoreH *h, const char *why)
{
    freeing f = FREEING_INIT;
    store_detach_cursors(h, why, &f);
    freeing_now(&f);
}

/* ---- store handles: calls in and out, closing, ending ------------------------------ */

static void root_close_now(StoreH *h)
{
    bk_store *s = h->s;
    h->s = NULL;
    freeing f = FREEING_INIT;
    store_detach_cursors(h, "the store is closed", &f);
    Py_BEGIN_ALLOW_THREADS
    freeing_run(&f);
    bk_store_close(s);
    Py_END_ALLOW_THREADS
}

/* Forget a transaction and its nested ones after C freed them. */
static void tx_forget(StoreH *h)
{
    for (StoreH *t = h->child; t;) {
        StoreH *next = t->child;
        store_release_cursors(t, "its transaction has ended");
        t->s = NULL;
        t->child = NULL;
        t = next;
    }
    h->child = NULL;
    h->s = NULL;
    if (h->parent && h->parent->child == h)
        h->parent->child = NULL;
}

/* Commit or roll back transaction h (valid, this thread's). Its cursors and
 * those of its nested transactions are freed first (C will not end a
 * transaction with open cursors; a rollback ends the nested ones too). */
static bk_status tx_end(StoreH *h, bool commit, bk_error **err)
{
    bk_status st;
    /* a call on h or on a transaction nested in it is running (a Python
     * validator it called is ending the transaction): C would free the
     * handle under that call */
    for (StoreH *t = h; t; t = t->child)
        if (t->users > 0)
            return misuse("a call on this transaction is running (a callback cannot end "
                "the transaction it runs in)");
    if (commit && h->child) {
        return misuse("bk_store_commit: a nested transaction is still open (commit or roll "
            "it back first)");
    }
    freeing f = FREEING_INIT;
    for (StoreH *t = h; t; t = t->child)
        store_detach_cursors(t, "its transaction has ended", &f);
    bk_store *s = h->s;
    Py_BEGIN_ALLOW_THREADS
    freeing_run(&f);
    st = commit ? bk_store_commit(s, err) : bk_store_rollback(s, err);
    Py_END_ALLOW_THREADS
    if (st == BK_EMISUSE)
        return st;          /* nothing was done; the handle stays valid */
    tx_forget(h);
    return st;
}

/* Check that h may be used by this thread now, and count the call in
 * (store_leave() counts it out). */
static int store_enter(StoreH *h)
{
    orphans_free_mine(h);
    if (!h->tx) {
        if (h->closed || !h->s) {
            misuse("the store is closed");
            return -1;
        }
        h->users++;
        return 0;
    }
    if (!h->s) {
        misuse("the transaction has ended (committed or rolled back)");
        return -1;
    }
    if (h->thread != this_thread()) {
        misuse("a transaction belongs to the thread that began it");
        return -1;
    }
    if (h->root->closed) {
        /* the store was closed under the transaction: roll it back now */
        StoreH *top = h;
        while (top->parent && top->parent->tx && !top->lent)
            top = top->parent;
        if (!top->lent)        /* (bk_store_transact ends its own) */
            tx_end(top, false, NULL);
        misuse("the store is closed");
        return -1;
    }
    h->users++;
    return 0;
}

static void store_leave(StoreH *h)
{
    if (--h->users == 0 && !h->tx && h->closed && h->s)
        root_close_now(h);
}

static StoreH *store_root(StoreH *h)
{
    return h->tx ? h->root : h;
}

static StoreH *new_handle(bk_store *s, StoreH *on)
{
    StoreH *h = PyObject_New(StoreH, &StoreH_Type);
    if (!h)
        return NULL;
    h->s = s;
    h->tx = on != NULL;
    h->lent = false;
    h->closed = false;
    h->users = 0;
    h->root = on ? (StoreH *)Py_NewRef(store_root(on)) : NULL;
    h->parent = on ? (StoreH *)Py_NewRef(on) : NULL;
    h->child = NULL;
    h->thread = this_thread();
    h->cursors = NULL;
    h->orphans = (orphans){ NULL, NULL, 0, 0 };
    h->keys = NULL;
    if (on && on->tx)
        on->child = h;
    return h;
}

static void StoreH_dealloc(StoreH *h)
{
    if (h->s) {
        if (!h->tx) {
            h->closed = true;
            root_close_now(h);
        } else if (h->thread == this_thread()) {
            PyObject *et, *ev, *tb;
            PyErr_Fetch(&et, &ev, &tb);
            tx_end(h, false, NULL);
            PyErr_Restore(et, ev, tb);
        }
        /* else: a transaction dropped by another thread cannot be rolled back
         * from here (C binds it to its thread); it stays open until the
         * store's last reference goes. */
    }
    if (h->orphans.n && (!h->tx || !h->s)) {
        /* no handle of the store is left (a root), or the transaction
         * ended: nothing runs on their connections */
        freeing f = FREEING_INIT;
        orphans_take(h, &f, true);
        freeing_now(&f);
    }
    /* (a transaction dropped by another thread stays open: so do they) */
    PyMem_RawFree(h->orphans.cur);
    PyMem_RawFree(h->orphans.thread);
    /* cursors hold a reference to their handle: none are left */
    if (h->parent && h->parent->child == h)
        h->parent->child = NULL;
    Py_XDECREF(h->parent);
    Py_XDECREF(h->root);
    Py_XDECREF(h->keys);
    PyObject_Free(h);
}

static PyObject *StoreH_get_closed(StoreH *h, void *c)
{
    (void)c;
    return PyBool_FromLong(!h->s || h->closed || (h->tx && h->root->closed));
}

static PyObject *StoreH_get_tx(StoreH *h, void *c)
{
    (void)c;
    return PyBool_FromLong(h->tx);
}

static PyObject *StoreH_repr(StoreH *h)
{
    return PyUnicode_FromFormat("<_backend.bk_store %s%s>", h->tx ? "transaction" : "store",
        (!h->s || h->closed) ? (h->tx ? " (ended)" : " (closed)") : "");
}

static PyGetSetDef StoreH_getset[] = {
    { "closed", (getter)StoreH_get_closed, NULL, "closed, or (a transaction) ended", NULL },
    { "transaction", (getter)StoreH_get_tx, NULL, "a transaction handle", NULL },
    { NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject StoreH_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "backend._backend.bk_store",
    .tp_basicsize = sizeof(StoreH),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A store or a transaction (bk_store_open, bk_store_begin): closed by "
              "bk_store_close, ended by bk_store_commit/bk_store_rollback.",
    .tp_dealloc = (destructor)StoreH_dealloc,
    .tp_repr = (reprfunc)StoreH_repr,
    .tp_getset = StoreH_getset,
};

/* ---- records and instances ------------------------------------------------------------ */

typedef struct lent {
    PyObject *inst;         /* a model instance, or NULL for a SWIG record */
    bk_record *rec;
} lent;

/* The record of o (a SWIG record or a model instance) for model m. */
static int lend(lent *l, PyObject *o, const bk_model *m, int create)
{
    l->inst = NULL;
    l->rec = NULL;
    if (!m) {
        PyErr_SetString(PyExc_TypeError, "a model is required");
        return -1;
    }
    if (o && pybk_is_instance(o)) {
        bk_record *r = pybk_instance_lend(o, create);
        if (!r)
            return -1;
        if (bk_record_model(r) != m) {
            pybk_instance_return(o, 0);
            misuse("the instance belongs to another model");
            return -1;
        }
        l->inst = o;
        l->rec = r;
        return 0;
    }
    bk_record *r = o ? g_sh->record_from_py(o) : NULL;
    if (!r) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "a _backend.bk_record or a backend.Model instance is "
                "required, not %.100s", o ? Py_TYPE(o)->tp_name : "NULL");
        return -1;
    }
    if (bk_record_model(r) != m) {
        misuse("the record belongs to another model");
        return -1;
    }
    l->rec = r;
    return 0;
}

static void give_back(lent *l, int changed)
{
    if (l->inst)
        pybk_instance_return(l->inst, changed);
    l->inst = NULL;
}

/* ---- keys ---------------------------------------------------------------------------- */

/* The index of m's primary key field (from its description document), -1
 * when it has none at the top level. -2 + exception on failure. */
static long key_index(const bk_model *m)
{
    char *doc = NULL;
    size_t len = 0;
    bk_error *e = NULL;
    if (bk_model_to_doc(&doc, &len, m, false, &e) != BK_OK) {
        pybk_raise(e);
        return -2;
    }
    json_t *j = json_loadb(doc, len, 0, NULL);
    bk_free(doc);
    if (!j) {
        PyErr_NoMemory();
        return -2;
    }
    long found = -1;
    const char *name = bk_model_name(m);
    json_t *models = json_object_get(j, "models"), *mm;
    size_t i, k;
    json_array_foreach(models, i, mm) {
        if (!json_is_string(json_object_get(mm, "name")) ||
                strcmp(json_string_value(json_object_get(mm, "name")), name) != 0)
            continue;
        json_t *fields = json_object_get(mm, "fields"), *f;
        json_array_foreach(fields, k, f) {
            if (json_is_true(json_object_get(f, "primary_key"))) {
                const char *fname = json_string_value(json_object_get(f, "name"));
                found = fname ? bk_model_field_index(m, fname) : -1;
                break;
            }
        }
        break;
    }
    json_decref(j);
    return found;
}

/* Remember m's key field on root h (after a registration). */
static int remember_key(StoreH *h, const bk_model *m)
{
    if (!h->keys && !(h->keys = PyDict_New()))
        return -1;
    long ix = key_index(m);
    if (ix < -1)
        return -1;
    PyObject *k = PyLong_FromVoidPtr((void *)m);
    PyObject *v = PyLong_FromLong(ix);
    int rc = k && v ? PyDict_SetItem(h->keys, k, v) : -1;
    Py_XDECREF(k);
    Py_XDECREF(v);
    return rc;
}

typedef union keybuf {
    int8_t i8; int16_t i16; int32_t i32; int64_t i64;
    uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
    const char *s;
    bk_uuid uuid;
    unsigned char pad[32];
} keybuf;

static int hexv(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A key for model m (registered on root h) from a Python value, in the C
 * type of the key field. An unregistered model gets a zeroed key: C
 * reports it (BK_ENOTFOUND) before reading the key. keep receives an
 * object to release after the call (the bytes a string key points into). */
static int key_from_py(keybuf *kb, PyObject **keep, StoreH *h, const bk_model *m,
    PyObject *key)
{
    memset(kb, 0, sizeof(*kb));
    *keep = NULL;
    PyObject *k = PyLong_FromVoidPtr((void *)m);
    if (!k)
        return -1;
    PyObject *ixo = h->keys ? PyDict_GetItemWithError(h->keys, k) : NULL;
    Py_DECREF(k);
    if (!ixo)
        return PyErr_Occurred() ? -1 : 0;
    long ix = PyLong_AsLong(ixo);
    if (ix < 0) {
        misuse("the model has no primary key");   /* C refuses to register it */
        return -1;
    }
    bk_kind kind = bk_model_field_kind(m, (size_t)ix);
    const char *fname = bk_model_field_name(m, (size_t)ix);
    char msg[256];
    switch (kind) {
    case BK_I8: case BK_I16: case BK_I32: case BK_I64: case BK_TIMESTAMP: case BK_DATE:
    case BK_U8: case BK_U16: case BK_U32: case BK_U64: {
        if (!PyLong_Check(key) || PyBool_Check(key)) {
            snprintf(msg, sizeof(msg), "key: %.60s.%.60s is an integer key (%.60s)",
                bk_model_name(m), fname, bk_model_field_type(m, (size_t)ix));
            invalid(msg);
            return -1;
        }
        int over = 0;
        long long v = PyLong_AsLongLongAndOverflow(key, &over);
        unsigned long long uv = 0;
        bool big = false;       /* a u64 above INT64_MAX (in uv) */
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (over > 0 && kind == BK_U64) {
            uv = PyLong_AsUnsignedLongLong(key);
            if (PyErr_Occurred()) {
                PyErr_Clear();
                over = 1;
            } else {
                over = 0;
                v = 0;
                big = true;
            }
        } else if (!over) {
            uv = (unsigned long long)v;
        }
        int ok = !over;
        switch (kind) {
        case BK_I8: ok = ok && v >= INT8_MIN && v <= INT8_MAX; kb->i8 = (int8_t)v; break;
        case BK_I16: ok = ok && v >= INT16_MIN && v <= INT16_MAX; kb->i16 = (int16_t)v; break;
        case BK_I32: case BK_DATE: ok = ok && v >= INT32_MIN && v <= INT32_MAX; kb->i32 = (int32_t)v; break;
        case BK_U8: ok = ok && v >= 0 && v <= UINT8_MAX; kb->u8 = (uint8_t)v; break;
        case BK_U16: ok = ok && v >= 0 && v <= UINT16_MAX; kb->u16 = (uint16_t)v; break;
        case BK_U32: ok = ok && v >= 0 && v <= (long long)UINT32_MAX; kb->u32 = (uint32_t)v; break;
        case BK_U64: ok = ok && (v >= 0 || big); kb->u64 = uv; break;
        default: kb->i64 = v; break;
        }
        if (!ok) {
            snprintf(msg, sizeof(msg), "key: out of range for %.60s.%.60s (%.60s)",
                bk_model_name(m), fname, bk_model_field_type(m, (size_t)ix));
            invalid(msg);
            return -1;
        }
        return 0;
    }
    case BK_STR: {
        if (!PyUnicode_Check(key)) {
            snprintf(msg, sizeof(msg), "key: %.60s.%.60s is a string key", bk_model_name(m), fname);
            invalid(msg);
            return -1;
        }
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(key, &n);
        if (!s)
            return -1;
        if (strlen(s) != (size_t)n) {
            invalid("key: a string key cannot hold NUL");
            return -1;
        }
        kb->s = s;
        *keep = Py_NewRef(key);
        return 0;
    }
    case BK_UUID: {
        PyObject *b = NULL;
        if (PyBytes_Check(key)) {
            b = Py_NewRef(key);
        } else if (PyUnicode_Check(key)) {
            const char *s = PyUnicode_AsUTF8(key);
            if (!s)
                return -1;
            size_t o = 0;
            int bad = 0;
            for (const char *p = s; *p && !bad; p++) {
                if (*p == '-')
                    continue;
                int a = hexv((unsigned char)p[0]), c = p[1] ? hexv((unsigned char)p[1]) : -1;
                if (a < 0 || c < 0 || o >= 16)
                    bad = 1;
                else
                    kb->uuid.bytes[o++] = (unsigned char)(a * 16 + c);
                if (!bad)
                    p++;
            }
            if (bad || o != 16) {
                invalid("key: not a UUID");
                return -1;
            }
            return 0;
        } else {
            b = PyObject_GetAttrString(key, "bytes");   /* uuid.UUID */
            if (!b) {
                PyErr_Clear();
                invalid("key: a uuid key takes a uuid.UUID, its text or its 16 bytes");
                return -1;
            }
        }
        if (!PyBytes_Check(b) || PyBytes_GET_SIZE(b) != 16) {
            Py_DECREF(b);
            invalid("key: a uuid key takes a uuid.UUID, its text or its 16 bytes");
            return -1;
        }
        memcpy(kb->uuid.bytes, PyBytes_AS_STRING(b), 16);
        Py_DECREF(b);
        return 0;
    }
    default:
        snprintf(msg, sizeof(msg), "key: %.60s.%.60s (%.60s) cannot be a key", bk_model_name(m),
            fname, bk_model_field_type(m, (size_t)ix));
        invalid(msg);
        return -1;
    }
}

/* A tuple of the items of o (a new reference; NULL + TypeError with msg when
 * o is not a sequence). The calls read the items without the GIL: a list
 * the caller passed could be emptied meanwhile by another thread, freeing
 * them; the tuple keeps them. */
static PyObject *snapshot(PyObject *o, const char *msg)
{
    PyObject *fast = PySequence_Fast(o, msg);
    if (!fast)
        return NULL;
    PyObject *t = PyList_Check(fast) ? PyList_AsTuple(fast) : Py_NewRef(fast);
    Py_DECREF(fast);
    return t;
}

/* ---- migrations ------------------------------------------------------------------------ */

/* (version, name, sql) triples -> a bk_migration array (pointing into the
 * strings of seq, which the caller keeps). */
static bk_migration *migrations_from_py(PyObject *seq, size_t *n)
{
    Py_ssize_t len = PySequence_Fast_GET_SIZE(seq);
    bk_migration *a = PyMem_Calloc(len ? (size_t)len : 1, sizeof(*a));
    if (!a) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *t = PySequence_Fast_GET_ITEM(seq, i);
        long long v;
        const char *name, *sql;
        if (!PyTuple_Check(t) || !PyArg_ParseTuple(t, "Lss", &v, &name, &sql)) {
            if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "migration %zd: a (version, name, sql) tuple "
                    "is required", i);
            }
            PyMem_Free(a);
            return NULL;
        }
        a[i].version = v;
        a[i].name = name;
        a[i].sql = sql;
    }
    *n = (size_t)len;
    return a;
}

static bk_status migrations_call(size_t *out, PyObject *store, PyObject *migrations,
    bool apply, bk_error **err)
{
    StoreH *h = store_of(store);
    if (!h)
        return BK_EINVAL;
    PyObject *seq = snapshot(migrations, "a sequence of (version, name, sql) tuples");
    if (!seq)
        return BK_EINVAL;
    size_t n = 0;
    bk_migration *a = migrations_from_py(seq, &n);
    bk_status st = BK_EINVAL;
    if (a && store_enter(h) == 0) {
        bk_store *s = h->s;
        Py_BEGIN_ALLOW_THREADS
        st = apply ? bk_store_migrate(s, a, n, out, err) : bk_store_pending(out, s, a, n, err);
        Py_END_ALLOW_THREADS
        store_leave(h);
    }
    PyMem_Free(a);
    Py_DECREF(seq);
    return st;
}

/* ---- the store functions ---------------------------------------------------------------- */

bk_status pystore_open(PyObject **out, const char *uri, const bk_store_options *opts,
    bk_error **err)
{
    bk_store *s = NULL;
    bk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bk_store_open(&s, uri, opts, err);
    Py_END_ALLOW_THREADS
    if (st != BK_OK)
        return st;
    StoreH *h = new_handle(s, NULL);
    if (!h) {
        bk_store_close(s);
        return BK_ENOMEM;
    }
    *out = (PyObject *)h;
    return BK_OK;
}

bk_status pystore_close(PyObject *store)
{
    StoreH *h = store_of(store);
    if (!h)
        return BK_EINVAL;
    if (h->tx) {
        if (!h->s)
            return BK_OK;       /* ended already: closing is idempotent */
        if (h->thread != this_thread())
            return misuse("a transaction belongs to the thread that began it");
        if (h->lent)
            return misuse(LENT_MSG);
        bk_status st = tx_end(h, false, NULL);
        return st == BK_EMISUSE ? st : BK_OK;
    }
    if (h->closed)
        return BK_OK;
    h->closed = true;
    if (h->users == 0 && h->s)
        root_close_now(h);
    return BK_OK;
}

bk_status pystore_register(PyObject *store, bk_model *model, const char *table, bk_error **err)
{
    StoreH *h = store_of(store);
    if (!h || store_enter(h) < 0)
        return BK_EINVAL;
    bk_store *s = h->s;
    bk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bk_store_register(s, model, table, err);
    Py_END_ALLOW_THREADS
    if (st == BK_OK && remember_key(store_root(h), model) < 0)
        st = BK_ENOMEM;
    store_leave(h);
    return st;
}

bk_status pystore_diff(char **out, PyObject *store, const bk_model *model, const char *table,
    bk_error **err)
{
    StoreH *h = store_of(store);
    if (!h || store_enter(h) < 0)
        return BK_EINVAL;
    bk_store *s = h->s;
    bk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bk_store_diff(out, s, model, table, err);
    Py_END_ALLOW_THREADS
    store_leave(h);
    return st;
}

bk_status pystore_migrate(size_t *applied, PyObject *store, PyObject *migrations, bk_error **err)
{
    return migrations_call(applied, store, migrations, true, err);
}

bk_status pystore_pending(size_t *count, PyObject *store, PyObject *migrations, bk_error **err)
{
    return migrations_call(count, store, migrations, false, err);
}

enum { OP_INSERT, OP_UPSERT, OP_UPDATE };

static bk_status write_one(int op, PyObject *store, const bk_model *model, PyObject *obj,
    PyObject *fields, bk_error **err)
{
    StoreH *h = store_of(store);
    if (!h)
        return BK_EINVAL;
    const char **names = NULL;
    size_t nnames = 0;
    PyObject *seq = NULL;
    if (fields && fields != Py_None) {
        if (PyUnicode_Check(fields)) {
            PyErr_SetString(PyExc_TypeError, "fields: a sequence of field names, not a str");
            return BK_EINVAL;
        }
        seq = snapshot(fields, "fields: a sequence of field names");
        if (!seq)
            return BK_EINVAL;
        nnames = (size_t)PySequence_Fast_GET_SIZE(seq);
        names = PyMem_Calloc(nnames ? nnames : 1, sizeof(*names));
        if (!names) {
            Py_DECREF(seq);
            PyErr_NoMemory();
            return BK_ENOMEM;
        }
        for (size_t i = 0; i < nnames; i++) {
            names[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)i));
            if (!names[i]) {
                PyMem_Free(names);
                Py_DECREF(seq);
                return BK_EINVAL;
            }
        }
    }
    bk_status st = BK_EINVAL;
    lent l;
    if (lend(&l, obj, model, 0) == 0) {
        if (store_enter(h) == 0) {
            bk_store *s = h->s;
            void *data = bk_record_data(l.rec);
            Py_BEGIN_ALLOW_THREADS
            if (op == OP_INSERT)
                st = bk_store_insert(s, model, data, err);
            else if (op == OP_UPSERT)
                st = bk_store_upsert(s, model, data, err);
            else
                st = bk_store_update(s, model, data, names, nnames, err);
            Py_END_ALLOW_THREADS
            store_leave(h);
        }
        give_back(&l, st == BK_OK ? 1 : 0);
    }
    PyMem_Free(names);
    Py_XDECREF(seq);
    return st;
}

bk_status pystore_insert(PyObject *store, const bk_model *model, PyObject *obj, bk_error **err)
{
    return write_one(OP_INSERT, store, model, obj, NULL, err);
}

bk_status pystore_upsert(PyObject *store, const bk_model *model, PyObject *obj, bk_error **err)
{
    return write_one(OP_UPSERT, store, model, obj, NULL, err);
}

bk_status pystore_update(PyObject *store, const bk_model *model, PyObject *obj,
    PyObject *fields, bk_error **err)
{
    return write_one(OP_UPDATE, store, model, obj, fields, err);
}

/* insert_many: the records' structs are copied side by side (a shallow
 * copy: pointers are shared, C only reads them and writes the generated
 * keys), inserted in one call, and copied back (the keys). */
bk_status pystore_insert_many(PyObject *store, const bk_model *model, PyObject *objs,
    bk_error **err)
{
    StoreH *h = store_of(store);
    if (!h)
        return BK_EINVAL;
    PyObject *seq = snapshot(objs, "a sequence of records or instances");
    if (!seq)
        return BK_EINVAL;
    size_t n = (size_t)PySequence_Fast_GET_SIZE(seq);
    size_t size = model ? bk_model_size(model) : 0;
    lent *ls = PyMem_Calloc(n ? n : 1, sizeof(*ls));
    unsigned char *buf = PyMem_Calloc(n ? n : 1, size ? size : 1);
    bk_status st = BK_EINVAL;
    size_t k = 0;
    if (!ls || !buf) {
        PyErr_NoMemory();
        st = BK_ENOMEM;
        goto done;
    }
    for (; k < n; k++) {
        if (lend(&ls[k], PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)k), model, 0) < 0)
            goto done;
        memcpy(buf + k * size, bk_record_data(ls[k].rec), size);
    }
    if (store_enter(h) == 0) {
        bk_store *s = h->s;
        Py_BEGIN_ALLOW_THREADS
        st = bk_store_insert_many(s, model, buf, n, err);
        Py_END_ALLOW_THREADS
        store_leave(h);
        for (size_t i = 0; i < n; i++)
            memcpy(bk_record_data(ls[i].rec), buf + i * size, size);
    }
done:
    for (size_t i = 0; i < k; i++)
        give_back(&ls[i], st == BK_OK ? 1 : 0);
    PyMem_Free(ls);
    PyMem_Free(buf);
    Py_DECREF(seq);
    return st;
}

bk_status pystore_get(PyObject *out, PyObject *store, const bk_model *model, PyObject *key,
    bk_error **err)
{
    StoreH *h = store_of(store);
    if (!h)
        return BK_EINVAL;
    keybuf kb;
    PyObject *keep = NULL;
    if (key_from_py(&kb, &keep, store_root(h), model, key) < 0)
        return BK_EINVAL;
    lent l;
    bk_status st = BK_EINVAL;
    if (lend(&l, out, model, 1) == 0) {
        if (store_enter(h) == 0) {
            bk_store *s = h->s;
            bk_record *rec = l.rec;
            bk_record_clear(rec);
            Py_BEGIN_ALLOW_THREADS
            st = bk_store_get(bk_record_data(rec), s, model, &kb, err);
            Py_END_ALLOW_THREADS
            store_leave(h);
        }
        give_back(&l, 2);
    }
    Py_XDECREF(keep);
    return st;
}

bk_status pystore_delete(PyObject *store, const bk_model *model, PyObject *key, bk_error **err)
{
    StoreH *h = store_of(store);
    if (!h)
        return BK_EINVAL;
    if (!model) {
        PyErr_SetString(PyExc_TypeError, "a model is required");
        return BK_EINVAL;
    }
    keybuf kb;
    PyObject *keep = NULL;
    if (key_from_py(&kb, &keep, store_root(h), model, key) < 0)
        return BK_EINVAL;
    bk_status st = BK_EINVAL;
    if (store_enter(h) == 0) {
        bk_store *s = h->s;
        Py_BEGIN_ALLOW_THREADS
        st = bk_store_delete(s, model, &kb, err);
        Py_END_ALLOW_THREADS
        store_leave(h);
    }
    Py_XDECREF(keep);
    return st;
}

/* ---- transactions ------------------------------------------------------------------------ */

bk_status pystore_begin(PyObject **out, PyObject *store, bk_error **err)
{
    StoreH *h = store_of(store);
    if (!h || store_enter(h) < 0)
        return BK_EINVAL;
    bk_status st;
    if (h->tx && h->child) {
        store_leave(h);
        return misuse("bk_store_begin: this transaction has an open nested transaction");
    }
    bk_store *s = h->s, *tx = NULL;
    Py_BEGIN_ALLOW_THREADS
    st = bk_store_begin(&tx, s, err);
    Py_END_ALLOW_THREADS
    if (st == BK_OK) {
        StoreH *t = new_handle(tx, h);
        if (!t) {
            bk_store_rollback(tx, NULL);
            st = BK_ENOMEM;
        } else {
            *out = (PyObject *)t;
        }
    }
    store_leave(h);
    return st;
}

static bk_status tx_call(PyObject *tx, bool commit, bk_error **err)
{
    StoreH *h = store_of(tx);
    if (!h)
        return BK_EINVAL;
    if (!h->tx)
        return misuse(commit ? "bk_store_commit: not a transaction handle"
                             : "bk_store_rollback: not a transaction handle");
    if (store_enter(h) < 0)
        return BK_EMISUSE;
    store_leave(h);             /* (a check only: ending it is not a call on it) */
    if (h->lent)
        return misuse(LENT_MSG);
    return tx_end(h, commit, err);
}

bk_status pystore_commit(PyObject *tx, bk_error **err)
{
    return tx_call(tx, true, err);
}

bk_status pystore_rollback(PyObject *tx, bk_error **err)
{
    return tx_call(tx, false, err);
}

typedef struct tramp {
    StoreH *on;             /* the handle transact was called on */
    PyObject *fn;
    PyObject *et, *ev, *tb; /* the exception fn raised last (new references) */
} tramp;

static void tramp_clear(tramp *t)
{
    Py_CLEAR(t->et);
    Py_CLEAR(t->ev);
    Py_CLEAR(t->tb);
}

/* bk_store_transact's callback: fn(tx) with the GIL. An exception is
 * kept for the caller; a BusyError asks C to retry. */
static bk_status tramp_fn(bk_store *tx, void *payload, bk_error **err)
{
    (void)err;
    tramp *t = payload;
    PyGILState_STATE g = PyGILState_Ensure();
    bk_status st = BK_OK;
    tramp_clear(t);
    StoreH *h = new_handle(tx, t->on);
    if (h)
        h->lent = true;
    PyObject *r = h ? PyObject_CallOneArg(t->fn, (PyObject *)h) : NULL;
    if (h) {
        /* C ends tx when we return: end what is open on it, then forget it */
        if (h->child && h->s) {
            StoreH *c = h->child;
            PyObject *et, *ev, *tb;
            PyErr_Fetch(&et, &ev, &tb);
            tx_end(c, false, NULL);
            PyErr_Restore(et, ev, tb);
        }
        store_release_cursors(h, "its transaction has ended");
        h->s = NULL;
        if (h->parent && h->parent->child == h)
            h->parent->child = NULL;
        Py_DECREF(h);
    }
    if (r) {
        Py_DECREF(r);
    } else {
        PyErr_Fetch(&t->et, &t->ev, &t->tb);
        PyErr_NormalizeException(&t->et, &t->ev, &t->tb);
        st = BK_EUSER;
        PyObject *sto = t->ev ? PyObject_GetAttrString(t->ev, "status") : NULL;
        if (sto && PyLong_Check(sto) && PyLong_AsLong(sto) == BK_EBUSY)
            st = BK_EBUSY;
        Py_XDECREF(sto);
        PyErr_Clear();
    }
    PyGILState_Release(g);
    return st;
}

bk_status pystore_transact(PyObject *store, PyObject *fn, int max_attempts, bk_error **err)
{
    StoreH *h = store_of(store);
    if (!h)
        return BK_EINVAL;
    if (!PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "bk_store_transact: fn must be callable");
        return BK_EINVAL;
    }
    if (store_enter(h) < 0)
        return BK_EMISUSE;
    tramp t = { h, fn, NULL, NULL, NULL };
    bk_store *s = h->s;
    bk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bk_store_transact(s, tramp_fn, &t, max_attempts, err);
    Py_END_ALLOW_THREADS
    store_leave(h);
    if (t.et && (st == BK_EUSER || st == BK_EBUSY)) {
        /* fn's own exception, rather than C's account of it */
        if (err && *err) {
            bk_error_free(*err);
            *err = NULL;
        }
        PyErr_Restore(t.et, t.ev, t.tb);
        return st;
    }
    tramp_clear(&t);
    return st;
}

/* ---- queries -------------------------------------------------------------------------------- */

static QueryH *query_of(PyObject *o)
{
    if (o && PyObject_TypeCheck(o, &QueryH_Type)) {
        QueryH *q = (QueryH *)o;
        if (!q->q || q->freed) {
            misuse("the query was freed");
            return NULL;
        }
        if (q->busy) {
            misuse("the query is in use by another thread");
            return NULL;
        }
        return q;
    }
    PyErr_Format(PyExc_TypeError, "a _backend.bk_query is required, not %.100s",
        o ? Py_TYPE(o)->tp_name : "NULL");
    return NULL;
}

static void QueryH_dealloc(QueryH *q)
{
    bk_query_free(q->q);
    Py_XDECREF(q->store);
    Py_XDECREF(q->model);
    PyObject_Free(q);
}

static PyTypeObject QueryH_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "backend._backend.bk_query",
    .tp_basicsize = sizeof(QueryH),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A query under construction (bk_query_new): one thread at a time.",
    .tp_dealloc = (destructor)QueryH_dealloc,
};

bk_status pyquery_new(PyObject **out, PyObject *store, PyObject *model, bk_error **err)
{
    StoreH *h = store_of(store);
    if (!h)
        return BK_EINVAL;
    bk_model *m = g_sh->model_from_py(model);
    if (!m)
        return BK_EINVAL;
    if (store_enter(h) < 0)
        return BK_EMISUSE;
    bk_query *q = NULL;
    bk_status st = bk_query_new(&q, h->s, m, err);
    store_leave(h);
    if (st != BK_OK)
        return st;
    QueryH *o = PyObject_New(QueryH, &QueryH_Type);
    if (!o) {
        bk_query_free(q);
        return BK_ENOMEM;
    }
    o->q = q;
    o->store = (StoreH *)Py_NewRef(h);
    o->model = Py_NewRef(model);
    o->m = m;
    o->busy = false;
    o->freed = false;
    o->cursors = 0;
    *out = (PyObject *)o;
    return BK_OK;
}

bk_status pyquery_free(PyObject *q)
{
    if (!q || !PyObject_TypeCheck(q, &QueryH_Type)) {
        PyErr_SetString(PyExc_TypeError, "a _backend.bk_query is required");
        return BK_EINVAL;
    }
    QueryH *o = (QueryH *)q;
    if (o->busy)
        return misuse("the query is in use by another thread");
    if (o->cursors > 0) {
        o->freed = true;      /* refused from now on; freed with its last cursor */
        return BK_OK;
    }
    bk_query_free(o->q);
    o->q = NULL;
    return BK_OK;
}

#define QUERY_SIMPLE(call)                 \
    QueryH *o = query_of(q);               \
    if (!o)                                \
        return BK_EMISUSE;                 \
    return call;

bk_status pyquery_where(PyObject *q, const char *field, bk_op op, const char *json_value,
    bk_error **err)
{
    QUERY_SIMPLE(bk_query_where(o->q, field, op, json_value, err))
}

bk_status pyquery_where_i64(PyObject *q, const char *field, bk_op op, int64_t value,
    bk_error **err)
{
    QUERY_SIMPLE(bk_query_where_i64(o->q, field, op, value, err))
}

bk_status pyquery_where_f64(PyObject *q, const char *field, bk_op op, double value,
    bk_error **err)
{
    QUERY_SIMPLE(bk_query_where_f64(o->q, field, op, value, err))
}

bk_status pyquery_where_str(PyObject *q, const char *field, bk_op op, const char *value,
    bk_error **err)
{
    QUERY_SIMPLE(bk_query_where_str(o->q, field, op, value, err))
}

bk_status pyquery_where_bool(PyObject *q, const char *field, bk_op op, bool value,
    bk_error **err)
{
    QUERY_SIMPLE(bk_query_where_bool(o->q, field, op, value, err))
}

bk_status pyquery_group_begin(PyObject *q, bool any, bk_error **err)
{
    QUERY_SIMPLE(bk_query_group_begin(o->q, any, err))
}

bk_status pyquery_group_end(PyObject *q, bk_error **err)
{
    QUERY_SIMPLE(bk_query_group_end(o->q, err))
}

bk_status pyquery_order_by(PyObject *q, const char *field, bool descending, bk_error **err)
{
    QUERY_SIMPLE(bk_query_order_by(o->q, field, descending, err))
}

bk_status pyquery_limit(PyObject *q, size_t limit, bk_error **err)
{
    QUERY_SIMPLE(bk_query_limit(o->q, limit, err))
}

bk_status pyquery_offset(PyObject *q, size_t offset, bk_error **err)
{
    QUERY_SIMPLE(bk_query_offset(o->q, offset, err))
}

bk_status pyquery_after(PyObject *q, const char *token, bk_error **err)
{
    QUERY_SIMPLE(bk_query_after(o->q, token, err))
}

/* A query may run while its store handle is usable by this thread. */
static int query_enter(QueryH *o)
{
    if (store_enter(o->store) < 0)
        return -1;
    o->busy = true;
    return 0;
}

static void query_leave(QueryH *o)
{
    o->busy = false;
    store_leave(o->store);
}

bk_status pyquery_count(int64_t *out, PyObject *q, bk_error **err)
{
    QueryH *o = query_of(q);
    if (!o || query_enter(o) < 0)
        return BK_EMISUSE;
    bk_query *cq = o->q;
    bk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bk_query_count(out, cq, err);
    Py_END_ALLOW_THREADS
    query_leave(o);
    return st;
}

bk_status pyquery_run(PyObject **out, PyObject *q, bk_error **err)
{
    QueryH *o = query_of(q);
    if (!o)
        return BK_EMISUSE;
    CursorH *c = PyObject_New(CursorH, &CursorH_Type);
    if (!c)
        return BK_ENOMEM;
    c->c = NULL;
    c->store = NULL;
    c->prev = c->next = NULL;
    c->model = NULL;
    c->query = NULL;
    c->m = o->m;
    c->thread = this_thread();
    c->busy = false;
    c->gone = "the query did not run";
    if (query_enter(o) < 0) {
        Py_DECREF(c);
        return BK_EMISUSE;
    }
    bk_query *cq = o->q;
    bk_cursor *cur = NULL;
    bk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bk_query_run(&cur, cq, err);
    Py_END_ALLOW_THREADS
    query_leave(o);
    if (st != BK_OK) {
        Py_DECREF(c);
        return st;
    }
    StoreH *h = o->store;
    if (!h->s) {
        /* the store was closed by another thread meanwhile */
        bk_cursor_free(cur);
        Py_DECREF(c);
        return misuse("the store is closed");
    }
    c->c = cur;
    c->store = (StoreH *)Py_NewRef(h);
    c->model = Py_NewRef(o->model);
    c->query = (QueryH *)Py_NewRef(o);
    o->cursors++;
    c->gone = NULL;
    c->next = h->cursors;
    if (h->cursors)
        h->cursors->prev = c;
    h->cursors = c;
    *out = (PyObject *)c;
    return BK_OK;
}

/* ---- cursors -------------------------------------------------------------------------------- */

static void CursorH_dealloc(CursorH *c)
{
    StoreH *h = c->store;
    if (c->c && h && c->thread != this_thread()) {
        /* dropped by another thread (a garbage collection there): freeing
         * it here would use a connection its thread may be using now (a
         * transaction's, or one the thread's calls share with its cursor) */
        freeing f = FREEING_INIT;
        cursor_detach(c, "freed", &f);
        for (size_t i = 0; i < f.ncur; i++)
            if (orphans_push(h, f.cur[i], c->thread) < 0)
                bk_cursor_free((bk_cursor *)f.cur[i]);    /* (out of memory only) */
        f.ncur = 0;
        freeing_now(&f);    /* (a freed query waiting for it: memory only) */
        PyMem_RawFree(f.cur);
    }
    cursor_release(c, "freed");
    Py_XDECREF(c->store);
    Py_XDECREF(c->model);
    Py_XDECREF(c->query);
    PyObject_Free(c);
}

static PyObject *CursorH_get_closed(CursorH *c, void *x)
{
    (void)x;
    return PyBool_FromLong(c->c == NULL);
}

static PyGetSetDef CursorH_getset[] = {
    { "closed", (getter)CursorH_get_closed, NULL, "the cursor was freed", NULL },
    { NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject CursorH_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "backend._backend.bk_cursor",
    .tp_basicsize = sizeof(CursorH),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Query results (bk_query_run): one thread; freed by bk_cursor_free, by the end of "
              "its transaction or the close of its store.",
    .tp_dealloc = (destructor)CursorH_dealloc,
    .tp_getset = CursorH_getset,
};

/* A cursor may be used by the thread that ran it while its store handle is
 * usable; a closed store frees it here (its thread's turn). */
static CursorH *cursor_enter(PyObject *o)
{
    if (!o || !PyObject_TypeCheck(o, &CursorH_Type)) {
        PyErr_Format(PyExc_TypeError, "a _backend.bk_cursor is required, not %.100s",
            o ? Py_TYPE(o)->tp_name : "NULL");
        return NULL;
    }
    CursorH *c = (CursorH *)o;
    if (c->thread != this_thread()) {
        misuse("a cursor belongs to the thread that ran it");
        return NULL;
    }
    if (c->busy) {
        misuse("the cursor is in use");
        return NULL;
    }
    if (c->store)
        orphans_free_mine(c->store);
    if (c->c && c->store) {
        StoreH *h = c->store;
        if (!h->s || h->closed || (h->tx && h->root->closed))
            cursor_release(c, h->tx && !h->s ? "its transaction has ended"
                                             : "the store is closed");
    }
    if (!c->c) {
        char msg[120];
        snprintf(msg, sizeof(msg), "the cursor is closed: %s", c->gone ? c->gone : "freed");
        misuse(msg);
        return NULL;
    }
    return c;
}

bk_status pycursor_next(PyObject *c, PyObject *out, bk_error **err)
{
    CursorH *o = cursor_enter(c);
    if (!o)
        return BK_EMISUSE;
    lent l;
    if (lend(&l, out, o->m, 1) < 0)
        return BK_EINVAL;
    bk_record *rec = l.rec;
    bk_cursor *cur = o->c;
    bk_status st;
    bk_record_clear(rec);
    o->busy = true;
    Py_BEGIN_ALLOW_THREADS
    st = bk_cursor_next(cur, bk_record_data(rec), err);
    Py_END_ALLOW_THREADS
    o->busy = false;
    give_back(&l, 2);
    return st;
}

bk_status pycursor_token(char **out, PyObject *c, bk_error **err)
{
    CursorH *o = cursor_enter(c);
    if (!o)
        return BK_EMISUSE;
    return bk_cursor_token(out, o->c, err);
}

bk_status pycursor_free(PyObject *c)
{
    if (!c || !PyObject_TypeCheck(c, &CursorH_Type)) {
        PyErr_SetString(PyExc_TypeError, "a _backend.bk_cursor is required");
        return BK_EINVAL;
    }
    CursorH *o = (CursorH *)c;
    if (!o->c)
        return BK_OK;
    if (o->thread != this_thread())
        return misuse("a cursor belongs to the thread that ran it");
    if (o->busy)
        return misuse("the cursor is in use");
    cursor_release(o, "freed");
    return BK_OK;
}

/* ---- init ------------------------------------------------------------------------------------ */

int pystore_init(PyObject *module, const pystore_hooks *hooks)
{
    g_sh = hooks;
    if (PyType_Ready(&StoreH_Type) < 0 || PyType_Ready(&QueryH_Type) < 0 ||
        PyType_Ready(&CursorH_Type) < 0)
        return -1;
    if (PyModule_AddObjectRef(module, "bk_store", (PyObject *)&StoreH_Type) < 0 ||
        PyModule_AddObjectRef(module, "bk_query", (PyObject *)&QueryH_Type) < 0 ||
        PyModule_AddObjectRef(module, "bk_cursor", (PyObject *)&CursorH_Type) < 0)
        return -1;
    return 0;
}
