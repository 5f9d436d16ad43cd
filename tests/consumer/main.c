/*
 * consumer/main.c - a program built against an *installed* libbackend, the
 * way a user builds one: only <backend.h>, only the public API.
 *
 * It declares a model with the BK_FIELD family of macros, decodes a JSON
 * document into the struct, encodes it again and decodes that (a round
 * trip), checks that a malformed document is rejected, and prints
 * bk_version(). tests/consumer/run.sh builds it with pkg-config and with
 * find_package(backend) and compares the outputs.
 */
#include <backend.h>
#include <stdio.h>
#include <string.h>

typedef enum { LEVEL_LOW, LEVEL_HIGH } Level;

typedef struct Person {
    int64_t id;
    char *name;
    int32_t age;
    Level level;
    bk_strs tags;
    char *nick;
    bk_presence nick_state;
} Person;

static const char *const LEVELS[] = { "low", "high", NULL };

static const bk_field PERSON_FIELDS[] = {
    BK_FIELD(Person, id, BK_I64),
    BK_FIELD(Person, name, BK_STR, .rename = "fullName"),
    BK_FIELD(Person, age, BK_I32),
    BK_ENUM(Person, level, LEVELS),
    BK_LIST(Person, tags, BK_STR),
    BK_FIELD(Person, nick, BK_STR, BK_PRESENCE(Person, nick_state)),
};
static const bk_model_def PERSON_DEF = BK_MODEL_DEF(Person, PERSON_FIELDS);

static const char DOC[] =
    "{\"id\": 7, \"fullName\": \"Ada Lovelace\", \"age\": 36, \"level\": \"high\","
    " \"tags\": [\"math\", \"engines\"]}";
static const char BAD[] = "{\"id\": \"seven\", \"fullName\": 1}";

static void print_person(const char *label, const Person *p)
{
    printf("%s: id=%lld name=%s age=%d level=%s tags=[", label, (long long)p->id,
        p->name ? p->name : "(null)", (int)p->age, LEVELS[p->level]);
    for (size_t i = 0; i < p->tags.len; i++)
        printf("%s%s", i ? "," : "", p->tags.items[i]);
    printf("] nick=%s\n", p->nick_state == BK_PRESENT ? p->nick : "absent");
}

static int fail(const char *what, bk_status st, bk_error *err)
{
    fprintf(stderr, "consumer: %s failed: %s: %s\n", what, bk_status_name(st),
        bk_error_message(err));
    bk_error_free(err);
    return 1;
}

int main(void)
{
    bk_model *model = NULL;
    bk_error *err = NULL;
    Person a, b;
    char *json = NULL;
    size_t len = 0;
    bk_status st;
    int rc = 0;

    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    if (bk_init() != BK_OK)
        return 1;
    printf("version: %s (header %s, match=%s)\n", bk_version(), BK_VERSION,
        bk_version_number() == BK_VERSION_NUMBER ? "yes" : "no");

    if ((st = bk_model_new(&model, &PERSON_DEF, &err)) != BK_OK) {
        rc = fail("bk_model_new", st, err);
        goto done;
    }
    printf("model: %s, %zu fields\n", bk_model_name(model), bk_model_field_count(model));

    if ((st = bk_json_decode(&a, model, DOC, strlen(DOC), NULL, &err)) != BK_OK) {
        rc = fail("bk_json_decode", st, err);
        goto done;
    }
    print_person("decoded", &a);

    if ((st = bk_json_encode(&json, &len, model, &a, NULL, &err)) != BK_OK) {
        rc = fail("bk_json_encode", st, err);
        goto done;
    }
    if ((st = bk_json_decode(&b, model, json, len, NULL, &err)) != BK_OK) {
        rc = fail("bk_json_decode (round trip)", st, err);
        goto done;
    }
    print_person("round trip", &b);

    bk_clear(model, &b);    /* decoding overwrites: start from a cleared struct */
    st = bk_json_decode(&b, model, BAD, strlen(BAD), NULL, &err);
    printf("bad document: %s, problems>0=%s\n", bk_status_name(st),
        err && bk_error_count(err) > 0 ? "yes" : "no");
    bk_error_free(err);
    err = NULL;

done:
    bk_free(json);
    if (model) {
        bk_clear(model, &a);
        bk_clear(model, &b);
    }
    bk_model_unref(model);
    bk_shutdown();
    return rc;
}
