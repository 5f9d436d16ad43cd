/*
 * common.c - version, status names, init refcount, allocator hooks, bk_buf.
 */
#include <stdlib.h>
#include <stdio.h>
#include <stdatomic.h>
#include "internal.h"

static bk_malloc_fn  g_malloc  = malloc;
static bk_realloc_fn g_realloc = realloc;
static bk_free_fn    g_free    = free;
static atomic_int    g_init_refs;

const char *bk_version(void) { return BK_VERSION; }
int bk_version_number(void) { return BK_VERSION_NUMBER; }

const char *bk_status_name(bk_status st)
{
    switch (st) {
    case BK_OK: return "BK_OK";
    case BK_ERROR: return "BK_ERROR";
    case BK_ENOMEM: return "BK_ENOMEM";
    case BK_EINVAL: return "BK_EINVAL";
    case BK_EMISUSE: return "BK_EMISUSE";
    case BK_ESYNTAX: return "BK_ESYNTAX";
    case BK_EDECODE: return "BK_EDECODE";
    case BK_EVALIDATION: return "BK_EVALIDATION";
    case BK_ELIMIT: return "BK_ELIMIT";
    case BK_ENOTFOUND: return "BK_ENOTFOUND";
    case BK_ECONFLICT: return "BK_ECONFLICT";
    case BK_EBUSY: return "BK_EBUSY";
    case BK_EIO: return "BK_EIO";
    case BK_EUSER: return "BK_EUSER";
    case BK_EMODEL: return "BK_EMODEL";
    case BK_EUNSUPPORTED: return "BK_EUNSUPPORTED";
    case BK_EINTERNAL: return "BK_EINTERNAL";
    case BK_ITEROVER: return "BK_ITEROVER";
    case BK_EUNAUTHORIZED: return "BK_EUNAUTHORIZED";
    case BK_ETIMEOUT: return "BK_ETIMEOUT";
    case BK_ESCHEMA: return "BK_ESCHEMA";
    }
    return "BK_UNKNOWN";
}

bk_status bk_init(void)
{
    atomic_fetch_add(&g_init_refs, 1);
    return BK_OK;
}

void bk_shutdown(void)
{
    int cur = atomic_load(&g_init_refs);
    while (cur > 0 && !atomic_compare_exchange_weak(&g_init_refs, &cur, cur - 1))
        ;
}

bk_status bk_set_allocator(bk_malloc_fn m, bk_realloc_fn r, bk_free_fn f)
{
    if (!m && !r && !f) {
        g_malloc = malloc; g_realloc = realloc; g_free = free;
        return BK_OK;
    }
    if (!m || !r || !f)
        return BK_EINVAL;
    g_malloc = m; g_realloc = r; g_free = f;
    return BK_OK;
}

void *bk__malloc(size_t n) { return g_malloc(n ? n : 1); }
void *bk__realloc(void *p, size_t n) { return g_realloc(p, n ? n : 1); }
void bk__free(void *p) { if (p) g_free(p); }
void *bk_malloc(size_t n) { return bk__malloc(n); }
void bk_free(void *p) { bk__free(p); }

void *bk__calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = bk__malloc(n * size);
    if (p)
        memset(p, 0, (n * size) != 0 ? n * size : 1);
    return p;
}

char *bk__strndup(const char *s, size_t n)
{
    char *p = bk__malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *bk__strdup(const char *s)
{
    return s ? bk__strndup(s, strlen(s)) : NULL;
}

bk_status bk__buf_reserve(bk_buf *buf, size_t extra)
{
    if (buf->len + extra + 1 <= buf->cap && buf->ptr)
        return BK_OK;
    if (extra > SIZE_MAX / 2 - buf->len)
        return BK_ENOMEM;
    size_t need = buf->len + extra + 1;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = bk__realloc(buf->ptr, cap);
    if (!p)
        return BK_ENOMEM;
    buf->ptr = p;
    buf->cap = cap;
    return BK_OK;
}

bk_status bk__buf_append(bk_buf *buf, const void *data, size_t n)
{
    if (bk__buf_reserve(buf, n) != BK_OK)
        return BK_ENOMEM;
    memcpy(buf->ptr + buf->len, data, n);
    buf->len += n;
    buf->ptr[buf->len] = '\0';
    return BK_OK;
}

void bk_buf_reset(bk_buf *buf)
{
    if (!buf)
        return;
    buf->len = 0;
    if (buf->ptr)
        buf->ptr[0] = '\0';
}

void bk_buf_dispose(bk_buf *buf)
{
    if (!buf)
        return;
    bk__free(buf->ptr);
    buf->ptr = NULL;
    buf->len = buf->cap = 0;
}

bk_status bk_buf_detach(char **out, bk_buf *buf)
{
    if (!out || !buf)
        return BK_EINVAL;
    *out = NULL;
    if (!buf->ptr) {
        char *p = bk__malloc(1);
        if (!p)
            return BK_ENOMEM;
        p[0] = '\0';
        *out = p;
        return BK_OK;
    }
    *out = buf->ptr;
    buf->ptr = NULL;
    buf->len = buf->cap = 0;
    return BK_OK;
}
