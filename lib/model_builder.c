/*
 * model_builder.c - the run-time model builder and type expressions.
 *
 * A builder holds named definitions as plain data (type expressions are
 * kept as text) and turns the one asked for, with everything it refers to,
 * into a new schema: names are resolved, run-time models and unions are
 * laid out like the C structs a compiler would make for them, and
 * model.c's finishing pass does the rest. Models of other schemas made
 * available with bk_builder_use keep their layout and are referenced, not
 * copied; the new schema holds a reference on their schemas.
 */
#include <stdio.h>
#include <stdalign.h>
#include "internal.h"

#define MAX_EXPR_DEPTH 32
#define MAX_EMBED_DEPTH 256 /* as in model.c */

/* Constraints as set by attributes; checked against the type at build. */
typedef struct bcheck {
    bk_check c;                  /* its strings point to the members below */
    char *pattern, *one_of, *const_value;   /* one_of, const: compact JSON */
    char **messages;             /* code, message, ..., NULL */
} bcheck;

typedef struct bfield {
    char *name;
    char *type;                  /* type expression, syntax checked */
    char *rename;
    char **aliases;
    size_t naliases;
    char *default_json;          /* compact JSON text */
    bool default_zero, optional, skip, flatten;
    bool primary_key, auto_id, unique, index, row_version;
    bk_skip_if skip_if;
    bcheck check, each;          /* on the value; on each element */
    bk_validate_fn validate;
    void *validate_payload;
    char *validate_name;
} bfield;

typedef struct bmodel {
    char *name;
    bk_case rename_all;
    bool deny_unknown;
    bk_validate_fn validate;
    void *validate_payload;
    char *validate_name;
    bfield *fields;
    size_t n, cap;
} bmodel;

typedef struct bvariant {
    char *name;
    char *type;                  /* NULL: unit */
} bvariant;

typedef struct bunion {
    char *name;
    bk_tagging tagging;
    char *tag, *content;         /* NULL: the defaults */
    bvariant *variants;
    size_t n, cap;
} bunion;

typedef struct benum {
    char *name;
    char **names;
    size_t n;
} benum;

enum { EXT_MODEL = 1, EXT_UNION, EXT_ENUM };

/* A named entity of a used (already built) model. */
typedef struct bext {
    const char *name;            /* borrowed from the entity */
    int kind;
    void *ptr;
} bext;

enum { CUR_NONE, CUR_MODEL, CUR_UNION };

struct bk_builder {
    uint32_t magic;
    bmodel *models;
    size_t nmodels, cmodels;
    bunion *unions;
    size_t nunions, cunions;
    benum *enums;
    size_t nenums, cenums;
    bk_model **used;             /* one reference each */
    size_t nused, cused;
    bext *ext;
    size_t next, cext;
    int cur;                     /* what the *_attr / field / variant calls apply to */
};

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

static bk_status check_builder(const bk_builder *b, bk_error **err)
{
    if (!b)
        return bk__error_set(err, BK_EINVAL, "builder is NULL");
    if (b->magic != BK__MAGIC_BUILDER)
        return bk__error_set(err, BK_EMISUSE, "not a builder handle");
    return BK_OK;
}

static bk_status oom(bk_error **err)
{
    return bk__error_oom(err);
}

/* ---- lifetime ------------------------------------------------------------- */

bk_status bk_builder_new(bk_builder **out, bk_error **err)
{
    if (!out)
        return bk__error_set(err, BK_EINVAL, "bk_builder_new: NULL out");
    *out = bk__calloc(1, sizeof(**out));
    if (!*out)
        return oom(err);
    (*out)->magic = BK__MAGIC_BUILDER;
    return BK_OK;
}

static void bcheck_dispose(bcheck *c)
{
    bk__free(c->pattern);
    bk__free(c->one_of);
    bk__free(c->const_value);
    for (size_t i = 0; c->messages && c->messages[i]; i++)
        bk__free(c->messages[i]);
    bk__free(c->messages);
    memset(c, 0, sizeof(*c));
}

static void bfield_dispose(bfield *f)
{
    bcheck_dispose(&f->check);
    bcheck_dispose(&f->each);
    bk__free(f->validate_name);
    bk__free(f->name);
    bk__free(f->type);
    bk__free(f->rename);
    for (size_t i = 0; i < f->naliases; i++)
        bk__free(f->aliases[i]);
    bk__free(f->aliases);
    bk__free(f->default_json);
}

/* Free the builder's definitions and drop its references on used models;
 * models it built keep their own references. NULL and non-builder safe. */
void bk_builder_free(bk_builder *b)
{
    if (!b || b->magic != BK__MAGIC_BUILDER)
        return;
    for (size_t i = 0; i < b->nmodels; i++) {
        bmodel *m = &b->models[i];
        for (size_t k = 0; k < m->n; k++)
            bfield_dispose(&m->fields[k]);
        bk__free(m->fields);
        bk__free(m->name);
        bk__free(m->validate_name);
    }
    for (size_t i = 0; i < b->nunions; i++) {
        bunion *u = &b->unions[i];
        for (size_t k = 0; k < u->n; k++) {
            bk__free(u->variants[k].name);
            bk__free(u->variants[k].type);
        }
        bk__free(u->variants);
        bk__free(u->name);
        bk__free(u->tag);
        bk__free(u->content);
    }
    for (size_t i = 0; i < b->nenums; i++) {
        for (size_t k = 0; k < b->enums[i].n; k++)
            bk__free(b->enums[i].names[k]);
        bk__free(b->enums[i].names);
        bk__free(b->enums[i].name);
    }
    for (size_t i = 0; i < b->nused; i++)
        bk_model_unref(b->used[i]);
    bk__free(b->models);
    bk__free(b->unions);
    bk__free(b->enums);
    bk__free(b->used);
    bk__free(b->ext);
    b->magic = 0;
    bk__free(b);
}

/* ---- names -------------------------------------------------------------------- */

static bool reserved(const char *s, size_t len)
{
    return bk__model_name_reserved(s, len);
}

static bool name_eq(const char *a, const char *s, size_t len)
{
    return strlen(a) == len && memcmp(a, s, len) == 0;
}

static long find_model(const bk_builder *b, const char *s, size_t len)
{
    for (size_t i = 0; i < b->nmodels; i++)
        if (name_eq(b->models[i].name, s, len))
            return (long)i;
    return -1;
}

static long find_union(const bk_builder *b, const char *s, size_t len)
{
    for (size_t i = 0; i < b->nunions; i++)
        if (name_eq(b->unions[i].name, s, len))
            return (long)i;
    return -1;
}

static long find_enum(const bk_builder *b, const char *s, size_t len)
{
    for (size_t i = 0; i < b->nenums; i++)
        if (name_eq(b->enums[i].name, s, len))
            return (long)i;
    return -1;
}

static long find_ext(const bk_builder *b, const char *s, size_t len)
{
    for (size_t i = 0; i < b->next; i++)
        if (name_eq(b->ext[i].name, s, len))
            return (long)i;
    return -1;
}

/* A new definition's name must be an identifier, not a keyword, and free. */
static bk_status check_new_name(const bk_builder *b, const char *what, const char *name,
    bk_error **err)
{
    if (!name)
        return bk__error_set(err, BK_EINVAL, "%s name is NULL", what);
    size_t len = strlen(name);
    if (!bk__model_is_ident(name))
        return bk__model_error(err, what, name, NULL, NULL,
            "the name is not an identifier ([A-Za-z_][A-Za-z0-9_.]*)");
    if (reserved(name, len))
        return bk__model_error(err, what, name, NULL, NULL,
            "the name is reserved for a type expression");
    if (find_model(b, name, len) >= 0 || find_union(b, name, len) >= 0
            || find_enum(b, name, len) >= 0 || find_ext(b, name, len) >= 0)
        return bk__model_error(err, what, name, NULL, NULL, "the name is already defined");
    return BK_OK;
}

/* ---- type expressions ------------------------------------------------------------ */

/* A created entity whose fields or variants are still to be resolved. */
typedef struct pending {
    bool is_union;
    size_t i;                    /* index in the builder's models or unions */
} pending;

/* Resolution context of one bk_builder_build. Entities are created on
 * first reference and queued; bk_builder_build resolves the queue in a
 * loop, so long reference chains do not recurse. */
typedef struct bctx {
    bk_builder *b;
    bk__schema *s;
    bk_model **models;           /* per builder model: built entity or NULL */
    bk__union **unions;
    bk__enum **enums;
    pending *queue;
    size_t nqueue, cqueue;
    bk_error **err;
} bctx;

static bk_status make_model(bctx *c, size_t i, bk_model **out);
static bk_status make_union(bctx *c, size_t i, const bk__union **out);
static bk_status make_enum(bctx *c, size_t i, const bk__enum **out);

static size_t ident_len(const char *s, size_t pos, size_t len)
{
    size_t i = pos;
    if (i < len && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
        for (i++; i < len; i++)
            if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
                    || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.'))
                break;
    return i - pos;
}

/* Where an expression is used, for messages. */
typedef struct ectx {
    const char *kind, *name, *mkind, *member;
} ectx;

/*
 * Resolve the name s[0..len) to a model, union or enum (creating the
 * builder's definitions on first use). ptr: the name appears in ptr<...>.
 * c == NULL only checks nothing (syntax mode).
 */
static bk_status resolve_name(bctx *c, const ectx *w, const char *s, size_t len, bool ptr,
    const bk__type **out)
{
    bk_status st;
    bk_model *m = NULL;
    const bk__union *u = NULL;
    const bk__enum *e = NULL;
    long i;

    if ((i = find_model(c->b, s, len)) >= 0) {
        if ((st = make_model(c, (size_t)i, &m)) != BK_OK)
            return st;
    } else if ((i = find_union(c->b, s, len)) >= 0) {
        if ((st = make_union(c, (size_t)i, &u)) != BK_OK)
            return st;
    } else if ((i = find_enum(c->b, s, len)) >= 0) {
        if ((st = make_enum(c, (size_t)i, &e)) != BK_OK)
            return st;
    } else if ((i = find_ext(c->b, s, len)) >= 0) {
        const bext *x = &c->b->ext[i];
        if (x->kind == EXT_MODEL)
            m = x->ptr;
        else if (x->kind == EXT_UNION)
            u = x->ptr;
        else
            e = x->ptr;
    } else {
        return bk__model_error(c->err, w->kind, w->name, w->mkind, w->member,
            "unknown type name \"%.*s\"", (int)len, s);
    }
    if (ptr && !m)
        return bk__model_error(c->err, w->kind, w->name, w->mkind, w->member,
            "ptr<%.*s>: %.*s is not a model", (int)len, s, (int)len, s);
    if (m)
        *out = bk__schema_type(c->s, ptr ? BK_MODEL_PTR : BK_MODEL, NULL, m, NULL, NULL);
    else if (u)
        *out = bk__schema_type(c->s, BK_UNION, NULL, NULL, NULL, u);
    else
        *out = bk__schema_type(c->s, BK_ENUM, NULL, NULL, e, NULL);
    return *out ? BK_OK : BK_ENOMEM;
}

static bk_status not_an_expr(const ectx *w, bk_error **err, const char *s, size_t len)
{
    return bk__model_error(err, w->kind, w->name, w->mkind, w->member,
        "\"%.*s\" is not a type expression (bool, i8..u64, f32, f64, str, bytes, "
        "timestamp, date, uuid, json, a name, ptr<Model>, list<T>, map<T>)", (int)len, s);
}

/*
 * Parse one type expression from s[*pos..len) (recursive descent over
 * `keyword | Name | ptr<Name> | list<T> | map<T>`). With c == NULL only the
 * syntax is checked; otherwise names are resolved and *out receives the
 * schema's type node. BK_EMODEL with the expression quoted.
 */
static bk_status parse_expr(bctx *c, const ectx *w, bk_error **err, const char *s,
    size_t *pos, size_t len, int depth, const bk__type **out)
{
    bk_status st;
    size_t n = ident_len(s, *pos, len);
    const char *id = s + *pos;
    const bk__type *inner = NULL;

    if (depth > MAX_EXPR_DEPTH)
        return bk__model_error(err, w->kind, w->name, w->mkind, w->member,
            "type expression \"%.*s\" is nested too deeply", (int)len, s);
    if (n == 0)
        return not_an_expr(w, err, s, len);
    *pos += n;
    bool angle = *pos < len && s[*pos] == '<';
    if (angle && (name_eq("list", id, n) || name_eq("map", id, n))) {
        (*pos)++;
        if ((st = parse_expr(c, w, err, s, pos, len, depth + 1, &inner)) != BK_OK)
            return st;
        if (*pos >= len || s[*pos] != '>')
            return not_an_expr(w, err, s, len);
        (*pos)++;
        if (!c)
            return BK_OK;
        *out = bk__schema_type(c->s, id[0] == 'l' ? BK_LIST : BK_MAP, inner, NULL, NULL, NULL);
        return *out ? BK_OK : BK_ENOMEM;
    }
    if (angle && name_eq("ptr", id, n)) {
        (*pos)++;
        size_t m = ident_len(s, *pos, len);
        const char *name = s + *pos;
        if (m == 0 || reserved(name, m))
            return not_an_expr(w, err, s, len);
        *pos += m;
        if (*pos >= len || s[*pos] != '>')
            return not_an_expr(w, err, s, len);
        (*pos)++;
        return c ? resolve_name(c, w, name, m, true, out) : BK_OK;
    }
    if (angle)
        return not_an_expr(w, err, s, len);
    bk_kind k = bk__kind_from_keyword(id, n);
    if (k != BK_KIND_NONE) {
        if (!c)
            return BK_OK;
        *out = bk__schema_type(c->s, k, NULL, NULL, NULL, NULL);
        return *out ? BK_OK : BK_ENOMEM;
    }
    if (reserved(id, n))
        return not_an_expr(w, err, s, len);
    return c ? resolve_name(c, w, id, n, false, out) : BK_OK;
}

/* Parse a whole expression: syntax only (c == NULL) or resolved. */
static bk_status parse_type(bctx *c, const ectx *w, bk_error **err, const char *s,
    const bk__type **out)
{
    size_t pos = 0, len = strlen(s);
    bk_status st = parse_expr(c, w, err, s, &pos, len, 0, out);
    if (st == BK_OK && pos != len)
        st = bk__model_error(err, w->kind, w->name, w->mkind, w->member,
            "\"%s\" is not a type expression (trailing characters)", s);
    return st;
}

/* ---- definitions ------------------------------------------------------------------ */

bk_status bk_builder_model(bk_builder *b, const char *name, bk_error **err)
{
    bk_status st;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if ((st = check_new_name(b, "model", name, err)) != BK_OK)
        return st;
    bmodel *arr = grow(b->models, b->nmodels, &b->cmodels, sizeof(*arr));
    if (!arr)
        return oom(err);
    b->models = arr;
    bmodel *m = &b->models[b->nmodels];
    memset(m, 0, sizeof(*m));
    if (!(m->name = bk__strdup(name)))
        return oom(err);
    b->nmodels++;
    b->cur = CUR_MODEL;
    return BK_OK;
}

static bmodel *cur_model(bk_builder *b)
{
    return b->cur == CUR_MODEL ? &b->models[b->nmodels - 1] : NULL;
}

static bunion *cur_union(bk_builder *b)
{
    return b->cur == CUR_UNION ? &b->unions[b->nunions - 1] : NULL;
}

/*
 * Append a field to the current model. The name must be new in the model;
 * the type expression is checked for syntax now and resolved at build
 * time. BK_EMODEL (no current model, duplicate name, bad expression),
 * BK_EINVAL, BK_ENOMEM; the builder is unchanged on failure.
 */
bk_status bk_builder_field(bk_builder *b, const char *name, const char *type, bk_error **err)
{
    bk_status st;
    bmodel *m;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if (!(m = cur_model(b)))
        return bk__model_error(err, NULL, NULL, NULL, NULL,
            "field %s: no current model (call bk_builder_model first)", name ? name : "?");
    if (!name || !type)
        return bk__error_set(err, BK_EINVAL, "field name or type is NULL");
    ectx w = { "model", m->name, "field", name };
    if (!name[0] || !bk__utf8_valid((const unsigned char *)name, strlen(name)))
        return bk__model_error(err, "model", m->name, "field", name,
            "the field name is empty or not valid UTF-8");
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->fields[i].name, name) == 0)
            return bk__model_error(err, "model", m->name, "field", name,
                "two fields have this name");
    if ((st = parse_type(NULL, &w, err, type, NULL)) != BK_OK)
        return st;
    bfield *arr = grow(m->fields, m->n, &m->cap, sizeof(*arr));
    if (!arr)
        return oom(err);
    m->fields = arr;
    bfield *f = &m->fields[m->n];
    memset(f, 0, sizeof(*f));
    f->name = bk__strdup(name);
    f->type = bk__strdup(type);
    if (!f->name || !f->type) {
        bfield_dispose(f);
        return oom(err);
    }
    m->n++;
    return BK_OK;
}

/* Define an enum from n distinct names (copied). The current model or
 * union stays current. BK_EMODEL, BK_EINVAL, BK_ENOMEM; unchanged on
 * failure. */
bk_status bk_builder_enum(bk_builder *b, const char *name, const char *const *names, size_t n,
    bk_error **err)
{
    bk_status st;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if ((st = check_new_name(b, "enum", name, err)) != BK_OK)
        return st;
    if (n && !names)
        return bk__error_set(err, BK_EINVAL, "enum %s: names is NULL", name);
    if (n == 0)
        return bk__model_error(err, "enum", name, NULL, NULL, "no names");
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            return bk__error_set(err, BK_EINVAL, "enum %s: name #%zu is NULL", name, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return bk__model_error(err, "enum", name, NULL, NULL,
                    "the name \"%s\" appears twice", names[i]);
    }
    benum *arr = grow(b->enums, b->nenums, &b->cenums, sizeof(*arr));
    if (!arr)
        return oom(err);
    b->enums = arr;
    benum *e = &b->enums[b->nenums];
    memset(e, 0, sizeof(*e));
    st = BK_ENOMEM;
    e->name = bk__strdup(name);
    e->names = bk__calloc(n, sizeof(*e->names));
    if (!e->name || !e->names)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (!(e->names[i] = bk__strdup(names[i])))
            goto done;
        e->n = i + 1;
    }
    b->nenums++;
    st = BK_OK;
done:
    if (st != BK_OK) {
        for (size_t i = 0; i < e->n; i++)
            bk__free(e->names[i]);
        bk__free(e->names);
        bk__free(e->name);
        oom(err);
    }
    return st;
}

/* Start a union definition; it becomes current (the current model, if
 * any, is closed). */
bk_status bk_builder_union(bk_builder *b, const char *name, bk_error **err)
{
    bk_status st;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if ((st = check_new_name(b, "union", name, err)) != BK_OK)
        return st;
    bunion *arr = grow(b->unions, b->nunions, &b->cunions, sizeof(*arr));
    if (!arr)
        return oom(err);
    b->unions = arr;
    bunion *u = &b->unions[b->nunions];
    memset(u, 0, sizeof(*u));
    if (!(u->name = bk__strdup(name)))
        return oom(err);
    b->nunions++;
    b->cur = CUR_UNION;
    return BK_OK;
}

/* Append a variant (type NULL: unit) to the current union; the expression
 * is checked for syntax now, resolved at build time. */
bk_status bk_builder_variant(bk_builder *b, const char *name, const char *type, bk_error **err)
{
    bk_status st;
    bunion *u;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if (!(u = cur_union(b)))
        return bk__model_error(err, NULL, NULL, NULL, NULL,
            "variant %s: no current union (call bk_builder_union first)", name ? name : "?");
    if (!name)
        return bk__error_set(err, BK_EINVAL, "variant name is NULL");
    ectx w = { "union", u->name, "variant", name };
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->variants[i].name, name) == 0)
            return bk__model_error(err, "union", u->name, "variant", name,
                "duplicate variant name");
    if (type && (st = parse_type(NULL, &w, err, type, NULL)) != BK_OK)
        return st;
    bvariant *arr = grow(u->variants, u->n, &u->cap, sizeof(*arr));
    if (!arr)
        return oom(err);
    u->variants = arr;
    bvariant *v = &u->variants[u->n];
    v->name = bk__strdup(name);
    v->type = type ? bk__strdup(type) : NULL;
    if (!v->name || (type && !v->type)) {
        bk__free(v->name);
        bk__free(v->type);
        return oom(err);
    }
    u->n++;
    return BK_OK;
}

/* ---- attributes -------------------------------------------------------------------- */

/* Parse an attribute's JSON text; BK_EMODEL when it is not JSON. */
static bk_status parse_value(json_t **out, const char *key, const char *text,
    const ectx *w, bk_error **err)
{
    json_error_t jerr;
    if (!key || !text)
        return bk__error_set(err, BK_EINVAL, "attribute key or value is NULL");
    *out = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!*out)
        return bk__model_error(err, w->kind, w->name, w->mkind, w->member,
            "attribute %s: value is not JSON: %s", key, jerr.text);
    return BK_OK;
}

static bk_status want(bool ok, const ectx *w, const char *key, const char *what,
    bk_error **err)
{
    if (ok)
        return BK_OK;
    return bk__model_error(err, w->kind, w->name, w->mkind, w->member,
        "attribute %s expects %s", key, what);
}

static bk_status set_str(char **dst, const json_t *v)
{
    char *s = bk__strdup(json_string_value(v));
    if (!s)
        return BK_ENOMEM;
    bk__free(*dst);
    *dst = s;
    return BK_OK;
}

/* The compact JSON text of v, in bk__malloc memory; NULL on OOM. */
static char *compact_json(const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *copy = text ? bk__strdup(text) : NULL;
    bk__json_free(text);
    return copy;
}

/* Replace *dst (owned) with s (owned); false (s NULL) means out of memory. */
static bool replace_str(char **dst, char *s)
{
    if (!s)
        return false;
    bk__free(*dst);
    *dst = s;
    return true;
}

#define FORMAT_NAMES "one of \"email\", \"uri\", \"uuid\", \"hostname\", \"ipv4\", " \
    "\"ipv6\", \"date-time\", \"date\", \"time\""

/* Of the two keys that set one bound (min and exclusive_min, max and
 * exclusive_max), the one met second in object o, or NULL. */
static const char *bound_clash(const json_t *o)
{
    if (json_object_get(o, "min") && json_object_get(o, "exclusive_min"))
        return "min";
    if (json_object_get(o, "max") && json_object_get(o, "exclusive_max"))
        return "max";
    return NULL;
}

/*
 * Set constraint attribute key of c from v (min, exclusive_min, max,
 * exclusive_max, multiple_of, min_len, max_len, min_items, max_items,
 * unique_items, pattern, format, one_of, const, messages). *known is false,
 * and nothing changes, when key is not one of them. A bound replaces the
 * previous bound on its side (min and exclusive_min set one lower bound).
 * Whether a constraint fits the field's type is checked when the model is
 * built. BK_EMODEL for a value of the wrong type (named `label` in the
 * message), BK_ENOMEM; c is unchanged on failure.
 */
static bk_status check_attr(bcheck *c, const char *key, const char *label, const json_t *v,
    const ectx *w, bool *known, bk_error **err)
{
    bk_status st;
    size_t *len = NULL;
    bool *has = NULL;
    bool lo = strcmp(key, "min") == 0, xlo = strcmp(key, "exclusive_min") == 0;
    bool hi = strcmp(key, "max") == 0, xhi = strcmp(key, "exclusive_max") == 0;
    *known = true;
    if (lo || xlo || hi || xhi) {
        if ((st = want(json_is_number(v), w, label, "a number", err)) != BK_OK)
            return st;
        if (lo || xlo) {
            c->c.has_min = true;
            c->c.min_exclusive = xlo;
            c->c.min = json_number_value(v);
        } else {
            c->c.has_max = true;
            c->c.max_exclusive = xhi;
            c->c.max = json_number_value(v);
        }
        return BK_OK;
    }
    if (strcmp(key, "multiple_of") == 0) {
        if ((st = want(json_is_number(v) && json_number_value(v) > 0, w, label,
                "a number > 0", err)) != BK_OK)
            return st;
        c->c.has_multiple_of = true;
        c->c.multiple_of = json_number_value(v);
        return BK_OK;
    }
    if (strcmp(key, "min_len") == 0) {
        len = &c->c.min_len;
        has = &c->c.has_min_len;
    } else if (strcmp(key, "max_len") == 0) {
        len = &c->c.max_len;
        has = &c->c.has_max_len;
    } else if (strcmp(key, "min_items") == 0) {
        len = &c->c.min_items;
        has = &c->c.has_min_items;
    } else if (strcmp(key, "max_items") == 0) {
        len = &c->c.max_items;
        has = &c->c.has_max_items;
    }
    if (len) {
        bool ok = json_is_integer(v) && json_integer_value(v) >= 0;
#if SIZE_MAX < INT64_MAX
        ok = ok && json_integer_value(v) <= (json_int_t)SIZE_MAX;
#endif
        if ((st = want(ok, w, label, "a non-negative integer", err)) != BK_OK)
            return st;
        *len = (size_t)json_integer_value(v);
        *has = true;
        return BK_OK;
    }
    if (strcmp(key, "unique_items") == 0) {
        if ((st = want(json_is_boolean(v), w, label, "a boolean", err)) != BK_OK)
            return st;
        c->c.unique_items = json_is_true(v);
        return BK_OK;
    }
    if (strcmp(key, "format") == 0) {
        bk_format f;
        if ((st = want(json_is_string(v) && bk__format_from_name(json_string_value(v), &f), w,
                label, FORMAT_NAMES, err)) != BK_OK)
            return st;
        c->c.format = f;
        return BK_OK;
    }
    if (strcmp(key, "pattern") == 0) {
        if ((st = want(json_is_string(v), w, label, "a string", err)) != BK_OK)
            return st;
        if (!replace_str(&c->pattern, bk__strdup(json_string_value(v))))
            return oom(err);
        c->c.pattern = c->pattern;
        return BK_OK;
    }
    if (strcmp(key, "one_of") == 0 || strcmp(key, "const") == 0) {
        bool one_of = key[0] == 'o';
        if (one_of && (st = want(json_is_array(v), w, label, "an array", err)) != BK_OK)
            return st;
        if (!replace_str(one_of ? &c->one_of : &c->const_value, compact_json(v)))
            return oom(err);
        c->c.one_of = c->one_of;
        c->c.const_value = c->const_value;
        return BK_OK;
    }
    if (strcmp(key, "messages") == 0) {
        const char *code;
        json_t *msg;
        bool ok = json_is_object(v);
        json_object_foreach((json_t *)v, code, msg)
            ok = ok && json_is_string(msg);
        if ((st = want(ok, w, label, "an object of strings (code: message)", err)) != BK_OK)
            return st;
        size_t n = 0;
        char **a = bk__calloc(2 * json_object_size(v) + 1, sizeof(*a));
        if (!a)
            return oom(err);
        json_object_foreach((json_t *)v, code, msg) {
            if (!(a[n] = bk__strdup(code)) || !(a[n + 1] = bk__strdup(json_string_value(msg)))) {
                for (size_t i = 0; i <= n + 1; i++)
                    bk__free(a[i]);
                bk__free(a);
                return oom(err);
            }
            n += 2;
        }
        for (size_t i = 0; c->messages && c->messages[i]; i++)
            bk__free(c->messages[i]);
        bk__free(c->messages);
        c->messages = a;
        c->c.messages = (const char *const *)a;
        return BK_OK;
    }
    *known = false;
    return BK_OK;
}

/* "each": an object of constraint attributes for each list item or map
 * value; it replaces the previous "each" as a whole. */
static bk_status each_attr(bcheck *each, const json_t *v, const ectx *w, bk_error **err)
{
    bk_status st = BK_OK;
    bcheck tmp;
    const char *k, *clash;
    json_t *x;
    memset(&tmp, 0, sizeof(tmp));
    if ((st = want(json_is_object(v), w, "each", "an object of constraints", err)) != BK_OK)
        return st;
    if ((clash = bound_clash(v)) != NULL)
        return bk__model_error(err, w->kind, w->name, w->mkind, w->member,
            "attribute each: %s and exclusive_%s both set one bound", clash, clash);
    json_object_foreach((json_t *)v, k, x) {
        bool known;
        char label[64];
        snprintf(label, sizeof(label), "each.%s", k);
        if ((st = check_attr(&tmp, k, label, x, w, &known, err)) != BK_OK)
            break;
        if (!known) {
            st = bk__model_error(err, w->kind, w->name, w->mkind, w->member,
                "attribute each: unknown constraint %s", k);
            break;
        }
    }
    if (st != BK_OK) {
        bcheck_dispose(&tmp);
        return st;
    }
    bcheck_dispose(each);
    *each = tmp;
    return BK_OK;
}

/* "validator": the name of a custom validator (documents carry names; a
 * host attaches the function with bk_builder_*_validator). */
static bk_status validator_attr(char **name, const json_t *v, const ectx *w, bk_error **err)
{
    bk_status st;
    if ((st = want(json_is_string(v) && json_string_length(v) > 0, w, "validator",
            "a non-empty string", err)) != BK_OK)
        return st;
    return set_str(name, v) == BK_OK ? BK_OK : oom(err);
}

/*
 * Set attribute key of the current model from the jansson value v
 * (rename_all, deny_unknown, validator). BK_EMODEL for an unknown key, a
 * value of the wrong type, or no current model.
 */
bk_status bk__builder_model_attr(bk_builder *b, const char *key, const json_t *v,
    bk_error **err)
{
    bk_status st;
    bmodel *m;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if (!(m = cur_model(b)))
        return bk__model_error(err, NULL, NULL, NULL, NULL,
            "attribute %s: no current model", key);
    ectx w = { "model", m->name, NULL, NULL };
    if (strcmp(key, "rename_all") == 0) {
        bk_case c;
        if ((st = want(json_is_string(v) && bk__case_from_name(json_string_value(v), &c), &w,
                key, "one of \"lowercase\", \"UPPERCASE\", \"PascalCase\", \"camelCase\", "
                "\"snake_case\", \"SCREAMING_SNAKE_CASE\", \"kebab-case\", "
                "\"SCREAMING-KEBAB-CASE\"", err)) != BK_OK)
            return st;
        m->rename_all = c;
    } else if (strcmp(key, "deny_unknown") == 0) {
        if ((st = want(json_is_boolean(v), &w, key, "a boolean", err)) != BK_OK)
            return st;
        m->deny_unknown = json_is_true(v);
    } else if (strcmp(key, "validator") == 0) {
        return validator_attr(&m->validate_name, v, &w, err);
    } else {
        return bk__model_error(err, "model", m->name, NULL, NULL, "unknown attribute %s", key);
    }
    return BK_OK;
}

/* Set attribute key of the current field (see bk_builder in model.h). */
bk_status bk__builder_field_attr(bk_builder *b, const char *key, const json_t *v,
    bk_error **err)
{
    bk_status st;
    bmodel *m;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if (!(m = cur_model(b)) || m->n == 0)
        return bk__model_error(err, NULL, NULL, NULL, NULL,
            "attribute %s: no current field", key);
    bfield *f = &m->fields[m->n - 1];
    ectx w = { "model", m->name, "field", f->name };
    bool *flag = NULL;

    if (strcmp(key, "rename") == 0) {
        if ((st = want(json_is_string(v), &w, key, "a string", err)) != BK_OK)
            return st;
        return set_str(&f->rename, v) == BK_OK ? BK_OK : oom(err);
    } else if (strcmp(key, "aliases") == 0) {
        bool ok = json_is_array(v);
        for (size_t i = 0; ok && i < json_array_size(v); i++)
            ok = json_is_string(json_array_get(v, i));
        if ((st = want(ok, &w, key, "an array of strings", err)) != BK_OK)
            return st;
        size_t n = json_array_size(v);
        char **a = bk__calloc(n ? n : 1, sizeof(*a));
        if (!a)
            return oom(err);
        for (size_t i = 0; i < n; i++)
            if (!(a[i] = bk__strdup(json_string_value(json_array_get(v, i))))) {
                for (size_t k = 0; k < i; k++)
                    bk__free(a[k]);
                bk__free(a);
                return oom(err);
            }
        for (size_t i = 0; i < f->naliases; i++)
            bk__free(f->aliases[i]);
        bk__free(f->aliases);
        f->aliases = a;
        f->naliases = n;
        return BK_OK;
    } else if (strcmp(key, "default") == 0) {
        return replace_str(&f->default_json, compact_json(v)) ? BK_OK : oom(err);
    } else if (strcmp(key, "each") == 0) {
        return each_attr(&f->each, v, &w, err);
    } else if (strcmp(key, "validator") == 0) {
        return validator_attr(&f->validate_name, v, &w, err);
    } else if (strcmp(key, "skip_if") == 0) {
        bk_skip_if si;
        if ((st = want(json_is_string(v) && bk__skip_if_from_name(json_string_value(v), &si),
                &w, key, "\"absent\", \"empty\" or \"default\"", err)) != BK_OK)
            return st;
        f->skip_if = si;
        return BK_OK;
    }
    bool known;
    if ((st = check_attr(&f->check, key, key, v, &w, &known, err)) != BK_OK || known)
        return st;
    if (strcmp(key, "default_zero") == 0) flag = &f->default_zero;
    else if (strcmp(key, "optional") == 0) flag = &f->optional;
    else if (strcmp(key, "skip") == 0) flag = &f->skip;
    else if (strcmp(key, "flatten") == 0) flag = &f->flatten;
    else if (strcmp(key, "primary_key") == 0) flag = &f->primary_key;
    else if (strcmp(key, "auto_id") == 0) flag = &f->auto_id;
    else if (strcmp(key, "unique") == 0) flag = &f->unique;
    else if (strcmp(key, "index") == 0) flag = &f->index;
    else if (strcmp(key, "row_version") == 0) flag = &f->row_version;
    else
        return bk__model_error(err, "model", m->name, "field", f->name,
            "unknown attribute %s", key);
    if ((st = want(json_is_boolean(v), &w, key, "a boolean", err)) != BK_OK)
        return st;
    *flag = json_is_true(v);
    return BK_OK;
}

/* Set attribute key of the current union (tagging, tag, content). */
bk_status bk__builder_union_attr(bk_builder *b, const char *key, const json_t *v,
    bk_error **err)
{
    bk_status st;
    bunion *u;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if (!(u = cur_union(b)))
        return bk__model_error(err, NULL, NULL, NULL, NULL,
            "attribute %s: no current union", key);
    ectx w = { "union", u->name, NULL, NULL };
    if (strcmp(key, "tagging") == 0) {
        bk_tagging t;
        if ((st = want(json_is_string(v) && bk__tagging_from_name(json_string_value(v), &t),
                &w, key, "\"external\", \"internal\", \"adjacent\" or \"untagged\"",
                err)) != BK_OK)
            return st;
        u->tagging = t;
        return BK_OK;
    }
    char **dst = strcmp(key, "tag") == 0 ? &u->tag : strcmp(key, "content") == 0
        ? &u->content : NULL;
    if (!dst)
        return bk__model_error(err, "union", u->name, NULL, NULL, "unknown attribute %s", key);
    if ((st = want(json_is_string(v), &w, key, "a string", err)) != BK_OK)
        return st;
    return set_str(dst, v) == BK_OK ? BK_OK : oom(err);
}

typedef bk_status (*attr_fn)(bk_builder *, const char *, const json_t *, bk_error **);

/* The text form shared by the three public attribute setters. */
static bk_status text_attr(bk_builder *b, const char *key, const char *json_value,
    attr_fn fn, const char *what, bk_error **err)
{
    bk_status st;
    json_t *v = NULL;
    ectx w = { what, NULL, NULL, NULL };
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if (b->cur == CUR_MODEL)
        w.name = b->models[b->nmodels - 1].name;
    else if (b->cur == CUR_UNION)
        w.name = b->unions[b->nunions - 1].name;
    if ((st = parse_value(&v, key, json_value, &w, err)) != BK_OK)
        return st;
    st = fn(b, key, v, err);
    json_decref(v);
    return st;
}

/* The public attribute setters take the value as JSON text (see model.h). */
bk_status bk_builder_model_attr(bk_builder *b, const char *key, const char *json_value,
    bk_error **err)
{
    return text_attr(b, key, json_value, bk__builder_model_attr, "model", err);
}

bk_status bk_builder_field_attr(bk_builder *b, const char *key, const char *json_value,
    bk_error **err)
{
    return text_attr(b, key, json_value, bk__builder_field_attr, "model", err);
}

bk_status bk_builder_union_attr(bk_builder *b, const char *key, const char *json_value,
    bk_error **err)
{
    return text_attr(b, key, json_value, bk__builder_union_attr, "union", err);
}

/* Set a validator's function, payload and name (copied; NULL for none). */
static bk_status set_validator(bk_validate_fn *fn_dst, void **payload_dst, char **name_dst,
    bk_validate_fn fn, void *payload, const char *name, const ectx *w, bk_error **err)
{
    char *copy = NULL;
    if (name && (!name[0] || !bk__utf8_valid((const unsigned char *)name, strlen(name))))
        return bk__model_error(err, w->kind, w->name, w->mkind, w->member,
            "the validator name is empty or not valid UTF-8");
    if (name && !(copy = bk__strdup(name)))
        return oom(err);
    bk__free(*name_dst);
    *name_dst = copy;
    *fn_dst = fn;
    *payload_dst = payload;
    return BK_OK;
}

bk_status bk_builder_field_validator(bk_builder *b, bk_validate_fn fn, void *payload,
    const char *name, bk_error **err)
{
    bk_status st;
    bmodel *m;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if (!(m = cur_model(b)) || m->n == 0)
        return bk__model_error(err, NULL, NULL, NULL, NULL,
            "bk_builder_field_validator: no current field");
    bfield *f = &m->fields[m->n - 1];
    ectx w = { "model", m->name, "field", f->name };
    return set_validator(&f->validate, &f->validate_payload, &f->validate_name, fn, payload,
        name, &w, err);
}

bk_status bk_builder_model_validator(bk_builder *b, bk_validate_fn fn, void *payload,
    const char *name, bk_error **err)
{
    bk_status st;
    bmodel *m;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if (!(m = cur_model(b)))
        return bk__model_error(err, NULL, NULL, NULL, NULL,
            "bk_builder_model_validator: no current model");
    ectx w = { "model", m->name, NULL, NULL };
    return set_validator(&m->validate, &m->validate_payload, &m->validate_name, fn, payload,
        name, &w, err);
}

/* ---- using built models ------------------------------------------------------------ */

/* Record one entity of a used model under its name (its references are
 * followed by bk_builder_use). Already recorded: nothing to do. */
static bk_status use_entity(bk_builder *b, int kind, void *ptr, const char *name,
    bk_error **err)
{
    size_t len = strlen(name);
    long i = find_ext(b, name, len);
    if (i >= 0) {
        if (b->ext[i].ptr == ptr)
            return BK_OK;
        return bk__model_error(err, NULL, NULL, NULL, NULL,
            "bk_builder_use: two different definitions are named %s", name);
    }
    if (find_model(b, name, len) >= 0 || find_union(b, name, len) >= 0
            || find_enum(b, name, len) >= 0)
        return bk__model_error(err, NULL, NULL, NULL, NULL,
            "bk_builder_use: %s is already defined in the builder", name);
    bext *arr = grow(b->ext, b->next, &b->cext, sizeof(*arr));
    if (!arr)
        return BK_ENOMEM;
    b->ext = arr;
    b->ext[b->next].name = name;
    b->ext[b->next].kind = kind;
    b->ext[b->next].ptr = ptr;
    b->next++;
    return BK_OK;
}

static bk_status use_type(bk_builder *b, const bk__type *t, bk_error **err)
{
    while (t->kind == BK_LIST || t->kind == BK_MAP)
        t = t->elem;
    switch (t->kind) {
    case BK_MODEL:
    case BK_MODEL_PTR:
        return use_entity(b, EXT_MODEL, t->model, t->model->name, err);
    case BK_UNION:
        return use_entity(b, EXT_UNION, (void *)t->uni, t->uni->name, err);
    case BK_ENUM:
        return use_entity(b, EXT_ENUM, (void *)t->enm, t->enm->name, err);
    default:
        return BK_OK;
    }
}

/*
 * Make model and everything it refers to resolvable by name. All or
 * nothing: on a name clash (BK_EMODEL) or BK_ENOMEM the builder is as it
 * was. The builder holds a reference on the model until it is freed.
 */
bk_status bk_builder_use(bk_builder *b, bk_model *model, bk_error **err)
{
    bk_status st;
    size_t mark;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if (!model)
        return bk__error_set(err, BK_EINVAL, "bk_builder_use: model is NULL");
    if (!bk__model_ok(model))
        return bk__error_set(err, BK_EMISUSE, "bk_builder_use: not a model handle");
    mark = b->next;
    bk_model **arr = grow(b->used, b->nused, &b->cused, sizeof(*arr));
    if (!arr)
        return oom(err);
    b->used = arr;
    if ((st = use_entity(b, EXT_MODEL, model, model->name, err)) != BK_OK)
        goto done;
    /* the new entries are the worklist: follow what each refers to */
    for (size_t i = mark; i < b->next && st == BK_OK; i++) {
        if (b->ext[i].kind == EXT_MODEL) {
            const bk_model *m = b->ext[i].ptr;
            for (size_t k = 0; k < m->nfields && st == BK_OK; k++)
                st = use_type(b, m->fields[k].type, err);
        } else if (b->ext[i].kind == EXT_UNION) {
            const bk__union *u = b->ext[i].ptr;
            for (size_t k = 0; k < u->n && st == BK_OK; k++)
                if (u->variants[k].type)
                    st = use_type(b, u->variants[k].type, err);
        }
    }
    if (st != BK_OK)
        goto done;
    b->used[b->nused++] = bk_model_ref(model);
done:
    if (st != BK_OK)
        b->next = mark;
    return st == BK_ENOMEM ? oom(err) : st;
}

/* ---- building ------------------------------------------------------------------------- */

static bk_status enqueue(bctx *c, bool is_union, size_t i)
{
    pending *arr = grow(c->queue, c->nqueue, &c->cqueue, sizeof(*arr));
    if (!arr)
        return BK_ENOMEM;
    c->queue = arr;
    c->queue[c->nqueue].is_union = is_union;
    c->queue[c->nqueue].i = i;
    c->nqueue++;
    return BK_OK;
}

/* Create builder model i in the schema (once) and queue its fields for
 * resolution. Layout comes later. */
static bk_status make_model(bctx *c, size_t i, bk_model **out)
{
    const bmodel *bm = &c->b->models[i];
    bk_model *m = c->models[i];
    if (m) {
        *out = m;
        return BK_OK;
    }
    if (!(m = bk__schema_add_model(c->s)) || !(m->name = bk__strdup(bm->name)))
        return BK_ENOMEM;
    c->models[i] = m;
    m->rename_all = bm->rename_all;
    m->deny_unknown = bm->deny_unknown;
    m->validate = bm->validate;
    m->validate_payload = bm->validate_payload;
    if (bm->validate_name && !(m->validate_name = bk__strdup(bm->validate_name)))
        return BK_ENOMEM;
    m->align = 1;
    *out = m;
    return enqueue(c, false, i);
}

/* Resolve the fields of builder model i (created by make_model). */
static bk_status fill_model(bctx *c, size_t i)
{
    bk_status st;
    const bmodel *bm = &c->b->models[i];
    bk_model *m = c->models[i];
    if (bm->n) {
        if (!(m->fields = bk__calloc(bm->n, sizeof(*m->fields))))
            return BK_ENOMEM;
        m->nfields = bm->n;
    }
    for (size_t k = 0; k < bm->n; k++) {
        const bfield *bf = &bm->fields[k];
        bk__field *f = &m->fields[k];
        ectx w = { "model", bm->name, "field", bf->name };
        if ((st = parse_type(c, &w, c->err, bf->type, &f->type)) != BK_OK)
            return st;
        if (!(f->name = bk__strdup(bf->name)))
            return BK_ENOMEM;
        if (bf->rename && !(f->rename = bk__strdup(bf->rename)))
            return BK_ENOMEM;
        if (bf->default_json && !(f->default_json = bk__strdup(bf->default_json)))
            return BK_ENOMEM;
        if (bf->naliases) {
            if (!(f->aliases = bk__calloc(bf->naliases, sizeof(*f->aliases))))
                return BK_ENOMEM;
            for (size_t a = 0; a < bf->naliases; a++) {
                if (!(f->aliases[a] = bk__strdup(bf->aliases[a])))
                    return BK_ENOMEM;
                f->naliases = a + 1;
            }
        }
        f->optional = bf->optional;
        f->default_zero = bf->default_zero;
        f->skip = bf->skip;
        f->skip_if = bf->skip_if;
        f->flatten = bf->flatten;
        f->primary_key = bf->primary_key;
        f->auto_id = bf->auto_id;
        f->unique = bf->unique;
        f->index = bf->index;
        f->row_version = bf->row_version;
        if ((st = bk__check_declare(&f->check, &bf->check.c)) != BK_OK
                || (st = bk__check_declare(&f->elem_check, &bf->each.c)) != BK_OK)
            return st;
        f->validate = bf->validate;
        f->validate_payload = bf->validate_payload;
        if (bf->validate_name && !(f->validate_name = bk__strdup(bf->validate_name)))
            return BK_ENOMEM;
    }
    return BK_OK;
}

/* Create builder union i (once) and queue its variants for resolution. */
static bk_status make_union(bctx *c, size_t i, const bk__union **out)
{
    const bunion *bu = &c->b->unions[i];
    bk__union *u = c->unions[i];
    if (u) {
        *out = u;
        return BK_OK;
    }
    if (!(u = bk__schema_add_union(c->s)) || !(u->name = bk__strdup(bu->name)))
        return BK_ENOMEM;
    c->unions[i] = u;
    u->tagging = bu->tagging;
    u->tag = bk__strdup(bu->tag ? bu->tag : "type");
    u->content = bk__strdup(bu->content ? bu->content : "content");
    if (!u->tag || !u->content)
        return BK_ENOMEM;
    u->tag_len = strlen(u->tag);
    u->content_len = strlen(u->content);
    *out = u;
    return enqueue(c, true, i);
}

/* Resolve the variants of builder union i (created by make_union). */
static bk_status fill_union(bctx *c, size_t i)
{
    bk_status st;
    const bunion *bu = &c->b->unions[i];
    bk__union *u = c->unions[i];
    if (bu->n) {
        if (!(u->variants = bk__calloc(bu->n, sizeof(*u->variants))))
            return BK_ENOMEM;
        u->n = bu->n;
    }
    for (size_t k = 0; k < bu->n; k++) {
        bk__variant *v = &u->variants[k];
        ectx w = { "union", bu->name, "variant", bu->variants[k].name };
        if (!(v->name = bk__strdup(bu->variants[k].name)))
            return BK_ENOMEM;
        v->name_len = strlen(v->name);
        if (bu->variants[k].type
                && (st = parse_type(c, &w, c->err, bu->variants[k].type, &v->type)) != BK_OK)
            return st;
    }
    return BK_OK;
}

/* Create builder enum i in the schema (once). */
static bk_status make_enum(bctx *c, size_t i, const bk__enum **out)
{
    const benum *be = &c->b->enums[i];
    bk__enum *e = c->enums[i];
    if (e) {
        *out = e;
        return BK_OK;
    }
    if (!(e = bk__schema_add_enum(c->s)) || !(e->name = bk__strdup(be->name)))
        return BK_ENOMEM;
    c->enums[i] = e;
    e->names = bk__calloc(be->n, sizeof(*e->names));
    e->lens = bk__calloc(be->n, sizeof(*e->lens));
    if (!e->names || !e->lens)
        return BK_ENOMEM;
    for (size_t k = 0; k < be->n; k++) {
        if (!(e->names[k] = bk__strdup(be->names[k])))
            return BK_ENOMEM;
        e->lens[k] = strlen(be->names[k]);
        e->n = k + 1;
    }
    *out = e;
    return BK_OK;
}

/* Layout states (the values model.c reserves for this file). */
enum { LAYOUT_BUSY = 1, LAID_OUT = 2 };

static size_t round_up(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

static bk_status layout_union(bctx *c, bk__union *u, int depth);

/*
 * The size and alignment of a value of type t, laying out the run-time
 * model or union it embeds first. An embedded entity met while it is being
 * laid out embeds itself: BK_EMODEL naming where.
 */
static bk_status type_size(bctx *c, const bk__type *t, const ectx *w, int depth,
    size_t *size, size_t *align);

/* Lay out a run-time model like a C struct: fields in declaration order at
 * their natural alignment, then one bk_presence byte per optional field,
 * the size rounded up to the alignment (1 for a model without fields). */
static bk_status layout_model(bctx *c, bk_model *m, int depth)
{
    bk_status st;
    size_t off = 0, align = 1;
    if (m->build_state >= LAID_OUT)
        return BK_OK;
    if (depth > MAX_EMBED_DEPTH)
        return bk__model_error(c->err, "model", m->name, NULL, NULL,
            "models are embedded more than %d levels deep", MAX_EMBED_DEPTH);
    m->build_state = LAYOUT_BUSY;
    for (size_t i = 0; i < m->nfields; i++) {
        bk__field *f = &m->fields[i];
        size_t sz = 0, al = 1;
        ectx w = { "model", m->name, "field", f->name };
        if ((st = type_size(c, f->type, &w, depth, &sz, &al)) != BK_OK)
            return st;
        off = round_up(off, al);
        f->offset = off;
        off += sz;
        if (al > align)
            align = al;
    }
    for (size_t i = 0; i < m->nfields; i++)
        if (m->fields[i].optional)
            m->fields[i].presence_offset = off++;
    m->size = off ? round_up(off, align) : 1;
    m->align = align;
    m->build_state = LAID_OUT;
    return BK_OK;
}

/* A run-time union is laid out as `struct { int tag; union { payloads } }`. */
static bk_status layout_union(bctx *c, bk__union *u, int depth)
{
    bk_status st;
    size_t psize = 0, palign = 1;
    if (u->build_state >= LAID_OUT)
        return BK_OK;
    if (depth > MAX_EMBED_DEPTH)
        return bk__model_error(c->err, "union", u->name, NULL, NULL,
            "models are embedded more than %d levels deep", MAX_EMBED_DEPTH);
    u->build_state = LAYOUT_BUSY;
    for (size_t i = 0; i < u->n; i++) {
        size_t sz = 0, al = 1;
        ectx w = { "union", u->name, "variant", u->variants[i].name };
        if (!u->variants[i].type)
            continue;
        if ((st = type_size(c, u->variants[i].type, &w, depth, &sz, &al)) != BK_OK)
            return st;
        if (sz > psize)
            psize = sz;
        if (al > palign)
            palign = al;
    }
    size_t poff = round_up(sizeof(int), palign);
    for (size_t i = 0; i < u->n; i++)
        u->variants[i].offset = u->variants[i].type ? poff : 0;
    u->tag_offset = 0;
    u->align = palign > alignof(int) ? palign : alignof(int);
    u->size = psize ? round_up(poff + psize, u->align) : sizeof(int);
    u->build_state = LAID_OUT;
    return BK_OK;
}

static bk_status type_size(bctx *c, const bk__type *t, const ectx *w, int depth,
    size_t *size, size_t *align)
{
    bk_status st;
    if (t->kind == BK_MODEL) {
        bk_model *m = t->model;
        if (m->build_state == LAYOUT_BUSY)
            return bk__model_error(c->err, w->kind, w->name, w->mkind, w->member,
                "model %s embeds itself (use ptr<%s> or a list)", m->name, m->name);
        if ((st = layout_model(c, m, depth + 1)) != BK_OK)
            return st;
        *size = m->size;
        *align = m->align;
    } else if (t->kind == BK_UNION) {
        bk__union *u = (bk__union *)t->uni;
        if (u->build_state == LAYOUT_BUSY)
            return bk__model_error(c->err, w->kind, w->name, w->mkind, w->member,
                "union %s embeds itself", u->name);
        if ((st = layout_union(c, u, depth + 1)) != BK_OK)
            return st;
        *size = u->size;
        *align = u->align;
    } else {
        *size = t->size;
        *align = t->align;
    }
    return BK_OK;
}

/*
 * Build root and everything it refers to into a new schema: resolve names
 * (creating entities on first reference), lay out the run-time models and
 * unions, finish. The builder is not changed. BK_EMODEL naming the model
 * and field for unknown names or invalid definitions.
 */
bk_status bk_builder_build(bk_model **out, bk_builder *b, const char *root, bk_error **err)
{
    bk_status st;
    bctx c = { b, NULL, NULL, NULL, NULL, NULL, 0, 0, err };
    bk_model *m = NULL;
    long ri;

    if (out)
        *out = NULL;
    if ((st = check_builder(b, err)) != BK_OK)
        return st;
    if (!out || !root)
        return bk__error_set(err, BK_EINVAL, "bk_builder_build: NULL %s", out ? "root" : "out");
    if ((ri = find_model(b, root, strlen(root))) < 0) {
        long x = find_ext(b, root, strlen(root));
        if (x >= 0 && b->ext[x].kind == EXT_MODEL) {
            *out = bk_model_ref(b->ext[x].ptr);
            return BK_OK;
        }
        return bk__model_error(err, "model", root, NULL, NULL, "no model of that name");
    }
    if ((st = bk__schema_new(&c.s)) != BK_OK)
        goto done;
    c.models = bk__calloc(b->nmodels ? b->nmodels : 1, sizeof(*c.models));
    c.unions = bk__calloc(b->nunions ? b->nunions : 1, sizeof(*c.unions));
    c.enums = bk__calloc(b->nenums ? b->nenums : 1, sizeof(*c.enums));
    if (!c.models || !c.unions || !c.enums) {
        st = BK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < b->nused; i++)
        if ((st = bk__schema_add_dep(c.s, b->used[i]->schema)) != BK_OK)
            goto done;
    if ((st = make_model(&c, (size_t)ri, &m)) != BK_OK)
        goto done;
    for (size_t q = 0; q < c.nqueue; q++) {
        pending p = c.queue[q];
        if ((st = p.is_union ? fill_union(&c, p.i) : fill_model(&c, p.i)) != BK_OK)
            goto done;
    }
    for (size_t i = 0; i < c.s->nmodels; i++)
        if ((st = layout_model(&c, c.s->models[i], 0)) != BK_OK)
            goto done;
    for (size_t i = 0; i < c.s->nunions; i++)
        if ((st = layout_union(&c, c.s->unions[i], 0)) != BK_OK)
            goto done;
    if ((st = bk__schema_finish(c.s, err)) != BK_OK)
        goto done;
    *out = m;
done:
    if (st == BK_ENOMEM)
        oom(err);
    if (st != BK_OK)
        bk__schema_unref(c.s);
    bk__free(c.models);
    bk__free(c.unions);
    bk__free(c.enums);
    bk__free(c.queue);
    return st;
}
