/*
 * model_doc.c - model description documents.
 *
 * A document names a root model and lists every model, union and enum it
 * reaches:
 *
 *   {"bk_model":1,"root":"User",
 *    "models":[{"name":"User","rename_all":"camelCase","deny_unknown":true,
 *               "fields":[{"name":"id","type":"i64","primary_key":true}, ...]}],
 *    "unions":[{"name":"Shape","tagging":"internal","tag":"type",
 *               "variants":[{"name":"circle","type":"Circle"},{"name":"none"}]}],
 *    "enums":[{"name":"User_role","values":["admin","member","guest"]}]}
 *
 * Constraints are field attributes after the others ("min": 0, "each":
 * {"max_len": 20}, "validator": "span_ok"); custom validators travel by
 * name only.
 *
 * Reading drives the run-time builder; writing walks any built model. The
 * writer is canonical (fixed key order, attributes only when they differ
 * from the default, entities in first-reference order), so that writing
 * what was read from a written document gives the same bytes.
 */
#include <stdarg.h>
#include <stdio.h>
#include "internal.h"

/* Free with jansson's allocator, which the host may have replaced. */
void bk__json_free(void *p)
{
    json_malloc_t m;
    json_free_t f;
    if (!p)
        return;
    json_get_alloc_funcs(&m, &f);
    f(p);
}

static void *grow(void *arr, size_t n, size_t *cap, size_t elsize)
{
    if (n < *cap)
        return arr;
    size_t c = *cap ? *cap * 2 : 8;
    void *p = bk__realloc(arr, c * elsize);
    if (p)
        *cap = c;
    return p;
}

/* ---- reading ---------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bk_status doc_error(bk_error **err, const char *where, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return bk__model_error(err, NULL, NULL, NULL, NULL, "model description, %s: %s", where,
        msg);
}

/* The string member key of object o, or NULL (an error is set) when it is
 * missing (and required) or not a string. */
static bk_status get_str(const json_t *o, const char *key, bool required, const char *where,
    const char **out, bk_error **err)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v)
        return required ? doc_error(err, where, "missing \"%s\"", key) : BK_OK;
    if (!json_is_string(v))
        return doc_error(err, where, "\"%s\" must be a string", key);
    *out = json_string_value(v);
    return BK_OK;
}

static bk_status get_array(const json_t *o, const char *key, bool required, const char *where,
    const json_t **out, bk_error **err)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v)
        return required ? doc_error(err, where, "missing \"%s\"", key) : BK_OK;
    if (!json_is_array(v))
        return doc_error(err, where, "\"%s\" must be an array", key);
    *out = v;
    return BK_OK;
}

/* Feed enums[i], {"name", "values"}, to the builder. */
static bk_status load_enum(bk_builder *b, const json_t *o, size_t i, bk_error **err)
{
    bk_status st;
    char where[64];
    const char *name;
    const json_t *values;
    const char **names = NULL;
    const char *key;
    const json_t *v;

    snprintf(where, sizeof(where), "enums[%zu]", i);
    if (!json_is_object(o))
        return doc_error(err, where, "must be an object");
    json_object_foreach((json_t *)o, key, v)
        if (strcmp(key, "name") != 0 && strcmp(key, "values") != 0)
            return doc_error(err, where, "unknown key \"%s\"", key);
    if ((st = get_str(o, "name", true, where, &name, err)) != BK_OK
            || (st = get_array(o, "values", true, where, &values, err)) != BK_OK)
        return st;
    size_t n = json_array_size(values);
    if (!(names = bk__calloc(n ? n : 1, sizeof(*names))))
        return bk__error_oom(err);
    for (size_t k = 0; k < n; k++) {
        if (!json_is_string(json_array_get(values, k))) {
            st = bk__model_error(err, "enum", name, NULL, NULL, "values[%zu] is not a string",
                k);
            goto done;
        }
        names[k] = json_string_value(json_array_get(values, k));
    }
    st = bk_builder_enum(b, name, names, n, err);
done:
    bk__free(names);
    return st;
}

/* Feed unions[i] to the builder: name, variants, any other key as a union
 * attribute (unknown keys fail there). */
static bk_status load_union(bk_builder *b, const json_t *o, size_t i, bk_error **err)
{
    bk_status st;
    char where[64];
    const char *name, *key;
    const json_t *variants, *v;

    snprintf(where, sizeof(where), "unions[%zu]", i);
    if (!json_is_object(o))
        return doc_error(err, where, "must be an object");
    if ((st = get_str(o, "name", true, where, &name, err)) != BK_OK
            || (st = get_array(o, "variants", true, where, &variants, err)) != BK_OK)
        return st;
    if ((st = bk_builder_union(b, name, err)) != BK_OK)
        return st;
    json_object_foreach((json_t *)o, key, v) {
        if (strcmp(key, "name") == 0 || strcmp(key, "variants") == 0)
            continue;
        if ((st = bk__builder_union_attr(b, key, v, err)) != BK_OK)
            return st;
    }
    for (size_t k = 0; k < json_array_size(variants); k++) {
        const json_t *vo = json_array_get(variants, k);
        const char *vname, *vtype;
        snprintf(where, sizeof(where), "unions[%zu].variants[%zu]", i, k);
        if (!json_is_object(vo))
            return doc_error(err, where, "must be an object");
        json_object_foreach((json_t *)vo, key, v)
            if (strcmp(key, "name") != 0 && strcmp(key, "type") != 0)
                return bk__model_error(err, "union", name, "variant",
                    json_string_value(json_object_get(vo, "name")), "unknown key \"%s\"", key);
        if ((st = get_str(vo, "name", true, where, &vname, err)) != BK_OK
                || (st = get_str(vo, "type", false, where, &vtype, err)) != BK_OK)
            return st;
        if ((st = bk_builder_variant(b, vname, vtype, err)) != BK_OK)
            return st;
    }
    return BK_OK;
}

/* Feed models[i] to the builder: name, fields (name and type, any other
 * key as a field attribute), any other key as a model attribute. */
static bk_status load_model(bk_builder *b, const json_t *o, size_t i, bk_error **err)
{
    bk_status st;
    char where[64];
    const char *name, *key;
    const json_t *fields, *v;

    snprintf(where, sizeof(where), "models[%zu]", i);
    if (!json_is_object(o))
        return doc_error(err, where, "must be an object");
    if ((st = get_str(o, "name", true, where, &name, err)) != BK_OK
            || (st = get_array(o, "fields", false, where, &fields, err)) != BK_OK)
        return st;
    if ((st = bk_builder_model(b, name, err)) != BK_OK)
        return st;
    json_object_foreach((json_t *)o, key, v) {
        if (strcmp(key, "name") == 0 || strcmp(key, "fields") == 0)
            continue;
        if ((st = bk__builder_model_attr(b, key, v, err)) != BK_OK)
            return st;
    }
    for (size_t k = 0; k < json_array_size(fields); k++) {
        const json_t *fo = json_array_get(fields, k);
        const char *fname, *ftype;
        snprintf(where, sizeof(where), "model %s, fields[%zu]", name, k);
        if (!json_is_object(fo))
            return doc_error(err, where, "must be an object");
        if ((st = get_str(fo, "name", true, where, &fname, err)) != BK_OK
                || (st = get_str(fo, "type", true, where, &ftype, err)) != BK_OK)
            return st;
        if ((json_object_get(fo, "min") && json_object_get(fo, "exclusive_min"))
                || (json_object_get(fo, "max") && json_object_get(fo, "exclusive_max")))
            return bk__model_error(err, "model", name, "field", fname,
                "min and exclusive_min (or max and exclusive_max) both set one bound");
        if ((st = bk_builder_field(b, fname, ftype, err)) != BK_OK)
            return st;
        json_object_foreach((json_t *)fo, key, v) {
            if (strcmp(key, "name") == 0 || strcmp(key, "type") == 0)
                continue;
            if ((st = bk__builder_field_attr(b, key, v, err)) != BK_OK)
                return st;
        }
    }
    return BK_OK;
}

/* ---- validator names -> functions (bk_model_from_doc_ex) --------------------- */

bk_status bk_doc_options_init(bk_doc_options *opts)
{
    if (!opts)
        return BK_EINVAL;
    *opts = (bk_doc_options)BK_DOC_OPTIONS_INIT;
    return BK_OK;
}

/*
 * The function of validator name, declared by model m (field k, or -1 for
 * the model's own): the table's entry, else the resolver's answer. A
 * resolver payload is registered for release on m's schema before it is
 * returned, so that every failure after this point releases it with the
 * schema. BK_EMODEL (unknown name), BK_EUSER (the resolver failed),
 * BK_ENOMEM.
 */
static bk_status resolve_one(bk_validate_fn *fn, void **payload, bk_model *m, long k,
    const char *name, const bk_doc_options *o, bk_error **err)
{
    const char *fname = k >= 0 ? m->fields[k].name : NULL;
    *fn = NULL;
    *payload = NULL;
    for (size_t i = 0; i < o->nvalidators; i++) {
        const bk_doc_validator *v = &o->validators[i];
        if (v->name && v->fn && strcmp(v->name, name) == 0) {
            *fn = v->fn;
            *payload = v->payload;
            return BK_OK;
        }
    }
    if (o->resolve) {
        int rc = o->resolve(fn, payload, m, k, name, o->payload);
        if (rc != 0) {
            *fn = NULL;
            return bk__error_set(err, BK_EUSER, "model %s%s%s: the validator resolver failed "
                "for \"%s\" (%d)", m->name, fname ? ", field " : "", fname ? fname : "",
                name, rc);
        }
        if (*fn && o->release
                && bk__schema_add_release(m->schema, o->release, *payload, o->payload) != BK_OK) {
            o->release(*payload, o->payload);
            *fn = NULL;
            return bk__error_oom(err);
        }
    }
    if (!*fn)
        return bk__model_error(err, "model", m->name, fname ? "field" : NULL, fname,
            "no validator named \"%s\"", name);
    return BK_OK;
}

/*
 * Attach functions to the validator names of a freshly loaded model (its
 * schema held by no one else yet), then recompute which models have
 * checks. Every model of the schema is reached from the root.
 */
static bk_status resolve_validators(bk_model *root, const bk_doc_options *o, bk_error **err)
{
    bk_status st;
    bk__schema *s = root->schema;
    for (size_t i = 0; i < s->nmodels; i++) {
        bk_model *m = s->models[i];
        for (size_t k = 0; k < m->nfields; k++) {
            bk__field *f = &m->fields[k];
            if (f->validate_name && !f->validate
                    && (st = resolve_one(&f->validate, &f->validate_payload, m, (long)k,
                        f->validate_name, o, err)) != BK_OK)
                return st;
        }
        if (m->validate_name && !m->validate
                && (st = resolve_one(&m->validate, &m->validate_payload, m, -1,
                    m->validate_name, o, err)) != BK_OK)
            return st;
    }
    if ((st = bk__schema_refresh_checks(s)) != BK_OK)
        return bk__error_oom(err);
    return BK_OK;
}

/*
 * As bk_model_from_doc, then resolve validator names through opts (see
 * model.h). On any failure the model is dropped, which releases the
 * payloads resolved so far.
 */
bk_status bk_model_from_doc_ex(bk_model **out, const char *doc, size_t len,
    const bk_doc_options *opts, bk_error **err)
{
    bk_status st;
    if (out)
        *out = NULL;
    if (opts && (opts->version < 1 || opts->version > BK_DOC_OPTIONS_VERSION))
        return bk__error_set(err, BK_EINVAL, "bk_model_from_doc_ex: invalid bk_doc_options");
    if ((st = bk_model_from_doc(out, doc, len, err)) != BK_OK || !opts)
        return st;
    if ((st = resolve_validators(*out, opts, err)) != BK_OK) {
        bk_model_unref(*out);
        *out = NULL;
    }
    return st;
}

/*
 * Parse the document, feed its definitions to a fresh builder and build
 * the root. BK_ESYNTAX (with line and column) when it is not JSON;
 * BK_EMODEL when it is not a valid description, naming where.
 */
bk_status bk_model_from_doc(bk_model **out, const char *doc, size_t len, bk_error **err)
{
    bk_status st = BK_OK;
    json_error_t jerr;
    json_t *root = NULL;
    bk_builder *b = NULL;
    const json_t *models, *unions, *enums, *v;
    const char *rootname, *key;

    if (out)
        *out = NULL;
    if (!out || !doc)
        return bk__error_set(err, BK_EINVAL, "bk_model_from_doc: NULL %s", out ? "doc" : "out");
    if (!(root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr))) {
        bk__errors e;
        bool dup = json_error_code(&jerr) == json_error_duplicate_key;
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return bk__error_oom(err);
        bk__errors_init(&e, 1);
        bk__errors_add(&e, dup ? BK_EMODEL : BK_ESYNTAX, "$", dup ? "duplicate_key" : "syntax",
            jerr.position > 0 ? (size_t)jerr.position : 0,
            jerr.line > 0 ? (size_t)jerr.line : 0, jerr.column > 0 ? (size_t)jerr.column : 0,
            "model description: %s", jerr.text);
        return bk__errors_finish(&e, err);
    }
    if (!json_is_object(root)) {
        st = doc_error(err, "$", "the document is not a JSON object");
        goto done;
    }
    json_object_foreach(root, key, v) {
        if (strcmp(key, "bk_model") && strcmp(key, "root") && strcmp(key, "models")
                && strcmp(key, "unions") && strcmp(key, "enums")) {
            st = doc_error(err, "$", "unknown key \"%s\"", key);
            goto done;
        }
    }
    v = json_object_get(root, "bk_model");
    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        st = doc_error(err, "$", "\"bk_model\" must be 1 (the format version)");
        goto done;
    }
    if ((st = get_str(root, "root", true, "$", &rootname, err)) != BK_OK
            || (st = get_array(root, "models", true, "$", &models, err)) != BK_OK
            || (st = get_array(root, "unions", false, "$", &unions, err)) != BK_OK
            || (st = get_array(root, "enums", false, "$", &enums, err)) != BK_OK)
        goto done;
    if ((st = bk_builder_new(&b, err)) != BK_OK)
        goto done;
    for (size_t i = 0; i < json_array_size(enums); i++)
        if ((st = load_enum(b, json_array_get(enums, i), i, err)) != BK_OK)
            goto done;
    for (size_t i = 0; i < json_array_size(unions); i++)
        if ((st = load_union(b, json_array_get(unions, i), i, err)) != BK_OK)
            goto done;
    for (size_t i = 0; i < json_array_size(models); i++)
        if ((st = load_model(b, json_array_get(models, i), i, err)) != BK_OK)
            goto done;
    st = bk_builder_build(out, b, rootname, err);
done:
    bk_builder_free(b);
    json_decref(root);
    return st;
}

/* ---- writing ---------------------------------------------------------------- */

/* Everything a model reaches, in first-reference (depth-first) order. */
typedef struct reach {
    const bk_model **models;
    size_t nmodels, cmodels;
    const bk__union **unions;
    size_t nunions, cunions;
    const bk__enum **enums;
    size_t nenums, cenums;
} reach;

/* Whether p is among the first n items of arr. */
#define SEEN(arr, n, p, found) do { \
        found = false; \
        for (size_t i_ = 0; i_ < (n); i_++) \
            if ((arr)[i_] == (p)) found = true; \
    } while (0)

/* A model or union whose fields or variants are being walked. */
typedef struct rframe {
    const bk_model *m;           /* or NULL for a union */
    const bk__union *u;
    size_t next;                 /* next field/variant to look at */
} rframe;

typedef struct rstack {
    rframe *items;
    size_t n, cap;
} rstack;

/* Note what type t refers to (through lists and maps): a model or union
 * met for the first time is recorded and pushed, so that its own
 * references are walked next; an enum is recorded. */
static bk_status reach_type(reach *r, rstack *k, const bk__type *t)
{
    bool found;
    const bk_model *m = NULL;
    const bk__union *u = NULL;
    while (t->kind == BK_LIST || t->kind == BK_MAP)
        t = t->elem;
    if (t->kind == BK_MODEL || t->kind == BK_MODEL_PTR) {
        m = t->model;
        SEEN(r->models, r->nmodels, m, found);
        if (found)
            return BK_OK;
        const bk_model **arr = grow(r->models, r->nmodels, &r->cmodels, sizeof(*arr));
        if (!arr)
            return BK_ENOMEM;
        r->models = arr;
        r->models[r->nmodels++] = m;
    } else if (t->kind == BK_UNION) {
        u = t->uni;
        SEEN(r->unions, r->nunions, u, found);
        if (found)
            return BK_OK;
        const bk__union **arr = grow(r->unions, r->nunions, &r->cunions, sizeof(*arr));
        if (!arr)
            return BK_ENOMEM;
        r->unions = arr;
        r->unions[r->nunions++] = u;
    } else {
        if (t->kind != BK_ENUM)
            return BK_OK;
        SEEN(r->enums, r->nenums, t->enm, found);
        if (found)
            return BK_OK;
        const bk__enum **arr = grow(r->enums, r->nenums, &r->cenums, sizeof(*arr));
        if (!arr)
            return BK_ENOMEM;
        r->enums = arr;
        r->enums[r->nenums++] = t->enm;
        return BK_OK;
    }
    rframe *arr = grow(k->items, k->n, &k->cap, sizeof(*arr));
    if (!arr)
        return BK_ENOMEM;
    k->items = arr;
    k->items[k->n].m = m;
    k->items[k->n].u = u;
    k->items[k->n].next = 0;
    k->n++;
    return BK_OK;
}

/*
 * Collect everything root reaches, in depth-first first-reference order:
 * models (root first), unions and enums, each once. Iterative (an explicit
 * stack), so long reference chains do not exhaust the C stack.
 */
static bk_status reach_all(reach *r, const bk_model *root)
{
    bk_status st;
    rstack k = { NULL, 0, 0 };
    bk__type self = { .kind = BK_MODEL, .model = (bk_model *)root };

    st = reach_type(r, &k, &self);
    while (st == BK_OK && k.n > 0) {
        rframe *top = &k.items[k.n - 1];
        const bk__type *t = NULL;
        if (top->m && top->next < top->m->nfields)
            t = top->m->fields[top->next++].type;
        else if (!top->m && top->next < top->u->n)
            t = top->u->variants[top->next++].type;
        else
            k.n--;
        if (t)
            st = reach_type(r, &k, t);
    }
    bk__free(k.items);
    return st;
}

/* Set o[key] = v, taking v; false (v released) when v is NULL or the set
 * fails, which with jansson means out of memory. */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0;
}

static bool push(json_t *a, json_t *v)
{
    return v && json_array_append_new(a, v) == 0;
}

static bool put_flag(json_t *o, const char *key, bool on)
{
    return !on || put(o, key, json_true());
}

/* A JSON value read from text kept by the model (a default, allowed
 * values); NULL when out of memory, or (*unsup set) when jansson cannot
 * hold it (integers beyond int64). */
static json_t *stored_json(const char *text, bool *unsup)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v && json_error_code(&jerr) != json_error_out_of_memory)
        *unsup = true;
    return v;
}

/* A bound as written in documents: integral values as integers (so that
 * reading and writing again gives the same bytes), others as reals. */
static json_t *num_json(double v, bool *unsup)
{
    if (v >= -9223372036854775808.0 && v < 9223372036854775808.0 && (double)(json_int_t)v == v)
        return json_integer((json_int_t)v);
    if (v != v || v - v != 0) { /* NaN or infinite: no JSON for it */
        *unsup = true;
        return NULL;
    }
    return json_real(v);
}

static json_t *size_json(size_t n, bool *unsup)
{
    if ((uint64_t)n > (uint64_t)INT64_MAX) {
        *unsup = true;
        return NULL;
    }
    return json_integer((json_int_t)n);
}

/* Put the constraint attributes of c into o, in the fixed order, only
 * those that are set. False when out of memory or (*unsup) not
 * representable. */
static bool put_check(json_t *o, const bk_check *c, bool *unsup)
{
    if (c->has_min && !put(o, c->min_exclusive ? "exclusive_min" : "min", num_json(c->min, unsup)))
        return false;
    if (c->has_max && !put(o, c->max_exclusive ? "exclusive_max" : "max", num_json(c->max, unsup)))
        return false;
    if (c->has_multiple_of && !put(o, "multiple_of", num_json(c->multiple_of, unsup)))
        return false;
    if ((c->has_min_len && !put(o, "min_len", size_json(c->min_len, unsup)))
            || (c->has_max_len && !put(o, "max_len", size_json(c->max_len, unsup)))
            || (c->has_min_items && !put(o, "min_items", size_json(c->min_items, unsup)))
            || (c->has_max_items && !put(o, "max_items", size_json(c->max_items, unsup))))
        return false;
    if (!put_flag(o, "unique_items", c->unique_items))
        return false;
    if (c->pattern && !put(o, "pattern", json_string(c->pattern)))
        return false;
    if (c->format != BK_FORMAT_NONE && !put(o, "format", json_string(bk__format_name(c->format))))
        return false;
    if (c->one_of && !put(o, "one_of", stored_json(c->one_of, unsup)))
        return false;
    if (c->const_value && !put(o, "const", stored_json(c->const_value, unsup)))
        return false;
    if (c->messages) {
        json_t *m = json_object();
        if (!put(o, "messages", m))
            return false;
        for (size_t i = 0; c->messages[i] && c->messages[i + 1]; i += 2)
            if (!put(m, c->messages[i], json_string(c->messages[i + 1])))
                return false;
    }
    return true;
}

/* The document object of one field, in the fixed key order, attributes
 * only when set; NULL when out of memory, *unsup set when its default
 * or allowed values cannot be represented by jansson (integers beyond
 * int64). */
static json_t *field_doc(const bk__field *f, bool *unsup)
{
    bool ok = false;
    json_t *o = json_object();
    if (!o || !put(o, "name", json_string(f->name)) || !put(o, "type", json_string(f->type->expr)))
        goto done;
    if (f->rename && !put(o, "rename", json_string(f->rename)))
        goto done;
    if (f->naliases) {
        json_t *a = json_array();
        if (!put(o, "aliases", a))
            goto done;
        for (size_t i = 0; i < f->naliases; i++)
            if (!push(a, json_string(f->aliases[i])))
                goto done;
    }
    if (f->default_json && !put(o, "default", stored_json(f->default_json, unsup)))
        goto done;
    if (!put_flag(o, "default_zero", f->default_zero) || !put_flag(o, "optional", f->optional)
            || !put_flag(o, "skip", f->skip))
        goto done;
    if (f->skip_if != BK_SKIP_NEVER
            && !put(o, "skip_if", json_string(bk__skip_if_name(f->skip_if))))
        goto done;
    if (!put_flag(o, "flatten", f->flatten) || !put_flag(o, "primary_key", f->primary_key)
            || !put_flag(o, "auto_id", f->auto_id) || !put_flag(o, "unique", f->unique)
            || !put_flag(o, "index", f->index) || !put_flag(o, "row_version", f->row_version))
        goto done;
    if (f->check && !put_check(o, &f->check->src, unsup))
        goto done;
    if (f->elem_check) {
        json_t *each = json_object();
        if (!put(o, "each", each) || !put_check(each, &f->elem_check->src, unsup))
            goto done;
    }
    ok = !f->validate_name || put(o, "validator", json_string(f->validate_name));
done:
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* The document objects of a model, a union and an enum, keys in the fixed
 * order, defaults left out; NULL when out of memory. */
static json_t *model_doc(const bk_model *m, bool *unsup)
{
    bool ok = false;
    json_t *o = json_object(), *fields = json_array();
    if (!o || !put(o, "name", json_string(m->name)))
        goto done;
    if (m->rename_all != BK_CASE_NONE
            && !put(o, "rename_all", json_string(bk__case_name(m->rename_all))))
        goto done;
    if (!put_flag(o, "deny_unknown", m->deny_unknown))
        goto done;
    if (m->validate_name && !put(o, "validator", json_string(m->validate_name)))
        goto done;
    if (!put(o, "fields", json_incref(fields)))
        goto done;
    for (size_t i = 0; i < m->nfields; i++)
        if (!push(fields, field_doc(&m->fields[i], unsup)))
            goto done;
    ok = true;
done:
    json_decref(fields);
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static json_t *union_doc(const bk__union *u)
{
    bool ok = false;
    json_t *o = json_object(), *vs = json_array();
    if (!o || !put(o, "name", json_string(u->name)))
        goto done;
    if (u->tagging != BK_TAG_EXTERNAL
            && !put(o, "tagging", json_string(bk__tagging_name(u->tagging))))
        goto done;
    if (strcmp(u->tag, "type") != 0 && !put(o, "tag", json_string(u->tag)))
        goto done;
    if (strcmp(u->content, "content") != 0 && !put(o, "content", json_string(u->content)))
        goto done;
    if (!put(o, "variants", json_incref(vs)))
        goto done;
    for (size_t i = 0; i < u->n; i++) {
        json_t *v = json_object();
        if (!push(vs, v) || !put(v, "name", json_string(u->variants[i].name)))
            goto done;
        if (u->variants[i].type && !put(v, "type", json_string(u->variants[i].type->expr)))
            goto done;
    }
    ok = true;
done:
    json_decref(vs);
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static json_t *enum_doc(const bk__enum *e)
{
    bool ok = false;
    json_t *o = json_object(), *vs = json_array();
    if (!o || !put(o, "name", json_string(e->name)) || !put(o, "values", json_incref(vs)))
        goto done;
    for (size_t i = 0; i < e->n; i++)
        if (!push(vs, json_string(e->names[i])))
            goto done;
    ok = true;
done:
    json_decref(vs);
    if (!ok) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/*
 * Write model as a description document (see the top of this file). The
 * result is allocated with bk_malloc. BK_ENOMEM; BK_EUNSUPPORTED for a
 * default or allowed value that jansson cannot hold (an integer beyond
 * int64).
 */
bk_status bk_model_to_doc(char **out, size_t *len_out, const bk_model *model, bool pretty,
    bk_error **err)
{
    bk_status st = BK_OK;
    reach r = { 0 };
    json_t *doc = NULL, *arr = NULL;
    char *text = NULL;
    bool unsup = false;

    if (out)
        *out = NULL;
    if (len_out)
        *len_out = 0;
    if (!out || !model)
        return bk__error_set(err, BK_EINVAL, "bk_model_to_doc: NULL %s", out ? "model" : "out");
    if (!bk__model_ok(model))
        return bk__error_set(err, BK_EMISUSE, "bk_model_to_doc: not a model handle");
    if ((st = reach_all(&r, model)) != BK_OK)
        goto done;
    st = BK_ENOMEM;
    if (!(doc = json_object()) || !put(doc, "bk_model", json_integer(1))
            || !put(doc, "root", json_string(model->name)))
        goto done;
    if (!put(doc, "models", (arr = json_array())))
        goto done;
    for (size_t i = 0; i < r.nmodels; i++)
        if (!push(arr, model_doc(r.models[i], &unsup)))
            goto done;
    if (r.nunions) {
        if (!put(doc, "unions", (arr = json_array())))
            goto done;
        for (size_t i = 0; i < r.nunions; i++)
            if (!push(arr, union_doc(r.unions[i])))
                goto done;
    }
    if (r.nenums) {
        if (!put(doc, "enums", (arr = json_array())))
            goto done;
        for (size_t i = 0; i < r.nenums; i++)
            if (!push(arr, enum_doc(r.enums[i])))
                goto done;
    }
    if (!(text = json_dumps(doc, pretty ? JSON_INDENT(2) : JSON_COMPACT)))
        goto done;
    size_t n = strlen(text);
    if (!(*out = bk__malloc(n + 1)))
        goto done;
    memcpy(*out, text, n + 1);
    if (len_out)
        *len_out = n;
    st = BK_OK;
done:
    if (unsup) {
        bk__free(*out);
        *out = NULL;
        if (len_out)
            *len_out = 0;
        st = bk__error_set(err, BK_EUNSUPPORTED,
            "bk_model_to_doc: a default or constraint of model %s cannot be written "
            "(integer out of range?)",
            model->name);
    } else if (st == BK_ENOMEM) {
        bk__error_oom(err);
    }
    bk__json_free(text);
    json_decref(doc);
    bk__free(r.models);
    bk__free(r.unions);
    bk__free(r.enums);
    return st;
}
