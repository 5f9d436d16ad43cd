/**
 * @file backend/validate.h
 * @brief Validation on demand, and errors as HTTP responses.
 *
 * Constraints are declared on the model (::bk_check, the BK_MIN() family of
 * macros, or the builder/document attributes). bk_json_decode() validates
 * what it decoded unless ::bk_decode_options.skip_validation is set;
 * bk_validate() checks any struct or record storage on demand. Every
 * violation is reported, each with its path, a stable code, a message and
 * the constraint's parameters as JSON (bk_error_problem_params()).
 *
 * Validation codes: `below_min`, `above_max`, `not_multiple_of`,
 * `too_short`, `too_long`, `pattern`, `format`, `not_one_of`, `not_const`,
 * `too_few_items`, `too_many_items`, `unique`, `custom:<name>`.
 */
#ifndef BK_VALIDATE_H
#define BK_VALIDATE_H

#include "common.h"
#include "error.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Check a struct (or record storage) of @p model against every
 * constraint and custom validator declared on it and on its nested models,
 * list elements, map values and union payloads. Optional fields are checked
 * only when present.
 * @param max_errors problems recorded before stopping (0: 100).
 * @retval BK_OK          every constraint holds
 * @retval BK_EVALIDATION one or more violations, all in @p err
 * @retval BK_EUSER       a custom validator stopped validation without a problem
 * @retval BK_EINVAL, BK_EMISUSE, BK_ENOMEM
 * Thread-safe for distinct objects. @since 0.1
 */
BK_EXTERN(bk_status) bk_validate(const bk_model *model, const void *obj, size_t max_errors,
    bk_error **err);

/** Version of ::bk_http_options. */
#define BK_HTTP_OPTIONS_VERSION 1

/** How errors become HTTP responses. */
typedef struct bk_http_options {
    unsigned int version;     /**< ::BK_HTTP_OPTIONS_VERSION */
    bool problem_json;        /**< write RFC 9457 application/problem+json instead of the default body */
    int status[32];           /**< per ::bk_status: HTTP status to use instead of the default (0: default) */
} bk_http_options;

/** Static initialiser: default body, default statuses. */
#define BK_HTTP_OPTIONS_INIT { BK_HTTP_OPTIONS_VERSION, false, { 0 } }

/** @brief Fill @p opts with the defaults. @retval BK_OK, BK_EINVAL. @since 0.1 */
BK_EXTERN(bk_status) bk_http_options_init(bk_http_options *opts);

/**
 * @brief The HTTP status for @p err, with the host's overrides. Defaults:
 * 400 malformed or ill-typed input (BK_ESYNTAX, BK_EDECODE, BK_ELIMIT),
 * 422 validation, 404 not found, 409 conflict, 401 unauthorized, 503 busy,
 * 504 timeout, 500 everything else. @p opts may be NULL. @since 0.1
 */
BK_EXTERN(int) bk_error_http_status_ex(const bk_error *err, const bk_http_options *opts);

/**
 * @brief The stable top-level code of an error as it appears in response
 * bodies: `invalid_json`, `invalid_body`, `limit_exceeded`,
 * `validation_failed`, `not_found`, `conflict`, `unauthorized`, `busy`,
 * `timeout`, `internal`. A static string. @since 0.1
 */
BK_EXTERN(const char *) bk_error_public_code(const bk_error *err);

/**
 * @brief Write the response body for @p err.
 *
 * Default: `{"error":{"message":...,"code":...,"status":...,"details":[{"path":
 * ...,"code":...,"message":...,"params":{...}}]}}`. With `problem_json`:
 * `{"type":"about:blank","title":...,"status":...,"detail":...,"code":...,
 * "errors":[...]}` (RFC 9457). For errors answered with a 5xx status the
 * message is a generic one and no details are written, so internals (SQL,
 * file paths) never reach a client.
 * @param out receives NUL-terminated JSON; free with bk_free().
 * @retval BK_OK, BK_EINVAL, BK_ENOMEM. Thread-safe. @since 0.1
 */
BK_EXTERN(bk_status) bk_error_to_json(char **out, size_t *len_out, const bk_error *err,
    const bk_http_options *opts);

/* ---- JSON Schema and OpenAPI ------------------------------------------------ */

/**
 * @brief Write the JSON Schema (draft 2020-12) of @p model's JSON
 * (docs/validation.md#json-schema-and-openapi).
 *
 * The document is `{"$schema": "https://json-schema.org/draft/2020-12/schema",
 * "$ref": "#/$defs/<Model>", "$defs": {...}}`: every model, union and enum
 * the model reaches has a schema in `$defs` under its name (the root first,
 * then in first-reference order) and is referred to with `$ref`.
 * Properties carry the JSON names (after rename / rename_all; flattened
 * fields inline), `required` lists the fields that are neither optional nor
 * defaulted, `additionalProperties` is false with deny_unknown; each kind
 * maps to its JSON type (integers with their C range, bytes as base64,
 * timestamps, dates and UUIDs as formatted strings, optional fields and
 * pointers accepting null), constraints to their JSON Schema keywords, and
 * defaults to `default`. The schema describes the canonical JSON (what the
 * encoder writes); custom validators and the decoder's leniencies (aliases)
 * are not in it.
 *
 * @param out     receives NUL-terminated JSON text; free with bk_free().
 * @param len_out receives its length (may be NULL).
 * @param pretty  indent with two spaces when true.
 * @retval BK_OK
 * @retval BK_EINVAL      a NULL argument.
 * @retval BK_EMISUSE     @p model is not a model handle.
 * @retval BK_EMODEL      two different definitions reached have one name
 *                        (models combined with bk_builder_use() keep
 *                        names unique, so this needs hand-made clashes).
 * @retval BK_EUNSUPPORTED a default or allowed value holds an integer
 *                        beyond the 64-bit range of the JSON library.
 * @retval BK_ENOMEM
 * On failure *out is NULL. Thread-safe (models are immutable). @since 0.1
 */
BK_EXTERN(bk_status) bk_model_json_schema(char **out, size_t *len_out, const bk_model *model,
    bool pretty, bk_error **err);

/**
 * @brief Write the schemas of @p n models, and of everything they reach,
 * as an OpenAPI 3.1 components object: `{"components": {"schemas":
 * {"<Name>": {...}, ...}}}`, references written `#/components/schemas/<Name>`
 * (OpenAPI 3.1 schemas are JSON Schema 2020-12; each schema is the one
 * bk_model_json_schema() puts in `$defs`). The given models come first, in
 * order, then what they reach. Models built separately may reach
 * definitions of the same name: equal schemas are written once, different
 * ones are an error. @p n may be 0 (no schemas).
 * @param out receives NUL-terminated JSON text; free with bk_free().
 * @param len_out receives its length (may be NULL).
 * @retval BK_OK
 * @retval BK_EINVAL      a NULL argument or a NULL model.
 * @retval BK_EMISUSE     a model is not a model handle.
 * @retval BK_EMODEL      two different definitions have one name; the
 *                        message names it.
 * @retval BK_EUNSUPPORTED, BK_ENOMEM as for bk_model_json_schema().
 * On failure *out is NULL. Thread-safe. @since 0.1
 */
BK_EXTERN(bk_status) bk_models_openapi(char **out, size_t *len_out, bk_model *const *models,
    size_t n, bool pretty, bk_error **err);

#ifdef __cplusplus
}
#endif
#endif
