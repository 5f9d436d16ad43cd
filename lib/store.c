/*
 * store.c - the generic store: URI dispatch and the driver registry, the
 * connection pool, the per-connection statement cache, tables (columns and
 * CRUD SQL generated from a model), binding and decoding of values, CRUD,
 * transactions and savepoints, queries and cursors.
 *
 * Engines are reached only through bk_store_driver (backend/sys/store.h).
 * SQL is generated with `?` placeholders and rewritten for drivers with
 * numbered parameters. Values are always bound; identifiers come from the
 * model (validated and quoted).
 *
 * Locking: a pooled connection is taken by a compare-and-swap on its
 * state (conns[].state/owner/users are atomics; in_tx belongs to the
 * holder); root->mu serialises re-entrant checkouts and waiting, with
 * root->cv signalled when a connection is returned to a waiter (see
 * bk__conn_for). The list
 * of registered tables is append-only and published with an atomic store,
 * so lookups take no lock; registrations serialise on root->reg_mu. A
 * connection is used by one thread at a time: a transaction's by its
 * thread, a pooled one by the thread that checked it out (which may check
 * it out again, re-entrantly, while a cursor holds it).
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "store_internal.h"
#include "store_text.h"

/* ---- SQL text helpers --------------------------------------------------------- */

/* The statement cache's key hash: 8 bytes a step (multiply and rotate),
 * then the tail; statements are a few hundred bytes of SQL. */
uint64_t bk__sql_hash(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

bool bk__ident_ok(const char *s)
{
    if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    size_t n = 1;
    for (const char *p = s + 1; *p; p++, n++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                *p == '_'))
            return false;
    return n <= BK__IDENT_MAX;
}

void bk__sb_putn(bk__sb *s, const char *t, size_t n)
{
    if (!s->oom && bk__buf_append(&s->b, t, n) != BK_OK)
        s->oom = true;
}

void bk__sb_put(bk__sb *s, const char *t) { bk__sb_putn(s, t, strlen(t)); }

void bk__sb_ident(bk__sb *s, const char *name)
{
    bk__sb_putn(s, "\"", 1);
    const char *from = name;
    for (const char *p = name; *p; p++)
        if (*p == '"') {
            bk__sb_putn(s, from, (size_t)(p + 1 - from));
            bk__sb_putn(s, "\"", 1);
            from = p + 1;
        }
    bk__sb_put(s, from);
    bk__sb_putn(s, "\"", 1);
}

void bk__sb_literal(bk__sb *s, const char *t, size_t n)
{
    bk__sb_putn(s, "'", 1);
    size_t from = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] == '\'') {
            bk__sb_putn(s, t + from, i + 1 - from);
            bk__sb_putn(s, "'", 1);
            from = i + 1;
        }
    bk__sb_putn(s, t + from, n - from);
    bk__sb_putn(s, "'", 1);
}

void bk__sb_fmt(bk__sb *s, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        s->oom = true;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        bk__sb_putn(s, small, (size_t)n);
        return;
    }
    if (s->oom || bk__buf_reserve(&s->b, (size_t)n) != BK_OK) {
        s->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(s->b.ptr + s->b.len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->b.len += (size_t)n;
}

void bk__sb_dispose(bk__sb *s)
{
    bk_buf_dispose(&s->b);
    s->oom = false;
}

bk_status bk__sql_finish(bk__sql *out, const bk_store_driver *drv, bk__sb *s)
{
    memset(out, 0, sizeof(*out));
    if (!s->oom && !s->b.ptr)
        bk__sb_put(s, "");
    if (!s->oom && drv->numbered_params) {
        /* ? -> $n outside quoted identifiers and literals */
        bk__sb n = { BK_BUF_INIT, false };
        int k = 0;
        char q = 0;
        for (size_t i = 0; i < s->b.len; i++) {
            char ch = s->b.ptr[i];
            if (q) {
                if (ch == q)
                    q = 0;
                bk__sb_putn(&n, &ch, 1);
            } else if (ch == '"' || ch == '\'') {
                q = ch;
                bk__sb_putn(&n, &ch, 1);
            } else if (ch == '?') {
                bk__sb_fmt(&n, "$%d", ++k);
            } else {
                bk__sb_putn(&n, &ch, 1);
            }
        }
        bk__sb_dispose(s);
        *s = n;
    }
    if (s->oom) {
        bk__sb_dispose(s);
        return BK_ENOMEM;
    }
    out->text = s->b.ptr;
    out->len = s->b.len;
    out->hash = bk__sql_hash(out->text, out->len);
    s->b.ptr = NULL;
    s->b.len = s->b.cap = 0;
    return BK_OK;
}

static void sql_dispose(bk__sql *s)
{
    bk__free(s->text);
    memset(s, 0, sizeof(*s));
}

/* ---- drivers ------------------------------------------------------------------ */

#define MAX_DRIVERS 16
static pthread_mutex_t g_drv_mu = PTHREAD_MUTEX_INITIALIZER;
static const bk_store_driver *g_drivers[MAX_DRIVERS] = {
    &bk__sqlite_driver, &bk__pg_driver, &bk__pg_driver_alias
};
static size_t g_ndrivers = 3;

static bool driver_complete(const bk_store_driver *d)
{
    return d->scheme && d->column_type && d->open && d->close && d->exec && d->prepare &&
        d->bind_null && d->bind_i64 && d->bind_f64 && d->bind_text && d->bind_blob && d->step &&
        d->column_count && d->column_type_of && d->column_i64 && d->column_f64 &&
        d->column_text && d->column_blob && d->reset && d->finalize && d->changes &&
        d->table_info && d->begin_exclusive && d->begin && d->find_function;
}

/* Version-1 drivers end at `row`, version 2 at `bind_row`: they are
 * registered as a copy with the later members NULL (the core reads every
 * member). */
static bk_store_driver g_v1_copies[MAX_DRIVERS];

bk_status bk_store_register_driver(const bk_store_driver *driver, bk_error **err)
{
    if (!driver)
        return bk__error_set(err, BK_EINVAL, "bk_store_register_driver: NULL driver");
    if (driver->version < 1 || driver->version > BK_STORE_DRIVER_VERSION)
        return bk__error_set(err, BK_EINVAL, "bk_store_register_driver: driver version %u, "
            "this library speaks 1 to %u", driver->version, (unsigned)BK_STORE_DRIVER_VERSION);
    if (!driver_complete(driver))
        return bk__error_set(err, BK_EINVAL,
            "bk_store_register_driver: the driver lacks a scheme or a function");
    bk_status st = BK_OK;
    pthread_mutex_lock(&g_drv_mu);
    for (size_t i = 0; i < g_ndrivers; i++)
        if (strcmp(g_drivers[i]->scheme, driver->scheme) == 0)
            st = bk__error_set(err, BK_EINVAL, "bk_store_register_driver: scheme \"%s\" is "
                "taken", driver->scheme);
    if (st == BK_OK && g_ndrivers == MAX_DRIVERS)
        st = bk__error_oom(err);
    if (st == BK_OK && driver->version < BK_STORE_DRIVER_VERSION) {
        bk_store_driver *copy = &g_v1_copies[g_ndrivers];
        memset(copy, 0, sizeof(*copy));
        memcpy(copy, driver, driver->version == 1 ? offsetof(bk_store_driver, bind_row)
                                                  : offsetof(bk_store_driver, key_taken));
        driver = copy;
    }
    if (st == BK_OK)
        g_drivers[g_ndrivers++] = driver;
    pthread_mutex_unlock(&g_drv_mu);
    return st;
}

static const bk_store_driver *driver_for(const char *scheme, size_t n)
{
    const bk_store_driver *d = NULL;
    pthread_mutex_lock(&g_drv_mu);
    for (size_t i = 0; i < g_ndrivers && !d; i++)
        if (strlen(g_drivers[i]->scheme) == n && memcmp(g_drivers[i]->scheme, scheme, n) == 0)
            d = g_drivers[i];
    pthread_mutex_unlock(&g_drv_mu);
    return d;
}

/* ---- statement cache ------------------------------------------------------------ */

static void lru_unlink(bk__conn *c, bk__stmt *e)
{
    if (e->prev) e->prev->next = e->next; else c->lru_first = e->next;
    if (e->next) e->next->prev = e->prev; else c->lru_last = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(bk__conn *c, bk__stmt *e)
{
    e->prev = NULL;
    e->next = c->lru_first;
    if (c->lru_first) c->lru_first->prev = e; else c->lru_last = e;
    c->lru_first = e;
}

static void stmt_free(bk__conn *c, bk__stmt *e)
{
    if (e->s)
        c->drv->finalize(e->s);
    bk__free(e->sql);
    bk__free(e);
}

/* Drop the least recently used idle statement; false if all are busy. */
static bool cache_evict(bk__conn *c)
{
    bk__stmt *e = c->lru_last;
    while (e && e->busy)
        e = e->prev;
    if (!e)
        return false;
    lru_unlink(c, e);
    if (e->slot)
        c->slots[e->slot] = NULL;
    bk__stmt **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    c->ncached--;
    stmt_free(c, e);
    return true;
}

/* Make c->slots[slot] refer to the cached statement e (when the text has
 * a slot and e none yet). Best effort: without memory for the slot array
 * the statement is still found by its text. */
static void slot_set(bk__conn *c, bk__stmt *e, uint32_t slot)
{
    if (!slot || e->slot)
        return;
    if (slot >= c->nslots) {
        uint32_t n = (slot + 16) & ~(uint32_t)15;
        bk__stmt **grown = bk__realloc(c->slots, n * sizeof(*grown));
        if (!grown)
            return;
        memset(grown + c->nslots, 0, (n - c->nslots) * sizeof(*grown));
        c->slots = grown;
        c->nslots = n;
    }
    if (c->slots[slot])
        return;
    c->slots[slot] = e;
    e->slot = slot;
}

/* Hand out the cached, idle statement e (most recently used now). */
static inline void cache_take(bk__conn *c, bk__stmt *e)
{
    if (c->lru_first != e) {
        lru_unlink(c, e);
        lru_push_front(c, e);
    }
    e->busy = true;
}

/*
 * A statement for sql on connection c: the cached one when idle (a hit
 * costs an array index for the fixed texts of registered tables, a hash
 * probe and a compare of the text otherwise), a newly prepared one
 * otherwise, cached when there is room (evicting the least recently used
 * idle one). A cached statement that is busy (a cursor holds it) is never
 * shared: a fresh, uncached statement is prepared instead.
 */
bk_status bk__stmt_get(bk__stmt **out, bk__conn *c, const bk__sql *sql, bk_error **err)
{
    bk_status st;
    bool cache = c->cap > 0;
    if (cache && sql->slot && sql->slot < c->nslots) {
        bk__stmt *e = c->slots[sql->slot];
        if (e && !e->busy) {
            cache_take(c, e);
            *out = e;
            return BK_OK;
        }
        if (e)
            cache = false;
    }
    if (cache) {
        for (bk__stmt *e = c->buckets[sql->hash & (c->nbuckets - 1)]; e; e = e->hnext)
            if (e->hash == sql->hash && e->len == sql->len &&
                    memcmp(e->sql, sql->text, sql->len) == 0) {
                if (e->busy) {
                    cache = false;
                    break;
                }
                cache_take(c, e);
                slot_set(c, e, sql->slot);
                *out = e;
                return BK_OK;
            }
    }
    bk__stmt *e = bk__calloc(1, sizeof(*e));
    if (!e)
        return bk__error_oom(err);
    if ((st = c->drv->prepare(&e->s, c->c, sql->text, err)) != BK_OK) {
        bk__free(e);
        return st;
    }
    e->busy = true;
    if (cache && (c->ncached < c->cap || cache_evict(c)) &&
            (e->sql = bk__malloc(sql->len + 1)) != NULL) {
        memcpy(e->sql, sql->text, sql->len + 1);
        e->len = sql->len;
        e->hash = sql->hash;
        e->cached = true;
        bk__stmt **b = &c->buckets[e->hash & (c->nbuckets - 1)];
        e->hnext = *b;
        *b = e;
        lru_push_front(c, e);
        c->ncached++;
        slot_set(c, e, sql->slot);
    }
    *out = e;
    return BK_OK;
}

/* Give back a statement already reset (bk__stmt_put without the reset). */
static inline void stmt_give_back(bk__conn *c, bk__stmt *e)
{
    e->busy = false;
    if (!e->cached)
        stmt_free(c, e);
}

void bk__stmt_put(bk__conn *c, bk__stmt *e)
{
    if (!e)
        return;
    c->drv->reset(e->s);
    stmt_give_back(c, e);
}

/* ---- connections and the pool ---------------------------------------------------- */

static bk_status conn_open(bk__conn *c, bk_store *root, bk_error **err)
{
    atomic_init(&c->state, 0);
    atomic_init(&c->owner, 0);
    atomic_init(&c->users, 0);
    c->drv = root->drv;
    c->cap = root->opts.statement_cache;
    if (c->cap) {
        size_t nb = 16;
        while (nb < c->cap * 2 && nb < ((size_t)1 << 20))
            nb *= 2;
        if (!(c->buckets = bk__calloc(nb, sizeof(*c->buckets))))
            return bk__error_oom(err);
        c->nbuckets = nb;
    }
    return root->drv->open(&c->c, root->uri_rest, &root->opts, err);
}

static void conn_close(bk__conn *c)
{
    bk__stmt *e = c->lru_first;
    while (e) {
        bk__stmt *n = e->next;
        stmt_free(c, e);
        e = n;
    }
    bk__free(c->buckets);
    bk__free(c->slots);
    for (size_t i = 0; i < c->nscratch; i++)
        bk_buf_dispose(&c->scratch[i]);
    bk__free(c->scratch);
    if (c->c)
        c->drv->close(c->c);
    memset(c, 0, sizeof(*c));
}

/* Scratch buffer number `slot` of c, emptied (NULL on OOM). */
bk_buf *bk__store_scratch_grow(bk__conn *c, size_t slot)
{
    if (slot >= c->nscratch) {
        size_t n = slot + 8;
        bk_buf *s = bk__realloc(c->scratch, n * sizeof(*s));
        if (!s)
            return NULL;
        memset(s + c->nscratch, 0, (n - c->nscratch) * sizeof(*s));
        c->scratch = s;
        c->nscratch = n;
    }
    c->scratch[slot].len = 0;
    return &c->scratch[slot];
}

static bool store_live(const bk_store *s)
{
    return s && ((s->magic == BK__MAGIC_STORE && !atomic_load(&s->closed)) ||
        s->magic == BK__MAGIC_TX);
}

bk_status bk__store_check(bk_store *s, const char *fn, bk_error **err)
{
    if (!s)
        return bk__error_set(err, BK_EINVAL, "%s: NULL store", fn);
    if (!store_live(s))
        return bk__error_set(err, BK_EMISUSE, "%s: not an open store or transaction", fn);
    if (s->magic == BK__MAGIC_TX && !pthread_equal(s->thread, pthread_self()))
        return bk__error_set(err, BK_EMISUSE,
            "%s: a transaction belongs to the thread that began it", fn);
    return BK_OK;
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* The calling thread's identity for the pool (the address of a
 * thread-local: unique among live threads, and an atomic word), and how
 * many pooled connections it holds, of any store. */
static _Thread_local char t_self;
static _Thread_local long t_held;
#define SELF_ID ((uintptr_t)(void *)&t_self)

/* Claim connection c if it is free (lock-free; the claimer owns it). */
static inline bool conn_claim(bk__conn *c, bool exclusive)
{
    int free_ = 0;
    if (atomic_load_explicit(&c->state, memory_order_relaxed) != 0 ||
            !atomic_compare_exchange_strong_explicit(&c->state, &free_, 1,
                memory_order_seq_cst, memory_order_relaxed))
        return false;
    c->in_tx = exclusive;
    atomic_store_explicit(&c->users, 1, memory_order_relaxed);
    atomic_store_explicit(&c->owner, SELF_ID, memory_order_relaxed);
    t_held++;
    return true;
}

/*
 * Check a connection out of the pool. A thread that already holds a
 * pooled connection outside a transaction (an open cursor) gets that one
 * again, so a cursor never deadlocks its own thread. Otherwise the first
 * free connection; when none is free, wait up to busy_timeout_ms
 * (BK_EBUSY). When every connection is held by the calling thread, waiting
 * could never end: BK_EMISUSE at once.
 *
 * A thread holding no pooled connection takes a free one without the
 * pool's mutex (a compare-and-swap on its state). The mutex serialises the
 * rest: re-entrant checkouts, and waiting. A waiter announces itself
 * (waiters, sequentially consistent) before its last look at the states,
 * and a releaser frees the state before it looks at waiters, so either the
 * waiter sees the free connection or the releaser sees the waiter and
 * signals (under the mutex, which the waiter holds until it waits).
 */
bk_status bk__conn_for(bk__conn **out, bool *release, bk_store *s, bool exclusive,
    bk_error **err)
{
    if (s->magic == BK__MAGIC_TX) {
        *out = s->conn;
        *release = false;
        return BK_OK;
    }
    bk_store *root = s;
    if (t_held == 0) {
        for (size_t i = 0; i < root->nconns; i++)
            if (conn_claim(&root->conns[i], exclusive)) {
                *out = &root->conns[i];
                *release = true;
                return BK_OK;
            }
    }
    uintptr_t self = SELF_ID;
    struct timespec deadline;
    bool have_deadline = false;
    bk_status st = BK_OK;
    bk__conn *got = NULL;
    pthread_mutex_lock(&root->mu);
    for (;;) {
        bool all_mine = true;
        for (size_t i = 0; i < root->nconns && !got; i++) {
            bk__conn *c = &root->conns[i];
            if (atomic_load(&c->state) == 0 || atomic_load(&c->owner) != self)
                all_mine = false;
            else if (!exclusive && !c->in_tx)
                got = c;
        }
        if (got) {
            atomic_fetch_add(&got->users, 1);
            break;
        }
        for (size_t i = 0; i < root->nconns && !got; i++)
            if (conn_claim(&root->conns[i], exclusive))
                got = &root->conns[i];
        if (got || all_mine)
            break;
        if (!have_deadline) {
            deadline_after(&deadline, root->opts.busy_timeout_ms);
            have_deadline = true;
        }
        atomic_fetch_add(&root->waiters, 1);
        for (size_t i = 0; i < root->nconns && !got; i++)
            if (conn_claim(&root->conns[i], exclusive))
                got = &root->conns[i];
        int w = got ? 0 : pthread_cond_timedwait(&root->cv, &root->mu, &deadline);
        atomic_fetch_sub(&root->waiters, 1);
        if (got)
            break;
        if (w == ETIMEDOUT) {
            st = bk__error_set(err, BK_EBUSY, "no connection of the pool became free within "
                "%d ms", root->opts.busy_timeout_ms);
            break;
        }
    }
    pthread_mutex_unlock(&root->mu);
    if (st == BK_OK && !got)
        st = bk__error_set(err, BK_EMISUSE, "every connection of the store is held by this "
            "thread (an open transaction or cursor): use the transaction handle, or "
            "finish the cursor first");
    *out = got;
    *release = st == BK_OK;
    return st;
}

void bk__conn_release(bk_store *root, bk__conn *c)
{
    if (atomic_fetch_sub_explicit(&c->users, 1, memory_order_acq_rel) > 1)
        return;                             /* still held (re-entrant checkout) */
    if (atomic_load_explicit(&c->owner, memory_order_relaxed) == SELF_ID)
        t_held--;
    c->in_tx = false;
    atomic_store_explicit(&c->owner, 0, memory_order_relaxed);
    atomic_store_explicit(&c->state, 0, memory_order_seq_cst);
    if (atomic_load_explicit(&root->waiters, memory_order_seq_cst) > 0) {
        pthread_mutex_lock(&root->mu);
        pthread_cond_broadcast(&root->cv);
        pthread_mutex_unlock(&root->mu);
    }
}

/* ---- open and close -------------------------------------------------------------- */

bk_status bk_store_options_init(bk_store_options *opts)
{
    if (!opts)
        return BK_EINVAL;
    bk_store_options d = BK_STORE_OPTIONS_INIT;
    *opts = d;
    return BK_OK;
}

static void store_free(bk_store *root)
{
    for (size_t i = 0; i < root->nconns; i++)
        conn_close(&root->conns[i]);
    bk__free(root->conns);
    bk__table *t = atomic_load(&root->tables);
    while (t) {
        bk__table *n = t->next;
        bk__table_free(t);
        t = n;
    }
    pthread_mutex_destroy(&root->mu);
    pthread_mutex_destroy(&root->reg_mu);
    pthread_cond_destroy(&root->cv);
    bk__free(root->uri_rest);
    root->magic = 0;
    bk__free(root);
}

void bk__store_unref(bk_store *root)
{
    if (atomic_fetch_sub(&root->refs, 1) == 1)
        store_free(root);
}

/*
 * Open: parse "<scheme>:<rest>", find the driver, open the pool's
 * connections (all of them now, so a bad path fails here, not later).
 */
bk_status bk_store_open(bk_store **out, const char *uri, const bk_store_options *opts,
    bk_error **err)
{
    if (!out)
        return bk__error_set(err, BK_EINVAL, "bk_store_open: NULL out");
    *out = NULL;
    if (!uri)
        return bk__error_set(err, BK_EINVAL, "bk_store_open: NULL uri");
    bk_store_options o = BK_STORE_OPTIONS_INIT;
    if (opts) {
        if (opts->version == 0 || opts->version > BK_STORE_OPTIONS_VERSION)
            return bk__error_set(err, BK_EINVAL, "bk_store_open: options version %u unknown",
                opts->version);
        o = *opts;
        o.version = BK_STORE_OPTIONS_VERSION;
        if (o.pool_size == 0 || o.pool_size > 1024 || o.busy_timeout_ms < 0 ||
                o.statement_cache > ((size_t)1 << 16))
            return bk__error_set(err, BK_EINVAL, "bk_store_open: pool_size must be 1..1024, "
                "busy_timeout_ms >= 0, statement_cache <= 65536");
    }
    const char *colon = strchr(uri, ':');
    size_t slen = colon ? (size_t)(colon - uri) : 0;
    bool scheme_ok = slen > 0 && ((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z'));
    for (size_t i = 1; scheme_ok && i < slen; i++) {
        char ch = uri[i];
        scheme_ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.';
    }
    if (!scheme_ok || colon[1] == '\0')
        return bk__error_set(err, BK_EINVAL, "bk_store_open: \"%.200s\" is not a store URI "
            "(scheme:rest, such as sqlite:app.db)", uri);
    const bk_store_driver *drv = driver_for(uri, slen);
    if (!drv && slen == 10 && strncmp(uri, "postgresql", 10) == 0)
        drv = driver_for("postgres", 8);
    if (!drv)
        return bk__error_set(err, BK_EUNSUPPORTED, "bk_store_open: no storage adapter for "
            "scheme \"%.*s\"", (int)(slen > 64 ? 64 : slen), uri);

    bk_store *s = bk__calloc(1, sizeof(*s));
    if (!s)
        return bk__error_oom(err);
    s->magic = BK__MAGIC_STORE;
    s->root = s;
    s->drv = drv;
    s->opts = o;
    atomic_init(&s->refs, 1);
    atomic_init(&s->closed, false);
    atomic_init(&s->tables, NULL);
    atomic_init(&s->waiters, 0);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->reg_mu, NULL);
    bk_status st = BK_OK;
    if (!(s->uri_rest = bk__strdup(colon + 1)))
        st = bk__error_oom(err);
    size_t n = drv->single_connection && s->uri_rest && drv->single_connection(s->uri_rest)
        ? 1 : o.pool_size;
    if (st == BK_OK && !(s->conns = bk__calloc(n, sizeof(*s->conns))))
        st = bk__error_oom(err);
    for (size_t i = 0; st == BK_OK && i < n; i++) {
        st = conn_open(&s->conns[i], s, err);
        s->nconns = i + 1;
    }
    if (st != BK_OK) {
        store_free(s);
        return st;
    }
    *out = s;
    return BK_OK;
}

void bk_store_close(bk_store *store)
{
    if (!store)
        return;
    if (store->magic == BK__MAGIC_TX) {
        bk_store_rollback(store, NULL);
        return;
    }
    if (store->magic != BK__MAGIC_STORE || atomic_exchange(&store->closed, true))
        return;
    bk__store_unref(store);
}

/* One key of an ordering: a column, descending or not. */
typedef struct okey {
    size_t col;
    bool desc;
} okey;

static uint64_t hash_add(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

/* 16 hex digits binding a token to the table and its ordering. */
static void order_hash_calc(char out[17], const bk__table *t, const okey *k, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t h = hash_add(0xcbf29ce484222325ull, t->name, strlen(t->name));
    for (size_t i = 0; i < n; i++) {
        const char *name = t->cols[k[i].col].name;
        h = hash_add(h, "", 1);
        h = hash_add(h, name, strlen(name));
        h = hash_add(h, k[i].desc ? "-" : "+", 1);
    }
    for (int i = 15; i >= 0; i--, h >>= 4)
        out[i] = hex[h & 15];
    out[16] = '\0';
}

/* ---- tables ------------------------------------------------------------------------- */

static bool kind_int(bk_kind k)
{
    switch (k) {
    case BK_I8: case BK_I16: case BK_I32: case BK_I64:
    case BK_U8: case BK_U16: case BK_U32: case BK_U64:
        return true;
    default:
        return false;
    }
}

static bool kind_json(bk_kind k)
{
    switch (k) {
    case BK_LIST: case BK_MAP: case BK_MODEL: case BK_MODEL_PTR: case BK_UNION: case BK_JSON:
        return true;
    default:
        return false;
    }
}

static bk_sql_type kind_sql(bk_kind k)
{
    switch (k) {
    case BK_BOOL: case BK_TIMESTAMP: case BK_DATE:
        return BK_SQL_INTEGER;
    case BK_F32: case BK_F64:
        return BK_SQL_REAL;
    case BK_BYTES:
        return BK_SQL_BLOB;
    default:
        return kind_int(k) ? BK_SQL_INTEGER : BK_SQL_TEXT;
    }
}

static bk__colop kind_op(const bk__type *t)
{
    switch (t->kind) {
    case BK_BOOL: return BK__COP_BOOL;
    case BK_I8: return BK__COP_I8;
    case BK_I16: return BK__COP_I16;
    case BK_I32: case BK_DATE: return BK__COP_I32;
    case BK_I64: case BK_TIMESTAMP: return BK__COP_I64;
    case BK_U8: return BK__COP_U8;
    case BK_U16: return BK__COP_U16;
    case BK_U32: return BK__COP_U32;
    case BK_U64: return BK__COP_U64;
    case BK_F32: return BK__COP_F32;
    case BK_F64: return BK__COP_F64;
    case BK_STR: return BK__COP_STR;
    case BK_BYTES: return BK__COP_BYTES;
    case BK_UUID: return BK__COP_UUID;
    case BK_ENUM: return BK__COP_ENUM;
    case BK_LIST: return t->elem->kind == BK_STR ? BK__COP_STRS : BK__COP_JSON;
    default: return BK__COP_JSON;
    }
}

typedef struct colvec {
    bk__col *v;
    size_t n, cap;
} colvec;

/* Append the stored columns of model m (at base within the outer struct):
 * its non-skipped fields, and the fields of flattened models in place. */
static bk_status collect(colvec *cv, const bk_store_driver *drv, const bk_model *m, size_t base,
    size_t top, bool at_top, int depth, bk_error **err)
{
    if (depth > 32)
        return bk__model_error(err, "model", m->name, NULL, NULL,
            "flattened models nest too deeply to be stored");
    for (size_t i = 0; i < m->nfields; i++) {
        const bk__field *f = &m->fields[i];
        if (f->skip)
            continue;
        size_t t = at_top ? i : top;
        if (f->flatten && f->type->kind == BK_MODEL) {
            if (f->optional)
                return bk__model_error(err, "model", m->name, "field", f->name,
                    "an optional flattened model cannot be stored");
            bk_status st = collect(cv, drv, f->type->model, base + f->offset, t, false,
                depth + 1, err);
            if (st != BK_OK)
                return st;
            continue;
        }
        if (cv->n == cv->cap) {
            size_t nc = cv->cap ? cv->cap * 2 : 16;
            bk__col *nv = bk__realloc(cv->v, nc * sizeof(*nv));
            if (!nv)
                return bk__error_oom(err);
            cv->v = nv;
            cv->cap = nc;
        }
        bk__col *c = &cv->v[cv->n++];
        memset(c, 0, sizeof(*c));
        c->name = f->name;
        c->json_name = f->json_name;
        c->f = f;
        c->t = f->type;
        c->offset = base + f->offset;
        c->optional = f->optional;
        c->presence_offset = f->optional ? base + f->presence_offset : 0;
        c->top = t;
        c->pk = f->primary_key;
        c->auto_id = f->auto_id;
        c->unique = f->unique;
        c->index = f->index;
        c->version = f->row_version;
        c->json = kind_json(f->type->kind);
        c->sql = kind_sql(f->type->kind);
        c->op = kind_op(f->type);
        c->nullable = f->optional || f->type->kind == BK_MODEL_PTR;
        c->decl = drv->column_type(f->type->kind);
        if (!bk__ident_ok(c->name))
            return bk__model_error(err, "model", m->name, "field", f->name,
                "the name is not a storable column name ([A-Za-z_][A-Za-z0-9_]*, at most %d)",
                BK__IDENT_MAX);
    }
    return BK_OK;
}

static bool ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

void bk__table_free(bk__table *t)
{
    if (!t)
        return;
    bk__free(t->cols);
    bk__free(t->want);
    bk__free(t->all_order);
    bk__free(t->all_prog);
    bk__free(t->name);
    bk__free(t->select_list);
    bk__free(t->select_from);
    sql_dispose(&t->ins);
    sql_dispose(&t->ins_auto);
    sql_dispose(&t->get);
    sql_dispose(&t->upd);
    sql_dispose(&t->del);
    sql_dispose(&t->ups);
    sql_dispose(&t->exists);
    for (size_t i = 0; i < 4; i++) {
        bk__sql *q = atomic_load(&t->page_sql[i]);
        if (q) {
            sql_dispose(q);
            bk__free(q);
        }
    }
    bk__free(atomic_load(&t->spare_query));
    bk__free(atomic_load(&t->spare_cursor));
    bk_model_unref(t->model);
    bk__free(t);
}

/* The CRUD texts of t (columns known). */
static bk_status table_sql(bk__table *t, const bk_store_driver *drv)
{
    bk__sb s = { BK_BUF_INIT, false };
    const bk__col *pk = &t->cols[t->pk];
    const bk__col *ver = t->version >= 0 ? &t->cols[t->version] : NULL;
    bk_status st = BK_OK;

    for (size_t i = 0; i < t->ncols; i++) {
        if (i)
            bk__sb_put(&s, ",");
        bk__sb_ident(&s, t->cols[i].name);
    }
    if (s.oom) {
        bk__sb_dispose(&s);
        return BK_ENOMEM;
    }
    t->select_list = s.b.ptr;
    memset(&s, 0, sizeof(s));

    /* INSERT INTO "t" ("a",...) VALUES (?,...) */
    bk__sb_put(&s, "INSERT INTO ");
    bk__sb_ident(&s, t->name);
    bk__sb_fmt(&s, " (%s) VALUES (", t->select_list);
    for (size_t i = 0; i < t->ncols; i++)
        bk__sb_put(&s, i ? ",?" : "?");
    bk__sb_put(&s, ")");
    if ((st = bk__sql_finish(&t->ins, drv, &s)) != BK_OK)
        return st;

    /* ... ON CONFLICT ("pk") DO UPDATE SET "a" = excluded."a", ... */
    {
        bk__sb u = { BK_BUF_INIT, false };
        bk__sb_put(&u, "INSERT INTO ");
        bk__sb_ident(&u, t->name);
        bk__sb_fmt(&u, " (%s) VALUES (", t->select_list);
        for (size_t i = 0; i < t->ncols; i++)
            bk__sb_put(&u, i ? ",?" : "?");
        bk__sb_put(&u, ") ON CONFLICT (");
        bk__sb_ident(&u, pk->name);
        bk__sb_put(&u, ") DO ");
        bool any = false;
        for (size_t i = 0; i < t->ncols; i++) {
            if (i == t->pk)
                continue;
            bk__sb_put(&u, any ? ", " : "UPDATE SET ");
            any = true;
            bk__sb_ident(&u, t->cols[i].name);
            bk__sb_put(&u, " = ");
            if (ver == &t->cols[i]) {
                bk__sb_ident(&u, t->name);
                bk__sb_put(&u, ".");
                bk__sb_ident(&u, ver->name);
                bk__sb_put(&u, " + 1");
            } else {
                bk__sb_put(&u, "excluded.");
                bk__sb_ident(&u, t->cols[i].name);
            }
        }
        if (!any)
            bk__sb_put(&u, "NOTHING");
        if (ver) {
            bk__sb_put(&u, " RETURNING ");
            bk__sb_ident(&u, ver->name);
        }
        if ((st = bk__sql_finish(&t->ups, drv, &u)) != BK_OK)
            return st;
    }

    /* INSERT without the key, RETURNING it (generated integer keys) */
    bk__sb_put(&s, "INSERT INTO ");
    bk__sb_ident(&s, t->name);
    if (t->ncols == 1) {
        bk__sb_put(&s, " DEFAULT VALUES");
    } else {
        bk__sb_put(&s, " (");
        bool first = true;
        for (size_t i = 0; i < t->ncols; i++) {
            if (i == t->pk)
                continue;
            if (!first)
                bk__sb_put(&s, ",");
            first = false;
            bk__sb_ident(&s, t->cols[i].name);
        }
        bk__sb_put(&s, ") VALUES (");
        for (size_t i = 0; i + 1 < t->ncols; i++)
            bk__sb_put(&s, i ? ",?" : "?");
        bk__sb_put(&s, ")");
    }
    bk__sb_put(&s, " RETURNING ");
    bk__sb_ident(&s, pk->name);
    if ((st = bk__sql_finish(&t->ins_auto, drv, &s)) != BK_OK)
        return st;

    /* SELECT ... FROM "t" (queries start with it) */
    bk__sb_put(&s, "SELECT ");
    bk__sb_put(&s, t->select_list);
    bk__sb_put(&s, " FROM ");
    bk__sb_ident(&s, t->name);
    if (s.oom || bk__buf_append(&s.b, "", 0) != BK_OK) {
        bk__sb_dispose(&s);
        return BK_ENOMEM;
    }
    t->select_from = bk__strdup(s.b.ptr);
    if (!t->select_from) {
        bk__sb_dispose(&s);
        return BK_ENOMEM;
    }

    /* SELECT ... WHERE "pk" = ? */
    bk__sb_put(&s, " WHERE ");
    bk__sb_ident(&s, pk->name);
    bk__sb_put(&s, " = ?");
    if ((st = bk__sql_finish(&t->get, drv, &s)) != BK_OK)
        return st;

    /* SELECT 1 ... WHERE "pk" = ? */
    bk__sb_put(&s, "SELECT 1 FROM ");
    bk__sb_ident(&s, t->name);
    bk__sb_put(&s, " WHERE ");
    bk__sb_ident(&s, pk->name);
    bk__sb_put(&s, " = ?");
    if ((st = bk__sql_finish(&t->exists, drv, &s)) != BK_OK)
        return st;

    /* DELETE ... WHERE "pk" = ? */
    bk__sb_put(&s, "DELETE FROM ");
    bk__sb_ident(&s, t->name);
    bk__sb_put(&s, " WHERE ");
    bk__sb_ident(&s, pk->name);
    bk__sb_put(&s, " = ?");
    if ((st = bk__sql_finish(&t->del, drv, &s)) != BK_OK)
        return st;
    return BK_OK;
}

/* UPDATE "t" SET <cols in mask> [, "ver" = "ver" + 1] WHERE "pk" = ? [AND "ver" = ?] */
static bk_status update_sql(bk__sql *out, const bk_store_driver *drv, const bk__table *t,
    const bool *mask)
{
    bk__sb s = { BK_BUF_INIT, false };
    const bk__col *pk = &t->cols[t->pk];
    const bk__col *ver = t->version >= 0 ? &t->cols[t->version] : NULL;
    bk__sb_put(&s, "UPDATE ");
    bk__sb_ident(&s, t->name);
    bk__sb_put(&s, " SET ");
    bool any = false;
    for (size_t i = 0; i < t->ncols; i++) {
        if (i == t->pk || &t->cols[i] == ver || (mask && !mask[i]))
            continue;
        if (any)
            bk__sb_put(&s, ", ");
        any = true;
        bk__sb_ident(&s, t->cols[i].name);
        bk__sb_put(&s, " = ?");
    }
    if (ver) {
        if (any)
            bk__sb_put(&s, ", ");
        any = true;
        bk__sb_ident(&s, ver->name);
        bk__sb_put(&s, " = ");
        bk__sb_ident(&s, ver->name);
        bk__sb_put(&s, " + 1");
    }
    if (!any) {
        bk__sb_ident(&s, pk->name);
        bk__sb_put(&s, " = ");
        bk__sb_ident(&s, pk->name);
    }
    bk__sb_put(&s, " WHERE ");
    bk__sb_ident(&s, pk->name);
    bk__sb_put(&s, " = ?");
    if (ver) {
        bk__sb_put(&s, " AND ");
        bk__sb_ident(&s, ver->name);
        bk__sb_put(&s, " = ?");
    }
    return bk__sql_finish(out, drv, &s);
}

/* Write the bind program of the columns idx[0..n) of t (see bk__bindop)
 * into prog; returns prog. */
static const bk__bindop *bind_prog_make(bk__bindop *prog, const bk__table *t, const size_t *idx,
    size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const bk__col *c = &t->cols[idx[k]];
        bk__bindop *b = &prog[k];
        b->offset = c->offset;
        b->presence_offset = c->optional ? c->presence_offset : 0;
        b->enm = c->op == BK__COP_ENUM ? c->t->enm : NULL;
        b->col = (uint32_t)idx[k];
        b->param = (uint16_t)(k + 1);
        b->op = (uint8_t)(c->op | (c->optional ? BK__BIND_OPT : 0));
    }
    /* steps of one kind together (stable): the bind loops jump to the
     * same case again and again, not to a new one each column */
    for (size_t k = 1; k < n; k++) {
        bk__bindop x = prog[k];
        size_t j = k;
        for (; j > 0 && prog[j - 1].op > x.op; j--)
            prog[j] = prog[j - 1];
        prog[j] = x;
    }
    return prog;
}

/*
 * Describe how model m is stored as table: its columns (skipped fields
 * left out, flattened models' fields in place), the key, the version
 * column, and the CRUD SQL. BK_EINVAL for a bad table name, BK_EMODEL for
 * a model that cannot be stored (no key or several, a key of a kind that
 * cannot be one, auto_id on something else than an integer or uuid key,
 * duplicate column names, a bad version column).
 */
bk_status bk__table_new(bk__table **out, const bk_store_driver *drv, bk_model *m,
    const char *table, bk_error **err)
{
    *out = NULL;
    if (!bk__ident_ok(table))
        return bk__error_set(err, BK_EINVAL, "\"%.80s\" is not a valid table name "
            "([A-Za-z_][A-Za-z0-9_]*, at most %d characters)", table ? table : "(null)",
            BK__IDENT_MAX);
    if (strncmp(table, "sqlite_", 7) == 0)
        return bk__error_set(err, BK_EINVAL, "table names starting with sqlite_ are reserved");
    colvec cv = { NULL, 0, 0 };
    bk_status st = collect(&cv, drv, m, 0, 0, true, 0, err);
    bk__table *t = NULL;
    if (st == BK_OK && !(t = bk__calloc(1, sizeof(*t))))
        st = bk__error_oom(err);
    if (st != BK_OK) {
        bk__free(cv.v);
        return st;
    }
    t->cols = cv.v;
    t->ncols = cv.n;
    t->version = -1;
    if (!(t->want = bk__calloc(t->ncols ? t->ncols : 1, sizeof(*t->want))))
        st = bk__error_oom(err);
    for (size_t i = 0; st == BK_OK && i < t->ncols; i++)
        t->want[i] = t->cols[i].sql;
    t->model = bk_model_ref(m);
    if (!(t->name = bk__strdup(table)))
        st = bk__error_oom(err);
    long pk = -1;
    for (size_t i = 0; st == BK_OK && i < t->ncols; i++) {
        bk__col *c = &t->cols[i];
        for (size_t j = 0; j < i && st == BK_OK; j++)
            if (ieq(t->cols[j].name, c->name))
                st = bk__model_error(err, "model", m->name, "field", c->name,
                    "two stored columns are named alike (flattened models share a name?)");
        if (st != BK_OK)
            break;
        bk_kind k = c->t->kind;
        if (c->pk) {
            if (pk >= 0)
                st = bk__model_error(err, "model", m->name, "field", c->name,
                    "a second primary key (composite keys are not supported)");
            else if (!(kind_int(k) || k == BK_STR || k == BK_UUID || k == BK_TIMESTAMP ||
                         k == BK_DATE))
                st = bk__model_error(err, "model", m->name, "field", c->name,
                    "a primary key must be an integer, str, uuid, timestamp or date");
            else if (c->optional)
                st = bk__model_error(err, "model", m->name, "field", c->name,
                    "a primary key cannot be optional");
            pk = (long)i;
        }
        if (st == BK_OK && c->auto_id) {
            if (!c->pk)
                st = bk__model_error(err, "model", m->name, "field", c->name,
                    "auto_id needs primary_key");
            else if (!(kind_int(k) || k == BK_UUID))
                st = bk__model_error(err, "model", m->name, "field", c->name,
                    "auto_id needs an integer or uuid key");
            else if (kind_int(k) && drv->auto_key_type)
                c->decl = drv->auto_key_type(k);
        }
        if (st == BK_OK && c->version) {
            if (t->version >= 0 || !kind_int(k) || c->pk || c->optional)
                st = bk__model_error(err, "model", m->name, "field", c->name,
                    "the row version must be the only one, a required integer, not the key");
            t->version = (long)i;
        }
    }
    if (st == BK_OK && pk < 0)
        st = bk__model_error(err, "model", m->name, NULL, NULL,
            "no field is marked primary_key: the model cannot be stored");
    if (st == BK_OK) {
        t->pk = (size_t)pk;
        if (table_sql(t, drv) != BK_OK)
            st = bk__error_oom(err);
        if (st == BK_OK && update_sql(&t->upd, drv, t, NULL) != BK_OK)
            st = bk__error_oom(err);
    }
    /* the parameters of ins, ins_auto, and upd: the other columns, then
     * the key [and the version] */
    if (st == BK_OK && !(t->all_order = bk__malloc(3 * t->ncols * sizeof(*t->all_order))))
        st = bk__error_oom(err);
    if (st == BK_OK) {
        t->auto_order = t->all_order + t->ncols;
        t->upd_order = t->auto_order + t->ncols;
        for (size_t i = 0, k = 0; i < t->ncols; i++) {
            t->all_order[i] = i;
            if (i != t->pk)
                t->auto_order[k++] = i;
        }
        for (size_t i = 0; i < t->ncols; i++)
            if (i != t->pk && (long)i != t->version)
                t->upd_order[t->nupd++] = i;
        t->upd_order[t->nupd++] = t->pk;
        if (t->version >= 0)
            t->upd_order[t->nupd++] = (size_t)t->version;
        if (!(t->all_prog = bk__malloc(3 * t->ncols * sizeof(*t->all_prog))))
            st = bk__error_oom(err);
    }
    if (st == BK_OK) {
        t->auto_prog = t->all_prog + t->ncols;
        t->upd_prog = t->auto_prog + t->ncols;
        bind_prog_make(t->all_prog, t, t->all_order, t->ncols);
        bind_prog_make(t->auto_prog, t, t->auto_order, t->ncols - 1);
        bind_prog_make(t->upd_prog, t, t->upd_order, t->nupd);
        okey k = { t->pk, false };
        order_hash_calc(t->key_hash[0], t, &k, 1);
        k.desc = true;
        order_hash_calc(t->key_hash[1], t, &k, 1);
    }
    if (st != BK_OK) {
        bk__table_free(t);
        return st;
    }
    *out = t;
    return BK_OK;
}

bk__table *bk__store_table(bk_store *root, const bk_model *m)
{
    for (bk__table *t = atomic_load_explicit(&root->tables, memory_order_acquire); t; t = t->next)
        if (t->model == m)
            return t;
    return NULL;
}

/*
 * Register: build the table description, then (serialised with other
 * registrations of this store) create the table or compare it, and
 * publish it. Registering a model again under the same table is a no-op.
 */
bk_status bk_store_register(bk_store *store, bk_model *model, const char *table, bk_error **err)
{
    bk_status st = bk__store_check(store, "bk_store_register", err);
    if (st != BK_OK)
        return st;
    if (store->magic == BK__MAGIC_TX)
        return bk__error_set(err, BK_EMISUSE,
            "bk_store_register: register models on the store, not on a transaction");
    if (!bk__model_ok(model))
        return bk__error_set(err, model ? BK_EMISUSE : BK_EINVAL,
            "bk_store_register: not a model handle");
    bk__table *t = NULL;
    if ((st = bk__table_new(&t, store->drv, model, table, err)) != BK_OK)
        return st;
    pthread_mutex_lock(&store->reg_mu);
    bk__table *old = bk__store_table(store, model);
    if (old) {
        if (strcmp(old->name, table) != 0)
            st = bk__error_set(err, BK_EINVAL, "bk_store_register: model %s is registered "
                "as table %s already", model->name, old->name);
        pthread_mutex_unlock(&store->reg_mu);
        bk__table_free(t);
        return st;
    }
    bk__conn *c = NULL;
    bool rel = false;
    st = bk__conn_for(&c, &rel, store, true, err);
    if (st == BK_OK)
        st = bk__schema_ensure(c, t, err);
    if (rel)
        bk__conn_release(store, c);
    if (st == BK_OK && store->next_slot <= UINT32_MAX / 2) {
        /* statement slots for its fixed texts (the page shapes take theirs
         * when they are made) */
        t->slot_base = store->next_slot + 1;
        store->next_slot += BK__TABLE_SLOTS;
        t->ins.slot = t->slot_base + BK__SLOT_INS;
        t->ins_auto.slot = t->slot_base + BK__SLOT_INS_AUTO;
        t->get.slot = t->slot_base + BK__SLOT_GET;
        t->upd.slot = t->slot_base + BK__SLOT_UPD;
        t->del.slot = t->slot_base + BK__SLOT_DEL;
        t->ups.slot = t->slot_base + BK__SLOT_UPS;
        t->exists.slot = t->slot_base + BK__SLOT_EXISTS;
    }
    if (st == BK_OK) {
        t->next = atomic_load_explicit(&store->tables, memory_order_relaxed);
        atomic_store_explicit(&store->tables, t, memory_order_release);
        t = NULL;
    }
    pthread_mutex_unlock(&store->reg_mu);
    bk__table_free(t);
    return st;
}

/* ---- values: binding ------------------------------------------------------------------ */

/* A value of column c that cannot be stored. */
static bk_status value_error(bk_error **err, const bk__table *t, const bk__col *c,
    const char *code, const char *what)
{
    char path[200];
    snprintf(path, sizeof(path), "$.%s", c->json_name);
    return bk__error_problem(err, BK_EVALIDATION, path, code, "%s.%s: %s", t->name, c->name,
        what);
}


/*
 * The value to bind for the C value at p of column c, the kinds the hot
 * path does not handle (or a value it refuses): u64 above 2^63-1 and
 * non-finite floats are BK_EVALIDATION, uuids and JSON are encoded into
 * the connection's scratch buffer `slot` (unchanged until the statement is
 * reset), an enum index out of range is BK_EVALIDATION. BK_ENOMEM.
 */
static BK__COLD bk_status value_slow(bk_store_value *o, bk__conn *cn, const bk__table *t,
    const bk__col *c, const void *p, size_t slot, bk_error **err)
{
    switch (c->t->kind) {
    case BK_U64: {
        uint64_t v = *(const uint64_t *)p;
        if (v > (uint64_t)INT64_MAX)
            return value_error(err, t, c, "out_of_range",
                "u64 values above 2^63-1 cannot be stored");
        o->type = BK_SQL_INTEGER;
        o->i = (int64_t)v;
        return BK_OK;
    }
    case BK_F32: case BK_F64: {
        double v = c->t->kind == BK_F32 ? (double)*(const float *)p : *(const double *)p;
        if (v != v || v - v != 0)
            return value_error(err, t, c, "invalid_value", "not a finite number");
        o->type = BK_SQL_REAL;
        o->f = v;
        return BK_OK;
    }
    case BK_UUID: {
        bk_buf *b = bk__store_scratch(cn, slot);
        if (!b || bk__buf_reserve(b, 37) != BK_OK)
            return bk__error_oom(err);
        bk__uuid_format(b->ptr, ((const bk_uuid *)p)->bytes);
        b->len = 36;
        o->type = BK_SQL_TEXT;
        o->p = b->ptr;
        o->n = 36;
        return BK_OK;
    }
    case BK_ENUM: {
        int v = *(const int *)p;
        const bk__enum *e = c->t->enm;
        if (v < 0 || (size_t)v >= e->n)
            return value_error(err, t, c, "invalid_value", "not a value of the enum");
        o->type = BK_SQL_TEXT;
        o->p = e->names[v];
        o->n = e->lens[v];
        return BK_OK;
    }
    case BK_STR: {
        /* (NULL is value_of's) text the database would keep but no read
         * could give back: refused, as the JSON columns' strings are */
        const char *v = *(char *const *)p;
        size_t n = strlen(v);
        if (!bk__utf8_valid((const unsigned char *)v, n))
            return value_error(err, t, c, "invalid_utf8", "text that is not valid UTF-8");
        o->type = BK_SQL_TEXT;
        o->p = v;
        o->n = n;
        return BK_OK;
    }
    case BK_MODEL_PTR:
        if (!*(void *const *)p) {
            o->type = BK_SQL_NULL;
            return BK_OK;
        }
        break;
    default:
        break;
    }
    /* JSON text */
    bk_buf *b = bk__store_scratch(cn, slot);
    if (!b)
        return bk__error_oom(err);
    bk_error *e = NULL;
    bk_status st = bk__json_encode_stored(b, c->t, p, &e);
    if (st != BK_OK) {
        if (st == BK_ENOMEM) {
            bk_error_free(e);
            return bk__error_oom(err);
        }
        /* the encoder's problem where it is in the value: $.tags[1], not $.tags */
        const char *at = bk_error_count(e) ? bk_error_path(e, 0) : NULL;
        const char *code = bk_error_count(e) ? bk_error_problem_code(e, 0) : NULL;
        if (at && at[0] == '$' && code && *code) {
            size_t need = strlen(c->json_name) + strlen(at) + 2;
            char *path = bk__malloc(need);
            if (!path) {
                bk_error_free(e);
                return bk__error_oom(err);
            }
            snprintf(path, need, "$.%s%s", c->json_name, at + 1);
            st = bk__error_problem(err, BK_EVALIDATION, path, code, "%s.%s: %s", t->name,
                c->name, bk_error_problem_message(e, 0));
            bk__free(path);
        } else {
            st = value_error(err, t, c, "invalid_value", bk_error_message(e));
        }
        bk_error_free(e);
        return st;
    }
    o->type = BK_SQL_TEXT;
    o->p = b->ptr;
    o->n = b->len;
    return BK_OK;
}

/*
 * The value to bind for the C value at p of column c (one switch on the
 * column's precomputed op; the rest in value_slow). Text and blobs are
 * borrowed from the struct or from the connection's scratch buffer `slot`.
 */
static BK__HOT_INLINE bk_status value_of(bk_store_value *o, bk__conn *cn, const bk__table *t,
    const bk__col *c, const void *p, size_t slot, bk_error **err)
{
    switch (c->op) {
    case BK__COP_BOOL: o->type = BK_SQL_INTEGER; o->i = *(const bool *)p ? 1 : 0; return BK_OK;
    case BK__COP_I8: o->type = BK_SQL_INTEGER; o->i = *(const int8_t *)p; return BK_OK;
    case BK__COP_I16: o->type = BK_SQL_INTEGER; o->i = *(const int16_t *)p; return BK_OK;
    case BK__COP_I32: o->type = BK_SQL_INTEGER; o->i = *(const int32_t *)p; return BK_OK;
    case BK__COP_I64: o->type = BK_SQL_INTEGER; o->i = *(const int64_t *)p; return BK_OK;
    case BK__COP_U8: o->type = BK_SQL_INTEGER; o->i = *(const uint8_t *)p; return BK_OK;
    case BK__COP_U16: o->type = BK_SQL_INTEGER; o->i = *(const uint16_t *)p; return BK_OK;
    case BK__COP_U32: o->type = BK_SQL_INTEGER; o->i = (int64_t)*(const uint32_t *)p; return BK_OK;
    case BK__COP_F64: {
        double v = *(const double *)p;
        if (v != v || v - v != 0)
            break;
        o->type = BK_SQL_REAL;
        o->f = v;
        return BK_OK;
    }
    case BK__COP_STR: {
        const char *v = *(char *const *)p;
        if (!v) {
            o->type = BK_SQL_NULL;
            return BK_OK;
        }
        size_t n = strlen(v);
        if (!text_ok(v, n))
            break;                    /* not UTF-8: value_slow says so */
        o->type = BK_SQL_TEXT;
        o->p = v;
        o->n = n;
        return BK_OK;
    }
    case BK__COP_BYTES: {
        const bk_bytes *b = p;
        o->type = BK_SQL_BLOB;
        o->p = b->data;
        o->n = b->len;
        return BK_OK;
    }
    case BK__COP_ENUM: {
        int v = *(const int *)p;
        const bk__enum *e = c->t->enm;
        if (v < 0 || (size_t)v >= e->n)
            break;
        o->type = BK_SQL_TEXT;
        o->p = e->names[v];
        o->n = e->lens[v];
        return BK_OK;
    }
    case BK__COP_STRS: {
        bk_buf *b = bk__store_scratch(cn, slot);
        if (!b)
            return bk__error_oom(err);
        int r = fast_strs_json(b, p);
        if (r < 0)
            return bk__error_oom(err);
        if (r == 0) {
            b->len = 0;
            break;
        }
        o->type = BK_SQL_TEXT;
        o->p = b->ptr;
        o->n = b->len;
        return BK_OK;
    }
    default:
        break;
    }
    return value_slow(o, cn, t, c, p, slot, err);
}

/* Bind v as parameter i: the driver's bind_* of its class. */
static bk_status bind_store_value(const bk_store_driver *d, bk_store_stmt *s, int i,
    const bk_store_value *v, bk_error **err)
{
    switch (v->type) {
    case BK_SQL_INTEGER: return d->bind_i64(s, i, v->i, err);
    case BK_SQL_REAL: return d->bind_f64(s, i, v->f, err);
    case BK_SQL_TEXT: return d->bind_text(s, i, v->p, v->n, err);
    case BK_SQL_BLOB: return d->bind_blob(s, i, v->p, v->n, err);
    default: return d->bind_null(s, i, err);
    }
}

/* Bind the value at p of column c (a key) as parameter i; scratch buffer
 * `slot`. */
static bk_status bind_value(bk__conn *cn, bk_store_stmt *s, int i, const bk__table *t,
    const bk__col *c, const void *p, size_t slot, bk_error **err)
{
    const bk_store_driver *d = cn->drv;
    if (c->op == BK__COP_I64)             /* the usual key */
        return d->bind_i64(s, i, *(const int64_t *)p, err);
    bk_store_value v;
    bk_status st = value_of(&v, cn, t, c, p, slot, err);
    return st == BK_OK ? bind_store_value(d, s, i, &v, err) : st;
}

/* A value that bind_one does not bind itself: value_slow's (the exact
 * checks and errors, in err), then the driver (its errors in derr). */
static BK__COLD bk_status bind_slow(bk__conn *cn, bk_store_stmt *s, int i, const bk__table *t,
    size_t col, const char *p, bk_error **err, bk_error **derr)
{
    bk_store_value v;
    bk_status st = value_slow(&v, cn, t, &t->cols[col], p, col, err);
    return st == BK_OK ? bind_store_value(cn->drv, s, i, &v, derr) : st;
}

/*
 * Bind the value at p of step b as parameter i, straight from the struct
 * to the driver (the write path's hot loop: no bk_store_value in between,
 * no look at the column's bk__col); the same checks as value_of, whose
 * fast cases these are, the rest in bind_slow. A refused value's error
 * goes to err, the driver's to derr.
 */
static BK__HOT_INLINE bk_status bind_one(bk__conn *cn, const bk_store_driver *d,
    bk_store_stmt *s, int i, const bk__table *t, const bk__bindop *b, unsigned op,
    const char *p, bk_error **err, bk_error **derr)
{
    switch (op) {
    case BK__COP_BOOL: return d->bind_i64(s, i, *(const bool *)p ? 1 : 0, derr);
    case BK__COP_I8: return d->bind_i64(s, i, *(const int8_t *)p, derr);
    case BK__COP_I16: return d->bind_i64(s, i, *(const int16_t *)p, derr);
    case BK__COP_I32: return d->bind_i64(s, i, *(const int32_t *)p, derr);
    case BK__COP_I64: return d->bind_i64(s, i, *(const int64_t *)p, derr);
    case BK__COP_U8: return d->bind_i64(s, i, *(const uint8_t *)p, derr);
    case BK__COP_U16: return d->bind_i64(s, i, *(const uint16_t *)p, derr);
    case BK__COP_U32: return d->bind_i64(s, i, (int64_t)*(const uint32_t *)p, derr);
    case BK__COP_F64: {
        double v = *(const double *)p;
        if (v != v || v - v != 0)
            break;
        return d->bind_f64(s, i, v, derr);
    }
    case BK__COP_STR: {
        const char *v = *(char *const *)p;
        if (!v)
            return d->bind_null(s, i, derr);
        size_t len = strlen(v);
        if (!text_ok(v, len))
            break;
        return d->bind_text(s, i, v, len, derr);
    }
    case BK__COP_BYTES: {
        const bk_bytes *v = (const bk_bytes *)(const void *)p;
        return d->bind_blob(s, i, v->data, v->len, derr);
    }
    case BK__COP_ENUM: {
        int v = *(const int *)p;
        if (v < 0 || (size_t)v >= b->enm->n)
            break;
        return d->bind_text(s, i, b->enm->names[v], b->enm->lens[v], derr);
    }
    case BK__COP_STRS: {
        bk_buf *buf = bk__store_scratch(cn, b->col);
        if (!buf)
            return bk__error_oom(err);
        int r = fast_strs_json(buf, (const bk_strs *)(const void *)p);
        if (r < 0)
            return bk__error_oom(err);
        if (r > 0)
            return d->bind_text(s, i, buf->ptr, buf->len, derr);
        buf->len = 0;
        break;
    }
    default:
        break;
    }
    return bind_slow(cn, s, i, t, b->col, p, err, derr);
}

bk_status bk__store_bind_failed(bk__conn *cn, const bk__table *t, const char *obj,
    const bk__bindop *prog, size_t k, size_t n, bk_status st, bk_error *be, bk_error **err)
{
    for (k++; k < n; k++) {
        const bk__bindop *b = &prog[k];
        if ((b->op & BK__BIND_OPT) &&
                *(const bk_presence *)(obj + b->presence_offset) != BK_PRESENT)
            continue;
        bk_store_value v;
        bk_status vst = value_of(&v, cn, t, &t->cols[b->col], obj + b->offset, b->col, err);
        if (vst != BK_OK) {
            bk_error_free(be);
            return vst;
        }
    }
    if (err)
        *err = be;
    else
        bk_error_free(be);
    return st;
}

bk_status bk__store_value_of(bk_store_value *o, bk__conn *cn, const bk__table *t, size_t col,
    const void *p, bk_error **err)
{
    return value_of(o, cn, t, &t->cols[col], p, col, err);
}

/*
 * Bind a row of the struct obj with the program prog[0..n) as parameters
 * 1 .. n, in one pass: each value is checked and handed to the driver at
 * once (gathering the row into an array for bind_row first cost more than
 * the calls); the SQLite adapter's binder does the same with its engine's
 * calls inline. An optional field that is not present is NULL. Fails as
 * value_of, or as the driver (see bk__store_bind_failed).
 */
static bk_status bind_prog(bk__conn *cn, bk_store_stmt *s, const bk__table *t,
    const char *obj, const bk__bindop *prog, size_t n, bk_error **err)
{
    const bk_store_driver *d = cn->drv;
    if (d == &bk__sqlite_driver)
        return bk__sqlite_bind_prog(cn, s, t, obj, prog, n, err);
    bk_error *be = NULL;
    for (size_t k = 0; k < n; k++) {
        const bk__bindop *b = &prog[k];
        unsigned op = b->op;
        int i = b->param;
        bk_status st;
        if (!(op & BK__BIND_OPT))
            st = bind_one(cn, d, s, i, t, b, op, obj + b->offset, err, &be);
        else if (*(const bk_presence *)(obj + b->presence_offset) != BK_PRESENT)
            st = d->bind_null(s, i, &be);
        else
            st = bind_one(cn, d, s, i, t, b, op & ~BK__BIND_OPT, obj + b->offset, err, &be);
        if (st != BK_OK)   /* be: the driver's failure, else a refused value's (in err) */
            return be ? bk__store_bind_failed(cn, t, obj, prog, k, n, st, be, err) : st;
    }
    return BK_OK;
}

/*
 * Bind the columns idx[0..n) of the struct obj as parameters 1 .. n (the
 * writes of a shape without a program of the table's: a key alone, for
 * row_exists). Fails as bind_prog.
 */
static bk_status bind_cols(bk__conn *cn, bk_store_stmt *s, const bk__table *t, const char *obj,
    const size_t *idx, size_t n, bk_error **err)
{
    bk__bindop small[32], *own = NULL;
    if (n > 32 && !(own = bk__malloc(n * sizeof(*own))))
        return bk__error_oom(err);
    bk_status st = bind_prog(cn, s, t, obj, bind_prog_make(own ? own : small, t, idx, n), n, err);
    bk__free(own);
    return st;
}

/* ---- values: decoding ------------------------------------------------------------------ */
static const bk_decode_options g_row_decode = {
    BK_DECODE_OPTIONS_VERSION, BK__STORE_JSON_DEPTH, SIZE_MAX, SIZE_MAX, 1, false, true
};

static const char *sql_type_name(bk_sql_type t)
{
    switch (t) {
    case BK_SQL_INTEGER: return "an integer";
    case BK_SQL_REAL: return "a real";
    case BK_SQL_TEXT: return "text";
    case BK_SQL_BLOB: return "a blob";
    default: return "NULL";
    }
}

static bk_status row_error(bk_error **err, const bk__table *t, const bk__col *c,
    const char *fmt, const char *arg)
{
    char path[200];
    snprintf(path, sizeof(path), "$.%s.%s", t->name, c->name);
    char msg[400];
    snprintf(msg, sizeof(msg), fmt, arg);
    return bk__error_problem(err, BK_EIO, path, "type", "row of %s does not decode: column %s: %s",
        t->name, c->name, msg);
}

static inline bool int_fits(bk_kind k, int64_t v)
{
    switch (k) {
    case BK_BOOL: return v == 0 || v == 1;
    case BK_I8: case BK_I16: case BK_I32: case BK_DATE:
    case BK_U8: case BK_U16: case BK_U32: case BK_U64:
        return bk__int_fits(k, v);
    default: return true;
    }
}

static inline void int_store(bk_kind k, void *p, int64_t v)
{
    switch (k) {
    case BK_BOOL: *(bool *)p = v != 0; break;
    case BK_I8: *(int8_t *)p = (int8_t)v; break;
    case BK_I16: *(int16_t *)p = (int16_t)v; break;
    case BK_I32: case BK_DATE: *(int32_t *)p = (int32_t)v; break;
    case BK_U8: *(uint8_t *)p = (uint8_t)v; break;
    case BK_U16: *(uint16_t *)p = (uint16_t)v; break;
    case BK_U32: *(uint32_t *)p = (uint32_t)v; break;
    case BK_U64: *(uint64_t *)p = (uint64_t)v; break;
    default: *(int64_t *)p = v; break;
    }
}

static inline int64_t int_load(bk_kind k, const void *p)
{
    switch (k) {
    case BK_BOOL: return *(const bool *)p;
    case BK_I8: return *(const int8_t *)p;
    case BK_I16: return *(const int16_t *)p;
    case BK_I32: case BK_DATE: return *(const int32_t *)p;
    case BK_U8: return *(const uint8_t *)p;
    case BK_U16: return *(const uint16_t *)p;
    case BK_U32: return (int64_t)*(const uint32_t *)p;
    case BK_U64: return (int64_t)*(const uint64_t *)p;
    default: return *(const int64_t *)p;
    }
}


/* Decode value v (result column of c) into column c of obj: every case,
 * with the exact errors (read_col takes the common ones first). */
static BK__COLD bk_status read_col_slow(const bk_store_value *v, const bk__table *t,
    const bk__col *c, char *obj, bk_error **err)
{
    void *p = obj + c->offset;
    bk_sql_type ty = v->type;
    bk_kind k = c->t->kind;
    if (ty == BK_SQL_NULL) {
        if (c->optional) {
            *(bk_presence *)(obj + c->presence_offset) = BK_NULL;
            return BK_OK;
        }
        if (k == BK_STR || k == BK_MODEL_PTR)
            return BK_OK;
        return row_error(err, t, c, "%s where the model requires a value", "NULL");
    }
    if (c->optional)
        *(bk_presence *)(obj + c->presence_offset) = BK_PRESENT;
    switch (k) {
    case BK_F32: case BK_F64: {
        if (ty != BK_SQL_REAL && ty != BK_SQL_INTEGER)
            return row_error(err, t, c, "expected a number, found %s", sql_type_name(ty));
        double f = ty == BK_SQL_REAL ? v->f : (double)v->i;
        if (k == BK_F32) {
            if (f > 3.4028234663852886e38 || f < -3.4028234663852886e38)
                return row_error(err, t, c, "%s out of the range of f32", "a number");
            *(float *)p = (float)f;
        } else {
            *(double *)p = f;
        }
        return BK_OK;
    }
    case BK_STR: {
        if (ty != BK_SQL_TEXT)
            return row_error(err, t, c, "expected text, found %s", sql_type_name(ty));
        const char *s = v->p;
        size_t n = v->n;
        if (!plain_ascii(s, n) && (memchr(s, 0, n) || !utf8_ok(s, n)))
            return row_error(err, t, c, "%s", "text that is not valid UTF-8 without NUL");
        char *cp = bk__malloc(n + 1);
        if (!cp)
            return bk__error_oom(err);
        memcpy(cp, s, n);
        cp[n] = '\0';
        *(char **)p = cp;
        return BK_OK;
    }
    case BK_BYTES: {
        if (ty != BK_SQL_BLOB && ty != BK_SQL_TEXT)
            return row_error(err, t, c, "expected a blob, found %s", sql_type_name(ty));
        bk_bytes *b = p;
        if (v->n) {
            if (!(b->data = bk__malloc(v->n)))
                return bk__error_oom(err);
            memcpy(b->data, v->p, v->n);
            b->len = v->n;
        }
        return BK_OK;
    }
    case BK_UUID:
        if (ty != BK_SQL_TEXT || !bk__uuid_parse(v->p, v->n, ((bk_uuid *)p)->bytes))
            return row_error(err, t, c, "expected a uuid, found %s",
                ty == BK_SQL_TEXT ? "other text" : sql_type_name(ty));
        return BK_OK;
    case BK_ENUM: {
        if (ty != BK_SQL_TEXT)
            return row_error(err, t, c, "expected an enum name, found %s", sql_type_name(ty));
        size_t j = bk__enum_find(c->t->enm, v->p, v->n);
        if (j == c->t->enm->n)
            return row_error(err, t, c, "%s", "a name that is not in the enum");
        *(int *)p = (int)j;
        return BK_OK;
    }
    default:
        break;
    }
    if (c->json) {
        if (ty != BK_SQL_TEXT)
            return row_error(err, t, c, "expected JSON text, found %s", sql_type_name(ty));
        if (k == BK_LIST && c->t->elem->kind == BK_STR) {
            int r = fast_strs(p, v->p, v->n);
            if (r > 0)
                return BK_OK;
            if (r < 0)
                return bk__error_oom(err);
        }
        bk_error *e = NULL;
        bk_status st = bk__json_decode_type(p, c->t, v->p, v->n, &g_row_decode, "$", &e);
        if (st == BK_OK)
            return BK_OK;
        if (st == BK_ENOMEM) {
            bk_error_free(e);
            return bk__error_oom(err);
        }
        st = row_error(err, t, c, "the JSON does not fit the field: %s", bk_error_message(e));
        bk_error_free(e);
        return st;
    }
    /* integers, bool, timestamp, date */
    if (ty != BK_SQL_INTEGER)
        return row_error(err, t, c, "expected an integer, found %s", sql_type_name(ty));
    if (!int_fits(k, v->i))
        return row_error(err, t, c, "%s out of the range of the field", "an integer");
    int_store(k, p, v->i);
    return BK_OK;
}

/*
 * Decode value v (result column of c) into column c of obj: one switch on
 * the column's op for the common cases (a value of the expected class that
 * fits: integers in range, finite reals, ASCII text, known enum names,
 * list<str> in our encoding); anything else, NULL included, goes to
 * read_col_slow, which checks everything and reports exactly.
 */
static BK__HOT_INLINE bk_status read_col(const bk_store_value *v, const bk__table *t,
    const bk__col *c, char *obj, bk_error **err)
{
    void *p = obj + c->offset;
    bk_sql_type ty = v->type;
    /* (every case checks the class: NULL, and the presence of an optional
     * field, are read_col_slow's) */
    switch (c->op) {
    case BK__COP_BOOL:
        if (ty != BK_SQL_INTEGER || (uint64_t)v->i > 1)
            break;
        *(bool *)p = v->i != 0;
        goto ok;
    case BK__COP_I32:
        if (ty != BK_SQL_INTEGER || v->i != (int32_t)v->i)
            break;
        *(int32_t *)p = (int32_t)v->i;
        goto ok;
    case BK__COP_I64:
        if (ty != BK_SQL_INTEGER)
            break;
        *(int64_t *)p = v->i;
        goto ok;
    case BK__COP_F64:
        if (ty != BK_SQL_REAL)
            break;
        *(double *)p = v->f;
        goto ok;
    case BK__COP_STR: {
        if (ty != BK_SQL_TEXT)
            break;
        if (!text_ok(v->p, v->n))
            break;
        char *cp = str_copy(v->p, v->n);
        if (!cp)
            return bk__error_oom(err);
        *(char **)p = cp;
        goto ok;
    }
    case BK__COP_ENUM: {
        if (ty != BK_SQL_TEXT)
            break;
        size_t j = bk__enum_find(c->t->enm, v->p, v->n);
        if (j == c->t->enm->n)
            break;
        *(int *)p = (int)j;
        goto ok;
    }
    case BK__COP_STRS: {
        if (ty != BK_SQL_TEXT)
            break;
        int r = fast_strs(p, v->p, v->n);
        if (r > 0)
            goto ok;
        if (r < 0)
            return bk__error_oom(err);
        break;
    }
    default:
        break;
    }
    return read_col_slow(v, t, c, obj, err);
ok:
    if (c->optional)
        *(bk_presence *)(obj + c->presence_offset) = BK_PRESENT;
    return BK_OK;
}

bk_status bk__store_read_col(const bk_store_value *v, const bk__table *t, const bk__col *c,
    char *obj, bk_error **err)
{
    return read_col(v, t, c, obj, err);
}

/* Read the columns into vals: one driver call, or one per column. */
static void fetch_row(const bk_store_driver *d, bk_store_stmt *s, const bk__table *t,
    bk_store_value *vals)
{
    size_t n = t->ncols;
    if (d->row) {
        d->row(s, (int)n, t->want, vals);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        bk_store_value *v = &vals[i];
        switch ((v->type = d->column_type_of(s, (int)i))) {
        case BK_SQL_INTEGER: v->i = d->column_i64(s, (int)i); break;
        case BK_SQL_REAL: v->f = d->column_f64(s, (int)i); break;
        case BK_SQL_TEXT: v->p = d->column_text(s, (int)i, &v->n); break;
        case BK_SQL_BLOB: v->p = d->column_blob(s, (int)i, &v->n); break;
        default: break;
        }
    }
}

/* Decode the current row (every column, in order) into obj, which the
 * caller zeroed: the SQLite adapter's one-pass reader, or the driver's
 * values then read_col for each (one reading of the rules: the reader
 * hands what it does not read natively to bk__store_read_col); on
 * failure obj is cleared (never half-filled). vals:
 * room for t->ncols values (the row's values are left there, valid until
 * the statement moves), or NULL. */
static bk_status read_row(const bk_store_driver *d, bk_store_stmt *s, const bk__table *t,
    void *obj, bk_store_value *vals, bk_error **err)
{
    bk_store_value small[32], *own = NULL;
    if (!vals) {
        vals = small;
        if (t->ncols > 32 && !(vals = own = bk__malloc(t->ncols * sizeof(*vals))))
            return bk__error_oom(err);
    }
    bk_status st = BK_OK;
    if (d == &bk__sqlite_driver) {
        st = bk__sqlite_read_row(s, t, obj, vals, err);
    } else {
        fetch_row(d, s, t, vals);
        const bk__col *c = t->cols;
        for (size_t i = 0, n = t->ncols; i < n; i++)
            if ((st = read_col(&vals[i], t, &c[i], obj, err)) != BK_OK)
                break;
    }
    bk__free(own);
    if (st != BK_OK)
        bk__model_clear(t->model, obj);
    return st;
}

/* ---- CRUD ---------------------------------------------------------------------------- */

static BK__COLD bk_status data_prelude_slow(bk_store *s, const bk_model *m, const void *obj,
    const char *fn, bk__table **tb, bk_error **err)
{
    bk_status st = bk__store_check(s, fn, err);
    if (st != BK_OK)
        return st;
    if (!bk__model_ok(m))
        return bk__error_set(err, m ? BK_EMISUSE : BK_EINVAL, "%s: not a model handle", fn);
    if (!obj)
        return bk__error_set(err, BK_EINVAL, "%s: NULL object or key", fn);
    if (!(*tb = bk__store_table(s->root, m)))
        return bk__error_set(err, BK_ENOTFOUND, "%s: model %s is not registered on this store",
            fn, m->name);
    return BK_OK;
}

/*
 * The checks of every data call: a live store (a transaction used from
 * the thread that began it), a model handle, an object or key, the model
 * registered on the store (*tb). Inline without a call but pthread_self
 * (it is paid on every row); a failure goes to data_prelude_slow, which
 * checks again, in order, for the exact error.
 */
static BK__HOT_INLINE bk_status data_prelude(bk_store *s, const bk_model *m, const void *obj,
    const char *fn, bk__table **tb, bk_error **err)
{
    if (s && obj && bk__model_ok(m) &&
            (s->magic == BK__MAGIC_TX ? pthread_equal(s->thread, pthread_self()) != 0
                                      : s->magic == BK__MAGIC_STORE && !atomic_load(&s->closed)) &&
            (*tb = bk__store_table(s->root, m)) != NULL)
        return BK_OK;
    return data_prelude_slow(s, m, obj, fn, tb, err);
}

/* data_prelude for a call that writes obj whole (insert, upsert): the
 * object is validated before any SQL runs. */
static BK__HOT_INLINE bk_status write_prelude(bk_store *s, const bk_model *m, void *obj,
    const char *fn, bk__table **tb, bk_error **err)
{
    bk_status st = data_prelude(s, m, obj, fn, tb, err);
    /* (a model without checks is valid: no call) */
    return st == BK_OK && m->has_checks ? bk__validate_obj(m, obj, 100, err) : st;
}

static bk_status uuid_v7(unsigned char out[16], bk_error **err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    unsigned char r[10];
    if (getentropy(r, sizeof(r)) != 0)
        return bk__error_set(err, BK_EIO, "no randomness for a UUIDv7: %s", strerror(errno));
    for (int i = 0; i < 6; i++)
        out[i] = (unsigned char)(ms >> (40 - 8 * i));
    out[6] = (unsigned char)(0x70 | (r[0] & 0x0f));
    out[7] = r[1];
    out[8] = (unsigned char)(0x80 | (r[2] & 0x3f));
    memcpy(out + 9, r + 3, 7);
    return BK_OK;
}

static bool uuid_zero(const bk_uuid *u)
{
    static const unsigned char z[16];
    return memcmp(u->bytes, z, 16) == 0;
}

/* Step a statement that returns no rows. */
static bk_status step_done(const bk_store_driver *d, bk_store_stmt *s, bk_error **err)
{
    bk_status st = d->step(s, err);
    if (st == BK_ITEROVER)
        return BK_OK;
    if (st == BK_OK) /* a row we did not ask for */
        return BK_OK;
    return st;
}

/* bk__conn_for for a write: a transaction's own connection inline (bulk
 * writes run in one), the pool otherwise. */
static BK__HOT_INLINE bk_status write_conn(bk__conn **out, bool *release, bk_store *s,
    bk_error **err)
{
    if (s->magic == BK__MAGIC_TX) {
        *out = s->conn;
        *release = false;
        return BK_OK;
    }
    return bk__conn_for(out, release, s, false, err);
}

/* bk__stmt_get for a write's fixed statement: the hit on its slot of the
 * most recently used, idle statement (a loop of the same write) inline,
 * the rest there. */
static BK__HOT_INLINE bk_status write_stmt(bk__stmt **out, bk__conn *c, const bk__sql *sql,
    bk_error **err)
{
    bk__stmt *e;
    if (sql->slot && sql->slot < c->nslots && c->cap > 0 && (e = c->slots[sql->slot]) != NULL &&
            e == c->lru_first && !e->busy) {
        e->busy = true;
        *out = e;
        return BK_OK;
    }
    return bk__stmt_get(out, c, sql, err);
}

/*
 * Insert one object on connection c (validated by the caller). An integer
 * auto_id key that is 0 is left to the database and written back; a zero
 * uuid auto_id key gets a UUIDv7 (written back; restored to zero on
 * failure).
 */
static bk_status insert_one(bk__conn *c, const bk__table *t, char *obj, bk_error **err)
{
    const bk_store_driver *d = c->drv;
    const bk__col *pk = &t->cols[t->pk];
    void *kp = obj + pk->offset;
    bool gen_int = pk->auto_id && kind_int(pk->t->kind) && int_load(pk->t->kind, kp) == 0;
    bool gen_uuid = pk->auto_id && pk->t->kind == BK_UUID && uuid_zero(kp);
    bk_status st = BK_OK;
    if (gen_uuid && (st = uuid_v7(((bk_uuid *)kp)->bytes, err)) != BK_OK)
        return st;
    bool given = !gen_int && pk->auto_id && kind_int(pk->t->kind) && d->key_taken;
    bk__stmt *e = NULL;
    if ((st = write_stmt(&e, c, gen_int ? &t->ins_auto : &t->ins, err)) != BK_OK)
        goto failed;
    const bk__bindop *prog = gen_int ? t->auto_prog : t->all_prog;
    size_t n = gen_int ? t->ncols - 1 : t->ncols;
    int64_t id = 0;
    if (d == &bk__sqlite_driver && !given) {
        st = bk__sqlite_write(c, e->s, t, obj, prog, n, gen_int ? &id : NULL, NULL, err);
        stmt_give_back(c, e);
    } else {
        st = bind_prog(c, e->s, t, obj, prog, n, err);
        /* a key given for a key the database generates: its sequence moved
         * past it once the values are bound (a refused value moves
         * nothing) and before the row is written (a failure there, no
         * right on the sequence or a lock timeout, writes nothing; a key
         * generated by another session from then on is above it) */
        if (st == BK_OK && given)
            st = d->key_taken(c->c, t->name, pk->name, int_load(pk->t->kind, kp), err);
        if (st == BK_OK && gen_int) {
            if ((st = d->step(e->s, err)) == BK_ITEROVER)
                st = bk__error_set(err, BK_EIO, "insert into %s returned no key", t->name);
            if (st == BK_OK)
                id = d->column_i64(e->s, 0);
        }
        if (st == BK_OK)
            st = step_done(d, e->s, err);
        bk__stmt_put(c, e);
    }
    if (st != BK_OK)
        goto failed;
    if (gen_int) {
        /* the row is in (a failure from here is the caller's transaction's to undo) */
        if (!int_fits(pk->t->kind, id))
            return bk__error_set(err, BK_EIO, "%s.%s: generated key %lld does not fit the "
                "field", t->name, pk->name, (long long)id);
        int_store(pk->t->kind, kp, id);
    }
    return st;
failed:
    if (gen_uuid)
        memset(kp, 0, sizeof(bk_uuid));
    return st;
}

bk_status bk_store_insert(bk_store *store, const bk_model *model, void *obj, bk_error **err)
{
    bk__table *t;
    bk_status st = write_prelude(store, model, obj, "bk_store_insert", &t, err);
    if (st != BK_OK)
        return st;
    bk__conn *c;
    bool rel;
    if ((st = write_conn(&c, &rel, store, err)) != BK_OK)
        return st;
    st = insert_one(c, t, obj, err);
    if (rel)
        bk__conn_release(store->root, c);
    return st;
}

static bk_status tx_exec(bk__conn *c, const char *sql, bk_error **err)
{
    return c->drv->exec(c->c, sql, err);
}

bk_status bk_store_insert_many(bk_store *store, const bk_model *model, void *objs, size_t n,
    bk_error **err)
{
    bk__table *t;
    bk_status st = data_prelude(store, model, objs, "bk_store_insert_many", &t, err);
    if (st != BK_OK)
        return st;
    if (n == 0)
        return BK_OK;
    size_t stride = model->size;
    for (size_t i = 0; i < n; i++)
        if ((st = bk__validate_obj(model, (char *)objs + i * stride, 100, err)) != BK_OK) {
            if (err)
                bk__error_set_record_index(*err, (long long)i);
            return st;
        }
    /* which objects get a generated key (undone if the whole fails) */
    const bk__col *pk = &t->cols[t->pk];
    unsigned char *gen = NULL;
    if (pk->auto_id) {
        if (!(gen = bk__calloc(n, 1)))
            return bk__error_oom(err);
        for (size_t i = 0; i < n; i++) {
            const void *kp = (char *)objs + i * stride + pk->offset;
            gen[i] = pk->t->kind == BK_UUID ? uuid_zero(kp) : int_load(pk->t->kind, kp) == 0;
        }
    }
    bk__conn *c = NULL;
    bool rel = false;
    bool in_tx = store->magic == BK__MAGIC_TX;
    if ((st = bk__conn_for(&c, &rel, store, true, err)) != BK_OK)
        goto done;
    st = in_tx ? tx_exec(c, "SAVEPOINT bk_many", err) : c->drv->begin(c->c, err);
    if (st != BK_OK)
        goto done;
    size_t i = 0;
    for (; i < n && st == BK_OK; i++)
        st = insert_one(c, t, (char *)objs + i * stride, err);
    if (st != BK_OK) {
        if (err)
            bk__error_set_record_index(*err, (long long)(i - 1));
    } else if ((st = tx_exec(c, in_tx ? "RELEASE SAVEPOINT bk_many" : "COMMIT", err)) == BK_OK) {
        goto done;
    }
    tx_exec(c, in_tx ? "ROLLBACK TO SAVEPOINT bk_many; RELEASE SAVEPOINT bk_many"
                     : "ROLLBACK", NULL);
    for (size_t k = 0; gen && k < n; k++)
        if (gen[k])
            memset((char *)objs + k * stride + pk->offset, 0, pk->t->size);
done:
    if (rel)
        bk__conn_release(store->root, c);
    bk__free(gen);
    return st;
}

bk_status bk_store_get(void *out, bk_store *store, const bk_model *model, const void *key,
    bk_error **err)
{
    bk__table *t;
    if (out && bk__model_ok(model))
        memset(out, 0, model->size);
    bk_status st = data_prelude(store, model, key, "bk_store_get", &t, err);
    if (st != BK_OK)
        return st;
    if (!out)
        return bk__error_set(err, BK_EINVAL, "bk_store_get: NULL out");
    bk__conn *c;
    bool rel;
    if ((st = bk__conn_for(&c, &rel, store, false, err)) != BK_OK)
        return st;
    bk__stmt *e = NULL;
    if ((st = bk__stmt_get(&e, c, &t->get, err)) != BK_OK)
        goto done;
    if ((st = bind_value(c, e->s, 1, t, &t->cols[t->pk], key, t->ncols, err)) != BK_OK)
        goto done;
    st = c->drv->step(e->s, err);
    if (st == BK_OK)
        st = read_row(c->drv, e->s, t, out, NULL, err);
    else if (st == BK_ITEROVER)
        st = bk__error_set(err, BK_ENOTFOUND, "no row of %s has this key", t->name);
done:
    bk__stmt_put(c, e);
    if (rel)
        bk__conn_release(store->root, c);
    return st;
}

/* Whether a row with obj's key exists (after a failed versioned update). */
static bk_status row_exists(bool *out, bk__conn *c, const bk__table *t, const char *obj,
    bk_error **err)
{
    bk__stmt *e = NULL;
    bk_status st = bk__stmt_get(&e, c, &t->exists, err);
    if (st == BK_OK)
        st = bind_cols(c, e->s, t, obj, &t->pk, 1, err);
    if (st == BK_OK) {
        st = c->drv->step(e->s, err);
        *out = st == BK_OK;
        if (st == BK_ITEROVER)
            st = BK_OK;
    }
    bk__stmt_put(c, e);
    return st;
}

/* Validate only the problems of the updated columns: keep the problems
 * whose path is $.<json name> of one of them, or below it. */
static bk_status validate_fields(const bk__table *t, const bool *mask, const void *obj,
    bk_error **err)
{
    bk_error *e = NULL;
    bk_status st = bk__validate_obj(t->model, obj, 100, &e);
    if (st != BK_EVALIDATION) {
        if (st != BK_OK && err)
            *err = e;
        else
            bk_error_free(e);
        return st;
    }
    bk__errors acc;
    bk__errors_init(&acc, 100);
    for (size_t p = 0; p < bk_error_count(e); p++) {
        const char *path = bk_error_path(e, p);
        bool keep = false;
        for (size_t i = 0; i < t->ncols && !keep; i++) {
            if (!mask[i])
                continue;
            size_t n = strlen(t->cols[i].json_name);
            keep = strncmp(path, "$.", 2) == 0 && strncmp(path + 2, t->cols[i].json_name, n) == 0
                && (path[2 + n] == '\0' || path[2 + n] == '.' || path[2 + n] == '[');
        }
        if (keep)
            bk__errors_add_params(&acc, BK_EVALIDATION, path, bk_error_problem_code(e, p),
                bk_error_problem_code(e, p), bk_error_problem_params(e, p),
                bk_error_problem_message(e, p));
    }
    bk_error_free(e);
    return bk__errors_finish(&acc, err);
}

/*
 * Run an update (sql, bound with prog[0..n)) of obj, validated by the
 * caller: BK_ENOTFOUND when no row has its key, BK_ECONFLICT when its
 * version is stale; the version in obj is advanced on success.
 */
static BK__HOT_INLINE bk_status update_run(bk_store *store, const bk__table *t,
    const bk__sql *sql, const bk__bindop *prog, size_t n, void *obj, bk_error **err)
{
    bk__conn *c = NULL;
    bool rel = false;
    bk__stmt *e = NULL;
    bk_status st;
    if ((st = write_conn(&c, &rel, store, err)) != BK_OK)
        return st;
    if ((st = write_stmt(&e, c, sql, err)) != BK_OK)
        goto done;
    int64_t changes = 0;
    if (c->drv == &bk__sqlite_driver) {
        st = bk__sqlite_write(c, e->s, t, obj, prog, n, NULL, &changes, err);
    } else {
        st = bind_prog(c, e->s, t, obj, prog, n, err);
        if (st == BK_OK)
            st = step_done(c->drv, e->s, err);
        if (st == BK_OK)
            changes = c->drv->changes(c->c);
        c->drv->reset(e->s);
    }
    stmt_give_back(c, e);   /* now: the existence check below takes a statement of its own */
    e = NULL;
    if (st != BK_OK)
        goto done;
    if (changes == 0) {
        bool exists = false;
        if (t->version >= 0 && (st = row_exists(&exists, c, t, obj, err)) != BK_OK)
            goto done;
        st = exists ? bk__error_set(err, BK_ECONFLICT, "%s: the row was changed by someone "
                          "else (stale %s)", t->name, t->cols[t->version].name)
                    : bk__error_set(err, BK_ENOTFOUND, "%s: no row has this key", t->name);
        goto done;
    }
    if (t->version >= 0) {
        const bk__col *v = &t->cols[t->version];
        void *vp = (char *)obj + v->offset;
        int_store(v->t->kind, vp, int_load(v->t->kind, vp) + 1);
    }
done:
    bk__stmt_put(c, e);
    if (rel)
        bk__conn_release(store->root, c);
    return st;
}

/* bk_store_update of the named fields: their SQL and program made for the
 * call, only their problems of validation. */
static BK__NOINLINE bk_status update_fields(bk_store *store, const bk_model *model,
    const bk__table *t, void *obj, const char *const *fields, size_t nfields, bk_error **err)
{
    bk_status st = BK_OK;
    bool *mask = NULL;
    size_t *order = NULL, norder = 0;
    bk__bindop *prog = NULL;
    bk__sql dyn = { NULL, 0, 0, 0 };
    if (!(mask = bk__calloc(t->ncols, sizeof(*mask))))
        return bk__error_oom(err);
    for (size_t k = 0; k < nfields && st == BK_OK; k++) {
        const char *name = fields[k];
        bool found = false;
        if (!name) {
            st = bk__error_set(err, BK_EINVAL, "bk_store_update: NULL field name");
            break;
        }
        long top = bk_model_field_index(model, name);
        for (size_t i = 0; i < t->ncols; i++)
            if (strcmp(t->cols[i].name, name) == 0 ||
                    (top >= 0 && t->cols[i].top == (size_t)top &&
                     model->fields[top].flatten)) {
                found = true;
                if (i == t->pk)
                    st = bk__error_set(err, BK_EINVAL, "bk_store_update: the primary key "
                        "%s cannot be updated", name);
                mask[i] = true;
            }
        if (!found && st == BK_OK)
            st = bk__error_set(err, BK_EINVAL, "bk_store_update: %s has no stored field "
                "\"%.64s\"", model->name, name);
    }
    if (st == BK_OK && (st = validate_fields(t, mask, obj, err)) == BK_OK) {
        if (update_sql(&dyn, store->root->drv, t, mask) != BK_OK ||
                !(order = bk__malloc((t->ncols + 1) * sizeof(*order))) ||
                !(prog = bk__malloc((t->ncols + 1) * sizeof(*prog))))
            st = bk__error_oom(err);
    }
    /* the parameters: the named columns, then the key [and the version] */
    for (size_t i = 0; st == BK_OK && i < t->ncols; i++)
        if (i != t->pk && (long)i != t->version && mask[i])
            order[norder++] = i;
    if (st == BK_OK) {
        order[norder++] = t->pk;
        if (t->version >= 0)
            order[norder++] = (size_t)t->version;
        st = update_run(store, t, &dyn, bind_prog_make(prog, t, order, norder), norder, obj,
            err);
    }
    bk__free(dyn.text);
    bk__free(prog);
    bk__free(order);
    bk__free(mask);
    return st;
}

bk_status bk_store_update(bk_store *store, const bk_model *model, void *obj,
    const char *const *fields, size_t nfields, bk_error **err)
{
    bk__table *t;
    bk_status st = data_prelude(store, model, obj, "bk_store_update", &t, err);
    if (st != BK_OK)
        return st;
    if (fields && nfields)
        return update_fields(store, model, t, obj, fields, nfields, err);
    if (model->has_checks && (st = bk__validate_obj(model, obj, 100, err)) != BK_OK)
        return st;   /* (a model without checks is valid: no call) */
    return update_run(store, t, &t->upd, t->upd_prog, t->nupd, obj, err);
}

bk_status bk_store_upsert(bk_store *store, const bk_model *model, void *obj, bk_error **err)
{
    bk__table *t;
    bk_status st = write_prelude(store, model, obj, "bk_store_upsert", &t, err);
    if (st != BK_OK)
        return st;
    bk__conn *c;
    bool rel;
    if ((st = write_conn(&c, &rel, store, err)) != BK_OK)
        return st;
    const bk__col *pk = &t->cols[t->pk];
    char *kp = (char *)obj + pk->offset;
    bk__stmt *e = NULL;
    if (pk->auto_id && ((kind_int(pk->t->kind) && int_load(pk->t->kind, kp) == 0) ||
            (pk->t->kind == BK_UUID && uuid_zero((bk_uuid *)(void *)kp)))) {
        st = insert_one(c, t, obj, err);    /* a new key: nothing to conflict with */
        goto done;
    }
    if ((st = write_stmt(&e, c, &t->ups, err)) != BK_OK)
        goto done;
    if ((st = bind_prog(c, e->s, t, obj, t->all_prog, t->ncols, err)) != BK_OK)
        goto done;
    if (pk->auto_id && kind_int(pk->t->kind) && c->drv->key_taken &&
            (st = c->drv->key_taken(c->c, t->name, pk->name, int_load(pk->t->kind, kp), err))
                != BK_OK)
        goto done;                          /* (as insert_one: bound, not yet written) */
    if (t->version >= 0) {
        if ((st = c->drv->step(e->s, err)) == BK_OK) {
            const bk__col *v = &t->cols[t->version];
            int_store(v->t->kind, (char *)obj + v->offset, c->drv->column_i64(e->s, 0));
            st = step_done(c->drv, e->s, err);
        } else if (st == BK_ITEROVER) {
            st = BK_OK;
        }
    } else {
        st = step_done(c->drv, e->s, err);
    }
done:
    bk__stmt_put(c, e);
    if (rel)
        bk__conn_release(store->root, c);
    return st;
}

bk_status bk_store_delete(bk_store *store, const bk_model *model, const void *key,
    bk_error **err)
{
    bk__table *t;
    bk_status st = data_prelude(store, model, key, "bk_store_delete", &t, err);
    if (st != BK_OK)
        return st;
    bk__conn *c;
    bool rel;
    if ((st = bk__conn_for(&c, &rel, store, false, err)) != BK_OK)
        return st;
    bk__stmt *e = NULL;
    if ((st = bk__stmt_get(&e, c, &t->del, err)) != BK_OK)
        goto done;
    if ((st = bind_value(c, e->s, 1, t, &t->cols[t->pk], key, t->ncols, err)) != BK_OK)
        goto done;
    if ((st = step_done(c->drv, e->s, err)) != BK_OK)
        goto done;
    if (c->drv->changes(c->c) == 0)
        st = bk__error_set(err, BK_ENOTFOUND, "%s: no row has this key", t->name);
done:
    bk__stmt_put(c, e);
    if (rel)
        bk__conn_release(store->root, c);
    return st;
}

/* ---- transactions --------------------------------------------------------------------- */

bk_status bk_store_begin(bk_store **tx_out, bk_store *store, bk_error **err)
{
    if (!tx_out)
        return bk__error_set(err, BK_EINVAL, "bk_store_begin: NULL tx_out");
    *tx_out = NULL;
    bk_status st = bk__store_check(store, "bk_store_begin", err);
    if (st != BK_OK)
        return st;
    if (store->magic == BK__MAGIC_TX && store->child)
        return bk__error_set(err, BK_EMISUSE,
            "bk_store_begin: this transaction has an open nested transaction");
    bk_store *tx = bk__calloc(1, sizeof(*tx));
    if (!tx)
        return bk__error_oom(err);
    bk_store *root = store->root;
    bk__conn *c = NULL;
    bool rel = false;
    if (store->magic == BK__MAGIC_TX) {
        char sql[48];
        snprintf(sql, sizeof(sql), "SAVEPOINT bk_sp_%d", store->depth + 1);
        c = store->conn;
        st = tx_exec(c, sql, err);
    } else if ((st = bk__conn_for(&c, &rel, store, true, err)) == BK_OK) {
        st = c->drv->begin(c->c, err);
    }
    if (st != BK_OK) {
        if (rel)
            bk__conn_release(root, c);
        bk__free(tx);
        return st;
    }
    tx->magic = BK__MAGIC_TX;
    tx->root = root;
    tx->drv = root->drv;
    tx->conn = c;
    tx->thread = pthread_self();
    if (store->magic == BK__MAGIC_TX) {
        tx->depth = store->depth + 1;
        tx->parent = store;
        store->child = tx;
    }
    atomic_fetch_add(&root->refs, 1);
    *tx_out = tx;
    return BK_OK;
}

static void tx_free(bk_store *tx)
{
    bk_store *root = tx->root;
    if (tx->depth == 0)
        bk__conn_release(root, tx->conn);
    else
        tx->parent->child = NULL;
    tx->magic = 0;
    bk__free(tx);
    bk__store_unref(root);
}

static bk_status tx_check(bk_store *tx, const char *fn, bk_error **err)
{
    if (!tx)
        return bk__error_set(err, BK_EINVAL, "%s: NULL transaction", fn);
    if (tx->magic != BK__MAGIC_TX)
        return bk__error_set(err, BK_EMISUSE, "%s: not a transaction handle", fn);
    if (!pthread_equal(tx->thread, pthread_self()))
        return bk__error_set(err, BK_EMISUSE,
            "%s: a transaction belongs to the thread that began it", fn);
    if (tx->child)
        return bk__error_set(err, BK_EMISUSE, "%s: a nested transaction is still open", fn);
    if (tx->cursors)
        return bk__error_set(err, BK_EMISUSE, "%s: %d cursor(s) of the transaction are still "
            "open", fn, tx->cursors);
    return BK_OK;
}

static void tx_undo(bk_store *tx)
{
    if (tx->depth == 0) {
        tx_exec(tx->conn, "ROLLBACK", NULL);
    } else {
        char sql[96];
        snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT bk_sp_%d; RELEASE SAVEPOINT bk_sp_%d",
            tx->depth, tx->depth);
        tx_exec(tx->conn, sql, NULL);
    }
}

bk_status bk_store_commit(bk_store *tx, bk_error **err)
{
    bk_status st = tx_check(tx, "bk_store_commit", err);
    if (st != BK_OK)
        return st;
    if (tx->depth == 0) {
        st = tx_exec(tx->conn, "COMMIT", err);
    } else {
        char sql[48];
        snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT bk_sp_%d", tx->depth);
        st = tx_exec(tx->conn, sql, err);
    }
    if (st != BK_OK)
        tx_undo(tx);
    tx_free(tx);
    return st;
}

bk_status bk_store_rollback(bk_store *tx, bk_error **err)
{
    bk_status st = tx_check(tx, "bk_store_rollback", err);
    if (st == BK_EMISUSE && tx && tx->magic == BK__MAGIC_TX &&
            pthread_equal(tx->thread, pthread_self()) && tx->child && !tx->cursors) {
        /* roll back the open nested transactions first */
        while (tx->child) {
            bk_store *in = tx->child;
            while (in->child)
                in = in->child;
            if (in->cursors)
                return st;
            tx_undo(in);
            tx_free(in);
        }
        if (err && *err) {
            bk_error_free(*err);
            *err = NULL;
        }
        st = BK_OK;
    }
    if (st != BK_OK)
        return st;
    if (tx->depth == 0) {
        st = tx_exec(tx->conn, "ROLLBACK", err);
    } else {
        char sql[96];
        snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT bk_sp_%d; RELEASE SAVEPOINT bk_sp_%d",
            tx->depth, tx->depth);
        st = tx_exec(tx->conn, sql, err);
    }
    tx_free(tx);
    return st;
}

static _Thread_local uint64_t t_rng;

static uint64_t jitter_rand(void)
{
    if (!t_rng) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t_rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&ts;
        t_rng |= 1;
    }
    t_rng ^= t_rng >> 12;
    t_rng ^= t_rng << 25;
    t_rng ^= t_rng >> 27;
    return t_rng * 0x2545F4914F6CDD1Dull;
}

/*
 * Run fn in a transaction; on BK_EBUSY (from begin, fn or commit) roll
 * back, sleep a random time in [d/2, d] with d = 1 ms doubling up to 100
 * ms, and run it again, up to max_attempts times. Only the last error is
 * reported.
 */
bk_status bk_store_transact(bk_store *store, bk_tx_fn fn, void *payload, int max_attempts,
    bk_error **err)
{
    if (!fn)
        return bk__error_set(err, BK_EINVAL, "bk_store_transact: NULL function");
    bk_status st = bk__store_check(store, "bk_store_transact", err);
    if (st != BK_OK)
        return st;
    int attempts = max_attempts > 0 ? max_attempts : 5;
    long delay_us = 1000;
    for (int a = 1;; a++) {
        bk_error *e = NULL;
        bk_store *tx = NULL;
        st = bk_store_begin(&tx, store, &e);
        if (st == BK_OK) {
            st = fn(tx, payload, &e);
            if (st == BK_OK) {
                st = bk_store_commit(tx, &e);
            } else {
                if (!e)
                    bk__error_set(&e, st, "bk_store_transact: the function returned %s",
                        bk_status_name(st));
                if (bk_store_rollback(tx, NULL) == BK_EMISUSE)
                    st = st == BK_EBUSY ? BK_EMISUSE : st;
            }
        }
        if (st != BK_EBUSY || a >= attempts) {
            if (st != BK_OK && err)
                *err = e;
            else
                bk_error_free(e);
            return st;
        }
        bk_error_free(e);
        long sleep_us = delay_us / 2 + (long)(jitter_rand() % (uint64_t)(delay_us / 2 + 1));
        struct timespec ts = { sleep_us / 1000000, (sleep_us % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        delay_us = delay_us * 2 > 100000 ? 100000 : delay_us * 2;
    }
}

/* ---- raw text queries (tests, checks) --------------------------------------------------- */

bk_status bk__store_query_text(char **out, bk_store *s, const char *sql, bk_error **err)
{
    *out = NULL;
    bk_status st = bk__store_check(s, "bk__store_query_text", err);
    if (st != BK_OK)
        return st;
    bk__conn *c;
    bool rel;
    if ((st = bk__conn_for(&c, &rel, s, false, err)) != BK_OK)
        return st;
    bk_store_stmt *stmt = NULL;
    bk__sb acc = { BK_BUF_INIT, false };
    if ((st = c->drv->prepare(&stmt, c->c, sql, err)) == BK_OK) {
        bool first = true;
        while ((st = c->drv->step(stmt, err)) == BK_OK) {
            size_t n = 0;
            const char *v = c->drv->column_type_of(stmt, 0) == BK_SQL_NULL ? "NULL"
                : c->drv->column_text(stmt, 0, &n);
            if (!first)
                bk__sb_put(&acc, "\n");
            first = false;
            bk__sb_putn(&acc, v, n ? n : strlen(v));
        }
        if (st == BK_ITEROVER)
            st = BK_OK;
        c->drv->finalize(stmt);
    }
    if (rel)
        bk__conn_release(s->root, c);
    if (st == BK_OK) {
        if (acc.oom || (!acc.b.ptr && bk__buf_append(&acc.b, "", 0) != BK_OK))
            st = bk__error_oom(err);
        else {
            *out = acc.b.ptr;
            return BK_OK;
        }
    }
    bk__sb_dispose(&acc);
    return st;
}

/* ---- queries --------------------------------------------------------------------------- */

/* A bound filter value (text and blobs owned). */
typedef struct qval {
    bk_sql_type type;
    int64_t i;
    double f;
    char *p;
    size_t n;
} qval;

#define MAX_GROUPS 32

struct bk_query {
    uint32_t magic;
    bk_store *store;          /* as given (root or transaction) */
    bk_store *root;
    const bk__table *t;
    bk__sb where;
    qval *vals;
    size_t nvals, cvals;
    struct { bool any; size_t count; } groups[MAX_GROUPS + 1];
    int depth;
    okey *order;
    size_t norder, corder;
    bool has_limit;
    int64_t limit, offset;
    qval *after;              /* keyset values (after_n), NULL if none */
    size_t nafter;
    char after_hash[17];
    qval after_room[2];       /* after, for up to two keys (no allocation) */
};

struct bk_cursor {
    uint32_t magic;
    bk_store *store;
    bk_store *root;
    const bk__table *t;
    bk__conn *conn;
    bool release;
    bk__stmt *st;
    pthread_t thread;
    bool done, have_row;
    size_t nkeys;
    okey *keys;               /* the ordering (in the same allocation) */
    qval *last;               /* values of the keys in the last row (same allocation) */
    bk_buf *lastbuf;          /* their text/blob storage, reused (same allocation) */
    char *bound;              /* copies of the text/blob values bound (NULL: none) */
    char hash[17];
};

static void qval_clear(qval *v)
{
    bk__free(v->p);
    memset(v, 0, sizeof(*v));
}

static bool query_ok(const bk_query *q) { return q && q->magic == BK__MAGIC_QUERY; }

/* The table's spare block (see bk__table), or NULL. */
static inline void *spare_take(_Atomic(void *) *slot)
{
    return atomic_load_explicit(slot, memory_order_relaxed)
        ? atomic_exchange_explicit(slot, NULL, memory_order_acquire) : NULL;
}

/* Under AddressSanitizer no block is kept: a use after free of a query or
 * cursor must reach ASan, not a spare that still looks allocated. */
#if defined(__SANITIZE_ADDRESS__)
#define BK__KEEP_SPARES 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BK__KEEP_SPARES 0
#endif
#endif
#ifndef BK__KEEP_SPARES
#define BK__KEEP_SPARES 1
#endif

/* Keep the freed block p as the table's spare, or free it when there is one. */
static inline void spare_keep(_Atomic(void *) *slot, void *p)
{
    if (!BK__KEEP_SPARES) {
        bk__free(p);
        return;
    }
    void *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(slot, &none, p, memory_order_release,
            memory_order_relaxed))
        bk__free(p);
}

bk_status bk_query_new(bk_query **out, bk_store *store, const bk_model *model, bk_error **err)
{
    if (!out)
        return bk__error_set(err, BK_EINVAL, "bk_query_new: NULL out");
    *out = NULL;
    bk_status st = bk__store_check(store, "bk_query_new", err);
    if (st != BK_OK)
        return st;
    if (!bk__model_ok(model))
        return bk__error_set(err, model ? BK_EMISUSE : BK_EINVAL, "bk_query_new: not a model");
    const bk__table *t = bk__store_table(store->root, model);
    if (!t)
        return bk__error_set(err, BK_ENOTFOUND, "bk_query_new: model %s is not registered on "
            "this store", model->name);
    bk_query *q = spare_take(&((bk__table *)t)->spare_query);
    if (q)
        memset(q, 0, sizeof(*q));
    else if (!(q = bk__calloc(1, sizeof(*q))))
        return bk__error_oom(err);
    q->magic = BK__MAGIC_QUERY;
    q->store = store;
    q->root = store->root;
    q->t = t;
    atomic_fetch_add(&q->root->refs, 1);
    *out = q;
    return BK_OK;
}

void bk_query_free(bk_query *q)
{
    if (!query_ok(q))
        return;
    for (size_t i = 0; i < q->nvals; i++)
        qval_clear(&q->vals[i]);
    for (size_t i = 0; i < q->nafter; i++)
        qval_clear(&q->after[i]);
    bk__free(q->vals);
    if (q->after != q->after_room)
        bk__free(q->after);
    bk__free(q->order);
    bk__sb_dispose(&q->where);
    bk_store *root = q->root;
    q->magic = 0;
    spare_keep(&((bk__table *)q->t)->spare_query, q);
    bk__store_unref(root);
}

static bk_status query_check(bk_query *q, const char *fn, bk_error **err)
{
    if (!q)
        return bk__error_set(err, BK_EINVAL, "%s: NULL query", fn);
    if (!query_ok(q))
        return bk__error_set(err, BK_EMISUSE, "%s: not a query handle", fn);
    return BK_OK;
}

static const bk__col *find_col(const bk__table *t, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return &t->cols[i];
    return NULL;
}

static bk_status bad_field(bk_error **err, const char *fn, const bk__table *t, const char *name)
{
    /* the name may be anything: quote a bounded, printable prefix */
    char shown[72];
    size_t k = 0;
    for (const char *p = name ? name : "(null)"; *p && k < 64; p++)
        shown[k++] = (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f ? *p : '?';
    shown[k] = '\0';
    return bk__error_set(err, BK_EINVAL, "%s: %s has no stored field \"%s\"", fn, t->name, shown);
}

static const char *op_sql(bk_op op)
{
    switch (op) {
    case BK_OP_EQ: return " = ?";
    case BK_OP_NE: return " <> ?";
    case BK_OP_LT: return " < ?";
    case BK_OP_LE: return " <= ?";
    case BK_OP_GT: return " > ?";
    case BK_OP_GE: return " >= ?";
    default: return NULL;
    }
}

/* Whether op may be used on column c (values aside). */
static bk_status op_allowed(bk_error **err, const char *fn, const bk__col *c, bk_op op)
{
    if ((unsigned)op > (unsigned)BK_OP_CONTAINS)
        return bk__error_set(err, BK_EINVAL, "%s: unknown operator %d", fn, (int)op);
    if (op == BK_OP_IS_NULL || op == BK_OP_IS_NOT_NULL)
        return BK_OK;
    if (c->json)
        return bk__error_set(err, BK_EINVAL, "%s: field %s is stored as JSON text: only "
            "IS_NULL and IS_NOT_NULL apply", fn, c->name);
    if ((op == BK_OP_PREFIX || op == BK_OP_CONTAINS) && c->t->kind != BK_STR)
        return bk__error_set(err, BK_EINVAL, "%s: field %s is not a string: PREFIX and "
            "CONTAINS apply to strings", fn, c->name);
    if (c->t->kind == BK_ENUM && op >= BK_OP_LT && op <= BK_OP_GE)
        return bk__error_set(err, BK_EINVAL, "%s: field %s is an enum: compare it with EQ, NE, "
            "IN or NOT_IN", fn, c->name);
    return BK_OK;
}

/* Convert a typed C value (of c's type, at p) to a bound value. */
static bk_status qval_from(qval *v, const bk__col *c, const void *p, const char *fn,
    bk_error **err)
{
    memset(v, 0, sizeof(*v));
    bk_kind k = c->t->kind;
    switch (k) {
    case BK_F32: case BK_F64:
        v->type = BK_SQL_REAL;
        v->f = k == BK_F32 ? (double)*(const float *)p : *(const double *)p;
        return BK_OK;
    case BK_STR: {
        const char *s = *(char *const *)p;
        if (!s) {
            v->type = BK_SQL_NULL;
            return BK_OK;
        }
        v->type = BK_SQL_TEXT;
        v->n = strlen(s);
        if (!(v->p = bk__strndup(s, v->n)))
            return bk__error_oom(err);
        return BK_OK;
    }
    case BK_BYTES: {
        const bk_bytes *b = p;
        v->type = BK_SQL_BLOB;
        v->n = b->len;
        if (!(v->p = bk__malloc(b->len ? b->len : 1)))
            return bk__error_oom(err);
        if (b->len)
            memcpy(v->p, b->data, b->len);
        return BK_OK;
    }
    case BK_UUID:
        v->type = BK_SQL_TEXT;
        v->n = 36;
        if (!(v->p = bk__malloc(37)))
            return bk__error_oom(err);
        bk__uuid_format(v->p, ((const bk_uuid *)p)->bytes);
        return BK_OK;
    case BK_ENUM: {
        int idx = *(const int *)p;
        const bk__enum *e = c->t->enm;
        if (idx < 0 || (size_t)idx >= e->n)
            return bk__error_set(err, BK_EINVAL, "%s: field %s: not a value of the enum", fn,
                c->name);
        v->type = BK_SQL_TEXT;
        v->n = e->lens[idx];
        if (!(v->p = bk__strndup(e->names[idx], v->n)))
            return bk__error_oom(err);
        return BK_OK;
    }
    case BK_U64:
        if (*(const uint64_t *)p > (uint64_t)INT64_MAX)
            return bk__error_set(err, BK_EINVAL, "%s: field %s: values above 2^63-1 are not "
                "stored", fn, c->name);
        /* fall through */
    default:
        v->type = BK_SQL_INTEGER;
        v->i = int_load(k, p);
        return BK_OK;
    }
}

static bk_status push_val(bk_query *q, qval *v, bk_error **err)
{
    if (q->nvals == q->cvals) {
        size_t nc = q->cvals ? q->cvals * 2 : 8;
        qval *nv = bk__realloc(q->vals, nc * sizeof(*nv));
        if (!nv) {
            qval_clear(v);
            return bk__error_oom(err);
        }
        q->vals = nv;
        q->cvals = nc;
    }
    q->vals[q->nvals++] = *v;
    return BK_OK;
}

/* Start a term: the joiner of the current group. */
static void term_begin(bk_query *q)
{
    if (q->groups[q->depth].count++ > 0)
        bk__sb_put(&q->where, q->groups[q->depth].any ? " OR " : " AND ");
}

/* Add "col op ?" with one value (taken). */
static bk_status add_cmp(bk_query *q, const bk__col *c, bk_op op, qval *v, bk_error **err)
{
    size_t mark = q->where.b.len;
    size_t count = q->groups[q->depth].count;
    term_begin(q);
    if (v->type == BK_SQL_NULL) {
        /* EQ null / NE null: IS [NOT] NULL */
        bk__sb_ident(&q->where, c->name);
        bk__sb_put(&q->where, op == BK_OP_EQ ? " IS NULL" : " IS NOT NULL");
        qval_clear(v);
    } else if (op == BK_OP_PREFIX || op == BK_OP_CONTAINS) {
        bk__sb_fmt(&q->where, "%s(", q->root->drv->find_function);
        bk__sb_ident(&q->where, c->name);
        bk__sb_put(&q->where, op == BK_OP_PREFIX ? ", ?) = 1" : ", ?) > 0");
    } else {
        bk__sb_ident(&q->where, c->name);
        bk__sb_put(&q->where, op_sql(op));
    }
    bk_status st = q->where.oom ? bk__error_oom(err) : BK_OK;
    if (st == BK_OK && v->type != BK_SQL_NULL)
        st = push_val(q, v, err);
    if (st != BK_OK) {
        q->where.b.len = mark;
        q->where.oom = false;
        q->groups[q->depth].count = count;
        qval_clear(v);
    }
    return st;
}

/* Add "col IN (?, ...)" / NOT IN with n values (taken). */
static bk_status add_in(bk_query *q, const bk__col *c, bool not_in, qval *vs, size_t n,
    bk_error **err)
{
    size_t mark = q->where.b.len, nv0 = q->nvals;
    size_t count = q->groups[q->depth].count;
    bk_status st = BK_OK;
    term_begin(q);
    size_t nonnull = 0;
    for (size_t i = 0; i < n; i++)
        nonnull += vs[i].type != BK_SQL_NULL;
    bool has_null = nonnull < n;
    if (nonnull == 0 && !has_null) {
        bk__sb_put(&q->where, not_in ? "1 = 1" : "1 = 0");
    } else {
        bk__sb_put(&q->where, "(");
        if (nonnull) {
            bk__sb_ident(&q->where, c->name);
            bk__sb_put(&q->where, not_in ? " NOT IN (" : " IN (");
            bool first = true;
            for (size_t i = 0; i < n; i++) {
                if (vs[i].type == BK_SQL_NULL)
                    continue;
                bk__sb_put(&q->where, first ? "?" : ", ?");
                first = false;
            }
            bk__sb_put(&q->where, ")");
        }
        if (has_null) {
            if (nonnull)
                bk__sb_put(&q->where, not_in ? " AND " : " OR ");
            bk__sb_ident(&q->where, c->name);
            bk__sb_put(&q->where, not_in ? " IS NOT NULL" : " IS NULL");
        }
        bk__sb_put(&q->where, ")");
    }
    if (q->where.oom)
        st = bk__error_oom(err);
    for (size_t i = 0; i < n; i++) {
        if (st == BK_OK && vs[i].type != BK_SQL_NULL)
            st = push_val(q, &vs[i], err);
        else
            qval_clear(&vs[i]);
    }
    if (st != BK_OK) {
        for (size_t i = nv0; i < q->nvals; i++)
            qval_clear(&q->vals[i]);
        q->nvals = nv0;
        q->where.b.len = mark;
        q->where.oom = false;
        q->groups[q->depth].count = count;
    }
    return st;
}

static bk_status add_null_test(bk_query *q, const bk__col *c, bool is_null, bk_error **err)
{
    qval v = { BK_SQL_NULL, 0, 0, NULL, 0 };
    return add_cmp(q, c, is_null ? BK_OP_EQ : BK_OP_NE, &v, err);
}

/* Decode one JSON value as a value of column c (type-checked by the codec). */
static bk_status qval_from_json(qval *v, const bk__col *c, const char *json, size_t len,
    const char *fn, bk_error **err)
{
    memset(v, 0, sizeof(*v));
    const char *p = json;
    while (len && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++, len--;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\n' ||
                   p[len - 1] == '\r'))
        len--;
    if (len == 4 && memcmp(p, "null", 4) == 0) {
        v->type = BK_SQL_NULL;
        return BK_OK;
    }
    void *tmp = bk__calloc(1, c->t->size ? c->t->size : 1);
    if (!tmp)
        return bk__error_oom(err);
    bk_error *e = NULL;
    bk_decode_options o = BK_DECODE_OPTIONS_INIT;
    o.skip_validation = true;
    o.max_errors = 1;
    bk_status st = bk__json_decode_type(tmp, c->t, p, len, &o, "$", &e);
    if (st == BK_ENOMEM)
        st = bk__error_oom(err);
    else if (st != BK_OK)
        st = bk__error_set(err, BK_EINVAL, "%s: field %s: the value does not fit its type "
            "(%s): %s", fn, c->name, c->t->expr ? c->t->expr : "?", bk_error_message(e));
    bk_error_free(e);
    if (st == BK_OK)
        st = qval_from(v, c, tmp, fn, err);
    bk__value_clear(c->t, tmp);
    bk__free(tmp);
    return st;
}

bk_status bk_query_where(bk_query *q, const char *field, bk_op op, const char *json_value,
    bk_error **err)
{
    static const char fn[] = "bk_query_where";
    bk_status st = query_check(q, fn, err);
    if (st != BK_OK)
        return st;
    const bk__col *c = find_col(q->t, field);
    if (!c)
        return bad_field(err, fn, q->t, field);
    if ((st = op_allowed(err, fn, c, op)) != BK_OK)
        return st;
    if (op == BK_OP_IS_NULL || op == BK_OP_IS_NOT_NULL)
        return add_null_test(q, c, op == BK_OP_IS_NULL, err);
    if (!json_value)
        return bk__error_set(err, BK_EINVAL, "%s: field %s: NULL value", fn, c->name);
    if (op == BK_OP_IN || op == BK_OP_NOT_IN) {
        json_error_t je;
        json_t *arr = json_loads(json_value, JSON_DECODE_ANY, &je);
        if (!arr || !json_is_array(arr)) {
            json_decref(arr);
            return bk__error_set(err, BK_EINVAL, "%s: field %s: IN and NOT_IN take a JSON "
                "array", fn, c->name);
        }
        size_t n = json_array_size(arr);
        qval *vs = bk__calloc(n ? n : 1, sizeof(*vs));
        if (!vs) {
            json_decref(arr);
            return bk__error_oom(err);
        }
        for (size_t i = 0; i < n && st == BK_OK; i++) {
            char *txt = json_dumps(json_array_get(arr, i), JSON_ENCODE_ANY | JSON_COMPACT);
            if (!txt) {
                st = bk__error_oom(err);
                break;
            }
            st = qval_from_json(&vs[i], c, txt, strlen(txt), fn, err);
            bk__json_free(txt);
        }
        json_decref(arr);
        if (st == BK_OK) {
            st = add_in(q, c, op == BK_OP_NOT_IN, vs, n, err);   /* takes vs' contents */
            bk__free(vs);
            return st;
        }
        for (size_t i = 0; i < n; i++)
            qval_clear(&vs[i]);
        bk__free(vs);
        return st;
    }
    qval v;
    if ((st = qval_from_json(&v, c, json_value, strlen(json_value), fn, err)) != BK_OK)
        return st;
    if (v.type == BK_SQL_NULL && op != BK_OP_EQ && op != BK_OP_NE)
        return bk__error_set(err, BK_EINVAL, "%s: field %s: null compares only with EQ and NE",
            fn, c->name);
    return add_cmp(q, c, op, &v, err);
}

/* Common checks of the typed where_* forms: single-value operators. */
static bk_status typed_prelude(bk_query *q, const char *fn, const char *field, bk_op op,
    const bk__col **out, bk_error **err)
{
    bk_status st = query_check(q, fn, err);
    if (st != BK_OK)
        return st;
    const bk__col *c = find_col(q->t, field);
    if (!c)
        return bad_field(err, fn, q->t, field);
    if ((st = op_allowed(err, fn, c, op)) != BK_OK)
        return st;
    if (op == BK_OP_IN || op == BK_OP_NOT_IN)
        return bk__error_set(err, BK_EINVAL, "%s: field %s: IN and NOT_IN take a JSON array "
            "(bk_query_where)", fn, c->name);
    *out = c;
    return BK_OK;
}

static bk_status wrong_type(bk_error **err, const char *fn, const bk__col *c, const char *what)
{
    return bk__error_set(err, BK_EINVAL, "%s: field %s is %s: it cannot be compared with %s",
        fn, c->name, c->t->expr ? c->t->expr : "?", what);
}

bk_status bk_query_where_i64(bk_query *q, const char *field, bk_op op, int64_t value,
    bk_error **err)
{
    static const char fn[] = "bk_query_where_i64";
    const bk__col *c;
    bk_status st = typed_prelude(q, fn, field, op, &c, err);
    if (st != BK_OK)
        return st;
    if (op == BK_OP_IS_NULL || op == BK_OP_IS_NOT_NULL)
        return add_null_test(q, c, op == BK_OP_IS_NULL, err);
    bk_kind k = c->t->kind;
    qval v = { BK_SQL_INTEGER, value, 0, NULL, 0 };
    if (k == BK_F32 || k == BK_F64) {
        v.type = BK_SQL_REAL;
        v.f = (double)value;
    } else if (!(kind_int(k) || k == BK_TIMESTAMP || k == BK_DATE)) {
        return wrong_type(err, fn, c, "an integer");
    }
    return add_cmp(q, c, op, &v, err);
}

bk_status bk_query_where_f64(bk_query *q, const char *field, bk_op op, double value,
    bk_error **err)
{
    static const char fn[] = "bk_query_where_f64";
    const bk__col *c;
    bk_status st = typed_prelude(q, fn, field, op, &c, err);
    if (st != BK_OK)
        return st;
    if (op == BK_OP_IS_NULL || op == BK_OP_IS_NOT_NULL)
        return add_null_test(q, c, op == BK_OP_IS_NULL, err);
    bk_kind k = c->t->kind;
    if (!(kind_int(k) || k == BK_F32 || k == BK_F64))
        return wrong_type(err, fn, c, "a number");
    if (value != value || value - value != 0)
        return bk__error_set(err, BK_EINVAL, "%s: field %s: not a finite number", fn, c->name);
    qval v = { BK_SQL_REAL, 0, value, NULL, 0 };
    return add_cmp(q, c, op, &v, err);
}

bk_status bk_query_where_str(bk_query *q, const char *field, bk_op op, const char *value,
    bk_error **err)
{
    static const char fn[] = "bk_query_where_str";
    const bk__col *c;
    bk_status st = typed_prelude(q, fn, field, op, &c, err);
    if (st != BK_OK)
        return st;
    if (op == BK_OP_IS_NULL || op == BK_OP_IS_NOT_NULL)
        return add_null_test(q, c, op == BK_OP_IS_NULL, err);
    if (!value)
        return bk__error_set(err, BK_EINVAL, "%s: field %s: NULL value", fn, c->name);
    size_t n = strlen(value);
    qval v = { BK_SQL_TEXT, 0, 0, NULL, n };
    switch (c->t->kind) {
    case BK_STR:
        if (!bk__utf8_valid((const unsigned char *)value, n))
            return bk__error_set(err, BK_EINVAL, "%s: field %s: the value is not UTF-8", fn,
                c->name);
        break;
    case BK_ENUM: {
        if (bk__enum_find(c->t->enm, value, n) == c->t->enm->n)
            return bk__error_set(err, BK_EINVAL, "%s: field %s: not a name of the enum", fn,
                c->name);
        break;
    }
    case BK_UUID: {
        bk_uuid u;
        if (!bk__uuid_parse(value, n, u.bytes))
            return bk__error_set(err, BK_EINVAL, "%s: field %s: not a uuid", fn, c->name);
        return qval_from(&v, c, &u, fn, err) == BK_OK ? add_cmp(q, c, op, &v, err)
                                                     : BK_ENOMEM;
    }
    case BK_TIMESTAMP: {
        int64_t us;
        if (!bk__ts_parse(value, n, &us))
            return bk__error_set(err, BK_EINVAL, "%s: field %s: not an RFC 3339 timestamp", fn,
                c->name);
        v.type = BK_SQL_INTEGER;
        v.i = us;
        v.n = 0;
        return add_cmp(q, c, op, &v, err);
    }
    case BK_DATE: {
        int32_t days;
        if (!bk__date_parse(value, n, &days))
            return bk__error_set(err, BK_EINVAL, "%s: field %s: not a date (YYYY-MM-DD)", fn,
                c->name);
        v.type = BK_SQL_INTEGER;
        v.i = days;
        v.n = 0;
        return add_cmp(q, c, op, &v, err);
    }
    default:
        return wrong_type(err, fn, c, "a string");
    }
    if (!(v.p = bk__strndup(value, n)))
        return bk__error_oom(err);
    return add_cmp(q, c, op, &v, err);
}

bk_status bk_query_where_bool(bk_query *q, const char *field, bk_op op, bool value,
    bk_error **err)
{
    static const char fn[] = "bk_query_where_bool";
    const bk__col *c;
    bk_status st = typed_prelude(q, fn, field, op, &c, err);
    if (st != BK_OK)
        return st;
    if (op == BK_OP_IS_NULL || op == BK_OP_IS_NOT_NULL)
        return add_null_test(q, c, op == BK_OP_IS_NULL, err);
    if (c->t->kind != BK_BOOL)
        return wrong_type(err, fn, c, "a bool");
    qval v = { BK_SQL_INTEGER, value ? 1 : 0, 0, NULL, 0 };
    return add_cmp(q, c, op, &v, err);
}

bk_status bk_query_group_begin(bk_query *q, bool any, bk_error **err)
{
    bk_status st = query_check(q, "bk_query_group_begin", err);
    if (st != BK_OK)
        return st;
    if (q->depth >= MAX_GROUPS)
        return bk__error_set(err, BK_EINVAL, "bk_query_group_begin: groups nest deeper than %d",
            MAX_GROUPS);
    size_t mark = q->where.b.len;
    size_t count = q->groups[q->depth].count;
    term_begin(q);
    bk__sb_put(&q->where, "(");
    if (q->where.oom) {
        q->where.b.len = mark;
        q->where.oom = false;
        q->groups[q->depth].count = count;
        return bk__error_oom(err);
    }
    q->depth++;
    q->groups[q->depth].any = any;
    q->groups[q->depth].count = 0;
    return BK_OK;
}

bk_status bk_query_group_end(bk_query *q, bk_error **err)
{
    bk_status st = query_check(q, "bk_query_group_end", err);
    if (st != BK_OK)
        return st;
    if (q->depth == 0)
        return bk__error_set(err, BK_EINVAL, "bk_query_group_end: no group is open");
    size_t mark = q->where.b.len;
    if (q->groups[q->depth].count == 0)
        bk__sb_put(&q->where, q->groups[q->depth].any ? "1 = 0" : "1 = 1");
    bk__sb_put(&q->where, ")");
    if (q->where.oom) {
        q->where.b.len = mark;
        q->where.oom = false;
        return bk__error_oom(err);
    }
    q->depth--;
    return BK_OK;
}

bk_status bk_query_order_by(bk_query *q, const char *field, bool descending, bk_error **err)
{
    static const char fn[] = "bk_query_order_by";
    bk_status st = query_check(q, fn, err);
    if (st != BK_OK)
        return st;
    const bk__col *c = find_col(q->t, field);
    if (!c)
        return bad_field(err, fn, q->t, field);
    if (c->json)
        return bk__error_set(err, BK_EINVAL, "%s: field %s is stored as JSON text and cannot "
            "order rows", fn, c->name);
    if (q->norder == q->corder) {
        size_t nc = q->corder ? q->corder * 2 : 4;
        okey *n = bk__realloc(q->order, nc * sizeof(*n));
        if (!n)
            return bk__error_oom(err);
        q->order = n;
        q->corder = nc;
    }
    q->order[q->norder].col = (size_t)(c - q->t->cols);
    q->order[q->norder].desc = descending;
    q->norder++;
    return BK_OK;
}

bk_status bk_query_limit(bk_query *q, size_t limit, bk_error **err)
{
    bk_status st = query_check(q, "bk_query_limit", err);
    if (st != BK_OK)
        return st;
    q->has_limit = true;
    q->limit = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
    return BK_OK;
}

bk_status bk_query_offset(bk_query *q, size_t offset, bk_error **err)
{
    bk_status st = query_check(q, "bk_query_offset", err);
    if (st != BK_OK)
        return st;
    q->offset = offset > (size_t)INT64_MAX ? INT64_MAX : (int64_t)offset;
    return BK_OK;
}

/* Number of keys of the full ordering: the requested ones up to the
 * primary key (later ones never matter: the key is unique), then the key
 * unless it was named. */
static size_t order_count(const bk_query *q)
{
    for (size_t i = 0; i < q->norder; i++)
        if (q->order[i].col == q->t->pk)
            return i + 1;
    return q->norder + 1;
}

static void order_fill(okey *k, size_t n, const bk_query *q)
{
    for (size_t i = 0; i < n; i++) {
        if (i < q->norder) {
            k[i] = q->order[i];
        } else {
            k[i].col = q->t->pk;
            k[i].desc = false;
        }
    }
}

/* 16 hex digits binding a token to the table and its ordering (made once
 * per table for the ordering by the key alone). */
static void order_hash(char out[17], const bk__table *t, const okey *k, size_t n)
{
    if (n == 1 && k[0].col == t->pk && t->key_hash[k[0].desc][0]) {
        memcpy(out, t->key_hash[k[0].desc], 17);
        return;
    }
    order_hash_calc(out, t, k, n);
}

/* base64url without padding <-> bytes */
/* Encode p[0..n) at o (room for (n + 2) / 3 * 4 + 1 bytes), NUL-terminated;
 * returns the end (at the NUL). */
static char *b64url_enc(char *o, const unsigned char *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = a[v >> 18];
        *o++ = a[v >> 12 & 63];
        *o++ = a[v >> 6 & 63];
        *o++ = a[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        *o++ = a[v >> 18];
        *o++ = a[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *o++ = a[v >> 18];
        *o++ = a[v >> 12 & 63];
        *o++ = a[v >> 6 & 63];
    }
    *o = '\0';
    return o;
}

static void b64url_put(bk__sb *out, const unsigned char *p, size_t n)
{
    if (out->oom || bk__buf_reserve(&out->b, (n + 2) / 3 * 4) != BK_OK) {
        out->oom = true;
        return;
    }
    char *o = b64url_enc(out->b.ptr + out->b.len, p, n);
    out->b.len = (size_t)(o - out->b.ptr);
}

/* base64url digit values; -1: not a digit */
static const signed char k_b64url[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* Decode into a new buffer (NUL-terminated), or into `room` (of `nroom`
 * bytes) when it fits: *out is then room; false on bad input or OOM (*oom
 * says which). Four digits a step. */
static bool b64url_decode(char **out, size_t *n_out, const char *s, bool *oom, char *room,
    size_t nroom)
{
    size_t n = strlen(s);
    *oom = false;
    if (n % 4 == 1 || n > ((size_t)1 << 20))
        return false;
    char *bin = n / 4 * 3 + 3 <= nroom ? room : bk__malloc(n / 4 * 3 + 3);
    if (!bin) {
        *oom = true;
        return false;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0, i = 0;
    bool ok = true;
    for (; i + 4 <= n; i += 4) {
        int a = k_b64url[u[i]], b = k_b64url[u[i + 1]], c = k_b64url[u[i + 2]],
            d = k_b64url[u[i + 3]];
        if ((a | b | c | d) < 0) {
            ok = false;
            break;
        }
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        bin[o++] = (char)(v >> 16);
        bin[o++] = (char)(v >> 8 & 0xff);
        bin[o++] = (char)(v & 0xff);
    }
    if (ok && i < n) {
        /* 2 or 3 digits left: 1 or 2 bytes, the rest padding bits that must
         * be zero (else it is not ours) */
        int a = k_b64url[u[i]], b = k_b64url[u[i + 1]], c = n - i == 3 ? k_b64url[u[i + 2]] : 0;
        if ((a | b | c) < 0) {
            ok = false;
        } else if (n - i == 2) {
            uint32_t v = (uint32_t)a << 6 | (uint32_t)b;
            ok = (v & 15) == 0;
            bin[o++] = (char)(v >> 4);
        } else {
            uint32_t v = (uint32_t)a << 12 | (uint32_t)b << 6 | (uint32_t)c;
            ok = (v & 3) == 0;
            bin[o++] = (char)(v >> 10);
            bin[o++] = (char)(v >> 2 & 0xff);
        }
    }
    if (!ok) {
        if (bin != room)
            bk__free(bin);
        return false;
    }
    bin[o] = '\0';
    *out = bin;
    *n_out = o;
    return true;
}

static void put_i64(bk__sb *s, int64_t v)
{
    char buf[24], *e = buf + sizeof(buf), *p = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    bk__sb_putn(s, p, (size_t)(e - p));
}

/* Append v as a JSON value (the token's elements). */
static void json_val(bk__sb *s, const qval *v)
{
    char num[40];
    switch (v->type) {
    case BK_SQL_INTEGER:
        put_i64(s, v->i);
        return;
    case BK_SQL_REAL:
        bk__sb_putn(s, num, bk__fmt_double(num, v->f));
        return;
    case BK_SQL_TEXT: {
        static const char hex[] = "0123456789abcdef";
        bk__sb_put(s, "\"");
        size_t from = 0;
        for (size_t i = 0; i < v->n; i++) {
            unsigned char ch = (unsigned char)v->p[i];
            if (ch != '"' && ch != '\\' && ch >= 0x20)
                continue;
            bk__sb_putn(s, v->p + from, i - from);
            from = i + 1;
            if (ch == '"' || ch == '\\') {
                char e[2] = { '\\', (char)ch };
                bk__sb_putn(s, e, 2);
            } else {
                char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
                bk__sb_putn(s, e, 6);
            }
        }
        bk__sb_putn(s, v->p + from, v->n - from);
        bk__sb_put(s, "\"");
        return;
    }
    case BK_SQL_BLOB: {
        size_t m = bk__b64_encoded_len(v->n);
        if (s->oom || bk__buf_reserve(&s->b, m + 2) != BK_OK) {
            s->oom = true;
            return;
        }
        s->b.ptr[s->b.len++] = '"';
        bk__b64_encode(s->b.ptr + s->b.len, (const unsigned char *)v->p, v->n);
        s->b.len += m;
        bk__sb_put(s, "\"");
        return;
    }
    default:
        bk__sb_put(s, "null");
        return;
    }
}

/* ---- reading a token: a small JSON reader for ["hash", v, ...] ----------------- */

typedef struct tok {
    const char *p, *e;
} tok;

static void tok_ws(tok *t)
{
    while (t->p < t->e && (*t->p == ' ' || *t->p == '\t' || *t->p == '\n' || *t->p == '\r'))
        t->p++;
}

static bool tok_lit(tok *t, char ch)
{
    tok_ws(t);
    if (t->p < t->e && *t->p == ch) {
        t->p++;
        return true;
    }
    return false;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A JSON string into a new buffer (UTF-8); 0 bad, 1 ok, -1 OOM. */
static int tok_str(tok *t, char **out, size_t *n_out)
{
    tok_ws(t);
    if (t->p >= t->e || *t->p != '"')
        return 0;
    t->p++;
    char *o = bk__malloc((size_t)(t->e - t->p) + 1);
    if (!o)
        return -1;
    size_t n = 0;
    while (t->p < t->e && *t->p != '"') {
        unsigned char ch = (unsigned char)*t->p++;
        if (ch < 0x20)
            break;
        if (ch != '\\') {
            o[n++] = (char)ch;
            continue;
        }
        if (t->p >= t->e)
            break;
        char esc = *t->p++;
        uint32_t cp;
        switch (esc) {
        case '"': case '\\': case '/': o[n++] = esc; continue;
        case 'b': o[n++] = '\b'; continue;
        case 'f': o[n++] = '\f'; continue;
        case 'n': o[n++] = '\n'; continue;
        case 'r': o[n++] = '\r'; continue;
        case 't': o[n++] = '\t'; continue;
        case 'u': {
            int v = t->e - t->p >= 4 ? hex4(t->p) : -1;
            if (v < 0)
                goto bad;
            t->p += 4;
            cp = (uint32_t)v;
            if (cp >= 0xD800 && cp < 0xDC00) {
                int lo = t->e - t->p >= 6 && t->p[0] == '\\' && t->p[1] == 'u' ? hex4(t->p + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    goto bad;
                t->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                goto bad;
            }
            break;
        }
        default:
            goto bad;
        }
        /* cp -> UTF-8 (at most 4 bytes; the 6-byte escape made room) */
        if (cp == 0)
            goto bad;                     /* NUL is not allowed in our strings */
        if (cp < 0x80) {
            o[n++] = (char)cp;
        } else if (cp < 0x800) {
            o[n++] = (char)(0xC0 | cp >> 6);
            o[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            o[n++] = (char)(0xE0 | cp >> 12);
            o[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
            o[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            o[n++] = (char)(0xF0 | cp >> 18);
            o[n++] = (char)(0x80 | (cp >> 12 & 0x3F));
            o[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
            o[n++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    if (t->p >= t->e || *t->p != '"')
        goto bad;
    t->p++;
    o[n] = '\0';
    if (!utf8_ok(o, n))
        goto bad;
    *out = o;
    *n_out = n;
    return 1;
bad:
    bk__free(o);
    return 0;
}

/* The text of a JSON number (not converted). */
static bool tok_num(tok *t, const char **s, size_t *n, bool *integral)
{
    tok_ws(t);
    const char *p = t->p;
    *integral = true;
    if (p < t->e && *p == '-')
        p++;
    const char *digits = p;
    while (p < t->e && *p >= '0' && *p <= '9')
        p++;
    if (p == digits)
        return false;
    if (p < t->e && *p == '.') {
        *integral = false;
        p++;
        while (p < t->e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < t->e && (*p == 'e' || *p == 'E')) {
        *integral = false;
        p++;
        if (p < t->e && (*p == '+' || *p == '-'))
            p++;
        while (p < t->e && *p >= '0' && *p <= '9')
            p++;
    }
    *s = t->p;
    *n = (size_t)(p - t->p);
    t->p = p;
    return true;
}

static bool parse_i64(const char *s, size_t n, int64_t *out)
{
    bool neg = n && *s == '-';
    size_t i = neg;
    if (i == n || n - i > 19)
        return false;
    uint64_t v = 0;
    for (; i < n; i++)
        v = v * 10 + (uint64_t)(s[i] - '0');
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/*
 * The last single-integer-key token this thread wrote (bk_cursor_token),
 * with its value: bk_query_after given that same text back for an
 * ordering of the same hash (a page loop) takes the value without
 * decoding it. The text determines what parse_token reads: the same
 * hash, then the value, which fits an INTEGER column (checked on use).
 */
typedef struct tok_memo {
    char hash[17];
    char text[48];             /* NUL-terminated; empty: nothing kept */
    size_t n;                  /* strlen(text) */
    int64_t v;
} tok_memo;

static _Thread_local tok_memo t_tok;

static void tok_memo_put(const char hash[17], const char *text, size_t size, int64_t v)
{
    tok_memo *m = &t_tok;
    if (size > sizeof(m->text)) {
        m->text[0] = '\0';
        return;
    }
    memcpy(m->hash, hash, 17);
    memcpy(m->text, text, size);
    m->n = size - 1;
    m->v = v;
}

/* The value of token when it is the memo's text for this hash, read as
 * parse_token would read it for an INTEGER key column. */
static bool tok_memo_get(const char hash[17], const char *token, int64_t *v)
{
    const tok_memo *m = &t_tok;
    if (!m->text[0] || memcmp(m->hash, hash, 17) != 0 || strncmp(token, m->text, m->n + 1) != 0)
        return false;
    *v = m->v;
    return true;
}

/*
 * Read a keyset token: base64url of ["<order hash>", v1, ..., vn] where the
 * v are the stored values of the order keys (then the key) of the last row
 * seen. Checked against the query's current ordering and column types.
 */
static bk_status parse_token(bk_query *q, const char *token, bk_error **err)
{
    static const char fn[] = "bk_query_after";
    size_t nkeys = order_count(q);
    okey keys_small[8], *keys = keys_small;
    char *bin = NULL, *hs = NULL;
    size_t bn = 0, hn = 0;
    qval *vals = NULL, vals_room[2];
    bool oom = false;
    bk_status st = BK_OK;
    if (nkeys > 8 && !(keys = bk__malloc(nkeys * sizeof(*keys))))
        return bk__error_oom(err);
    order_fill(keys, nkeys, q);
    char hash[17];
    order_hash(hash, q->t, keys, nkeys);
    int64_t memo_v;
    if (nkeys == 1 && q->t->cols[keys[0].col].sql == BK_SQL_INTEGER &&
            tok_memo_get(hash, token, &memo_v)) {
        /* (nkeys 1: keys is keys_small, and no values are allocated) */
        for (size_t i = 0; i < q->nafter; i++)
            qval_clear(&q->after[i]);
        if (q->after != q->after_room)
            bk__free(q->after);
        memset(q->after_room, 0, sizeof(q->after_room[0]));
        q->after_room[0].type = BK_SQL_INTEGER;
        q->after_room[0].i = memo_v;
        q->after = q->after_room;
        q->nafter = 1;
        memcpy(q->after_hash, hash, sizeof(hash));
        return BK_OK;
    }
    char room[192];
    if (!b64url_decode(&bin, &bn, token, &oom, room, sizeof(room))) {
        st = oom ? bk__error_oom(err)
                 : bk__error_set(err, BK_EINVAL, "%s: not a token of bk_cursor_token()", fn);
        goto done;
    }
    tok t = { bin, bin + bn };
    int r = 1;
    if (!tok_lit(&t, '[')) {
        st = bk__error_set(err, BK_EINVAL, "%s: not a token of bk_cursor_token()", fn);
        goto done;
    }
    tok_ws(&t);
    if (t.e - t.p >= 18 && t.p[0] == '"' && t.p[17] == '"' && memcmp(t.p + 1, hash, 16) == 0) {
        t.p += 18;                        /* the hash as we write it */
    } else if ((r = tok_str(&t, &hs, &hn)) == 0) {
        st = bk__error_set(err, BK_EINVAL, "%s: not a token of bk_cursor_token()", fn);
        goto done;
    }
    if (r < 0) {
        st = bk__error_oom(err);
        goto done;
    }
    if (hs && strcmp(hs, hash) != 0) {
        st = bk__error_set(err, BK_EINVAL, "%s: the token belongs to a query with another "
            "table or ordering", fn);
        goto done;
    }
    if (nkeys <= 2) {
        memset(vals_room, 0, sizeof(vals_room));
        vals = vals_room;
    } else if (!(vals = bk__calloc(nkeys, sizeof(*vals)))) {
        st = bk__error_oom(err);
        goto done;
    }
    for (size_t i = 0; i < nkeys && st == BK_OK; i++) {
        const bk__col *c = &q->t->cols[keys[i].col];
        qval *v = &vals[i];
        bool ok = tok_lit(&t, ',');
        tok_ws(&t);
        if (ok && t.e - t.p >= 4 && memcmp(t.p, "null", 4) == 0) {
            t.p += 4;
            ok = c->nullable;
            v->type = BK_SQL_NULL;
        } else if (ok && (c->sql == BK_SQL_INTEGER || c->sql == BK_SQL_REAL)) {
            const char *ns;
            size_t nn;
            bool integral;
            ok = tok_num(&t, &ns, &nn, &integral);
            if (ok && c->sql == BK_SQL_INTEGER) {
                v->type = BK_SQL_INTEGER;
                ok = integral && parse_i64(ns, nn, &v->i);
            } else if (ok) {
                v->type = BK_SQL_REAL;
                ok = bk__parse_double(ns, nn, &v->f);
            }
        } else if (ok) {
            char *str = NULL;
            size_t sn = 0;
            r = tok_str(&t, &str, &sn);
            ok = r != 0;
            if (r < 0)
                st = bk__error_oom(err);
            if (r > 0 && c->sql == BK_SQL_BLOB) {
                unsigned char *b = bk__malloc(sn / 4 * 3 + 4);
                size_t bl = 0;
                if (!b)
                    st = bk__error_oom(err);
                else if (!bk__b64_decode(b, &bl, str, sn))
                    ok = false;
                bk__free(str);
                v->type = BK_SQL_BLOB;
                v->p = (char *)b;
                v->n = bl;
            } else if (r > 0) {
                v->type = BK_SQL_TEXT;
                v->p = str;
                v->n = sn;
            }
        }
        if (st == BK_OK && !ok)
            st = bk__error_set(err, BK_EINVAL, "%s: the token's value for %s does not fit the "
                "column", fn, c->name);
    }
    if (st == BK_OK && (!tok_lit(&t, ']') || (tok_ws(&t), t.p != t.e)))
        st = bk__error_set(err, BK_EINVAL, "%s: not a token of bk_cursor_token()", fn);
    if (st != BK_OK)
        goto done;
    for (size_t i = 0; i < q->nafter; i++)
        qval_clear(&q->after[i]);
    if (q->after != q->after_room)
        bk__free(q->after);
    if (vals == vals_room) {
        memcpy(q->after_room, vals_room, nkeys * sizeof(*vals));
        vals = q->after_room;
    }
    q->after = vals;
    q->nafter = nkeys;
    memcpy(q->after_hash, hash, sizeof(hash));
    vals = NULL;
done:
    if (vals) {
        for (size_t i = 0; i < nkeys; i++)
            qval_clear(&vals[i]);
        if (vals != vals_room)
            bk__free(vals);
    }
    bk__free(hs);
    if (bin != room)
        bk__free(bin);
    if (keys != keys_small)
        bk__free(keys);
    return st;
}

bk_status bk_query_after(bk_query *q, const char *token, bk_error **err)
{
    bk_status st = query_check(q, "bk_query_after", err);
    if (st != BK_OK)
        return st;
    if (!token)
        return bk__error_set(err, BK_EINVAL, "bk_query_after: NULL token");
    return parse_token(q, token, err);
}

/* Bind value v as parameter i. Text and blobs are bound without a copy:
 * v must stay unchanged until the statement is reset (see
 * bind_qval_copy for a cursor). */
static bk_status bind_qval(const bk_store_driver *d, bk_store_stmt *s, int i, const qval *v,
    bk_error **err)
{
    const bk_store_value sv = { v->type, v->i, v->f, v->p, v->n };
    return bind_store_value(d, s, i, &sv, err);
}

/* Bind value v as parameter i from a copy of its text or blob made at *at
 * (advanced past it), for statements that outlive the call: a cursor is
 * stepped after its query may have been freed or changed. */
static bk_status bind_qval_copy(const bk_store_driver *d, bk_store_stmt *s, int i, const qval *v,
    char **at, bk_error **err)
{
    if (v->type != BK_SQL_TEXT && v->type != BK_SQL_BLOB)
        return bind_qval(d, s, i, v, err);
    qval cp = *v;
    cp.p = NULL;               /* n == 0: an empty value (not NULL) */
    if (cp.n) {
        memcpy(*at, v->p, v->n);
        cp.p = *at;
        *at += v->n;
    }
    return bind_qval(d, s, i, &cp, err);
}

/*
 * The keyset condition "after the row with key values v": for keys
 * k1..kn, OR over i of (k1 = v1 AND ... AND k(i-1) = v(i-1) AND ki after
 * vi), with NULLs ordered first ascending and last descending (written
 * out with NULLS FIRST / LAST in ORDER BY, so every engine agrees).
 * Parameters are appended to *pv in order.
 */
static void after_sql(bk__sb *s, const bk_query *q, const okey *k, size_t n,
    const qval **pv, size_t *npv)
{
    const bk__table *t = q->t;
    bk__sb_put(s, "(");
    for (size_t i = 0; i < n; i++) {
        if (i)
            bk__sb_put(s, " OR ");
        bk__sb_put(s, "(");
        for (size_t j = 0; j < i; j++) {
            bk__sb_ident(s, t->cols[k[j].col].name);
            if (q->after[j].type == BK_SQL_NULL) {
                bk__sb_put(s, " IS NULL AND ");
            } else {
                bk__sb_put(s, " = ? AND ");
                pv[(*npv)++] = &q->after[j];
            }
        }
        const char *name = t->cols[k[i].col].name;
        bool null = q->after[i].type == BK_SQL_NULL;
        if (!k[i].desc) {
            bk__sb_ident(s, name);
            if (null) {
                bk__sb_put(s, " IS NOT NULL");
            } else {
                bk__sb_put(s, " > ?");
                pv[(*npv)++] = &q->after[i];
            }
        } else if (null) {
            bk__sb_put(s, "1 = 0");
        } else {
            bk__sb_put(s, "(");
            bk__sb_ident(s, name);
            bk__sb_put(s, " < ?");
            pv[(*npv)++] = &q->after[i];
            if (t->cols[k[i].col].nullable) {
                bk__sb_put(s, " OR ");
                bk__sb_ident(s, name);
                bk__sb_put(s, " IS NULL");
            }
            bk__sb_put(s, ")");
        }
        bk__sb_put(s, ")");
    }
    bk__sb_put(s, ")");
}

static bk_status query_ready(bk_query *q, const char *fn, bk_error **err)
{
    bk_status st = query_check(q, fn, err);
    if (st != BK_OK)
        return st;
    if ((st = bk__store_check(q->store, fn, err)) != BK_OK)
        return st;
    if (q->depth)
        return bk__error_set(err, BK_EINVAL, "%s: %d group(s) are still open", fn, q->depth);
    if (q->where.oom)
        return bk__error_oom(err);
    return BK_OK;
}

bk_status bk_query_count(int64_t *out, bk_query *q, bk_error **err)
{
    static const char fn[] = "bk_query_count";
    if (!out)
        return bk__error_set(err, BK_EINVAL, "%s: NULL out", fn);
    *out = 0;
    bk_status st = query_ready(q, fn, err);
    if (st != BK_OK)
        return st;
    bk__sb s = { BK_BUF_INIT, false };
    bk__sb_put(&s, "SELECT COUNT(*) FROM ");
    bk__sb_ident(&s, q->t->name);
    if (q->where.b.len) {
        bk__sb_put(&s, " WHERE ");
        bk__sb_putn(&s, q->where.b.ptr, q->where.b.len);
    }
    bk__sql sql;
    if (bk__sql_finish(&sql, q->root->drv, &s) != BK_OK)
        return bk__error_oom(err);
    bk__conn *c;
    bool rel;
    bk__stmt *e = NULL;
    if ((st = bk__conn_for(&c, &rel, q->store, false, err)) != BK_OK)
        goto out;
    if ((st = bk__stmt_get(&e, c, &sql, err)) != BK_OK)
        goto done;
    for (size_t i = 0; i < q->nvals && st == BK_OK; i++)
        st = bind_qval(c->drv, e->s, (int)i + 1, &q->vals[i], err);
    if (st == BK_OK && (st = c->drv->step(e->s, err)) == BK_OK)
        *out = c->drv->column_i64(e->s, 0);
    else if (st == BK_ITEROVER)
        st = bk__error_set(err, BK_EIO, "%s: COUNT returned no row", fn);
done:
    bk__stmt_put(c, e);
    if (rel)
        bk__conn_release(q->root, c);
out:
    bk__free(sql.text);
    return st;
}

static bool cursor_ok(const bk_cursor *c) { return c && c->magic == BK__MAGIC_CURSOR; }

static void cursor_finish(bk_cursor *cur)
{
    if (cur->st) {
        bk__stmt_put(cur->conn, cur->st);
        cur->st = NULL;
    }
    if (cur->conn) {
        if (cur->release)
            bk__conn_release(cur->root, cur->conn);
        else if (cur->store->magic == BK__MAGIC_TX)
            cur->store->cursors--;
        cur->conn = NULL;
    }
    cur->done = true;
}

void bk_cursor_free(bk_cursor *c)
{
    if (!cursor_ok(c))
        return;
    cursor_finish(c);
    for (size_t i = 0; c->lastbuf && i < c->nkeys; i++)
        bk_buf_dispose(&c->lastbuf[i]);
    bk__free(c->bound);
    bk_store *root = c->root;
    c->magic = 0;
    if (c->nkeys == 1)
        spare_keep(&((bk__table *)c->t)->spare_cursor, c);
    else
        bk__free(c);
    bk__store_unref(root);
}

/*
 * Run: SELECT <columns> FROM t [WHERE (<filters>) [AND <keyset>]] ORDER BY
 * <keys> LIMIT ? [OFFSET ?] (OFFSET only when not 0). The cursor holds a connection (its own pooled
 * one, or the transaction's) and the statement until it is exhausted or
 * freed. One allocation for the cursor and its arrays.
 */
bk_status bk_query_run(bk_cursor **out, bk_query *q, bk_error **err)
{
    static const char fn[] = "bk_query_run";
    if (!out)
        return bk__error_set(err, BK_EINVAL, "%s: NULL out", fn);
    *out = NULL;
    bk_status st = query_ready(q, fn, err);
    if (st != BK_OK)
        return st;
    const bk__table *t = q->t;
    size_t nkeys = order_count(q);
    size_t head = (sizeof(bk_cursor) + 15) & ~(size_t)15;
    size_t size = head + nkeys * (sizeof(okey) + sizeof(qval) + sizeof(bk_buf));
    bk_cursor *cur = nkeys == 1 ? spare_take(&((bk__table *)t)->spare_cursor) : NULL;
    if (cur)
        memset(cur, 0, size);     /* (a spare was made for one key: this size) */
    else if (!(cur = bk__calloc(1, size)))
        return bk__error_oom(err);
    cur->magic = BK__MAGIC_CURSOR;
    cur->store = q->store;
    cur->root = q->root;
    cur->t = t;
    cur->thread = pthread_self();
    cur->nkeys = nkeys;
    cur->last = (qval *)(void *)((char *)cur + head);
    cur->lastbuf = (bk_buf *)(void *)(cur->last + nkeys);
    cur->keys = (okey *)(void *)(cur->lastbuf + nkeys);
    order_fill(cur->keys, nkeys, q);
    atomic_fetch_add(&q->root->refs, 1);
    const qval *pv_small[16], **pv = pv_small;
    size_t npv = 0;
    bk__sql sql = { NULL, 0, 0, 0 };
    bk__sb s = { BK_BUF_INIT, false };
    order_hash(cur->hash, t, cur->keys, nkeys);
    if (q->after && strcmp(q->after_hash, cur->hash) != 0) {
        st = bk__error_set(err, BK_EINVAL, "%s: the token of bk_query_after() was made for "
            "another ordering", fn);
        goto fail;
    }
    size_t maxpv = q->nafter * (q->nafter + 1) / 2;
    if (maxpv > 16 && !(pv = bk__malloc(maxpv * sizeof(*pv)))) {
        pv = pv_small;
        st = bk__error_oom(err);
        goto fail;
    }
    /* the common shapes come from the table's cache once made */
    int shape = -1;
    if (!q->where.b.len && nkeys == 1 && !q->offset &&
            (!q->after || q->after[0].type != BK_SQL_NULL))
        shape = (cur->keys[0].desc ? 2 : 0) + (q->after ? 1 : 0);
    _Atomic(bk__sql *) *slot = shape >= 0 ? &((bk__table *)t)->page_sql[shape] : NULL;
    const bk__sql *use = slot ? atomic_load_explicit(slot, memory_order_acquire) : NULL;
    if (use) {
        if (q->after)
            pv[npv++] = &q->after[0];   /* what after_sql binds for one key */
        goto have_sql;
    }
    bk__sb_put(&s, t->select_from);
    if (q->where.b.len || q->after) {
        bk__sb_put(&s, " WHERE ");
        if (q->where.b.len) {
            bk__sb_put(&s, "(");
            bk__sb_putn(&s, q->where.b.ptr, q->where.b.len);
            bk__sb_put(&s, ")");
        }
        if (q->where.b.len && q->after)
            bk__sb_put(&s, " AND ");
        if (q->after)
            after_sql(&s, q, cur->keys, nkeys, pv, &npv);
    }
    bk__sb_put(&s, " ORDER BY ");
    for (size_t i = 0; i < nkeys; i++) {
        const bk__col *c = &t->cols[cur->keys[i].col];
        if (i)
            bk__sb_put(&s, ", ");
        bk__sb_ident(&s, c->name);
        if (cur->keys[i].desc)
            bk__sb_put(&s, c->nullable ? " DESC NULLS LAST" : " DESC");
        else if (c->nullable)
            bk__sb_put(&s, " NULLS FIRST");
    }
    bk__sb_put(&s, q->offset ? " LIMIT ? OFFSET ?" : " LIMIT ?");
    if (bk__sql_finish(&sql, q->root->drv, &s) != BK_OK) {
        st = bk__error_oom(err);
        goto fail;
    }
    use = &sql;
    if (slot) {
        /* publish it (a racing query may have done so first: keep ours) */
        bk__sql *box = bk__malloc(sizeof(*box)), *none = NULL;
        if (box) {
            *box = sql;
            if (t->slot_base)
                box->slot = t->slot_base + BK__SLOT_PAGE + (uint32_t)shape;
            if (atomic_compare_exchange_strong_explicit(slot, &none, box,
                    memory_order_acq_rel, memory_order_acquire)) {
                memset(&sql, 0, sizeof(sql));
                use = box;
            } else {
                bk__free(box);
            }
        }
    }
have_sql:
    if ((st = bk__conn_for(&cur->conn, &cur->release, q->store, false, err)) != BK_OK) {
        cur->conn = NULL;
        goto fail;
    }
    if (!cur->release)
        q->store->cursors++;
    if ((st = bk__stmt_get(&cur->st, cur->conn, use, err)) != BK_OK) {
        cur->st = NULL;
        goto fail;
    }
    /* The statement is stepped after this call, maybe after the query
     * is freed: text and blob values are bound from the cursor's own
     * copies (one allocation, only when there are any). */
    size_t nbound = 0;
    for (size_t i = 0; i < q->nvals; i++)
        if (q->vals[i].type == BK_SQL_TEXT || q->vals[i].type == BK_SQL_BLOB)
            nbound += q->vals[i].n;
    for (size_t i = 0; i < npv; i++)
        if (pv[i]->type == BK_SQL_TEXT || pv[i]->type == BK_SQL_BLOB)
            nbound += pv[i]->n;
    if (nbound && !(cur->bound = bk__malloc(nbound))) {
        st = bk__error_oom(err);
        goto fail;
    }
    char *at = cur->bound;
    const bk_store_driver *d = cur->conn->drv;
    int k = 1;
    for (size_t i = 0; i < q->nvals && st == BK_OK; i++)
        st = bind_qval_copy(d, cur->st->s, k++, &q->vals[i], &at, err);
    for (size_t i = 0; i < npv && st == BK_OK; i++)
        st = bind_qval_copy(d, cur->st->s, k++, pv[i], &at, err);
    if (st == BK_OK)
        st = d->bind_i64(cur->st->s, k++, q->has_limit ? q->limit : INT64_MAX, err);
    if (st == BK_OK && q->offset)
        st = d->bind_i64(cur->st->s, k++, q->offset, err);
    if (st != BK_OK)
        goto fail;
    bk__free(sql.text);
    if (pv != pv_small)
        bk__free(pv);
    *out = cur;
    return BK_OK;
fail:
    bk__sb_dispose(&s);
    bk__free(sql.text);
    if (pv != pv_small)
        bk__free(pv);
    bk_cursor_free(cur);
    return st;
}

/* Remember the order-key values of the current row (for the token), from
 * the row's values as read (vals: every column of the row, in order). */
static bk_status keep_keys(bk_cursor *cur, const bk_store_value *vals)
{
    if (cur->nkeys == 1 && vals[cur->keys[0].col].type == BK_SQL_INTEGER) {
        cur->last[0].type = BK_SQL_INTEGER;
        cur->last[0].i = vals[cur->keys[0].col].i;
        cur->last[0].p = NULL;
        cur->last[0].n = 0;
        return BK_OK;
    }
    for (size_t i = 0; i < cur->nkeys; i++) {
        const bk_store_value *rv = &vals[cur->keys[i].col];
        qval *v = &cur->last[i];
        v->type = rv->type;
        v->p = NULL;
        v->n = 0;
        switch (v->type) {
        case BK_SQL_INTEGER: v->i = rv->i; break;
        case BK_SQL_REAL: v->f = rv->f; break;
        case BK_SQL_TEXT: case BK_SQL_BLOB: {
            size_t n = rv->n;
            const void *p = rv->p;
            bk_buf *b = &cur->lastbuf[i];
            b->len = 0;
            if (bk__buf_append(b, p ? p : "", n) != BK_OK)
                return BK_ENOMEM;
            v->p = b->ptr;
            v->n = n;
            break;
        }
        default: break;
        }
    }
    return BK_OK;
}

bk_status bk_cursor_next(bk_cursor *c, void *out, bk_error **err)
{
    static const char fn[] = "bk_cursor_next";
    if (!c || !out)
        return bk__error_set(err, BK_EINVAL, "%s: NULL cursor or out", fn);
    if (!cursor_ok(c))
        return bk__error_set(err, BK_EMISUSE, "%s: not a cursor", fn);
    if (!pthread_equal(c->thread, pthread_self()))
        return bk__error_set(err, BK_EMISUSE, "%s: a cursor belongs to the thread that ran it",
            fn);
    memset(out, 0, c->t->model->size);
    if (c->done)
        return BK_ITEROVER;
    const bk_store_driver *d = c->conn->drv;
    bk_status st = d->step(c->st->s, err);
    if (st == BK_ITEROVER) {
        cursor_finish(c);
        return BK_ITEROVER;
    }
    bk_store_value small[32], *vals = small;
    if (st == BK_OK && c->t->ncols > 32 &&
            !(vals = bk__malloc(c->t->ncols * sizeof(*vals)))) {
        vals = small;
        st = bk__error_oom(err);
    }
    if (st == BK_OK)
        st = read_row(d, c->st->s, c->t, out, vals, err);
    if (st == BK_OK && keep_keys(c, vals) != BK_OK) {
        bk__model_clear(c->t->model, out);
        st = bk__error_oom(err);
    }
    if (vals != small)
        bk__free(vals);
    if (st != BK_OK) {
        cursor_finish(c);
        return st;
    }
    c->have_row = true;
    return BK_OK;
}

bk_status bk_cursor_token(char **out, const bk_cursor *c, bk_error **err)
{
    static const char fn[] = "bk_cursor_token";
    if (!out)
        return bk__error_set(err, BK_EINVAL, "%s: NULL out", fn);
    *out = NULL;
    if (!c)
        return bk__error_set(err, BK_EINVAL, "%s: NULL cursor", fn);
    if (!cursor_ok(c))
        return bk__error_set(err, BK_EMISUSE, "%s: not a cursor", fn);
    if (!c->have_row)
        return bk__error_set(err, BK_ENOTFOUND, "%s: no row was returned yet", fn);
    /* integer and NULL keys (the common case): the JSON on the stack, the
     * token in one allocation of its size */
    char jb[20 + 8 * 21];
    size_t jn = 0;
    bool simple = c->nkeys <= 8;
    for (size_t i = 0; simple && i < c->nkeys; i++)
        simple = c->last[i].type == BK_SQL_INTEGER || c->last[i].type == BK_SQL_NULL;
    if (simple) {
        memcpy(jb, "[\"", 2);
        memcpy(jb + 2, c->hash, 16);
        jb[18] = '"';
        jn = 19;
        for (size_t i = 0; i < c->nkeys; i++) {
            jb[jn++] = ',';
            if (c->last[i].type == BK_SQL_NULL) {
                memcpy(jb + jn, "null", 4);
                jn += 4;
                continue;
            }
            char num[24], *e = num + sizeof(num), *p = e;
            int64_t v = c->last[i].i;
            uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            do {
                *--p = (char)('0' + u % 10);
                u /= 10;
            } while (u);
            if (v < 0)
                *--p = '-';
            memcpy(jb + jn, p, (size_t)(e - p));
            jn += (size_t)(e - p);
        }
        jb[jn++] = ']';
        size_t tn = (jn + 2) / 3 * 4 + 1;
        char *t = bk__malloc(tn);
        if (!t)
            return bk__error_oom(err);
        b64url_enc(t, (const unsigned char *)jb, jn);
        if (c->nkeys == 1 && c->last[0].type == BK_SQL_INTEGER)
            tok_memo_put(c->hash, t, tn, c->last[0].i);
        *out = t;
        return BK_OK;
    }
    bk__sb j = { BK_BUF_INIT, false };
    bk__sb_put(&j, "[\"");
    bk__sb_putn(&j, c->hash, 16);
    bk__sb_put(&j, "\"");
    for (size_t i = 0; i < c->nkeys; i++) {
        bk__sb_put(&j, ",");
        json_val(&j, &c->last[i]);
    }
    bk__sb_put(&j, "]");
    bk__sb tok = { BK_BUF_INIT, false };
    bool oom = j.oom;                 /* (bk__sb_dispose forgets it) */
    if (!oom)
        b64url_put(&tok, (const unsigned char *)j.b.ptr, j.b.len);
    bk__sb_dispose(&j);
    if (oom || tok.oom) {
        bk__sb_dispose(&tok);
        return bk__error_oom(err);
    }
    *out = tok.b.ptr;
    return BK_OK;
}
