/*
 * json_dom.c - conversion between structs and jansson values.
 *
 * Both directions go through the text form: the encoder writes compact JSON
 * that jansson then loads, and a jansson value is dumped and decoded with
 * the schema-directed decoder. That keeps one source of truth for every
 * rule (names, defaults, limits, errors with paths) at the cost of one
 * extra pass, which is acceptable on this path (the hot path is text).
 */
#include "internal.h"

bk_status bk_json_to_value(json_t **out, const bk_model *model, const void *obj, bk_error **err)
{
    if (!out)
        return bk__error_set(err, BK_EINVAL, "bk_json_to_value: NULL argument");
    *out = NULL;
    bk_buf b = BK_BUF_INIT;
    bk_status st = bk_json_encode_buf(&b, model, obj, NULL, err);
    if (st != BK_OK)
        goto done;
    json_error_t je;
    *out = json_loadb(b.ptr, b.len, JSON_DECODE_ANY, &je);
    if (!*out) /* jansson's integers are signed 64-bit: a u64 above that fails */
        st = bk__error_problem(err, BK_EDECODE, "$", "out_of_range",
            "jansson cannot hold this value: %s (line %d, column %d)", je.text, je.line,
            je.column);
done:
    bk_buf_dispose(&b);
    return st;
}

bk_status bk_json_from_value(void *out, const bk_model *model, const json_t *value,
    const bk_decode_options *opts, bk_error **err)
{
    if (!out || !value)
        return bk__error_set(err, BK_EINVAL, "bk_json_from_value: NULL argument");
    if (!bk__model_ok(model))
        return bk__error_set(err, BK_EINVAL, "bk_json_from_value: not a model handle");
    size_t n = json_dumpb(value, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0) {
        memset(out, 0, model->size);
        return bk__error_set(err, BK_EINVAL, "bk_json_from_value: value cannot be dumped");
    }
    char *text = bk__malloc(n);
    if (!text) {
        memset(out, 0, model->size);
        return bk__error_oom(err);
    }
    json_dumpb(value, text, n, JSON_COMPACT | JSON_ENCODE_ANY);
    bk_status st = bk_json_decode(out, model, text, n, opts, err);
    bk__free(text);
    return st;
}
