/*
 * validate.c - declarative constraints and custom validators.
 *
 * bk__check_new compiles a bk_check against the type it constrains (when a
 * model is built): it refuses constraints that cannot apply (a pattern on an
 * integer), bounds that contradict each other, patterns that do not compile
 * and allowed values that are not values of the type, and it keeps the
 * allowed values in their canonical encoding so that comparing a value is
 * comparing bytes. It also compiles the fast check (compile_fast): which
 * checks exist and their bounds in the value's own arithmetic, so that the
 * decoder can check a value as it decodes it with a few compares
 * (bk__check_str_ok, bk__check_scalar_ok in internal.h) and come here, to
 * the full check, only when one fails or cannot decide.
 *
 * The validation walk visits a struct by its model: every present field,
 * list element, map value, union payload and nested model, checking
 * constraints and calling custom validators, and records every violation
 * with its JSON path, a stable code, a message and the constraint's
 * parameters. Models without any constraint below them (has_checks) are
 * skipped outright, so a decode of such a model pays nothing.
 */
#include <math.h>
#include <stdio.h>
#include "internal.h"

/* ---- compiling constraints ---------------------------------------------------- */

bool bk__check_any(const bk_check *c)
{
    return c && (c->has_min || c->has_max || c->has_multiple_of || c->has_min_len ||
                 c->has_max_len || c->has_min_items || c->has_max_items || c->unique_items ||
                 c->pattern || c->format != BK_FORMAT_NONE || c->one_of || c->const_value);
}

void bk__check_free(bk__check *c)
{
    if (!c)
        return;
    bk__free(c->pattern);
    bk__free(c->one_of);
    bk__free(c->const_value);
    if (c->messages)
        for (size_t i = 0; c->messages[i]; i++)
            bk__free(c->messages[i]);
    bk__free(c->messages);
    bk__re_free(c->re);
    for (size_t i = 0; i < c->nallowed; i++)
        bk__free(c->allowed[i]);
    bk__free(c->allowed);
    bk__free(c->allowed_len);
    bk__free(c->const_enc);
    for (size_t i = 0; c->vstr && i < c->nvals; i++)
        bk__free(c->vstr[i]);
    bk__free(c->vstr);
    bk__free(c->vlen);
    bk__free(c->vint);
    bk__free(c);
}

static bool is_number_kind(bk_kind k)
{
    return (k >= BK_I8 && k <= BK_U64) || k == BK_F32 || k == BK_F64;
}

static const char *const g_codes[] = {
    "below_min", "above_max", "not_multiple_of", "too_short", "too_long", "pattern",
    "format", "not_one_of", "not_const", "too_few_items", "too_many_items", "unique", NULL
};

/* Decode a JSON literal as a value of t and return its canonical encoding. */
static bk_status canonical(char **out, size_t *len, const bk__type *t, const char *json,
    size_t n)
{
    *out = NULL;
    void *tmp = bk__calloc(1, t->size);
    if (!tmp)
        return BK_ENOMEM;
    bk_decode_options o;
    bk_decode_options_init(&o);
    o.skip_validation = true;
    bk_status st = bk__json_decode_type(tmp, t, json, n, &o, "$", NULL);
    if (st == BK_OK) {
        bk_buf b = BK_BUF_INIT;
        st = bk__json_encode_type(&b, t, tmp, NULL);
        if (st == BK_OK) {
            *out = b.ptr;
            *len = b.len;
        } else {
            bk_buf_dispose(&b);
        }
        bk__value_clear(t, tmp);
    }
    bk__free(tmp);
    return st;
}

/* The smallest integer >= v (inclusive) or > v, as an int64; false when
 * there is none (v at or beyond the top of the range). Exact: the step
 * past an integer bound is taken in integer arithmetic. */
static bool lower_i64(double v, bool exclusive, int64_t *out)
{
    double b = exclusive ? floor(v) : ceil(v);
    if (b < -9223372036854775808.0) {
        *out = INT64_MIN;
        return true;
    }
    if (b >= 9223372036854775808.0)
        return false;
    int64_t i = (int64_t)b;
    if (exclusive && i == INT64_MAX)
        return false;
    *out = exclusive ? i + 1 : i;
    return true;
}

/* The largest integer <= v (inclusive) or < v, as an int64; false when
 * there is none. */
static bool upper_i64(double v, bool exclusive, int64_t *out)
{
    double b = exclusive ? ceil(v) : floor(v);
    if (b >= 9223372036854775808.0) {
        *out = INT64_MAX;
        return true;
    }
    if (b < -9223372036854775808.0)
        return false;
    int64_t i = (int64_t)b;
    if (exclusive && i == INT64_MIN)
        return false;
    *out = exclusive ? i - 1 : i;
    return true;
}

/* The same two for uint64. */
static bool lower_u64(double v, bool exclusive, uint64_t *out)
{
    double b = exclusive ? floor(v) : ceil(v);
    if (b < 0) {
        *out = 0;
        return true;
    }
    if (b >= 18446744073709551616.0)
        return false;
    uint64_t u = (uint64_t)b;
    if (exclusive && u == UINT64_MAX)
        return false;
    *out = exclusive ? u + 1 : u;
    return true;
}

static bool upper_u64(double v, bool exclusive, uint64_t *out)
{
    double b = exclusive ? ceil(v) : floor(v);
    if (b >= 18446744073709551616.0) {
        *out = UINT64_MAX;
        return true;
    }
    if (b < 0)
        return false;
    uint64_t u = (uint64_t)b;
    if (exclusive && u == 0)
        return false;
    *out = exclusive ? u - 1 : u;
    return true;
}

/* An integer or enum value of kind k at p, as an int64 (u64: its bits). */
static int64_t int_value(bk_kind k, const void *p)
{
    switch (k) {
    case BK_I8: return *(const int8_t *)p;
    case BK_I16: return *(const int16_t *)p;
    case BK_I32: return *(const int32_t *)p;
    case BK_I64: return *(const int64_t *)p;
    case BK_U8: return *(const uint8_t *)p;
    case BK_U16: return *(const uint16_t *)p;
    case BK_U32: return *(const uint32_t *)p;
    case BK_U64: return (int64_t)*(const uint64_t *)p;
    default: return *(const int *)p; /* BK_ENUM */
    }
}

/*
 * one_of (the first nallowed values) and const (the last one) as values of
 * type t, for the fast check (BK__FAST_ONE_OF, BK__FAST_CONST): the
 * canonical encodings decoded back, as strings (vstr, vlen) or integers and
 * enum indexes (vint). Two values of these kinds encode alike exactly when
 * they are equal, so comparing values is comparing canonical encodings.
 * Other kinds are left to the full check (BK__FAST_SLOW in *f). BK_ENOMEM.
 */
static bk_status compile_values(bk__check *c, const bk__type *t, unsigned *f)
{
    bk_kind k = t->kind;
    size_t n = c->nallowed + (c->const_enc ? 1 : 0);
    bool str = k == BK_STR, num = (k >= BK_I8 && k <= BK_U64) || k == BK_ENUM;
    if (n == 0)
        return BK_OK;
    if (!str && !num) {
        *f |= BK__FAST_SLOW;
        return BK_OK;
    }
    if (str ? !(c->vstr = bk__calloc(n, sizeof(char *))) || !(c->vlen = bk__calloc(n, sizeof(size_t)))
            : !(c->vint = bk__calloc(n, sizeof(int64_t))))
        return BK_ENOMEM;
    c->nvals = n;
    bk_decode_options o;
    bk_decode_options_init(&o);
    o.skip_validation = true;
    for (size_t i = 0; i < n; i++) {
        const char *text = i < c->nallowed ? c->allowed[i] : c->const_enc;
        size_t len = i < c->nallowed ? c->allowed_len[i] : c->const_enc_len;
        uint64_t v[2] = { 0, 0 };   /* a char *, an integer or an int: t->size <= 8 */
        bk_status st = bk__json_decode_type(v, t, text, len, &o, "$", NULL);
        if (st == BK_ENOMEM)
            return st;
        if (st != BK_OK) {          /* not expected: it decoded before */
            *f |= BK__FAST_SLOW;
            return BK_OK;
        }
        if (str) {
            memcpy(&c->vstr[i], v, sizeof(char *));
            c->vlen[i] = strlen(c->vstr[i]);
        } else {
            c->vint[i] = int_value(k, v);
        }
    }
    *f |= (c->nallowed ? BK__FAST_ONE_OF : 0u) | (c->const_enc ? BK__FAST_CONST : 0u);
    return BK_OK;
}

bool bk__check_values_str(const bk__check *c, const char *s, size_t n)
{
    if (c->fast & BK__FAST_ONE_OF) {
        size_t i = 0;
        while (i < c->nallowed && !(c->vlen[i] == n && memcmp(c->vstr[i], s, n) == 0))
            i++;
        if (i == c->nallowed)
            return false;
    }
    size_t k = c->nallowed;
    return !(c->fast & BK__FAST_CONST) || (c->vlen[k] == n && memcmp(c->vstr[k], s, n) == 0);
}

bool bk__check_values_int(const bk__check *c, int64_t v)
{
    if (c->fast & BK__FAST_ONE_OF) {
        size_t i = 0;
        while (i < c->nallowed && c->vint[i] != v)
            i++;
        if (i == c->nallowed)
            return false;
    }
    return !(c->fast & BK__FAST_CONST) || c->vint[c->nallowed] == v;
}

/*
 * Compile the fast check of c (see bk__check in internal.h) for values of
 * kind k: which checks exist, with inclusive bounds in the value's own
 * arithmetic. For an integer v, "v >= min" is "v >= ceil(min)" and
 * "v > min" is "v >= floor(min) + 1"; for a double v, "v > min" is "v >=
 * nextafter(min, +inf)". one_of and const are compiled for strings,
 * integers and enums (compile_values). Whatever is not compiled
 * (multiple_of, unique_items, one_of and const on other kinds, a range no
 * value of the type meets) is BK__FAST_SLOW: the full check decides.
 * BK_ENOMEM.
 */
static bk_status compile_fast(bk__check *c, const bk__type *t)
{
    const bk_check *s = &c->src;
    bk_kind k = t->kind;
    unsigned f = 0;
    bk_status st;
    if (s->has_multiple_of || s->unique_items)
        f |= BK__FAST_SLOW;
    if ((st = compile_values(c, t, &f)) != BK_OK)
        return st;
    c->imin = INT64_MIN;
    c->imax = INT64_MAX;
    c->umin = 0;
    c->umax = UINT64_MAX;
    c->fmin = -INFINITY;
    c->fmax = INFINITY;
    c->lmin = c->nmin = 0;
    c->lmax = c->nmax = SIZE_MAX;
    if (s->has_min || s->has_max) {
        bool ok = true;
        if (k == BK_F32 || k == BK_F64) {
            f |= BK__FAST_REAL;
            if (s->has_min)
                c->fmin = s->min_exclusive ? nextafter(s->min, INFINITY) : s->min;
            if (s->has_max)
                c->fmax = s->max_exclusive ? nextafter(s->max, -INFINITY) : s->max;
        } else if (k == BK_U64) {
            f |= BK__FAST_UINT;
            if (s->has_min)
                ok = lower_u64(s->min, s->min_exclusive, &c->umin);
            if (ok && s->has_max)
                ok = upper_u64(s->max, s->max_exclusive, &c->umax);
            ok = ok && c->umin <= c->umax;
        } else if (k >= BK_I8 && k <= BK_U32) {
            f |= BK__FAST_INT;
            if (s->has_min)
                ok = lower_i64(s->min, s->min_exclusive, &c->imin);
            if (ok && s->has_max)
                ok = upper_i64(s->max, s->max_exclusive, &c->imax);
            ok = ok && c->imin <= c->imax;
        } else {
            ok = false;
        }
        if (!ok)
            f |= BK__FAST_SLOW;
    }
    if (s->has_min_len || s->has_max_len) {
        f |= BK__FAST_LEN;
        if (s->has_min_len)
            c->lmin = s->min_len;
        if (s->has_max_len)
            c->lmax = s->max_len;
    }
    if (s->format != BK_FORMAT_NONE)
        f |= BK__FAST_FORMAT;
    if (c->re)
        f |= BK__FAST_PATTERN;
    if (s->has_min_items || s->has_max_items) {
        f |= BK__FAST_ITEMS;
        if (s->has_min_items)
            c->nmin = s->min_items;
        if (s->has_max_items)
            c->nmax = s->max_items;
    }
    c->fast = f;
    return BK_OK;
}

/*
 * Check that src fits type t, copy it, and compile what needs compiling.
 * Fails with BK_EMODEL naming the model and field, or BK_ENOMEM.
 */
bk_status bk__check_new(bk__check **out, const bk_check *src, const bk__type *t,
    const char *model, const char *field, bk_error **err)
{
    *out = NULL;
    if (!bk__check_any(src) && !(src && src->messages))
        return BK_OK;
    bk_status st = BK_OK;
    const char *why = NULL;
    char rebuf[160];
    bk_kind k = t->kind;
    json_t *arr = NULL;
    bk__check *c = bk__calloc(1, sizeof(*c));
    if (!c)
        return bk__error_oom(err);
    c->src = *src;

    if ((src->has_min || src->has_max || src->has_multiple_of) && !is_number_kind(k))
        why = "min/max/multiple_of apply to numbers only";
    else if ((src->has_min && !isfinite(src->min)) || (src->has_max && !isfinite(src->max)))
        why = "a bound is not a finite number";
    else if (src->has_min && src->has_max && (src->min > src->max ||
             (src->min == src->max && (src->min_exclusive || src->max_exclusive))))
        why = "min is above max";
    else if (src->has_multiple_of && !(src->multiple_of > 0 && isfinite(src->multiple_of)))
        why = "multiple_of must be a positive number";
    else if ((src->has_min_len || src->has_max_len) && k != BK_STR && k != BK_BYTES)
        why = "min_len/max_len apply to strings and bytes only";
    else if (src->has_min_len && src->has_max_len && src->min_len > src->max_len)
        why = "min_len is above max_len";
    else if ((src->pattern || src->format != BK_FORMAT_NONE) && k != BK_STR)
        why = "pattern/format apply to strings only";
    else if (src->format != BK_FORMAT_NONE && !bk__format_name(src->format))
        why = "unknown format";
    else if ((src->has_min_items || src->has_max_items) && k != BK_LIST && k != BK_MAP)
        why = "min_items/max_items apply to lists and maps only";
    else if (src->has_min_items && src->has_max_items && src->min_items > src->max_items)
        why = "min_items is above max_items";
    else if (src->unique_items && k != BK_LIST)
        why = "unique_items applies to lists only";
    if (why) {
        st = bk__error_set(err, BK_EMODEL, "model %s, field %s: %s", model, field, why);
        goto done;
    }
    if (src->messages) {
        size_t n = 0;
        while (src->messages[n])
            n++;
        if (n % 2) {
            st = bk__error_set(err, BK_EMODEL, "model %s, field %s: messages must come in "
                "(code, message) pairs", model, field);
            goto done;
        }
        if (!(c->messages = bk__calloc(n + 1, sizeof(char *))))
            goto oom;
        for (size_t i = 0; i < n; i++) {
            if (i % 2 == 0) {
                bool known = strncmp(src->messages[i], "custom:", 7) == 0;
                for (size_t j = 0; !known && g_codes[j]; j++)
                    known = strcmp(g_codes[j], src->messages[i]) == 0;
                if (!known) {
                    st = bk__error_set(err, BK_EMODEL, "model %s, field %s: message for "
                        "unknown code \"%s\"", model, field, src->messages[i]);
                    goto done;
                }
            }
            if (!(c->messages[i] = bk__strdup(src->messages[i])))
                goto oom;
        }
        c->src.messages = (const char *const *)c->messages;
    }
    if (src->pattern) {
        if (!(c->pattern = bk__strdup(src->pattern)))
            goto oom;
        c->src.pattern = c->pattern;
        rebuf[0] = '\0';
        st = bk__re_compile(&c->re, c->pattern, rebuf, sizeof(rebuf));
        if (st == BK_ENOMEM)
            goto oom;
        if (st != BK_OK) {
            st = bk__error_set(err, BK_EMODEL, "model %s, field %s: pattern does not compile: %s",
                model, field, rebuf);
            goto done;
        }
    }
    if (src->const_value) {
        if (!(c->const_value = bk__strdup(src->const_value)))
            goto oom;
        c->src.const_value = c->const_value;
        st = canonical(&c->const_enc, &c->const_enc_len, t, c->const_value,
            strlen(c->const_value));
        if (st == BK_ENOMEM)
            goto oom;
        if (st != BK_OK) {
            st = bk__error_set(err, BK_EMODEL, "model %s, field %s: const is not a valid %s",
                model, field, t->expr);
            goto done;
        }
    }
    if (src->one_of) {
        if (!(c->one_of = bk__strdup(src->one_of)))
            goto oom;
        c->src.one_of = c->one_of;
        json_error_t je;
        arr = json_loads(c->one_of, 0, &je);
        if (!arr) {     /* jansson's words: also "too big integer" above INT64_MAX */
            st = bk__error_set(err, BK_EMODEL, "model %s, field %s: one_of is not valid JSON "
                "here: %s (column %d)", model, field, je.text, je.column);
            goto done;
        }
        if (!json_is_array(arr) || json_array_size(arr) == 0) {
            st = bk__error_set(err, BK_EMODEL, "model %s, field %s: one_of must be a non-empty "
                "JSON array", model, field);
            goto done;
        }
        size_t n = json_array_size(arr);
        c->allowed = bk__calloc(n, sizeof(char *));
        c->allowed_len = bk__calloc(n, sizeof(size_t));
        if (!c->allowed || !c->allowed_len)
            goto oom;
        for (size_t i = 0; i < n; i++) {
            char *text = json_dumps(json_array_get(arr, i), JSON_COMPACT | JSON_ENCODE_ANY);
            if (!text)
                goto oom;
            st = canonical(&c->allowed[i], &c->allowed_len[i], t, text, strlen(text));
            free(text);
            if (st == BK_ENOMEM)
                goto oom;
            if (st != BK_OK) {
                st = bk__error_set(err, BK_EMODEL, "model %s, field %s: one_of value %zu is not "
                    "a valid %s", model, field, i, t->expr);
                goto done;
            }
            c->nallowed = i + 1;
        }
    }
    st = compile_fast(c, t);
    if (st == BK_ENOMEM)
        goto oom;
    *out = c;
    c = NULL;
    st = BK_OK;
    goto done;
oom:
    st = bk__error_oom(err);
done:
    json_decref(arr);
    bk__check_free(c);
    return st;
}

/* ---- the walk ------------------------------------------------------------------ */

typedef struct seg {
    const char *key;   /* NULL: index */
    size_t n;          /* key length or index */
} seg;

typedef struct vctx {
    bk__errors *errs;
    /* Writes the path of the value being validated ("$.a[2]"); NULL: "$".
     * The decoder passes its own path when it validates inline. */
    bool (*base)(void *ctx, bk_buf *out);
    void *base_ctx;
    bool shallow;      /* inline: nested models are validated by the decoder */
    seg *path;
    size_t npath, cpath;
    bool stop;         /* a validator asked to stop, or the cap was hit */
    bool user_stop;
    bool oom;
    seg path0[32];     /* last: bk__validate_obj zeroes what precedes it */
} vctx;

struct bk_report {
    vctx *c;
};

static bool vpush(vctx *c, const char *key, size_t n)
{
    if (c->npath == c->cpath) {
        size_t cap = c->cpath * 2;
        seg *ns = bk__malloc(cap * sizeof(*ns));
        if (!ns) {
            c->oom = c->stop = true;
            return false;
        }
        memcpy(ns, c->path, c->npath * sizeof(*ns));
        if (c->path != c->path0)
            bk__free(c->path);
        c->path = ns;
        c->cpath = cap;
    }
    c->path[c->npath].key = key;
    c->path[c->npath].n = n;
    c->npath++;
    return true;
}

static bool ident(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return false;
    }
    return true;
}

static bool render(vctx *c, bk_buf *b, const char *suffix)
{
    if (c->base ? !c->base(c->base_ctx, b) : bk__buf_append(b, "$", 1) != BK_OK)
        return false;
    for (size_t i = 0; i < c->npath; i++) {
        const seg *s = &c->path[i];
        char num[32];
        bool ok;
        if (!s->key) {
            int k = snprintf(num, sizeof(num), "[%zu]", s->n);
            ok = bk__buf_append(b, num, (size_t)k) == BK_OK;
        } else if (ident(s->key, s->n)) {
            ok = bk__buf_append(b, ".", 1) == BK_OK && bk__buf_append(b, s->key, s->n) == BK_OK;
        } else {
            size_t kl;
            char *q = bk__json_key(s->key, s->n, &kl);
            ok = q && bk__buf_append(b, "[", 1) == BK_OK &&
                 bk__buf_append(b, q, kl - 1) == BK_OK && bk__buf_append(b, "]", 1) == BK_OK;
            bk__free(q);
        }
        if (!ok)
            return false;
    }
    if (suffix && *suffix) {
        if (suffix[0] != '[' && bk__buf_append(b, ".", 1) != BK_OK)
            return false;
        if (bk__buf_append(b, suffix, strlen(suffix)) != BK_OK)
            return false;
    }
    return true;
}

static const char *override(const bk__check *chk, const char *code)
{
    if (chk && chk->messages)
        for (size_t i = 0; chk->messages[i]; i += 2)
            if (strcmp(chk->messages[i], code) == 0)
                return chk->messages[i + 1];
    return NULL;
}

static void report(vctx *c, const bk__check *chk, const char *suffix, const char *code,
    const char *code_copy, const char *params, const char *message)
{
    bk_buf path = BK_BUF_INIT;
    if (!render(c, &path, suffix)) {
        bk_buf_dispose(&path);
        c->oom = c->stop = true;
        return;
    }
    const char *msg = override(chk, code_copy ? code_copy : code);
    bk__errors_add_params(c->errs, BK_EVALIDATION, path.ptr, code, code_copy, params,
        msg ? msg : message);
    bk_buf_dispose(&path);
    if (c->errs->oom)
        c->oom = c->stop = true;
    if (c->errs->truncated)
        c->stop = true;
}

/* Format a number for parameters and messages: integers without a point. */
static void fmt_num(char *out, size_t n, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(out, n, "%.0f", v);
    else
        snprintf(out, n, "%.17g", v);
}

/* Code points in s[0..n) (valid UTF-8): bytes minus continuation bytes,
 * counted eight at a time. */
size_t bk__code_points(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    size_t cont = 0;
    while (e - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        /* 10xxxxxx: top bit set and the next bit clear */
        uint64_t m = w & ~(w << 1) & 0x8080808080808080ull;
        cont += (size_t)__builtin_popcountll(m);
        p += 8;
    }
    for (; p < e; p++)
        cont += (*p & 0xC0) == 0x80;
    return n - cont;
}

/* Exact comparison of an integer with a double bound: -1, 0 or 1 as v is
 * below, at or above d (no rounding of v to a floating type, whose width
 * varies: long double is a double on some targets and under valgrind). */
static int cmp_i64_f64(int64_t v, double d)
{
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    double t = trunc(d);              /* in [-2^63, 2^63): exact as an int64_t */
    int64_t ti = (int64_t)t;
    if (v != ti)
        return v < ti ? -1 : 1;
    return d > t ? -1 : d < t ? 1 : 0;
}

static int cmp_u64_f64(uint64_t v, double d)
{
    if (d < 0)
        return 1;
    if (d >= 18446744073709551616.0)
        return -1;
    double t = trunc(d);
    uint64_t ti = (uint64_t)t;
    if (v != ti)
        return v < ti ? -1 : 1;
    return d > t ? -1 : 0;
}

/* The value at p against a bound: -1, 0, 1 (exact for every kind; a NaN
 * float compares as 0 against nothing: callers treat it as failing). */
static int cmp_bound(bk_kind k, const void *p, double d, bool *nan)
{
    double x;
    switch (k) {
    case BK_I8: return cmp_i64_f64(*(const int8_t *)p, d);
    case BK_I16: return cmp_i64_f64(*(const int16_t *)p, d);
    case BK_I32: return cmp_i64_f64(*(const int32_t *)p, d);
    case BK_I64: return cmp_i64_f64(*(const int64_t *)p, d);
    case BK_U8: return cmp_u64_f64(*(const uint8_t *)p, d);
    case BK_U16: return cmp_u64_f64(*(const uint16_t *)p, d);
    case BK_U32: return cmp_u64_f64(*(const uint32_t *)p, d);
    case BK_U64: return cmp_u64_f64(*(const uint64_t *)p, d);
    case BK_F32: x = *(const float *)p; break;
    default: x = *(const double *)p; break;
    }
    if (x != x) {
        *nan = true;
        return 0;
    }
    return x < d ? -1 : x > d ? 1 : 0;
}

static void check_number(vctx *c, const bk__check *chk, bk_kind k, const void *p)
{
    const bk_check *s = &chk->src;
    long double v;
    switch (k) {
    case BK_I8: v = *(const int8_t *)p; break;
    case BK_I16: v = *(const int16_t *)p; break;
    case BK_I32: v = *(const int32_t *)p; break;
    case BK_I64: v = (long double)*(const int64_t *)p; break;
    case BK_U8: v = *(const uint8_t *)p; break;
    case BK_U16: v = *(const uint16_t *)p; break;
    case BK_U32: v = *(const uint32_t *)p; break;
    case BK_U64: v = (long double)*(const uint64_t *)p; break;
    case BK_F32: v = *(const float *)p; break;
    default: v = *(const double *)p; break;
    }
    char num[40], params[96], msg[128];
    bool nan = false;
    int cmin = s->has_min ? cmp_bound(k, p, s->min, &nan) : 0;
    int cmax = s->has_max ? cmp_bound(k, p, s->max, &nan) : 0;
    if (s->has_min && (nan || (s->min_exclusive ? cmin <= 0 : cmin < 0))) {
        fmt_num(num, sizeof(num), s->min);
        snprintf(params, sizeof(params), "{\"%s\":%s}", s->min_exclusive ? "exclusive_min" : "min", num);
        snprintf(msg, sizeof(msg), "must be %s %s", s->min_exclusive ? ">" : ">=", num);
        report(c, chk, NULL, "below_min", NULL, params, msg);
    }
    if (s->has_max && (nan || (s->max_exclusive ? cmax >= 0 : cmax > 0))) {
        fmt_num(num, sizeof(num), s->max);
        snprintf(params, sizeof(params), "{\"%s\":%s}", s->max_exclusive ? "exclusive_max" : "max", num);
        snprintf(msg, sizeof(msg), "must be %s %s", s->max_exclusive ? "<" : "<=", num);
        report(c, chk, NULL, "above_max", NULL, params, msg);
    }
    if (s->has_multiple_of) {
        long double q = v / s->multiple_of;
        long double r = q - roundl(q);
        if (fabsl(r) > 1e-9L * (fabsl(q) > 1 ? fabsl(q) : 1)) {
            fmt_num(num, sizeof(num), s->multiple_of);
            snprintf(params, sizeof(params), "{\"multiple_of\":%s}", num);
            snprintf(msg, sizeof(msg), "must be a multiple of %s", num);
            report(c, chk, NULL, "not_multiple_of", NULL, params, msg);
        }
    }
}

static void check_length(vctx *c, const bk__check *chk, size_t len, bool bytes)
{
    const bk_check *s = &chk->src;
    char params[64], msg[96];
    const char *unit = bytes ? "byte" : "character";
    if (s->has_min_len && len < s->min_len) {
        snprintf(params, sizeof(params), "{\"min_len\":%zu}", s->min_len);
        snprintf(msg, sizeof(msg), "must be at least %zu %s%s long", s->min_len, unit,
            s->min_len == 1 ? "" : "s");
        report(c, chk, NULL, "too_short", NULL, params, msg);
    }
    if (s->has_max_len && len > s->max_len) {
        snprintf(params, sizeof(params), "{\"max_len\":%zu}", s->max_len);
        snprintf(msg, sizeof(msg), "must be at most %zu %s%s long", s->max_len, unit,
            s->max_len == 1 ? "" : "s");
        report(c, chk, NULL, "too_long", NULL, params, msg);
    }
}

static void check_string(vctx *c, const bk__check *chk, const char *str)
{
    const bk_check *s = &chk->src;
    if (!str)
        str = "";
    size_t n = strlen(str);
    if (s->has_min_len || s->has_max_len) {
        /* A string has between n/4 and n code points: count them only when
         * the byte length alone does not decide. */
        bool need = (s->has_max_len && n > s->max_len) ||
                    (s->has_min_len && (n + 3) / 4 < s->min_len);
        if (need)
            check_length(c, chk, bk__code_points(str, n), false);
    }
    if (chk->re && !bk__re_search(chk->re, str, n)) {
        size_t ql;
        char *q = bk__json_key(chk->pattern, strlen(chk->pattern), &ql);
        bk_buf params = BK_BUF_INIT;
        if (!q || bk__buf_append(&params, "{\"pattern\":", 11) != BK_OK ||
            bk__buf_append(&params, q, ql - 1) != BK_OK || bk__buf_append(&params, "}", 1) != BK_OK) {
            c->oom = c->stop = true;
        } else {
            report(c, chk, NULL, "pattern", NULL, params.ptr, "does not match the pattern");
        }
        bk__free(q);
        bk_buf_dispose(&params);
    }
    if (s->format != BK_FORMAT_NONE && !bk__format_check(s->format, str, n)) {
        char params[64], msg[64];
        const char *fn = bk__format_name(s->format);
        snprintf(params, sizeof(params), "{\"format\":\"%s\"}", fn);
        snprintf(msg, sizeof(msg), "is not a valid %s", fn);
        report(c, chk, NULL, "format", NULL, params, msg);
    }
}

/* Append the canonical encoding of the value of t at p to b. false when it
 * cannot be had: out of memory (flagged, so it never passes for a valid
 * value) or a value the encoder refuses (it reports that where it matters). */
static bool encode_canonical(vctx *c, bk_buf *b, const bk__type *t, const void *p)
{
    bk_status st = bk__json_encode_type(b, t, p, NULL);
    if (st == BK_ENOMEM)
        c->oom = c->stop = true;
    return st == BK_OK;
}

/* one_of / const: compare canonical encodings. */
static void check_values(vctx *c, const bk__check *chk, const bk__type *t, const void *p)
{
    bk_buf b = BK_BUF_INIT;
    if (!encode_canonical(c, &b, t, p)) {
        bk_buf_dispose(&b);
        return;
    }
    if (chk->nallowed) {
        bool found = false;
        for (size_t i = 0; i < chk->nallowed && !found; i++)
            found = chk->allowed_len[i] == b.len && memcmp(chk->allowed[i], b.ptr, b.len) == 0;
        if (!found) {
            bk_buf params = BK_BUF_INIT;
            if (bk__buf_append(&params, "{\"one_of\":", 10) != BK_OK ||
                bk__buf_append(&params, chk->one_of, strlen(chk->one_of)) != BK_OK ||
                bk__buf_append(&params, "}", 1) != BK_OK)
                c->oom = c->stop = true;
            else
                report(c, chk, NULL, "not_one_of", NULL, params.ptr, "is not one of the allowed values");
            bk_buf_dispose(&params);
        }
    }
    if (chk->const_enc && !(chk->const_enc_len == b.len && memcmp(chk->const_enc, b.ptr, b.len) == 0)) {
        bk_buf params = BK_BUF_INIT;
        if (bk__buf_append(&params, "{\"const\":", 9) != BK_OK ||
            bk__buf_append(&params, chk->const_value, strlen(chk->const_value)) != BK_OK ||
            bk__buf_append(&params, "}", 1) != BK_OK)
            c->oom = c->stop = true;
        else
            report(c, chk, NULL, "not_const", NULL, params.ptr, "is not the required value");
        bk_buf_dispose(&params);
    }
    bk_buf_dispose(&b);
}

static void check_items(vctx *c, const bk__check *chk, const bk__type *t, const void *p)
{
    const bk_check *s = &chk->src;
    size_t n = t->kind == BK_LIST ? ((const bk_list *)p)->len : ((const bk_map *)p)->len;
    char params[64], msg[96];
    const char *what = t->kind == BK_LIST ? "item" : "entr";
    if (s->has_min_items && n < s->min_items) {
        snprintf(params, sizeof(params), "{\"min_items\":%zu}", s->min_items);
        snprintf(msg, sizeof(msg), "must have at least %zu %s%s", s->min_items, what,
            t->kind == BK_LIST ? (s->min_items == 1 ? "" : "s") : (s->min_items == 1 ? "y" : "ies"));
        report(c, chk, NULL, "too_few_items", NULL, params, msg);
    }
    if (s->has_max_items && n > s->max_items) {
        snprintf(params, sizeof(params), "{\"max_items\":%zu}", s->max_items);
        snprintf(msg, sizeof(msg), "must have at most %zu %s%s", s->max_items, what,
            t->kind == BK_LIST ? (s->max_items == 1 ? "" : "s") : (s->max_items == 1 ? "y" : "ies"));
        report(c, chk, NULL, "too_many_items", NULL, params, msg);
    }
    if (s->unique_items && t->kind == BK_LIST && n > 1) {
        /* canonical encodings, compared pairwise (lists under a max_items
         * cap in practice; quadratic beyond that) */
        const bk_list *l = p;
        size_t *off = bk__calloc(n + 1, sizeof(size_t));
        bk_buf b = BK_BUF_INIT;
        if (!off) {
            c->oom = c->stop = true;
            return;
        }
        for (size_t i = 0; i < n; i++) {
            off[i] = b.len;
            if (!encode_canonical(c, &b, t->elem, (const char *)l->items + i * t->elem->size)) {
                bk__free(off);
                bk_buf_dispose(&b);
                return;
            }
        }
        off[n] = b.len;
        for (size_t j = 1; j < n; j++) {
            size_t lj = off[j + 1] - off[j];
            for (size_t i = 0; i < j; i++) {
                if (off[i + 1] - off[i] == lj && memcmp(b.ptr + off[i], b.ptr + off[j], lj) == 0) {
                    char pr[96];
                    snprintf(pr, sizeof(pr), "{\"index\":%zu,\"duplicate_of\":%zu}", j, i);
                    snprintf(msg, sizeof(msg), "items %zu and %zu are equal", i, j);
                    report(c, chk, NULL, "unique", NULL, pr, msg);
                    j = n; /* one report per list */
                    break;
                }
            }
        }
        bk__free(off);
        bk_buf_dispose(&b);
    }
}

static void v_model(vctx *c, const bk_model *m, const char *base);

static void run_validator(vctx *c, bk_validate_fn fn, void *payload, const void *value)
{
    bk_report r = { c };
    if (fn(value, &r, payload) != 0) {
        c->stop = true;
        c->user_stop = true;
    }
}

/* Validate one value of type t at p with its constraints. */
static void v_value(vctx *c, const bk__type *t, const void *p, const bk__check *chk,
    const bk__check *elem_chk)
{
    if (c->stop)
        return;
    if (chk) {
        if (chk->src.has_min || chk->src.has_max || chk->src.has_multiple_of)
            check_number(c, chk, t->kind, p);
        if (t->kind == BK_STR)
            check_string(c, chk, *(char *const *)p);
        else if (t->kind == BK_BYTES && (chk->src.has_min_len || chk->src.has_max_len))
            check_length(c, chk, ((const bk_bytes *)p)->len, true);
        if (chk->nallowed || chk->const_enc)
            check_values(c, chk, t, p);
        if (t->kind == BK_LIST || t->kind == BK_MAP)
            check_items(c, chk, t, p);
    }
    if (c->shallow) {
        /* inline: only the elements' own constraints; models below were
         * validated while they were decoded */
        if (!elem_chk || (t->kind != BK_LIST && t->kind != BK_MAP))
            return;
    }
    switch (t->kind) {
    case BK_MODEL:
        v_model(c, t->model, p);
        break;
    case BK_MODEL_PTR:
        if (*(void *const *)p)
            v_model(c, t->model, *(void *const *)p);
        break;
    case BK_LIST: {
        const bk_list *l = p;
        const bk__type *et = t->elem;
        bool deep = elem_chk || et->kind == BK_MODEL || et->kind == BK_MODEL_PTR ||
                    et->kind == BK_LIST || et->kind == BK_MAP || et->kind == BK_UNION;
        for (size_t i = 0; deep && i < l->len && !c->stop; i++) {
            if (!vpush(c, NULL, i))
                return;
            v_value(c, et, (const char *)l->items + i * et->size, elem_chk, NULL);
            c->npath--;
        }
        break;
    }
    case BK_MAP: {
        const bk_map *mp = p;
        const bk__type *et = t->elem;
        for (size_t i = 0; i < mp->len && !c->stop; i++) {
            if (!vpush(c, mp->keys[i], strlen(mp->keys[i])))
                return;
            v_value(c, et, (const char *)mp->values + i * et->size, elem_chk, NULL);
            c->npath--;
        }
        break;
    }
    case BK_UNION: {
        const bk__union *u = t->uni;
        int tag = *(const int *)((const char *)p + u->tag_offset);
        if (tag < 0 || (size_t)tag >= u->n || !u->variants[tag].type)
            break;
        const bk__variant *v = &u->variants[tag];
        const char *key = u->tagging == BK_TAG_EXTERNAL ? v->name
                        : u->tagging == BK_TAG_ADJACENT ? u->content : NULL;
        if (key && !vpush(c, key, strlen(key)))
            return;
        v_value(c, v->type, (const char *)p + v->offset, NULL, NULL);
        if (key)
            c->npath--;
        break;
    }
    default:
        break;
    }
}

static void v_model(vctx *c, const bk_model *m, const char *base)
{
    if (!m->has_checks || c->stop)
        return;
    size_t problems_before = c->errs->len;
    for (size_t i = 0; i < m->nfields && !c->stop; i++) {
        const bk__field *f = &m->fields[i];
        if (f->skip)
            continue;
        if (f->optional && (bk_presence)base[f->presence_offset] != BK_PRESENT)
            continue;
        const char *p = base + f->offset;
        if (f->flatten) {
            /* the nested fields sit at this level in JSON */
            v_value(c, f->type, p, f->check, f->elem_check);
            continue;
        }
        bk_kind k = f->type->kind;
        bool nested = k == BK_MODEL || k == BK_MODEL_PTR || k == BK_LIST || k == BK_MAP ||
                      k == BK_UNION;
        if (!f->check && !f->elem_check && !f->validate && !nested)
            continue;
        if (!vpush(c, f->json_name, f->json_name_len))
            return;
        v_value(c, f->type, p, f->check, f->elem_check);
        if (f->validate && !c->stop)
            run_validator(c, f->validate, f->validate_payload, p);
        c->npath--;
    }
    /* Cross-field (model) validators run on a clean object only, as when
     * decoding: they may rely on the fields' own constraints. */
    if (m->validate && !c->stop && c->errs->len == problems_before)
        run_validator(c, m->validate, m->validate_payload, base);
}

bk_status bk_report_problem(bk_report *r, const char *path_suffix, const char *code,
    const char *message, const char *params_json)
{
    if (!r || !r->c || !code || !message)
        return BK_EINVAL;
    vctx *c = r->c;
    if (params_json) {
        json_error_t je;
        json_t *v = json_loads(params_json, 0, &je);
        bool obj = json_is_object(v);
        json_decref(v);
        if (!obj)
            return BK_EINVAL;
    }
    size_t cl = strlen(code);
    char *full = bk__malloc(cl + 8);
    if (!full) {
        c->oom = c->stop = true;
        return BK_ENOMEM;
    }
    memcpy(full, "custom:", 7);
    memcpy(full + 7, code, cl + 1);
    report(c, NULL, path_suffix, "custom", full, params_json, message);
    bk__free(full);
    return c->oom ? BK_ENOMEM : BK_OK;
}

static void vctx_init(vctx *c, bk__errors *errs)
{
    memset(c, 0, offsetof(vctx, path0));
    c->errs = errs;
    c->path = c->path0;
    c->cpath = sizeof(c->path0) / sizeof(c->path0[0]);
}

static void vctx_dispose(vctx *c)
{
    if (c->path != c->path0)
        bk__free(c->path);
}

/* Whether check c holds for sure for the value of type t at p, by its
 * compiled fast check (internal.h). false = "run the full check" (which may
 * still pass). */
static bool fast_ok(const bk__check *c, const bk__type *t, const void *p)
{
    if (!c)
        return true;
    if (t->kind != BK_STR)
        return bk__check_scalar_ok(c, t->kind, p);
    const char *str = *(char *const *)p;
    if (!str)
        str = "";
    return bk__check_strn_ok(c, str, strlen(str), SIZE_MAX);
}

bool bk__validate_fast_ok(const bk__field *f, const void *p)
{
    if (f->validate || !fast_ok(f->check, f->type, p))
        return false;
    if (!f->elem_check)
        return true;
    const bk__type *t = f->type, *et = t->elem;
    if (t->kind == BK_LIST) {
        const bk_list *l = p;
        for (size_t i = 0; i < l->len; i++)
            if (!fast_ok(f->elem_check, et, (const char *)l->items + i * et->size))
                return false;
        return true;
    }
    if (t->kind == BK_MAP) {
        const bk_map *mp = p;
        for (size_t i = 0; i < mp->len; i++)
            if (!fast_ok(f->elem_check, et, (const char *)mp->values + i * et->size))
                return false;
        return true;
    }
    return false;
}

bk_status bk__validate_obj(const bk_model *m, const void *obj, size_t max_errors, bk_error **err)
{
    if (!m->has_checks)
        return BK_OK;
    bk__errors errs;
    vctx c;
    bk__errors_init(&errs, max_errors ? max_errors : 100);
    vctx_init(&c, &errs);
    v_model(&c, m, obj);
    vctx_dispose(&c);
    if (c.oom) {
        bk__errors_dispose(&errs);
        return err ? bk__error_oom(err) : BK_ENOMEM;
    }
    if (errs.len == 0 && !errs.truncated) {
        bk__errors_dispose(&errs);
        if (c.user_stop)
            return bk__error_set(err, BK_EUSER, "a custom validator stopped the validation");
        return BK_OK;
    }
    return bk__errors_finish(&errs, err);
}

int bk__validate_field_inline(bk__errors *errs, bool (*base)(void *, bk_buf *), void *ctx,
    const bk__field *f, const void *p)
{
    vctx c;
    vctx_init(&c, errs);
    c.base = base;
    c.base_ctx = ctx;
    c.shallow = true;
    v_value(&c, f->type, p, f->check, f->elem_check);
    if (f->validate && !c.stop)
        run_validator(&c, f->validate, f->validate_payload, p);
    vctx_dispose(&c);
    return c.oom ? -1 : c.user_stop ? 1 : 0;
}

/* The model's own validator, then those of the models flattened into it. */
static void model_validators(vctx *c, const bk_model *m, const char *base)
{
    for (size_t i = 0; i < m->nfields && !c->stop; i++)
        if (m->fields[i].flatten)
            model_validators(c, m->fields[i].type->model, base + m->fields[i].offset);
    if (m->validate && !c->stop)
        run_validator(c, m->validate, m->validate_payload, base);
}

int bk__validate_model_inline(bk__errors *errs, bool (*base)(void *, bk_buf *), void *ctx,
    const bk_model *m, const void *obj)
{
    vctx c;
    vctx_init(&c, errs);
    c.base = base;
    c.base_ctx = ctx;
    c.shallow = true;
    model_validators(&c, m, obj);
    vctx_dispose(&c);
    return c.oom ? -1 : c.user_stop ? 1 : 0;
}

bk_status bk_validate(const bk_model *model, const void *obj, size_t max_errors, bk_error **err)
{
    if (!obj)
        return bk__error_set(err, BK_EINVAL, "bk_validate: NULL object");
    if (!bk__model_ok(model))
        return bk__error_set(err, model ? BK_EMISUSE : BK_EINVAL, "bk_validate: not a model handle");
    return bk__validate_obj(model, obj, max_errors, err);
}
