/*
 * test_chaos.h - the counting allocator of the allocation-failure sweeps
 * (after jansson's test_chaos.c and SQLite's malloc tests).
 *
 * Installed with bk_set_allocator(chaos_malloc, chaos_realloc, chaos_free),
 * it refuses allocation number chaos_fail_at (counting from 0 since the last
 * chaos_arm()) and counts the blocks alive, so a sweep can check that each
 * refusal gives BK_ENOMEM and leaks nothing. chaos_disarm() stops refusing
 * but keeps chaos_count: after a success, chaos_count <= n proves the call
 * never reached the refused allocation (else the refusal was swallowed).
 * Single-threaded tests only.
 */
#ifndef BK_TEST_CHAOS_H
#define BK_TEST_CHAOS_H
#include <stdlib.h>

static long chaos_fail_at = -1;   /* index of the allocation to refuse; -1: none */
static long chaos_count;          /* allocations since chaos_arm() */
static long chaos_live;           /* blocks alive */

static void *chaos_malloc(size_t n)
{
    if (chaos_count++ == chaos_fail_at)
        return NULL;
    void *p = malloc(n);
    if (p)
        chaos_live++;
    return p;
}

static void *chaos_realloc(void *p, size_t n)
{
    if (chaos_count++ == chaos_fail_at)
        return NULL;
    void *q = realloc(p, n);
    if (q && !p)
        chaos_live++;
    return q;
}

static void chaos_free(void *p)
{
    if (p)
        chaos_live--;
    free(p);
}

/* Refuse allocation n (counted from now). */
static inline void chaos_arm(long n)
{
    chaos_fail_at = n;
    chaos_count = 0;
}

/* Stop refusing; chaos_count keeps what the call tried. */
static inline void chaos_disarm(void)
{
    chaos_fail_at = -1;
}

#endif
