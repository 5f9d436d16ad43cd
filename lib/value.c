/*
 * value.c - releasing what the codec allocated inside caller-owned memory.
 *
 * release() walks a value by its type and frees strings, bytes, list and
 * map storage, pointed-to models and json_t references, without zeroing
 * anything; the public entry points zero the outermost value once. It is
 * the single place that knows what each kind owns; the decoder relies on it
 * to undo a failed decode (everything it allocated is always reachable from
 * the target).
 */
#include "internal.h"

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
