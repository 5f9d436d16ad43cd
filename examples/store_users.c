/*
 * store_users.c - the storage example: a User model stored in SQLite.
 *
 *   store_users [sqlite URI]        (default sqlite::memory:)
 *
 * Opens a store, applies migrations, registers the model (the table is
 * created from it), inserts users (one with a constraint violation, one
 * duplicate e-mail), reads one back, updates it with optimistic locking,
 * pages through a filtered query with keyset tokens, runs a transaction
 * that is retried on lock contention, and shows how a table that drifted
 * from its model is reported. docs/storage.md walks through it.
 */
#include <stdio.h>
#include <string.h>
#include <backend.h>

typedef enum { ROLE_ADMIN, ROLE_MEMBER, ROLE_GUEST } Role;

typedef struct {
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
    Address address;        /* flattened: columns city, zip */
    int64_t created_at;     /* microseconds since the epoch */
    int64_t version;        /* optimistic locking */
} User;

static const char *const ROLES[] = { "admin", "member", "guest", NULL };

static const bk_field ADDRESS_FIELDS[] = {
    BK_FIELD(Address, city, BK_STR),
    BK_FIELD(Address, zip, BK_STR),
};
static const bk_model_def ADDRESS = BK_MODEL_DEF(Address, ADDRESS_FIELDS);

static const bk_field USER_FIELDS[] = {
    BK_FIELD(User, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_FIELD(User, name, BK_STR, BK_MIN_LEN(1), BK_MAX_LEN(100)),
    BK_FIELD(User, email, BK_STR, BK_FORMAT(BK_FORMAT_EMAIL), .unique = true),
    BK_FIELD(User, age, BK_I32, BK_MIN(0), BK_MAX(150), .index = true),
    BK_ENUM(User, role, ROLES),
    BK_LIST(User, tags, BK_STR),
    BK_NESTED(User, address, Address, &ADDRESS, .flatten = true),
    BK_FIELD(User, created_at, BK_TIMESTAMP),
    BK_FIELD(User, version, BK_I64, .row_version = true),
};
static const bk_model_def USER = BK_MODEL_DEF(User, USER_FIELDS);

/* Versioned migrations, embedded in the program (SQL that SQLite and
 * PostgreSQL both run). */
static const bk_migration MIGRATIONS[] = {
    { 1, "audit log", "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL)" },
    { 2, "first entry", "INSERT INTO audit (id, what) VALUES (1, 'created')" },
};

static char *dup(const char *s)
{
    char *d = bk_malloc(strlen(s) + 1);
    if (d)
        strcpy(d, s);
    return d;
}

/* A user; strings allocated with bk_malloc so that bk_clear() frees them. */
static void make_user(User *u, const char *name, const char *email, int age, Role role,
    const char *city)
{
    memset(u, 0, sizeof(*u));
    u->name = dup(name);
    u->email = dup(email);
    u->age = age;
    u->role = role;
    u->tags.items = bk_malloc(sizeof(char *));
    u->tags.items[0] = dup(role == ROLE_ADMIN ? "staff" : "customer");
    u->tags.len = 1;
    u->address.city = dup(city);
    u->address.zip = dup("8000");
    u->created_at = 1700000000000000LL;
}

static int fail(const char *what, bk_error *err)
{
    fprintf(stderr, "%s: %s: %s\n", what, bk_status_name(bk_error_code(err)),
        bk_error_message(err));
    bk_error_free(err);
    return 1;
}

/* Transaction body for bk_store_transact(): promote everyone over 60. */
static bk_status promote(bk_store *tx, void *payload, bk_error **err)
{
    const bk_model *m = payload;
    bk_query *q = NULL;
    bk_cursor *c = NULL;
    bk_status st = bk_query_new(&q, tx, m, err);
    if (st == BK_OK) st = bk_query_where_i64(q, "age", BK_OP_GT, 60, err);
    if (st == BK_OK) st = bk_query_run(&c, q, err);
    User u;
    /* collect first, then update: the cursor and the updates share the
     * transaction's connection */
    int64_t ids[16];
    size_t n = 0;
    while (st == BK_OK && (st = bk_cursor_next(c, &u, err)) == BK_OK) {
        if (n < 16)
            ids[n++] = u.id;
        bk_clear(m, &u);
    }
    if (st == BK_ITEROVER)
        st = BK_OK;
    bk_cursor_free(c);
    bk_query_free(q);
    for (size_t i = 0; i < n && st == BK_OK; i++) {
        if ((st = bk_store_get(&u, tx, m, &ids[i], err)) != BK_OK)
            break;
        u.role = ROLE_ADMIN;
        const char *fields[] = { "role" };
        st = bk_store_update(tx, m, &u, fields, 1, err);
        bk_clear(m, &u);
    }
    return st;
}

int main(int argc, char **argv)
{
    const char *uri = argc > 1 ? argv[1] : "sqlite::memory:";
    bk_error *err = NULL;
    bk_model *model = NULL;
    bk_store *db = NULL;
    if (bk_model_new(&model, &USER, &err) != BK_OK)
        return fail("model", err);
    if (bk_store_open(&db, uri, NULL, &err) != BK_OK)
        return fail("open", err);
    printf("opened %s\n", uri);

    /* 1. migrations: applied once, in order, each in its own transaction */
    size_t applied = 0, pending = 0;
    if (bk_store_migrate(db, MIGRATIONS, 2, &applied, &err) != BK_OK)
        return fail("migrate", err);
    if (bk_store_pending(&pending, db, MIGRATIONS, 2, &err) != BK_OK)
        return fail("pending", err);
    printf("migrations: %zu applied now, %zu pending\n", applied, pending);

    /* 2. the table comes from the model (or is compared with it) */
    if (bk_store_register(db, model, "users", &err) != BK_OK)
        return fail("register", err);

    /* 3. inserts: keys are generated and written back */
    static const struct { const char *name, *email; int age; Role role; const char *city; } PEOPLE[] = {
        { "Ada", "ada@example.com", 36, ROLE_ADMIN, "London" },
        { "Grace", "grace@example.com", 85, ROLE_MEMBER, "Arlington" },
        { "Linus", "linus@example.com", 54, ROLE_MEMBER, "Portland" },
        { "Margaret", "margaret@example.com", 87, ROLE_GUEST, "Boston" },
        { "Ken", "ken@example.com", 81, ROLE_MEMBER, "Berkeley" },
        { "Barbara", "barbara@example.com", 84, ROLE_MEMBER, "Boston" },
    };
    for (size_t i = 0; i < sizeof(PEOPLE) / sizeof(PEOPLE[0]); i++) {
        User u;
        make_user(&u, PEOPLE[i].name, PEOPLE[i].email, PEOPLE[i].age, PEOPLE[i].role,
            PEOPLE[i].city);
        if (bk_store_insert(db, model, &u, &err) != BK_OK)
            return fail("insert", err);
        printf("inserted %s as id %lld\n", u.name, (long long)u.id);
        bk_clear(model, &u);
    }
    /* constraint violations are typed errors with HTTP statuses */
    User bad;
    make_user(&bad, "", "not-an-email", 200, ROLE_GUEST, "Nowhere");
    bk_store_insert(db, model, &bad, &err);
    printf("invalid user: %s (HTTP %d), %zu problems, first at %s\n",
        bk_status_name(bk_error_code(err)), bk_error_http_status(err), bk_error_count(err),
        bk_error_path(err, 0));
    bk_error_free(err);
    err = NULL;
    bk_clear(model, &bad);
    make_user(&bad, "Ada again", "ada@example.com", 40, ROLE_GUEST, "Paris");
    bk_store_insert(db, model, &bad, &err);
    printf("duplicate e-mail: %s (HTTP %d)\n", bk_status_name(bk_error_code(err)),
        bk_error_http_status(err));
    bk_error_free(err);
    err = NULL;
    bk_clear(model, &bad);

    /* 4. read, update with optimistic locking */
    User ada, stale;
    int64_t id = 1;
    if (bk_store_get(&ada, db, model, &id, &err) != BK_OK ||
            bk_store_get(&stale, db, model, &id, &err) != BK_OK)
        return fail("get", err);
    ada.age = 37;
    if (bk_store_update(db, model, &ada, NULL, 0, &err) != BK_OK)
        return fail("update", err);
    printf("updated %s: age %d, version %lld\n", ada.name, ada.age, (long long)ada.version);
    stale.age = 99;
    bk_store_update(db, model, &stale, NULL, 0, &err);
    printf("stale copy: %s (HTTP %d)\n", bk_status_name(bk_error_code(err)),
        bk_error_http_status(err));
    bk_error_free(err);
    err = NULL;
    bk_clear(model, &ada);
    bk_clear(model, &stale);

    /* 5. a query, two rows a page, continued with keyset tokens */
    char *token = NULL;
    int page = 1;
    for (;;) {
        bk_query *q = NULL;
        bk_cursor *c = NULL;
        if (bk_query_new(&q, db, model, &err) != BK_OK ||
                bk_query_where_i64(q, "age", BK_OP_GE, 50, &err) != BK_OK ||
                bk_query_where_str(q, "role", BK_OP_NE, "admin", &err) != BK_OK ||
                bk_query_order_by(q, "age", true, &err) != BK_OK ||
                bk_query_limit(q, 2, &err) != BK_OK ||
                (token && bk_query_after(q, token, &err) != BK_OK) ||
                bk_query_run(&c, q, &err) != BK_OK)
            return fail("query", err);
        User u;
        int rows = 0;
        while (bk_cursor_next(c, &u, NULL) == BK_OK) {
            printf("page %d: %-9s %2d %-6s %s\n", page, u.name, u.age, ROLES[u.role],
                u.address.city);
            rows++;
            bk_clear(model, &u);
        }
        bk_free(token);
        token = NULL;
        if (rows)
            bk_cursor_token(&token, c, NULL);
        bk_cursor_free(c);
        bk_query_free(q);
        if (rows < 2)
            break;
        page++;
    }
    bk_free(token);

    /* 6. a transaction, retried if the database is busy */
    if (bk_store_transact(db, promote, model, 0, &err) != BK_OK)
        return fail("transact", err);
    bk_query *q = NULL;
    int64_t admins = 0;
    if (bk_query_new(&q, db, model, &err) != BK_OK ||
            bk_query_where(q, "role", BK_OP_EQ, "\"admin\"", &err) != BK_OK ||
            bk_query_count(&admins, q, &err) != BK_OK)
        return fail("count", err);
    bk_query_free(q);
    printf("admins after the promotion: %lld\n", (long long)admins);

    /* 7. drift: the same table seen by a model that changed */
    bk_builder *b = NULL;
    bk_model *changed = NULL;
    if (bk_builder_new(&b, &err) != BK_OK || bk_builder_model(b, "UserV2", &err) != BK_OK ||
            bk_builder_field(b, "id", "i64", &err) != BK_OK ||
            bk_builder_field_attr(b, "primary_key", "true", &err) != BK_OK ||
            bk_builder_field(b, "name", "str", &err) != BK_OK ||
            bk_builder_field(b, "age", "str", &err) != BK_OK ||
            bk_builder_field(b, "nickname", "str", &err) != BK_OK ||
            bk_builder_build(&changed, b, "UserV2", &err) != BK_OK)
        return fail("builder", err);
    bk_builder_free(b);
    char *sql = NULL;
    if (bk_store_diff(&sql, db, changed, "users", &err) != BK_OK)
        return fail("diff", err);
    bk_store_register(db, changed, "users", &err);
    printf("a changed model: %s, %zu differences:\n", bk_status_name(bk_error_code(err)),
        bk_error_count(err));
    for (size_t i = 0; i < bk_error_count(err); i++)
        printf("  %-18s %s\n", bk_error_problem_code(err, i), bk_error_path(err, i));
    bk_error_free(err);
    printf("the SQL that would reconcile it starts with: %.60s...\n", sql);
    bk_free(sql);
    bk_model_unref(changed);

    bk_store_close(db);
    bk_model_unref(model);
    return 0;
}
