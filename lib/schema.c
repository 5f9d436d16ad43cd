/*
 * schema.c - JSON Schema (draft 2020-12) and OpenAPI 3.1 components for
 * built models.
 *
 * Every model, union and enum a model reaches gets a schema of its own
 * under its name ("$defs" for JSON Schema, "components/schemas" for
 * OpenAPI), referenced with "$ref"; the document is built with jansson.
 * The schema describes the canonical JSON of the model: what the encoder
 * writes and the decoder accepts. The decoder's leniencies (field aliases,
 * `{"unit": null}` for a unit variant of an externally tagged union, the
 * content of an adjacently tagged unit variant) are not described, and
 * custom validators cannot be; docs/validation.md lists the differences.
 *
 * Entities are processed from a queue in first-reference order (breadth
 * first), so long reference chains do not recurse.
 *
 * The text is written here rather than by json_dumps: jansson cannot hold
 * the maximum of u64 (18446744073709551615) and writes reals with 17
 * digits; this writer prints reals in their shortest exact form
 * (bk__fmt_double) and the u64 maximum, marked by node identity, exactly.
 */
#include <float.h>
#include <stdio.h>
#include "internal.h"

enum { E_MODEL, E_UNION, E_ENUM };

/* An entity that gets a schema under its name. */
typedef struct sent {
    int kind;
    const void *ptr;
    const char *name;
} sent;

typedef struct sctx {
    const char *prefix;          /* "#/$defs/" or "#/components/schemas/" */
    json_t *defs;                /* name -> schema, in first-reference order */
    sent *ents;                  /* every entity met, in first-reference order */
    size_t nents, cents;
    json_t *u64max;              /* the maximum of u64 (written exactly) */
    bool oom;
    bool unsup;                  /* a value jansson cannot hold */
    const char *clash;           /* two different entities have this name */
} sctx;

/* 2^64, the bound above every u64 (a double, exactly). */
#define TWO_POW_64 18446744073709551616.0

/* Pattern of the canonical base64 the decoder accepts for BK_BYTES: padded,
 * and the bits after the last byte zero. */
#define B64_PATTERN "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|" \
    "[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$"

/* ---- building ------------------------------------------------------------------ */

/* o[key] = v, taking v; false (v released) when v is NULL or the set fails
 * (out of memory for jansson). */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0;
}

static bool push(json_t *a, json_t *v)
{
    return v && json_array_append_new(a, v) == 0;
}

static json_t *str_json(const char *s)
{
    return json_string(s);
}

/* A number: integral values in the int64 range as integers, others as
 * reals (NULL and unsup for non-finite ones, which no JSON can hold). */
static json_t *num_json(sctx *c, double v)
{
    if (v >= -9223372036854775808.0 && v < 9223372036854775808.0 && (double)(json_int_t)v == v)
        return json_integer((json_int_t)v);
    if (v != v || v - v != 0) {
        c->unsup = true;
        return NULL;
    }
    return json_real(v);
}

static json_t *size_json(sctx *c, size_t n)
{
    if ((uint64_t)n > (uint64_t)INT64_MAX) {
        c->unsup = true;
        return NULL;
    }
    return json_integer((json_int_t)n);
}

/* A JSON value kept by the model as text (a default, allowed values). */
static json_t *stored_json(sctx *c, const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v && json_error_code(&jerr) != json_error_out_of_memory)
        c->unsup = true;
    return v;
}

/* {"$ref": "<prefix><name>"} for an entity, queued the first time it is
 * met. Entities are told apart by identity; two with one name are checked
 * for equal schemas when the second is written. */
static json_t *ref(sctx *c, int kind, const void *ptr, const char *name)
{
    bool found = false;
    for (size_t i = 0; i < c->nents && !found; i++)
        found = c->ents[i].ptr == ptr;
    if (!found) {
        if (c->nents == c->cents) {
            size_t cap = c->cents ? c->cents * 2 : 16;
            sent *arr = bk__realloc(c->ents, cap * sizeof(*arr));
            if (!arr) {
                c->oom = true;
                return NULL;
            }
            c->ents = arr;
            c->cents = cap;
        }
        c->ents[c->nents].kind = kind;
        c->ents[c->nents].ptr = ptr;
        c->ents[c->nents].name = name;
        c->nents++;
    }
    size_t a = strlen(c->prefix), b = strlen(name);
    char *s = bk__malloc(a + b + 1);
    if (!s) {
        c->oom = true;
        return NULL;
    }
    memcpy(s, c->prefix, a);
    memcpy(s + a, name, b + 1);
    json_t *o = json_object();
    if (!put(o, "$ref", str_json(s))) {
        json_decref(o);
        o = NULL;
    }
    bk__free(s);
    return o;
}

/* {"type": type} */
static json_t *typed(const char *type)
{
    json_t *o = json_object();
    if (!put(o, "type", str_json(type))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* An integer kind: "integer" with the C type's range. */
static json_t *int_schema(sctx *c, bk_kind k)
{
    static const struct { bk_kind k; json_int_t lo, hi; } R[] = {
        { BK_I8, INT8_MIN, INT8_MAX }, { BK_I16, INT16_MIN, INT16_MAX },
        { BK_I32, INT32_MIN, INT32_MAX }, { BK_I64, INT64_MIN, INT64_MAX },
        { BK_U8, 0, UINT8_MAX }, { BK_U16, 0, UINT16_MAX }, { BK_U32, 0, UINT32_MAX },
        { BK_U64, 0, 0 },
    };
    json_t *o = typed("integer");
    for (size_t i = 0; o && i < sizeof(R) / sizeof(R[0]); i++) {
        if (R[i].k != k)
            continue;
        if (!put(o, "minimum", json_integer(R[i].lo))
                || !put(o, "maximum", k == BK_U64 ? json_incref(c->u64max)
                                                  : json_integer(R[i].hi))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *value_schema(sctx *c, const bk__type *t, const bk__check *chk,
    const bk__check *each, bool optional, const char *default_json);

/* The schema of a type before constraints and nullability: a reference
 * for named entities (ptr<> included: the caller makes it nullable). */
static json_t *base_schema(sctx *c, const bk__type *t, const bk__check *each)
{
    json_t *o = NULL;
    switch (t->kind) {
    case BK_BOOL: return typed("boolean");
    case BK_I8: case BK_I16: case BK_I32: case BK_I64:
    case BK_U8: case BK_U16: case BK_U32: case BK_U64:
        return int_schema(c, t->kind);
    case BK_F32:
        o = typed("number");
        if (o && (!put(o, "minimum", json_real(-FLT_MAX)) || !put(o, "maximum", json_real(FLT_MAX))))
            break;
        return o;
    case BK_F64: return typed("number");
    case BK_STR: return typed("string");
    case BK_BYTES:
        o = typed("string");
        if (!o || !put(o, "contentEncoding", str_json("base64"))
                || !put(o, "pattern", str_json(B64_PATTERN)))
            break;
        return o;
    case BK_TIMESTAMP:
    case BK_DATE:
    case BK_UUID:
        o = typed("string");
        if (!o || !put(o, "format", str_json(t->kind == BK_TIMESTAMP ? "date-time"
                : t->kind == BK_DATE ? "date" : "uuid")))
            break;
        return o;
    case BK_ENUM: return ref(c, E_ENUM, t->enm, t->enm->name);
    case BK_MODEL:
    case BK_MODEL_PTR: return ref(c, E_MODEL, t->model, t->model->name);
    case BK_UNION: return ref(c, E_UNION, t->uni, t->uni->name);
    case BK_LIST:
    case BK_MAP:
        o = typed(t->kind == BK_LIST ? "array" : "object");
        if (!o || !put(o, t->kind == BK_LIST ? "items" : "additionalProperties",
                value_schema(c, t->elem, each, NULL, false, NULL)))
            break;
        return o;
    default: /* BK_JSON: anything */
        return json_object();
    }
    json_decref(o);
    return NULL;
}

/* Raise "minimum" (lower "maximum") of o to v unless it is tighter
 * already (integer kinds carry their C range). */
static bool tighten(sctx *c, json_t *o, const char *key, double v, bool lower_is_tighter)
{
    json_t *cur = json_object_get(o, key);
    if (cur) {
        double x = cur == c->u64max ? TWO_POW_64 : json_number_value(cur);
        if (lower_is_tighter ? x <= v : x >= v)
            return true;
    }
    return put(o, key, num_json(c, v));
}

/* {"anyOf": [{key: n1}, {"pattern": re}]} appended to the "allOf" of o.
 * (put and push take their value even when they fail: each is dropped
 * from the cleanup once handed over.) */
static bool push_alt(sctx *c, json_t *o, const char *key, size_t n1, const char *re)
{
    json_t *a = json_object(), *b = json_object(), *any = json_array(), *alt = json_object();
    json_t *all = json_object_get(o, "allOf");
    bool ok = a && b && any && alt && put(a, key, size_json(c, n1))
        && put(b, "pattern", str_json(re));
    if (ok) {
        ok = push(any, a);
        a = NULL;
    }
    if (ok) {
        ok = push(any, b);
        b = NULL;
    }
    if (ok) {
        ok = put(alt, "anyOf", any);
        any = NULL;
    }
    if (ok && !all) {
        all = json_array();
        ok = put(o, "allOf", all);
    }
    if (ok) {
        ok = push(all, alt);
        alt = NULL;
    }
    json_decref(a);
    json_decref(b);
    json_decref(any);
    json_decref(alt);
    return ok;
}

/*
 * Byte lengths of BK_BYTES as constraints on the base64 text, exactly: n
 * bytes take 4*ceil(n/3) characters, the last group padded with one '='
 * per missing byte. At least m bytes: at least 4k characters (k =
 * ceil(m/3)), and at exactly 4k no more padding than the 3k - m bytes to
 * spare. At most M bytes: at most 4k characters (k = ceil(M/3)), and at
 * exactly 4k at least 3k - M padding characters.
 */
static bool bytes_lengths(sctx *c, json_t *o, const bk_check *s)
{
    size_t kmin = 0, rmin = 2, kmax = 0, rmax = 0;
    if (s->has_min_len && s->min_len > 0) {
        kmin = s->min_len / 3 + (s->min_len % 3 != 0);
        rmin = 3 * kmin - s->min_len;
    }
    if (s->has_max_len) {
        kmax = s->max_len / 3 + (s->max_len % 3 != 0);
        rmax = 3 * kmax - s->max_len;
    }
    if (kmin > (size_t)INT64_MAX / 4 - 1 || kmax > (size_t)INT64_MAX / 4) {
        c->unsup = true;
        return false;
    }
    if ((kmin && !put(o, "minLength", size_json(c, 4 * kmin)))
            || (s->has_max_len && !put(o, "maxLength", size_json(c, 4 * kmax))))
        return false;
    if (kmin && rmin < 2
            && !push_alt(c, o, "minLength", 4 * kmin + 1, rmin == 0 ? "[^=]$" : "[^=]=?$"))
        return false;
    if (s->has_max_len && rmax > 0
            && !push_alt(c, o, "maxLength", 4 * kmax - 1, rmax == 1 ? "=$" : "==$"))
        return false;
    return true;
}

/* Add the JSON Schema keywords of constraints s on a value of type t to o
 * (bk__check_new made sure each constraint fits the type). */
static bool apply_check(sctx *c, json_t *o, const bk__type *t, const bk_check *s)
{
    bk_kind k = t->kind;
    if (s->has_min && !(s->min_exclusive ? put(o, "exclusiveMinimum", num_json(c, s->min))
                                         : tighten(c, o, "minimum", s->min, false)))
        return false;
    if (s->has_max && !(s->max_exclusive ? put(o, "exclusiveMaximum", num_json(c, s->max))
                                         : tighten(c, o, "maximum", s->max, true)))
        return false;
    if (s->has_multiple_of && !put(o, "multipleOf", num_json(c, s->multiple_of)))
        return false;
    if (k == BK_BYTES && !bytes_lengths(c, o, s))
        return false;
    if (k == BK_STR && ((s->has_min_len && !put(o, "minLength", size_json(c, s->min_len)))
            || (s->has_max_len && !put(o, "maxLength", size_json(c, s->max_len)))))
        return false;
    if (s->pattern && !put(o, "pattern", str_json(s->pattern)))
        return false;
    if (s->format != BK_FORMAT_NONE && !put(o, "format", str_json(bk__format_name(s->format))))
        return false;
    bool list = k == BK_LIST;
    if ((s->has_min_items && !put(o, list ? "minItems" : "minProperties",
                size_json(c, s->min_items)))
            || (s->has_max_items && !put(o, list ? "maxItems" : "maxProperties",
                size_json(c, s->max_items)))
            || (s->unique_items && !put(o, "uniqueItems", json_true())))
        return false;
    if (s->one_of && !put(o, "enum", stored_json(c, s->one_of)))
        return false;
    if (s->const_value && !put(o, "const", stored_json(c, s->const_value)))
        return false;
    return true;
}

/* o, also accepting null: "type": [type, "null"] when a single type says
 * it all, else {"anyOf": [o, {"type": "null"}]}. Takes o. */
static json_t *nullable(json_t *o)
{
    json_t *type = json_object_get(o, "type");
    if (json_object_size(o) == 0) /* anything, null included */
        return o;
    if (json_is_string(type) && !json_object_get(o, "enum") && !json_object_get(o, "const")) {
        json_t *arr = json_array();
        bool ok = arr && push(arr, json_incref(type)) && push(arr, str_json("null"));
        if (ok) {
            ok = put(o, "type", arr);
            arr = NULL;
        }
        json_decref(arr);
        if (!ok) {
            json_decref(o);
            return NULL;
        }
        return o;
    }
    json_t *any = json_array(), *w = json_object();
    bool ok = any && w;
    if (ok) {
        ok = push(any, o);
        o = NULL;
    }
    ok = ok && push(any, typed("null"));
    if (ok) {
        ok = put(w, "anyOf", any);
        any = NULL;
    }
    json_decref(o);
    json_decref(any);
    if (!ok) {
        json_decref(w);
        return NULL;
    }
    return w;
}

/* The schema of a value of type t with its constraints (chk on the value,
 * each on its elements), null accepted when optional or a pointer, and
 * its default. */
static json_t *value_schema(sctx *c, const bk__type *t, const bk__check *chk,
    const bk__check *each, bool optional, const char *default_json)
{
    json_t *o = base_schema(c, t, each);
    if (!o)
        return NULL;
    if (chk && !apply_check(c, o, t, &chk->src)) {
        json_decref(o);
        return NULL;
    }
    if ((optional || t->kind == BK_MODEL_PTR) && !(o = nullable(o)))
        return NULL;
    if (default_json && !put(o, "default", stored_json(c, default_json))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* {"const": value} */
static json_t *const_of(const char *value)
{
    json_t *o = json_object();
    if (!put(o, "const", str_json(value))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The object schema of model m: its JSON view (flattened fields inline),
 * required keys, additionalProperties false with deny_unknown. With a
 * union u (internal tagging), the tag comes first, required, and const
 * vname. */
static json_t *model_object(sctx *c, const bk_model *m, const bk__union *u, const char *vname)
{
    json_t *o = typed("object"), *props = json_object(), *req = json_array();
    bool ok = o && props && req && put(o, "properties", json_incref(props));
    if (ok && u)
        ok = put(props, u->tag, const_of(vname)) && push(req, str_json(u->tag));
    for (size_t i = 0; ok && i < m->njfields; i++) {
        const bk__jfield *j = &m->jfields[i];
        ok = put(props, j->name, value_schema(c, j->f->type, j->f->check, j->f->elem_check,
                j->f->optional, j->f->default_json))
            && (!j->required || push(req, str_json(j->name)));
    }
    if (ok && json_array_size(req))
        ok = put(o, "required", json_incref(req));
    if (ok && m->deny_unknown)
        ok = put(o, "additionalProperties", json_false());
    json_decref(props);
    json_decref(req);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* An object with the required property k1 (schema v1) and, when k2 is
 * not NULL, k2 (v2), and no other key when closed. Takes v1 and v2. */
static json_t *object_of(const char *k1, json_t *v1, const char *k2, json_t *v2, bool closed)
{
    json_t *o = typed("object"), *props = json_object(), *req = json_array();
    bool ok = o && props && req && put(o, "properties", json_incref(props));
    if (ok) {
        ok = put(props, k1, v1) && push(req, str_json(k1));
        v1 = NULL;
    }
    if (ok && k2) {
        ok = put(props, k2, v2) && push(req, str_json(k2));
        v2 = NULL;
    }
    ok = ok && put(o, "required", json_incref(req))
        && (!closed || put(o, "additionalProperties", json_false()));
    json_decref(v1);
    json_decref(v2);
    json_decref(props);
    json_decref(req);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A union: "oneOf" of its variants in the tagging's representation
 * (json.md#tagged-unions), "anyOf" of the payloads when untagged. An
 * internally tagged payload's object is written inline with the tag (a
 * reference could not admit the tag key when the payload model denies
 * unknown keys). */
static json_t *union_schema(sctx *c, const bk__union *u)
{
    json_t *alts = json_array(), *o = json_object();
    bool ok = alts && o && put(o, u->tagging == BK_UNTAGGED ? "anyOf" : "oneOf",
        json_incref(alts));
    for (size_t i = 0; ok && i < u->n; i++) {
        const bk__variant *v = &u->variants[i];
        json_t *alt = NULL, *payload = NULL;
        if (v->type && u->tagging != BK_TAG_INTERNAL
                && !(payload = value_schema(c, v->type, NULL, NULL, false, NULL))) {
            ok = false;
            break;
        }
        switch (u->tagging) {
        case BK_TAG_EXTERNAL:
            alt = payload ? object_of(v->name, payload, NULL, NULL, true) : const_of(v->name);
            break;
        case BK_TAG_INTERNAL:
            alt = v->type ? model_object(c, v->type->model, u, v->name)
                          : object_of(u->tag, const_of(v->name), NULL, NULL, false);
            break;
        case BK_TAG_ADJACENT:
            alt = object_of(u->tag, const_of(v->name), payload ? u->content : NULL, payload,
                true);
            break;
        default:
            alt = payload ? payload : typed("null");
            break;
        }
        ok = push(alts, alt);
    }
    json_decref(alts);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *enum_schema(const bk__enum *e)
{
    json_t *o = typed("string"), *names = json_array();
    bool ok = o && names && put(o, "enum", json_incref(names));
    for (size_t i = 0; ok && i < e->n; i++)
        ok = push(names, str_json(e->names[i]));
    json_decref(names);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Write the schema of every queued entity into c->defs, following the
 * queue as it grows. False on failure (c->oom, c->unsup or c->clash). */
static bool emit_all(sctx *c)
{
    for (size_t i = 0; i < c->nents; i++) {
        sent e = c->ents[i]; /* ents may move while its schema is made */
        json_t *s = e.kind == E_MODEL ? model_object(c, e.ptr, NULL, NULL)
            : e.kind == E_UNION ? union_schema(c, e.ptr) : enum_schema(e.ptr);
        if (!s)
            return false;
        json_t *prev = json_object_get(c->defs, e.name);
        if (prev) {
            bool same = json_equal(prev, s);
            json_decref(s);
            if (!same) {
                c->clash = e.name;
                return false;
            }
        } else if (!put(c->defs, e.name, s)) {
            return false;
        }
    }
    return true;
}

/* ---- writing -------------------------------------------------------------------- */

static bool app(bk_buf *b, const char *s, size_t n)
{
    return bk__buf_append(b, s, n) == BK_OK;
}

static bool app_str(bk_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    if (!app(b, "\"", 1))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[7] = { '\\', 0, 0, 0, 0, 0, 0 };
        size_t en = 2;
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            en = 6;
            break;
        }
        if (!app(b, s + run, i - run) || !app(b, esc, en))
            return false;
        run = i + 1;
    }
    return app(b, s + run, n - run) && app(b, "\"", 1);
}

static bool newline(bk_buf *b, int indent, int depth)
{
    if (!indent)
        return true;
    if (!app(b, "\n", 1))
        return false;
    for (int i = 0; i < indent * depth; i++)
        if (!app(b, " ", 1))
            return false;
    return true;
}

/* Write v as JSON text: compact, or indented by `indent` spaces a level
 * like json_dumps(JSON_INDENT(n)). */
static bool write_json(bk_buf *b, const sctx *c, const json_t *v, int indent, int depth)
{
    char num[40];
    int n;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *x;
        bool first = true;
        if (json_object_size(v) == 0)
            return app(b, "{}", 2);
        if (!app(b, "{", 1))
            return false;
        json_object_foreach((json_t *)v, key, x) {
            if ((!first && !app(b, ",", 1)) || !newline(b, indent, depth + 1)
                    || !app_str(b, key, strlen(key)) || !app(b, ": ", indent ? 2 : 1)
                    || !write_json(b, c, x, indent, depth + 1))
                return false;
            first = false;
        }
        return newline(b, indent, depth) && app(b, "}", 1);
    }
    case JSON_ARRAY:
        if (json_array_size(v) == 0)
            return app(b, "[]", 2);
        if (!app(b, "[", 1))
            return false;
        for (size_t i = 0; i < json_array_size(v); i++)
            if ((i && !app(b, ",", 1)) || !newline(b, indent, depth + 1)
                    || !write_json(b, c, json_array_get(v, i), indent, depth + 1))
                return false;
        return newline(b, indent, depth) && app(b, "]", 1);
    case JSON_STRING:
        return app_str(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return app(b, num, (size_t)n);
    case JSON_REAL:
        if (v == c->u64max)
            return app(b, "18446744073709551615", 20);
        return app(b, num, bk__fmt_double(num, json_real_value(v)));
    case JSON_TRUE: return app(b, "true", 4);
    case JSON_FALSE: return app(b, "false", 5);
    default: return app(b, "null", 4);
    }
}

/* ---- the entry points ------------------------------------------------------------ */

/* Write the schemas of the queued entities into c->defs (which doc
 * holds), then doc as text into *out. Releases doc and the context. */
static bk_status finish_doc(char **out, size_t *len_out, sctx *c, json_t *doc, bool pretty,
    const char *fn, bk_error **err)
{
    bk_status st = BK_OK;
    bk_buf b = BK_BUF_INIT;
    if (!c->oom && !c->unsup && emit_all(c)) {
        if (!write_json(&b, c, doc, pretty ? 2 : 0, 0) || bk_buf_detach(out, &b) != BK_OK)
            c->oom = true;
        else if (len_out)
            *len_out = strlen(*out);
    } else if (!c->unsup && !c->clash) {
        c->oom = true;
    }
    if (c->clash)
        st = bk__error_set(err, BK_EMODEL, "%s: two different definitions are named %s", fn,
            c->clash);
    else if (c->unsup)
        st = bk__error_set(err, BK_EUNSUPPORTED, "%s: a default or allowed value cannot be "
            "written (an integer beyond the 64-bit range?)", fn);
    else if (c->oom)
        st = bk__error_oom(err);
    if (st != BK_OK) {
        bk__free(*out);
        *out = NULL;
        if (len_out)
            *len_out = 0;
    }
    bk_buf_dispose(&b);
    json_decref(doc);
    json_decref(c->defs);
    json_decref(c->u64max);
    bk__free(c->ents);
    return st;
}

/* Start a context: references under prefix, the definitions object. */
static bool start(sctx *c, const char *prefix)
{
    memset(c, 0, sizeof(*c));
    c->prefix = prefix;
    c->defs = json_object();
    c->u64max = json_real(TWO_POW_64);
    return c->defs && c->u64max;
}

bk_status bk_model_json_schema(char **out, size_t *len_out, const bk_model *model, bool pretty,
    bk_error **err)
{
    sctx c;
    if (out)
        *out = NULL;
    if (len_out)
        *len_out = 0;
    if (!out || !model)
        return bk__error_set(err, BK_EINVAL, "bk_model_json_schema: NULL %s",
            out ? "model" : "out");
    if (!bk__model_ok(model))
        return bk__error_set(err, BK_EMISUSE, "bk_model_json_schema: not a model handle");
    bool ok = start(&c, "#/$defs/");
    json_t *doc = json_object();
    json_t *root = ok ? ref(&c, E_MODEL, model, model->name) : NULL;
    ok = ok && doc && root
        && put(doc, "$schema", str_json("https://json-schema.org/draft/2020-12/schema"))
        && put(doc, "$ref", json_incref(json_object_get(root, "$ref")))
        && put(doc, "$defs", json_incref(c.defs));
    json_decref(root);
    if (!ok)
        c.oom = true;
    return finish_doc(out, len_out, &c, doc, pretty, "bk_model_json_schema", err);
}

bk_status bk_models_openapi(char **out, size_t *len_out, bk_model *const *models, size_t n,
    bool pretty, bk_error **err)
{
    sctx c;
    if (out)
        *out = NULL;
    if (len_out)
        *len_out = 0;
    if (!out || (n && !models))
        return bk__error_set(err, BK_EINVAL, "bk_models_openapi: NULL %s",
            out ? "models" : "out");
    for (size_t i = 0; i < n; i++) {
        if (!models[i])
            return bk__error_set(err, BK_EINVAL, "bk_models_openapi: models[%zu] is NULL", i);
        if (!bk__model_ok(models[i]))
            return bk__error_set(err, BK_EMISUSE, "bk_models_openapi: models[%zu] is not a "
                "model handle", i);
    }
    bool ok = start(&c, "#/components/schemas/");
    json_t *doc = json_object(), *comp = json_object();
    for (size_t i = 0; ok && i < n; i++) {
        json_t *r = ref(&c, E_MODEL, models[i], models[i]->name);
        ok = r != NULL;
        json_decref(r);
    }
    ok = ok && doc && comp && put(doc, "components", json_incref(comp))
        && put(comp, "schemas", json_incref(c.defs));
    json_decref(comp);
    if (!ok)
        c.oom = true;
    return finish_doc(out, len_out, &c, doc, pretty, "bk_models_openapi", err);
}
