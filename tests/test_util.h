/* Shared helpers for the cmocka tests. */
#ifndef BK_TEST_UTIL_H
#define BK_TEST_UTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <backend.h>

/* Assert that err holds a problem with this path and code (any position). */
static inline void bk_assert_problem_(const bk_error *err, const char *path, const char *code,
    const char *file, int line)
{
    size_t n = bk_error_count(err);
    for (size_t i = 0; i < n; i++)
        if (strcmp(bk_error_path(err, i), path) == 0 &&
            strcmp(bk_error_problem_code(err, i), code) == 0)
            return;
    fprintf(stderr, "%s:%d: no problem (%s, %s) in: %s\n", file, line, path, code,
        bk_error_message(err));
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  [%zu] %s %s %s\n", i, bk_error_path(err, i),
            bk_error_problem_code(err, i), bk_error_problem_message(err, i));
    fail();
}
#define bk_assert_problem(err, path, code) bk_assert_problem_((err), (path), (code), __FILE__, __LINE__)

/* Read a whole file from tests/data (BK_TEST_DATA or ./tests/data). */
static inline char *bk_test_read(const char *name, size_t *len)
{
    const char *dir = getenv("BK_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}
#endif
