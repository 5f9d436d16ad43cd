"""Lists of instances: decode_list / encode_list (the C record stream, GIL
released), their errors, and use from several threads."""
import datetime
import threading
import unittest
from typing import Optional

import backend as bk


class Item(bk.Model, deny_unknown=True):
    sku: str = bk.field(pattern="^[A-Z]{3}$")
    qty: bk.i32 = bk.field(ge=1)
    note: Optional[str]


class Other(bk.Model):
    x: int


ITEMS = [b'{"sku":"ABC","qty":1}', b'{"sku":"DEF","qty":2,"note":null}',
         b'{"sku":"GHI","qty":3,"note":"n"}']


class DecodeListTest(unittest.TestCase):
    def test_same_as_one_by_one(self):
        data = b"[\n" + b",\n".join(ITEMS) + b"\n]\n"
        items = Item.from_json_list(data)
        self.assertEqual(len(items), 3)
        for got, raw in zip(items, ITEMS):
            self.assertIsInstance(got, Item)
            self.assertEqual(got, Item.from_json(raw))
            self.assertEqual(got.to_json(), raw)
        self.assertEqual(bk.decode_list(Item, data.decode()), items)
        self.assertEqual(bk.encode_list(items), b"[" + b",".join(ITEMS) + b"]")
        self.assertEqual(Item.to_json_list(items), bk.to_json(items))

    def test_empty(self):
        self.assertEqual(Item.from_json_list(b"[]"), [])
        self.assertEqual(Item.from_json_list(b" [ ] "), [])
        self.assertEqual(bk.encode_list([]), b"[]")

    def test_untouched_instances_encode_from_the_record(self):
        items = Item.from_json_list(b"[" + b",".join(ITEMS) + b"]")
        items[1].qty = 20
        items[2].note = None
        out = bk.encode_list(items)
        self.assertEqual(out, b'[{"sku":"ABC","qty":1},{"sku":"DEF","qty":20,"note":null},'
                         b'{"sku":"GHI","qty":3,"note":null}]')

    def test_heterogeneous_encode(self):
        self.assertEqual(bk.encode_list([Other(x=1), Item(sku="ABC", qty=1)]),
                         b'[{"x":1},{"sku":"ABC","qty":1}]')
        self.assertEqual(bk.encode_list((Other(x=2),)), b'[{"x":2}]')
        with self.assertRaises(TypeError):
            bk.encode_list([Other(x=1), {"x": 1}])
        with self.assertRaises(ValueError):
            bk.to_json([Other(x=1)], indent=2)

    def test_encode_errors_name_the_path(self):
        items = [Item(sku="ABC", qty=1)]
        items[0].qty = 5
        self.assertEqual(bk.encode_list(items), b'[{"sku":"ABC","qty":5}]')

    def test_element_errors_are_prefixed_and_located_in_the_document(self):
        data = (b'[\n'
                b'  {"sku":"ABC","qty":1},\n'
                b'  {"sku":"abc","qty":0},\n'
                b'  {"sku":"XYZ","qty":"two","bad":1}\n'
                b']')
        with self.assertRaises(bk.DecodeError) as cm:
            Item.from_json_list(data)
        e = cm.exception
        self.assertEqual(e.code, "BK_EDECODE")       # the worst status wins
        self.assertEqual(e.http_status, 400)
        self.assertEqual([(p["path"], p["code"]) for p in e.errors],
                         [("$[1].sku", "pattern"), ("$[1].qty", "below_min"),
                          ("$[2].qty", "type"), ("$[2].bad", "unknown_field")])
        located = [p for p in e.errors if "line" in p]
        for p in located:
            # the reported place is where the bad value is in the whole document
            lines = data.split(b"\n")
            self.assertEqual(p["line"], 4)
            self.assertEqual(data[p["offset"]:p["offset"] + 1],
                             lines[3][p["column"] - 1:p["column"]])
        self.assertTrue(located)
        self.assertEqual(e.record_index, 2)
        self.assertTrue(e.message.startswith("$[1].sku: "))
        self.assertIn("(and 3 more problems)", e.message)
        body = e.body["error"]
        self.assertEqual(body["code"], "invalid_body")
        self.assertEqual(body["details"][2]["path"], "$[2].qty")

    def test_validation_only(self):
        with self.assertRaises(bk.ValidationError) as cm:
            Item.from_json_list(b'[{"sku":"ABC","qty":1},{"sku":"ABC","qty":0}]')
        self.assertNotIsInstance(cm.exception, bk.DecodeError)
        self.assertEqual(cm.exception.http_status, 422)
        self.assertEqual(cm.exception.errors[0]["path"], "$[1].qty")

    def test_validate_off(self):
        items = Item.from_json_list(b'[{"sku":"abc","qty":0}]', validate=False)
        self.assertEqual(items[0].qty, 0)

    def test_syntax_errors(self):
        with self.assertRaises(bk.JSONSyntaxError) as cm:
            Item.from_json_list(b'{"sku":"ABC","qty":1}')
        self.assertEqual(cm.exception.errors[0]["path"], "$")
        with self.assertRaises(bk.JSONSyntaxError):
            Item.from_json_list(b'[{"sku":"ABC","qty":1}')
        with self.assertRaises(bk.JSONSyntaxError) as cm:
            Item.from_json_list(b'[{"sku":"ABC","qty":1},\n {"sku": }]')
        p = cm.exception.errors[0]
        self.assertEqual(p["path"], "$[1].sku")
        self.assertEqual((p["line"], p["column"]), (2, 10))

    def test_max_errors(self):
        data = b"[" + b",".join([b'{"sku":"abc","qty":1}'] * 50) + b"]"
        with self.assertRaises(bk.ValidationError) as cm:
            Item.from_json_list(data, max_errors=5)
        self.assertEqual(len(cm.exception.errors), 5)
        self.assertTrue(cm.exception.truncated)
        self.assertIn("list truncated", cm.exception.message)

    def test_not_a_model_class(self):
        with self.assertRaises(TypeError):
            bk.decode_list(dict, b"[]")


class ThreadTest(unittest.TestCase):
    def test_threads_decode_and_encode(self):
        one = b'{"sku":"ABC","qty":7,"note":"' + b"x" * 200 + b'"}'
        data = b"[" + b",".join([one] * 2000) + b"]"
        want = data
        errors = []

        def work():
            try:
                for _ in range(5):
                    items = Item.from_json_list(data)
                    if bk.encode_list(items) != want:
                        errors.append("mismatch")
            except Exception as e:           # pragma: no cover - reported below
                errors.append(repr(e))
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def test_gil_is_released_while_decoding(self):
        # Another thread keeps running Python code while a large list decodes.
        one = b'{"sku":"ABC","qty":7,"note":"' + b"y" * 100 + b'"}'
        data = b"[" + b",".join([one] * 100000) + b"]"
        ticks = []
        done = threading.Event()

        def ticker():
            while not done.is_set():
                ticks.append(1)

        t = threading.Thread(target=ticker)
        t.start()
        try:
            items = Item.from_json_list(data)
        finally:
            done.set()
            t.join()
        self.assertEqual(len(items), 100000)
        self.assertGreater(len(ticks), 0)


if __name__ == "__main__":
    unittest.main()
