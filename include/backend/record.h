/**
 * @file backend/record.h
 * @brief Records: instances of any model (above all run-time ones) behind
 * an opaque handle, with typed getters and setters by field name or index.
 *
 * A record owns storage laid out like the model's struct. It keeps a
 * reference to its model. A record is not thread-safe: use it from one
 * thread at a time.
 */
#ifndef BK_RECORD_H
#define BK_RECORD_H

#include <jansson.h>
#include "common.h"
#include "error.h"
#include "model.h"
#include "json.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A record of a model: opaque. */
typedef struct bk_record bk_record;

/** @brief Create a zeroed record of @p model (the record holds a reference).
 * @retval BK_OK, BK_EINVAL, BK_ENOMEM. @since 0.1 */
BK_EXTERN(bk_status) bk_record_new(bk_record **out, bk_model *model, bk_error **err);

/** @brief Free a record and everything it owns. NULL-safe. @since 0.1 */
BK_EXTERN(void) bk_record_free(bk_record *rec);

/** @brief The record's model (borrowed; valid while the record lives). @since 0.1 */
BK_EXTERN(const bk_model *) bk_record_model(const bk_record *rec);

/** @brief The record's storage, laid out as the model's struct (borrowed;
 * valid until bk_record_free()). For models built from C descriptors this
 * is a `T *`. @since 0.1 */
BK_EXTERN(void *) bk_record_data(bk_record *rec);

/** @brief Release what the record holds and zero it (bk_clear()). @since 0.1 */
BK_EXTERN(void) bk_record_clear(bk_record *rec);

/** @brief Decode JSON into the record (clears it first); see bk_json_decode().
 * @retval BK_OK, BK_ESYNTAX, BK_EDECODE, BK_ELIMIT, BK_ENOMEM. @since 0.1 */
BK_EXTERN(bk_status) bk_record_decode(bk_record *rec, const char *buf, size_t len,
    const bk_decode_options *opts, bk_error **err);

/** @brief Encode the record as JSON into a new string (free with bk_free()).
 * @retval BK_OK, BK_EDECODE, BK_ENOMEM. @since 0.1 */
BK_EXTERN(bk_status) bk_record_encode(char **out, size_t *len_out, const bk_record *rec,
    const bk_encode_options *opts, bk_error **err);

/*
 * Typed access. Each getter/setter names the field by its declared name;
 * the `_at` forms take the field index. They fail with:
 *   BK_ENOTFOUND  no such field (name or index),
 *   BK_EDECODE    the field's kind does not match the accessor (getting an
 *                 i64 from a string field), or the value is out of the
 *                 field's range (setting 300 into an u8): never truncated,
 *   BK_ENOTFOUND  also from getters when an optional field is absent/null.
 * Integer getters widen: bk_record_get_i64 reads any signed or unsigned
 * field whose value fits; float getters read f32 and f64.
 * Setters on optional fields mark them present.
 */

/** @brief Get a bool. @retval BK_OK, BK_ENOTFOUND, BK_EDECODE. Not thread-safe
 * (one record, one thread; true of every accessor here). @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_bool(bool *out, const bk_record *rec, const char *field, bk_error **err);
/** @brief Get an integer of any integer kind (also enums, dates, timestamps) as int64. @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_i64(int64_t *out, const bk_record *rec, const char *field, bk_error **err);
/** @brief Get an unsigned integer field (or a non-negative signed one) as uint64. @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_u64(uint64_t *out, const bk_record *rec, const char *field, bk_error **err);
/** @brief Get a float field (f32 or f64) as double. @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_f64(double *out, const bk_record *rec, const char *field, bk_error **err);
/** @brief Get a string (borrowed; valid until the field is set again, the
 * record is cleared or freed). Also enum names. @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_str(const char **out, const bk_record *rec, const char *field, bk_error **err);
/** @brief Get bytes (borrowed, like bk_record_get_str()). @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_bytes(const unsigned char **out, size_t *len_out, const bk_record *rec, const char *field, bk_error **err);
/** @brief Get any field as a jansson value, exactly as it would be encoded
 * (new reference). @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_json(json_t **out, const bk_record *rec, const char *field, bk_error **err);
/** @brief Presence of a field: BK_PRESENT for non-optional fields. @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_presence(bk_presence *out, const bk_record *rec, const char *field, bk_error **err);

/** @brief Set a bool. @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_bool(bk_record *rec, const char *field, bool value, bk_error **err);
/** @brief Set any integer kind (range checked), or a timestamp/date. @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_i64(bk_record *rec, const char *field, int64_t value, bk_error **err);
/** @brief Set an unsigned integer (range checked). @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_u64(bk_record *rec, const char *field, uint64_t value, bk_error **err);
/** @brief Set a float field (f32 range checked; finite only). @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_f64(bk_record *rec, const char *field, double value, bk_error **err);
/** @brief Set a string (copied; must be valid UTF-8) or an enum by name. @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_str(bk_record *rec, const char *field, const char *value, bk_error **err);
/** @brief Set bytes (copied). @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_bytes(bk_record *rec, const char *field, const unsigned char *data, size_t len, bk_error **err);
/** @brief Set any field from a jansson value (borrowed), decoded exactly as
 * the same JSON in a document would be. @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_json(bk_record *rec, const char *field, const json_t *value, bk_error **err);
/** @brief Set an optional field's presence to BK_ABSENT or BK_NULL (releasing
 * its value) — BK_PRESENT is set by the setters. @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_presence(bk_record *rec, const char *field, bk_presence presence, bk_error **err);

/** @brief bk_record_get_i64() by field index (bk_model_field_index()).
 * @retval BK_OK, BK_ENOTFOUND, BK_EDECODE. @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_i64_at(int64_t *out, const bk_record *rec, size_t index, bk_error **err);
/** @brief bk_record_get_f64() by field index. @retval BK_OK, BK_ENOTFOUND, BK_EDECODE. @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_f64_at(double *out, const bk_record *rec, size_t index, bk_error **err);
/** @brief bk_record_get_str() by field index; the string is borrowed as there.
 * @retval BK_OK, BK_ENOTFOUND, BK_EDECODE. @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_str_at(const char **out, const bk_record *rec, size_t index, bk_error **err);
/** @brief bk_record_get_json() by field index; a new reference.
 * @retval BK_OK, BK_ENOTFOUND, BK_EDECODE, BK_ENOMEM. @since 0.1 */
BK_EXTERN(bk_status) bk_record_get_json_at(json_t **out, const bk_record *rec, size_t index, bk_error **err);
/** @brief bk_record_set_i64() by field index. @retval BK_OK, BK_ENOTFOUND, BK_EDECODE. @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_i64_at(bk_record *rec, size_t index, int64_t value, bk_error **err);
/** @brief bk_record_set_f64() by field index. @retval BK_OK, BK_ENOTFOUND, BK_EDECODE. @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_f64_at(bk_record *rec, size_t index, double value, bk_error **err);
/** @brief bk_record_set_str() by field index (copied).
 * @retval BK_OK, BK_ENOTFOUND, BK_EDECODE, BK_ENOMEM. @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_str_at(bk_record *rec, size_t index, const char *value, bk_error **err);
/** @brief bk_record_set_json() by field index (the value is borrowed).
 * @retval BK_OK, BK_ENOTFOUND, BK_EDECODE, BK_ELIMIT, BK_ENOMEM. @since 0.1 */
BK_EXTERN(bk_status) bk_record_set_json_at(bk_record *rec, size_t index, const json_t *value, bk_error **err);

#ifdef __cplusplus
}
#endif
#endif
