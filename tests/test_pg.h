/* Which PostgreSQL server the storage tests use, if any. */
#ifndef BK_TEST_PG_H
#define BK_TEST_PG_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The server's URI, from BK_TEST_PG_URI, else from the file named by
 * BK_TEST_PG_URI_FILE (written by scripts/pg-test-server.sh, the ctest
 * fixture). Returns 1 with the URI in out; 0 when PostgreSQL is not tested
 * (neither variable set, or the file says "skip": BK_TEST_PG=0); -1 when
 * the file is named but missing or empty (the server did not start: the
 * test must fail, not quietly skip).
 */
static inline int bk_test_pg_uri(char *out, size_t n)
{
    const char *uri = getenv("BK_TEST_PG_URI");
    out[0] = '\0';
    if (uri && *uri) {
        snprintf(out, n, "%s", uri);
        return 1;
    }
    const char *file = getenv("BK_TEST_PG_URI_FILE");
    if (!file || !*file)
        return 0;
    FILE *f = fopen(file, "r");
    if (!f || !fgets(out, (int)n, f)) {
        if (f)
            fclose(f);
        fprintf(stderr, "BK_TEST_PG_URI_FILE=%s: no URI (did scripts/pg-test-server.sh "
            "start fail? BK_TEST_PG=0 skips the PostgreSQL tests)\n", file);
        out[0] = '\0';
        return -1;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    if (strcmp(out, "skip") == 0) {
        out[0] = '\0';
        return 0;
    }
    return *out ? 1 : -1;
}
#endif
