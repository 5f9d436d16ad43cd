/*
 * internal.h - the library's private contract between modules.
 *
 * Nothing here is exported. Names are bk__<module>_<verb>.
 *
 * Model graph ownership: every model, union, enum and type node built in one
 * call (bk_model_new, bk_builder_build, bk_model_from_doc) lives in one
 * bk__schema, which is reference counted as a whole; bk_model_ref/unref act
 * on the schema of the model. This lets models refer to each other (and to
 * themselves, through ptr<...>) without reference cycles. A schema that uses
 * models of another schema (bk_builder_use) holds a reference to it.
 */
#ifndef BK_INTERNAL_H
#define BK_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include "backend.h"

#define BK__MAGIC_MODEL   0x6b6d6f64u /* "kmod" */
#define BK__MAGIC_RECORD  0x6b726563u
#define BK__MAGIC_BUILDER 0x6b626c64u
#define BK__MAGIC_STREAM  0x6b737472u

#define BK__UNUSED(x) ((void)(x))
#if defined(__GNUC__)
#  define BK__LIKELY(x)   __builtin_expect(!!(x), 1)
#  define BK__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#  define BK__LIKELY(x)   (x)
#  define BK__UNLIKELY(x) (x)
#endif

/* ---- string scanning (shared by the decoder and the encoder) ------------- */
#if defined(__SSE2__)
#  include <emmintrin.h>
#endif
/* First byte in [p, e) that is '"', '\\', a control character (< 0x20) or
 * non-ASCII (>= 0x80); e if none. 16 bytes a step with SSE2 (every x86-64),
 * else 8 with plain 64-bit arithmetic. */
static inline const unsigned char *bk__scan_plain(const unsigned char *p,
    const unsigned char *e)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1F);
    while (e - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
        hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit) | (unsigned)_mm_movemask_epi8(v);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (e - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t hi = w & 0x8080808080808080ull;
        uint64_t lt = (w - 0x2020202020202020ull) & ~w & 0x8080808080808080ull;
        uint64_t q = w ^ 0x2222222222222222ull;
        uint64_t qz = (q - 0x0101010101010101ull) & ~q & 0x8080808080808080ull;
        uint64_t b = w ^ 0x5c5c5c5c5c5c5c5cull;
        uint64_t bz = (b - 0x0101010101010101ull) & ~b & 0x8080808080808080ull;
        if (hi | lt | qz | bz)
            break;
        p += 8;
    }
    while (p < e && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* ---- integer kinds ------------------------------------------------------------ */
/* The range of an integer kind's C type (BK_DATE: int32, BK_TIMESTAMP:
 * int64, BK_U64: up to UINT64_MAX). Other kinds get the int64 range. */
static inline void bk__int_range(bk_kind k, int64_t *lo, uint64_t *hi)
{
    switch (k) {
    case BK_I8: *lo = INT8_MIN; *hi = INT8_MAX; return;
    case BK_I16: *lo = INT16_MIN; *hi = INT16_MAX; return;
    case BK_I32: case BK_DATE: *lo = INT32_MIN; *hi = INT32_MAX; return;
    case BK_U8: *lo = 0; *hi = UINT8_MAX; return;
    case BK_U16: *lo = 0; *hi = UINT16_MAX; return;
    case BK_U32: *lo = 0; *hi = UINT32_MAX; return;
    case BK_U64: *lo = 0; *hi = UINT64_MAX; return;
    default: *lo = INT64_MIN; *hi = INT64_MAX; return;
    }
}

/* Whether v fits the integer kind k (see bk__int_range). */
static inline bool bk__int_fits(bk_kind k, int64_t v)
{
    int64_t lo;
    uint64_t hi;
    bk__int_range(k, &lo, &hi);
    return v >= lo && (v < 0 || (uint64_t)v <= hi);
}

/* ---- allocation (common.c) ------------------------------------------------ */
void *bk__malloc(size_t n);
void *bk__calloc(size_t n, size_t size);    /* overflow-checked, zeroed */
void *bk__realloc(void *p, size_t n);
void  bk__free(void *p);
char *bk__strdup(const char *s);
char *bk__strndup(const char *s, size_t n);
/* Grow buf so that `extra` more bytes (plus a NUL) fit. */
bk_status bk__buf_reserve(bk_buf *buf, size_t extra);
bk_status bk__buf_append(bk_buf *buf, const void *data, size_t n);

/* ---- errors (error.c) ----------------------------------------------------- */
/* An error under construction: problems accumulate, then bk__errors_finish
 * turns them into a bk_error. Kept on the stack of the caller. */
typedef struct bk__problem {
    char *path;
    const char *code;      /* static string (or code_owned) */
    char *code_owned;      /* custom codes ("custom:<name>") */
    char *message;
    char *params;          /* JSON object text, or NULL for "{}" */
    size_t offset, line, column;
} bk__problem;

typedef struct bk__errors {
    bk_status status;      /* first non-OK status recorded (BK_OK if none) */
    bk__problem *items;
    size_t len, cap;
    size_t max;            /* cap on recorded problems */
    bool truncated;
    bool oom;              /* an allocation failed while recording */
    long long record_index;
} bk__errors;

void bk__errors_init(bk__errors *e, size_t max);
/* Record a problem; path and message are copied. Returns the status. */
bk_status bk__errors_add(bk__errors *e, bk_status st, const char *path, const char *code,
    size_t offset, size_t line, size_t column, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 8, 9)))
#endif
    ;
/* Record a problem with parameters (a JSON object text, copied; may be
 * NULL) and, for custom codes, a code to copy (code_copy, used instead of
 * code when non-NULL). */
bk_status bk__errors_add_params(bk__errors *e, bk_status st, const char *path, const char *code,
    const char *code_copy, const char *params, const char *message);
void bk__errors_dispose(bk__errors *e);
/* Move the problems into *err (if err) and return e->status; disposes e. */
bk_status bk__errors_finish(bk__errors *e, bk_error **err);

/* Set *err to a single-message error. Returns st. Safe with err == NULL. */
bk_status bk__error_set(bk_error **err, bk_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Same, with one problem (path + code). */
bk_status bk__error_problem(bk_error **err, bk_status st, const char *path, const char *code,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* Static out-of-memory error. */
bk_status bk__error_oom(bk_error **err);
void bk__error_set_record_index(bk_error *err, long long index);

struct bk__field;
/* Inline validation by the decoder: check one decoded field value (its
 * constraints, its elements' constraints, its validator — not the models
 * below it, which the decoder validates as it decodes them), or run a
 * model's validators. Problems go to errs at the path base() writes.
 * Return 0, 1 when a validator asked to stop, -1 when memory ran out. */
int bk__validate_field_inline(bk__errors *errs, bool (*base)(void *, bk_buf *), void *ctx,
    const struct bk__field *f, const void *p);
/* Whether field f's value at p passes its constraints and its elements'
 * by their fast checks alone (bk__check_str_ok, bk__check_scalar_ok; string
 * lengths measured here); false means "run the full check". The decoder
 * uses it for map values, and checks the rest as it decodes them. */
bool bk__validate_fast_ok(const struct bk__field *f, const void *p);
int bk__validate_model_inline(bk__errors *errs, bool (*base)(void *, bk_buf *), void *ctx,
    const bk_model *m, const void *obj);
/* Validate a struct of model m (validate.c); problems go to *err as
 * BK_EVALIDATION. */
bk_status bk__validate_obj(const bk_model *m, const void *obj, size_t max_errors, bk_error **err);

/* ---- model internals (model.c) ------------------------------------------- */
typedef struct bk__schema bk__schema;
typedef struct bk__type bk__type;
typedef struct bk__enum bk__enum;
typedef struct bk__union bk__union;

struct bk__enum {
    char *name;
    char **names;          /* n entries */
    size_t *lens;
    size_t n;
};

typedef struct bk__variant {
    char *name;
    size_t name_len;
    size_t offset;         /* payload offset within the union struct */
    const bk__type *type;  /* NULL: unit variant */
} bk__variant;

struct bk__union {
    char *name;
    size_t size, align;
    size_t tag_offset;     /* int tag = variant index */
    bk__variant *variants;
    size_t n;
    bk_tagging tagging;
    char *tag;  size_t tag_len;       /* internal, adjacent */
    char *content; size_t content_len;/* adjacent */
    int build_state;       /* scratch for the build that creates it (model.c) */
};

/* A type: kind plus what the kind needs. Immutable after the build. */
struct bk__type {
    bk_kind kind;
    size_t size, align;          /* C size and alignment of one value */
    const bk__type *elem;        /* BK_LIST, BK_MAP */
    bk_model *model;             /* BK_MODEL, BK_MODEL_PTR */
    const bk__enum *enm;         /* BK_ENUM */
    const bk__union *uni;        /* BK_UNION */
    char *expr;                  /* type expression ("list<str>") */
};

/* ---- validation (validate.c, regex.c, formats.c) ----------------------------- */
typedef struct bk__re bk__re;
/* Compile a pattern (docs/validation.md#patterns). On failure returns
 * BK_EMODEL and writes a message into errbuf. */
bk_status bk__re_compile(bk__re **out, const char *pattern, char *errbuf, size_t errlen);
/* Whether the UTF-8 text s[0..n) contains a match (code-point semantics,
 * linear time). */
bool bk__re_search(const bk__re *re, const char *s, size_t n);
void bk__re_free(bk__re *re);
/* Whether s[0..n) is valid for the format. */
bool bk__format_check(bk_format f, const char *s, size_t n);
/* "email", "uri", ... (the JSON Schema names); NULL for BK_FORMAT_NONE or
 * an unknown value. */
const char *bk__format_name(bk_format f);
bool bk__format_from_name(const char *name, bk_format *out);

/* What the fast check of a bk__check must do (bk__check.fast). */
enum {
    BK__FAST_SLOW    = 1u << 0, /* a constraint only the full check decides */
    BK__FAST_INT     = 1u << 1, /* i8 .. u32, i64: value in [imin, imax] */
    BK__FAST_UINT    = 1u << 2, /* u64: value in [umin, umax] */
    BK__FAST_REAL    = 1u << 3, /* f32, f64: value in [fmin, fmax] */
    BK__FAST_LEN     = 1u << 4, /* str: code points, bytes: bytes in [lmin, lmax] */
    BK__FAST_FORMAT  = 1u << 5, /* str: src.format */
    BK__FAST_PATTERN = 1u << 6, /* str: re */
    BK__FAST_ITEMS   = 1u << 7, /* list, map: size in [nmin, nmax] */
    BK__FAST_ONE_OF  = 1u << 8, /* str, integers, enum: one of the values */
    BK__FAST_CONST   = 1u << 9, /* str, integers, enum: the const value */
};

/* Compiled constraints of one value. `src` keeps the declaration (its
 * strings point to copies owned here) so documents and schemas can be
 * written back exactly.
 *
 * The fast check: bk__check_new also compiles the constraints the decoder
 * checks inline into native terms: `fast` says which checks exist, and the
 * bounds are inclusive and in the value's own arithmetic (an integer range
 * is two integer compares, an exclusive float bound is the next double).
 * A value passing the fast check satisfies every constraint of the check
 * (bk__check_scalar_ok, bk__check_str_ok); one that does not goes to the
 * full check, which decides and reports. */
typedef struct bk__check {
    bk_check src;
    char *pattern, *one_of, *const_value;   /* owned; src points to them */
    char **messages;                        /* owned pairs code, message; NULL-ended */
    bk__re *re;
    char **allowed;                         /* one_of: canonical encodings */
    size_t *allowed_len;
    size_t nallowed;
    char *const_enc;                        /* const: canonical encoding */
    size_t const_enc_len;
    unsigned fast;                          /* BK__FAST_* */
    int64_t imin, imax;
    uint64_t umin, umax;
    double fmin, fmax;
    size_t lmin, lmax;                      /* 0, SIZE_MAX when not bounded */
    size_t nmin, nmax;
    /* one_of (the first nallowed) then const, decoded: strings or integers
     * (enum indexes; u64 as its bits) */
    size_t nvals;
    char **vstr;
    size_t *vlen;
    int64_t *vint;
} bk__check;

/* Whether a string, an integer is among one_of and equals const, by the
 * decoded values (BK__FAST_ONE_OF, BK__FAST_CONST). (validate.c) */
bool bk__check_values_str(const bk__check *c, const char *s, size_t n);
bool bk__check_values_int(const bk__check *c, int64_t v);

/* Whether x lies in [lo, hi] (lo <= hi): one unsigned compare. */
static inline bool bk__in_range(size_t x, size_t lo, size_t hi)
{
    return x - lo <= hi - lo;
}

/* The fast check of a string s[0..n) of cp code points (valid UTF-8). */
static inline bool bk__check_str_ok(const bk__check *c, const char *s, size_t n, size_t cp)
{
    unsigned f = c->fast;
    if (BK__UNLIKELY(f & BK__FAST_SLOW))
        return false;
    if ((f & BK__FAST_LEN) && !bk__in_range(cp, c->lmin, c->lmax))
        return false;
    if ((f & (BK__FAST_ONE_OF | BK__FAST_CONST)) && !bk__check_values_str(c, s, n))
        return false;
    if ((f & BK__FAST_FORMAT) && !bk__format_check(c->src.format, s, n))
        return false;
    if ((f & BK__FAST_PATTERN) && !bk__re_search(c->re, s, n))
        return false;
    return true;
}

/* Code points in s[0..n) (valid UTF-8). (validate.c) */
size_t bk__code_points(const char *s, size_t n);

/* The fast check of a string s[0..n) (valid UTF-8) of cp code points, or
 * SIZE_MAX when they were not counted: then they are counted only when
 * the byte length does not decide (a string has between ceil(n/4) and n of
 * them; n stands for the count when that whole range is within bounds). */
static inline bool bk__check_strn_ok(const bk__check *c, const char *s, size_t n, size_t cp)
{
    if (cp == SIZE_MAX)
        cp = (c->fast & BK__FAST_LEN) && (n > c->lmax || (n + 3) / 4 < c->lmin)
           ? bk__code_points(s, n) : n;
    return bk__check_str_ok(c, s, n, cp);
}

/* The fast check of a value of kind k at p that is not a string (strings:
 * bk__check_str_ok). false for kinds it does not handle. */
static inline bool bk__check_scalar_ok(const bk__check *c, bk_kind k, const void *p)
{
    unsigned f = c->fast;
    if (BK__UNLIKELY(f & BK__FAST_SLOW))
        return false;
    int64_t i;
    double x;
    size_t n;
    switch (k) {
    case BK_I8: i = *(const int8_t *)p; goto int_range;
    case BK_I16: i = *(const int16_t *)p; goto int_range;
    case BK_I32: i = *(const int32_t *)p; goto int_range;
    case BK_I64: i = *(const int64_t *)p; goto int_range;
    case BK_U8: i = *(const uint8_t *)p; goto int_range;
    case BK_U16: i = *(const uint16_t *)p; goto int_range;
    case BK_U32: i = *(const uint32_t *)p; goto int_range;
    case BK_U64: {
        uint64_t u = *(const uint64_t *)p;
        if (f & ~(BK__FAST_UINT | BK__FAST_ONE_OF | BK__FAST_CONST))
            return false;
        if ((f & BK__FAST_UINT) && (u < c->umin || u > c->umax))
            return false;
        return !(f & (BK__FAST_ONE_OF | BK__FAST_CONST)) || bk__check_values_int(c, (int64_t)u);
    }
    case BK_F32: x = *(const float *)p; goto real_range;
    case BK_F64: x = *(const double *)p; goto real_range;
    case BK_BYTES: n = ((const bk_bytes *)p)->len; goto len_range;
    case BK_LIST: n = ((const bk_list *)p)->len; goto items;
    case BK_MAP: n = ((const bk_map *)p)->len; goto items;
    case BK_ENUM:
        if (f & ~(BK__FAST_ONE_OF | BK__FAST_CONST))
            return false;
        return !f || bk__check_values_int(c, *(const int *)p);
    case BK_BOOL: case BK_TIMESTAMP: case BK_DATE: case BK_UUID: case BK_JSON:
    case BK_MODEL: case BK_MODEL_PTR: case BK_UNION:
        return f == 0;
    default:
        return false;
    }
int_range:
    if (f & ~(BK__FAST_INT | BK__FAST_ONE_OF | BK__FAST_CONST))
        return false;
    if ((f & BK__FAST_INT) && (i < c->imin || i > c->imax))
        return false;
    return !(f & (BK__FAST_ONE_OF | BK__FAST_CONST)) || bk__check_values_int(c, i);
real_range:
    if (!(f & BK__FAST_REAL))
        return f == 0;
    return x >= c->fmin && x <= c->fmax;
len_range:
    return !(f & BK__FAST_LEN) || bk__in_range(n, c->lmin, c->lmax);
items:
    return !(f & BK__FAST_ITEMS) || bk__in_range(n, c->nmin, c->nmax);
}

/* Check that src fits type t and compile it. *out is NULL when src sets
 * nothing. Errors are BK_EMODEL naming the model and field. */
bk_status bk__check_new(bk__check **out, const bk_check *src, const bk__type *t,
    const char *model, const char *field, bk_error **err);
void bk__check_free(bk__check *c);
/* Whether a bk_check sets any constraint. */
bool bk__check_any(const bk_check *src);

/* A declared field. */
typedef struct bk__field {
    char *name;                  /* declared (C member) name */
    char *json_name;             /* after rename / rename_all */
    size_t json_name_len;
    char *rename;                /* as declared, NULL if none (for documents) */
    char **aliases;              /* naliases entries */
    size_t naliases;
    const bk__type *type;
    size_t offset;
    bool optional;
    size_t presence_offset;
    char *default_json;          /* NULL if none */
    bool default_zero;
    bool skip;
    bk_skip_if skip_if;
    bool flatten;
    bool primary_key, auto_id, unique, index;
    bool row_version;            /* storage: optimistic-locking version */
    /* Canonical compact encoding of the default (or zero) value, for
     * skip_if = default. NULL when not computed. */
    char *default_enc;
    size_t default_enc_len;
    /* The JSON name as the encoder writes it: "name": (quoted, escaped). */
    char *key_json;
    size_t key_json_len;
    /* Validation: constraints on the value and on each element, and a
     * custom validator. NULL when none. */
    bk__check *check;
    bk__check *elem_check;
    bk_validate_fn validate;
    void *validate_payload;
    char *validate_name;
    int build_state;             /* scratch for the build that creates it (model.c) */
} bk__field;

/* One key of the JSON object view of a model: a field of the model itself
 * or of a flattened embedded model, at its absolute offset. Skipped fields
 * are not in this view. */
typedef struct bk__jfield {
    const bk__field *f;
    const char *name;            /* JSON name (borrowed from f) */
    size_t name_len;
    size_t offset;               /* absolute within the outer struct */
    size_t presence_offset;      /* absolute; valid if f->optional */
    bool required;               /* absent -> "missing" */
} bk__jfield;

/* Lookup table entry: a name or alias -> jfield index. */
typedef struct bk__slot {
    const char *name;
    uint32_t len;
    int32_t index;               /* -1: empty slot */
    uint32_t hash;               /* bk__hash(name, len) */
} bk__slot;

struct bk_model {
    uint32_t magic;
    bk__schema *schema;
    char *name;
    size_t size, align;
    bk__field *fields;
    size_t nfields;
    bk__jfield *jfields;         /* JSON view, encode order */
    size_t njfields;
    bk__slot *slots;             /* open addressing, power of two */
    size_t nslots;
    bk_case rename_all;
    bool deny_unknown;
    bool from_c;                 /* layout given by a C struct */
    bk_validate_fn validate;     /* model-level custom validator */
    void *validate_payload;
    char *validate_name;
    bool has_checks;             /* a constraint or validator anywhere below */
    bool has_validators;         /* a model validator on it or a model flattened
                                  * into it (the decoder runs them per object) */
    /* Flattened embedded-model fields exclude these from the JSON view;
     * kept for record access and documents. */
    int build_state;             /* scratch for the build that creates it (model.c) */
    /* bk_clear's program (value.c): what the struct owns, at absolute
     * offsets, through embedded models; made by bk__clear_compile at the
     * end of the build. clear_ready false (not made yet, or a model too
     * large for one): the generic walk of the fields. */
    struct bk__clear_op *clear;
    size_t nclear;
    bool clear_ready;
};

struct bk__schema {
    atomic_long refs;
    /* Everything allocated for this schema, freed together. */
    bk_model **models; size_t nmodels, cmodels;
    bk__union **unions; size_t nunions, cunions;
    bk__enum **enums; size_t nenums, cenums;
    bk__type **types; size_t ntypes, ctypes;
    bk__schema **deps; size_t ndeps, cdeps;
    /* Validator payloads to release when the schema is freed
     * (bk_model_from_doc_ex's bk_doc_options.release). */
    struct bk__release { void (*fn)(void *, void *); void *p, *ctx; } *releases;
    size_t nreleases, creleases;
};

/* Find a JSON key in the model's view; returns the jfield index or -1. */
int32_t bk__model_lookup(const bk_model *m, const char *key, size_t len);
uint32_t bk__hash(const char *s, size_t len);
/* True if m is a live model handle. */
static inline bool bk__model_ok(const bk_model *m) {
    return m != NULL && m->magic == BK__MAGIC_MODEL;
}

/* Building a schema (model.c), shared by the C descriptor path (model.c),
 * the run-time builder (model_builder.c) and documents (model_doc.c).
 * A build creates a schema with one reference, adds entities, lays out the
 * run-time ones, then calls bk__schema_finish; on any failure it drops the
 * schema with bk__schema_unref, which frees whatever was added. */
bk_status bk__schema_new(bk__schema **out);
void bk__schema_unref(bk__schema *s);
bk_model *bk__schema_add_model(bk__schema *s);   /* zeroed, magic set; NULL on OOM */
bk__union *bk__schema_add_union(bk__schema *s);  /* zeroed; NULL on OOM */
bk__enum *bk__schema_add_enum(bk__schema *s);    /* zeroed; NULL on OOM */
/* Call fn(p, ctx) when the schema is freed. BK_ENOMEM (fn not called). */
bk_status bk__schema_add_release(bk__schema *s, void (*fn)(void *, void *), void *p, void *ctx);
/* Recompute has_checks (and has_validators) of every model of a finished
 * schema that no one else holds yet, after validators were attached to it. */
bk_status bk__schema_refresh_checks(bk__schema *s);
/* Hold a reference on dep (once per distinct dep). */
bk_status bk__schema_add_dep(bk__schema *s, bk__schema *dep);
/* The schema's type node for this shape (one node per shape); the
 * size/align of BK_MODEL and BK_UNION nodes are taken from the model/union
 * now and refreshed by bk__schema_finish. NULL on OOM. */
const bk__type *bk__schema_type(bk__schema *s, bk_kind kind, const bk__type *elem,
    bk_model *model, const bk__enum *enm, const bk__union *uni);
/* Finish every model and union of the schema (all were added by this
 * build): check names, unions and direct embedding cycles, then derive JSON
 * names, views, lookup tables and defaults, then compile the fields'
 * declared checks (bk__check_declare) and set has_checks. BK_EMODEL naming
 * the model and field on an invalid definition; BK_ENOMEM (*err possibly
 * unset: the caller reports it). */
bk_status bk__schema_finish(bk__schema *s, bk_error **err);
/* Keyword of a plain kind ("i32"), or NULL for the composite kinds. */
const char *bk__kind_keyword(bk_kind k);
/* The plain kind named by the keyword, or BK_KIND_NONE. */
bk_kind bk__kind_from_keyword(const char *s, size_t len);
/* Names used by documents and builder attributes; NULL/false when unknown. */
const char *bk__case_name(bk_case c);
bool bk__case_from_name(const char *s, bk_case *out);
const char *bk__tagging_name(bk_tagging t);
bool bk__tagging_from_name(const char *s, bk_tagging *out);
const char *bk__skip_if_name(bk_skip_if s);
bool bk__skip_if_from_name(const char *s, bk_skip_if *out);
/* Free what a bk__field owns (not the field itself). */
void bk__field_dispose(bk__field *f);
/* A declared check for bk__field.check / elem_check before the finishing
 * pass: a copy of src whose strings the bk__check owns (pattern, one_of,
 * const_value, messages), not compiled; bk__schema_finish compiles it
 * against the field's type (bk__check_new). *out is NULL when src sets
 * nothing (src may be NULL). BK_ENOMEM. (model.c) */
bk_status bk__check_declare(bk__check **out, const bk_check *src);
/* True for [A-Za-z_][A-Za-z0-9_.]* (names usable in type expressions). */
bool bk__model_is_ident(const char *s);
/* True for the keywords of type expressions (i32 ... json, list, map, ptr),
 * which cannot name a model, union or enum. */
bool bk__model_name_reserved(const char *s, size_t len);
/* Set a BK_EMODEL error "<kind> <name>, <mkind> <member>: <message>" (the
 * kind/name and mkind/member pairs may be NULL). Returns BK_EMODEL, or
 * BK_ENOMEM when even that fails. */
bk_status bk__model_error(bk_error **err, const char *kind, const char *name,
    const char *mkind, const char *member, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
bk_status bk__model_verror(bk_error **err, const char *kind, const char *name,
    const char *mkind, const char *member, const char *fmt, va_list ap);

/* Free memory jansson allocated (json_dumps output) with jansson's
 * allocator. NULL-safe. (model_doc.c) */
void bk__json_free(void *p);

/* Run-time builder internals (model_builder.c), used by model_doc.c:
 * attributes given as jansson values instead of JSON text. */
bk_status bk__builder_model_attr(bk_builder *b, const char *key, const json_t *v,
    bk_error **err);
bk_status bk__builder_field_attr(bk_builder *b, const char *key, const json_t *v,
    bk_error **err);
bk_status bk__builder_union_attr(bk_builder *b, const char *key, const json_t *v,
    bk_error **err);

/* ---- values (value.c): clearing, zero tests ------------------------------ */
/* Release what a value of type t at p owns, and zero it. */
void bk__value_clear(const bk__type *t, void *p);
/* Release what a struct of model m at obj owns, and zero it. */
void bk__model_clear(const bk_model *m, void *obj);
/* Make m's clear program (m->clear, see struct bk_model) from its laid-out
 * fields (a model too large for one keeps the generic walk). BK_ENOMEM. */
bk_status bk__clear_compile(bk_model *m);

/* ---- JSON codec (json_decode.c, json_encode.c) ---------------------------- */
/* Decode one value of type t from buf into dst (used for defaults and
 * record setters). The path prefix names the value in errors. */
bk_status bk__json_decode_type(void *dst, const bk__type *t, const char *buf, size_t len,
    const bk_decode_options *opts, const char *path, bk_error **err);
/* The JSON string literal of s[0..n) followed by ':' (a new string for
 * bk__free), or NULL on OOM or invalid UTF-8. */
char *bk__json_key(const char *s, size_t n, size_t *len_out);
/* Decode one object of model at the start of buf, leaving what follows
 * (record streams). *consumed: bytes read through the end of the value;
 * *complete: the value was read to its end (problems or not); *hit_end:
 * the input ended inside the value (more data may complete it). opts must
 * be valid (not NULL). */
bk_status bk__json_decode_prefix(void *out, const bk_model *model, const char *buf, size_t len,
    const bk_decode_options *opts, size_t *consumed, bool *complete, bool *hit_end,
    bk_error **err);
/* Append the compact encoding of the value of type t at src to buf. */
bk_status bk__json_encode_type(bk_buf *buf, const bk__type *t, const void *src,
    bk_error **err);
/* The nesting a store's row decoder takes in a JSON column (arrays and
 * objects), and so what bk__json_encode_stored writes. */
#define BK__STORE_JSON_DEPTH 256
/* bk__json_encode_type for a value a store keeps as JSON text: what would
 * not read back is refused too, a NULL string (but an optional field's)
 * being BK_EVALIDATION "required" at its path, where the JSON encoder
 * writes null; also NULL or repeated map keys, timestamps and dates
 * outside the years 0 to 9999, nesting deeper than BK__STORE_JSON_DEPTH. */
bk_status bk__json_encode_stored(bk_buf *buf, const bk__type *t, const void *src,
    bk_error **err);

/* ---- text helpers (text.c) ------------------------------------------------- */
/* Validate UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool bk__utf8_valid(const unsigned char *s, size_t len);
/* RFC 3339 <-> microseconds; returns false on a malformed or out-of-range text. */
bool bk__ts_parse(const char *s, size_t len, int64_t *out);
size_t bk__ts_format(char out[40], int64_t us);
bool bk__date_parse(const char *s, size_t len, int32_t *out);
size_t bk__date_format(char out[16], int32_t days);
bool bk__uuid_parse(const char *s, size_t len, unsigned char out[16]);
void bk__uuid_format(char out[37], const unsigned char in[16]);
/* Base64 (standard alphabet, padded). decode returns false on bad input. */
size_t bk__b64_encoded_len(size_t n);
void bk__b64_encode(char *out, const unsigned char *in, size_t n);
bool bk__b64_decode(unsigned char *out, size_t *out_len, const char *in, size_t n);
/* Shortest text that reads back as the same double (finite only). */
size_t bk__fmt_double(char out[32], double v);
size_t bk__fmt_float(char out[32], float v);
/* Locale-independent, correctly rounded strtod over [s, s+len). */
bool bk__parse_double(const char *s, size_t len, double *out);

#endif
