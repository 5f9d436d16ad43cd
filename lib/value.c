/*
 * value.c - releasing what the codec allocated inside caller-owned memory.
 *
 * release() walks a value by its type and frees strings, bytes, list and
 * map storage, pointed-to models and json_t references, without zeroing
 * anything; the public entry points zero the outermost value once. It is
 * the single place that knows what each kind owns; the decoder relies on it
 * to undo a failed decode (everything it allocated is always reachable from
 * the target).
 *
 * A model's clear program (bk__clear_compile, at the end of its build) is
 * the same walk done once: the owned pointers of the struct at absolute
 * offsets, flattened through embedded models, with plain scalars left out.
 * A string, a byte buffer, a list of strings or a json_t is one step; any
 * other owning value (lists of other kinds, maps, unions, pointed-to
 * models) is a step that calls release() on its type. model_release() runs
 * the program when there is one, so every clear (bk_clear, decoder failure
 * paths, nested models) frees exactly what the generic walk frees.
 */
#include <stddef.h>
#include "internal.h"

/* The steps of a clear program. */
enum { CLR_FREE, CLR_STRS, CLR_JSON, CLR_TYPE };

struct bk__clear_op {
    size_t offset;          /* absolute within the struct */
    const bk__type *t;      /* CLR_TYPE: the value's type */
    int kind;               /* CLR_FREE: bk__free the pointer at offset (a str,
                             * or a bk_bytes' data); CLR_STRS: a bk_strs;
                             * CLR_JSON: json_decref; CLR_TYPE: release() */
};

/* Longest program made (a model embedding the same model many times over
 * could otherwise unfold without bound): longer ones keep the walk. */
#define CLEAR_MAX 1024

/* Whether a value of this type can own heap memory. */
static bool owns(const bk__type *t)
{
    switch (t->kind) {
    case BK_STR: case BK_BYTES: case BK_JSON: case BK_MODEL: case BK_MODEL_PTR:
    case BK_LIST: case BK_MAP: case BK_UNION:
        return true;
    default:
        return false;
    }
}

static void release(const bk__type *t, void *p);

/* Release every non-skipped declared field (flattened models are embedded,
 * so releasing the declared field releases them). */
static void model_release(const bk_model *m, void *obj)
{
    char *base = obj;
    if (m->clear_ready) {
        const struct bk__clear_op *op = m->clear;
        size_t k = 0, n = m->nclear;
        for (; k < n && op->kind == CLR_FREE; k++, op++)   /* they come first */
            bk__free(*(void **)(base + op->offset));
        for (; k < n; k++, op++) {
            char *p = base + op->offset;
            switch (op->kind) {
            case CLR_FREE:
                bk__free(*(void **)p);
                break;
            case CLR_STRS: {
                bk_strs *l = (bk_strs *)(void *)p;
                if (l->items) {
                    for (size_t i = 0, n = l->len; i < n; i++)
                        bk__free(l->items[i]);
                    bk__free(l->items);
                }
                break;
            }
            case CLR_JSON:
                json_decref(*(json_t **)p);
                break;
            default:
                release(op->t, p);
                break;
            }
        }
        return;
    }
    for (size_t i = 0; i < m->nfields; i++) {
        const bk__field *f = &m->fields[i];
        if (!f->skip && owns(f->type))
            release(f->type, base + f->offset);
    }
}

static void release(const bk__type *t, void *p)
{
    switch (t->kind) {
    case BK_STR:
        bk__free(*(char **)p);
        break;
    case BK_BYTES:
        bk__free(((bk_bytes *)p)->data);
        break;
    case BK_JSON:
        json_decref(*(json_t **)p);
        break;
    case BK_MODEL:
        model_release(t->model, p);
        break;
    case BK_MODEL_PTR: {
        void *sub = *(void **)p;
        if (sub) {
            model_release(t->model, sub);
            bk__free(sub);
        }
        break;
    }
    case BK_LIST: {
        bk_list *l = p;
        if (l->items && owns(t->elem)) {
            char *it = l->items;
            for (size_t i = 0; i < l->len; i++)
                release(t->elem, it + i * t->elem->size);
        }
        bk__free(l->items);
        break;
    }
    case BK_MAP: {
        bk_map *mp = p;
        if (mp->keys)
            for (size_t i = 0; i < mp->len; i++)
                bk__free(mp->keys[i]);
        if (mp->values && owns(t->elem)) {
            char *v = mp->values;
            for (size_t i = 0; i < mp->len; i++)
                release(t->elem, v + i * t->elem->size);
        }
        bk__free(mp->keys);
        bk__free(mp->values);
        break;
    }
    case BK_UNION: {
        const bk__union *u = t->uni;
        int tag = *(int *)((char *)p + u->tag_offset);
        if (tag >= 0 && (size_t)tag < u->n && u->variants[tag].type)
            release(u->variants[tag].type, (char *)p + u->variants[tag].offset);
        break;
    }
    default:
        break;
    }
}

void bk__value_clear(const bk__type *t, void *p)
{
    release(t, p);
    memset(p, 0, t->size);
}

void bk__model_clear(const bk_model *m, void *obj)
{
    model_release(m, obj);
    memset(obj, 0, m->size);
}

void bk_clear(const bk_model *model, void *obj)
{
    if (!obj || !bk__model_ok(model))
        return;
    bk__model_clear(model, obj);
}

/* ---- clear programs ---------------------------------------------------------- */

typedef struct cprog {
    struct bk__clear_op *ops;
    size_t n, cap;
    bool fail;                 /* out of memory (oom) or too long: no program */
    bool oom;
} cprog;

static void emit(cprog *c, int kind, size_t offset, const bk__type *t)
{
    if (c->fail)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        if (c->n >= CLEAR_MAX) {
            c->fail = true;
            return;
        }
        struct bk__clear_op *ops = bk__realloc(c->ops, cap * sizeof(*ops));
        if (!ops) {
            c->fail = c->oom = true;
            return;
        }
        c->ops = ops;
        c->cap = cap;
    }
    c->ops[c->n++] = (struct bk__clear_op){ offset, t, kind };
}

/* The steps of model m's fields, the struct at base (as model_release's
 * walk: skipped fields and values that own nothing are left out). Embedded
 * models unfold in place (embedding is acyclic: checked by the build). */
static void compile_fields(cprog *c, const bk_model *m, size_t base)
{
    for (size_t i = 0; i < m->nfields && !c->fail; i++) {
        const bk__field *f = &m->fields[i];
        const bk__type *t = f->type;
        size_t off = base + f->offset;
        if (f->skip || !owns(t))
            continue;
        switch (t->kind) {
        case BK_STR:
            emit(c, CLR_FREE, off, NULL);
            break;
        case BK_BYTES:
            emit(c, CLR_FREE, off + offsetof(bk_bytes, data), NULL);
            break;
        case BK_JSON:
            emit(c, CLR_JSON, off, NULL);
            break;
        case BK_MODEL:
            if (t->model->clear_ready && t->model->nclear == 0)
                break;                      /* owns nothing */
            compile_fields(c, t->model, off);
            break;
        case BK_LIST:
            emit(c, t->elem->kind == BK_STR ? CLR_STRS : CLR_TYPE, off, t);
            break;
        default:
            emit(c, CLR_TYPE, off, t);
            break;
        }
    }
}

bk_status bk__clear_compile(bk_model *m)
{
    cprog c = { NULL, 0, 0, false, false };
    compile_fields(&c, m, 0);
    if (c.fail) {
        bk__free(c.ops);
        return c.oom ? BK_ENOMEM : BK_OK;     /* too long: the walk */
    }
    /* the plain frees first (one tight loop), the other steps after them,
     * each group in field order (what is freed first does not matter:
     * the steps own disjoint memory) */
    size_t nfree = 0;
    for (size_t i = 0; i < c.n; i++)
        if (c.ops[i].kind == CLR_FREE) {
            struct bk__clear_op f = c.ops[i];
            memmove(&c.ops[nfree + 1], &c.ops[nfree], (i - nfree) * sizeof(f));
            c.ops[nfree++] = f;
        }
    bk__free(m->clear);
    m->clear = c.ops;           /* NULL when the model owns nothing */
    m->nclear = c.n;
    m->clear_ready = true;
    return BK_OK;
}
