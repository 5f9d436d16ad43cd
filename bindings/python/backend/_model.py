"""backend.Model: model classes from annotations or from description documents.

A class is described in Python (its fields' types and attributes), written as
a model description document (docs/models.md) and built by the C library with
``bk_model_from_doc`` - the same path a C service takes to load a shared
definition, so a Python class and a C model with the same document decode,
validate and encode identically. Instances keep their data in a C record
(see src/pybk.c); this module only describes, converts and presents.
"""
import base64
import collections.abc
import datetime as _dt
import enum
import json
import threading
import types
import typing
import uuid

from . import _backend as _b
from . import _validators
from ._errors import Error, error_class
from ._query import FieldOps

__all__ = ["Model", "field", "Kind", "Ptr", "union", "FieldDescriptor", "load_models",
           "decode_list", "encode_list", "to_json", "models_openapi"]

_MISSING = object()
_PLAIN = ("bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "str",
          "bytes", "timestamp", "date", "uuid", "json")
_INTS = ("i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64")


class Kind:
    """Marker choosing the C kind of an ``int``/``float`` field:
    ``age: Annotated[int, bk.Kind("i32")]`` (or the aliases ``bk.i32`` ...)."""

    __slots__ = ("name",)

    def __init__(self, name):
        if name not in _INTS and name not in ("f32", "f64"):
            raise ValueError("Kind(%r): one of %s, f32, f64" % (name, ", ".join(_INTS)))
        self.name = name

    def __repr__(self):
        return "Kind(%r)" % self.name


class _PtrMarker:
    __slots__ = ()

    def __repr__(self):
        return "bk.Ptr"


_PTR = _PtrMarker()


class Ptr:
    """``bk.Ptr[M]``: a nested model held by pointer (``ptr<M>`` in
    documents, ``BK_NESTED_PTR`` in C): ``None`` or an instance; required
    unless it has a default, and how a model refers to itself."""

    def __class_getitem__(cls, item):
        return typing.Annotated[typing.Optional[item], _PTR]


class _UnionSpec:
    """What :func:`union` returns inside ``Annotated``."""

    __slots__ = ("name", "members", "tagging", "tag", "content", "resolved")

    def __init__(self, name, members, tagging, tag, content):
        self.name = name
        self.members = members
        self.tagging = tagging
        self.tag = tag
        self.content = content
        self.resolved = None

    def __repr__(self):
        return "bk.union(%r)" % self.name


def union(name, *variants, tagging=None, tag=None, content=None):
    """A named tagged union (serde's enums) usable in any annotation:

        Shape = bk.union("Shape", Circle, Rect, "empty", tag="type")
        class Drawing(bk.Model):
            main: Shape
            others: list[Shape] = []

    Variants are model classes (named by their ``tag=`` class keyword, else
    their model name), strings (unit variants: the value is the name) or
    ``(name, type)`` pairs for other payloads (``("count", bk.i32)``).
    ``tagging``: ``"internal"`` (the default when ``tag`` is given:
    ``{"type": "circle", ...fields}``), ``"external"`` (the default otherwise:
    ``{"circle": {...}}``), ``"adjacent"`` (``{"t": ..., "c": ...}``) or
    ``"untagged"``. The Python value of a union field is the payload (an
    instance, a value) or, for unit variants, the name.
    """
    if tagging is None:
        tagging = "internal" if tag else "external"
    if tagging not in ("internal", "external", "adjacent", "untagged"):
        raise ValueError("union(%r): tagging %r" % (name, tagging))
    if tagging in ("internal", "adjacent") and not tag:
        tag = "type"
    if tagging == "adjacent" and not content:
        content = "content"
    if not variants:
        raise ValueError("union(%r): no variants" % name)
    types_ = []
    for v in variants:
        if isinstance(v, str):
            types_.append(str)
        elif isinstance(v, tuple):
            types_.append(v[1])
        else:
            types_.append(v)
    spec = _UnionSpec(name, variants, tagging, tag if tagging in ("internal", "adjacent") else None,
                      content if tagging == "adjacent" else None)
    return typing.Annotated[typing.Union[tuple(types_)] if len(types_) > 1 else types_[0], spec]


# ---- field(): attributes and constraints --------------------------------------------

# Python keyword -> document attribute, in the order written to documents.
_CONSTRAINTS = (
    ("ge", "min"), ("le", "max"), ("gt", "exclusive_min"), ("lt", "exclusive_max"),
    ("multiple_of", "multiple_of"), ("min_len", "min_len"), ("max_len", "max_len"),
    ("min_items", "min_items"), ("max_items", "max_items"), ("unique_items", "unique_items"),
    ("pattern", "pattern"), ("format", "format"), ("one_of", "one_of"), ("const", "const"),
    ("messages", "messages"),
)
_FLAGS = ("default_zero", "skip", "skip_if", "flatten", "primary_key", "auto_id", "unique",
          "index", "row_version")


class FieldInfo:
    """What :func:`field` returns: a field's default and attributes."""

    __slots__ = ("default", "default_factory", "attrs")

    def __init__(self, default, default_factory, attrs):
        self.default = default
        self.default_factory = default_factory
        self.attrs = attrs

    def __repr__(self):
        return "field(%s)" % ", ".join("%s=%r" % kv for kv in self.attrs.items())


def field(default=_MISSING, *, default_factory=None, rename=None, alias=None, kind=None,
          ge=None, le=None, gt=None, lt=None, multiple_of=None, min_len=None, max_len=None,
          min_items=None, max_items=None, unique_items=None, pattern=None, format=None,
          one_of=None, const=_MISSING, messages=None, each=None, validator=None,
          primary_key=None, auto_id=None, auto=None, unique=None, index=None,
          row_version=None, skip=None, skip_if=None, flatten=None, default_zero=None, discriminator=None, tagging=None,
          content=None):
    """Declare a field's default, JSON name and constraints.

    ``rename`` is the JSON name; ``alias`` (a str or a list) more accepted input
    names. Constraints: ``ge``/``le`` (inclusive), ``gt``/``lt`` (exclusive),
    ``multiple_of``, ``min_len``/``max_len`` (code points; bytes for bytes),
    ``min_items``/``max_items``/``unique_items``, ``pattern``, ``format``
    (``"email"``, ``"uri"``, ``"uuid"``, ``"hostname"``, ``"ipv4"``, ``"ipv6"``,
    ``"date-time"``, ``"date"``, ``"time"``), ``one_of``, ``const``,
    ``messages`` (code -> message), ``each`` (a dict of these for each list
    item or map value) and ``validator`` (a name; see docs/python.md).
    Storage hints: ``primary_key``, ``auto_id`` (alias ``auto``; such a field
    defaults to 0 when absent), ``unique``, ``index``, ``row_version`` (an int
    field used as an optimistic lock; defaults to 0 when absent). Encoding: ``skip``,
    ``skip_if`` (``"absent"``, ``"empty"``, ``"default"``), ``flatten``,
    ``default_zero``. Unions: ``discriminator`` (the tag key: internally
    tagged), ``tagging`` (``"internal"``, ``"external"``, ``"adjacent"``,
    ``"untagged"``), ``content`` (adjacent tagging's content key).
    ``kind`` picks the C kind of an int/float (``"i32"``, ``"u64"``, ``"f32"`` ...).
    """
    if default is not _MISSING and default_factory is not None:
        raise TypeError("field(): give default or default_factory, not both")
    if auto is not None:
        if auto_id is not None:
            raise TypeError("field(): auto and auto_id are the same attribute")
        auto_id = auto
    attrs = {}
    for key, value in (("rename", rename), ("alias", alias), ("kind", kind),
                       ("validator", validator), ("discriminator", discriminator),
                       ("tagging", tagging), ("content", content), ("each", each)):
        if value is not None:
            attrs[key] = value
    loc = locals()
    for key in _FLAGS:
        if loc[key] is not None:
            attrs[key] = loc[key]
    for py, _doc in _CONSTRAINTS:
        value = loc[py]
        if py == "const":
            if value is not _MISSING:
                attrs[py] = value
        elif value is not None:
            attrs[py] = value
    if kind is not None:
        Kind(kind)
    return FieldInfo(default, default_factory, attrs)


def _constraint_attrs(spec, where):
    """field() constraint keywords (or document keys) -> document attributes."""
    out = {}
    names = {py: doc for py, doc in _CONSTRAINTS}
    docs = set(names.values())
    for key, value in spec.items():
        if key in names:
            out[names[key]] = value
        elif key in docs:
            out[key] = value
        else:
            raise TypeError("%s: unknown constraint %r" % (where, key))
    return out


# ---- type nodes ---------------------------------------------------------------------

class _Enum:
    __slots__ = ("name", "values", "pycls", "py_values", "by_name")

    def __init__(self, name, values, pycls=None, members=None):
        self.name = name
        self.values = tuple(values)
        self.pycls = pycls
        self.py_values = tuple(members) if members is not None else self.values
        self.by_name = dict(zip(self.values, self.py_values))

    def raw(self):
        return {"name": self.name, "values": list(self.values)}


class _Union:
    __slots__ = ("name", "tagging", "tag", "content", "variants")

    def __init__(self, name, tagging, tag, content, variants):
        self.name = name
        self.tagging = tagging
        self.tag = tag
        self.content = content
        self.variants = variants      # [(name, _T or None)]

    def raw(self):
        d = {"name": self.name, "tagging": self.tagging}
        if self.tag is not None:
            d["tag"] = self.tag
        if self.content is not None:
            d["content"] = self.content
        d["variants"] = [{"name": n} if t is None else {"name": n, "type": t.expr()}
                         for n, t in self.variants]
        return d


class _T:
    """A type: a plain kind, an enum, a model (embedded or ptr), a list, a map
    or a union."""

    __slots__ = ("kind", "elem", "cls", "enum", "union")

    def __init__(self, kind, elem=None, cls=None, enum=None, union=None):
        self.kind = kind
        self.elem = elem
        self.cls = cls
        self.enum = enum
        self.union = union

    def expr(self):
        k = self.kind
        if k in _PLAIN:
            return k
        if k == "enum":
            return self.enum.name
        if k == "model":
            return _model_name(self.cls)
        if k == "ptr":
            return "ptr<%s>" % _model_name(self.cls)
        if k in ("list", "map"):
            return "%s<%s>" % (k, self.elem.expr())
        return self.union.name

    def py_type(self):
        """The Python annotation that stands for this type."""
        k = self.kind
        simple = {"bool": bool, "str": str, "bytes": bytes, "timestamp": _dt.datetime,
                  "date": _dt.date, "uuid": uuid.UUID, "json": typing.Any,
                  "f32": float, "f64": float}
        if k in simple:
            return simple[k]
        if k in _INTS:
            return int
        if k == "enum":
            return self.enum.pycls or typing.Literal[self.enum.values]
        if k == "model":
            return self.cls
        if k == "ptr":
            return typing.Optional[self.cls]
        if k == "list":
            return list[self.elem.py_type()]
        if k == "map":
            return dict[str, self.elem.py_type()]
        members = [t.py_type() if t is not None else str for _n, t in self.union.variants]
        return typing.Union[tuple(members)] if len(members) > 1 else members[0]


def _model_name(cls):
    return cls.__dict__["_bk_name"]


# ---- conversions between Python values and JSON-shaped values ------------------------

def _fmt_ts(v):
    if v.tzinfo is None:                      # naive datetimes are UTC
        return v.isoformat() + "Z"
    return v.isoformat()


def _json_default(o):
    """json.dumps hook: the JSON form of the non-JSON values fields hold."""
    if isinstance(o, _b.ModelBase):
        return o._bk_to_value()
    if isinstance(o, _dt.datetime):
        return _fmt_ts(o)
    if isinstance(o, _dt.date):
        return o.isoformat()
    if isinstance(o, uuid.UUID):
        return str(o)
    if isinstance(o, enum.Enum):
        return o.value
    if isinstance(o, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(o)).decode("ascii")
    if isinstance(o, (set, frozenset)):
        return list(o)
    raise TypeError("%s is not a JSON value" % type(o).__name__)


def _dumps(value):
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False,
                      default=_json_default)


def _deep_json(v):
    """Python values -> JSON-shaped Python values (for raw json fields)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict):
        return {k: _deep_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_deep_json(x) for x in v]
    if isinstance(v, _b.ModelBase):
        return v
    return _json_default(v)


def _parse_ts(s):
    return _dt.datetime.fromisoformat(s)


def _from_json(t):
    """JSON-shaped value (as C encoded it) -> Python value; None: as is."""
    k = t.kind
    if k == "bytes":
        return base64.b64decode
    if k == "timestamp":
        return _parse_ts
    if k == "date":
        return _dt.date.fromisoformat
    if k == "uuid":
        return uuid.UUID
    if k == "enum":
        by_name = t.enum.by_name
        return by_name.__getitem__
    if k in ("model", "ptr"):
        return t.cls                             # C decodes the value itself
    if k == "list":
        c = _from_json(t.elem)
        if c is None:
            return None
        if isinstance(c, type):
            return lambda v: [None if x is None else c._bk_from_value(x) for x in v]
        return lambda v: [c(x) for x in v]
    if k == "map":
        c = _from_json(t.elem)
        if c is None:
            return None
        if isinstance(c, type):
            return lambda v: {key: None if x is None else c._bk_from_value(x)
                              for key, x in v.items()}
        return lambda v: {key: c(x) for key, x in v.items()}
    if k == "union":
        return _union_from_json(t.union)
    return None


def _value_from_json(t, v):
    c = _from_json(t)
    if c is None or v is None:
        return v
    if isinstance(c, type):
        return c._bk_from_value(v)
    return c(v)


def _to_json(t):
    """Python value -> JSON-shaped value (C checks the result); values of
    an unexpected type pass through, so that C reports them."""
    k = t.kind
    if k == "bytes":
        return lambda v: (base64.b64encode(bytes(v)).decode("ascii")
                          if isinstance(v, (bytes, bytearray, memoryview)) else v)
    if k == "timestamp":
        return lambda v: _fmt_ts(v) if isinstance(v, _dt.datetime) else v
    if k == "date":
        return lambda v: (v.isoformat() if isinstance(v, _dt.date)
                          and not isinstance(v, _dt.datetime) else v)
    if k == "uuid":
        return lambda v: str(v) if isinstance(v, uuid.UUID) else v
    if k == "enum":
        if t.enum.pycls is None:
            return None
        names = {m: n for n, m in t.enum.by_name.items()}
        return lambda v: names.get(v, v) if isinstance(v, enum.Enum) else v
    if k in ("list", "map"):
        c = _to_json(t.elem)
        if c is None:
            return None
        if k == "list":
            return lambda v: [c(x) for x in v] if isinstance(v, (list, tuple)) else v
        return lambda v: {key: c(x) for key, x in v.items()} if isinstance(v, dict) else v
    if k == "union":
        return _union_to_json(t.union)
    if k == "json":
        return _deep_json
    return None


def _value_to_json(t, v):
    c = _to_json(t)
    return v if c is None or v is None else c(v)


def _py_kind_ok(t, v):
    """Whether a Python value can be of type t (union variant choice)."""
    k = t.kind
    if k == "bool":
        return isinstance(v, bool)
    if k in _INTS:
        return isinstance(v, int) and not isinstance(v, bool)
    if k in ("f32", "f64"):
        return isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool))
    if k == "str":
        return isinstance(v, str)
    if k == "bytes":
        return isinstance(v, (bytes, bytearray, memoryview))
    if k == "timestamp":
        return isinstance(v, _dt.datetime)
    if k == "date":
        return isinstance(v, _dt.date) and not isinstance(v, _dt.datetime)
    if k == "uuid":
        return isinstance(v, uuid.UUID)
    if k == "enum":
        return v in t.enum.py_values
    if k == "list":
        return isinstance(v, (list, tuple))
    if k == "map":
        return isinstance(v, dict)
    if k in ("model", "ptr"):
        return isinstance(v, t.cls)
    return k == "json"


def _variant_of(u, v):
    """The variant of a union for a Python value: a unit variant by its
    name, then a model variant by the instance's class, then the first
    variant whose type takes the value."""
    for name, t in u.variants:
        if t is None and isinstance(v, str) and v == name:
            return name, t
    for name, t in u.variants:
        if t is not None and t.kind in ("model", "ptr") and isinstance(v, t.cls):
            return name, t
    for name, t in u.variants:
        if t is not None and t.kind not in ("model", "ptr") and _py_kind_ok(t, v):
            return name, t
    return None, None


def _union_to_json(u):
    def conv(v):
        name, t = _variant_of(u, v)
        if name is None:
            return v                  # a JSON value already (C checks it)
        payload = None if t is None else _value_to_json(t, v)
        if t is not None and isinstance(payload, _b.ModelBase):
            payload = payload._bk_to_value()
        if u.tagging == "internal":
            d = {u.tag: name}
            if payload is not None:
                d.update(payload)
            return d
        if u.tagging == "external":
            return name if t is None else {name: payload}
        if u.tagging == "adjacent":
            d = {u.tag: name}
            if t is not None:
                d[u.content] = payload
            return d
        return payload                # untagged
    return conv


def _json_kind_ok(t, v):
    """Whether a JSON value could be of type t (for untagged unions)."""
    k = t.kind
    if k == "bool":
        return isinstance(v, bool)
    if k in _INTS:
        return isinstance(v, int) and not isinstance(v, bool)
    if k in ("f32", "f64"):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if k in ("str", "bytes", "timestamp", "date", "uuid"):
        return isinstance(v, str)
    if k == "enum":
        return v in t.enum.by_name
    if k == "list":
        return isinstance(v, list)
    if k in ("map", "model", "ptr"):
        return isinstance(v, dict)
    return True


def _union_from_json(u):
    variants = dict(u.variants)

    def conv(v):
        if u.tagging == "internal":
            name = v[u.tag]
            t = variants[name]
            if t is None:
                return name
            d = {key: x for key, x in v.items() if key != u.tag}
            return _value_from_json(t, d)
        if u.tagging == "external":
            if isinstance(v, str):
                return v
            ((name, payload),) = v.items()
            return _value_from_json(variants[name], payload)
        if u.tagging == "adjacent":
            name = v[u.tag]
            t = variants[name]
            return name if t is None else _value_from_json(t, v.get(u.content))
        for name, t in u.variants:        # untagged: the first that fits, as C decides
            if t is None:
                if v is None:
                    return None
                continue
            if not _json_kind_ok(t, v):
                continue
            try:
                return _value_from_json(t, v)
            except (Error, ValueError, KeyError, TypeError):
                continue
        return v
    return conv


# ---- describing classes -----------------------------------------------------------------

class _FieldSpec:
    """A declared field: its name, type, optional flag, document entry and,
    once the model is built, its JSON name."""

    __slots__ = ("name", "type", "optional", "raw", "json_name", "to_json", "flatten", "skip")

    def __init__(self, name, t, optional, raw):
        self.name = name
        self.type = t
        self.optional = optional
        self.raw = raw
        self.json_name = None
        self.to_json = _to_json(t)
        self.flatten = bool(raw.get("flatten"))
        self.skip = bool(raw.get("skip"))

    def __repr__(self):
        return "<field %s: %s%s>" % (self.name, self.type.expr(), " (optional)" if self.optional else "")


class _Desc:
    """A described model: its document entry and fields."""

    __slots__ = ("name", "raw", "fields", "doc")

    def __init__(self, name):
        self.name = name
        self.raw = None
        self.fields = []
        self.doc = None            # set for classes loaded from a document


class _Ctx:
    __slots__ = ("cls", "field", "finfo", "enums", "unions")

    def __init__(self, cls, fname, finfo):
        self.cls = cls
        self.field = fname
        self.finfo = finfo
        self.unions = 0

    def where(self):
        return "%s.%s" % (self.cls.__name__, self.field)

    def attr(self, key, default=None):
        return self.finfo.attrs.get(key, default) if self.finfo else default


_DESCRIBING = []      # classes being described (recursion -> ptr<...>)


def _is_classvar(ann):
    if isinstance(ann, str):
        return ann.startswith(("ClassVar", "typing.ClassVar"))
    return ann is typing.ClassVar or typing.get_origin(ann) is typing.ClassVar


def _resolve(tp, ctx, top):
    """An annotation -> (_T, optional)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    kind = ctx.attr("kind") if top else None
    if origin is typing.Annotated:
        tp = args[0]
        for meta in args[1:]:
            if isinstance(meta, Kind):
                kind = meta.name
            elif meta is _PTR:
                t, _ = _resolve(tp, ctx, False)
                if t.kind not in ("model", "ptr"):
                    raise TypeError("%s: bk.Ptr[...] of something that is not a model"
                                    % ctx.where())
                return _T("ptr", cls=t.cls), False
            elif isinstance(meta, _UnionSpec):
                return _T("union", union=_named_union(meta, ctx)), False
            elif isinstance(meta, FieldInfo):
                raise TypeError("%s: use field() as the default, not in Annotated" % ctx.where())
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        nullable = len(members) != len(args)
        if len(members) == 1:
            t, _ = _resolve(members[0], ctx, top)
            if not nullable or t.kind == "ptr":     # ptr<...> is nullable itself
                return t, False
            if top:
                return t, True
            if t.kind in ("model", "ptr"):
                return _T("ptr", cls=t.cls), False
            raise TypeError("%s: only models may be None inside lists and maps "
                            "(Optional[%s])" % (ctx.where(), t.expr()))
        if nullable and not top:
            raise TypeError("%s: a union inside a list or map cannot be None" % ctx.where())
        return _T("union", union=_make_union(members, ctx)), nullable
    if origin is typing.Literal:
        if not all(isinstance(a, str) for a in args):
            raise TypeError("%s: Literal values must be strings (an enum)" % ctx.where())
        return _T("enum", enum=_Enum("%s_%s" % (_model_name(ctx.cls), ctx.field), args)), False
    if origin in (list, collections.abc.Sequence, collections.abc.MutableSequence):
        elem = args[0] if args else typing.Any
        t, _ = _resolve(elem, ctx, False)
        return _T("list", elem=t), False
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        if args and args[0] is not str:
            raise TypeError("%s: map keys must be str" % ctx.where())
        t, _ = _resolve(args[1] if args else typing.Any, ctx, False)
        return _T("map", elem=t), False
    if tp is typing.Any or tp is object:
        return _T("json"), False
    if isinstance(tp, type):
        if issubclass(tp, Model):
            if tp is Model:
                raise TypeError("%s: a field of the abstract bk.Model" % ctx.where())
            if tp in _DESCRIBING and top:
                return _T("ptr", cls=tp), False    # an embedded model cannot contain itself
            return _T("model", cls=tp), False
        if issubclass(tp, enum.Enum):
            members = list(tp)
            if all(isinstance(m.value, str) for m in members):
                names = [m.value for m in members]
            else:
                names = [m.name for m in members]
            return _T("enum", enum=_Enum(tp.__name__, names, tp, members)), False
        if tp is bool:
            return _T("bool"), False
        if tp is int:
            if kind is not None and kind not in _INTS:
                raise TypeError("%s: kind %r for an int" % (ctx.where(), kind))
            return _T(kind or "i64"), False
        if tp is float:
            if kind is not None and kind not in ("f32", "f64"):
                raise TypeError("%s: kind %r for a float" % (ctx.where(), kind))
            return _T(kind or "f64"), False
        simple = {str: "str", bytes: "bytes", _dt.datetime: "timestamp", _dt.date: "date",
                  uuid.UUID: "uuid", dict: "json", list: None}
        if tp is list:
            return _T("list", elem=_T("json")), False
        if tp in simple:
            return _T(simple[tp]), False
    raise TypeError("%s: unsupported annotation %r" % (ctx.where(), tp))


def _named_union(spec, ctx):
    """The _Union of a bk.union(...) (one object wherever it is used)."""
    if spec.resolved is not None:
        return spec.resolved
    variants = []
    for m in spec.members:
        if isinstance(m, str):
            variants.append((m, None))
            continue
        if isinstance(m, tuple):
            name, tp = m
            t, _ = _resolve(tp, ctx, False)
        else:
            t, _ = _resolve(m, ctx, False)
            if t.kind not in ("model", "ptr"):
                raise TypeError("%s: union %s: give a (name, type) pair for %r"
                                % (ctx.where(), spec.name, m))
            name = t.cls.__dict__.get("_bk_tag") or _model_name(t.cls)
        if spec.tagging == "internal" and t.kind not in ("model", "ptr"):
            raise TypeError("%s: union %s: internally tagged payloads must be models"
                            % (ctx.where(), spec.name))
        if t.kind == "ptr":
            t = _T("model", cls=t.cls)
        if any(name == n for n, _ in variants):
            raise TypeError("%s: union %s: two variants named %r" % (ctx.where(), spec.name, name))
        variants.append((name, t))
    spec.resolved = _Union(spec.name, spec.tagging, spec.tag, spec.content, variants)
    return spec.resolved


def _make_union(members, ctx):
    disc = ctx.attr("discriminator")
    tagging = ctx.attr("tagging") or ("internal" if disc else "untagged")
    if tagging not in ("internal", "external", "adjacent", "untagged"):
        raise TypeError("%s: tagging %r" % (ctx.where(), tagging))
    if tagging in ("internal", "adjacent") and not disc:
        raise TypeError("%s: %s tagging needs discriminator=" % (ctx.where(), tagging))
    variants = []
    for m in members:
        t, _ = _resolve(m, ctx, False)
        if t.kind in ("model", "ptr"):
            name = t.cls.__dict__.get("_bk_tag") or _model_name(t.cls)
            if tagging == "internal":
                t = _T("model", cls=t.cls)
        else:
            if tagging == "internal":
                raise TypeError("%s: internally tagged variants must be models" % ctx.where())
            name = t.expr()
        if any(name == n for n, _ in variants):
            raise TypeError("%s: two variants named %r" % (ctx.where(), name))
        variants.append((name, t))
    ctx.unions += 1
    uname = "%s_%s" % (_model_name(ctx.cls), ctx.field)
    if ctx.unions > 1:
        uname += str(ctx.unions)
    return _Union(uname, tagging, disc, ctx.attr("content") if tagging == "adjacent" else None,
                  variants)


def _field_entry(cls, fname, t, optional, finfo, default):
    ctx = _Ctx(cls, fname, finfo)
    raw = {"name": fname, "type": t.expr()}
    attrs = finfo.attrs if finfo else {}
    if "rename" in attrs:
        raw["rename"] = attrs["rename"]
    if "alias" in attrs:
        a = attrs["alias"]
        raw["aliases"] = [a] if isinstance(a, str) else list(a)
    if finfo is not None and finfo.default_factory is not None:
        default = finfo.default_factory()
    if default is not _MISSING:
        if default is None:
            if not optional and t.kind != "ptr" and t.kind != "json":
                raise TypeError("%s: default None for a field that is not Optional" % ctx.where())
            if t.kind in ("json", "ptr"):
                raw["default"] = None
        else:
            raw["default"] = json.loads(_dumps(_value_to_json(t, default)))
    if ((attrs.get("auto_id") or attrs.get("row_version")) and "default" not in raw
            and not attrs.get("default_zero")):
        raw["default_zero"] = True     # the store assigns it: absent in input is fine
    for key in ("default_zero", "optional", "skip", "skip_if", "flatten", "primary_key",
                "auto_id", "unique", "index", "row_version"):
        if key == "optional":
            if optional:
                raw["optional"] = True
        elif key in attrs and key not in raw:
            raw[key] = attrs[key]
    cons = {k: v for k, v in attrs.items() if k in dict(_CONSTRAINTS)}
    cons = _constraint_attrs(cons, ctx.where())
    for _py, key in _CONSTRAINTS:
        if key in cons:
            v = cons[key]
            if key in ("one_of",):
                v = [json.loads(_dumps(_value_to_json(t, x))) for x in v]
            elif key == "const":
                v = json.loads(_dumps(_value_to_json(t, v)))
            raw[key] = v
    if "each" in attrs:
        raw["each"] = _constraint_attrs(attrs["each"], ctx.where() + " (each)")
    if "validator" in attrs:
        raw["validator"] = attrs["validator"]
    return raw


def _has_union(t):
    while t.kind in ("list", "map"):
        t = t.elem
    return t.kind == "union"


def _describe(cls):
    """The description of a class (computed once)."""
    d = cls.__dict__.get("_bk_desc")
    if d is not None:
        return d
    spec = cls.__dict__.get("_bk_spec")
    if spec is None or cls is Model:
        raise TypeError("bk.Model is abstract: declare a subclass with fields")
    desc = _Desc(_model_name(cls))
    cls._bk_desc = desc
    _DESCRIBING.append(cls)
    try:
        try:
            hints = typing.get_type_hints(cls, include_extras=True,
                                          localns={cls.__name__: cls})
        except NameError as e:
            raise TypeError("%s: cannot resolve an annotation: %s" % (cls.__name__, e)) from None
        raw = {"name": desc.name}
        if spec.options.get("rename_all"):
            raw["rename_all"] = spec.options["rename_all"]
        if spec.options.get("deny_unknown"):
            raw["deny_unknown"] = True
        if spec.options.get("validator"):
            raw["validator"] = spec.options["validator"]
        fields = []
        for fname in spec.order:
            default = spec.defaults[fname]
            finfo = default if isinstance(default, FieldInfo) else None
            if finfo is not None:
                default = finfo.default
            t, optional = _resolve(hints[fname], _Ctx(cls, fname, finfo), True)
            if finfo is not None and finfo.attrs.get("discriminator") and not _has_union(t):
                raise TypeError("%s.%s: discriminator= on a field that is not a union"
                                % (cls.__name__, fname))
            entry = _field_entry(cls, fname, t, optional, finfo, default)
            fields.append(_FieldSpec(fname, t, optional, entry))
        _validators.annotate(cls, raw, fields)
        raw["fields"] = [f.raw for f in fields]
        desc.raw = raw
        desc.fields = fields
    except BaseException:
        del cls._bk_desc
        raise
    finally:
        _DESCRIBING.remove(cls)
    return desc


def _document(cls, classes=None):
    """The model description document of a class (a dict); classes, when
    given, receives its models' classes by model name."""
    desc = _describe(cls)
    if desc.doc is not None:
        doc = dict(desc.doc)
        doc["root"] = desc.name
        return doc
    models, unions, enums = [], [], []
    seen_m, seen_u, seen_e = {}, {}, {}
    if classes is not None:
        seen_m = classes

    def add_enum(e):
        prev = seen_e.get(e.name)
        if prev is not None:
            if prev.values != e.values or prev.pycls is not e.pycls:
                raise error_class("BK_EMODEL")("two different enums named %s" % e.name)
            return
        seen_e[e.name] = e
        enums.append(e.raw())

    def walk_type(t):
        if t is None:
            return
        if t.kind in ("model", "ptr"):
            walk_model(t.cls)
        elif t.kind in ("list", "map"):
            walk_type(t.elem)
        elif t.kind == "enum":
            add_enum(t.enum)
        elif t.kind == "union":
            u = t.union
            if u.name in seen_u:
                if seen_u[u.name] is not u:
                    raise error_class("BK_EMODEL")("two different unions named %s" % u.name)
                return
            seen_u[u.name] = u
            unions.append(u.raw())
            for _n, vt in u.variants:
                walk_type(vt)

    def walk_model(c):
        d = _describe(c)
        prev = seen_m.get(d.name)
        if prev is not None:
            if prev is not c:
                raise error_class("BK_EMODEL")(
                    "two different models named %s (%s and %s): give one model_name="
                    % (d.name, prev.__qualname__, c.__qualname__))
            return
        seen_m[d.name] = c
        if d.doc is not None:
            # a class loaded from a document: its definitions come from there
            for m in d.doc.get("models", []):
                if m["name"] == d.name:
                    models.append(m)
            for f in d.fields:
                walk_doc_type(f.type, d.doc)
            return
        models.append(d.raw)
        for f in d.fields:
            walk_type(f.type)

    def walk_doc_type(t, doc):
        if t.kind in ("list", "map"):
            walk_doc_type(t.elem, doc)
        elif t.kind in ("model", "ptr"):
            walk_model(t.cls)
        elif t.kind == "enum":
            add_enum(t.enum)
        elif t.kind == "union":
            u = t.union
            if u.name not in seen_u:
                seen_u[u.name] = u
                for raw in doc.get("unions", []):
                    if raw["name"] == u.name:
                        unions.append(raw)
                for _n, vt in u.variants:
                    if vt is not None:
                        walk_doc_type(vt, doc)

    walk_model(cls)
    doc = {"bk_model": 1, "root": desc.name, "models": models}
    if unions:
        doc["unions"] = unions
    if enums:
        doc["enums"] = enums
    return doc


_LOCK = threading.RLock()     # classes are described and built once, by one thread


def _build(cls):
    """Build the C model of a class and its ModelInfo (once)."""
    info = cls.__dict__.get("_bk_info")
    if info is not None:
        return info
    with _LOCK:
        info = cls.__dict__.get("_bk_info")
        return info if info is not None else _build_locked(cls)


def _build_locked(cls):
    desc = _describe(cls)
    classes = {}
    doc = _document(cls, classes)
    # validator names resolve to the classes' @field_validator/@model_validator
    # functions; a name without one is an error (BK_EMODEL)
    text = json.dumps(doc, ensure_ascii=False)
    if desc.doc is not None:      # loaded from a document
        loaded = cls.__dict__.get("__bk_models__")
        if loaded is not None and cls.__dict__.get("_bk_validators") is not None:
            # load_models(validators=...): the names resolve to those functions
            handle = _b.bk_model_from_doc_ex(text, _validators.resolver(loaded, _field_value))
        else:                     # names only (docs/python.md)
            handle = _b.bk_model_from_doc(text)
    else:
        handle = _b.bk_model_from_doc_ex(text, _validators.resolver(classes, _field_value))
    n = _b.bk_model_field_count(handle)
    if n != len(desc.fields):
        raise RuntimeError("%s: the C model has %d fields, the class %d"
                           % (cls.__name__, n, len(desc.fields)))
    convs = []
    for i, f in enumerate(desc.fields):
        f.json_name = _b.bk_model_field_json_name(handle, i)
        t = f.type
        ev = t.enum.py_values if t.kind == "enum" else None
        convs.append((ev, _from_json(t), f.to_json, not (f.flatten or f.skip)))
    info = _b.ModelInfo(handle, convs)
    cls._bk_info = info
    cls._bk_by_name = {f.name: f for f in desc.fields}
    return info


def _field_value(cls, fname, v):
    """Field fname of cls as Python reads it, from its JSON value."""
    for f in _describe(cls).fields:
        if f.name == fname:
            return _value_from_json(f.type, v)
    return v


# ---- the metaclass and the base class ----------------------------------------------------

class _Spec:
    __slots__ = ("order", "defaults", "options")

    def __init__(self, order, defaults, options):
        self.order = order
        self.defaults = defaults
        self.options = options


class FieldDescriptor(FieldOps, _b.Field):
    """The class attribute of each field (``User.age``); on instances it
    reads and writes the record. On the class it builds query filters
    (``User.age >= 18``, see _query.py)."""

    __slots__ = ()

    def __repr__(self):
        return "<field %s>" % self.name


_RESERVED = None


class ModelMeta(type):
    """Metaclass of :class:`Model`: collects the annotated fields, installs
    their descriptors and builds the C model on first use."""

    def __new__(mcls, name, bases, ns, *, rename_all=None, deny_unknown=None, model_name=None,
                tag=None, validator=None, **kw):
        if kw:
            raise TypeError("%s: unknown class keyword(s) %s" % (name, ", ".join(kw)))
        ns = dict(ns)
        ns.setdefault("__slots__", ())
        own = ns.get("__annotations__", {})
        defaults = {}
        for fname, ann in own.items():
            if fname.startswith("_") or _is_classvar(ann):
                continue
            defaults[fname] = ns.pop(fname, _MISSING)
        for base in bases:
            if isinstance(base, ModelMeta) and base.__dict__.get("_bk_desc") is not None \
                    and base.__dict__["_bk_desc"].doc is not None:
                raise TypeError("%s: classes loaded from documents cannot be subclassed" % name)
        cls = super().__new__(mcls, name, bases, ns)
        order, merged, options = [], {}, {}
        for base in reversed(cls.__mro__[1:]):
            spec = base.__dict__.get("_bk_spec")
            if spec is not None:
                for f in spec.order:
                    if f not in merged:
                        order.append(f)
                    merged[f] = spec.defaults[f]
                options.update(spec.options)
        for f, d in defaults.items():
            if f not in merged:
                order.append(f)
            merged[f] = d
        for key, value in (("rename_all", rename_all), ("deny_unknown", deny_unknown),
                           ("validator", validator)):
            if value is not None:
                options[key] = value
        cls._bk_spec = _Spec(order, merged, options)
        cls._bk_name = model_name or name
        if tag is not None:
            cls._bk_tag = tag
        reserved = _RESERVED or ()
        for f in defaults:
            if f in reserved:
                raise TypeError("%s: field %r would hide backend.Model.%s (rename the "
                                "attribute and give the JSON name with field(rename=...))"
                                % (name, f, f))
            type.__setattr__(cls, f, FieldDescriptor(f))
        return cls

    @property
    def __bk_info__(cls):
        info = cls.__dict__.get("_bk_info")
        return info if info is not None else _build(cls)

    @property
    def __bk_model__(cls):
        """The class's C model (a ``_backend.bk_model``)."""
        return cls.__bk_info__.handle

    @property
    def __bk_fields__(cls):
        """The declared fields, in order: name -> spec (type, JSON name ...)."""
        _build(cls)
        return dict(cls._bk_by_name)


def _restore(cls, data):
    return cls._bk_from_json(data, skip_validation=True)


class Model(_b.ModelBase, metaclass=ModelMeta):
    """Base of model classes. Declare fields with annotations::

        class User(bk.Model, rename_all="camelCase", deny_unknown=True):
            id: int = bk.field(primary_key=True, auto=True)
            name: str = bk.field(min_len=1, max_len=100)
            tags: list[str] = []

    Class keywords: ``rename_all`` (serde's case names), ``deny_unknown``,
    ``model_name`` (the name in documents; the class name by default),
    ``tag`` (the variant name when the class is in a union), ``validator``
    (a model validator's name). See docs/python.md.
    """

    __slots__ = ()

    def __init__(self, **kwargs):
        cls = type(self)
        _build(cls)
        fields = cls._bk_by_name
        value = {}
        flat = []
        for k, v in kwargs.items():
            f = fields.get(k)
            if f is None:
                raise TypeError("%s() got an unexpected keyword argument %r" % (cls.__name__, k))
            if f.skip:
                continue
            if f.flatten:
                flat.append(v)
                continue
            value[f.json_name] = v if f.to_json is None or v is None else f.to_json(v)
        for v in flat:                # a flattened model's fields sit in this object
            if isinstance(v, _b.ModelBase):
                v = v._bk_to_value()
            if not isinstance(v, dict):
                raise TypeError("%s(): a flattened field takes a model instance or a dict"
                                % cls.__name__)
            value.update(v)
        self._bk_load(_dumps(value), locations=False)

    # -- decoding and encoding --

    @classmethod
    def from_json(cls, data, *, validate=True, max_errors=0):
        """Decode one JSON document (bytes or str) with the C decoder.
        Raises a :class:`ValidationError` subclass with every problem."""
        return cls._bk_from_json(data, skip_validation=not validate, max_errors=max_errors)

    @classmethod
    def from_json_list(cls, data, *, validate=True, max_errors=0):
        """Decode a JSON array of these (``list[cls]``), GIL released."""
        return _b.decode_list(cls, data, skip_validation=not validate, max_errors=max_errors)

    @classmethod
    def from_dict(cls, data, *, validate=True, max_errors=0):
        """Decode a JSON-shaped dict (JSON names; Python values such as
        datetime are accepted where the JSON would hold their text)."""
        return cls._bk_from_json(_dumps(data), skip_validation=not validate,
                                 max_errors=max_errors, locations=False)

    def to_json(self, *, indent=0):
        """The JSON encoding (bytes), written by the C encoder."""
        return self._bk_to_json(indent=indent)

    @classmethod
    def to_json_list(cls, items):
        """Encode a list of instances as a JSON array (bytes), GIL released."""
        return _b.encode_list(items)

    def to_dict(self, *, by_alias=True, mode="python"):
        """The instance as a dict. ``mode="json"``: exactly the JSON value
        (JSON names, JSON types; absent optional fields left out).
        ``mode="python"``: Python values (datetime, UUID, nested dicts),
        keyed by JSON name (``by_alias=True``) or attribute name."""
        if mode == "json":
            return json.loads(self.to_json())
        if mode != "python":
            raise ValueError("mode must be 'python' or 'json'")
        cls = type(self)
        out = {}
        for f in cls._bk_by_name.values():
            if f.skip or (f.optional and self._bk_presence(f.name) == 0):
                continue
            v = _plain(f.type, getattr(self, f.name), by_alias)
            if f.flatten and by_alias and isinstance(v, dict):
                out.update(v)
            else:
                out[f.json_name if by_alias else f.name] = v
        return out

    def validate(self, *, max_errors=0):
        """Check every constraint now (bk_validate); raises ValidationError."""
        self._bk_validate(max_errors=max_errors)

    def presence(self, name):
        """``"absent"``, ``"null"`` or ``"present"`` for a field."""
        return ("absent", "null", "present")[self._bk_presence(name)]

    def copy(self):
        """A deep copy (through the encoding)."""
        return type(self)._bk_from_json(self.to_json(), skip_validation=True)

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        return (_restore, (type(self), self.to_json()))

    def __repr__(self):
        cls = type(self)
        if self._bk_info is None or not cls.__dict__.get("_bk_by_name"):
            return "<%s (uninitialised)>" % cls.__name__
        parts = []
        for f in cls._bk_by_name.values():
            try:
                parts.append("%s=%r" % (f.name, getattr(self, f.name)))
            except Exception as e:          # pragma: no cover - a broken record
                parts.append("%s=<%s>" % (f.name, type(e).__name__))
        return "%s(%s)" % (cls.__name__, ", ".join(parts))

    # -- the model itself --

    @classmethod
    def model_json_schema(cls, *, pretty=False):
        """The JSON Schema (2020-12) of the model, as a dict."""
        return json.loads(_b.bk_model_json_schema(cls.__bk_model__, pretty))

    @classmethod
    def to_doc(cls, *, pretty=False):
        """The model description document (str), written by C."""
        return _b.bk_model_to_doc(cls.__bk_model__, pretty)

    @staticmethod
    def from_doc(text, *, validators=None):
        """A class for the root model of a model description document
        (str or bytes); the classes of the other models it reaches are in
        the returned class's ``__bk_models__``. ``validators`` maps the
        document's validator names to functions (see :func:`load_models`)."""
        classes = load_models(text, validators=validators)
        return classes[next(iter(classes))]


_RESERVED = frozenset(n for n in dir(Model) if not n.startswith("__"))


def _plain(t, v, by_alias):
    """A field's Python value with nested models as dicts (and union
    payloads tagged as in JSON, so that from_dict reads them back)."""
    if v is None:
        return None
    k = t.kind
    if k in ("model", "ptr"):
        return v.to_dict(by_alias=by_alias) if isinstance(v, Model) else v
    if k == "list":
        return [_plain(t.elem, x, by_alias) for x in v]
    if k == "map":
        return {key: _plain(t.elem, x, by_alias) for key, x in v.items()}
    if k == "union":
        u = t.union
        name, vt = _variant_of(u, v)
        if name is None:
            return v
        payload = None if vt is None else _plain(vt, v, by_alias)
        if u.tagging == "internal":
            d = {u.tag: name}
            d.update(payload or {})
            return d
        if u.tagging == "external":
            return name if vt is None else {name: payload}
        if u.tagging == "adjacent":
            d = {u.tag: name}
            if vt is not None:
                d[u.content] = payload
            return d
        return payload
    if k == "json" and isinstance(v, (list, dict)):
        return json.loads(_dumps(v))
    return v


# ---- documents -> classes ------------------------------------------------------------

def _parse_type(expr, lookup):
    expr = expr.strip()
    for kind in ("list", "map", "ptr"):
        if expr.startswith(kind + "<") and expr.endswith(">"):
            inner = _parse_type(expr[len(kind) + 1:-1], lookup)
            if kind == "ptr":
                return _T("ptr", cls=inner.cls)
            return _T(kind, elem=inner)
    if expr in _PLAIN:
        return _T(expr)
    return lookup(expr)


def load_models(text, *, validators=None):
    """Classes for every model of a model description document: a dict
    name -> class, the root first. The document is checked (and normalised)
    by the C library first: ``bk_model_from_doc``, then ``bk_model_to_doc``.

    ``validators`` (a dict name -> function) supplies the custom validators
    the document names (a field's or a model's ``validator`` attribute; a
    comma-separated attribute names several, run in order). A field
    validator is called with the field's value, a model validator with the
    instance; they report as ``@bk.field_validator``/``@bk.model_validator``
    functions do. With ``validators`` given, a name it lacks is a
    ``bk.ModelError`` when the classes are first used; without it the names
    are kept but nothing runs."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8")
    handle = _b.bk_model_from_doc(text)
    doc = json.loads(_b.bk_model_to_doc(handle, False))
    enums = {e["name"]: _Enum(e["name"], e["values"]) for e in doc.get("enums", [])}
    unions = {}
    classes = {}
    for m in doc["models"]:
        ns = {"__module__": __name__ + ".loaded", "__qualname__": m["name"],
              "__doc__": "Loaded from a model description document (%s)." % m["name"]}
        cls = ModelMeta(m["name"], (Model,), ns)
        classes[m["name"]] = cls

    def lookup(name):
        if name in classes:
            return _T("model", cls=classes[name])
        if name in enums:
            return _T("enum", enum=enums[name])
        if name in unions:
            return _T("union", union=unions[name])
        raise error_class("BK_EMODEL")("unknown type %s in the document" % name)

    for u in doc.get("unions", []):
        unions[u["name"]] = _Union(u["name"], u.get("tagging", "external"), u.get("tag"),
                                   u.get("content"), [])
    for u in doc.get("unions", []):
        tagging = u.get("tagging", "external")
        if tagging in ("internal", "adjacent"):
            unions[u["name"]].tag = u.get("tag", "type")
        if tagging == "adjacent":
            unions[u["name"]].content = u.get("content", "content")
        unions[u["name"]].variants = [
            (v["name"], _parse_type(v["type"], lookup) if "type" in v else None)
            for v in u["variants"]]
    for m in doc["models"]:
        cls = classes[m["name"]]
        desc = _Desc(m["name"])
        desc.raw = m
        desc.doc = doc
        annotations = {}
        for f in m["fields"]:
            t = _parse_type(f["type"], lookup)
            optional = bool(f.get("optional"))
            desc.fields.append(_FieldSpec(f["name"], t, optional, f))
            annotations[f["name"]] = typing.Optional[t.py_type()] if optional else t.py_type()
            type.__setattr__(cls, f["name"], FieldDescriptor(f["name"]))
        cls._bk_desc = desc
        cls.__annotations__ = annotations
        cls._bk_spec = _Spec([f["name"] for f in m["fields"]], {}, {})
        cls.__bk_models__ = classes
        if validators is not None:
            _validators.attach(cls, m, validators)
    return classes


# ---- lists and several models -------------------------------------------------------------

def decode_list(cls, data, *, validate=True, max_errors=0):
    """``list[cls]`` from a JSON array (the C record stream; GIL released).
    Problems name the element: ``$[3].email``."""
    return _b.decode_list(cls, data, skip_validation=not validate, max_errors=max_errors)


def encode_list(items):
    """A JSON array of model instances (bytes; GIL released)."""
    return _b.encode_list(items)


def to_json(obj, *, indent=0):
    """Encode an instance, or a list/tuple of instances, as JSON bytes."""
    if isinstance(obj, (list, tuple)):
        if indent:
            raise ValueError("to_json: lists are written compact")
        return _b.encode_list(obj)
    return obj.to_json(indent=indent)


def models_openapi(classes, *, pretty=False):
    """The OpenAPI 3.1 components of several model classes, as a dict."""
    return json.loads(_b.bk_models_openapi([c.__bk_model__ for c in classes], pretty))
