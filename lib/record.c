/*
 * record.c - records: opaque instances of a model with typed access.
 *
 * A record is the model's struct layout in library-owned memory, so the
 * codec works on it unchanged. Accessors find the field by declared name
 * (or index), check the accessor matches the field's kind, and never
 * truncate: a value out of the field's range is an error.
 */
#include <math.h>
#include <float.h>
#include "internal.h"

struct bk_record {
    uint32_t magic;
    bk_model *model;
    char *data;
};

static bool rec_ok(const bk_record *r) { return r && r->magic == BK__MAGIC_RECORD; }

bk_status bk_record_new(bk_record **out, bk_model *model, bk_error **err)
{
    if (!out)
        return bk__error_set(err, BK_EINVAL, "bk_record_new: NULL argument");
    *out = NULL;
    if (!bk__model_ok(model))
        return bk__error_set(err, BK_EINVAL, "bk_record_new: not a model handle");
    bk_record *r = bk__calloc(1, sizeof(*r));
    char *data = r ? bk__calloc(1, model->size) : NULL;
    if (!data) {
        bk__free(r);
        return bk__error_oom(err);
    }
    r->magic = BK__MAGIC_RECORD;
    r->model = bk_model_ref(model);
    r->data = data;
    *out = r;
    return BK_OK;
}

void bk_record_free(bk_record *rec)
{
    if (!rec_ok(rec))
        return;
    bk__model_clear(rec->model, rec->data);
    bk__free(rec->data);
    bk_model_unref(rec->model);
    rec->magic = 0;
    bk__free(rec);
}

const bk_model *bk_record_model(const bk_record *rec) { return rec_ok(rec) ? rec->model : NULL; }
void *bk_record_data(bk_record *rec) { return rec_ok(rec) ? rec->data : NULL; }

void bk_record_clear(bk_record *rec)
{
    if (rec_ok(rec))
        bk__model_clear(rec->model, rec->data);
}

bk_status bk_record_decode(bk_record *rec, const char *buf, size_t len,
    const bk_decode_options *opts, bk_error **err)
{
    if (!rec_ok(rec))
        return bk__error_set(err, rec ? BK_EMISUSE : BK_EINVAL, "not a record handle");
    bk__model_clear(rec->model, rec->data);
    return bk_json_decode(rec->data, rec->model, buf, len, opts, err);
}

bk_status bk_record_encode(char **out, size_t *len_out, const bk_record *rec,
    const bk_encode_options *opts, bk_error **err)
{
    if (!rec_ok(rec))
        return bk__error_set(err, rec ? BK_EMISUSE : BK_EINVAL, "not a record handle");
    return bk_json_encode(out, len_out, rec->model, rec->data, opts, err);
}

/* ---- field resolution ---------------------------------------------------- */

static bk_status find(const bk__field **f, const bk_record *rec, const char *name, size_t index,
    bool by_name, bk_error **err)
{
    if (!rec_ok(rec))
        return bk__error_set(err, rec ? BK_EMISUSE : BK_EINVAL, "not a record handle");
    const bk_model *m = rec->model;
    if (by_name) {
        if (!name)
            return bk__error_set(err, BK_EINVAL, "NULL field name");
        for (size_t i = 0; i < m->nfields; i++) {
            if (strcmp(m->fields[i].name, name) == 0) {
                *f = &m->fields[i];
                return BK_OK;
            }
        }
        return bk__error_problem(err, BK_ENOTFOUND, "$", "unknown_field",
            "model %s has no field \"%s\"", m->name, name);
    }
    if (index >= m->nfields)
        return bk__error_problem(err, BK_ENOTFOUND, "$", "unknown_field",
            "model %s has no field number %zu", m->name, index);
    *f = &m->fields[index];
    return BK_OK;
}

/* find(), then refuse a NULL output pointer. */
static bk_status find_out(const bk__field **f, const bk_record *rec, const char *name,
    size_t index, bool by_name, const void *out, bk_error **err)
{
    bk_status st = find(f, rec, name, index, by_name, err);
    if (st == BK_OK && !out)
        st = bk__error_set(err, BK_EINVAL, "NULL output");
    return st;
}

static bk_status need_present(const bk_record *rec, const bk__field *f, bk_error **err)
{
    if (f->optional && rec->data[f->presence_offset] != BK_PRESENT)
        return bk__error_problem(err, BK_ENOTFOUND, "$", "missing", "field \"%s\" is %s",
            f->name, rec->data[f->presence_offset] == BK_NULL ? "null" : "absent");
    return BK_OK;
}

static bk_status kind_mismatch(const bk__field *f, const char *want, bk_error **err)
{
    return bk__error_problem(err, BK_EDECODE, "$", "type", "field \"%s\" (%s) is not %s",
        f->name, f->type->expr ? f->type->expr : "?", want);
}

static bk_status range_error(const bk__field *f, bk_error **err)
{
    return bk__error_problem(err, BK_EDECODE, "$", "out_of_range",
        "value out of range for field \"%s\" (%s)", f->name, f->type->expr ? f->type->expr : "?");
}

static void mark_present(bk_record *rec, const bk__field *f)
{
    if (f->optional)
        rec->data[f->presence_offset] = BK_PRESENT;
}

/* ---- getters ----------------------------------------------------------------- */

static bk_status get_i64(int64_t *out, const bk_record *rec, const bk__field *f, bk_error **err)
{
    bk_status st = need_present(rec, f, err);
    if (st != BK_OK)
        return st;
    const char *p = rec->data + f->offset;
    switch (f->type->kind) {
    case BK_I8: *out = *(const int8_t *)p; return BK_OK;
    case BK_I16: *out = *(const int16_t *)p; return BK_OK;
    case BK_I32: case BK_DATE: *out = *(const int32_t *)p; return BK_OK;
    case BK_I64: case BK_TIMESTAMP: *out = *(const int64_t *)p; return BK_OK;
    case BK_U8: *out = *(const uint8_t *)p; return BK_OK;
    case BK_U16: *out = *(const uint16_t *)p; return BK_OK;
    case BK_U32: *out = *(const uint32_t *)p; return BK_OK;
    case BK_ENUM: *out = *(const int *)p; return BK_OK;
    case BK_U64: {
        uint64_t v = *(const uint64_t *)p;
        if (v > INT64_MAX)
            return range_error(f, err);
        *out = (int64_t)v;
        return BK_OK;
    }
    default:
        return kind_mismatch(f, "an integer", err);
    }
}

bk_status bk_record_get_i64(int64_t *out, const bk_record *rec, const char *field, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find_out(&f, rec, field, 0, true, out, err);
    return st != BK_OK ? st : get_i64(out, rec, f, err);
}

bk_status bk_record_get_i64_at(int64_t *out, const bk_record *rec, size_t index, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find_out(&f, rec, NULL, index, false, out, err);
    return st != BK_OK ? st : get_i64(out, rec, f, err);
}

bk_status bk_record_get_u64(uint64_t *out, const bk_record *rec, const char *field, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    if (st != BK_OK)
        return st;
    if (!out)
        return bk__error_set(err, BK_EINVAL, "NULL output");
    if (f->type->kind == BK_U64) {
        if ((st = need_present(rec, f, err)) != BK_OK)
            return st;
        *out = *(const uint64_t *)(rec->data + f->offset);
        return BK_OK;
    }
    int64_t v = 0;
    if ((st = get_i64(&v, rec, f, err)) != BK_OK)
        return st;
    if (v < 0)
        return range_error(f, err);
    *out = (uint64_t)v;
    return BK_OK;
}

static bk_status get_f64(double *out, const bk_record *rec, const bk__field *f, bk_error **err)
{
    bk_status st = need_present(rec, f, err);
    if (st != BK_OK)
        return st;
    const char *p = rec->data + f->offset;
    if (f->type->kind == BK_F64)
        *out = *(const double *)p;
    else if (f->type->kind == BK_F32)
        *out = *(const float *)p;
    else
        return kind_mismatch(f, "a float", err);
    return BK_OK;
}

bk_status bk_record_get_f64(double *out, const bk_record *rec, const char *field, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find_out(&f, rec, field, 0, true, out, err);
    return st != BK_OK ? st : get_f64(out, rec, f, err);
}

bk_status bk_record_get_f64_at(double *out, const bk_record *rec, size_t index, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find_out(&f, rec, NULL, index, false, out, err);
    return st != BK_OK ? st : get_f64(out, rec, f, err);
}

bk_status bk_record_get_bool(bool *out, const bk_record *rec, const char *field, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    if (st != BK_OK)
        return st;
    if (!out)
        return bk__error_set(err, BK_EINVAL, "NULL output");
    if (f->type->kind != BK_BOOL)
        return kind_mismatch(f, "a bool", err);
    if ((st = need_present(rec, f, err)) != BK_OK)
        return st;
    *out = *(const bool *)(rec->data + f->offset);
    return BK_OK;
}

static bk_status get_str(const char **out, const bk_record *rec, const bk__field *f,
    bk_error **err)
{
    bk_status st = need_present(rec, f, err);
    if (st != BK_OK)
        return st;
    const char *p = rec->data + f->offset;
    if (f->type->kind == BK_STR) {
        *out = *(char *const *)p;
        if (!*out)
            return bk__error_problem(err, BK_ENOTFOUND, "$", "missing", "field \"%s\" is not set",
                f->name);
        return BK_OK;
    }
    if (f->type->kind == BK_ENUM) {
        int v = *(const int *)p;
        if (v < 0 || (size_t)v >= f->type->enm->n)
            return range_error(f, err);
        *out = f->type->enm->names[v];
        return BK_OK;
    }
    return kind_mismatch(f, "a string", err);
}

bk_status bk_record_get_str(const char **out, const bk_record *rec, const char *field, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find_out(&f, rec, field, 0, true, out, err);
    return st != BK_OK ? st : get_str(out, rec, f, err);
}

bk_status bk_record_get_str_at(const char **out, const bk_record *rec, size_t index, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find_out(&f, rec, NULL, index, false, out, err);
    return st != BK_OK ? st : get_str(out, rec, f, err);
}

bk_status bk_record_get_bytes(const unsigned char **out, size_t *len_out, const bk_record *rec,
    const char *field, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    if (st != BK_OK)
        return st;
    if (!out || !len_out)
        return bk__error_set(err, BK_EINVAL, "NULL output");
    if (f->type->kind != BK_BYTES)
        return kind_mismatch(f, "bytes", err);
    if ((st = need_present(rec, f, err)) != BK_OK)
        return st;
    const bk_bytes *b = (const bk_bytes *)(rec->data + f->offset);
    *out = b->data;
    *len_out = b->len;
    return BK_OK;
}

static bk_status get_json(json_t **out, const bk_record *rec, const bk__field *f, bk_error **err)
{
    *out = NULL;
    if (f->optional) {
        bk_presence p = (bk_presence)rec->data[f->presence_offset];
        if (p == BK_ABSENT)
            return need_present(rec, f, err);
        if (p == BK_NULL) {
            *out = json_null();
            return BK_OK;
        }
    }
    bk_buf b = BK_BUF_INIT;
    bk_status st = bk__json_encode_type(&b, f->type, rec->data + f->offset, err);
    if (st == BK_OK) {
        json_error_t je;
        *out = json_loadb(b.ptr, b.len, JSON_DECODE_ANY, &je);
        if (!*out) /* a u64 above INT64_MAX does not fit jansson's integers */
            st = bk__error_problem(err, BK_EDECODE, "$", "out_of_range",
                "jansson cannot hold this value: %s", je.text);
    }
    bk_buf_dispose(&b);
    return st;
}

bk_status bk_record_get_json(json_t **out, const bk_record *rec, const char *field, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find_out(&f, rec, field, 0, true, out, err);
    return st != BK_OK ? st : get_json(out, rec, f, err);
}

bk_status bk_record_get_json_at(json_t **out, const bk_record *rec, size_t index, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find_out(&f, rec, NULL, index, false, out, err);
    return st != BK_OK ? st : get_json(out, rec, f, err);
}

bk_status bk_record_get_presence(bk_presence *out, const bk_record *rec, const char *field,
    bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    if (st != BK_OK)
        return st;
    if (!out)
        return bk__error_set(err, BK_EINVAL, "NULL output");
    *out = f->optional ? (bk_presence)rec->data[f->presence_offset] : BK_PRESENT;
    return BK_OK;
}

/* ---- setters ------------------------------------------------------------------ */

static bk_status set_i64(bk_record *rec, const bk__field *f, int64_t v, bk_error **err)
{
    char *p = rec->data + f->offset;
    bk_kind k = f->type->kind;
    if (k == BK_ENUM) {
        if (v < 0 || (uint64_t)v >= f->type->enm->n)
            return range_error(f, err);
        *(int *)p = (int)v;
    } else if ((k >= BK_I8 && k <= BK_U64) || k == BK_DATE || k == BK_TIMESTAMP) {
        if (!bk__int_fits(k, v))
            return range_error(f, err);
        switch (k) {
        case BK_I8: *(int8_t *)p = (int8_t)v; break;
        case BK_I16: *(int16_t *)p = (int16_t)v; break;
        case BK_I32: case BK_DATE: *(int32_t *)p = (int32_t)v; break;
        case BK_U8: *(uint8_t *)p = (uint8_t)v; break;
        case BK_U16: *(uint16_t *)p = (uint16_t)v; break;
        case BK_U32: *(uint32_t *)p = (uint32_t)v; break;
        case BK_U64: *(uint64_t *)p = (uint64_t)v; break;
        default: *(int64_t *)p = v; break; /* I64, TIMESTAMP */
        }
    } else {
        return kind_mismatch(f, "an integer", err);
    }
    mark_present(rec, f);
    return BK_OK;
}

bk_status bk_record_set_i64(bk_record *rec, const char *field, int64_t value, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    return st != BK_OK ? st : set_i64(rec, f, value, err);
}

bk_status bk_record_set_i64_at(bk_record *rec, size_t index, int64_t value, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, NULL, index, false, err);
    return st != BK_OK ? st : set_i64(rec, f, value, err);
}

bk_status bk_record_set_u64(bk_record *rec, const char *field, uint64_t value, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    if (st != BK_OK)
        return st;
    if (f->type->kind == BK_U64) {
        *(uint64_t *)(rec->data + f->offset) = value;
        mark_present(rec, f);
        return BK_OK;
    }
    if (value > INT64_MAX)
        return f->type->kind >= BK_I8 && f->type->kind <= BK_U32 ? range_error(f, err)
                                                                : kind_mismatch(f, "an integer", err);
    return set_i64(rec, f, (int64_t)value, err);
}

static bk_status set_f64(bk_record *rec, const bk__field *f, double v, bk_error **err)
{
    if (f->type->kind != BK_F32 && f->type->kind != BK_F64)
        return kind_mismatch(f, "a float", err);
    if (!isfinite(v) || (f->type->kind == BK_F32 && fabs(v) >= 0x1.ffffffp127))
        return range_error(f, err);
    if (f->type->kind == BK_F32)
        *(float *)(rec->data + f->offset) = (float)v;
    else
        *(double *)(rec->data + f->offset) = v;
    mark_present(rec, f);
    return BK_OK;
}

bk_status bk_record_set_f64(bk_record *rec, const char *field, double value, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    return st != BK_OK ? st : set_f64(rec, f, value, err);
}

bk_status bk_record_set_f64_at(bk_record *rec, size_t index, double value, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, NULL, index, false, err);
    return st != BK_OK ? st : set_f64(rec, f, value, err);
}

bk_status bk_record_set_bool(bk_record *rec, const char *field, bool value, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    if (st != BK_OK)
        return st;
    if (f->type->kind != BK_BOOL)
        return kind_mismatch(f, "a bool", err);
    *(bool *)(rec->data + f->offset) = value;
    mark_present(rec, f);
    return BK_OK;
}

static bk_status set_str(bk_record *rec, const bk__field *f, const char *v, bk_error **err)
{
    if (!v)
        return bk__error_set(err, BK_EINVAL, "NULL string");
    char *p = rec->data + f->offset;
    size_t n = strlen(v);
    switch (f->type->kind) {
    case BK_STR: {
        if (!bk__utf8_valid((const unsigned char *)v, n))
            return bk__error_problem(err, BK_EDECODE, "$", "invalid_utf8",
                "value for field \"%s\" is not valid UTF-8", f->name);
        char *c = bk__strndup(v, n);
        if (!c)
            return bk__error_oom(err);
        bk__free(*(char **)p);
        *(char **)p = c;
        break;
    }
    case BK_ENUM: {
        const bk__enum *en = f->type->enm;
        size_t i;
        for (i = 0; i < en->n; i++)
            if (en->lens[i] == n && memcmp(en->names[i], v, n) == 0)
                break;
        if (i == en->n)
            return bk__error_problem(err, BK_EDECODE, "$", "invalid_value",
                "\"%s\" is not one of the names of %s", v, en->name);
        *(int *)p = (int)i;
        break;
    }
    case BK_TIMESTAMP: case BK_DATE: case BK_UUID: {
        bool ok = f->type->kind == BK_TIMESTAMP ? bk__ts_parse(v, n, (int64_t *)p)
                : f->type->kind == BK_DATE ? bk__date_parse(v, n, (int32_t *)p)
                : bk__uuid_parse(v, n, ((bk_uuid *)p)->bytes);
        if (!ok)
            return bk__error_problem(err, BK_EDECODE, "$", "invalid_value",
                "\"%s\" is not a valid %s", v, f->type->expr);
        break;
    }
    default:
        return kind_mismatch(f, "a string", err);
    }
    mark_present(rec, f);
    return BK_OK;
}

bk_status bk_record_set_str(bk_record *rec, const char *field, const char *value, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    return st != BK_OK ? st : set_str(rec, f, value, err);
}

bk_status bk_record_set_str_at(bk_record *rec, size_t index, const char *value, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, NULL, index, false, err);
    return st != BK_OK ? st : set_str(rec, f, value, err);
}

bk_status bk_record_set_bytes(bk_record *rec, const char *field, const unsigned char *data,
    size_t len, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    if (st != BK_OK)
        return st;
    if (f->type->kind != BK_BYTES)
        return kind_mismatch(f, "bytes", err);
    if (!data && len)
        return bk__error_set(err, BK_EINVAL, "NULL data");
    unsigned char *c = bk__malloc(len ? len : 1);
    if (!c)
        return bk__error_oom(err);
    if (len)
        memcpy(c, data, len);
    bk_bytes *b = (bk_bytes *)(rec->data + f->offset);
    bk__free(b->data);
    b->data = c;
    b->len = len;
    mark_present(rec, f);
    return BK_OK;
}

/* Decode the JSON of value into scratch storage, then swap it in. */
static bk_status set_json(bk_record *rec, const bk__field *f, const json_t *value, bk_error **err)
{
    if (!value)
        return bk__error_set(err, BK_EINVAL, "NULL value");
    if (f->optional && json_is_null(value)) {
        bk__value_clear(f->type, rec->data + f->offset);
        rec->data[f->presence_offset] = BK_NULL;
        return BK_OK;
    }
    size_t n = json_dumpb(value, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    char *text = n ? bk__malloc(n) : NULL;
    void *tmp = text ? bk__calloc(1, f->type->size) : NULL;
    bk_status st;
    if (!tmp) {
        st = n ? bk__error_oom(err) : bk__error_set(err, BK_EINVAL, "value cannot be dumped");
        goto done;
    }
    json_dumpb(value, text, n, JSON_COMPACT | JSON_ENCODE_ANY);
    st = bk__json_decode_type(tmp, f->type, text, n, NULL, "$", err);
    if (st != BK_OK)
        goto done;
    bk__value_clear(f->type, rec->data + f->offset);
    memcpy(rec->data + f->offset, tmp, f->type->size);
    mark_present(rec, f);
done:
    bk__free(tmp);
    bk__free(text);
    return st;
}

bk_status bk_record_set_json(bk_record *rec, const char *field, const json_t *value, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    return st != BK_OK ? st : set_json(rec, f, value, err);
}

bk_status bk_record_set_json_at(bk_record *rec, size_t index, const json_t *value, bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, NULL, index, false, err);
    return st != BK_OK ? st : set_json(rec, f, value, err);
}

bk_status bk_record_set_presence(bk_record *rec, const char *field, bk_presence presence,
    bk_error **err)
{
    const bk__field *f = NULL;
    bk_status st = find(&f, rec, field, 0, true, err);
    if (st != BK_OK)
        return st;
    if (!f->optional)
        return bk__error_problem(err, BK_EDECODE, "$", "type", "field \"%s\" is not optional",
            f->name);
    if (presence != BK_ABSENT && presence != BK_NULL)
        return bk__error_set(err, BK_EINVAL, "presence must be BK_ABSENT or BK_NULL");
    bk__value_clear(f->type, rec->data + f->offset);
    rec->data[f->presence_offset] = presence;
    return BK_OK;
}
