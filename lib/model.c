/*
 * model.c - built models: the schema that owns them, reference counting,
 * building from static C descriptors, the finishing pass shared by every
 * way of building (JSON names, JSON view, lookup table, defaults) and
 * introspection.
 *
 * Everything one build creates lives in one bk__schema (see internal.h).
 * A build proceeds in two steps: first the entities are created (models,
 * unions, enums, interned type nodes) and, for run-time models, laid out;
 * then bk__schema_finish checks the graph and derives what the codec needs.
 * Any failure drops the schema, which frees everything created so far, so
 * the build functions never have to undo partial work by hand.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdalign.h>
#include "internal.h"

/* Build states kept in bk_model.build_state / bk__union.build_state. A new
 * entity starts at NEW; entities of finished schemas are at DONE, so a
 * build can tell its own entities from those it borrows. */
enum {
    BS_NEW = 0,
    BS_LAYOUT_BUSY = 1, /* model_builder.c: being laid out */
    BS_LAID_OUT = 2,
    BS_CHECK_BUSY = 3,  /* embedding cycle check in progress */
    BS_CHECKED = 4,
    BS_VIEW_BUSY = 5,   /* JSON view being computed */
    BS_DONE = 6,
    BS_HC_NO = 7,       /* union of this build, no checks found below it (yet) */
    BS_HC_YES = 8       /* union of this build with checks below it */
};

#define MAX_TYPE_DEPTH 32
/* Longest chain of direct embeddings (model in model in union ...). */
#define MAX_EMBED_DEPTH 256
/* Longest chain of defaults applied while decoding a default. */
#define MAX_DEFAULT_DEPTH 256

/* ---- names -------------------------------------------------------------- */

static const char *const KIND_KEYWORDS[] = {
    [BK_BOOL] = "bool", [BK_I8] = "i8", [BK_I16] = "i16", [BK_I32] = "i32",
    [BK_I64] = "i64", [BK_U8] = "u8", [BK_U16] = "u16", [BK_U32] = "u32",
    [BK_U64] = "u64", [BK_F32] = "f32", [BK_F64] = "f64", [BK_STR] = "str",
    [BK_BYTES] = "bytes", [BK_TIMESTAMP] = "timestamp", [BK_DATE] = "date",
    [BK_UUID] = "uuid", [BK_JSON] = "json", [BK_UNION] = NULL,
};

const char *bk__kind_keyword(bk_kind k)
{
    if ((int)k <= (int)BK_KIND_NONE || (int)k > (int)BK_UNION)
        return NULL;
    return KIND_KEYWORDS[k];
}

bk_kind bk__kind_from_keyword(const char *s, size_t len)
{
    for (int k = BK_BOOL; k <= BK_UNION; k++) {
        const char *kw = KIND_KEYWORDS[k];
        if (kw && strlen(kw) == len && memcmp(kw, s, len) == 0)
            return (bk_kind)k;
    }
    return BK_KIND_NONE;
}

static const char *const CASE_NAMES[] = {
    [BK_CASE_NONE] = NULL, [BK_CASE_LOWER] = "lowercase", [BK_CASE_UPPER] = "UPPERCASE",
    [BK_CASE_PASCAL] = "PascalCase", [BK_CASE_CAMEL] = "camelCase",
    [BK_CASE_SNAKE] = "snake_case", [BK_CASE_SCREAMING_SNAKE] = "SCREAMING_SNAKE_CASE",
    [BK_CASE_KEBAB] = "kebab-case", [BK_CASE_SCREAMING_KEBAB] = "SCREAMING-KEBAB-CASE",
};

const char *bk__case_name(bk_case c)
{
    if ((int)c < 0 || (int)c > (int)BK_CASE_SCREAMING_KEBAB)
        return NULL;
    return CASE_NAMES[c];
}

bool bk__case_from_name(const char *s, bk_case *out)
{
    for (int c = BK_CASE_LOWER; c <= BK_CASE_SCREAMING_KEBAB; c++)
        if (s && strcmp(s, CASE_NAMES[c]) == 0) {
            *out = (bk_case)c;
            return true;
        }
    return false;
}

static const char *const TAGGING_NAMES[] = {
    [BK_TAG_EXTERNAL] = "external", [BK_TAG_INTERNAL] = "internal",
    [BK_TAG_ADJACENT] = "adjacent", [BK_UNTAGGED] = "untagged",
};

const char *bk__tagging_name(bk_tagging t)
{
    if ((int)t < 0 || (int)t > (int)BK_UNTAGGED)
        return NULL;
    return TAGGING_NAMES[t];
}

bool bk__tagging_from_name(const char *s, bk_tagging *out)
{
    for (int t = BK_TAG_EXTERNAL; t <= BK_UNTAGGED; t++)
        if (s && strcmp(s, TAGGING_NAMES[t]) == 0) {
            *out = (bk_tagging)t;
            return true;
        }
    return false;
}

static const char *const SKIP_IF_NAMES[] = {
    [BK_SKIP_NEVER] = NULL, [BK_SKIP_IF_ABSENT] = "absent",
    [BK_SKIP_IF_EMPTY] = "empty", [BK_SKIP_IF_DEFAULT] = "default",
};

const char *bk__skip_if_name(bk_skip_if s)
{
    if ((int)s < 0 || (int)s > (int)BK_SKIP_IF_DEFAULT)
        return NULL;
    return SKIP_IF_NAMES[s];
}

bool bk__skip_if_from_name(const char *s, bk_skip_if *out)
{
    for (int k = BK_SKIP_IF_ABSENT; k <= BK_SKIP_IF_DEFAULT; k++)
        if (s && strcmp(s, SKIP_IF_NAMES[k]) == 0) {
            *out = (bk_skip_if)k;
            return true;
        }
    return false;
}

bool bk__model_is_ident(const char *s)
{
    if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
                || *s == '_' || *s == '.'))
            return false;
    return true;
}

bool bk__model_name_reserved(const char *s, size_t len)
{
    return bk__kind_from_keyword(s, len) != BK_KIND_NONE
        || (len == 4 && memcmp(s, "list", 4) == 0) || (len == 3 && memcmp(s, "map", 3) == 0)
        || (len == 3 && memcmp(s, "ptr", 3) == 0);
}

/*
 * Set *err to a BK_EMODEL error whose message starts with where it is:
 * "model User, field age: ...". kind/name and mkind/member may be NULL.
 * Returns BK_EMODEL, or BK_ENOMEM when the message cannot be built.
 */
bk_status bk__model_verror(bk_error **err, const char *kind, const char *name,
    const char *mkind, const char *member, const char *fmt, va_list ap)
{
    char small[256];
    char *msg = small;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        n = 0;
        small[0] = '\0';
    }
    if ((size_t)n >= sizeof(small)) {
        if (!(msg = bk__malloc((size_t)n + 1)))
            return bk__error_oom(err);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
    }
    bk_status st;
    if (kind && mkind)
        st = bk__error_set(err, BK_EMODEL, "%s %s, %s %s: %s", kind, name ? name : "?", mkind,
            member ? member : "?", msg);
    else if (kind)
        st = bk__error_set(err, BK_EMODEL, "%s %s: %s", kind, name ? name : "?", msg);
    else
        st = bk__error_set(err, BK_EMODEL, "%s", msg);
    if (msg != small)
        bk__free(msg);
    return st;
}

bk_status bk__model_error(bk_error **err, const char *kind, const char *name,
    const char *mkind, const char *member, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bk_status st = bk__model_verror(err, kind, name, mkind, member, fmt, ap);
    va_end(ap);
    return st;
}

uint32_t bk__hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* The decoder's key lookup: probe from the key's hash; a slot matches on
 * hash, then length, then bytes; an empty slot ends the probe (the table is
 * at most half full). */
int32_t bk__model_lookup(const bk_model *m, const char *key, size_t len)
{
    if (BK__UNLIKELY(m->nslots == 0))
        return -1;
    uint32_t h = bk__hash(key, len);
    size_t mask = m->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const bk__slot *sl = &m->slots[i];
        if (sl->index < 0)
            return -1;
        if (sl->hash == h && sl->len == len && memcmp(sl->name, key, len) == 0)
            return sl->index;
    }
}

/* ---- the schema ----------------------------------------------------------- */

/* Grow an array of elsize-byte items so that one more fits; returns the new
 * storage (cap updated) or NULL, leaving the old array intact. */
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

bk_status bk__schema_new(bk__schema **out)
{
    bk__schema *s = bk__calloc(1, sizeof(*s));
    *out = s;
    if (!s)
        return BK_ENOMEM;
    atomic_init(&s->refs, 1);
    return BK_OK;
}

bk_model *bk__schema_add_model(bk__schema *s)
{
    bk_model **arr = grow(s->models, s->nmodels, &s->cmodels, sizeof(*arr));
    if (!arr)
        return NULL;
    s->models = arr;
    bk_model *m = bk__calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->magic = BK__MAGIC_MODEL;
    m->schema = s;
    s->models[s->nmodels++] = m;
    return m;
}

bk__union *bk__schema_add_union(bk__schema *s)
{
    bk__union **arr = grow(s->unions, s->nunions, &s->cunions, sizeof(*arr));
    if (!arr)
        return NULL;
    s->unions = arr;
    bk__union *u = bk__calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    s->unions[s->nunions++] = u;
    return u;
}

bk__enum *bk__schema_add_enum(bk__schema *s)
{
    bk__enum **arr = grow(s->enums, s->nenums, &s->cenums, sizeof(*arr));
    if (!arr)
        return NULL;
    s->enums = arr;
    bk__enum *e = bk__calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    s->enums[s->nenums++] = e;
    return e;
}

bk_status bk__schema_add_dep(bk__schema *s, bk__schema *dep)
{
    if (dep == s)
        return BK_OK;
    for (size_t i = 0; i < s->ndeps; i++)
        if (s->deps[i] == dep)
            return BK_OK;
    bk__schema **arr = grow(s->deps, s->ndeps, &s->cdeps, sizeof(*arr));
    if (!arr)
        return BK_ENOMEM;
    s->deps = arr;
    atomic_fetch_add(&dep->refs, 1);
    s->deps[s->ndeps++] = dep;
    return BK_OK;
}

bk_status bk__schema_add_release(bk__schema *s, void (*fn)(void *, void *), void *p, void *ctx)
{
    struct bk__release *arr = grow(s->releases, s->nreleases, &s->creleases, sizeof(*arr));
    if (!arr)
        return BK_ENOMEM;
    s->releases = arr;
    s->releases[s->nreleases].fn = fn;
    s->releases[s->nreleases].p = p;
    s->releases[s->nreleases].ctx = ctx;
    s->nreleases++;
    return BK_OK;
}

void bk__field_dispose(bk__field *f)
{
    bk__free(f->name);
    bk__free(f->json_name);
    bk__free(f->rename);
    for (size_t i = 0; i < f->naliases; i++)
        bk__free(f->aliases[i]);
    bk__free(f->aliases);
    bk__free(f->default_json);
    bk__free(f->default_enc);
    bk__free(f->key_json);
    bk__check_free(f->check);
    bk__check_free(f->elem_check);
    bk__free(f->validate_name);
    memset(f, 0, sizeof(*f));
}

/* A declared check: a copy of src whose strings the bk__check owns, not
 * compiled yet (bk__schema_finish compiles it against the field's type).
 * *out is NULL when src sets nothing. BK_ENOMEM. */
bk_status bk__check_declare(bk__check **out, const bk_check *src)
{
    *out = NULL;
    if (!src || (!bk__check_any(src) && !src->messages))
        return BK_OK;
    bk__check *c = bk__calloc(1, sizeof(*c));
    if (!c)
        return BK_ENOMEM;
    c->src = *src;
    c->src.pattern = c->src.one_of = c->src.const_value = NULL;
    c->src.messages = NULL;
    if ((src->pattern && !(c->pattern = bk__strdup(src->pattern)))
            || (src->one_of && !(c->one_of = bk__strdup(src->one_of)))
            || (src->const_value && !(c->const_value = bk__strdup(src->const_value))))
        goto oom;
    c->src.pattern = c->pattern;
    c->src.one_of = c->one_of;
    c->src.const_value = c->const_value;
    if (src->messages) {
        size_t n = 0;
        while (src->messages[n])
            n++;
        if (!(c->messages = bk__calloc(n + 1, sizeof(*c->messages))))
            goto oom;
        for (size_t i = 0; i < n; i++)
            if (!(c->messages[i] = bk__strdup(src->messages[i])))
                goto oom;
        c->src.messages = (const char *const *)c->messages;
    }
    *out = c;
    return BK_OK;
oom:
    bk__check_free(c);
    return BK_ENOMEM;
}

/* Free one entity of a schema (the schema frees them all together). */
static void model_free(bk_model *m)
{
    m->magic = 0;
    bk__free(m->name);
    bk__free(m->validate_name);
    for (size_t i = 0; i < m->nfields; i++)
        bk__field_dispose(&m->fields[i]);
    bk__free(m->fields);
    bk__free(m->jfields);
    bk__free(m->slots);
    bk__free(m->clear);
    bk__free(m);
}

static void union_free(bk__union *u)
{
    bk__free(u->name);
    for (size_t i = 0; i < u->n; i++)
        bk__free(u->variants[i].name);
    bk__free(u->variants);
    bk__free(u->tag);
    bk__free(u->content);
    bk__free(u);
}

static void enum_free(bk__enum *e)
{
    for (size_t i = 0; i < e->n; i++)
        bk__free(e->names[i]);
    bk__free(e->names);
    bk__free(e->lens);
    bk__free(e->name);
    bk__free(e);
}

/* Drop one reference; the last frees every entity of the schema and drops
 * the references it holds on other schemas. NULL-safe. */
void bk__schema_unref(bk__schema *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->nreleases; i++)
        s->releases[i].fn(s->releases[i].p, s->releases[i].ctx);
    bk__free(s->releases);
    for (size_t i = 0; i < s->nmodels; i++)
        model_free(s->models[i]);
    for (size_t i = 0; i < s->nunions; i++)
        union_free(s->unions[i]);
    for (size_t i = 0; i < s->nenums; i++)
        enum_free(s->enums[i]);
    for (size_t i = 0; i < s->ntypes; i++) {
        bk__free(s->types[i]->expr);
        bk__free(s->types[i]);
    }
    for (size_t i = 0; i < s->ndeps; i++)
        bk__schema_unref(s->deps[i]);
    bk__free(s->models);
    bk__free(s->unions);
    bk__free(s->enums);
    bk__free(s->types);
    bk__free(s->deps);
    bk__free(s);
}

/* References count on the schema: every model of one build shares it. */
bk_model *bk_model_ref(bk_model *model)
{
    if (!bk__model_ok(model))
        return NULL;
    atomic_fetch_add(&model->schema->refs, 1);
    return model;
}

void bk_model_unref(bk_model *model)
{
    if (bk__model_ok(model))
        bk__schema_unref(model->schema);
}

/* ---- type nodes ------------------------------------------------------------ */

/* C size and alignment of one value of type t. */
static void type_layout(bk__type *t)
{
    switch (t->kind) {
    case BK_BOOL: t->size = sizeof(bool); t->align = alignof(bool); break;
    case BK_I8: case BK_U8: t->size = 1; t->align = 1; break;
    case BK_I16: case BK_U16: t->size = 2; t->align = alignof(int16_t); break;
    case BK_I32: case BK_U32: case BK_DATE:
        t->size = 4; t->align = alignof(int32_t); break;
    case BK_I64: case BK_U64: case BK_TIMESTAMP:
        t->size = 8; t->align = alignof(int64_t); break;
    case BK_F32: t->size = sizeof(float); t->align = alignof(float); break;
    case BK_F64: t->size = sizeof(double); t->align = alignof(double); break;
    case BK_STR: t->size = sizeof(char *); t->align = alignof(char *); break;
    case BK_BYTES: t->size = sizeof(bk_bytes); t->align = alignof(bk_bytes); break;
    case BK_UUID: t->size = sizeof(bk_uuid); t->align = alignof(bk_uuid); break;
    case BK_ENUM: t->size = sizeof(int); t->align = alignof(int); break;
    case BK_MODEL: t->size = t->model->size; t->align = t->model->align; break;
    case BK_MODEL_PTR: t->size = sizeof(void *); t->align = alignof(void *); break;
    case BK_LIST: t->size = sizeof(bk_list); t->align = alignof(bk_list); break;
    case BK_MAP: t->size = sizeof(bk_map); t->align = alignof(bk_map); break;
    case BK_JSON: t->size = sizeof(json_t *); t->align = alignof(json_t *); break;
    case BK_UNION: t->size = t->uni->size; t->align = t->uni->align; break;
    default: t->size = 0; t->align = 1; break;
    }
}

/* The type expression of a type of this shape, allocated. */
static char *type_expr(bk_kind kind, const bk__type *elem, const bk_model *model,
    const bk__enum *enm, const bk__union *uni)
{
    const char *pre = "", *mid, *post = "";
    switch (kind) {
    case BK_MODEL: mid = model->name; break;
    case BK_MODEL_PTR: pre = "ptr<"; mid = model->name; post = ">"; break;
    case BK_LIST: pre = "list<"; mid = elem->expr; post = ">"; break;
    case BK_MAP: pre = "map<"; mid = elem->expr; post = ">"; break;
    case BK_ENUM: mid = enm->name; break;
    case BK_UNION: mid = uni->name; break;
    default: mid = bk__kind_keyword(kind); break;
    }
    size_t a = strlen(pre), b = strlen(mid), c = strlen(post);
    char *s = bk__malloc(a + b + c + 1);
    if (!s)
        return NULL;
    memcpy(s, pre, a);
    memcpy(s + a, mid, b);
    memcpy(s + a + b, post, c + 1);
    return s;
}

/*
 * The schema's type node for a shape, created on first request. Shapes are
 * compared by their parts (element nodes are themselves interned, so equal
 * pointers mean equal shapes). The referenced model/enum/union must have
 * its name set. Returns NULL when out of memory.
 */
const bk__type *bk__schema_type(bk__schema *s, bk_kind kind, const bk__type *elem,
    bk_model *model, const bk__enum *enm, const bk__union *uni)
{
    if (kind != BK_LIST && kind != BK_MAP)
        elem = NULL;
    if (kind != BK_MODEL && kind != BK_MODEL_PTR)
        model = NULL;
    if (kind != BK_ENUM)
        enm = NULL;
    if (kind != BK_UNION)
        uni = NULL;
    for (size_t i = 0; i < s->ntypes; i++) {
        const bk__type *t = s->types[i];
        if (t->kind == kind && t->elem == elem && t->model == model && t->enm == enm
                && t->uni == uni)
            return t;
    }
    bk__type **arr = grow(s->types, s->ntypes, &s->ctypes, sizeof(*arr));
    if (!arr)
        return NULL;
    s->types = arr;
    bk__type *t = bk__calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->kind = kind;
    t->elem = elem;
    t->model = model;
    t->enm = enm;
    t->uni = uni;
    t->expr = type_expr(kind, elem, model, enm, uni);
    if (!t->expr) {
        bk__free(t);
        return NULL;
    }
    type_layout(t);
    s->types[s->ntypes++] = t;
    return t;
}

/* ---- building from C descriptors ------------------------------------------ */

typedef struct memo_entry {
    const void *key;
    void *val;
} memo_entry;

/* State of one bk_model_new call: the schema being filled and the
 * descriptor -> entity memo that makes shared and recursive defs work. */
typedef struct cbuild {
    bk__schema *s;
    memo_entry *memo;
    size_t nmemo, cmemo;
    bk_error **err;
} cbuild;

/* Where a type is used, for error messages and for naming C enums. */
typedef struct where {
    const char *kind;   /* "model" or "union" */
    const char *name;
    const char *mkind;  /* "field" or "variant" */
    const char *member;
} where;

static void *memo_get(const cbuild *cb, const void *key)
{
    for (size_t i = 0; i < cb->nmemo; i++)
        if (cb->memo[i].key == key)
            return cb->memo[i].val;
    return NULL;
}

static bk_status memo_put(cbuild *cb, const void *key, void *val)
{
    memo_entry *arr = grow(cb->memo, cb->nmemo, &cb->cmemo, sizeof(*arr));
    if (!arr)
        return BK_ENOMEM;
    cb->memo = arr;
    cb->memo[cb->nmemo].key = key;
    cb->memo[cb->nmemo].val = val;
    cb->nmemo++;
    return BK_OK;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bk_status werr(cbuild *cb, const where *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bk_status st = bk__model_verror(cb->err, w->kind, w->name, w->mkind, w->member, fmt, ap);
    va_end(ap);
    return st;
}

/* A C type name as written in a BK_*_DEF macro ("struct Foo" -> "Foo"),
 * copied; NULL when out of memory. */
static char *c_type_name(const char *name)
{
    if (strncmp(name, "struct ", 7) == 0)
        name += 7;
    return bk__strdup(name);
}

/* A name derived from others ("User_role"), with every character that may
 * not appear in an identifier replaced by '_'. */
static char *derived_name(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = bk__malloc(la + lb + 2);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    s[la] = '_';
    memcpy(s + la + 1, b, lb + 1);
    for (char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                || *p == '_' || *p == '.'))
            *p = '_';
    if (s[0] >= '0' && s[0] <= '9')
        s[0] = '_';
    return s;
}

static bk_status c_model(cbuild *cb, const bk_model_def *def, const where *w, bk_model **out);
static bk_status c_union(cbuild *cb, const bk_union_def *def, const where *w,
    const bk__union **out);

/*
 * The enum described by a NULL-terminated name array, created once per
 * array (deduplicated by pointer) and named after its first use ("User_role"
 * for field role of model User). BK_EMODEL when the array is empty or
 * holds a name twice.
 */
static bk_status c_enum(cbuild *cb, const char *const *names, const where *w,
    const bk__enum **out)
{
    bk__enum *e = memo_get(cb, names);
    if (e) {
        *out = e;
        return BK_OK;
    }
    size_t n = 0;
    while (names[n])
        n++;
    if (n == 0)
        return werr(cb, w, "enum has no names");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return werr(cb, w, "enum has the name \"%s\" twice (index %zu)", names[i], i);
    e = bk__schema_add_enum(cb->s);
    if (!e)
        return BK_ENOMEM;
    e->name = derived_name(w->name, w->member);
    e->names = bk__calloc(n, sizeof(*e->names));
    e->lens = bk__calloc(n, sizeof(*e->lens));
    if (!e->name || !e->names || !e->lens)
        return BK_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        e->lens[i] = strlen(names[i]);
        if (!(e->names[i] = bk__strndup(names[i], e->lens[i])))
            return BK_ENOMEM;
        e->n = i + 1;
    }
    *out = e;
    return memo_put(cb, names, e);
}

/*
 * The type node for a kind plus the descriptor parts that complete it (as
 * found in a bk_field or a bk_type_def). Recurses through element
 * descriptors up to MAX_TYPE_DEPTH levels, so that a descriptor cycle
 * fails instead of looping. BK_EMODEL on a missing or invalid part.
 */
static bk_status c_type(cbuild *cb, bk_kind kind, bk_kind elem_kind, const bk_type_def *elem,
    const bk_model_def *mdef, const char *const *names, const bk_union_def *udef,
    const where *w, int depth, const bk__type **out)
{
    bk_status st = BK_OK;
    const bk__type *et = NULL;
    bk_model *m = NULL;
    const bk__enum *e = NULL;
    const bk__union *u = NULL;

    if (depth > MAX_TYPE_DEPTH)
        return werr(cb, w, "type nested more than %d levels deep", MAX_TYPE_DEPTH);
    switch (kind) {
    case BK_LIST:
    case BK_MAP:
        if (elem)
            st = c_type(cb, elem->kind, elem->elem_kind, elem->elem, elem->model,
                elem->enum_names, elem->union_def, w, depth + 1, &et);
        else if (elem_kind != BK_KIND_NONE)
            st = c_type(cb, elem_kind, BK_KIND_NONE, NULL, mdef, names, udef, w, depth + 1, &et);
        else
            return werr(cb, w, "%s without an element description",
                kind == BK_LIST ? "list" : "map");
        break;
    case BK_ENUM:
        if (!names)
            return werr(cb, w, "enum without names");
        st = c_enum(cb, names, w, &e);
        break;
    case BK_MODEL:
    case BK_MODEL_PTR:
        if (!mdef)
            return werr(cb, w, "%s without a model definition",
                kind == BK_MODEL ? "nested model" : "model pointer");
        st = c_model(cb, mdef, w, &m);
        break;
    case BK_UNION:
        if (!udef)
            return werr(cb, w, "union without a union definition");
        st = c_union(cb, udef, w, &u);
        break;
    default:
        if (!bk__kind_keyword(kind))
            return werr(cb, w, "kind %d is out of range", (int)kind);
        break;
    }
    if (st != BK_OK)
        return st;
    *out = bk__schema_type(cb->s, kind, et, m, e, u);
    return *out ? BK_OK : BK_ENOMEM;
}

static bool is_pow2(size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/*
 * Convert field descriptor fd of model m (built from def) into f. Checks
 * the descriptor version, the kind, the member size against the kind's C
 * size, the member and presence offsets against the struct size, and the
 * attribute enums. BK_EMODEL naming the model and field.
 */
static bk_status c_field(cbuild *cb, bk_model *m, const bk_model_def *def, size_t i,
    bk__field *f)
{
    const bk_field *fd = &def->fields[i];
    char idx[32];
    snprintf(idx, sizeof(idx), "#%zu", i);
    where w = { "model", m->name, "field", fd->name ? fd->name : idx };
    const bk__type *t = NULL;
    bk_status st;

    if (fd->version > BK_FIELD_VERSION)
        return werr(cb, &w, "descriptor version %u is newer than this library's (%u)",
            fd->version, (unsigned)BK_FIELD_VERSION);
    if (!fd->name)
        return werr(cb, &w, "field has no name");
    if ((st = c_type(cb, fd->kind, fd->elem_kind, fd->elem, fd->model, fd->enum_names,
            fd->union_def, &w, 0, &t)) != BK_OK)
        return st;
    if (fd->size != t->size)
        return bk__model_error(cb->err, "model", m->name, "field", fd->name,
            "member size %zu does not match the C size %zu of %s", fd->size, t->size, t->expr);
    if (fd->offset > def->size || fd->size > def->size - fd->offset)
        return werr(cb, &w, "member lies outside the struct (offset %zu)", fd->offset);
    if (fd->optional && fd->presence_offset >= def->size)
        return werr(cb, &w, "presence member lies outside the struct (offset %zu)",
            fd->presence_offset);
    if ((unsigned)fd->skip_if > (unsigned)BK_SKIP_IF_DEFAULT)
        return werr(cb, &w, "skip_if %d is out of range", (int)fd->skip_if);

    f->type = t;
    f->offset = fd->offset;
    f->optional = fd->optional;
    f->presence_offset = fd->optional ? fd->presence_offset : 0;
    f->default_zero = fd->default_zero;
    f->skip = fd->skip;
    f->skip_if = fd->skip_if;
    f->flatten = fd->flatten;
    f->primary_key = fd->primary_key;
    f->auto_id = fd->auto_id;
    f->unique = fd->unique;
    f->index = fd->index;
    f->row_version = fd->row_version;
    if (!(f->name = bk__strdup(fd->name)))
        return BK_ENOMEM;
    if (fd->rename && !(f->rename = bk__strdup(fd->rename)))
        return BK_ENOMEM;
    if (fd->default_json && !(f->default_json = bk__strdup(fd->default_json)))
        return BK_ENOMEM;
    if (fd->aliases) {
        size_t n = 0;
        while (fd->aliases[n])
            n++;
        if (n) {
            if (!(f->aliases = bk__calloc(n, sizeof(*f->aliases))))
                return BK_ENOMEM;
            for (size_t k = 0; k < n; k++) {
                if (!(f->aliases[k] = bk__strdup(fd->aliases[k])))
                    return BK_ENOMEM;
                f->naliases = k + 1;
            }
        }
    }
    /* constraints are compiled by the finishing pass, once types are known */
    if ((st = bk__check_declare(&f->check, &fd->check)) != BK_OK
            || (st = bk__check_declare(&f->elem_check, fd->elem_check)) != BK_OK)
        return st;
    f->validate = fd->validate;
    f->validate_payload = fd->validate_payload;
    if (fd->validate_name && !(f->validate_name = bk__strdup(fd->validate_name)))
        return BK_ENOMEM;
    return BK_OK;
}

/*
 * The model for def, created once per def (memoized before its fields are
 * converted, so a model may point to itself through BK_MODEL_PTR). w says
 * where def is referred to, for errors about def itself.
 */
static bk_status c_model(cbuild *cb, const bk_model_def *def, const where *w, bk_model **out)
{
    bk_model *m = memo_get(cb, def);
    bk_status st;
    if (m) {
        *out = m;
        return BK_OK;
    }
    where self = { "model", def->name, NULL, NULL };
    if (def->version > BK_MODEL_DEF_VERSION)
        return werr(cb, def->name ? &self : w,
            "model descriptor version %u is newer than this library's (%u)", def->version,
            (unsigned)BK_MODEL_DEF_VERSION);
    if (!def->name)
        return werr(cb, w, "model definition has no name");
    if (def->nfields && !def->fields)
        return werr(cb, &self, "%zu fields declared but no field array", def->nfields);
    if (def->size == 0)
        return werr(cb, &self, "struct size is 0");
    if (def->align && !is_pow2(def->align))
        return werr(cb, &self, "alignment %zu is not a power of two", def->align);
    if ((unsigned)def->rename_all > (unsigned)BK_CASE_SCREAMING_KEBAB)
        return werr(cb, &self, "rename_all %d is out of range", (int)def->rename_all);
    if (!(m = bk__schema_add_model(cb->s)))
        return BK_ENOMEM;
    if (!(m->name = c_type_name(def->name)))
        return BK_ENOMEM;
    if (!bk__model_is_ident(m->name))
        return werr(cb, &self, "the model name is not an identifier");
    if (bk__model_name_reserved(m->name, strlen(m->name)))
        return werr(cb, &self, "the model name is reserved for a type expression");
    m->size = def->size;
    m->align = def->align ? def->align : 1;
    m->rename_all = def->rename_all;
    m->deny_unknown = def->deny_unknown;
    m->from_c = true;
    m->validate = def->validate;
    m->validate_payload = def->validate_payload;
    if (def->validate_name && !(m->validate_name = bk__strdup(def->validate_name)))
        return BK_ENOMEM;
    if ((st = memo_put(cb, def, m)) != BK_OK)
        return st;
    if (def->nfields) {
        if (!(m->fields = bk__calloc(def->nfields, sizeof(*m->fields))))
            return BK_ENOMEM;
        m->nfields = def->nfields;
    }
    for (size_t i = 0; i < def->nfields; i++) {
        if ((st = c_field(cb, m, def, i, &m->fields[i])) != BK_OK)
            return st;
        if (!def->align && m->fields[i].type->align > m->align)
            m->align = m->fields[i].type->align;
    }
    *out = m;
    return BK_OK;
}

/*
 * The union for def, created once per def. Checks the descriptor version,
 * the tag and payload offsets against the struct size; the checks shared
 * with run-time unions (variants, tag keys) are done by the finishing pass.
 */
static bk_status c_union(cbuild *cb, const bk_union_def *def, const where *w,
    const bk__union **out)
{
    bk__union *u = memo_get(cb, def);
    bk_status st;
    if (u) {
        *out = u;
        return BK_OK;
    }
    where self = { "union", def->name, NULL, NULL };
    if (def->version > BK_UNION_DEF_VERSION)
        return werr(cb, def->name ? &self : w,
            "union descriptor version %u is newer than this library's (%u)", def->version,
            (unsigned)BK_UNION_DEF_VERSION);
    if (!def->name)
        return werr(cb, w, "union definition has no name");
    if (def->nvariants && !def->variants)
        return werr(cb, &self, "%zu variants declared but no variant array",
            def->nvariants);
    if (def->align && !is_pow2(def->align))
        return werr(cb, &self, "alignment %zu is not a power of two", def->align);
    if (def->tag_offset > def->size || def->size - def->tag_offset < sizeof(int))
        return werr(cb, &self, "the tag lies outside the struct (offset %zu)",
            def->tag_offset);
    if ((unsigned)def->tagging > (unsigned)BK_UNTAGGED)
        return werr(cb, &self, "tagging %d is out of range", (int)def->tagging);
    if (!(u = bk__schema_add_union(cb->s)))
        return BK_ENOMEM;
    if (!(u->name = c_type_name(def->name)))
        return BK_ENOMEM;
    if (!bk__model_is_ident(u->name))
        return werr(cb, &self, "the union name is not an identifier");
    if (bk__model_name_reserved(u->name, strlen(u->name)))
        return werr(cb, &self, "the union name is reserved for a type expression");
    u->size = def->size;
    u->align = def->align ? def->align : alignof(int);
    u->tag_offset = def->tag_offset;
    u->tagging = def->tagging;
    u->tag = bk__strdup(def->tag ? def->tag : "type");
    u->content = bk__strdup(def->content ? def->content : "content");
    if (!u->tag || !u->content)
        return BK_ENOMEM;
    u->tag_len = strlen(u->tag);
    u->content_len = strlen(u->content);
    if ((st = memo_put(cb, def, u)) != BK_OK)
        return st;
    if (def->nvariants) {
        if (!(u->variants = bk__calloc(def->nvariants, sizeof(*u->variants))))
            return BK_ENOMEM;
        u->n = def->nvariants;
    }
    for (size_t i = 0; i < def->nvariants; i++) {
        const bk_variant *vd = &def->variants[i];
        bk__variant *v = &u->variants[i];
        char idx[32];
        snprintf(idx, sizeof(idx), "#%zu", i);
        where vw = { "union", u->name, "variant", vd->name ? vd->name : idx };
        if (!vd->name)
            return werr(cb, &vw, "variant has no name");
        if (!(v->name = bk__strdup(vd->name)))
            return BK_ENOMEM;
        v->name_len = strlen(v->name);
        if (!vd->type)
            continue;
        const bk_type_def *td = vd->type;
        if ((st = c_type(cb, td->kind, td->elem_kind, td->elem, td->model, td->enum_names,
                td->union_def, &vw, 0, &v->type)) != BK_OK)
            return st;
        if (vd->offset > def->size || v->type->size > def->size - vd->offset)
            return werr(cb, &vw, "the payload lies outside the struct (offset %zu)",
                vd->offset);
        v->offset = vd->offset;
        if (!def->align && v->type->align > u->align)
            u->align = v->type->align;
    }
    *out = u;
    return BK_OK;
}

/*
 * Build def and every definition it reaches into a new schema: convert the
 * descriptors (c_model and friends, memoized by descriptor pointer), then
 * finish. On failure the schema, with whatever was converted, is dropped
 * and *out stays NULL. BK_EINVAL for NULL arguments, BK_EMODEL naming the
 * model and field, BK_ENOMEM.
 */
bk_status bk_model_new(bk_model **out, const bk_model_def *def, bk_error **err)
{
    cbuild cb = { NULL, NULL, 0, 0, err };
    bk_model *m = NULL;
    bk_status st;
    where top = { NULL, NULL, NULL, NULL };

    if (out)
        *out = NULL;
    if (!out || !def)
        return bk__error_set(err, BK_EINVAL, "bk_model_new: NULL %s", out ? "def" : "out");
    if ((st = bk__schema_new(&cb.s)) != BK_OK)
        goto done;
    if ((st = c_model(&cb, def, &top, &m)) != BK_OK)
        goto done;
    if ((st = bk__schema_finish(cb.s, err)) != BK_OK)
        goto done;
    *out = m;
done:
    if (st == BK_ENOMEM)
        bk__error_oom(err);
    if (st != BK_OK)
        bk__schema_unref(cb.s);
    bk__free(cb.memo);
    return st;
}

/* ---- the finishing pass ------------------------------------------------------ */

/* serde's rename_all applied to a snake_case field name, allocated. */
static char *apply_case(bk_case c, const char *name)
{
    size_t n = strlen(name);
    char *s = bk__malloc(n + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    switch (c) {
    case BK_CASE_UPPER:
    case BK_CASE_SCREAMING_SNAKE:
    case BK_CASE_SCREAMING_KEBAB:
        for (size_t i = 0; i < n; i++) {
            char ch = name[i];
            if (ch >= 'a' && ch <= 'z')
                ch = (char)(ch - 'a' + 'A');
            else if (ch == '_' && c == BK_CASE_SCREAMING_KEBAB)
                ch = '-';
            s[o++] = ch;
        }
        break;
    case BK_CASE_KEBAB:
        for (size_t i = 0; i < n; i++)
            s[o++] = name[i] == '_' ? '-' : name[i];
        break;
    case BK_CASE_PASCAL:
    case BK_CASE_CAMEL: {
        bool cap = true;
        for (size_t i = 0; i < n; i++) {
            char ch = name[i];
            if (ch == '_') {
                cap = true;
                continue;
            }
            if (cap && ch >= 'a' && ch <= 'z')
                ch = (char)(ch - 'a' + 'A');
            cap = false;
            s[o++] = ch;
        }
        if (c == BK_CASE_CAMEL && o > 0 && s[0] >= 'A' && s[0] <= 'Z')
            s[0] = (char)(s[0] - 'A' + 'a');
        break;
    }
    default: /* none, lowercase and snake_case leave field names as they are */
        memcpy(s, name, n);
        o = n;
        break;
    }
    s[o] = '\0';
    return s;
}

/* Whether the NUL-terminated s is valid UTF-8. */
static bool str_utf8(const char *s)
{
    return bk__utf8_valid((const unsigned char *)s, strlen(s));
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names of models, unions and enums are one namespace within a schema:
 * BK_EMODEL when two entities share a name. */
static bk_status check_names(bk__schema *s, bk_error **err)
{
    size_t n = s->nmodels + s->nunions + s->nenums, k = 0;
    const char **names = bk__calloc(n ? n : 1, sizeof(*names));
    bk_status st = BK_OK;
    if (!names)
        return BK_ENOMEM;
    for (size_t i = 0; i < s->nmodels; i++)
        names[k++] = s->models[i]->name;
    for (size_t i = 0; i < s->nunions; i++)
        names[k++] = s->unions[i]->name;
    for (size_t i = 0; i < s->nenums; i++)
        names[k++] = s->enums[i]->name;
    qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 1; i < n && st == BK_OK; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            st = bk__model_error(err, NULL, NULL, NULL, NULL,
                "two different definitions are named %s", names[i]);
    bk__free(names);
    return st;
}

/* Checks every union needs, however it was built: variants exist and are
 * distinct, internal tagging has model (or unit) payloads, the tag and
 * content keys differ, all names are UTF-8. */
static bk_status check_union(const bk__union *u, bk_error **err)
{
    if (u->n == 0)
        return bk__model_error(err, "union", u->name, NULL, NULL, "no variants");
    if (!str_utf8(u->tag) || !str_utf8(u->content))
        return bk__model_error(err, "union", u->name, NULL, NULL,
            "tag or content key is not valid UTF-8");
    if (u->tagging == BK_TAG_ADJACENT && strcmp(u->tag, u->content) == 0)
        return bk__model_error(err, "union", u->name, NULL, NULL,
            "adjacent tagging with the same tag and content key \"%s\"", u->tag);
    for (size_t i = 0; i < u->n; i++) {
        const bk__variant *v = &u->variants[i];
        if (!str_utf8(v->name))
            return bk__model_error(err, "union", u->name, "variant", v->name,
                "name is not valid UTF-8");
        for (size_t j = 0; j < i; j++)
            if (strcmp(v->name, u->variants[j].name) == 0)
                return bk__model_error(err, "union", u->name, "variant", v->name,
                    "duplicate variant name");
        if (u->tagging == BK_TAG_INTERNAL && v->type && v->type->kind != BK_MODEL)
            return bk__model_error(err, "union", u->name, "variant", v->name,
                "internal tagging needs a model payload, not %s", v->type->expr);
    }
    return BK_OK;
}

static bk_status check_union_embed(bk__schema *s, bk__union *u, int depth, bk_error **err);

/*
 * Depth-first walk of direct embeddings (BK_MODEL fields, union payloads):
 * an entity met again while it is being walked embeds itself, which no
 * layout can hold. Entities of other schemas are finished, hence acyclic.
 */
static bk_status check_model_embed(bk__schema *s, bk_model *m, int depth, bk_error **err)
{
    bk_status st;
    if (m->build_state >= BS_CHECKED)
        return BK_OK;
    if (depth > MAX_EMBED_DEPTH)
        return bk__model_error(err, "model", m->name, NULL, NULL,
            "models are embedded more than %d levels deep", MAX_EMBED_DEPTH);
    m->build_state = BS_CHECK_BUSY;
    for (size_t i = 0; i < m->nfields; i++) {
        const bk__type *t = m->fields[i].type;
        if (t->kind == BK_MODEL) {
            if (t->model->build_state == BS_CHECK_BUSY)
                return bk__model_error(err, "model", m->name, "field", m->fields[i].name,
                    "model %s embeds itself (use ptr<%s> or a list)", t->model->name,
                    t->model->name);
            if ((st = check_model_embed(s, t->model, depth + 1, err)) != BK_OK)
                return st;
        } else if (t->kind == BK_UNION) {
            if (t->uni->build_state == BS_CHECK_BUSY)
                return bk__model_error(err, "model", m->name, "field", m->fields[i].name,
                    "union %s embeds itself", t->uni->name);
            if ((st = check_union_embed(s, (bk__union *)t->uni, depth + 1, err)) != BK_OK)
                return st;
        }
    }
    m->build_state = BS_CHECKED;
    return BK_OK;
}

static bk_status check_union_embed(bk__schema *s, bk__union *u, int depth, bk_error **err)
{
    bk_status st;
    if (u->build_state >= BS_CHECKED)
        return BK_OK;
    if (depth > MAX_EMBED_DEPTH)
        return bk__model_error(err, "union", u->name, NULL, NULL,
            "models are embedded more than %d levels deep", MAX_EMBED_DEPTH);
    u->build_state = BS_CHECK_BUSY;
    for (size_t i = 0; i < u->n; i++) {
        const bk__type *t = u->variants[i].type;
        if (!t)
            continue;
        if (t->kind == BK_MODEL) {
            if (t->model->build_state == BS_CHECK_BUSY)
                return bk__model_error(err, "union", u->name, "variant", u->variants[i].name,
                    "model %s embeds itself", t->model->name);
            if ((st = check_model_embed(s, t->model, depth + 1, err)) != BK_OK)
                return st;
        } else if (t->kind == BK_UNION) {
            if (t->uni->build_state == BS_CHECK_BUSY)
                return bk__model_error(err, "union", u->name, "variant", u->variants[i].name,
                    "union %s embeds itself", t->uni->name);
            if ((st = check_union_embed(s, (bk__union *)t->uni, depth + 1, err)) != BK_OK)
                return st;
        }
    }
    u->build_state = BS_CHECKED;
    return BK_OK;
}

/* The field's JSON name, and checks of attributes that do not depend on
 * the rest of the model: flatten only on embedded models and never with
 * optional, JSON names and aliases valid UTF-8. */
static bk_status finish_field(bk_model *m, bk__field *f, bk_error **err)
{
    if (!f->name[0] || !str_utf8(f->name))
        return bk__model_error(err, "model", m->name, "field", f->name,
            "the field name is empty or not valid UTF-8");
    if (f->flatten && f->type->kind != BK_MODEL)
        return bk__model_error(err, "model", m->name, "field", f->name,
            "flatten needs an embedded model, not %s", f->type->expr);
    if (f->flatten && f->optional)
        return bk__model_error(err, "model", m->name, "field", f->name,
            "a flattened field cannot be optional");
    if (f->rename && !str_utf8(f->rename))
        return bk__model_error(err, "model", m->name, "field", f->name,
            "rename is not valid UTF-8");
    for (size_t i = 0; i < f->naliases; i++)
        if (!str_utf8(f->aliases[i]))
            return bk__model_error(err, "model", m->name, "field", f->name,
                "alias is not valid UTF-8");
    bk__free(f->json_name);
    f->json_name = f->rename ? bk__strdup(f->rename) : apply_case(m->rename_all, f->name);
    if (!f->json_name)
        return BK_ENOMEM;
    f->json_name_len = strlen(f->json_name);
    if (f->json_name_len > INT32_MAX)
        return bk__model_error(err, "model", m->name, "field", f->name, "name too long");
    bk__free(f->key_json);
    if (!(f->key_json = bk__json_key(f->json_name, f->json_name_len, &f->key_json_len)))
        return BK_ENOMEM;
    for (size_t j = 0; j < (size_t)(f - m->fields); j++)
        if (strcmp(m->fields[j].name, f->name) == 0)
            return bk__model_error(err, "model", m->name, "field", f->name,
                "two fields have this name");
    return BK_OK;
}

/* Insert one key into the lookup table; BK_EMODEL when it is already
 * there (the message names both fields). */
static bk_status slot_insert(bk_model *m, const char *name, size_t len, int32_t index,
    const bk__field *top, bk_error **err)
{
    uint32_t h = bk__hash(name, len);
    size_t mask = m->nslots - 1;
    size_t i = h & mask;
    for (; m->slots[i].index >= 0; i = (i + 1) & mask) {
        bk__slot *sl = &m->slots[i];
        if (sl->hash == h && sl->len == len && memcmp(sl->name, name, len) == 0) {
            const bk__field *f = m->jfields[index].f;
            const bk__field *o = m->jfields[sl->index].f;
            if (top != f)
                return bk__model_error(err, "model", m->name, "field", top->name,
                    "JSON name \"%s\" of flattened field %s is also used by field %s",
                    name, f->name, o->name);
            return bk__model_error(err, "model", m->name, "field", f->name,
                "JSON name \"%s\" is also used by field %s", name, o->name);
        }
    }
    m->slots[i].name = name;
    m->slots[i].len = (uint32_t)len;
    m->slots[i].hash = h;
    m->slots[i].index = index;
    return BK_OK;
}

/*
 * Compute m's JSON view (declared fields minus skipped ones, flattened
 * models expanded in place at absolute offsets) and its lookup table of
 * names and aliases. Views of flattened models are computed first.
 * BK_EMODEL when two keys of the view collide.
 */
static bk_status model_view(bk_model *m, bk_error **err)
{
    bk_status st = BK_OK;
    const bk__field **top = NULL;
    size_t n = 0, nkeys = 0;

    if (m->build_state >= BS_DONE)
        return BK_OK;
    m->build_state = BS_VIEW_BUSY;
    for (size_t i = 0; i < m->nfields; i++) {
        const bk__field *f = &m->fields[i];
        if (f->skip)
            continue;
        if (f->flatten) {
            bk_model *c = f->type->model;
            if (c->build_state == BS_VIEW_BUSY)
                return bk__model_error(err, "model", m->name, "field", f->name,
                    "flattens itself");
            if ((st = model_view(c, err)) != BK_OK)
                return st;
            n += c->njfields;
        } else {
            n++;
        }
    }
    if (n > INT32_MAX / 4)
        return bk__model_error(err, "model", m->name, NULL, NULL, "too many fields");
    m->jfields = bk__calloc(n ? n : 1, sizeof(*m->jfields));
    top = bk__calloc(n ? n : 1, sizeof(*top));
    if (!m->jfields || !top) {
        st = BK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < m->nfields; i++) {
        const bk__field *f = &m->fields[i];
        if (f->skip)
            continue;
        if (f->flatten) {
            const bk_model *c = f->type->model;
            for (size_t k = 0; k < c->njfields; k++) {
                bk__jfield *j = &m->jfields[m->njfields];
                *j = c->jfields[k];
                j->offset += f->offset;
                j->presence_offset += f->offset;
                top[m->njfields++] = f;
                nkeys += 1 + j->f->naliases;
            }
        } else {
            bk__jfield *j = &m->jfields[m->njfields];
            j->f = f;
            j->name = f->json_name;
            j->name_len = f->json_name_len;
            j->offset = f->offset;
            j->presence_offset = f->optional ? f->presence_offset : 0;
            j->required = !f->optional && f->default_json == NULL && !f->default_zero;
            top[m->njfields++] = f;
            nkeys += 1 + f->naliases;
        }
    }
    m->nslots = 8;
    while (m->nslots < 2 * nkeys)
        m->nslots *= 2;
    if (!(m->slots = bk__calloc(m->nslots, sizeof(*m->slots)))) {
        st = BK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < m->nslots; i++)
        m->slots[i].index = -1;
    for (size_t i = 0; i < m->njfields && st == BK_OK; i++) {
        const bk__jfield *j = &m->jfields[i];
        st = slot_insert(m, j->name, j->name_len, (int32_t)i, top[i], err);
        for (size_t k = 0; k < j->f->naliases && st == BK_OK; k++)
            st = slot_insert(m, j->f->aliases[k], strlen(j->f->aliases[k]), (int32_t)i,
                top[i], err);
    }
    if (st == BK_OK)
        m->build_state = BS_DONE;
done:
    bk__free(top);
    return st;
}

/* Internal tagging writes the tag into the payload's object: a payload key
 * equal to the tag would be ambiguous. */
static bk_status check_union_keys(const bk__union *u, bk_error **err)
{
    if (u->tagging != BK_TAG_INTERNAL)
        return BK_OK;
    for (size_t i = 0; i < u->n; i++) {
        const bk__type *t = u->variants[i].type;
        if (t && bk__model_lookup(t->model, u->tag, u->tag_len) >= 0)
            return bk__model_error(err, "union", u->name, "variant", u->variants[i].name,
                "model %s has a field whose JSON name is the tag \"%s\"", t->model->name,
                u->tag);
    }
    return BK_OK;
}

/* Default expansion states kept in bk__field.build_state. */
enum { DS_NEW = 0, DS_BUSY = 1, DS_DONE = 2 };

typedef struct dwalk {
    const bk__schema *s;
    const bk_model *m;           /* the field being checked, for the message */
    const bk__field *f;
    bk_error **err;
} dwalk;

static bk_status default_expand(dwalk *w, bk__field *f, int depth);
static bk_status check_default_value(const bk__schema *s, bk__field *f, bk_error **err);

/* The member of JSON object o that the decoder would take for jfield j
 * (its name or one of its aliases), or NULL. */
static const json_t *jfield_value(const json_t *o, const bk__jfield *j)
{
    const json_t *v = json_object_get(o, j->name);
    for (size_t i = 0; !v && i < j->f->naliases; i++)
        v = json_object_get(o, j->f->aliases[i]);
    return v;
}

/*
 * Follow v, a JSON value of type t taken from a default, the way the
 * decoder will: into members, elements and union payloads, and into the
 * defaults of the keys an object lacks. Only entities of the schema being
 * built are followed (finished schemas were checked when they were built).
 */
static bk_status default_walk(dwalk *w, const bk__type *t, const json_t *v, int depth)
{
    bk_status st = BK_OK;
    switch (t->kind) {
    case BK_MODEL:
    case BK_MODEL_PTR: {
        const bk_model *m = t->model;
        if (!json_is_object(v) || m->schema != w->s)
            return BK_OK;
        for (size_t i = 0; i < m->njfields && st == BK_OK; i++) {
            const bk__jfield *j = &m->jfields[i];
            const json_t *sub = jfield_value(v, j);
            if (sub)
                st = default_walk(w, j->f->type, sub, depth);
            else if (j->f->default_json)
                st = default_expand(w, (bk__field *)j->f, depth + 1);
        }
        return st;
    }
    case BK_LIST:
        for (size_t i = 0; json_is_array(v) && i < json_array_size(v) && st == BK_OK; i++)
            st = default_walk(w, t->elem, json_array_get(v, i), depth);
        return st;
    case BK_MAP: {
        const char *k;
        json_t *x;
        if (!json_is_object(v))
            return BK_OK;
        json_object_foreach((json_t *)v, k, x)
            if ((st = default_walk(w, t->elem, x, depth)) != BK_OK)
                return st;
        return BK_OK;
    }
    case BK_UNION: {
        const bk__union *u = t->uni;
        const char *name = NULL;
        const json_t *payload = v;
        if (!json_is_object(v))
            return BK_OK;
        if (u->tagging == BK_TAG_EXTERNAL && json_object_size(v) == 1) {
            void *it = json_object_iter((json_t *)v);
            name = json_object_iter_key(it);
            payload = json_object_iter_value(it);
        } else if (u->tagging == BK_TAG_INTERNAL || u->tagging == BK_TAG_ADJACENT) {
            name = json_string_value(json_object_get(v, u->tag));
            if (u->tagging == BK_TAG_ADJACENT)
                payload = json_object_get(v, u->content);
        }
        for (size_t i = 0; i < u->n && st == BK_OK; i++) {
            const bk__type *vt = u->variants[i].type;
            if (!vt || !payload)
                continue;
            if (u->tagging == BK_UNTAGGED) {
                /* any variant may take it: follow every one that could */
                bool obj = vt->kind == BK_MODEL || vt->kind == BK_MODEL_PTR
                    || vt->kind == BK_MAP || vt->kind == BK_UNION;
                if ((obj && json_is_object(payload)) || (vt->kind == BK_LIST
                        && json_is_array(payload)))
                    st = default_walk(w, vt, payload, depth);
            } else if (name && strcmp(name, u->variants[i].name) == 0) {
                st = default_walk(w, vt, payload, depth);
            }
        }
        return st;
    }
    default:
        return BK_OK;
    }
}

/*
 * Walk the default of field f and everything it brings in, then check it
 * (check_default_value), so that defaults are checked after those they
 * use and a bad one is reported where it is written. A default that needs
 * itself again (a node whose default holds a node lacking the same key)
 * would make the decoder recurse forever: BK_EMODEL. Each field's default
 * is walked and checked once per build.
 */
static bk_status default_expand(dwalk *w, bk__field *f, int depth)
{
    bk_status st;
    json_error_t jerr;
    if (f->build_state == DS_DONE)
        return BK_OK;
    if (f->build_state == DS_BUSY)
        return bk__model_error(w->err, "model", w->m->name, "field", w->f->name,
            "default %s needs itself again (through the default of field %s)",
            w->f->default_json, f->name);
    if (depth > MAX_DEFAULT_DEPTH)
        return bk__model_error(w->err, "model", w->m->name, "field", w->f->name,
            "defaults nest more than %d levels deep", MAX_DEFAULT_DEPTH);
    json_t *v = json_loads(f->default_json, JSON_DECODE_ANY, &jerr);
    if (!v) { /* not JSON (the decode check reports it) or beyond jansson */
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return BK_ENOMEM;
        f->build_state = DS_DONE;
        return check_default_value(w->s, f, w->err);
    }
    f->build_state = DS_BUSY;
    st = default_walk(w, f->type, v, depth);
    json_decref(v);
    /* the defaults this one brings in are checked: now this one */
    if (st == BK_OK)
        st = check_default_value(w->s, f, w->err);
    f->build_state = DS_DONE;
    return st;
}

/* The model of schema s that declares field f (for messages). */
static const char *owner_name(const bk__schema *s, const bk__field *f)
{
    for (size_t i = 0; i < s->nmodels; i++) {
        const bk_model *m = s->models[i];
        if (m->nfields && f >= m->fields && f < m->fields + m->nfields)
            return m->name;
    }
    return "?";
}

/*
 * Check the field's default by decoding it into a scratch value, and for
 * skip_if = default keep the compact encoding of the default (or of the
 * zero value when there is none). BK_EMODEL when the default does not
 * decode or cannot be encoded.
 */
static bk_status check_default_value(const bk__schema *s, bk__field *f, bk_error **err)
{
    bk_status st = BK_OK;
    bk_error *e = NULL;
    bk_buf buf = BK_BUF_INIT;
    const bk__type *t = f->type;
    void *scratch = bk__calloc(1, t->size ? t->size : 1);

    if (!scratch)
        return BK_ENOMEM;
    if (f->default_json) {
        st = bk__json_decode_type(scratch, t, f->default_json, strlen(f->default_json), NULL,
            "$", &e);
        if (st == BK_ENOMEM)
            goto done;
        if (st != BK_OK) {
            st = bk__model_error(err, "model", owner_name(s, f), "field", f->name,
                "default %s is not a valid %s: %s", f->default_json, t->expr,
                bk_error_message(e));
            goto done;
        }
    }
    if (f->skip_if == BK_SKIP_IF_DEFAULT) {
        st = bk__json_encode_type(&buf, t, scratch, &e);
        if (st == BK_ENOMEM)
            goto done;
        if (st != BK_OK) {
            if (f->default_json)
                st = bk__model_error(err, "model", owner_name(s, f), "field", f->name,
                    "default %s cannot be encoded: %s", f->default_json, bk_error_message(e));
            else
                st = BK_OK; /* no zero-value encoding: the field is never skipped */
            goto done;
        }
        if ((st = bk_buf_detach(&f->default_enc, &buf)) != BK_OK)
            goto done;
        f->default_enc_len = strlen(f->default_enc);
    }
done:
    bk_error_free(e);
    bk_buf_dispose(&buf);
    bk__value_clear(t, scratch);
    bk__free(scratch);
    return st;
}

/* Check field f's default (see default_expand) or, without one, compute
 * the zero value's encoding for skip_if = default. */
static bk_status field_default(bk_model *m, bk__field *f, bk_error **err)
{
    if (f->default_json) {
        dwalk w = { m->schema, m, f, err };
        return default_expand(&w, f, 0);
    }
    if (f->skip_if == BK_SKIP_IF_DEFAULT)
        return check_default_value(m->schema, f, err);
    return BK_OK;
}

/* ---- constraints --------------------------------------------------------------- */

/* Compile one declared check of field f (see bk__check_declare) against
 * type t and put the compiled one (NULL when it sets nothing) in its place.
 * `what` qualifies the field in messages ("each" for element checks). */
static bk_status compile_check(bk__check **slot, const bk__type *t, const bk_model *m,
    const bk__field *f, const char *what, bk_error **err)
{
    bk__check *c = NULL;
    bk_status st;
    char small[128], *name = small;
    size_t n = strlen(f->name) + (what ? strlen(what) + 4 : 0) + 1;
    if (n > sizeof(small) && !(name = bk__malloc(n)))
        return BK_ENOMEM;
    snprintf(name, n, what ? "%s (%s)" : "%s", f->name, what);
    st = bk__check_new(&c, &(*slot)->src, t, m->name, name, err);
    if (name != small)
        bk__free(name);
    if (st != BK_OK)
        return st;
    bk__check_free(*slot);
    *slot = c;
    return BK_OK;
}

/* Compile the declared checks of field f of m: the value's against the
 * field's type, each element's against the list element or map value
 * type. BK_EMODEL when a constraint does not fit (bk__check_new) or when
 * element constraints are declared on something else than a list or map. */
static bk_status field_checks(bk_model *m, bk__field *f, bk_error **err)
{
    bk_status st;
    const bk__check *dc[2] = { f->check, f->elem_check };
    for (int i = 0; i < 2; i++) {
        bool ok = !dc[i] || !dc[i]->pattern || str_utf8(dc[i]->pattern);
        for (size_t k = 0; ok && dc[i] && dc[i]->messages && dc[i]->messages[k]; k++)
            ok = str_utf8(dc[i]->messages[k]);
        if (!ok)
            return bk__model_error(err, "model", m->name, "field", f->name,
                "a pattern or message is not valid UTF-8");
    }
    if (f->validate_name && (!f->validate_name[0] || !str_utf8(f->validate_name)))
        return bk__model_error(err, "model", m->name, "field", f->name,
            "the validator name is empty or not valid UTF-8");
    if (f->check && (st = compile_check(&f->check, f->type, m, f, NULL, err)) != BK_OK)
        return st;
    if (!f->elem_check)
        return BK_OK;
    if (f->type->kind != BK_LIST && f->type->kind != BK_MAP)
        return bk__model_error(err, "model", m->name, "field", f->name,
            "each (constraints on elements) needs a list or a map, not %s", f->type->expr);
    return compile_check(&f->elem_check, f->type->elem, m, f, "each", err);
}

/* Whether a union of a finished schema reaches a model with checks (whose
 * has_checks is final): breadth-first over the unions it nests, each once. */
static bk_status foreign_union_checks(const bk__union *u0, bool *out)
{
    const bk__union **seen = NULL;
    size_t n = 0, cap = 0;
    *out = false;
    if (!(seen = grow(seen, n, &cap, sizeof(*seen))))
        return BK_ENOMEM;
    seen[n++] = u0;
    for (size_t i = 0; i < n && !*out; i++) {
        for (size_t k = 0; k < seen[i]->n && !*out; k++) {
            const bk__type *t = seen[i]->variants[k].type;
            while (t && (t->kind == BK_LIST || t->kind == BK_MAP))
                t = t->elem;
            if (!t)
                continue;
            if (t->kind == BK_MODEL || t->kind == BK_MODEL_PTR) {
                *out = t->model->has_checks;
            } else if (t->kind == BK_UNION) {
                bool found = false;
                for (size_t j = 0; j < n && !found; j++)
                    found = seen[j] == t->uni;
                if (found)
                    continue;
                const bk__union **arr = grow(seen, n, &cap, sizeof(*seen));
                if (!arr) {
                    bk__free(seen);
                    return BK_ENOMEM;
                }
                seen = arr;
                seen[n++] = t->uni;
            }
        }
    }
    bk__free(seen);
    return BK_OK;
}

/* Whether a value of type t may hold something with checks, as far as the
 * marks say now: models by has_checks, unions of this build by their
 * BS_HC_* mark, unions of finished schemas by a walk. */
static bk_status type_checks(const bk__type *t, bool *out)
{
    while (t->kind == BK_LIST || t->kind == BK_MAP)
        t = t->elem;
    *out = false;
    if (t->kind == BK_MODEL || t->kind == BK_MODEL_PTR)
        *out = t->model->has_checks;
    else if (t->kind == BK_UNION && t->uni->build_state == BS_HC_YES)
        *out = true;
    else if (t->kind == BK_UNION && t->uni->build_state != BS_HC_NO)
        return foreign_union_checks(t->uni, out);
    return BK_OK;
}

/* Whether m or a model flattened into it (at any depth) has a model
 * validator. Embedding cycles were refused, so this ends. */
static bool model_validators(const bk_model *m)
{
    if (m->validate)
        return true;
    for (size_t k = 0; k < m->nfields; k++)
        if (m->fields[k].flatten && model_validators(m->fields[k].type->model))
            return true;
    return false;
}

/*
 * has_checks of every model of the schema: a constraint or custom
 * validator on the model or one of its fields, or anywhere below it
 * (nested models, list elements, map values, union payloads, through
 * pointers). Models may reach each other in cycles, so the marks are
 * raised to a fixed point; passes go in reverse creation order, which
 * settles a chain of references (created in first-reference order) in one
 * pass. Unions of this build carry their mark in build_state meanwhile.
 */
static bk_status schema_checks(bk__schema *s)
{
    bk_status st = BK_OK;
    bool changed, yes;
    for (size_t i = 0; i < s->nunions; i++)
        s->unions[i]->build_state = BS_HC_NO;
    for (size_t i = 0; i < s->nmodels; i++) {
        bk_model *m = s->models[i];
        m->has_checks = m->validate != NULL;
        for (size_t k = 0; k < m->nfields && !m->has_checks; k++)
            m->has_checks = m->fields[k].check || m->fields[k].elem_check
                || m->fields[k].validate;
    }
    do {
        changed = false;
        for (size_t i = s->nunions; i-- > 0 && st == BK_OK;) {
            bk__union *u = s->unions[i];
            for (size_t k = 0; k < u->n && u->build_state == BS_HC_NO && st == BK_OK; k++)
                if (u->variants[k].type
                        && (st = type_checks(u->variants[k].type, &yes)) == BK_OK && yes) {
                    u->build_state = BS_HC_YES;
                    changed = true;
                }
        }
        for (size_t i = s->nmodels; i-- > 0 && st == BK_OK;) {
            bk_model *m = s->models[i];
            for (size_t k = 0; k < m->nfields && !m->has_checks && st == BK_OK; k++)
                if ((st = type_checks(m->fields[k].type, &yes)) == BK_OK && yes) {
                    m->has_checks = true;
                    changed = true;
                }
        }
    } while (changed && st == BK_OK);
    for (size_t i = 0; i < s->nunions; i++)
        s->unions[i]->build_state = BS_DONE;
    for (size_t i = 0; i < s->nmodels; i++)
        s->models[i]->has_validators = model_validators(s->models[i]);
    return st;
}

/*
 * Finish every model and union of a freshly built schema (see internal.h).
 * Order matters: embedding cycles are rejected before anything recurses
 * through embeddings, views need the JSON names, and defaults need the
 * views (the codec decodes them). Constraints come last: their allowed
 * values are decoded like defaults, which must be known to be sound first;
 * meanwhile fields hold declared (uncompiled) checks and has_checks is
 * false, so decoding defaults validates nothing.
 */
bk_status bk__schema_finish(bk__schema *s, bk_error **err)
{
    bk_status st;
    if ((st = check_names(s, err)) != BK_OK)
        return st;
    for (size_t i = 0; i < s->nenums; i++)
        for (size_t k = 0; k < s->enums[i]->n; k++)
            if (!str_utf8(s->enums[i]->names[k]))
                return bk__model_error(err, "enum", s->enums[i]->name, NULL, NULL,
                    "name #%zu is not valid UTF-8", k);
    for (size_t i = 0; i < s->nunions; i++)
        if ((st = check_union(s->unions[i], err)) != BK_OK)
            return st;
    for (size_t i = 0; i < s->nmodels; i++)
        if ((st = check_model_embed(s, s->models[i], 0, err)) != BK_OK)
            return st;
    for (size_t i = 0; i < s->nunions; i++)
        if ((st = check_union_embed(s, s->unions[i], 0, err)) != BK_OK)
            return st;
    for (size_t i = 0; i < s->ntypes; i++)
        type_layout(s->types[i]);
    for (size_t i = 0; i < s->nmodels; i++) {
        bk_model *m = s->models[i];
        for (size_t k = 0; k < m->nfields; k++)
            if ((st = finish_field(m, &m->fields[k], err)) != BK_OK)
                return st;
    }
    for (size_t i = 0; i < s->nmodels; i++)
        if ((st = model_view(s->models[i], err)) != BK_OK)
            return st;
    for (size_t i = 0; i < s->nunions; i++) {
        if ((st = check_union_keys(s->unions[i], err)) != BK_OK)
            return st;
        s->unions[i]->build_state = BS_DONE;
    }
    for (size_t i = 0; i < s->nmodels; i++) {
        bk_model *m = s->models[i];
        for (size_t k = 0; k < m->nfields; k++)
            if ((st = field_default(m, &m->fields[k], err)) != BK_OK)
                return st;
    }
    for (size_t i = 0; i < s->nmodels; i++) {
        bk_model *m = s->models[i];
        if (m->validate_name && (!m->validate_name[0] || !str_utf8(m->validate_name)))
            return bk__model_error(err, "model", m->name, NULL, NULL,
                "the validator name is empty or not valid UTF-8");
        for (size_t k = 0; k < m->nfields; k++)
            if ((st = field_checks(m, &m->fields[k], err)) != BK_OK)
                return st;
    }
    if ((st = schema_checks(s)) != BK_OK)
        return st;
    for (size_t i = 0; i < s->nmodels; i++)          /* bk_clear's programs (value.c) */
        if ((st = bk__clear_compile(s->models[i])) != BK_OK)
            return st;
    return BK_OK;
}

bk_status bk__schema_refresh_checks(bk__schema *s)
{
    return schema_checks(s);
}

/* ---- introspection ------------------------------------------------------------ */

const char *bk_model_name(const bk_model *model)
{
    return bk__model_ok(model) ? model->name : NULL;
}

size_t bk_model_size(const bk_model *model)
{
    return bk__model_ok(model) ? model->size : 0;
}

size_t bk_model_field_count(const bk_model *model)
{
    return bk__model_ok(model) ? model->nfields : 0;
}

/* Introspection: NULL or a handle that is not a model gives the neutral
 * value (NULL, 0, -1, BK_KIND_NONE, false); so does an index out of range. */
long bk_model_field_index(const bk_model *model, const char *name)
{
    if (!bk__model_ok(model) || !name)
        return -1;
    for (size_t i = 0; i < model->nfields; i++)
        if (strcmp(model->fields[i].name, name) == 0)
            return (long)i;
    return -1;
}

static const bk__field *field_at(const bk_model *model, size_t i)
{
    return bk__model_ok(model) && i < model->nfields ? &model->fields[i] : NULL;
}

const char *bk_model_field_name(const bk_model *model, size_t i)
{
    const bk__field *f = field_at(model, i);
    return f ? f->name : NULL;
}

const char *bk_model_field_json_name(const bk_model *model, size_t i)
{
    const bk__field *f = field_at(model, i);
    return f ? f->json_name : NULL;
}

bk_kind bk_model_field_kind(const bk_model *model, size_t i)
{
    const bk__field *f = field_at(model, i);
    return f ? f->type->kind : BK_KIND_NONE;
}

bool bk_model_field_optional(const bk_model *model, size_t i)
{
    const bk__field *f = field_at(model, i);
    return f ? f->optional : false;
}

const char *bk_model_field_type(const bk_model *model, size_t i)
{
    const bk__field *f = field_at(model, i);
    return f ? f->type->expr : NULL;
}
