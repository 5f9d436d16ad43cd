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

void bk__errors_init(bk__errors *e, size_t max)
{
    memset(e, 0, sizeof(*e));
    e->max = max ? max : 1;
    e->record_index = -1;
}

bk_status bk__errors_add(bk__errors *e, bk_status st, const char *path, const char *code,
    size_t offset, size_t line, size_t column, const char *fmt, ...)
{
    if (e->status == BK_OK || (e->status == BK_EDECODE && st != BK_EDECODE))
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

int bk_error_http_status(const bk_error *err)
{
    switch (bk_error_code(err)) {
    case BK_ESYNTAX: case BK_EDECODE: case BK_ELIMIT: case BK_EINVAL: return 400;
    case BK_EVALIDATION: return 422;
    case BK_ENOTFOUND: return 404;
    case BK_ECONFLICT: return 409;
    case BK_EBUSY: return 503;
    default: return 500;
    }
}
