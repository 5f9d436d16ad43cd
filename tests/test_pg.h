/* Which PostgreSQL server the storage tests use, if any, and SQL run on it.
 * A test including this also includes <libpq-fe.h> itself: the build links
 * libpq to the tests whose sources name it. */
#ifndef BK_TEST_PG_H
#define BK_TEST_PG_H
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

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

/* Run sql on the server at uri (a connection of its own, notices above
 * warnings silenced); false, with the server's message on stderr, when
 * it fails. */
static inline bool bk_test_pg_run(const char *uri, const char *sql)
{
    PGconn *db = PQconnectdb(uri);
    bool ok = PQstatus(db) == CONNECTION_OK;
    if (ok) {
        PQclear(PQexec(db, "SET client_min_messages = warning"));
        PGresult *r = PQexec(db, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
    }
    if (!ok)
        fprintf(stderr, "postgresql: %s: %s", sql, PQerrorMessage(db));
    PQfinish(db);
    return ok;
}

/* End every server session of application_name app (a lost connection,
 * for the tests of reconnecting). */
static inline bool bk_test_pg_kill(const char *uri, const char *app)
{
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
        "WHERE application_name = '%s'", app);
    return bk_test_pg_run(uri, sql);
}
#endif
