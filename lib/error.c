/*
 * error.c - error handles and the problem accumulator used by the codec.
 *
 * A bk_error owns its message and problems. Out of memory while building an
 * error yields the static g_oom error, whose free is a no-op.
 */
#include <stdarg.h>
#include <stdio.h>
#include "internal.h"

struct bk_error {
    bk_status status;
    char *message;
    bk__problem *problems;
    size_t count;
    bool truncated;
    bool is_static;
    long long record_index;
};

static bk_error g_oom = { BK_ENOMEM, (char *)"out of memory", NULL, 0, false, true, -1 };

static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = bk__malloc((size_t)n + 1);
    if (!s)
        return NULL;
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

bk_status bk__error_oom(bk_error **err)
{
    if (err)
        *err = &g_oom;
    return BK_ENOMEM;
}

static void problem_dispose(bk__problem *p)
{
    bk__free(p->path);
    bk__free(p->message);
    bk__free(p->params);
    bk__free(p->code_owned);
}

void bk_error_free(bk_error *err)
{
    if (!err || err->is_static)
        return;
    for (size_t i = 0; i < err->count; i++)
        problem_dispose(&err->problems[i]);
    bk__free(err->problems);
    bk__free(err->message);
    bk__free(err);
}

bk_status bk__error_set(bk_error **err, bk_status st, const char *fmt, ...)
{
    if (!err)
        return st;
    if (st == BK_ENOMEM)
        return bk__error_oom(err);
    bk_error *e = bk__calloc(1, sizeof(*e));
    if (!e)
        return bk__error_oom(err);
    va_list ap;
    va_start(ap, fmt);
    e->message = vformat(fmt, ap);
    va_end(ap);
    if (!e->message) {
        bk__free(e);
        return bk__error_oom(err);
    }
    e->status = st;
    e->record_index = -1;
    *err = e;
    return st;
}

bk_status bk__error_problem(bk_error **err, bk_status st, const char *path, const char *code,
    const char *fmt, ...)
{
    if (!err)
        return st;
    bk__errors acc;
    bk__errors_init(&acc, 1);
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    if (!msg)
        return bk__error_oom(err);
    bk__errors_add(&acc, st, path, code, 0, 0, 0, "%s", msg);
    bk__free(msg);
    return bk__errors_finish(&acc, err);
}

void bk__error_set_record_index(bk_error *err, long long index)
{
    if (err && !err->is_static)
        err->record_index = index;
}

static int status_rank(bk_status st)
{
    switch (st) {
    case BK_OK: return 0;
    case BK_EVALIDATION: return 1;
    case BK_EDECODE: return 2;
    default: return 3;
    }
}

void bk__errors_init(bk__errors *e, size_t max)
{
    memset(e, 0, sizeof(*e));
    e->max = max ? max : 1;
    e->record_index = -1;
}

bk_status bk__errors_add(bk__errors *e, bk_status st, const char *path, const char *code,
    size_t offset, size_t line, size_t column, const char *fmt, ...)
{
    /* The status says what is worst: malformed input or a limit, then a
     * shape problem, then a constraint violation. */
    if (status_rank(st) > status_rank(e->status))
        e->status = st;
    if (e->len >= e->max) {
        e->truncated = true;
        return st;
    }
    if (e->len == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 4;
        bk__problem *p = bk__realloc(e->items, cap * sizeof(*p));
        if (!p) {
            e->oom = true;
            return st;
        }
        e->items = p;
        e->cap = cap;
    }
    bk__problem *p = &e->items[e->len];
    memset(p, 0, sizeof(*p));
    p->path = bk__strdup(path ? path : "$");
    p->code = code;
    p->offset = offset;
    p->line = line;
    p->column = column;
    va_list ap;
    va_start(ap, fmt);
    p->message = vformat(fmt, ap);
    va_end(ap);
    if (!p->path || !p->message) {
        problem_dispose(p);
        e->oom = true;
        return st;
    }
    e->len++;
    return st;
}

bk_status bk__errors_add_params(bk__errors *e, bk_status st, const char *path, const char *code,
    const char *code_copy, const char *params, const char *message)
{
    size_t before = e->len;
    bk__errors_add(e, st, path, code, 0, 0, 0, "%s", message);
    if (e->len == before)
        return st;
    bk__problem *p = &e->items[e->len - 1];
    if (params && !(p->params = bk__strdup(params)))
        e->oom = true;
    if (code_copy) {
        if (!(p->code_owned = bk__strdup(code_copy)))
            e->oom = true;
        else
            p->code = p->code_owned;
    }
    return st;
}

void bk__errors_dispose(bk__errors *e)
{
    for (size_t i = 0; i < e->len; i++)
        problem_dispose(&e->items[i]);
    bk__free(e->items);
    memset(e, 0, sizeof(*e));
}

/* Build the summary: the first problem, and how many more. */
static char *summary(const bk__errors *e)
{
    if (e->len == 0)
        return bk__strdup("error");
    const bk__problem *p = &e->items[0];
    size_t more = e->len - 1;
    size_t n = strlen(p->path) + strlen(p->message) + 80;
    char *s = bk__malloc(n);
    if (!s)
        return NULL;
    if (p->line)
        snprintf(s, n, "%s: %s (line %zu, column %zu)", p->path, p->message, p->line, p->column);
    else
        snprintf(s, n, "%s: %s", p->path, p->message);
    if (more || e->truncated) {
        size_t l = strlen(s);
        snprintf(s + l, n - l, " (and %zu more problem%s%s)", more, more == 1 ? "" : "s",
            e->truncated ? ", list truncated" : "");
    }
    return s;
}

bk_status bk__errors_finish(bk__errors *e, bk_error **err)
{
    bk_status st = e->status;
    if (e->oom)
        st = BK_ENOMEM;
    if (st == BK_OK) {
        bk__errors_dispose(e);
        return BK_OK;
    }
    if (!err || st == BK_ENOMEM) {
        bk__errors_dispose(e);
        return err ? bk__error_oom(err) : st;
    }
    bk_error *out = bk__calloc(1, sizeof(*out));
    char *msg = out ? summary(e) : NULL;
    if (!out || !msg) {
        bk__free(out);
        bk__errors_dispose(e);
        return bk__error_oom(err);
    }
    out->status = st;
    out->message = msg;
    out->problems = e->items;
    out->count = e->len;
    out->truncated = e->truncated;
    out->record_index = e->record_index;
    e->items = NULL;
    e->len = e->cap = 0;
    *err = out;
    return st;
}

bk_status bk_error_code(const bk_error *err) { return err ? err->status : BK_EINVAL; }
const char *bk_error_message(const bk_error *err) { return err && err->message ? err->message : ""; }
size_t bk_error_count(const bk_error *err) { return err ? err->count : 0; }
bool bk_error_truncated(const bk_error *err) { return err ? err->truncated : false; }
long long bk_error_record_index(const bk_error *err) { return err ? err->record_index : -1; }

const char *bk_error_path(const bk_error *err, size_t i)
{
    return err && i < err->count ? err->problems[i].path : NULL;
}

const char *bk_error_problem_code(const bk_error *err, size_t i)
{
    return err && i < err->count ? err->problems[i].code : NULL;
}

const char *bk_error_problem_params(const bk_error *err, size_t i)
{
    if (!err || i >= err->count)
        return NULL;
    return err->problems[i].params ? err->problems[i].params : "{}";
}

const char *bk_error_problem_message(const bk_error *err, size_t i)
{
    return err && i < err->count ? err->problems[i].message : NULL;
}

bk_status bk_error_location(const bk_error *err, size_t i, size_t *offset, size_t *line,
    size_t *column)
{
    if (!err || i >= err->count)
        return BK_EINVAL;
    const bk__problem *p = &err->problems[i];
    if (offset) *offset = p->offset;
    if (line) *line = p->line;
    if (column) *column = p->column;
    return BK_OK;
}

static int default_http(bk_status st)
{
    switch (st) {
    case BK_ESYNTAX: case BK_EDECODE: case BK_ELIMIT: return 400;
    case BK_EVALIDATION: return 422;
    case BK_ENOTFOUND: return 404;
    case BK_ECONFLICT: return 409;
    case BK_EUNAUTHORIZED: return 401;
    case BK_EBUSY: return 503;
    case BK_ETIMEOUT: return 504;
    default: return 500;
    }
}

int bk_error_http_status(const bk_error *err)
{
    return default_http(bk_error_code(err));
}

bk_status bk_http_options_init(bk_http_options *opts)
{
    if (!opts)
        return BK_EINVAL;
    memset(opts, 0, sizeof(*opts));
    opts->version = BK_HTTP_OPTIONS_VERSION;
    return BK_OK;
}

int bk_error_http_status_ex(const bk_error *err, const bk_http_options *opts)
{
    bk_status st = bk_error_code(err);
    if (opts && opts->version >= 1 && (unsigned)st < 32 && opts->status[st] >= 100 &&
        opts->status[st] <= 599)
        return opts->status[st];
    return default_http(st);
}

const char *bk_error_public_code(const bk_error *err)
{
    switch (bk_error_code(err)) {
    case BK_ESYNTAX: return "invalid_json";
    case BK_EDECODE: return "invalid_body";
    case BK_ELIMIT: return "limit_exceeded";
    case BK_EVALIDATION: return "validation_failed";
    case BK_ENOTFOUND: return "not_found";
    case BK_ECONFLICT: return "conflict";
    case BK_EUNAUTHORIZED: return "unauthorized";
    case BK_EBUSY: return "busy";
    case BK_ETIMEOUT: return "timeout";
    default: return "internal";
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

/* Append s as a JSON string; invalid UTF-8 (a message that quotes a cut
 * input) becomes U+FFFD rather than an invalid body. */
static bool put_jstr(bk_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (bk__buf_append(b, "\"", 1) != BK_OK)
        return false;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        char esc[8];
        size_t n = 0;
        if (c == '"' || c == '\\') {
            esc[0] = '\\'; esc[1] = (char)c; n = 2;
        } else if (c < 0x20) {
            esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15]; n = 6;
        } else if (c >= 0x80) {
            size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
            size_t avail = 0;
            while (avail < k && p[avail])
                avail++;
            if (k && avail == k && bk__utf8_valid(p, k)) {
                if (bk__buf_append(b, p, k) != BK_OK)
                    return false;
                p += k;
                continue;
            }
            if (bk__buf_append(b, "\xef\xbf\xbd", 3) != BK_OK)
                return false;
            p++;
            continue;
        } else {
            esc[0] = (char)c; n = 1;
        }
        if (bk__buf_append(b, esc, n) != BK_OK)
            return false;
        p++;
    }
    return bk__buf_append(b, "\"", 1) == BK_OK;
}

static bool put_lit(bk_buf *b, const char *s) { return bk__buf_append(b, s, strlen(s)) == BK_OK; }

static bool put_details(bk_buf *b, const bk_error *err)
{
    if (!put_lit(b, "["))
        return false;
    for (size_t i = 0; i < err->count; i++) {
        const bk__problem *p = &err->problems[i];
        if ((i && !put_lit(b, ",")) || !put_lit(b, "{\"path\":") || !put_jstr(b, p->path) ||
            !put_lit(b, ",\"code\":") || !put_jstr(b, p->code) ||
            !put_lit(b, ",\"message\":") || !put_jstr(b, p->message) ||
            !put_lit(b, ",\"params\":") || !put_lit(b, p->params ? p->params : "{}"))
            return false;
        if (p->line) {
            char loc[64];
            snprintf(loc, sizeof(loc), ",\"line\":%zu,\"column\":%zu", p->line, p->column);
            if (!put_lit(b, loc))
                return false;
        }
        if (!put_lit(b, "}"))
            return false;
    }
    return put_lit(b, "]");
}

bk_status bk_error_to_json(char **out, size_t *len_out, const bk_error *err,
    const bk_http_options *opts)
{
    if (!out || !err)
        return BK_EINVAL;
    *out = NULL;
    int status = bk_error_http_status_ex(err, opts);
    bool internal = status >= 500;
    const char *msg = internal ? "internal error" : bk_error_message(err);
    const char *code = bk_error_public_code(err);
    char num[16];
    snprintf(num, sizeof(num), "%d", status);
    bk_buf b = BK_BUF_INIT;
    bool ok;
    if (opts && opts->problem_json) {
        ok = put_lit(&b, "{\"type\":\"about:blank\",\"title\":") && put_jstr(&b, reason(status)) &&
             put_lit(&b, ",\"status\":") && put_lit(&b, num) &&
             put_lit(&b, ",\"detail\":") && put_jstr(&b, msg) &&
             put_lit(&b, ",\"code\":") && put_jstr(&b, code);
        if (ok && !internal && err->count)
            ok = put_lit(&b, ",\"errors\":") && put_details(&b, err);
        ok = ok && put_lit(&b, "}");
    } else {
        ok = put_lit(&b, "{\"error\":{\"message\":") && put_jstr(&b, msg) &&
             put_lit(&b, ",\"code\":") && put_jstr(&b, code) &&
             put_lit(&b, ",\"status\":") && put_lit(&b, num);
        if (ok && !internal && err->count)
            ok = put_lit(&b, ",\"details\":") && put_details(&b, err);
        ok = ok && put_lit(&b, "}}");
    }
    if (!ok) {
        bk_buf_dispose(&b);
        return BK_ENOMEM;
    }
    if (len_out)
        *len_out = b.len;
    *out = b.ptr;
    return BK_OK;
}
