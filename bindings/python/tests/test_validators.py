"""Python functions as custom validators: @bk.field_validator, @bk.model_validator."""
import datetime
import gc
import json
import threading
import unittest
import weakref

import backend as bk

UTC = datetime.timezone.utc


class Span(bk.Model):
    start: int
    end: int

    @bk.model_validator(mode="after")
    def ordered(self):
        if self.end < self.start:
            raise bk.ValidationProblem("end_before_start", "end must not be before start",
                                       {"start": self.start}, path="end")
        return self


class Item(bk.Model):
    sku: str = bk.field(min_len=1)
    qty: int = bk.field(ge=0)

    @bk.field_validator("sku")
    @classmethod
    def upper(cls, v):
        if v != v.upper():
            raise ValueError("must be upper case")
        return v


class Order(bk.Model, rename_all="camelCase"):
    order_name: str = bk.field(max_len=8)
    when: datetime.datetime
    span: Span
    items: list[Item] = []
    by_code: dict[str, Item] = {}
    other: bk.Ptr["Order"] = None

    @bk.field_validator("order_name")
    @classmethod
    def no_space(cls, v):
        if " " in v:
            raise ValueError("must not contain spaces")
        return v

    @bk.field_validator("when")
    @classmethod
    def in_2024(cls, v):
        assert isinstance(v, datetime.datetime)      # the Python value, not the JSON text
        if v.year != 2024:
            raise bk.ValidationProblem("year", "must be in 2024", {"year": 2024})
        return v

    @bk.field_validator("items")
    @classmethod
    def few(cls, v):
        assert all(isinstance(x, Item) for x in v)
        if len(v) > 3:
            raise ValueError("at most 3 items")
        return v


def order(**kw):
    d = {"orderName": "o1", "when": "2024-05-01T10:00:00Z", "span": {"start": 1, "end": 2}}
    d.update(kw)
    return json.dumps(d)


class FieldValidators(unittest.TestCase):
    def test_pass(self):
        o = Order.from_json(order(items=[{"sku": "A", "qty": 1}]))
        self.assertEqual(o.order_name, "o1")
        self.assertEqual(o.items[0].sku, "A")

    def test_fail_value_error(self):
        with self.assertRaises(bk.ValidationError) as cm:
            Order.from_json(order(orderName="a b"))
        self.assertEqual(cm.exception.errors, [
            {"path": "$.orderName", "code": "custom:no_space",
             "message": "must not contain spaces", "params": {}}])

    def test_custom_code_and_params(self):
        with self.assertRaises(bk.ValidationError) as cm:
            Order.from_json(order(when="2023-01-01T00:00:00Z"))
        self.assertEqual(cm.exception.errors, [
            {"path": "$.when", "code": "custom:year", "message": "must be in 2024",
             "params": {"year": 2024}}])

    def test_nested_paths_lists_and_maps(self):
        with self.assertRaises(bk.ValidationError) as cm:
            Order.from_json(order(items=[{"sku": "A", "qty": 1}, {"sku": "b", "qty": 1}],
                                  byCode={"x y": {"sku": "c", "qty": 2}},
                                  other=json.loads(order(orderName="p q"))))
        self.assertEqual(cm.exception.errors, [
            {"path": "$.items[1].sku", "code": "custom:upper", "message": "must be upper case",
             "params": {}},
            {"path": '$.byCode["x y"].sku', "code": "custom:upper",
             "message": "must be upper case", "params": {}},
            {"path": "$.other.orderName", "code": "custom:no_space",
             "message": "must not contain spaces", "params": {}}])

    def test_every_problem_together_with_constraints(self):
        with self.assertRaises(bk.ValidationError) as cm:
            Order.from_json(order(orderName="a b c d e", span={"start": 5, "end": 1},
                                  items=[{"sku": "", "qty": -1}, {"sku": "z", "qty": 1},
                                         {"sku": "A", "qty": 1}, {"sku": "A", "qty": 1}]))
        self.assertEqual(cm.exception.errors, [
            {"path": "$.orderName", "code": "too_long",
             "message": "must be at most 8 characters long", "params": {"max_len": 8}},
            {"path": "$.orderName", "code": "custom:no_space",
             "message": "must not contain spaces", "params": {}},
            {"path": "$.span.end", "code": "custom:end_before_start",
             "message": "end must not be before start", "params": {"start": 5}},
            {"path": "$.items[0].sku", "code": "too_short",
             "message": "must be at least 1 character long", "params": {"min_len": 1}},
            {"path": "$.items[0].qty", "code": "below_min", "message": "must be >= 0",
             "params": {"min": 0}},
            {"path": "$.items[1].sku", "code": "custom:upper", "message": "must be upper case",
             "params": {}},
            {"path": "$.items", "code": "custom:few", "message": "at most 3 items",
             "params": {}}])
        self.assertEqual(cm.exception.http_status, 422)

    def test_everywhere_the_model_validates(self):
        span = Span(start=1, end=2)
        with self.assertRaises(bk.ValidationError):
            Span(start=3, end=2)                                 # constructor
        with self.assertRaises(bk.ValidationError):
            Span.from_dict({"start": 3, "end": 2})
        s = Span.from_json('{"start": 3, "end": 2}', validate=False)   # skipped
        with self.assertRaises(bk.ValidationError) as cm:
            s.validate()                                         # bk_validate
        self.assertEqual(cm.exception.errors[0]["path"], "$.end")
        span.end = 0                                             # assignment does not validate
        with self.assertRaises(bk.ValidationError):
            span.validate()
        with self.assertRaises(bk.ValidationError) as cm:
            Span.from_json_list('[{"start": 1, "end": 2}, {"start": 3, "end": 2}]')
        self.assertEqual(cm.exception.errors[0]["path"], "$[1].end")

    def test_model_validator_value_error_at_the_model(self):
        class Pair(bk.Model):
            a: int
            b: int

            @bk.model_validator
            def differ(self):
                if self.a == self.b:
                    raise ValueError("a and b must differ")

        class Holder(bk.Model):
            pair: Pair

        with self.assertRaises(bk.ValidationError) as cm:
            Holder.from_json('{"pair": {"a": 1, "b": 1}}')
        self.assertEqual(cm.exception.errors, [
            {"path": "$.pair", "code": "custom:differ", "message": "a and b must differ",
             "params": {}}])

    def test_function_forms(self):
        class F(bk.Model):
            a: str
            b: str
            c: int

            @bk.field_validator("a")
            def plain(cls, v):                 # no @classmethod: one is implied
                assert cls is F
                if v == "x":
                    raise ValueError("not x")

            @bk.field_validator("b")
            @staticmethod
            def static(v):
                assert v != "y", "not y"

            @bk.field_validator("c")
            @classmethod
            def bare_assert(cls, v):
                assert v > 0

        F(a="a", b="b", c=1)
        with self.assertRaises(bk.ValidationError) as cm:
            F(a="x", b="y", c=0)
        self.assertEqual([(p["code"], p["message"]) for p in cm.exception.errors],
                         [("custom:plain", "not x"), ("custom:static", "not y"),
                          ("custom:bare_assert", "assertion failed")])
        self.assertEqual(F.plain("q"), None)   # still callable from the class

    def test_several_validators_and_several_fields(self):
        calls = []

        class G(bk.Model):
            a: str
            b: str

            @bk.field_validator("a", "b")
            @classmethod
            def first(cls, v):
                calls.append(("first", v))
                if v == "bad":
                    raise ValueError("bad")

            @bk.field_validator("a")
            @classmethod
            def second(cls, v):
                calls.append(("second", v))

        G(a="ok", b="ok2")
        self.assertEqual(calls, [("first", "ok"), ("second", "ok"), ("first", "ok2")])
        calls.clear()
        with self.assertRaises(bk.ValidationError) as cm:
            G(a="bad", b="bad")
        # a field's chain stops at its first failure (as in pydantic)
        self.assertEqual(calls, [("first", "bad"), ("first", "bad")])
        self.assertEqual([p["path"] for p in cm.exception.errors], ["$.a", "$.b"])
        doc = json.loads(G.to_doc())
        self.assertEqual([f.get("validator") for f in doc["models"][0]["fields"]],
                         ["first,second", "first"])

    def test_inherited_and_overridden(self):
        class Base(bk.Model):
            name: str

            @bk.field_validator("name")
            @classmethod
            def short(cls, v):
                if len(v) > 3:
                    raise ValueError("too long for base")

        class Child(Base):
            age: int = 0

        class Loose(Base):
            @bk.field_validator("name")
            @classmethod
            def short(cls, v):                 # same name: replaces the parent's
                if len(v) > 6:
                    raise ValueError("too long for loose")

        with self.assertRaises(bk.ValidationError):
            Child(name="abcd")
        Loose(name="abcd")
        with self.assertRaises(bk.ValidationError) as cm:
            Loose(name="abcdefg")
        self.assertEqual(cm.exception.errors[0]["message"], "too long for loose")

    def test_schema_unaffected_and_names_in_documents(self):
        class Plain(bk.Model, model_name="Span"):
            start: int
            end: int
        self.assertEqual(Span.model_json_schema(), Plain.model_json_schema())
        doc = json.loads(Span.to_doc())
        self.assertEqual(doc["models"][0]["validator"], "ordered")
        # a loaded document keeps the name, without the function
        Loaded = bk.Model.from_doc(Span.to_doc())
        Loaded.from_json('{"start": 3, "end": 1}')

    def test_declaration_errors(self):
        with self.assertRaises(NotImplementedError):
            bk.field_validator("a", mode="before")
        with self.assertRaises(TypeError):
            @bk.field_validator
            def f(cls, v):
                pass

        class Missing(bk.Model):
            a: int

            @bk.field_validator("nope")
            @classmethod
            def check(cls, v):
                pass
        with self.assertRaises(TypeError):
            Missing(a=1)

        class NameOnly(bk.Model):
            a: int = bk.field(validator="positive")
        with self.assertRaises(bk.ModelError) as cm:
            NameOnly(a=1)
        self.assertIn("model NameOnly, field a: no validator named \"positive\"",
                      str(cm.exception))

    def test_unexpected_exceptions_propagate(self):
        class Bug(bk.Model):
            a: int
            b: int = 0

            @bk.field_validator("a")
            @classmethod
            def buggy(cls, v):
                if v == 13:
                    raise KeyError("oops")
                if v == 0:
                    return 1 / v

        with self.assertRaises(KeyError):
            Bug.from_json('{"a": 13}')
        try:
            Bug(a=0)
            self.fail("no exception")
        except ZeroDivisionError as e:      # raised as is, its traceback down to the validator
            tb = e.__traceback__
            while tb.tb_next:
                tb = tb.tb_next
            self.assertEqual(tb.tb_frame.f_code.co_name, "buggy")
        with self.assertRaises(KeyError):
            Bug.from_json_list('[{"a": 1}, {"a": 13}, {"a": 13}]')
        b = Bug.from_json('{"a": 13}', validate=False)
        with self.assertRaises(KeyError):
            b.validate()
        # nothing left behind: the next calls behave
        self.assertEqual(Bug.from_json('{"a": 2}').a, 2)
        with self.assertRaises(bk.ValidationError):
            Order.from_json(order(orderName="a b"))


class LoadedDocuments(unittest.TestCase):
    """A model defined elsewhere (C, another service) names its validators;
    from_doc(validators=...) supplies Python functions for them."""
    DOC = json.dumps({
        "bk_model": 1, "root": "Booking",
        "models": [
            {"name": "Booking", "validator": "span_ok", "fields": [
                {"name": "code", "type": "str", "max_len": 6, "validator": "upper,no_space"},
                {"name": "start", "type": "i64"},
                {"name": "end", "type": "i64"},
                {"name": "guests", "type": "list<Guest>", "default": []}]},
            {"name": "Guest", "fields": [
                {"name": "name", "type": "str", "validator": "no_space"}]}]})

    @staticmethod
    def upper(v):
        if v != v.upper():
            raise ValueError("must be upper case")

    @staticmethod
    def no_space(v):
        if " " in v:
            raise bk.ValidationProblem("space", "no spaces", {"at": v.index(" ")})

    @staticmethod
    def span_ok(b):
        if b.end <= b.start:
            raise bk.ValidationProblem("bad_span", "end must be after start", path="end")

    def load(self, **extra):
        fns = {"upper": self.upper, "no_space": self.no_space, "span_ok": self.span_ok}
        fns.update(extra)
        return bk.Model.from_doc(self.DOC, validators=fns)

    def test_functions_run_at_full_paths_with_the_constraints(self):
        Booking = self.load()
        ok = Booking.from_json(b'{"code":"AB","start":1,"end":2,"guests":[{"name":"ann"}]}')
        self.assertEqual(ok.code, "AB")
        with self.assertRaises(bk.ValidationError) as cm:
            Booking.from_json(b'{"code":"a b c d e f","start":1,"end":2,'
                              b'"guests":[{"name":"x"},{"name":"a b"}]}')
        self.assertEqual(sorted((e["path"], e["code"]) for e in cm.exception.errors), [
            ("$.code", "custom:upper"), ("$.code", "too_long"),
            ("$.guests[1].name", "custom:space")])
        with self.assertRaises(bk.ValidationError) as cm:
            Booking.from_json(b'{"code":"AB","start":5,"end":2}')
        self.assertEqual(cm.exception.errors, [
            {"path": "$.end", "code": "custom:bad_span", "message": "end must be after start",
             "params": {}}])
        # a field's validators run in order and stop at the first failure
        with self.assertRaises(bk.ValidationError) as cm:
            Booking.from_json(b'{"code":"a b","start":1,"end":2}')
        self.assertEqual([e["code"] for e in cm.exception.errors], ["custom:upper"])
        # the C model still carries the names
        self.assertIn('"validator":"upper,no_space"', Booking.to_doc().replace(" ", ""))

    def test_a_missing_function_fails_the_load(self):
        Booking = self.load(span_ok=None)
        with self.assertRaises(bk.ModelError) as cm:
            Booking.from_json(b'{"code":"AB","start":1,"end":2}')
        self.assertEqual(str(cm.exception), 'model Booking: no validator named "span_ok"')
        with self.assertRaises(TypeError):
            self.load(upper=42).from_json(b'{"code":"AB","start":1,"end":2}')

    def test_without_validators_the_names_are_kept_and_nothing_runs(self):
        Booking = bk.Model.from_doc(self.DOC)
        b = Booking.from_json(b'{"code":"a b","start":5,"end":2}')
        self.assertEqual(b.code, "a b")


class Thin(unittest.TestCase):
    DOC = json.dumps({"bk_model": 1, "root": "A", "models": [
        {"name": "A", "validator": "whole",
         "fields": [{"name": "s", "type": "str", "validator": "nonempty"}]}]})

    def test_resolver(self):
        seen = []

        def resolve(model, field, name):
            seen.append((model, field, name))
            if name == "nonempty":
                return lambda data: None if json.loads(data) else [(None, "empty", "empty", None)]
            return lambda data: [("s", "whole", "whole " + data.decode(), '{"n": 1}')]

        m = bk.lib.bk_model_from_doc_ex(self.DOC, resolve)
        self.assertEqual(seen, [("A", "s", "nonempty"), ("A", None, "whole")])
        r = bk.lib.bk_record_new(m)
        with self.assertRaises(bk.ValidationError) as cm:
            bk.lib.bk_record_decode(r, b'{"s": ""}', None)
        # on decode, a model validator runs only when its fields had no problems
        self.assertEqual(cm.exception.errors, [
            {"path": "$.s", "code": "custom:empty", "message": "empty", "params": {}}])
        with self.assertRaises(bk.ValidationError) as cm:
            bk.lib.bk_record_decode(r, b'{"s": "x"}', None)
        self.assertEqual(cm.exception.errors, [
            {"path": "$.s", "code": "custom:whole", "message": 'whole {"s":"x"}',
             "params": {"n": 1}}])
        self.assertIn('"validator":"whole"', bk.lib.bk_model_to_doc(m, False))

    def test_unknown_and_failing_resolvers(self):
        with self.assertRaises(bk.ModelError) as cm:
            bk.lib.bk_model_from_doc_ex(self.DOC, lambda model, field, name: None)
        self.assertEqual(str(cm.exception), 'model A, field s: no validator named "nonempty"')

        def boom(model, field, name):
            raise LookupError(name)
        with self.assertRaises(LookupError):
            bk.lib.bk_model_from_doc_ex(self.DOC, boom)
        with self.assertRaises(TypeError):
            bk.lib.bk_model_from_doc_ex(self.DOC, lambda *a: 42)


class Threads(unittest.TestCase):
    def test_validators_run_in_decodes_without_the_gil(self):
        seen = set()

        class T(bk.Model):
            n: int
            pad: str = ""

            @bk.field_validator("n")
            @classmethod
            def even(cls, v):
                seen.add(threading.get_ident())
                if v % 2:
                    raise ValueError("odd")

        big = json.dumps([{"n": i * 2, "pad": "x" * 100} for i in range(2000)])
        one = json.dumps({"n": 2, "pad": "y" * 100000})     # long: decoded without the GIL
        bad = json.dumps([{"n": i, "pad": "x" * 100} for i in range(2000)])
        results, errors = [], []

        def work():
            try:
                for _ in range(5):
                    results.append(len(T.from_json_list(big)))
                    results.append(T.from_json(one).n)
                    try:
                        T.from_json_list(bad)
                    except bk.ValidationError as e:
                        results.append(len(e.errors))
            except BaseException as e:      # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        spins = 0
        while any(t.is_alive() for t in threads) and spins < 10**7:
            spins += 1                      # the main thread keeps running Python
            T(n=4)
        for t in threads:
            t.join(60)
            self.assertFalse(t.is_alive(), "a decode deadlocked")
        self.assertEqual(errors, [])
        self.assertEqual(results.count(2000), 15)
        self.assertEqual(results.count(2), 15)
        self.assertEqual(results.count(100), 15)      # max_errors 100 by default
        self.assertGreaterEqual(len(seen), 2)


class Lifetime(unittest.TestCase):
    def test_no_leak_of_classes_or_functions(self):
        def make():
            def check(cls, v):
                if v < 0:
                    raise ValueError("negative")

            class Tmp(bk.Model):
                v: int
                ok = bk.field_validator("v")(check)

            with self.assertRaises(bk.ValidationError):
                Tmp(v=-1)
            Tmp.from_json('{"v": 1}')
            return weakref.ref(Tmp), weakref.ref(check)

        cls_ref, fn_ref = make()
        gc.collect()
        self.assertIsNone(cls_ref(), "the class is kept alive")
        self.assertIsNone(fn_ref(), "the validator function is kept alive")


if __name__ == "__main__":
    unittest.main()
