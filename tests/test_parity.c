/*
 * test_parity.c - the shared C/Python vector suite (tests/data/parity/, *.json).
 *
 * Each file holds a model description document and cases: an input (JSON
 * text in "input", or raw bytes in "input_hex") and either the exact bytes
 * the record encodes to after decoding ("output"), or the failure: the status
 * name ("status") and every problem as [path, code], in order ("errors").
 * This test runs them through bk_model_from_doc + bk_json_decode +
 * bk_json_encode; bindings/python/tests/test_parity.py runs the same files
 * through the Python binding (a class loaded from the document, and a class
 * declared with annotations that must write the same document), so C and
 * Python agree byte for byte and problem for problem. Format:
 * tests/data/parity/README.md.
 */
#include <dirent.h>
#include "test_util.h"

typedef struct parity_file {
    char name[256];
} parity_file;

static char *from_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    char *out = malloc(n + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (char)v;
    }
    out[n] = '\0';
    *len = n;
    return out;
}

/* One case: 0 when it matches, 1 (after printing why) when not. */
static int run_case(const char *file, size_t index, const bk_model *model, const json_t *c)
{
    const char *in = json_string_value(json_object_get(c, "input"));
    const char *hex = json_string_value(json_object_get(c, "input_hex"));
    size_t len = 0;
    char *buf = NULL;
    if (in) {
        len = json_string_length(json_object_get(c, "input"));
    } else {
        assert_non_null(hex);
        buf = from_hex(hex, &len);
        in = buf;
    }
    int bad = 0;
    bk_record *rec = NULL;
    bk_error *err = NULL;
    assert_int_equal(bk_record_new(&rec, (bk_model *)model, NULL), BK_OK);
    bk_status st = bk_record_decode(rec, in, len, NULL, &err);
    const json_t *want_out = json_object_get(c, "output");
    if (want_out) {
        char *out = NULL;
        size_t olen = 0;
        if (st != BK_OK) {
            fprintf(stderr, "%s case %zu: decode failed: %s\n", file, index, bk_error_message(err));
            bad = 1;
        } else if (bk_record_encode(&out, &olen, rec, NULL, NULL) != BK_OK) {
            fprintf(stderr, "%s case %zu: encode failed\n", file, index);
            bad = 1;
        } else if (olen != json_string_length(want_out) ||
                   memcmp(out, json_string_value(want_out), olen) != 0) {
            fprintf(stderr, "%s case %zu:\n  got  %s\n  want %s\n", file, index, out,
                json_string_value(want_out));
            bad = 1;
        }
        bk_free(out);
    } else {
        const char *want_status = json_string_value(json_object_get(c, "status"));
        const json_t *want = json_object_get(c, "errors");
        assert_non_null(want_status);
        assert_non_null(want);
        if (st == BK_OK) {
            fprintf(stderr, "%s case %zu: decoded, want %s\n", file, index, want_status);
            bad = 1;
        } else if (strcmp(bk_status_name(st), want_status) != 0 ||
                   bk_error_count(err) != json_array_size(want)) {
            bad = 1;
        } else {
            for (size_t i = 0; i < json_array_size(want); i++) {
                const json_t *p = json_array_get(want, i);
                if (strcmp(bk_error_path(err, i), json_string_value(json_array_get(p, 0))) ||
                    strcmp(bk_error_problem_code(err, i), json_string_value(json_array_get(p, 1))))
                    bad = 1;
            }
        }
        if (bad && st != BK_OK) {
            fprintf(stderr, "%s case %zu: want %s, got %s:\n", file, index, want_status,
                bk_status_name(st));
            for (size_t i = 0; i < bk_error_count(err); i++)
                fprintf(stderr, "  [\"%s\", \"%s\"]\n", bk_error_path(err, i),
                    bk_error_problem_code(err, i));
        }
    }
    bk_error_free(err);
    bk_record_free(rec);
    free(buf);
    return bad;
}

static void test_parity_file(void **state)
{
    const parity_file *pf = *state;
    char rel[300];
    snprintf(rel, sizeof(rel), "parity/%s", pf->name);
    size_t len = 0;
    char *text = bk_test_read(rel, &len);
    assert_non_null(text);
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root)
        fprintf(stderr, "%s: %s (line %d)\n", rel, je.text, je.line);
    assert_non_null(root);
    char *doc = json_dumps(json_object_get(root, "model"), JSON_COMPACT);
    assert_non_null(doc);
    bk_model *model = NULL;
    bk_error *err = NULL;
    if (bk_model_from_doc(&model, doc, strlen(doc), &err) != BK_OK)
        fprintf(stderr, "%s: %s\n", rel, bk_error_message(err));
    assert_non_null(model);
    const json_t *cases = json_object_get(root, "cases");
    assert_true(json_array_size(cases) > 0);
    int failed = 0;
    for (size_t i = 0; i < json_array_size(cases); i++)
        failed += run_case(rel, i, model, json_array_get(cases, i));
    bk_model_unref(model);
    free(doc);
    json_decref(root);
    free(text);
    assert_int_equal(failed, 0);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const parity_file *)a)->name, ((const parity_file *)b)->name);
}

int main(void)
{
    const char *dir = getenv("BK_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/parity", dir ? dir : "tests/data");
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "test_parity: cannot open %s\n", path);
        return 1;
    }
    parity_file *files = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 6 || l >= sizeof(files->name) || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        parity_file *nf = realloc(files, (n + 1) * sizeof(*files));
        if (!nf)
            return 1;
        files = nf;
        memcpy(files[n].name, e->d_name, l + 1);
        n++;
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "test_parity: no vectors in %s\n", path);
        return 1;
    }
    qsort(files, n, sizeof(*files), cmp_name);
    struct CMUnitTest *tests = calloc(n, sizeof(*tests));
    if (!tests)
        return 1;
    for (size_t i = 0; i < n; i++) {
        tests[i].name = files[i].name;
        tests[i].test_func = test_parity_file;
        tests[i].initial_state = &files[i];
    }
    int rc = _cmocka_run_group_tests("parity", tests, n, NULL, NULL);
    free(tests);
    free(files);
    return rc;
}
