/*
 * json_decode.c - the schema-directed, single-pass JSON decoder.
 *
 * The decoder walks the input bytes once, guided by the model's types, and
 * writes straight into the caller's struct: there is no intermediate tree.
 *
 * Error strategy. A *shape* problem (wrong type, missing field, value out of
 * range...) is recorded with its path, the offending value is skipped
 * syntactically, and decoding goes on, so one call reports every problem
 * (up to opts->max_errors). A *syntax* problem, or a limit that makes
 * skipping unsafe (depth), is fatal: decoding stops. Either way, once any
 * problem was recorded the target is cleared at the end. Everything the
 * decoder allocates is attached to the target as soon as it is allocated,
 * so clearing the target is always enough to release it.
 *
 * Paths are kept as a stack of frames (key slices or array indices) and
 * only rendered into text when a problem is recorded.
 *
 * Validation is inline: a field with constraints is checked right after its
 * value is decoded (dec_field_checked), by the fast checks compiled with
 * the model and what the decoder already knows (a string's length, whether
 * it was plain ASCII); only a value that fails them goes to the full check
 * of validate.c, which decides and reports. Model validators run once an
 * object is complete and clean, only on models that have any.
 */
#include <math.h>
#include <float.h>
#include <stdio.h>
#include "internal.h"

/* Result of decoding one value. */
enum { D_OK = 0, D_BAD = 1, D_FATAL = -1 };

typedef struct frame {
    const char *key;   /* NULL: array index */
    size_t n;          /* key length, or index */
    bool escaped;      /* key contains escapes (render slowly) */
} frame;

#define STACK_FRAMES 64

typedef struct dec {
    const char *start, *p, *end;
    const bk_decode_options *o;
    bk__errors errs;
    size_t depth;
    frame *path;
    size_t npath, cpath;
    bk_buf scratch;            /* unescaped strings */
    bool oom;
    bool hit_end;              /* a syntax error was the end of the input */
    bool validate;             /* check constraints as values are decoded */
    bool user_stop;            /* a custom validator asked to stop */
    frame path0[STACK_FRAMES]; /* last: dec_init zeroes what precedes it */
} dec;

static const bk_decode_options g_default_opts = BK_DECODE_OPTIONS_INIT;

bk_status bk_decode_options_init(bk_decode_options *opts)
{
    if (!opts)
        return BK_EINVAL;
    *opts = g_default_opts;
    return BK_OK;
}

/* ---- paths and problems ---------------------------------------------------- */

static bool push(dec *d, const char *key, size_t n, bool escaped)
{
    if (BK__UNLIKELY(d->npath == d->cpath)) {
        size_t cap = d->cpath * 2;
        frame *nf = bk__malloc(cap * sizeof(*nf));
        if (!nf) {
            d->oom = true;
            return false;
        }
        memcpy(nf, d->path, d->npath * sizeof(*nf));
        if (d->path != d->path0)
            bk__free(d->path);
        d->path = nf;
        d->cpath = cap;
    }
    d->path[d->npath].key = key;
    d->path[d->npath].n = n;
    d->path[d->npath].escaped = escaped;
    d->npath++;
    return true;
}

static inline void pop(dec *d) { d->npath--; }

static bool is_ident(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static size_t unescape(char *out, const char *s, size_t n);

/* Render the current path ("$.a[3].b") into buf. */
static bool render_path(dec *d, bk_buf *buf, const char *extra, size_t extra_n)
{
    char num[32];
    if (bk__buf_append(buf, "$", 1) != BK_OK)
        return false;
    for (size_t i = 0; i <= d->npath; i++) {
        const char *key;
        size_t n;
        bool esc = false;
        char *tmp = NULL;
        if (i == d->npath) {
            if (!extra)
                break;
            key = extra;
            n = extra_n;
        } else {
            const frame *f = &d->path[i];
            if (!f->key) {
                int k = snprintf(num, sizeof(num), "[%zu]", f->n);
                if (bk__buf_append(buf, num, (size_t)k) != BK_OK)
                    return false;
                continue;
            }
            key = f->key;
            n = f->n;
            esc = f->escaped;
        }
        if (esc) {
            tmp = bk__malloc(n + 1);
            if (!tmp)
                return false;
            n = unescape(tmp, key, n);
            key = tmp;
        }
        bool ok;
        if (is_ident(key, n)) {
            ok = bk__buf_append(buf, ".", 1) == BK_OK && bk__buf_append(buf, key, n) == BK_OK;
        } else {
            ok = bk__buf_append(buf, "[\"", 2) == BK_OK;
            for (size_t j = 0; ok && j < n; j++) {
                unsigned char c = (unsigned char)key[j];
                if (c == '"' || c == '\\') {
                    char e[2] = { '\\', (char)c };
                    ok = bk__buf_append(buf, e, 2) == BK_OK;
                } else if (c < 0x20) {
                    char e[8];
                    snprintf(e, sizeof(e), "\\u%04x", c);
                    ok = bk__buf_append(buf, e, 6) == BK_OK;
                } else {
                    ok = bk__buf_append(buf, &key[j], 1) == BK_OK;
                }
            }
            ok = ok && bk__buf_append(buf, "\"]", 2) == BK_OK;
        }
        bk__free(tmp);
        if (!ok)
            return false;
    }
    return true;
}

/* The validator's view of where the decoder is. */
static bool path_cb(void *ctx, bk_buf *out)
{
    return render_path(ctx, out, NULL, 0);
}

static void locate(const dec *d, const char *at, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;
    for (const char *q = d->start; q < at && q < d->end; q++) {
        if (*q == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Record a problem at the current path (plus an optional extra key) located
 * at `at`. */
static void problem(dec *d, bk_status st, const char *at, const char *extra, size_t extra_n,
    const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;

#include <stdarg.h>
static void problem(dec *d, bk_status st, const char *at, const char *extra, size_t extra_n,
    const char *code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    bk_buf path = BK_BUF_INIT;
    if (d->errs.len >= d->errs.max) {
        /* Only the status and the truncation flag change. */
        bk__errors_add(&d->errs, st, "$", code, 0, 0, 0, "%s", msg);
        return;
    }
    if (!render_path(d, &path, extra, extra_n)) {
        bk_buf_dispose(&path);
        d->oom = true;
        d->errs.oom = true;
        return;
    }
    size_t line = 0, col = 0, off = 0;
    if (at) {
        if (at > d->end)
            at = d->end;
        off = (size_t)(at - d->start);
        locate(d, at, &line, &col);
    }
    bk__errors_add(&d->errs, st, path.ptr, code, off, line, col, "%s", msg);
    bk_buf_dispose(&path);
}

static int syntax(dec *d, const char *at, const char *what)
{
    if (at >= d->end)
        d->hit_end = true;
    if (at >= d->end)
        problem(d, BK_ESYNTAX, d->end, NULL, 0, "syntax", "unexpected end of input, %s", what);
    else
        problem(d, BK_ESYNTAX, at, NULL, 0, "syntax", "%s", what);
    return D_FATAL;
}

/* Whether the problem list is full (or memory ran out): decoding stops. */
static inline bool saturated(const dec *d) { return d->errs.truncated || d->oom; }

/* ---- lexing ---------------------------------------------------------------- */

static inline void ws(dec *d)
{
    const char *p = d->p, *e = d->end;
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    d->p = p;
}

/* After a member or element: ',' (returns 1: another follows), the closing
 * bracket (returns 0: consumed), or a syntax error (returns D_FATAL). */
static inline int next_member(dec *d, char close)
{
    ws(d);
    if (d->p < d->end && *d->p == ',') {
        d->p++;
        ws(d);
        return 1;
    }
    if (d->p < d->end && *d->p == close) {
        d->p++;
        return 0;
    }
    return syntax(d, d->p, close == ']' ? "',' or ']' expected" : "',' or '}' expected");
}

static const char *token_name(char c)
{
    switch (c) {
    case '{': return "an object";
    case '[': return "an array";
    case '"': return "a string";
    case 't': case 'f': return "a boolean";
    case 'n': return "null";
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return "a number";
        return "an invalid token";
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = (v << 4) | h;
    }
    return v;
}

/* Length of the UTF-8 sequence starting with byte c, validated against the
 * bytes available; 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *e)
{
    unsigned char c = s[0];
    size_t n;
    if (c < 0x80) return 1;
    else if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) n = 3;
    else if (c >= 0xF0 && c <= 0xF4) n = 4;
    else return 0;
    if ((size_t)(e - s) < n)
        return 0;
    return bk__utf8_valid(s, n) ? n : 0;
}

/*
 * Scan a string whose opening quote is at d->p. On success, *out and
 * *out_n give the raw contents (between the quotes, escapes not yet decoded),
 * *escaped tells whether there are escapes, *decoded_n the length once
 * unescaped, *flags what it holds (STR_NUL: a \u0000, STR_WIDE: a code
 * point beyond ASCII, so its code points are fewer than its bytes); d->p
 * moves past the closing quote. Validates UTF-8 and escapes (including
 * surrogate pairs).
 * Returns D_OK; D_BAD when the string is well framed but not valid UTF-8
 * (a lone surrogate escape or a bad byte: reported once, as invalid_utf8,
 * and the scan goes on to the closing quote so later problems are found
 * too); D_FATAL for malformed input.
 */
enum { STR_NUL = 1u, STR_WIDE = 2u };

static int scan_string(dec *d, const char **out, size_t *out_n, bool *escaped,
    size_t *decoded_n, unsigned *flags)
{
    const unsigned char *p = (const unsigned char *)d->p + 1;
    const unsigned char *e = (const unsigned char *)d->end;
    const unsigned char *s = p;
    size_t shrink = 0;
    bool esc = false, bad = false;
    unsigned fl = 0;
    for (;;) {
        p = bk__scan_plain(p, e);
        if (p >= e)
            return syntax(d, (const char *)p, "unterminated string");
        unsigned char c = *p;
        if (c == '"')
            break;
        if (c == '\\') {
            esc = true;
            if (p + 1 >= e)
                return syntax(d, (const char *)e, "unterminated string");
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                shrink += 1;
                continue;
            case 'u': {
                if (e - p < 6)
                    return syntax(d, (const char *)e, "unterminated \\u escape");
                int cp = hex4((const char *)p + 2);
                if (cp < 0)
                    return syntax(d, (const char *)p, "invalid \\u escape");
                int lo = -1;
                if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 12 && p[6] == '\\' && p[7] == 'u')
                    lo = hex4((const char *)p + 8);
                if ((cp >= 0xD800 && cp <= 0xDBFF && (lo < 0xDC00 || lo > 0xDFFF)) ||
                    (cp >= 0xDC00 && cp <= 0xDFFF)) {
                    if (!bad)
                        problem(d, BK_EDECODE, (const char *)p, NULL, 0, "invalid_utf8",
                            "lone surrogate \\u%04x in a string", (unsigned)cp);
                    bad = true;
                    p += 6;
                } else if (cp >= 0xD800 && cp <= 0xDBFF) {
                    p += 12;
                    shrink += 12 - 4;
                    fl |= STR_WIDE;
                } else {
                    if (cp == 0)
                        fl |= STR_NUL;
                    else if (cp >= 0x80)
                        fl |= STR_WIDE;
                    p += 6;
                    shrink += 6 - (cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3);
                }
                continue;
            }
            default:
                return syntax(d, (const char *)p, "invalid escape in string");
            }
        }
        if (c < 0x20)
            return syntax(d, (const char *)p, "control character in string (must be escaped)");
        size_t n = utf8_seq(p, e);
        if (n == 0 && e - p < 4 && c >= 0xC2 && c <= 0xF4) {
            /* a sequence cut by the end of the input, if the rest is
             * continuation bytes: the string is unterminated */
            bool cut = true;
            for (const unsigned char *q = p + 1; q < e; q++)
                if ((*q & 0xC0) != 0x80)
                    cut = false;
            size_t need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            if (cut && (size_t)(e - p) < need)
                return syntax(d, (const char *)e, "unterminated string");
        }
        if (n == 0) {
            if (!bad)
                problem(d, BK_EDECODE, (const char *)p, NULL, 0, "invalid_utf8",
                    "invalid UTF-8 in a string");
            bad = true;
            p++;
            continue;
        }
        p += n;
        fl |= STR_WIDE;
    }
    *out = (const char *)s;
    *out_n = (size_t)(p - s);
    *escaped = esc;
    *decoded_n = (size_t)(p - s) - shrink;
    *flags = fl;
    d->p = (const char *)p + 1;
    return bad ? D_BAD : D_OK;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the escapes of an already validated raw string into out (which
 * has room for n bytes); returns the decoded length. */
static size_t unescape(char *out, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        char c = s[i + 1];
        i += 2;
        switch (c) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            unsigned cp = (unsigned)hex4(s + i);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo = (unsigned)hex4(s + i + 2);
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += put_utf8(out + o, cp);
            break;
        }
        default: out[o++] = c; break;
        }
    }
    return o;
}

/* Scan a JSON number at d->p; sets *is_int (no fraction/exponent). */
static int scan_number(dec *d, const char **s, size_t *n, bool *is_int)
{
    const char *p = d->p, *e = d->end, *b = p;
    bool integral = true;
    if (p < e && *p == '-')
        p++;
    if (p >= e)
        return syntax(d, p, "invalid number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    } else {
        return syntax(d, b, "invalid number");
    }
    if (p < e && *p == '.') {
        integral = false;
        p++;
        if (p >= e || *p < '0' || *p > '9')
            return syntax(d, p, "invalid number: digits expected after '.'");
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        integral = false;
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9')
            return syntax(d, p, "invalid number: digits expected in exponent");
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' ||
                  (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        return syntax(d, p, "invalid number");
    *s = b;
    *n = (size_t)(p - b);
    *is_int = integral;
    d->p = p;
    return D_OK;
}

static int literal(dec *d, const char *word, size_t n)
{
    size_t avail = (size_t)(d->end - d->p);
    if (avail < n && memcmp(d->p, word, avail) == 0)
        return syntax(d, d->end, "truncated literal");
    if (avail < n || memcmp(d->p, word, n) != 0)
        return syntax(d, d->p, "invalid literal");
    const char *q = d->p + n;
    if (q < d->end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')))
        return syntax(d, q, "invalid literal");
    d->p = q;
    return D_OK;
}

static int enter(dec *d)
{
    if (++d->depth > d->o->max_depth) {
        problem(d, BK_ELIMIT, d->p, NULL, 0, "too_deep",
            "nesting deeper than the limit of %zu", d->o->max_depth);
        return D_FATAL;
    }
    return D_OK;
}

/* Skip one value of any type, validating its syntax. */
static int skip_value(dec *d)
{
    ws(d);
    if (d->p >= d->end)
        return syntax(d, d->p, "a value was expected");
    char c = *d->p;
    switch (c) {
    case '"': {
        const char *s; size_t n, dn; bool esc; unsigned fl;
        /* a string that is not valid UTF-8 was reported; skipping goes on */
        return scan_string(d, &s, &n, &esc, &dn, &fl) == D_FATAL ? D_FATAL : D_OK;
    }
    case 't': return literal(d, "true", 4);
    case 'f': return literal(d, "false", 5);
    case 'n': return literal(d, "null", 4);
    case '[': case '{': {
        if (enter(d) != D_OK)
            return D_FATAL;
        char close = c == '[' ? ']' : '}';
        d->p++;
        ws(d);
        if (d->p < d->end && *d->p == close) {
            d->p++;
            d->depth--;
            return D_OK;
        }
        for (;;) {
            if (c == '{') {
                ws(d);
                if (d->p >= d->end || *d->p != '"')
                    return syntax(d, d->p, "object key expected");
                if (skip_value(d) != D_OK)
                    return D_FATAL;
                ws(d);
                if (d->p >= d->end || *d->p != ':')
                    return syntax(d, d->p, "':' expected after object key");
                d->p++;
            }
            if (skip_value(d) != D_OK)
                return D_FATAL;
            int more = next_member(d, close);
            if (more < 0)
                return D_FATAL;
            if (!more) {
                d->depth--;
                return D_OK;
            }
        }
    }
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            const char *s; size_t n; bool isint;
            return scan_number(d, &s, &n, &isint);
        }
        return syntax(d, d->p, "a value was expected");
    }
}

/* Record a type mismatch at the current value and skip it. */
static int type_error(dec *d, const char *expected)
{
    const char *at = d->p;
    /* Skip first: a malformed value is a syntax error, not a type error. */
    if (skip_value(d) != D_OK)
        return D_FATAL;
    problem(d, BK_EDECODE, at, NULL, 0, "type", "expected %s, got %s", expected,
        token_name(*at));
    return D_BAD;
}

/* ---- typed values ------------------------------------------------------------ */

static int dec_value(dec *d, const bk__type *t, void *dst);
static int dec_object(dec *d, const bk_model *m, char *base, const char *ignore, size_t ignore_n);

static const char *kind_expect(bk_kind k)
{
    switch (k) {
    case BK_BOOL: return "a boolean";
    case BK_I8: case BK_I16: case BK_I32: case BK_I64:
    case BK_U8: case BK_U16: case BK_U32: case BK_U64: return "an integer";
    case BK_F32: case BK_F64: return "a number";
    case BK_STR: return "a string";
    case BK_BYTES: return "a base64 string";
    case BK_TIMESTAMP: return "an RFC 3339 timestamp string";
    case BK_DATE: return "a date string";
    case BK_UUID: return "a UUID string";
    case BK_ENUM: return "a string";
    case BK_MODEL: case BK_MODEL_PTR: case BK_MAP: return "an object";
    case BK_LIST: return "an array";
    default: return "a value";
    }
}

/* Integers: parse the digits exactly, then range-check for the kind. */
static int dec_int(dec *d, bk_kind k, void *dst)
{
    const char *at = d->p, *s;
    size_t n;
    bool isint;
    if (scan_number(d, &s, &n, &isint) != D_OK)
        return D_FATAL;
    if (!isint) {
        problem(d, BK_EDECODE, at, NULL, 0, "type", "expected an integer, got %.*s",
            (int)(n > 40 ? 40 : n), s);
        return D_BAD;
    }
    bool neg = s[0] == '-';
    const char *q = s + neg, *qe = s + n;
    uint64_t v = 0;
    bool over = false;
    for (; q < qe; q++) {
        unsigned dg = (unsigned)(*q - '0');
        if (v > (UINT64_MAX - dg) / 10) {
            over = true;
            break;
        }
        v = v * 10 + dg;
    }
    int64_t lo;
    uint64_t hi;
    bk__int_range(k, &lo, &hi);
    if (!over) {
        if (neg) {
            /* magnitude allowed: -lo */
            uint64_t maxmag = lo == 0 ? 0 : (uint64_t)(-(lo + 1)) + 1;
            if (v > maxmag)
                over = true;
        } else if (v > hi) {
            over = true;
        }
    }
    if (over) {
        problem(d, BK_EDECODE, at, NULL, 0, "out_of_range",
            "%.*s is out of range for %s", (int)(n > 40 ? 40 : n), s,
            k == BK_I8 ? "i8" : k == BK_I16 ? "i16" : k == BK_I32 ? "i32" : k == BK_I64 ? "i64" :
            k == BK_U8 ? "u8" : k == BK_U16 ? "u16" : k == BK_U32 ? "u32" : "u64");
        return D_BAD;
    }
    int64_t sv = neg ? (int64_t)(0 - v) : (int64_t)v;
    if (neg && v == (uint64_t)INT64_MAX + 1)
        sv = INT64_MIN;
    switch (k) {
    case BK_I8: *(int8_t *)dst = (int8_t)sv; break;
    case BK_I16: *(int16_t *)dst = (int16_t)sv; break;
    case BK_I32: *(int32_t *)dst = (int32_t)sv; break;
    case BK_I64: *(int64_t *)dst = sv; break;
    case BK_U8: *(uint8_t *)dst = (uint8_t)v; break;
    case BK_U16: *(uint16_t *)dst = (uint16_t)v; break;
    case BK_U32: *(uint32_t *)dst = (uint32_t)v; break;
    default: *(uint64_t *)dst = v; break;
    }
    return D_OK;
}

static int dec_float(dec *d, bk_kind k, void *dst)
{
    const char *at = d->p, *s;
    size_t n;
    bool isint;
    if (scan_number(d, &s, &n, &isint) != D_OK)
        return D_FATAL;
    double v;
    /* f32: values that round to FLT_MAX are in range (below FLT_MAX plus
     * half an ulp, 0x1.ffffffp127); the shortest text of FLT_MAX is one. */
    if (!bk__parse_double(s, n, &v) || (k == BK_F32 && fabs(v) >= 0x1.ffffffp127)) {
        problem(d, BK_EDECODE, at, NULL, 0, "out_of_range", "%.*s is out of range for %s",
            (int)(n > 40 ? 40 : n), s, k == BK_F32 ? "f32" : "f64");
        return D_BAD;
    }
    if (k == BK_F32)
        *(float *)dst = (float)v;
    else
        *(double *)dst = v;
    return D_OK;
}

/*
 * Read a string value into a temporary view: *out points either into the
 * input (no escapes) or into d->scratch. Checks max_string. *flags: as
 * scan_string's.
 */
static int str_view(dec *d, const char **out, size_t *out_n, unsigned *flags)
{
    const char *at = d->p, *s;
    size_t n, dn;
    bool esc;
    int r = scan_string(d, &s, &n, &esc, &dn, flags);
    if (r != D_OK)
        return r; /* D_BAD: invalid UTF-8, reported */
    if (dn > d->o->max_string) {
        problem(d, BK_ELIMIT, at, NULL, 0, "too_long",
            "string of %zu bytes is longer than the limit of %zu", dn, d->o->max_string);
        return D_BAD;
    }
    if (!esc) {
        *out = s;
        *out_n = n;
        return D_OK;
    }
    bk_buf_reset(&d->scratch);
    if (bk__buf_reserve(&d->scratch, n) != BK_OK) {
        d->oom = true;
        return D_FATAL;
    }
    *out_n = unescape(d->scratch.ptr, s, n);
    *out = d->scratch.ptr;
    return D_OK;
}

/* Decode a string into a new C string at *dst; *n_out: its length, *cp_out
 * its code points when it is plain ASCII (then they are its bytes), else
 * SIZE_MAX (not counted). */
static inline int dec_str_n(dec *d, char **dst, size_t *n_out, size_t *cp_out)
{
    const char *at = d->p, *s;
    size_t n;
    unsigned fl;
    int r = str_view(d, &s, &n, &fl);
    if (r != D_OK)
        return r;
    if (fl & STR_NUL) {
        problem(d, BK_EDECODE, at, NULL, 0, "embedded_nul",
            "string contains \\u0000, which a C string cannot hold");
        return D_BAD;
    }
    char *c = bk__malloc(n + 1);
    if (!c) {
        d->oom = true;
        return D_FATAL;
    }
    memcpy(c, s, n);
    c[n] = '\0';
    *dst = c;
    *n_out = n;
    *cp_out = fl & STR_WIDE ? SIZE_MAX : n;
    return D_OK;
}

static int dec_str(dec *d, char **dst)
{
    size_t n, cp;
    return dec_str_n(d, dst, &n, &cp);
}

static int dec_text_kind(dec *d, const bk__type *t, void *dst)
{
    const char *at = d->p, *s;
    size_t n;
    unsigned fl;
    int r = str_view(d, &s, &n, &fl);
    if (r != D_OK)
        return r;
    bool ok = false;
    switch (t->kind) {
    case BK_TIMESTAMP: ok = bk__ts_parse(s, n, (int64_t *)dst); break;
    case BK_DATE: ok = bk__date_parse(s, n, (int32_t *)dst); break;
    case BK_UUID: ok = bk__uuid_parse(s, n, ((bk_uuid *)dst)->bytes); break;
    case BK_BYTES: {
        bk_bytes *b = dst;
        if (n % 4 != 0)
            break;
        size_t cap = n / 4 * 3;
        b->data = bk__malloc(cap ? cap : 1);
        if (!b->data) {
            d->oom = true;
            return D_FATAL;
        }
        ok = bk__b64_decode(b->data, &b->len, s, n);
        break;
    }
    case BK_ENUM: {
        const bk__enum *en = t->enm;
        for (size_t i = 0; i < en->n; i++) {
            if (en->lens[i] == n && memcmp(en->names[i], s, n) == 0) {
                *(int *)dst = (int)i;
                return D_OK;
            }
        }
        problem(d, BK_EDECODE, at, NULL, 0, "invalid_value",
            "\"%.*s\" is not one of the names of %s", (int)(n > 60 ? 60 : n), s, en->name);
        return D_BAD;
    }
    default: break;
    }
    if (ok)
        return D_OK;
    problem(d, BK_EDECODE, at, NULL, 0, "invalid_value", "\"%.*s\" is not %s",
        (int)(n > 60 ? 60 : n), s, kind_expect(t->kind));
    return D_BAD;
}

/* Grow a list/map array to hold at least want elements of size sz. */
static bool grow(dec *d, void **arr, size_t *cap, size_t want, size_t sz)
{
    if (want <= *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 4;
    while (nc < want)
        nc *= 2;
    if (nc > SIZE_MAX / sz) {
        d->oom = true;
        return false;
    }
    void *p = bk__realloc(*arr, nc * sz);
    if (!p) {
        d->oom = true;
        return false;
    }
    memset((char *)p + *cap * sz, 0, (nc - *cap) * sz);
    *arr = p;
    *cap = nc;
    return true;
}

/* Decode a list. With ec (the element check of the field, when
 * validating), each element that decodes is put to ec's fast check as soon
 * as it is decoded (strings with the length the decoder knows); *ec_ok is
 * cleared when one fails it or does not decode. */
static inline int dec_list_checked(dec *d, const bk__type *t, bk_list *l, const bk__check *ec,
    bool *ec_ok)
{
    if (enter(d) != D_OK)
        return D_FATAL;
    d->p++;
    const bk__type *et = t->elem;
    size_t cap = 0, esz = et->size;
    int res = D_OK;
    ws(d);
    if (d->p < d->end && *d->p == ']') {
        d->p++;
        d->depth--;
        return D_OK;
    }
    for (size_t i = 0;; i++) {
        if (!grow(d, &l->items, &cap, i + 1, esz))
            return D_FATAL;
        l->len = i + 1;
        if (!push(d, NULL, i, false))
            return D_FATAL;
        char *item = (char *)l->items + i * esz;
        int r;
        if (!ec) {
            r = dec_value(d, et, item);
        } else if (et->kind == BK_STR && d->p < d->end && *d->p == '"') {
            size_t n, cp;
            r = dec_str_n(d, (char **)item, &n, &cp);
            if (r != D_OK || !bk__check_strn_ok(ec, *(char **)item, n, cp))
                *ec_ok = false;
        } else {
            r = dec_value(d, et, item);
            if (r != D_OK || !bk__check_scalar_ok(ec, et->kind, item))
                *ec_ok = false;
        }
        pop(d);
        if (r == D_FATAL || (r == D_BAD && saturated(d)))
            return D_FATAL;
        if (r == D_BAD)
            res = D_BAD;
        int more = next_member(d, ']');
        if (more < 0)
            return D_FATAL;
        if (!more)
            break;
    }
    d->depth--;
    return res;
}

static int dec_list(dec *d, const bk__type *t, bk_list *l)
{
    return dec_list_checked(d, t, l, NULL, NULL);
}

/* Read an object key at d->p (a string) and the ':' after it. */
static int read_key(dec *d, const char **k, size_t *kn, bool *escaped, const char **raw,
    size_t *raw_n)
{
    if (d->p >= d->end || *d->p != '"')
        return syntax(d, d->p, "object key expected");
    const char *s;
    size_t n, dn;
    bool esc;
    unsigned fl;
    if (scan_string(d, &s, &n, &esc, &dn, &fl) != D_OK)
        return D_FATAL;
    *raw = s;
    *raw_n = n;
    *escaped = esc;
    if (esc) {
        bk_buf_reset(&d->scratch);
        if (bk__buf_reserve(&d->scratch, n) != BK_OK) {
            d->oom = true;
            return D_FATAL;
        }
        *kn = unescape(d->scratch.ptr, s, n);
        *k = d->scratch.ptr;
    } else {
        *k = s;
        *kn = n;
    }
    ws(d);
    if (d->p >= d->end || *d->p != ':')
        return syntax(d, d->p, "':' expected after object key");
    d->p++;
    ws(d);
    return D_OK;
}

static int dec_map(dec *d, const bk__type *t, bk_map *mp)
{
    if (enter(d) != D_OK)
        return D_FATAL;
    d->p++;
    const bk__type *et = t->elem;
    size_t kcap = 0, vcap = 0, esz = et->size;
    int res = D_OK;
    ws(d);
    if (d->p < d->end && *d->p == '}') {
        d->p++;
        d->depth--;
        return D_OK;
    }
    for (size_t i = 0;; i++) {
        const char *k, *raw;
        size_t kn, raw_n;
        bool esc;
        const char *kat = d->p;
        if (read_key(d, &k, &kn, &esc, &raw, &raw_n) != D_OK)
            return D_FATAL;
        bool dup = false;
        if (!d->o->allow_duplicate_keys) {
            for (size_t j = 0; j < mp->len; j++) {
                if (strlen(mp->keys[j]) == kn && memcmp(mp->keys[j], k, kn) == 0) {
                    dup = true;
                    break;
                }
            }
        }
        if (!push(d, raw, raw_n, esc))
            return D_FATAL;
        if (dup) {
            problem(d, BK_EDECODE, kat, NULL, 0, "duplicate_key", "duplicate key");
            res = D_BAD;
            if (skip_value(d) != D_OK)
                return D_FATAL;
        } else if (memchr(k, '\0', kn)) {
            problem(d, BK_EDECODE, kat, NULL, 0, "embedded_nul",
                "key contains \\u0000, which a C string cannot hold");
            res = D_BAD;
            if (skip_value(d) != D_OK)
                return D_FATAL;
        } else {
            if (!grow(d, (void **)&mp->keys, &kcap, mp->len + 1, sizeof(char *)) ||
                !grow(d, &mp->values, &vcap, mp->len + 1, esz))
                return D_FATAL;
            char *key = bk__strndup(k, kn);
            if (!key) {
                d->oom = true;
                return D_FATAL;
            }
            size_t at = mp->len;
            mp->keys[at] = key;
            mp->len++;
            int r = dec_value(d, et, (char *)mp->values + at * esz);
            if (r == D_FATAL)
                return D_FATAL;
            if (r == D_BAD)
                res = D_BAD;
        }
        pop(d);
        int more = next_member(d, '}');
        if (more < 0)
            return D_FATAL;
        if (!more)
            break;
    }
    d->depth--;
    return res;
}

static int dec_model_ptr(dec *d, const bk__type *t, void **dst)
{
    void *sub = bk__calloc(1, t->model->size);
    if (!sub) {
        d->oom = true;
        return D_FATAL;
    }
    *dst = sub;
    return dec_object(d, t->model, sub, NULL, 0);
}

/* Decode the default literal of a field into dst (validated at build). */
static int apply_default(dec *d, const bk__field *f, char *dst)
{
    bk_decode_options o = *d->o;
    bk_error *e = NULL;
    bk_status st = bk__json_decode_type(dst, f->type, f->default_json, strlen(f->default_json),
        &o, "$", &e);
    if (st != BK_OK) {
        bk_error_free(e);
        if (st == BK_ENOMEM) {
            d->oom = true;
            return D_FATAL;
        }
        problem(d, BK_EMODEL, NULL, f->json_name, f->json_name_len, "invalid_value",
            "the default of this field does not decode");
        return D_BAD;
    }
    return D_OK;
}

/*
 * Decode the value of field f (which has constraints or a validator) into
 * dst and validate it inline, while it is hot in the cache: first by the
 * fast checks compiled at build (internal.h), with the length the decoder
 * knows for strings; only when they do not all pass (or for a custom
 * validator) by the full check, which decides and records the problems at
 * the current path. Returns like dec_value; D_FATAL when a validator asked
 * to stop or memory ran out (d->user_stop, d->oom).
 */
static int dec_field_checked(dec *d, const bk__field *f, char *dst)
{
    const bk__type *t = f->type;
    const bk__check *c = f->check, *ec = f->elem_check;
    bool more = d->p < d->end, ok;
    int r;
    if (t->kind == BK_STR && more && *d->p == '"') {
        size_t n, cp;
        r = dec_str_n(d, (char **)dst, &n, &cp);
        ok = !c || (r == D_OK && bk__check_strn_ok(c, *(char **)dst, n, cp));
    } else if (t->kind == BK_LIST && ec && more && *d->p == '[') {
        ok = true;
        r = dec_list_checked(d, t, (bk_list *)dst, ec, &ok);
        ok = ok && (!c || bk__check_scalar_ok(c, t->kind, dst));
        ec = NULL;
    } else {
        r = dec_value(d, t, dst);
        ok = !c || bk__check_scalar_ok(c, t->kind, dst);
    }
    if (r != D_OK)
        return r;
    if (ok && ec)
        ok = bk__validate_fast_ok(f, dst); /* map values, measured there */
    if (ok && !f->validate)
        return D_OK;
    int v = bk__validate_field_inline(&d->errs, path_cb, d, f, dst);
    if (v != 0) {
        d->oom |= v < 0;
        d->user_stop |= v > 0;
        return D_FATAL;
    }
    return D_OK;
}

/*
 * Decode an object into the struct of model m at base. `ignore` names a key
 * to pass over (the tag of an internally tagged union).
 */
static int dec_object(dec *d, const bk_model *m, char *base, const char *ignore, size_t ignore_n)
{
    if (d->p >= d->end || *d->p != '{')
        return type_error(d, "an object");
    if (enter(d) != D_OK)
        return D_FATAL;
    const char *obj_at = d->p;
    d->p++;
    int res = D_OK;
    size_t nj = m->njfields;
    size_t problems_before = d->errs.len;
    unsigned char seen_small[64];
    unsigned char *seen = seen_small;
    if (nj > sizeof(seen_small)) {
        seen = bk__calloc(nj, 1);
        if (!seen) {
            d->oom = true;
            return D_FATAL;
        }
    } else {
        memset(seen_small, 0, nj);
    }
    size_t hint = 0;
    ws(d);
    if (d->p < d->end && *d->p == '}') {
        d->p++;
        goto end;
    }
    for (;;) {
        const char *k, *raw;
        size_t kn, raw_n;
        bool esc;
        const char *kat = d->p;
        int32_t idx = -1;
        if (hint < nj) {
            /* Fast path: the key is the next declared one, written plainly:
             * compare the raw bytes with its pre-encoded "name". */
            const bk__jfield *hj = &m->jfields[hint];
            size_t ql = hj->f->key_json_len - 1;
            if (hj->f->key_json_len == hj->name_len + 3 && (size_t)(d->end - d->p) > ql &&
                memcmp(d->p, hj->f->key_json, ql) == 0) {
                d->p += ql;
                ws(d);
                if (d->p >= d->end || *d->p != ':') {
                    res = syntax(d, d->p, "':' expected after object key");
                    goto done;
                }
                d->p++;
                ws(d);
                idx = (int32_t)hint;
                k = raw = hj->name;
                kn = raw_n = hj->name_len;
                esc = false;
            }
        }
        if (idx < 0) {
            if (read_key(d, &k, &kn, &esc, &raw, &raw_n) != D_OK) {
                res = D_FATAL;
                goto done;
            }
            idx = bk__model_lookup(m, k, kn);
        }
        if (!push(d, raw, raw_n, esc)) {
            res = D_FATAL;
            goto done;
        }
        int r;
        if (idx < 0) {
            if (ignore && kn == ignore_n && memcmp(k, ignore, kn) == 0) {
                r = skip_value(d);
            } else if (m->deny_unknown) {
                problem(d, BK_EDECODE, kat, NULL, 0, "unknown_field", "unknown field");
                r = skip_value(d);
                if (r == D_OK)
                    r = D_BAD;
            } else {
                r = skip_value(d);
            }
        } else if (seen[idx] && !d->o->allow_duplicate_keys) {
            problem(d, BK_EDECODE, kat, NULL, 0, "duplicate_key", "duplicate key");
            r = skip_value(d);
            if (r == D_OK)
                r = D_BAD;
        } else {
            const bk__jfield *jf = &m->jfields[idx];
            char *dst = base + jf->offset;
            if (seen[idx]) /* duplicates allowed: last wins */
                bk__value_clear(jf->f->type, dst);
            seen[idx] = 1;
            hint = (size_t)idx + 1;
            if (jf->f->optional && d->p < d->end && *d->p == 'n') {
                r = literal(d, "null", 4);
                base[jf->presence_offset] = BK_NULL;
            } else {
                if (jf->f->optional)
                    base[jf->presence_offset] = BK_PRESENT;
                const bk__field *f = jf->f;
                if (d->validate && (f->check || f->elem_check || f->validate))
                    r = dec_field_checked(d, f, dst);
                else
                    r = dec_value(d, f->type, dst);
            }
        }
        pop(d);
        if (r == D_FATAL || (r == D_BAD && saturated(d))) {
            res = D_FATAL;
            goto done;
        }
        if (r == D_BAD)
            res = D_BAD;
        int more = next_member(d, '}');
        if (more < 0) {
            res = D_FATAL;
            goto done;
        }
        if (!more)
            break;
    }
end:
    for (size_t i = 0; i < nj; i++) {
        if (seen[i])
            continue;
        const bk__jfield *jf = &m->jfields[i];
        if (jf->f->default_json) {
            int r = apply_default(d, jf->f, base + jf->offset);
            if (r == D_FATAL) {
                res = D_FATAL;
                goto done;
            }
            if (r == D_BAD)
                res = D_BAD;
            if (jf->f->optional && r == D_OK)
                base[jf->presence_offset] = BK_PRESENT;
        } else if (jf->required) {
            problem(d, BK_EDECODE, obj_at, jf->name, jf->name_len, "missing",
                "missing field \"%s\"", jf->name);
            res = D_BAD;
        }
    }
    /* Cross-field (model) validators run on a complete, clean object. */
    if (d->validate && res == D_OK && m->has_validators && d->errs.len == problems_before &&
        !d->errs.truncated) {
        int v = bk__validate_model_inline(&d->errs, path_cb, d, m, base);
        if (v != 0) {
            d->oom |= v < 0;
            d->user_stop |= v > 0;
            res = D_FATAL;
            goto done;
        }
    }
    d->depth--;
done:
    if (seen != seen_small)
        bk__free(seen);
    return res;
}

/* Find the string value of key `tag` among the top-level keys of the object
 * at d->p without consuming it. Returns D_OK with *found set, or D_FATAL. */
static int find_tag(dec *d, const char *tag, size_t tag_n, const char **v, size_t *vn,
    bool *found, const char **v_at)
{
    const char *save = d->p;
    size_t save_depth = d->depth;
    *found = false;
    if (enter(d) != D_OK)
        return D_FATAL;
    d->p++;
    ws(d);
    if (d->p < d->end && *d->p == '}')
        goto out;
    for (;;) {
        const char *k, *raw;
        size_t kn, raw_n;
        bool esc;
        if (read_key(d, &k, &kn, &esc, &raw, &raw_n) != D_OK)
            return D_FATAL;
        if (!*found && kn == tag_n && memcmp(k, tag, kn) == 0 && d->p < d->end && *d->p == '"') {
            unsigned fl;
            *v_at = d->p;
            if (str_view(d, v, vn, &fl) != D_OK)
                return D_FATAL;
            *found = true;
            /* keep the value: it may live in scratch, which read_key reuses */
            if (*v == d->scratch.ptr) {
                char *c = bk__strndup(*v, *vn);
                if (!c) {
                    d->oom = true;
                    return D_FATAL;
                }
                /* the caller frees it: it lies outside the input */
                *v = c;
            }
            goto out;
        } else if (skip_value(d) != D_OK) {
            return D_FATAL;
        }
        int more = next_member(d, '}');
        if (more < 0)
            return D_FATAL;
        if (!more)
            break;
    }
out:
    d->p = save;
    d->depth = save_depth;
    return D_OK;
}

static int find_variant(const bk__union *u, const char *s, size_t n)
{
    for (size_t i = 0; i < u->n; i++)
        if (u->variants[i].name_len == n && memcmp(u->variants[i].name, s, n) == 0)
            return (int)i;
    return -1;
}

static int dec_payload(dec *d, const bk__union *u, int vi, char *dst)
{
    *(int *)(dst + u->tag_offset) = vi;
    const bk__variant *v = &u->variants[vi];
    if (!v->type) {
        if (d->p >= d->end)
            return syntax(d, d->p, "a value was expected");
        if (*d->p != 'n')
            return type_error(d, "null");
        return literal(d, "null", 4) == D_OK ? D_OK : D_FATAL;
    }
    return dec_value(d, v->type, dst + v->offset);
}

static int dec_union(dec *d, const bk__type *t, char *dst)
{
    const bk__union *u = t->uni;
    const char *at = d->p;
    switch (u->tagging) {
    case BK_TAG_EXTERNAL: {
        if (*d->p == '"') {
            const char *s; size_t n; unsigned fl;
            int r = str_view(d, &s, &n, &fl);
            if (r != D_OK)
                return r;
            int vi = find_variant(u, s, n);
            if (vi < 0 || u->variants[vi].type) {
                problem(d, BK_EDECODE, at, NULL, 0, "unknown_variant",
                    vi < 0 ? "unknown variant \"%.*s\" of %s" : "variant \"%.*s\" of %s needs a payload",
                    (int)(n > 60 ? 60 : n), s, u->name);
                return D_BAD;
            }
            *(int *)(dst + u->tag_offset) = vi;
            return D_OK;
        }
        if (*d->p != '{')
            return type_error(d, "an object or a string");
        if (enter(d) != D_OK)
            return D_FATAL;
        d->p++;
        ws(d);
        const char *k, *raw; size_t kn, raw_n; bool esc;
        const char *kat = d->p;
        if (read_key(d, &k, &kn, &esc, &raw, &raw_n) != D_OK)
            return D_FATAL;
        int vi = find_variant(u, k, kn);
        if (!push(d, raw, raw_n, esc))
            return D_FATAL;
        int r;
        if (vi < 0) {
            problem(d, BK_EDECODE, kat, NULL, 0, "unknown_variant", "unknown variant of %s",
                u->name);
            r = skip_value(d) == D_OK ? D_BAD : D_FATAL;
        } else {
            r = dec_payload(d, u, vi, dst);
        }
        pop(d);
        if (r == D_FATAL)
            return r;
        ws(d);
        if (d->p < d->end && *d->p == '}') {
            d->p++;
            d->depth--;
            return r;
        }
        if (d->p < d->end && *d->p == ',') {
            problem(d, BK_EDECODE, d->p, NULL, 0, "type",
                "an externally tagged union object must have exactly one key");
            d->depth--;
            /* skip the rest of the object */
            while (d->p < d->end && *d->p == ',') {
                d->p++;
                ws(d);
                const char *k2, *r2; size_t kn2, rn2; bool e2;
                if (read_key(d, &k2, &kn2, &e2, &r2, &rn2) != D_OK || skip_value(d) != D_OK)
                    return D_FATAL;
                ws(d);
            }
            if (d->p < d->end && *d->p == '}') {
                d->p++;
                return D_BAD;
            }
            return syntax(d, d->p, "',' or '}' expected");
        }
        return syntax(d, d->p, "'}' expected");
    }
    case BK_TAG_INTERNAL:
    case BK_TAG_ADJACENT: {
        if (*d->p != '{')
            return type_error(d, "an object");
        const char *v = NULL, *v_at = NULL;
        size_t vn = 0;
        bool found;
        if (find_tag(d, u->tag, u->tag_len, &v, &vn, &found, &v_at) != D_OK)
            return D_FATAL;
        bool copied = found && (v < d->start || v >= d->end);
        int vi = found ? find_variant(u, v, vn) : -1;
        if (!found || vi < 0) {
            if (!found)
                problem(d, BK_EDECODE, at, u->tag, u->tag_len, "missing",
                    "missing tag \"%s\" of %s", u->tag, u->name);
            else
                problem(d, BK_EDECODE, v_at, u->tag, u->tag_len, "unknown_variant",
                    "unknown variant \"%.*s\" of %s", (int)(vn > 60 ? 60 : vn), v, u->name);
            if (copied)
                bk__free((char *)v);
            return skip_value(d) == D_OK ? D_BAD : D_FATAL;
        }
        if (copied)
            bk__free((char *)v);
        const bk__variant *var = &u->variants[vi];
        *(int *)(dst + u->tag_offset) = vi;
        if (u->tagging == BK_TAG_INTERNAL) {
            if (!var->type)
                return skip_value(d);
            return dec_object(d, var->type->model, dst + var->offset, u->tag, u->tag_len);
        }
        /* adjacent: walk the object, decode the content key */
        if (enter(d) != D_OK)
            return D_FATAL;
        d->p++;
        ws(d);
        int res = D_OK;
        bool have_content = false;
        if (d->p < d->end && *d->p == '}') {
            d->p++;
            d->depth--;
            goto adj_end;
        }
        for (;;) {
            const char *k, *raw; size_t kn, raw_n; bool esc;
            const char *kat = d->p;
            if (read_key(d, &k, &kn, &esc, &raw, &raw_n) != D_OK)
                return D_FATAL;
            if (!push(d, raw, raw_n, esc))
                return D_FATAL;
            int r;
            if (kn == u->tag_len && memcmp(k, u->tag, kn) == 0) {
                r = skip_value(d);
            } else if (kn == u->content_len && memcmp(k, u->content, kn) == 0) {
                if (have_content) {
                    problem(d, BK_EDECODE, kat, NULL, 0, "duplicate_key", "duplicate key");
                    r = skip_value(d) == D_OK ? D_BAD : D_FATAL;
                } else if (!var->type) {
                    r = skip_value(d);
                } else {
                    have_content = true;
                    r = dec_value(d, var->type, dst + var->offset);
                }
            } else {
                problem(d, BK_EDECODE, kat, NULL, 0, "unknown_field", "unknown field");
                r = skip_value(d) == D_OK ? D_BAD : D_FATAL;
            }
            pop(d);
            if (r == D_FATAL)
                return r;
            if (r == D_BAD)
                res = D_BAD;
            int more = next_member(d, '}');
            if (more < 0)
                return D_FATAL;
            if (!more)
                break;
        }
        d->depth--;
adj_end:
        if (var->type && !have_content) {
            problem(d, BK_EDECODE, at, u->content, u->content_len, "missing",
                "missing content \"%s\" of %s", u->content, u->name);
            res = D_BAD;
        }
        return res;
    }
    case BK_UNTAGGED:
    default: {
        /* Try each variant with problems diverted; the first clean one wins. */
        const char *save = d->p;
        size_t save_depth = d->depth, save_npath = d->npath;
        for (size_t i = 0; i < u->n; i++) {
            bk__errors saved = d->errs;
            bk__errors_init(&d->errs, 1);
            int r = dec_payload(d, u, (int)i, dst);
            bool oom = d->oom || d->errs.oom;
            bool fatal_syntax = d->errs.status == BK_ESYNTAX || d->errs.status == BK_ELIMIT;
            bk__errors trial = d->errs;
            d->errs = saved;
            if (r == D_OK && trial.len == 0) {
                bk__errors_dispose(&trial);
                return D_OK;
            }
            if (oom) {
                bk__errors_dispose(&trial);
                d->oom = true;
                return D_FATAL;
            }
            if (fatal_syntax) {
                /* a syntax error is one whatever the variant: report it */
                for (size_t j = 0; j < trial.len; j++)
                    bk__errors_add(&d->errs, trial.status, trial.items[j].path,
                        trial.items[j].code, trial.items[j].offset, trial.items[j].line,
                        trial.items[j].column, "%s", trial.items[j].message);
                bk__errors_dispose(&trial);
                return D_FATAL;
            }
            bk__errors_dispose(&trial);
            const bk__variant *v = &u->variants[i];
            if (v->type)
                bk__value_clear(v->type, dst + v->offset);
            *(int *)(dst + u->tag_offset) = 0;
            d->p = save;
            d->depth = save_depth;
            d->npath = save_npath;
        }
        problem(d, BK_EDECODE, at, NULL, 0, "unknown_variant",
            "the value matches no variant of %s", u->name);
        return skip_value(d) == D_OK ? D_BAD : D_FATAL;
    }
    }
}

/* Decode one value of type t at d->p into dst. */
static int dec_value(dec *d, const bk__type *t, void *dst)
{
    if (d->p >= d->end)
        return syntax(d, d->p, "a value was expected");
    char c = *d->p;
    switch (t->kind) {
    case BK_BOOL:
        if (c == 't') {
            if (literal(d, "true", 4) != D_OK)
                return D_FATAL;
            *(bool *)dst = true;
            return D_OK;
        }
        if (c == 'f') {
            if (literal(d, "false", 5) != D_OK)
                return D_FATAL;
            *(bool *)dst = false;
            return D_OK;
        }
        return type_error(d, "a boolean");
    case BK_I8: case BK_I16: case BK_I32: case BK_I64:
    case BK_U8: case BK_U16: case BK_U32: case BK_U64:
        if (c == '-' || (c >= '0' && c <= '9'))
            return dec_int(d, t->kind, dst);
        return type_error(d, "an integer");
    case BK_F32: case BK_F64:
        if (c == '-' || (c >= '0' && c <= '9'))
            return dec_float(d, t->kind, dst);
        return type_error(d, "a number");
    case BK_STR:
        if (c == '"')
            return dec_str(d, dst);
        return type_error(d, "a string");
    case BK_BYTES: case BK_TIMESTAMP: case BK_DATE: case BK_UUID: case BK_ENUM:
        if (c == '"')
            return dec_text_kind(d, t, dst);
        return type_error(d, kind_expect(t->kind));
    case BK_MODEL:
        return dec_object(d, t->model, dst, NULL, 0);
    case BK_MODEL_PTR:
        if (c == 'n')
            return literal(d, "null", 4) == D_OK ? D_OK : D_FATAL;
        if (c != '{')
            return type_error(d, "an object");
        return dec_model_ptr(d, t, dst);
    case BK_LIST:
        if (c != '[')
            return type_error(d, "an array");
        return dec_list(d, t, dst);
    case BK_MAP:
        if (c != '{')
            return type_error(d, "an object");
        return dec_map(d, t, dst);
    case BK_UNION:
        return dec_union(d, t, dst);
    case BK_JSON: {
        const char *s = d->p;
        if (skip_value(d) != D_OK)
            return D_FATAL;
        json_error_t je;
        json_t *v = json_loadb(s, (size_t)(d->p - s), JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!v) {
            d->oom = true;
            return D_FATAL;
        }
        *(json_t **)dst = v;
        return D_OK;
    }
    default:
        problem(d, BK_EINTERNAL, d->p, NULL, 0, "type", "field of unknown kind");
        return D_FATAL;
    }
}

/* ---- entry points --------------------------------------------------------------- */

static void dec_init(dec *d, const char *buf, size_t len, const bk_decode_options *o)
{
    memset(d, 0, offsetof(dec, path0));
    d->start = d->p = buf;
    d->end = buf + len;
    d->o = o;
    d->path = d->path0;
    d->cpath = STACK_FRAMES;
    bk__errors_init(&d->errs, o->max_errors);
}

static void dec_dispose(dec *d)
{
    if (d->path != d->path0)
        bk__free(d->path);
    bk_buf_dispose(&d->scratch);
}

static bk_status check_opts(const bk_decode_options **o, bk_error **err)
{
    if (!*o) {
        *o = &g_default_opts;
        return BK_OK;
    }
    if ((*o)->version < 1 || (*o)->version > BK_DECODE_OPTIONS_VERSION)
        return bk__error_set(err, BK_EINVAL, "unknown bk_decode_options version %u",
            (*o)->version);
    return BK_OK;
}

/*
 * Shared driver: decode a value of type t (or, when t is NULL, an object of
 * model m) from buf into dst, which is zeroed first and cleared on failure.
 */
typedef struct prefix_result {
    size_t consumed;   /* bytes up to the end of the value */
    bool complete;     /* the value was read to its end */
    bool hit_end;      /* decoding stopped at the end of the input */
} prefix_result;

static bk_status run(void *dst, const bk_model *m, const bk__type *t, const char *buf,
    size_t len, const bk_decode_options *o, prefix_result *pr, bk_error **err)
{
    dec d;
    dec_init(&d, buf, len, o);
    d.validate = m && m->has_checks && !o->skip_validation;
    if (m)
        memset(dst, 0, m->size);
    else
        memset(dst, 0, t->size);
    int r = D_OK;
    if (pr) {
        /* One value at the start of buf; what follows is the caller's. */
        ws(&d);
        r = dec_object(&d, m, dst, NULL, 0);
        pr->complete = r != D_FATAL;
        pr->hit_end = d.hit_end;
        pr->consumed = (size_t)(d.p - buf);
        if (pr->complete && pr->consumed > o->max_size)
            problem(&d, BK_ELIMIT, NULL, NULL, 0, "too_large",
                "record of %zu bytes is larger than the limit of %zu", pr->consumed,
                o->max_size);
    } else if (len > o->max_size) {
        problem(&d, BK_ELIMIT, NULL, NULL, 0, "too_large",
            "document of %zu bytes is larger than the limit of %zu", len, o->max_size);
        r = D_FATAL;
    } else {
        ws(&d);
        if (m)
            r = dec_object(&d, m, dst, NULL, 0);
        else
            r = dec_value(&d, t, dst);
        if (r != D_FATAL) {
            ws(&d);
            if (d.p != d.end)
                r = syntax(&d, d.p, "unexpected data after the document");
        }
    }
    bk_status st;
    if (d.oom || d.errs.oom) {
        bk__errors_dispose(&d.errs);
        st = err ? bk__error_oom(err) : BK_ENOMEM;
    } else if (d.user_stop && d.errs.len == 0) {
        bk__errors_dispose(&d.errs);
        st = bk__error_set(err, BK_EUSER, "a custom validator stopped the decode");
    } else if (d.errs.len > 0 || d.errs.truncated || r != D_OK) {
        if (d.errs.status == BK_OK)
            d.errs.status = BK_EDECODE;
        st = bk__errors_finish(&d.errs, err);
    } else {
        bk__errors_dispose(&d.errs);
        st = BK_OK;
    }
    if (st != BK_OK) {
        if (m)
            bk__model_clear(m, dst);
        else
            bk__value_clear(t, dst);
    }
    dec_dispose(&d);
    return st;
}

bk_status bk__json_decode_type(void *dst, const bk__type *t, const char *buf, size_t len,
    const bk_decode_options *opts, const char *path, bk_error **err)
{
    if (check_opts(&opts, err) != BK_OK)
        return BK_EINVAL;
    BK__UNUSED(path);
    return run(dst, NULL, t, buf, len, opts, NULL, err);
}

bk_status bk_json_decode(void *out, const bk_model *model, const char *buf, size_t len,
    const bk_decode_options *opts, bk_error **err)
{
    if (!out || (!buf && len))
        return bk__error_set(err, BK_EINVAL, "bk_json_decode: NULL argument");
    if (!bk__model_ok(model))
        return bk__error_set(err, model ? BK_EMISUSE : BK_EINVAL,
            "bk_json_decode: not a model handle");
    if (check_opts(&opts, err) != BK_OK)
        return BK_EINVAL;
    return run(out, model, NULL, buf ? buf : "", len, opts, NULL, err);
}

bk_status bk__json_decode_prefix(void *out, const bk_model *model, const char *buf, size_t len,
    const bk_decode_options *opts, size_t *consumed, bool *complete, bool *hit_end,
    bk_error **err)
{
    prefix_result pr = { 0, false, false };
    bk_status st = run(out, model, NULL, buf, len, opts, &pr, err);
    *consumed = pr.consumed;
    *complete = pr.complete;
    *hit_end = pr.hit_end;
    return st;
}
