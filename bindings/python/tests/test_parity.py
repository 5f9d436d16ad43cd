"""The shared C/Python vectors (tests/data/parity/*.json), through Python.

tests/test_parity.c runs the same files through the C library. Here each
file runs through:
  - the class loaded from the file's description document (bk.Model.from_doc);
  - for the files listed in ANNOTATED, a class declared with annotations,
    which must first write the same description document as the file's;
and every case must give the recorded output bytes or the recorded status
and [path, code] problems, in order. Successful cases also go through the
Python side of the binding: reading every field into Python values and
building a new instance from them must encode to the same bytes, as must
to_dict(mode="json") -> from_dict.
"""
import datetime
import enum
import glob
import json
import os
import typing
import unittest
import uuid
from typing import Any, Optional

import backend as bk

DATA = os.path.join(os.environ.get("BK_TEST_DATA",
                                   os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                                "tests", "data")), "parity")


# ---- users.json ------------------------------------------------------------------------

class Role(enum.Enum):
    ADMIN = "admin"
    MEMBER = "member"
    GUEST = "guest"


class Address(bk.Model):
    street: str
    city: str
    zip: str = bk.field(pattern="^[0-9]{5}$")


class User(bk.Model, rename_all="camelCase", deny_unknown=True):
    id: int = bk.field(primary_key=True, auto=True)
    name: str = bk.field(min_len=1, max_len=20)
    email: str = bk.field(format="email")
    age: bk.i32 = bk.field(ge=0, le=150)
    active: bool = True
    score: float = bk.field(gt=0)
    role: Role = Role.MEMBER
    tags: list[str] = bk.field(default=[], max_items=3, unique_items=True,
                               each={"pattern": "^[a-z-]+$"})
    address: Address
    nickname: Optional[str]
    created_at: datetime.datetime


# ---- kinds.json --------------------------------------------------------------------------

class Color(enum.Enum):
    red = "red"
    green = "green"
    blue = "blue"


class Node(bk.Model):
    v: bk.i32
    next: bk.Ptr["Node"]
    kids: list["Node"] = []


class Kinds(bk.Model):
    b: bool
    i8: bk.i8
    u8: bk.u8
    i16: bk.i16
    u16: bk.u16
    i32: bk.i32
    u32: bk.u32
    i64: int
    u64: bk.u64
    f32: bk.f32
    f64: float
    s: str
    by: bytes
    ts: datetime.datetime
    d: datetime.date
    id: uuid.UUID
    color: Color
    j: Any
    li: list[bk.i32]
    ll: list[list[str]]
    m: dict[str, float]
    colors: list[Color] = []
    opt: Optional[bk.i32]
    tree: bk.Ptr[Node]


# ---- attrs.json --------------------------------------------------------------------------

class Place(bk.Model):
    city_name: str
    country: str = "NZ"


class Account(bk.Model, rename_all="kebab-case"):
    user_name: str = bk.field(alias=["login", "userName"])
    display_name: str = bk.field("anonymous", rename="displayName")
    login_count: bk.u32 = bk.field(default_zero=True)
    notes: list[str] = bk.field(default=[], skip_if="empty")
    motto: Optional[str] = bk.field(skip_if="absent")
    level: bk.i32 = bk.field(1, skip_if="default")
    home: Place = bk.field(flatten=True)
    internal: str = bk.field(skip=True)


# ---- unions.json -------------------------------------------------------------------------

class Circle(bk.Model, tag="circle"):
    radius: float = bk.field(ge=0)


class Rect(bk.Model, tag="rect"):
    w: float
    h: float


Shape = bk.union("Shape", Circle, Rect, "empty", tag="type")
ShapeExt = bk.union("ShapeExt", Circle, ("count", bk.i32), "none", tagging="external")
ShapeAdj = bk.union("ShapeAdj", Circle, ("label", str), "none", tagging="adjacent", tag="t",
                    content="c")
Loose = bk.union("Loose", ("number", int), ("text", str), Rect, tagging="untagged")


class Drawing(bk.Model):
    main: Shape
    others: list[Shape] = []
    ext: Optional[ShapeExt]
    adj: Optional[ShapeAdj]
    any: Optional[Loose]


# ---- constraints.json --------------------------------------------------------------------

class Form(bk.Model):
    qty: bk.i32 = bk.field(ge=1, le=10, multiple_of=2)
    price: float = bk.field(gt=0, lt=100, multiple_of=0.01)
    code: str = bk.field(min_len=2, max_len=4, pattern="^[A-Z]+$",
                         messages={"pattern": "upper-case letters only"})
    site: Optional[str] = bk.field(format="uri")
    host: Optional[str] = bk.field(format="hostname")
    ip: Optional[str] = bk.field(format="ipv4")
    ip6: Optional[str] = bk.field(format="ipv6")
    when: Optional[str] = bk.field(format="date-time")
    day: Optional[str] = bk.field(format="date")
    at: Optional[str] = bk.field(format="time")
    ref: Optional[str] = bk.field(format="uuid")
    size: str = bk.field("M", one_of=["S", "M", "L"])
    version: bk.i32 = bk.field(2, const=2)
    blob: bytes = bk.field(b"", max_len=3)
    labels: dict[str, str] = bk.field(default={}, max_items=2, each={"min_len": 1})
    scores: list[bk.i32] = bk.field(default=[], min_items=1, unique_items=True, each={"le": 100})


ANNOTATED = {"users.json": User, "kinds.json": Kinds, "attrs.json": Account,
             "unions.json": Drawing, "constraints.json": Form}


def _files():
    files = sorted(glob.glob(os.path.join(DATA, "*.json")))
    if not files:
        raise RuntimeError("no parity vectors in %s" % DATA)
    return files


def _load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _input(case):
    if "input" in case:
        return case["input"].encode("utf-8")
    return bytes.fromhex(case["input_hex"])


def _rebuild(obj):
    """A new instance from the Python values of obj's fields (only those
    present, so that absent optional fields stay absent)."""
    cls = type(obj)
    kwargs = {}
    for name, spec in cls.__bk_fields__.items():
        if spec.skip or (spec.optional and obj.presence(name) == "absent"):
            continue
        kwargs[name] = getattr(obj, name)
    return cls(**kwargs)


class ParityTest(unittest.TestCase):
    maxDiff = None

    def run_cases(self, cls, vector, label):
        for i, case in enumerate(vector["cases"]):
            with self.subTest(file=label, case=i, cls=cls.__qualname__):
                data = _input(case)
                if "output" in case:
                    obj = cls.from_json(data)
                    want = case["output"].encode("utf-8")
                    self.assertEqual(obj.to_json(), want)
                    self.assertEqual(_rebuild(obj).to_json(), want)
                    self.assertEqual(cls.from_dict(obj.to_dict(mode="json")).to_json(), want)
                    self.assertEqual(cls.from_dict(obj.to_dict()).to_json(), want)
                    self.assertEqual(obj, cls.from_json(want))
                else:
                    with self.assertRaises(bk.Error) as cm:
                        cls.from_json(data)
                    e = cm.exception
                    self.assertEqual(e.code, case["status"])
                    self.assertEqual([[p["path"], p["code"]] for p in e.errors], case["errors"])
                    self.assertIsInstance(e, bk.error_class(case["status"]))

    def test_vectors_with_loaded_classes(self):
        for path in _files():
            vector = _load(path)
            cls = bk.Model.from_doc(json.dumps(vector["model"]))
            self.run_cases(cls, vector, os.path.basename(path))

    def test_annotated_classes_write_the_vector_documents(self):
        for path in _files():
            name = os.path.basename(path)
            if name not in ANNOTATED:
                continue
            with self.subTest(file=name):
                vector = _load(path)
                want = bk.lib.bk_model_to_doc(bk.lib.bk_model_from_doc(json.dumps(vector["model"])),
                                              True)
                self.assertEqual(ANNOTATED[name].to_doc(pretty=True), want)

    def test_vectors_with_annotated_classes(self):
        for path in _files():
            name = os.path.basename(path)
            if name in ANNOTATED:
                vector = _load(path)
                self.run_cases(ANNOTATED[name], vector, name)

    def test_every_vector_file_has_an_annotated_class(self):
        self.assertEqual(sorted(os.path.basename(p) for p in _files()), sorted(ANNOTATED))


if __name__ == "__main__":
    unittest.main()
