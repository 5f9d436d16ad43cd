"""The thin SWIG module backend._backend: one function per C function."""
import json
import os
import tempfile
import unittest

import backend as bk
from backend import lib

DOC = json.dumps({
    "bk_model": 1, "root": "Rec",
    "models": [{"name": "Rec", "fields": [
        {"name": "b", "type": "bool"},
        {"name": "n", "type": "i32", "max": 100},
        {"name": "u", "type": "u64"},
        {"name": "f", "type": "f32"},
        {"name": "s", "type": "str"},
        {"name": "by", "type": "bytes"},
        {"name": "e", "type": "Color"},
        {"name": "ts", "type": "timestamp"},
        {"name": "l", "type": "list<i32>", "default": []},
        {"name": "o", "type": "str", "optional": True}]}],
    "enums": [{"name": "Color", "values": ["red", "green"]}]})

FULL = (b'{"b":true,"n":5,"u":18446744073709551615,"f":1.5,"s":"h\\u00e9","by":"AAE=",'
        b'"e":"green","ts":"2024-01-01T00:00:00Z","l":[1,2]}')


class ThinTest(unittest.TestCase):
    def setUp(self):
        self.m = lib.bk_model_from_doc(DOC)
        self.r = lib.bk_record_new(self.m)

    def test_version_and_statuses(self):
        self.assertEqual(lib.bk_version(), "%d.%d.%d" % (lib.BK_VERSION_MAJOR, lib.BK_VERSION_MINOR,
                                                         lib.BK_VERSION_PATCH))
        self.assertEqual(lib.bk_version_number(), lib.BK_VERSION_NUMBER)
        self.assertEqual(lib.bk_status_name(lib.BK_EVALIDATION), "BK_EVALIDATION")
        self.assertEqual(lib.bk_status_name(999), "BK_UNKNOWN")
        self.assertIsNone(lib.bk_init())
        lib.bk_shutdown()

    def test_model_introspection_and_documents(self):
        m = self.m
        self.assertEqual(lib.bk_model_name(m), "Rec")
        self.assertEqual(lib.bk_model_field_count(m), 10)
        self.assertEqual(lib.bk_model_field_index(m, "s"), 4)
        self.assertEqual(lib.bk_model_field_index(m, "zz"), -1)
        self.assertEqual(lib.bk_model_field_name(m, 1), "n")
        self.assertEqual(lib.bk_model_field_json_name(m, 1), "n")
        self.assertEqual(lib.bk_model_field_kind(m, 1), lib.BK_I32)
        self.assertEqual(lib.bk_model_field_type(m, 8), "list<i32>")
        self.assertTrue(lib.bk_model_field_optional(m, 9))
        self.assertIsNone(lib.bk_model_field_name(m, 99))
        self.assertGreater(lib.bk_model_size(m), 0)
        doc = lib.bk_model_to_doc(m, False)
        self.assertEqual(lib.bk_model_to_doc(lib.bk_model_from_doc(doc), False), doc)
        self.assertIn("\n", lib.bk_model_to_doc(m, True))
        m2 = lib.bk_model_ref(m)
        self.assertEqual(lib.bk_model_name(m2), "Rec")
        del m2
        schema = json.loads(lib.bk_model_json_schema(m, False))
        self.assertEqual(schema["$ref"], "#/$defs/Rec")
        api = json.loads(lib.bk_models_openapi([m, m], False))
        self.assertEqual(list(api["components"]["schemas"]), ["Rec", "Color"])
        self.assertEqual(json.loads(lib.bk_models_openapi([], False)), {"components": {"schemas": {}}})
        with self.assertRaises(TypeError):
            lib.bk_models_openapi([m, 1], False)

    def test_record_getters_and_setters(self):
        r = self.r
        lib.bk_record_decode(r, FULL, None)
        self.assertIs(lib.bk_record_get_bool(r, "b"), True)
        self.assertEqual(lib.bk_record_get_i64(r, "n"), 5)
        self.assertEqual(lib.bk_record_get_i64_at(r, 1), 5)
        self.assertEqual(lib.bk_record_get_u64(r, "u"), 2 ** 64 - 1)
        self.assertEqual(lib.bk_record_get_f64(r, "f"), 1.5)
        self.assertEqual(lib.bk_record_get_f64_at(r, 3), 1.5)
        self.assertEqual(lib.bk_record_get_str(r, "s"), "hé")
        self.assertEqual(lib.bk_record_get_str_at(r, 4), "hé")
        self.assertEqual(lib.bk_record_get_str(r, "e"), "green")
        self.assertEqual(lib.bk_record_get_bytes(r, "by"), b"\x00\x01")
        self.assertEqual(lib.bk_record_get_json(r, "l"), [1, 2])
        self.assertEqual(lib.bk_record_get_json_at(r, 7), "2024-01-01T00:00:00Z")
        self.assertEqual(lib.bk_record_get_presence(r, "o"), lib.BK_ABSENT)
        self.assertEqual(lib.bk_record_get_presence(r, "s"), lib.BK_PRESENT)
        with self.assertRaises(bk.NotFoundError):
            lib.bk_record_get_str(r, "o")
        with self.assertRaises(bk.DecodeError):
            lib.bk_record_get_bool(r, "n")
        lib.bk_record_set_bool(r, "b", False)
        lib.bk_record_set_i64(r, "n", 7)
        lib.bk_record_set_i64_at(r, 1, 8)
        lib.bk_record_set_u64(r, "u", 3)
        lib.bk_record_set_f64(r, "f", 2.5)
        lib.bk_record_set_f64_at(r, 3, 0.25)
        lib.bk_record_set_str(r, "s", "x")
        lib.bk_record_set_str_at(r, 6, "red")
        lib.bk_record_set_bytes(r, "by", b"\xff")
        lib.bk_record_set_json(r, "l", [3])
        lib.bk_record_set_json_at(r, 7, "2000-01-01T00:00:00+01:00")
        lib.bk_record_set_presence(r, "o", lib.BK_NULL)
        self.assertEqual(lib.bk_record_encode(r, None),
                         b'{"b":false,"n":8,"u":3,"f":0.25,"s":"x","by":"/w==","e":"red",'
                         b'"ts":"1999-12-31T23:00:00Z","l":[3],"o":null}')
        with self.assertRaises(bk.DecodeError) as cm:
            lib.bk_record_set_i64(r, "n", 2 ** 40)
        self.assertEqual(cm.exception.errors[0]["code"], "out_of_range")
        self.assertEqual(lib.bk_record_model(r) is not None, True)
        self.assertEqual(lib.bk_model_name(lib.bk_record_model(r)), "Rec")
        lib.bk_record_clear(r)
        self.assertEqual(lib.bk_record_get_i64(r, "n"), 0)

    def test_codec_functions_take_records(self):
        r = self.r
        lib.bk_json_decode(r, self.m, FULL, None)
        out = lib.bk_json_encode(self.m, r, None)
        self.assertIsInstance(out, bytes)
        opts = lib.bk_encode_options()
        opts.indent = 2
        self.assertIn(b"\n  ", lib.bk_json_encode(self.m, r, opts))
        buf = lib.bk_buf()
        lib.bk_json_encode_buf(buf, self.m, r, None)
        lib.bk_json_encode_buf(buf, self.m, r, None)
        self.assertEqual(buf.bytes(), out + out)
        self.assertEqual(len(buf), 2 * len(out))
        lib.bk_buf_reset(buf)
        self.assertEqual(buf.bytes(), b"")
        with self.assertRaises(bk.DecodeError):
            lib.bk_json_to_value(self.m, r)   # jansson cannot hold the u64 maximum
        lib.bk_record_set_u64(r, "u", 1)
        value = lib.bk_json_to_value(self.m, r)
        self.assertEqual(value["l"], [1, 2])
        value["n"] = 9
        r2 = lib.bk_record_new(self.m)
        lib.bk_json_from_value(r2, self.m, value, None)
        self.assertEqual(lib.bk_record_get_i64(r2, "n"), 9)
        lib.bk_record_set_i64(r2, "n", 101)
        with self.assertRaises(bk.ValidationError):
            lib.bk_validate(self.m, r2, 0)
        lib.bk_clear(self.m, r2)
        self.assertEqual(lib.bk_record_get_i64(r2, "n"), 0)
        with self.assertRaises(bk.MisuseError):
            lib.bk_json_encode(lib.bk_model_from_doc(DOC), r, None)

    def test_options(self):
        o = lib.bk_decode_options()
        self.assertEqual((o.version, o.max_depth, o.max_errors), (1, 64, 100))
        o.max_depth = 1
        with self.assertRaises(bk.LimitError):
            lib.bk_record_decode(self.r, b'{"l": [[1]]}', o)
        lib.bk_decode_options_init(o)
        self.assertEqual(o.max_depth, 64)
        o.skip_validation = True
        lib.bk_record_decode(self.r, FULL.replace(b'"n":5', b'"n":500'), o)
        h = lib.bk_http_options()
        self.assertFalse(h.problem_json)
        h.set_status(lib.BK_EVALIDATION, 400)
        self.assertEqual(h.get_status(lib.BK_EVALIDATION), 400)

    def test_errors_from_the_thin_api(self):
        with self.assertRaises(bk.ValidationError) as cm:
            lib.bk_record_decode(self.r, FULL.replace(b'"n":5', b'"n":500'), None)
        e = cm.exception
        self.assertEqual(lib.bk_error_code(e.handle), lib.BK_EVALIDATION)
        self.assertEqual(lib.bk_error_count(e.handle), 1)
        self.assertEqual(lib.bk_error_path(e.handle, 0), "$.n")
        self.assertIsNone(lib.bk_error_path(e.handle, 1))
        self.assertEqual(lib.bk_error_location(e.handle, 0), [0, 0, 0])
        with self.assertRaises(bk.InvalidArgumentError):
            lib.bk_error_location(e.handle, 5)
        self.assertEqual(lib.bk_error_http_status(e.handle), 422)
        h = lib.bk_http_options()
        h.set_status(lib.BK_EVALIDATION, 409)
        self.assertEqual(lib.bk_error_http_status_ex(e.handle, h), 409)
        self.assertEqual(lib.bk_error_record_index(e.handle), -1)

    def test_builder(self):
        b = lib.bk_builder_new()
        lib.bk_builder_enum(b, "Kind", ["a", "b"])
        lib.bk_builder_model(b, "Pay")
        lib.bk_builder_field(b, "amount", "f64")
        lib.bk_builder_model(b, "Doc")
        lib.bk_builder_model_attr(b, "rename_all", '"camelCase"')
        lib.bk_builder_model_validator(b, "doc_ok")
        lib.bk_builder_field(b, "doc_kind", "Kind")
        lib.bk_builder_field_attr(b, "default", '"a"')
        lib.bk_builder_field(b, "body", "Body")
        lib.bk_builder_field_validator(b, "body_ok")
        lib.bk_builder_union(b, "Body")
        lib.bk_builder_union_attr(b, "tagging", '"internal"')
        lib.bk_builder_union_attr(b, "tag", '"t"')
        lib.bk_builder_variant(b, "pay", "Pay")
        lib.bk_builder_variant(b, "nothing", None)
        m = lib.bk_builder_build(b, "Doc")
        doc = json.loads(lib.bk_model_to_doc(m, False))
        self.assertEqual(doc["models"][0]["validator"], "doc_ok")
        self.assertEqual(doc["models"][0]["fields"][1]["validator"], "body_ok")
        r = lib.bk_record_new(m)
        lib.bk_record_decode(r, b'{"body": {"t": "pay", "amount": 2}}', None)
        self.assertEqual(lib.bk_record_encode(r, None),
                         b'{"docKind":"a","body":{"t":"pay","amount":2.0}}')
        with self.assertRaises(bk.ModelError):
            lib.bk_builder_field(b, "x", "list<")
        b2 = lib.bk_builder_new()
        lib.bk_builder_use(b2, m)
        lib.bk_builder_model(b2, "Wrap")
        lib.bk_builder_field(b2, "docs", "list<Doc>")
        self.assertEqual(lib.bk_model_name(lib.bk_builder_build(b2, "Wrap")), "Wrap")
        with self.assertRaises(bk.ModelError):
            lib.bk_builder_build(b2, "Nope")

    def test_streams(self):
        data = b'[{"b":true,"n":1,"u":0,"f":0,"s":"a","by":"","e":"red","ts":"2024-01-01T00:00:00Z"},\n' \
               b' {"n":"bad"},\n' \
               b' {"b":false,"n":2,"u":0,"f":0,"s":"b","by":"","e":"red","ts":"2024-01-01T00:00:00Z"}]'
        s = lib.bk_json_stream_new_buffer(self.m, bytearray(data), lib.BK_STREAM_ARRAY, None)
        del data                       # the stream keeps its bytes alive
        got = []
        while True:
            try:
                lib.bk_json_stream_next(s, self.r)
                got.append(lib.bk_record_get_str(self.r, "s"))
            except StopIteration:
                break
            except bk.DecodeError as e:
                got.append(("error", lib.bk_error_record_index(e.handle)))
            self.assertGreaterEqual(lib.bk_json_stream_index(s), 0)
        self.assertEqual(got, ["a", ("error", 1), "b"])
        with tempfile.TemporaryFile() as f:
            f.write(b'{"b":true,"n":1,"u":0,"f":0,"s":"x","by":"","e":"red","ts":"2024-01-01T00:00:00Z"}\n')
            f.flush()
            f.seek(0)
            s = lib.bk_json_stream_new_fd(self.m, f.fileno(), lib.BK_STREAM_NDJSON, None)
            lib.bk_json_stream_next(s, self.r)
            self.assertEqual(lib.bk_record_get_str(self.r, "s"), "x")
            with self.assertRaises(StopIteration):
                lib.bk_json_stream_next(s, self.r)
            del s
        with self.assertRaises(bk.InvalidArgumentError):
            lib.bk_json_stream_new_fd(self.m, -1, lib.BK_STREAM_NDJSON, None)

    def test_no_free_functions(self):
        for name in ("bk_model_unref", "bk_record_free", "bk_error_free", "bk_builder_free",
                     "bk_json_stream_free", "bk_free", "bk_malloc", "bk_set_allocator"):
            self.assertFalse(hasattr(lib, name), name)

    def test_every_public_function_is_bound(self):
        symbols = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "abi",
                               "symbols.txt")
        with open(symbols) as f:
            names = [line.strip() for line in f if line.strip()]
        skipped = {"bk_model_unref", "bk_record_free", "bk_error_free", "bk_builder_free",
                   "bk_json_stream_free", "bk_free", "bk_malloc", "bk_set_allocator",
                   "bk_record_data", "bk_model_new", "bk_json_stream_new_file", "bk_buf_detach",
                   # the adapter-author API (backend/sys/store.h): C drivers only
                   "bk_store_register_driver", "bk_store_table_info_clear"}
        missing = [n for n in names if n not in skipped and not hasattr(lib, n)]
        self.assertEqual(missing, [])
        storage = [n for n in names if n.startswith(("bk_store_", "bk_query_", "bk_cursor_"))]
        self.assertGreater(len(storage), 30)
        for n in storage:
            if n not in skipped:
                self.assertTrue(callable(getattr(lib, n)), n)


if __name__ == "__main__":
    unittest.main()
