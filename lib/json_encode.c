/*
 * json_encode.c - the schema-directed JSON encoder.
 *
 * Writes a struct (or record storage) of a model as JSON into a bk_buf, in
 * declaration order. The buffer is grown ahead of each small write, so the
 * hot loop is plain stores. A value that JSON cannot carry faithfully
 * (invalid UTF-8, a non-finite float, an enum or union tag out of range) is
 * an error with the path of the value; on any failure the buffer is rolled
 * back to its length on entry.
 */
#include <math.h>
#include <stdio.h>
#include "internal.h"

typedef struct enc {
    bk_buf *b;
    int indent;
    int level;
    bk_status st;
    bk__errors errs;
    /* path for errors: names or indices, rendered only on failure */
    const char *keys[64];
    size_t idx[64];
    size_t npath;
    /* for a store: a NULL string is refused (null does not decode into a
     * string), but for the value of an optional field (at null_ok_at) */
    bool store;
    const void *null_ok_at;
    const bk__type *null_ok_type;
} enc;

static const bk_encode_options g_default_enc = BK_ENCODE_OPTIONS_INIT;

bk_status bk_encode_options_init(bk_encode_options *opts)
{
    if (!opts)
        return BK_EINVAL;
    *opts = g_default_enc;
    return BK_OK;
}

static inline bool reserve(enc *e, size_t n)
{
    if (BK__LIKELY(e->b->len + n + 1 <= e->b->cap))
        return true;
    if (bk__buf_reserve(e->b, n) != BK_OK) {
        e->st = BK_ENOMEM;
        return false;
    }
    return true;
}

static inline bool put(enc *e, const char *s, size_t n)
{
    if (!reserve(e, n))
        return false;
    memcpy(e->b->ptr + e->b->len, s, n);
    e->b->len += n;
    return true;
}

static inline bool putc1(enc *e, char c)
{
    if (!reserve(e, 1))
        return false;
    e->b->ptr[e->b->len++] = c;
    return true;
}

static bool newline(enc *e)
{
    if (!e->indent)
        return true;
    size_t n = 1 + (size_t)e->indent * (size_t)e->level;
    if (!reserve(e, n))
        return false;
    char *o = e->b->ptr + e->b->len;
    o[0] = '\n';
    memset(o + 1, ' ', n - 1);
    e->b->len += n;
    return true;
}

static void fail(enc *e, const char *code, const char *fmt, const char *arg)
{
    bk_buf path = BK_BUF_INIT;
    bool ok = bk__buf_append(&path, "$", 1) == BK_OK;
    for (size_t i = 0; ok && i < e->npath && i < 64; i++) {
        char num[32];
        if (e->keys[i]) {
            ok = bk__buf_append(&path, ".", 1) == BK_OK &&
                 bk__buf_append(&path, e->keys[i], strlen(e->keys[i])) == BK_OK;
        } else {
            int k = snprintf(num, sizeof(num), "[%zu]", e->idx[i]);
            ok = bk__buf_append(&path, num, (size_t)k) == BK_OK;
        }
    }
    if (!ok) {
        e->st = BK_ENOMEM;
        bk_buf_dispose(&path);
        return;
    }
    bk__errors_add(&e->errs, BK_EDECODE, path.ptr, code, 0, 0, 0, fmt, arg);
    if (e->st == BK_OK)
        e->st = BK_EDECODE;
    bk_buf_dispose(&path);
}

/* One level of nesting more (an array or an object begins): for a store,
 * no deeper than its row decoder reads back ("too_deep"). */
static bool deeper(enc *e)
{
    if (++e->level > BK__STORE_JSON_DEPTH && e->store) {
        fail(e, "too_deep", "%s", "nesting deeper than a store reads back (256 levels)");
        return false;
    }
    return true;
}

static inline void push_key(enc *e, const char *k)
{
    if (e->npath < 64)
        e->keys[e->npath] = k;
    e->npath++;
}

static inline void push_idx(enc *e, size_t i)
{
    if (e->npath < 64) {
        e->keys[e->npath] = NULL;
        e->idx[e->npath] = i;
    }
    e->npath++;
}

static const char g_hex[] = "0123456789abcdef";

/* Bytes of zero padding after each pre-encoded key (bk__json_key). */
#define BK__KEY_PAD 16

/* 0: copy as is; 1: escape; 2: non-ASCII (validate) */
static const unsigned char g_esc[256] = {
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
};

/* Write the JSON escape of control character, quote or backslash c at o;
 * returns the position after it (at most 6 bytes). */
static inline char *put_escape(char *o, unsigned char c)
{
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    case '\b': *o++ = 'b'; break;
    case '\f': *o++ = 'f'; break;
    default:
        *o++ = 'u'; *o++ = '0'; *o++ = '0';
        *o++ = g_hex[c >> 4];
        *o++ = g_hex[c & 15];
        break;
    }
    return o;
}

/* Write s[0..n) as a JSON string. Worst case 6 bytes per input byte. */
static bool put_str(enc *e, const char *s, size_t n)
{
    if (n > (SIZE_MAX - 2) / 6) {
        e->st = BK_ENOMEM;
        return false;
    }
    if (!reserve(e, n * 6 + 2))
        return false;
    char *o = e->b->ptr + e->b->len;
    *o++ = '"';
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    bool checked_utf8 = false;
    while (p < end) {
        const unsigned char *run = p;
        p = bk__scan_plain(p, end);
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
        if (p >= end)
            break;
        unsigned char c = *p;
        if (g_esc[c] == 2) {
            if (!checked_utf8) {
                if (!bk__utf8_valid(p, (size_t)(end - p))) {
                    fail(e, "invalid_utf8", "%s", "string is not valid UTF-8");
                    return false;
                }
                checked_utf8 = true;
            }
            *o++ = (char)c;
            p++;
            continue;
        }
        o = put_escape(o, c);
        p++;
    }
    *o++ = '"';
    e->b->len = (size_t)(o - e->b->ptr);
    return true;
}

/* Length of the valid UTF-8 sequence at s (NUL-terminated input: every
 * byte is checked before the next is read), or 0 if invalid. */
static size_t utf8_seq_z(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

/*
 * Write a NUL-terminated string as a JSON string in one pass: copy, escape
 * and validate as it goes, without a separate strlen. Space is reserved in
 * steps of 64 bytes, enough for 58 plain bytes or one escape.
 */
static bool put_cstr(enc *e, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    if (!putc1(e, '"'))
        return false;
    for (;;) {
        if (!reserve(e, 64))
            return false;
        char *o = e->b->ptr + e->b->len, *lim = o + 56;
        while (o < lim && g_esc[*s] == 0)
            *o++ = (char)*s++;
        e->b->len = (size_t)(o - e->b->ptr);
        if (o >= lim)
            continue;
        unsigned char c = *s;
        if (c == 0)
            break;
        if (g_esc[c] == 2) {
            size_t n = utf8_seq_z(s);
            if (n == 0) {
                fail(e, "invalid_utf8", "%s", "string is not valid UTF-8");
                return false;
            }
            for (size_t k = 0; k < n; k++)
                o[k] = (char)s[k];
            e->b->len += n;
            s += n;
            continue;
        }
        o = put_escape(o, c);
        e->b->len = (size_t)(o - e->b->ptr);
        s++;
    }
    return putc1(e, '"');
}

char *bk__json_key(const char *s, size_t n, size_t *len_out)
{
    bk_buf b = BK_BUF_INIT;
    enc e;
    memset(&e, 0, sizeof(e));
    e.b = &b;
    bk__errors_init(&e.errs, 1);
    /* zero padding after the key lets the encoder copy short keys with one
     * fixed-size move (see put_field_key) */
    bool ok = put_str(&e, s, n) && putc1(&e, ':') && reserve(&e, BK__KEY_PAD);
    bk__errors_dispose(&e.errs);
    if (!ok) {
        bk_buf_dispose(&b);
        return NULL;
    }
    memset(b.ptr + b.len, 0, BK__KEY_PAD + 1);
    *len_out = b.len;
    return b.ptr;
}

static const char g_digits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static bool put_u64(enc *e, uint64_t v, bool neg)
{
    char tmp[24];
    int i = 24;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        tmp[--i] = g_digits2[2 * r + 1];
        tmp[--i] = g_digits2[2 * r];
    }
    if (v >= 10) {
        tmp[--i] = g_digits2[2 * v + 1];
        tmp[--i] = g_digits2[2 * v];
    } else {
        tmp[--i] = (char)('0' + v);
    }
    if (neg)
        tmp[--i] = '-';
    return put(e, tmp + i, (size_t)(24 - i));
}

static bool put_i64(enc *e, int64_t v)
{
    if (v < 0)
        return put_u64(e, (uint64_t)0 - (uint64_t)v, true);
    return put_u64(e, (uint64_t)v, false);
}

static bool enc_value(enc *e, const bk__type *t, const void *src);
static bool enc_object(enc *e, const bk_model *m, const char *base, const char *tag,
    const char *tag_value);

/* Write a field's pre-encoded key ("name":), preceded by ',' unless first. */
static inline bool put_field_key(enc *e, const bk__field *f, bool *first)
{
    if (BK__UNLIKELY(e->indent)) {
        if (!*first && !putc1(e, ','))
            return false;
        *first = false;
        if (!newline(e) || !put(e, f->key_json, f->key_json_len))
            return false;
        return putc1(e, ' ');
    }
    if (!reserve(e, f->key_json_len + 1 + BK__KEY_PAD))
        return false;
    char *o = e->b->ptr + e->b->len;
    if (!*first)
        *o++ = ',';
    *first = false;
    if (f->key_json_len <= BK__KEY_PAD)
        memcpy(o, f->key_json, BK__KEY_PAD); /* padded: one fixed-size move */
    else
        memcpy(o, f->key_json, f->key_json_len);
    e->b->len = (size_t)(o + f->key_json_len - e->b->ptr);
    return true;
}

static bool put_key(enc *e, const char *name, size_t n, bool *first)
{
    if (!*first && !putc1(e, ','))
        return false;
    *first = false;
    if (!newline(e) || !put_str(e, name, n))
        return false;
    return e->indent ? put(e, ": ", 2) : putc1(e, ':');
}

/* Whether a field's value counts as empty for skip_if = empty/absent. */
static bool is_absentish(const bk__type *t, const void *p)
{
    switch (t->kind) {
    case BK_MODEL_PTR: case BK_JSON: case BK_STR:
        return *(void *const *)p == NULL;
    default:
        return false;
    }
}

static bool is_empty(const bk__type *t, const void *p)
{
    switch (t->kind) {
    case BK_STR: { const char *s = *(char *const *)p; return !s || !*s; }
    case BK_BYTES: return ((const bk_bytes *)p)->len == 0;
    case BK_LIST: return ((const bk_list *)p)->len == 0;
    case BK_MAP: return ((const bk_map *)p)->len == 0;
    default: return is_absentish(t, p);
    }
}

static bool enc_object(enc *e, const bk_model *m, const char *base, const char *tag,
    const char *tag_value)
{
    if (!putc1(e, '{'))
        return false;
    if (!deeper(e))
        return false;
    bool first = true;
    if (tag) {
        if (!put_key(e, tag, strlen(tag), &first) || !put_str(e, tag_value, strlen(tag_value)))
            return false;
    }
    for (size_t i = 0; i < m->njfields; i++) {
        const bk__jfield *jf = &m->jfields[i];
        const bk__field *f = jf->f;
        const char *p = base + jf->offset;
        if (!f->optional && f->skip_if == BK_SKIP_NEVER) {
            /* the common case: always written, nothing to roll back */
            if (!put_field_key(e, f, &first))
                return false;
            push_key(e, jf->name);
            e->null_ok_at = NULL;
            if (!enc_value(e, f->type, p))
                return false;
            e->npath--;
            continue;
        }
        bk_presence pres = f->optional ? (bk_presence)base[jf->presence_offset] : BK_PRESENT;
        if (pres == BK_ABSENT)
            continue;
        switch (f->skip_if) {
        case BK_SKIP_IF_ABSENT:
            if (pres == BK_NULL || is_absentish(f->type, p))
                continue;
            break;
        case BK_SKIP_IF_EMPTY:
            if (pres == BK_NULL || is_empty(f->type, p))
                continue;
            break;
        default:
            break;
        }
        size_t mark = e->b->len;
        bool was_first = first;
        if (!put_field_key(e, f, &first))
            return false;
        if (pres == BK_NULL) {
            if (!put(e, "null", 4))
                return false;
            continue;
        }
        size_t vstart = e->b->len;
        push_key(e, jf->name);
        e->null_ok_at = f->optional ? p : NULL;
        e->null_ok_type = f->type;
        bool ok = enc_value(e, f->type, p);
        e->npath--;
        if (!ok)
            return false;
        if (f->skip_if == BK_SKIP_IF_DEFAULT && f->default_enc && !e->indent &&
            e->b->len - vstart == f->default_enc_len &&
            memcmp(e->b->ptr + vstart, f->default_enc, f->default_enc_len) == 0) {
            e->b->len = mark;
            first = was_first;
        } else if (f->skip_if == BK_SKIP_IF_DEFAULT && f->default_enc && e->indent) {
            /* compare against the compact form of this value */
            bk_buf tmp = BK_BUF_INIT;
            bk_status st = bk__json_encode_type(&tmp, f->type, p, NULL);
            if (st != BK_OK) {
                bk_buf_dispose(&tmp);
                e->st = st;
                return false;
            }
            if (tmp.len == f->default_enc_len && memcmp(tmp.ptr, f->default_enc, tmp.len) == 0) {
                e->b->len = mark;
                first = was_first;
            }
            bk_buf_dispose(&tmp);
        }
    }
    e->level--;
    if (!first && !newline(e))
        return false;
    return putc1(e, '}');
}

static bool enc_union(enc *e, const bk__union *u, const char *src)
{
    int tag = *(const int *)(src + u->tag_offset);
    if (tag < 0 || (size_t)tag >= u->n) {
        fail(e, "invalid_value", "union tag out of range for %s", u->name);
        return false;
    }
    const bk__variant *v = &u->variants[tag];
    const char *payload = src + v->offset;
    bool first = true;
    switch (u->tagging) {
    case BK_TAG_EXTERNAL:
        if (!v->type)
            return put_str(e, v->name, v->name_len);
        if (!putc1(e, '{'))
            return false;
        if (!deeper(e))
            return false;
        if (!put_key(e, v->name, v->name_len, &first))
            return false;
        push_key(e, v->name);
        if (!enc_value(e, v->type, payload))
            return false;
        e->npath--;
        e->level--;
        return newline(e) && putc1(e, '}');
    case BK_TAG_INTERNAL:
        if (!v->type) {
            if (!putc1(e, '{'))
                return false;
            if (!deeper(e))
                return false;
            if (!put_key(e, u->tag, u->tag_len, &first) || !put_str(e, v->name, v->name_len))
                return false;
            e->level--;
            return newline(e) && putc1(e, '}');
        }
        return enc_object(e, v->type->model, payload, u->tag, v->name);
    case BK_TAG_ADJACENT:
        if (!putc1(e, '{'))
            return false;
        if (!deeper(e))
            return false;
        if (!put_key(e, u->tag, u->tag_len, &first) || !put_str(e, v->name, v->name_len))
            return false;
        if (v->type) {
            if (!put_key(e, u->content, u->content_len, &first))
                return false;
            push_key(e, u->content);
            if (!enc_value(e, v->type, payload))
                return false;
            e->npath--;
        }
        e->level--;
        return newline(e) && putc1(e, '}');
    case BK_UNTAGGED:
    default:
        if (!v->type)
            return put(e, "null", 4);
        return enc_value(e, v->type, payload);
    }
}

/* The days from 1970-01-01 to 0000-01-01 and to 9999-12-31, and the
 * microseconds they span: what RFC 3339 text (four-digit years) holds. */
#define DATE_MIN (-719528)
#define DATE_MAX 2932896
#define TS_MIN ((int64_t)DATE_MIN * 86400000000LL)
#define TS_MAX (((int64_t)DATE_MAX + 1) * 86400000000LL - 1)

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * For a store: the keys of map mp read back as they are, none NULL (the
 * encoder writes "") and none twice (a row decoder refuses a duplicate
 * key). Fails "required" at the NULL key's index, or "duplicate_key" at the
 * repeated key.
 * Pairs compared up to 32 keys, a sorted copy beyond.
 */
static bool map_keys_ok(enc *e, const bk_map *mp)
{
    for (size_t i = 0; i < mp->len; i++)
        if (!mp->keys[i]) {
            push_idx(e, i);
            fail(e, "required", "%s", "a NULL map key would be stored as \"\"");
            e->npath--;
            return false;
        }
    const char *dup = NULL;
    if (mp->len <= 32) {
        for (size_t i = 1; i < mp->len && !dup; i++)
            for (size_t j = 0; j < i && !dup; j++)
                if (strcmp(mp->keys[i], mp->keys[j]) == 0)
                    dup = mp->keys[i];
    } else {
        char **sorted = bk__malloc(mp->len * sizeof(*sorted));
        if (!sorted) {
            e->st = BK_ENOMEM;
            return false;
        }
        memcpy(sorted, mp->keys, mp->len * sizeof(*sorted));
        qsort(sorted, mp->len, sizeof(*sorted), cmp_key);
        for (size_t i = 1; i < mp->len && !dup; i++)
            if (strcmp(sorted[i], sorted[i - 1]) == 0)
                dup = sorted[i];
        bk__free(sorted);
    }
    if (!dup)
        return true;
    push_key(e, dup);
    fail(e, "duplicate_key", "%s", "a map key given twice would not read back");
    e->npath--;
    return false;
}

static bool enc_value(enc *e, const bk__type *t, const void *src)
{
    char tmp[48];
    switch (t->kind) {
    case BK_BOOL:
        return *(const bool *)src ? put(e, "true", 4) : put(e, "false", 5);
    case BK_I8: return put_i64(e, *(const int8_t *)src);
    case BK_I16: return put_i64(e, *(const int16_t *)src);
    case BK_I32: return put_i64(e, *(const int32_t *)src);
    case BK_I64: return put_i64(e, *(const int64_t *)src);
    case BK_U8: return put_u64(e, *(const uint8_t *)src, false);
    case BK_U16: return put_u64(e, *(const uint16_t *)src, false);
    case BK_U32: return put_u64(e, *(const uint32_t *)src, false);
    case BK_U64: return put_u64(e, *(const uint64_t *)src, false);
    case BK_F32: {
        float f = *(const float *)src;
        if (!isfinite(f)) {
            fail(e, "out_of_range", "%s", "a non-finite float cannot be written as JSON");
            return false;
        }
        return put(e, tmp, bk__fmt_float(tmp, f));
    }
    case BK_F64: {
        double v = *(const double *)src;
        if (!isfinite(v)) {
            fail(e, "out_of_range", "%s", "a non-finite float cannot be written as JSON");
            return false;
        }
        return put(e, tmp, bk__fmt_double(tmp, v));
    }
    case BK_STR: {
        const char *s = *(char *const *)src;
        if (!s) {
            if (e->store && (src != e->null_ok_at || t != e->null_ok_type)) {
                fail(e, "required", "%s", "a NULL string would be stored as null, which "
                    "does not read back into a string");
                return false;
            }
            return put(e, "null", 4);
        }
        return put_cstr(e, s);
    }
    case BK_BYTES: {
        const bk_bytes *b = src;
        size_t n = bk__b64_encoded_len(b->len);
        if (!reserve(e, n + 2))
            return false;
        char *o = e->b->ptr + e->b->len;
        o[0] = '"';
        bk__b64_encode(o + 1, b->data, b->len);
        o[n + 1] = '"';
        e->b->len += n + 2;
        return true;
    }
    case BK_TIMESTAMP: {
        int64_t us = *(const int64_t *)src;
        if (e->store && (us < TS_MIN || us > TS_MAX)) {
            fail(e, "out_of_range", "%s", "a timestamp outside the years 0 to 9999 would be "
                "stored as text that does not read back");
            return false;
        }
        size_t n = bk__ts_format(tmp + 1, us);
        tmp[0] = '"';
        tmp[n + 1] = '"';
        return put(e, tmp, n + 2);
    }
    case BK_DATE: {
        int32_t days = *(const int32_t *)src;
        if (e->store && (days < DATE_MIN || days > DATE_MAX)) {
            fail(e, "out_of_range", "%s", "a date outside the years 0 to 9999 would be "
                "stored as text that does not read back");
            return false;
        }
        size_t n = bk__date_format(tmp + 1, days);
        tmp[0] = '"';
        tmp[n + 1] = '"';
        return put(e, tmp, n + 2);
    }
    case BK_UUID:
        tmp[0] = '"';
        bk__uuid_format(tmp + 1, ((const bk_uuid *)src)->bytes);
        tmp[37] = '"';
        return put(e, tmp, 38);
    case BK_ENUM: {
        int v = *(const int *)src;
        if (v < 0 || (size_t)v >= t->enm->n) {
            fail(e, "invalid_value", "enum value out of range for %s", t->enm->name);
            return false;
        }
        return put_str(e, t->enm->names[v], t->enm->lens[v]);
    }
    case BK_MODEL:
        return enc_object(e, t->model, src, NULL, NULL);
    case BK_MODEL_PTR: {
        const void *sub = *(void *const *)src;
        if (!sub)
            return put(e, "null", 4);
        return enc_object(e, t->model, sub, NULL, NULL);
    }
    case BK_LIST: {
        const bk_list *l = src;
        if (l->len == 0)
            return put(e, "[]", 2);
        if (!putc1(e, '['))
            return false;
        if (!deeper(e))
            return false;
        const char *it = l->items;
        size_t esz = t->elem->size;
        for (size_t i = 0; i < l->len; i++) {
            if (i && !putc1(e, ','))
                return false;
            if (!newline(e))
                return false;
            push_idx(e, i);
            if (!enc_value(e, t->elem, it + i * esz))
                return false;
            e->npath--;
        }
        e->level--;
        return newline(e) && putc1(e, ']');
    }
    case BK_MAP: {
        const bk_map *mp = src;
        if (mp->len == 0)
            return put(e, "{}", 2);
        if (e->store && !map_keys_ok(e, mp))
            return false;
        if (!putc1(e, '{'))
            return false;
        if (!deeper(e))
            return false;
        bool first = true;
        const char *vals = mp->values;
        for (size_t i = 0; i < mp->len; i++) {
            const char *k = mp->keys[i] ? mp->keys[i] : "";
            if (!put_key(e, k, strlen(k), &first))
                return false;
            push_key(e, k);
            if (!enc_value(e, t->elem, vals + i * t->elem->size))
                return false;
            e->npath--;
        }
        e->level--;
        return newline(e) && putc1(e, '}');
    }
    case BK_JSON: {
        const json_t *j = *(json_t *const *)src;
        if (!j)
            return put(e, "null", 4);
        size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
        if (n == 0) {
            fail(e, "invalid_value", "%s", "a raw JSON value could not be written");
            return false;
        }
        if (!reserve(e, n))
            return false;
        json_dumpb(j, e->b->ptr + e->b->len, n, JSON_COMPACT | JSON_ENCODE_ANY);
        e->b->len += n;
        return true;
    }
    case BK_UNION:
        return enc_union(e, t->uni, src);
    default:
        fail(e, "type", "%s", "field of unknown kind");
        return false;
    }
}

static bk_status finish(enc *e, size_t mark, bool ok, bk_error **err)
{
    if (ok) {
        e->b->ptr[e->b->len] = '\0';
        bk__errors_dispose(&e->errs);
        return BK_OK;
    }
    e->b->len = mark;
    if (e->b->ptr)
        e->b->ptr[mark] = '\0';
    if (e->st == BK_ENOMEM || e->errs.oom) {
        bk__errors_dispose(&e->errs);
        return err ? bk__error_oom(err) : BK_ENOMEM;
    }
    return bk__errors_finish(&e->errs, err);
}

static void enc_init(enc *e, bk_buf *buf, int indent)
{
    e->b = buf;
    e->indent = indent;
    e->level = 0;
    e->st = BK_OK;
    e->npath = 0;
    e->store = false;
    e->null_ok_at = NULL;
    e->null_ok_type = NULL;
    bk__errors_init(&e->errs, 1);
}

bk_status bk__json_encode_type(bk_buf *buf, const bk__type *t, const void *src, bk_error **err)
{
    enc e;
    enc_init(&e, buf, 0);
    size_t mark = buf->len;
    bool ok = reserve(&e, 0) && enc_value(&e, t, src);
    return finish(&e, mark, ok, err);
}

bk_status bk__json_encode_stored(bk_buf *buf, const bk__type *t, const void *src,
    bk_error **err)
{
    enc e;
    enc_init(&e, buf, 0);
    e.store = true;
    size_t mark = buf->len;
    bool ok = reserve(&e, 0) && enc_value(&e, t, src);
    return finish(&e, mark, ok, err);
}

bk_status bk_json_encode_buf(bk_buf *buf, const bk_model *model, const void *obj,
    const bk_encode_options *opts, bk_error **err)
{
    if (!buf || !obj)
        return bk__error_set(err, BK_EINVAL, "bk_json_encode: NULL argument");
    if (!bk__model_ok(model))
        return bk__error_set(err, model ? BK_EMISUSE : BK_EINVAL,
            "bk_json_encode: not a model handle");
    if (!opts)
        opts = &g_default_enc;
    if (opts->version < 1 || opts->version > BK_ENCODE_OPTIONS_VERSION ||
        opts->indent < 0 || opts->indent > 16)
        return bk__error_set(err, BK_EINVAL, "invalid bk_encode_options");
    enc e;
    enc_init(&e, buf, opts->indent);
    size_t mark = buf->len;
    bool ok = reserve(&e, 0) && enc_object(&e, model, obj, NULL, NULL);
    return finish(&e, mark, ok, err);
}

/* One field's value from a pointer to its member (for field validators
 * written in other languages). */
bk_status bk_json_encode_field(bk_buf *buf, const bk_model *model, size_t field,
    const void *value, bk_error **err)
{
    if (!buf || !value)
        return bk__error_set(err, BK_EINVAL, "bk_json_encode_field: NULL argument");
    if (!bk__model_ok(model))
        return bk__error_set(err, model ? BK_EMISUSE : BK_EINVAL,
            "bk_json_encode_field: not a model handle");
    if (field >= model->nfields)
        return bk__error_set(err, BK_EINVAL, "bk_json_encode_field: no field %zu in model %s",
            field, model->name);
    return bk__json_encode_type(buf, model->fields[field].type, value, err);
}

bk_status bk_json_encode(char **out, size_t *len_out, const bk_model *model, const void *obj,
    const bk_encode_options *opts, bk_error **err)
{
    if (!out)
        return bk__error_set(err, BK_EINVAL, "bk_json_encode: NULL argument");
    *out = NULL;
    bk_buf b = BK_BUF_INIT;
    bk_status st = bk_json_encode_buf(&b, model, obj, opts, err);
    if (st != BK_OK) {
        bk_buf_dispose(&b);
        return st;
    }
    if (len_out)
        *len_out = b.len;
    if (bk_buf_detach(out, &b) != BK_OK) {
        bk_buf_dispose(&b);
        return bk__error_oom(err);
    }
    return BK_OK;
}
