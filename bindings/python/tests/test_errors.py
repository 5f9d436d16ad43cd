"""Exceptions: one class per C status, with every problem exactly as C reports it."""
import builtins
import json
import pickle
import unittest

import backend as bk
from backend import lib

DOC = json.dumps({"bk_model": 1, "root": "P", "models": [{"name": "P", "deny_unknown": True, "fields": [
    {"name": "age", "type": "i32", "min": 0, "max": 150},
    {"name": "name", "type": "str", "max_len": 3},
    {"name": "tags", "type": "list<str>", "default": [], "each": {"pattern": "^[a-z]+$"}}]}]})

EXPECTED = {
    "BK_ERROR": ("Error", (Exception,)),
    "BK_ENOMEM": ("OutOfMemoryError", (MemoryError,)),
    "BK_EINVAL": ("InvalidArgumentError", (ValueError,)),
    "BK_EMISUSE": ("MisuseError", (RuntimeError,)),
    "BK_ESYNTAX": ("JSONSyntaxError", (ValueError,)),
    "BK_EDECODE": ("DecodeError", (ValueError,)),
    "BK_EVALIDATION": ("ValidationError", (ValueError,)),
    "BK_ELIMIT": ("LimitError", (ValueError,)),
    "BK_ENOTFOUND": ("NotFoundError", (KeyError,)),
    "BK_ECONFLICT": ("ConflictError", ()),
    "BK_EBUSY": ("BusyError", ()),
    "BK_EIO": ("IOError", (OSError,)),
    "BK_EUSER": ("CallbackError", ()),
    "BK_EMODEL": ("ModelError", (TypeError,)),
    "BK_EUNSUPPORTED": ("UnsupportedError", (NotImplementedError,)),
    "BK_EINTERNAL": ("InternalError", (RuntimeError,)),
    "BK_ITEROVER": ("IterationOver", (StopIteration,)),
    "BK_EUNAUTHORIZED": ("UnauthorizedError", (PermissionError,)),
    "BK_ETIMEOUT": ("TimeoutError", (builtins.TimeoutError,)),
    "BK_ESCHEMA": ("SchemaError", ()),
}


def c_problems(err):
    """Every problem of a C error handle, through the C accessors."""
    out = []
    for i in range(lib.bk_error_count(err)):
        d = {"path": lib.bk_error_path(err, i), "code": lib.bk_error_problem_code(err, i),
             "message": lib.bk_error_problem_message(err, i),
             "params": json.loads(lib.bk_error_problem_params(err, i))}
        off, line, col = lib.bk_error_location(err, i)
        if line:
            d.update(offset=off, line=line, column=col)
        out.append(d)
    return out


class TableTest(unittest.TestCase):
    def test_one_class_per_c_status(self):
        value = 1
        while lib.bk_status_name(value) != "BK_UNKNOWN":
            name = lib.bk_status_name(value)
            cls = bk.STATUS[value]
            self.assertIs(bk.error_class(value), cls)
            self.assertIs(bk.error_class(name), cls)
            self.assertEqual(cls.code, name)
            self.assertEqual(cls.status, value)
            self.assertTrue(issubclass(cls, bk.Error))
            cname, mixins = EXPECTED[name]
            self.assertEqual(cls.__name__, cname)
            self.assertIs(getattr(bk, cname), cls)
            for m in mixins:
                self.assertTrue(issubclass(cls, m), (cls, m))
            value += 1
        self.assertEqual(value - 1, len(EXPECTED))
        self.assertEqual(lib.BK_ESCHEMA, 20)

    def test_hierarchy(self):
        self.assertTrue(issubclass(bk.DecodeError, bk.ValidationError))
        self.assertTrue(issubclass(bk.JSONSyntaxError, bk.DecodeError))
        self.assertTrue(issubclass(bk.LimitError, bk.DecodeError))
        self.assertFalse(issubclass(bk.ValidationError, bk.DecodeError))
        self.assertIs(bk.Error.code, "BK_ERROR")


class ProblemsTest(unittest.TestCase):
    def setUp(self):
        self.model = lib.bk_model_from_doc(DOC)
        self.rec = lib.bk_record_new(self.model)

    def decode_error(self, data):
        with self.assertRaises(bk.Error) as cm:
            lib.bk_record_decode(self.rec, data, None)
        return cm.exception

    def test_errors_are_what_c_reports(self):
        for data in (b'{"age": 200, "name": "abcd", "tags": ["ok", "NO"]}',
                     b'{"age": "x", "name": 5, "zzz": 1}',
                     b'{"age": 1,\n "name": tru}',
                     b'{"age": 1e400}', b'[]', b''):
            with self.subTest(data=data):
                e = self.decode_error(data)
                self.assertIsNotNone(e.handle)
                self.assertEqual(e.errors, c_problems(e.handle))
                self.assertEqual(e.status, lib.bk_error_code(e.handle))
                self.assertEqual(e.code, lib.bk_status_name(e.status))
                self.assertEqual(e.message, lib.bk_error_message(e.handle))
                self.assertEqual(str(e), e.message)
                self.assertEqual(e.http_status, lib.bk_error_http_status(e.handle))
                self.assertEqual(e.public_code, lib.bk_error_public_code(e.handle))
                self.assertEqual(e.truncated, lib.bk_error_truncated(e.handle))

    def test_status_classes(self):
        e = self.decode_error(b'{"age": 200, "name": "a"}')
        self.assertIs(type(e), bk.ValidationError)
        self.assertEqual((e.code, e.http_status, e.public_code),
                         ("BK_EVALIDATION", 422, "validation_failed"))
        self.assertEqual(e.errors, [{"path": "$.age", "code": "above_max",
                                     "message": "must be <= 150", "params": {"max": 150}}])
        e = self.decode_error(b'{"age": 1, "name": tru}')
        self.assertIs(type(e), bk.JSONSyntaxError)
        self.assertEqual(e.errors[0]["line"], 1)
        self.assertIn("column", e.errors[0])
        opts = lib.bk_decode_options()
        opts.max_string = 2
        with self.assertRaises(bk.LimitError) as cm:
            lib.bk_record_decode(self.rec, b'{"age": 1, "name": "abcdef"}', opts)
        self.assertEqual(cm.exception.errors[0]["code"], "too_long")

    def test_bodies_are_written_by_c(self):
        e = self.decode_error(b'{"age": 200, "name": "abcd"}')
        self.assertEqual(e.to_json(), lib.bk_error_to_json(e.handle, None))
        body = e.body
        self.assertEqual(body["error"]["status"], 422)
        self.assertEqual(body["error"]["details"][1]["params"], {"max_len": 3})
        opts = lib.bk_http_options()
        opts.problem_json = True
        opts.set_status(lib.BK_EVALIDATION, 400)
        self.assertEqual(e.to_json(problem_json=True, statuses={bk.ValidationError.status: 400}),
                         lib.bk_error_to_json(e.handle, opts))

    def test_python_bodies_match_c_bodies(self):
        # Errors whose problems the binding rewrites (lists, assignments)
        # have no handle: their bodies are written by Python the way C does.
        for data in (b'{"age": 200, "name": "ab\\"\\u0001cd\xc3\xa9"}',
                     b'{"age": 1,\n "name": tru}', b'{"zzz": 1}'):
            with self.subTest(data=data):
                e = self.decode_error(data)
                copy = type(e)(e.message, errors=e.errors, http_status=e.http_status,
                               public_code=e.public_code, truncated=e.truncated)
                copy._params_text = e._params_text
                self.assertIsNone(copy.handle)
                for pj in (False, True):
                    for statuses in (None, {e.status: 503}, {e.status: 418}):
                        self.assertEqual(copy.to_json(pj, statuses), e.to_json(pj, statuses))

    def test_pickle(self):
        e = self.decode_error(b'{"age": 200, "name": "a"}')
        p = pickle.loads(pickle.dumps(e))
        self.assertIs(type(p), bk.ValidationError)
        self.assertEqual((p.message, p.errors, p.http_status), (e.message, e.errors, e.http_status))

    def test_errors_without_a_handle(self):
        other = lib.bk_model_from_doc(DOC)
        with self.assertRaises(bk.MisuseError) as cm:
            lib.bk_json_decode(self.rec, other, b"{}", None)
        self.assertIn("another model", str(cm.exception))
        self.assertEqual(cm.exception.http_status, 500)
        with self.assertRaises(bk.NotFoundError) as cm:
            lib.bk_record_get_i64(self.rec, "nope")
        self.assertEqual(str(cm.exception), cm.exception.message)
        with self.assertRaises(KeyError):
            lib.bk_record_get_i64(self.rec, "nope")
        body = json.loads(bk.InternalError("boom").to_json())
        self.assertEqual(body, {"error": {"message": "internal error", "code": "internal",
                                          "status": 500}})

    def test_assignment_errors_are_prefixed(self):
        P = bk.Model.from_doc(DOC)
        p = P(age=1, name="a")
        with self.assertRaises(bk.DecodeError) as cm:
            p.tags = ["a", 5]
        e = cm.exception
        self.assertEqual(e.errors[0]["path"], "$.tags[1]")
        self.assertTrue(e.message.startswith("$.tags[1]: "))
        self.assertIsNone(e.handle)
        self.assertEqual(e.body["error"]["details"][0]["path"], "$.tags[1]")


if __name__ == "__main__":
    unittest.main()
