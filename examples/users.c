/*
 * users.c - the main example: read a JSON file of users, decode each record
 * into a C struct (validating its constraints), report every problem of the
 * bad ones with its path, code and the HTTP status a server would answer,
 * and print the good ones re-encoded. The good ones are then stored in a
 * SQLite file (the embedded default: no server), and a page of them is read
 * back with a typed query.
 *
 *   users examples/users.json [sqlite:users.db]
 */
#include <stdio.h>
#include <backend.h>

typedef enum { ROLE_ADMIN, ROLE_MEMBER, ROLE_GUEST } Role;

typedef struct {
    char *street;
    char *city;
    char *zip;
} Address;

typedef struct {
    int64_t id;
    char *name;
    char *email;
    int32_t age;
    Role role;
    bk_strs tags;
    Address address;
    int64_t created_at;   /* microseconds since the epoch; RFC 3339 in JSON */
    char *nickname;       /* optional: absent, null, or a value */
    bk_presence nickname_state;
} User;

static const char *const ROLES[] = { "admin", "member", "guest", NULL };

static const bk_field ADDRESS_FIELDS[] = {
    BK_FIELD(Address, street, BK_STR),
    BK_FIELD(Address, city, BK_STR),
    BK_FIELD(Address, zip, BK_STR),
};
static const bk_model_def ADDRESS = BK_MODEL_DEF(Address, ADDRESS_FIELDS);

static const bk_field USER_FIELDS[] = {
    BK_FIELD(User, id, BK_I64, .primary_key = true, BK_MIN(1)),
    BK_FIELD(User, name, BK_STR, BK_MIN_LEN(1), BK_MAX_LEN(100)),
    BK_FIELD(User, email, BK_STR, BK_FORMAT(BK_FORMAT_EMAIL)),
    BK_FIELD(User, age, BK_I32, BK_MIN(0), BK_MAX(150)),
    BK_ENUM(User, role, ROLES, .default_json = "\"member\""),
    BK_LIST(User, tags, BK_STR, .default_json = "[]", .skip_if = BK_SKIP_IF_EMPTY,
            BK_MAX_ITEMS(10), BK_EACH(BK_PATTERN("^[a-z0-9-]{1,32}$"))),
    BK_NESTED(User, address, Address, &ADDRESS),
    BK_FIELD(User, created_at, BK_TIMESTAMP),
    BK_FIELD(User, nickname, BK_STR, BK_PRESENCE(User, nickname_state)),
};
static const bk_model_def USER = BK_MODEL_DEF(User, USER_FIELDS,
    .rename_all = BK_CASE_CAMEL, .deny_unknown = true);

/* Store the users, then print the first page of adults, ordered by id. */
static bk_status store_and_query(const char *uri, bk_model *model, User *users, size_t n,
    bk_error **err)
{
    bk_store *db = NULL;
    bk_query *q = NULL;
    bk_cursor *cur = NULL;
    bk_buf out = BK_BUF_INIT;
    bk_status st;
    if ((st = bk_store_open(&db, uri, NULL, err)) != BK_OK ||
        (st = bk_store_register(db, model, "users", err)) != BK_OK)
        goto done;
    for (size_t i = 0; i < n; i++)   /* upsert: running the example twice is fine */
        if ((st = bk_store_upsert(db, model, &users[i], err)) != BK_OK)
            goto done;
    if ((st = bk_query_new(&q, db, model, err)) != BK_OK ||
        (st = bk_query_where_i64(q, "age", BK_OP_GE, 18, err)) != BK_OK ||
        (st = bk_query_order_by(q, "id", false, err)) != BK_OK ||
        (st = bk_query_limit(q, 20, err)) != BK_OK ||
        (st = bk_query_run(&cur, q, err)) != BK_OK)
        goto done;
    printf("stored %zu users in %s; adults, by id:\n", n, uri);
    for (;;) {
        User u;
        st = bk_cursor_next(cur, &u, err);
        if (st == BK_ITEROVER) {
            st = BK_OK;
            break;
        }
        if (st != BK_OK)
            goto done;
        bk_buf_reset(&out);
        st = bk_json_encode_buf(&out, model, &u, NULL, err);
        bk_clear(model, &u);
        if (st != BK_OK)
            goto done;
        printf("  %s\n", out.ptr);
    }
done:
    bk_buf_dispose(&out);
    bk_cursor_free(cur);
    bk_query_free(q);
    bk_store_close(db);
    return st;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "examples/users.json";
    const char *uri = argc > 2 ? argv[2] : "sqlite:users.db";
    User good_users[64];
    size_t ngood = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        return 1;
    }
    bk_model *model = NULL;
    bk_json_stream *stream = NULL;
    bk_error *err = NULL;
    bk_buf out = BK_BUF_INIT;
    int good = 0, bad = 0, rc = 1;

    if (bk_model_new(&model, &USER, &err) != BK_OK ||
        bk_json_stream_new_file(&stream, model, fp, BK_STREAM_ARRAY, NULL, &err) != BK_OK)
        goto done;

    for (;;) {
        User user;
        bk_status st = bk_json_stream_next(stream, &user, &err);
        if (st == BK_ITEROVER)
            break;
        if (st == BK_OK) {
            bk_buf_reset(&out);
            if (bk_json_encode_buf(&out, model, &user, NULL, &err) != BK_OK) {
                bk_clear(model, &user);
                goto done;
            }
            printf("ok   record %lld: %s\n", bk_json_stream_index(stream), out.ptr);
            if (ngood < sizeof(good_users) / sizeof(good_users[0]))
                good_users[ngood++] = user;   /* kept (owned) for the store below */
            else
                bk_clear(model, &user);
            good++;
            continue;
        }
        /* A bad record: every problem, with its path; the stream goes on. */
        printf("bad  record %lld (HTTP %d):\n", bk_error_record_index(err),
            bk_error_http_status(err));
        for (size_t i = 0; i < bk_error_count(err); i++)
            printf("       %-22s %-14s %s\n", bk_error_path(err, i),
                bk_error_problem_code(err, i), bk_error_problem_message(err, i));
        bk_error_free(err);
        err = NULL;
        bad++;
        if (st == BK_ESYNTAX || st == BK_EIO || st == BK_ENOMEM)
            break;
    }
    printf("%d good, %d bad\n", good, bad);
    if (store_and_query(uri, model, good_users, ngood, &err) != BK_OK)
        goto done;
    rc = 0;
done:
    for (size_t i = 0; i < ngood; i++)
        bk_clear(model, &good_users[i]);
    if (err) {
        fprintf(stderr, "error: %s\n", bk_error_message(err));
        bk_error_free(err);
    }
    bk_buf_dispose(&out);
    bk_json_stream_free(stream);
    bk_model_unref(model);
    fclose(fp);
    return rc;
}
