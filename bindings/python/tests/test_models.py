"""backend.Model: classes from annotations, instances backed by C records."""
import copy
import datetime
import enum
import json
import pickle
import typing
import unittest
import uuid
from typing import Any, Literal, Optional

import backend as bk

UTC = datetime.timezone.utc


class Role(enum.Enum):
    ADMIN = "admin"
    MEMBER = "member"


class Address(bk.Model):
    street: str
    city: str
    zip: str = bk.field(pattern="^[0-9]{5}$")


class User(bk.Model, rename_all="camelCase", deny_unknown=True):
    id: int = bk.field(primary_key=True, auto=True)
    name: str = bk.field(min_len=1, max_len=100)
    email: str = bk.field(format="email", unique=True)
    age: bk.i32 = bk.field(ge=0, le=150)
    role: Literal["admin", "member", "guest"] = "member"
    tags: list[str] = []
    created_at: datetime.datetime
    nickname: Optional[str] = None
    address: Optional[Address] = None


BODY = (b'{"name":"Ana","email":"ana@example.com","age":30,"tags":["a","b"],'
        b'"createdAt":"2024-03-01T12:30:00+02:00"}')


class DeclarationTest(unittest.TestCase):
    def test_document_of_the_design_example(self):
        doc = json.loads(User.to_doc())
        self.assertEqual(doc["root"], "User")
        user = doc["models"][0]
        self.assertEqual(user["rename_all"], "camelCase")
        self.assertTrue(user["deny_unknown"])
        fields = {f["name"]: f for f in user["fields"]}
        self.assertEqual(fields["id"], {"name": "id", "type": "i64", "default_zero": True,
                                        "primary_key": True, "auto_id": True})
        self.assertEqual(fields["age"]["type"], "i32")
        self.assertEqual(fields["age"]["min"], 0)
        self.assertEqual(fields["role"], {"name": "role", "type": "User_role", "default": "member"})
        self.assertEqual(fields["tags"]["default"], [])
        self.assertTrue(fields["nickname"]["optional"])
        self.assertTrue(fields["email"]["unique"])
        self.assertEqual(doc["enums"], [{"name": "User_role", "values": ["admin", "member", "guest"]}])

    def test_json_names_come_from_c(self):
        fields = User.__bk_fields__
        self.assertEqual(fields["created_at"].json_name, "createdAt")
        self.assertEqual(list(fields), ["id", "name", "email", "age", "role", "tags", "created_at",
                                        "nickname", "address"])

    def test_class_attribute_is_the_descriptor(self):
        self.assertIsInstance(User.age, bk.FieldDescriptor)
        self.assertEqual(User.age.name, "age")

    def test_model_handle(self):
        self.assertEqual(bk.lib.bk_model_name(User.__bk_model__), "User")
        self.assertEqual(bk.lib.bk_model_field_count(User.__bk_model__), 9)

    def test_abstract_model(self):
        with self.assertRaises(TypeError):
            bk.Model()

    def test_unsupported_annotation(self):
        class Bad(bk.Model):
            x: complex
        with self.assertRaises(TypeError):
            Bad.to_doc()

    def test_field_hiding_a_method_is_refused(self):
        with self.assertRaises(TypeError):
            class Bad(bk.Model):
                to_json: str

    def test_literal_of_non_strings(self):
        class Bad(bk.Model):
            x: Literal[1, 2]
        with self.assertRaises(TypeError):
            Bad.to_doc()

    def test_invalid_constraint_is_a_model_error(self):
        class Bad(bk.Model):
            n: int = bk.field(pattern="^a$")
        with self.assertRaises(bk.ModelError) as cm:
            Bad.to_doc()
        self.assertEqual(cm.exception.code, "BK_EMODEL")
        self.assertIn("n", str(cm.exception))

    def test_unknown_class_keyword(self):
        with self.assertRaises(TypeError):
            class Bad(bk.Model, rename="x"):
                a: int

    def test_same_name_two_classes(self):
        def make():
            class Item(bk.Model):
                a: int
            return Item
        A, B = make(), make()

        class Both(bk.Model):
            a: A
            b: B
        with self.assertRaises(bk.ModelError):
            Both.to_doc()

    def test_model_name_keyword(self):
        class Thing(bk.Model, model_name="ThingV2"):
            a: int
        self.assertEqual(json.loads(Thing.to_doc())["root"], "ThingV2")

    def test_inheritance_appends_fields(self):
        class Base(bk.Model, deny_unknown=True):
            a: int
            b: str = "x"

        class Child(Base):
            c: bool = False
        self.assertEqual(list(Child.__bk_fields__), ["a", "b", "c"])
        o = Child(a=1)
        self.assertEqual(o.to_json(), b'{"a":1,"b":"x","c":false}')
        with self.assertRaises(bk.DecodeError):
            Child.from_json(b'{"a":1,"z":1}')       # deny_unknown inherited

    def test_kind_markers(self):
        class K(bk.Model):
            a: bk.u8
            b: typing.Annotated[int, bk.Kind("i16")]
            c: int = bk.field(kind="u64")
            d: bk.f32
        types = [f["type"] for f in json.loads(K.to_doc())["models"][0]["fields"]]
        self.assertEqual(types, ["u8", "i16", "u64", "f32"])
        with self.assertRaises(bk.DecodeError):
            K(a=256, b=0, c=0, d=0.0)


class InstanceTest(unittest.TestCase):
    def test_from_json_and_attributes(self):
        u = User.from_json(BODY)
        self.assertEqual(u.id, 0)
        self.assertEqual(u.name, "Ana")
        self.assertEqual(u.age, 30)
        self.assertEqual(u.role, "member")
        self.assertEqual(u.tags, ["a", "b"])
        self.assertEqual(u.created_at, datetime.datetime(2024, 3, 1, 10, 30, tzinfo=UTC))
        self.assertIsNone(u.nickname)
        self.assertIsNone(u.address)
        self.assertEqual(u.presence("nickname"), "absent")
        self.assertEqual(u.to_json(), b'{"id":0,"name":"Ana","email":"ana@example.com","age":30,'
                         b'"role":"member","tags":["a","b"],"createdAt":"2024-03-01T10:30:00Z"}')

    def test_from_str(self):
        self.assertEqual(User.from_json(BODY.decode()).name, "Ana")

    def test_constructor(self):
        u = User(name="Bo", email="bo@example.com", age=4,
                 created_at=datetime.datetime(2020, 1, 1, tzinfo=UTC), nickname=None)
        self.assertEqual(u.presence("nickname"), "null")
        self.assertEqual(u.to_json(), b'{"id":0,"name":"Bo","email":"bo@example.com","age":4,'
                         b'"role":"member","tags":[],"createdAt":"2020-01-01T00:00:00Z",'
                         b'"nickname":null}')

    def test_constructor_errors(self):
        with self.assertRaises(TypeError):
            User(nope=1)
        with self.assertRaises(bk.ValidationError) as cm:
            User(name="", email="x", age=200, created_at=datetime.datetime(2020, 1, 1))
        e = cm.exception
        self.assertEqual(e.code, "BK_EVALIDATION")
        self.assertEqual([(p["path"], p["code"]) for p in e.errors],
                         [("$.name", "too_short"), ("$.email", "format"), ("$.age", "above_max")])
        with self.assertRaises(bk.DecodeError) as cm:
            User(name="a")
        self.assertEqual([p["path"] for p in cm.exception.errors],
                         ["$.email", "$.age", "$.createdAt"])
        self.assertNotIn("line", cm.exception.errors[0])
        self.assertNotIn("line", str(cm.exception))

    def test_naive_datetimes_are_utc(self):
        u = User(name="a", email="a@b.cd", age=1, created_at=datetime.datetime(2020, 1, 1, 12))
        self.assertEqual(u.created_at, datetime.datetime(2020, 1, 1, 12, tzinfo=UTC))
        u.created_at = datetime.datetime(2021, 5, 6, 7, 8, 9, 10)
        self.assertEqual(u.created_at.isoformat(), "2021-05-06T07:08:09.000010+00:00")
        u.created_at = datetime.datetime(2021, 5, 6, 9, 8, 9,
                                         tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
        self.assertEqual(u.created_at, datetime.datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC))
        u.created_at = "2000-01-01T00:00:00Z"
        self.assertEqual(u.created_at.year, 2000)

    def test_setters_are_checked_by_c(self):
        u = User.from_json(BODY)
        u.age = 31
        self.assertEqual(u.age, 31)
        for value, code in (("31", "type"), (3.5, "type"), (2 ** 31, "out_of_range"),
                            (True, "type"), (None, "type")):
            with self.subTest(value=value):
                with self.assertRaises(bk.DecodeError) as cm:
                    u.age = value
                self.assertEqual(cm.exception.errors[0]["path"], "$.age")
                self.assertEqual(cm.exception.errors[0]["code"], code)
        self.assertEqual(u.age, 31)
        with self.assertRaises(bk.DecodeError) as cm:
            u.role = "boss"
        self.assertEqual(cm.exception.errors[0]["code"], "invalid_value")
        with self.assertRaises(bk.DecodeError) as cm:
            u.tags = ["a", 1]
        self.assertEqual(cm.exception.errors[0]["path"], "$.tags[1]")
        with self.assertRaises(bk.DecodeError) as cm:
            u.name = "a\0b"
        self.assertEqual(cm.exception.errors[0]["code"], "embedded_nul")
        with self.assertRaises(AttributeError):
            u.undeclared = 1

    def test_setting_does_not_validate_constraints_validate_does(self):
        u = User.from_json(BODY)
        u.age = 1000          # in range for i32: accepted
        u.name = ""
        with self.assertRaises(bk.ValidationError) as cm:
            u.validate()
        self.assertEqual([p["code"] for p in cm.exception.errors], ["too_short", "above_max"])
        self.assertEqual(cm.exception.http_status, 422)

    def test_optional_presence(self):
        u = User.from_json(BODY)
        u.nickname = "an"
        self.assertEqual(u.presence("nickname"), "present")
        u.nickname = None
        self.assertEqual(u.presence("nickname"), "null")
        self.assertIn(b'"nickname":null', u.to_json())
        del u.nickname
        self.assertEqual(u.presence("nickname"), "absent")
        self.assertNotIn(b"nickname", u.to_json())
        with self.assertRaises(AttributeError):
            del u.name

    def test_in_place_changes_are_encoded(self):
        u = User.from_json(BODY)
        u.tags.append("c")
        u.address = Address(street="1 Main St", city="X", zip="12345")
        u.address.city = "Y"
        self.assertEqual(u.to_dict(mode="json")["tags"], ["a", "b", "c"])
        self.assertEqual(u.to_dict(mode="json")["address"]["city"], "Y")
        u.tags.append(5)
        with self.assertRaises(bk.DecodeError) as cm:
            u.to_json()
        self.assertEqual(cm.exception.errors[0]["path"], "$.tags[3]")

    def test_assignment_copies_into_the_record(self):
        u = User.from_json(BODY)
        tags = ["x"]
        u.tags = tags
        tags.append("y")
        self.assertEqual(u.tags, ["x"])

    def test_to_dict(self):
        u = User.from_json(BODY)
        d = u.to_dict()
        self.assertEqual(d["createdAt"], datetime.datetime(2024, 3, 1, 10, 30, tzinfo=UTC))
        self.assertNotIn("nickname", d)
        self.assertIn("created_at", u.to_dict(by_alias=False))
        self.assertEqual(u.to_dict(mode="json")["createdAt"], "2024-03-01T10:30:00Z")
        self.assertEqual(User.from_dict(d), u)
        with self.assertRaises(ValueError):
            u.to_dict(mode="xml")

    def test_from_dict_errors_have_no_location(self):
        with self.assertRaises(bk.DecodeError) as cm:
            User.from_dict({"name": 5})
        self.assertTrue(all("line" not in p for p in cm.exception.errors))
        with self.assertRaises(bk.DecodeError):
            User.from_dict({"name": "a", "email": "a@b.cd", "age": 1,
                            "createdAt": "2024-01-01T00:00:00Z", "bogus": 1})

    def test_equality_repr_copy_pickle(self):
        a = User.from_json(BODY)
        b = User.from_json(BODY)
        self.assertEqual(a, b)
        b.age = 1
        self.assertNotEqual(a, b)
        self.assertNotEqual(a, object())
        self.assertTrue(repr(a).startswith("User(id=0, name='Ana', email='ana@example.com'"))
        c = copy.copy(a)
        self.assertEqual(c, a)
        self.assertIsNot(c, a)
        self.assertEqual(copy.deepcopy(a), a)
        self.assertEqual(pickle.loads(pickle.dumps(a)), a)
        with self.assertRaises(TypeError):
            hash(a)

    def test_validate_off(self):
        u = User.from_json(b'{"name":"","email":"x","age":1,"createdAt":"2024-01-01T00:00:00Z"}',
                           validate=False)
        self.assertEqual(u.name, "")

    def test_indent(self):
        out = Address(street="s", city="c", zip="12345").to_json(indent=2)
        self.assertEqual(out, b'{\n  "street": "s",\n  "city": "c",\n  "zip": "12345"\n}')

    def test_schema(self):
        s = User.model_json_schema()
        self.assertEqual(s["$ref"], "#/$defs/User")
        props = s["$defs"]["User"]["properties"]
        self.assertEqual(props["age"], {"type": "integer", "minimum": 0, "maximum": 150})
        self.assertFalse(s["$defs"]["User"]["additionalProperties"])
        api = bk.models_openapi([User, Address])
        self.assertIn("Address", api["components"]["schemas"])

    def test_identity_of_cached_values(self):
        u = User.from_json(BODY)
        self.assertIs(u.tags, u.tags)
        self.assertIs(u.name, u.name)


class KindsTest(unittest.TestCase):
    def test_every_python_type(self):
        class Color(enum.Enum):
            RED = "red"
            BLUE = "blue"

        class Level(enum.IntEnum):
            LOW = 1
            HIGH = 2

        class All(bk.Model):
            b: bool
            i: int
            f: float
            s: str
            by: bytes
            ts: datetime.datetime
            d: datetime.date
            u: uuid.UUID
            c: Color
            lv: Level
            lit: Literal["x", "y"]
            j: Any
            li: list[int]
            m: dict[str, datetime.date]
            o: Optional[float]
        doc = json.loads(All.to_doc())
        self.assertEqual([f["type"] for f in doc["models"][0]["fields"]],
                         ["bool", "i64", "f64", "str", "bytes", "timestamp", "date", "uuid",
                          "Color", "Level", "All_lit", "json", "list<i64>", "map<date>", "f64"])
        self.assertIn({"name": "Level", "values": ["LOW", "HIGH"]}, doc["enums"])
        uid = uuid.UUID("12345678-1234-5678-1234-567812345678")
        a = All(b=True, i=2 ** 62, f=1.5, s="é😀", by=b"\x00\xff", ts=datetime.datetime(2024, 1, 1, tzinfo=UTC),
                d=datetime.date(2024, 2, 29), u=uid, c=Color.BLUE, lv=Level.HIGH, lit="y",
                j={"k": [1, None, True, "s", 2.5]}, li=[1, -2], m={"a b": datetime.date(2000, 1, 1)},
                o=None)
        self.assertEqual(a.to_json(),
                         '{"b":true,"i":4611686018427387904,"f":1.5,"s":"é😀","by":"AP8=",'
                         '"ts":"2024-01-01T00:00:00Z","d":"2024-02-29",'
                         '"u":"12345678-1234-5678-1234-567812345678","c":"blue","lv":"HIGH",'
                         '"lit":"y","j":{"k":[1,null,true,"s",2.5]},"li":[1,-2],'
                         '"m":{"a b":"2000-01-01"},"o":null}'.encode())
        r = All.from_json(a.to_json())
        self.assertIs(r.b, True)
        self.assertEqual(r.by, b"\x00\xff")
        self.assertEqual(r.d, datetime.date(2024, 2, 29))
        self.assertEqual(r.u, uid)
        self.assertIs(r.c, Color.BLUE)
        self.assertIs(r.lv, Level.HIGH)
        self.assertEqual(r.lit, "y")
        self.assertEqual(r.j, {"k": [1, None, True, "s", 2.5]})
        self.assertEqual(r.m, {"a b": datetime.date(2000, 1, 1)})
        self.assertIsNone(r.o)
        # setters for every kind
        r.by = bytearray(b"ab")
        r.d = datetime.date(1999, 12, 31)
        r.u = str(uid).upper()
        r.c = "red"
        r.lv = Level.LOW
        r.f = 2
        r.j = [datetime.date(2001, 1, 1)]
        self.assertEqual((r.by, r.d, r.u, r.c, r.lv, r.f, r.j),
                         (b"ab", datetime.date(1999, 12, 31), uid, Color.RED, Level.LOW, 2.0,
                          ["2001-01-01"]))
        with self.assertRaises(bk.DecodeError):
            r.c = "green"
        with self.assertRaises(bk.DecodeError):
            r.f = float("nan")
        with self.assertRaises(bk.DecodeError):
            r.d = "2023-02-29"

    def test_composite_values_read_exactly(self):
        class Esc(bk.Model):
            l: list[str]
            m: dict[str, Any]
            n: list[bk.u64]
            f: list[float]
            skipped: list[int] = bk.field(default=[], skip_if="empty")
            inner: Address = bk.field(rename="in\"ner")
        text = ('{"l":["a\\"b","c\\\\d","\\n\\t\\u0001\\u001f","é😀","\\u2028\\ud83d\\ude00"],'
                '"m":{"k\\"ey":[1,-2.5e-7,true,null,{},[]],"":{"x":"y"}},'
                '"n":[18446744073709551615,0],"f":[0.1,1e300,-0.0,5],'
                '"in\\"ner":{"street":"s","city":"c","zip":"12345"}}')
        e = Esc.from_json(text)
        want = json.loads(e.to_json())
        self.assertEqual(e.l, want["l"])
        self.assertEqual(e.l[2], "\n\t\x01\x1f")
        self.assertEqual(e.m, want["m"])
        self.assertEqual(e.n, [2 ** 64 - 1, 0])
        self.assertEqual(e.f, [0.1, 1e300, -0.0, 5.0])
        self.assertEqual(e.skipped, [])                # left out of the encoding: slow path
        self.assertEqual(e.inner.zip, "12345")         # key that needs escaping: slow path
        e.l.append("z")
        e.f = [1.5]
        self.assertEqual(e.m, want["m"])
        self.assertEqual(json.loads(e.to_json())["l"][-1], "z")

    def test_u64_beyond_i64(self):
        class U(bk.Model):
            n: bk.u64
        u = U.from_json(b'{"n":18446744073709551615}')
        self.assertEqual(u.n, 2 ** 64 - 1)
        u.n = 2 ** 63
        self.assertEqual(u.to_json(), b'{"n":9223372036854775808}')
        with self.assertRaises(bk.DecodeError):
            u.n = -1
        with self.assertRaises(bk.DecodeError):
            u.n = 2 ** 64

    def test_recursive_models(self):
        class Tree(bk.Model):
            v: int
            parent: bk.Ptr["Tree"] = None
            kids: list["Tree"] = []
        t = Tree.from_json(b'{"v":1,"kids":[{"v":2,"kids":[{"v":3}]}],"parent":{"v":0}}')
        self.assertEqual(t.kids[0].kids[0].v, 3)
        self.assertEqual(t.parent.v, 0)
        self.assertIsNone(t.parent.parent)
        t.kids[0].v = 20
        self.assertEqual(t.to_json(), b'{"v":1,"parent":{"v":0,"parent":null,"kids":[]},'
                         b'"kids":[{"v":20,"parent":null,"kids":[{"v":3,"parent":null,"kids":[]}]}]}')

    def test_self_reference_becomes_a_pointer(self):
        class Chain(bk.Model):
            v: int
            next: Optional["Chain"] = None
        self.assertEqual(json.loads(Chain.to_doc())["models"][0]["fields"][1]["type"], "ptr<Chain>")


class Circle(bk.Model, tag="circle"):
    radius: float = bk.field(gt=0)


class Square(bk.Model, tag="square"):
    side: float


class Canvas(bk.Model):
    shape: Circle | Square = bk.field(discriminator="kind")
    shapes: list[Circle | Square] = bk.field(default=[], discriminator="kind")
    label: int | str = 0


class UnionTest(unittest.TestCase):
    def test_discriminated(self):
        c = Canvas.from_json(b'{"shape":{"kind":"square","side":2},'
                             b'"shapes":[{"kind":"circle","radius":1}],"label":"x"}')
        self.assertIsInstance(c.shape, Square)
        self.assertEqual(c.shape.side, 2.0)
        self.assertIsInstance(c.shapes[0], Circle)
        self.assertEqual(c.label, "x")
        c.shape = Circle(radius=3)
        c.label = 7
        self.assertEqual(c.to_json(), b'{"shape":{"kind":"circle","radius":3.0},'
                         b'"shapes":[{"kind":"circle","radius":1.0}],"label":7}')
        with self.assertRaises(bk.ValidationError) as cm:
            Canvas.from_json(b'{"shape":{"kind":"circle","radius":0}}')
        self.assertEqual(cm.exception.errors[0]["path"], "$.shape.radius")
        with self.assertRaises(bk.DecodeError) as cm:
            Canvas.from_json(b'{"shape":{"kind":"hexagon"}}')
        self.assertEqual(cm.exception.errors[0]["code"], "unknown_variant")

    def test_document(self):
        doc = json.loads(Canvas.to_doc())
        unions = {u["name"]: u for u in doc["unions"]}
        self.assertEqual(unions["Canvas_shape"]["tagging"], "internal")
        self.assertEqual(unions["Canvas_shape"]["tag"], "kind")
        self.assertEqual(unions["Canvas_label"]["tagging"], "untagged")
        self.assertEqual([v["name"] for v in unions["Canvas_label"]["variants"]], ["i64", "str"])

    def test_named_union_unit_variants(self):
        Status = bk.union("Status", Circle, "none", "all", tag="t")

        class Sel(bk.Model):
            s: Status
        self.assertEqual(Sel(s="none").to_json(), b'{"s":{"t":"none"}}')
        self.assertEqual(Sel.from_json(b'{"s":{"t":"all"}}').s, "all")
        self.assertEqual(Sel(s=Circle(radius=1)).to_json(), b'{"s":{"t":"circle","radius":1.0}}')


class DocumentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.DOC = json.dumps({
            "bk_model": 1, "root": "Order",
            "models": [
                {"name": "Order", "rename_all": "camelCase", "fields": [
                    {"name": "order_id", "type": "u32"},
                    {"name": "lines", "type": "list<Line>", "max_items": 3},
                    {"name": "status", "type": "Status", "default": "open"},
                    {"name": "note", "type": "str", "optional": True}]},
                {"name": "Line", "fields": [
                    {"name": "sku", "type": "str", "pattern": "^[A-Z]{3}$"},
                    {"name": "qty", "type": "i32", "min": 1}]}],
            "enums": [{"name": "Status", "values": ["open", "shipped"]}]})

    def test_class_from_a_document(self):
        Order = bk.Model.from_doc(self.DOC)
        Line = Order.__bk_models__["Line"]
        self.assertEqual(Order.__name__, "Order")
        o = Order.from_json(b'{"orderId":7,"lines":[{"sku":"ABC","qty":2}]}')
        self.assertEqual(o.order_id, 7)
        self.assertIsInstance(o.lines[0], Line)
        self.assertEqual(o.status, "open")
        o.lines.append(Line(sku="XYZ", qty=1))
        self.assertEqual(o.to_json(), b'{"orderId":7,"lines":[{"sku":"ABC","qty":2},'
                         b'{"sku":"XYZ","qty":1}],"status":"open"}')
        self.assertEqual(Order.to_doc(), bk.lib.bk_model_to_doc(bk.lib.bk_model_from_doc(self.DOC), False))
        self.assertEqual(typing.get_type_hints(Order)["order_id"], int)

    def test_document_written_by_c_builder(self):
        b = bk.lib.bk_builder_new()
        bk.lib.bk_builder_model(b, "Point")
        bk.lib.bk_builder_field(b, "x", "i32")
        bk.lib.bk_builder_field_attr(b, "max", "10")
        bk.lib.bk_builder_field(b, "y", "i32")
        model = bk.lib.bk_builder_build(b, "Point")
        Point = bk.Model.from_doc(bk.lib.bk_model_to_doc(model, False))
        self.assertEqual(Point(x=1, y=2).to_json(), b'{"x":1,"y":2}')
        with self.assertRaises(bk.ValidationError):
            Point(x=11, y=2)

    def test_used_by_an_annotated_class(self):
        Order = bk.Model.from_doc(self.DOC)

        class Batch(bk.Model):
            orders: list[Order]
        b = Batch.from_json(b'{"orders":[{"orderId":1,"lines":[]}]}')
        self.assertEqual(b.orders[0].order_id, 1)
        self.assertIn('"Line"', Batch.to_doc())

    def test_loaded_classes_cannot_be_subclassed(self):
        Order = bk.Model.from_doc(self.DOC)
        with self.assertRaises(TypeError):
            class More(Order):
                x: int

    def test_bad_documents(self):
        with self.assertRaises(bk.JSONSyntaxError):
            bk.Model.from_doc("{")
        with self.assertRaises(bk.ModelError):
            bk.Model.from_doc('{"bk_model": 1, "root": "X", "models": []}')
        classes = bk.load_models(self.DOC.encode())
        self.assertEqual(list(classes), ["Order", "Line"])


if __name__ == "__main__":
    unittest.main()
