"""Query expressions: ``User.age >= 18``, ``User.name.startswith("A")``,
``(a | b) & c``, ``User.age.desc()``.

Comparing a field descriptor (the class attribute ``User.age``) builds a
:class:`Filter`; nothing is checked here. The query that receives it
(``store.query(User).where(...)``) turns the value into the field's JSON form
and hands it to the C query builder at once, which checks it against the
field's type and raises the C library's error (``InvalidArgumentError`` naming
the field) -- values are always bound as parameters, never written into SQL.
"""
from . import _backend as _b

__all__ = ["Filter", "FieldOps", "Order", "and_", "or_"]

_NOVALUE = object()

_OP_NAMES = {
    _b.BK_OP_EQ: "==", _b.BK_OP_NE: "!=", _b.BK_OP_LT: "<", _b.BK_OP_LE: "<=",
    _b.BK_OP_GT: ">", _b.BK_OP_GE: ">=", _b.BK_OP_IN: "in", _b.BK_OP_NOT_IN: "not in",
    _b.BK_OP_IS_NULL: "is null", _b.BK_OP_IS_NOT_NULL: "is not null",
    _b.BK_OP_PREFIX: "startswith", _b.BK_OP_CONTAINS: "contains",
}


class Filter:
    """A condition on stored fields. Combine with ``&`` (and) and ``|``
    (or); Python's ``and``/``or``/``not`` cannot be used (a filter has no
    truth value)."""

    __slots__ = ()

    def __and__(self, other):
        return _Group(False, self, other)

    def __or__(self, other):
        return _Group(True, self, other)

    def __bool__(self):
        raise TypeError("a filter has no truth value: combine filters with & and |, "
                        "not and/or/not")


class _Cond(Filter):
    __slots__ = ("field", "op", "value")

    def __init__(self, field, op, value=_NOVALUE):
        self.field = field
        self.op = op
        self.value = value

    def __repr__(self):
        if self.value is _NOVALUE:
            return "<Filter %s %s>" % (self.field, _OP_NAMES[self.op])
        return "<Filter %s %s %r>" % (self.field, _OP_NAMES[self.op], self.value)


class _Group(Filter):
    __slots__ = ("any", "parts")

    def __init__(self, any_, *parts):
        flat = []
        for p in parts:
            if not isinstance(p, Filter):
                raise TypeError("%s combines filters, not %s" % ("|" if any_ else "&",
                                                                   type(p).__name__))
            if isinstance(p, _Group) and p.any == any_:
                flat.extend(p.parts)
            else:
                flat.append(p)
        self.any = any_
        self.parts = tuple(flat)

    def __repr__(self):
        return "<Filter %s>" % (" | " if self.any else " & ").join(repr(p) for p in self.parts)


def and_(*filters):
    """All of the filters (an empty ``and_()`` is true)."""
    return _Group(False, *filters)


def or_(*filters):
    """Any of the filters (an empty ``or_()`` is false)."""
    return _Group(True, *filters)


class Order:
    """An ordering key: ``User.age.desc()``, ``User.age.asc()``."""

    __slots__ = ("field", "descending")

    def __init__(self, field, descending=False):
        self.field = field
        self.descending = descending

    def __repr__(self):
        return "<Order %s%s>" % (self.field, " desc" if self.descending else "")


class FieldOps:
    """Query operators of field descriptors (mixed into
    ``backend.FieldDescriptor``): the class attribute ``User.age`` compares
    into filters. Instances' attributes are values and compare as values."""

    __slots__ = ()
    __hash__ = object.__hash__

    def __eq__(self, value):
        return _Cond(self.name, _b.BK_OP_EQ, value)

    def __ne__(self, value):
        return _Cond(self.name, _b.BK_OP_NE, value)

    def __lt__(self, value):
        return _Cond(self.name, _b.BK_OP_LT, value)

    def __le__(self, value):
        return _Cond(self.name, _b.BK_OP_LE, value)

    def __gt__(self, value):
        return _Cond(self.name, _b.BK_OP_GT, value)

    def __ge__(self, value):
        return _Cond(self.name, _b.BK_OP_GE, value)

    def in_(self, values):
        """The field equals one of ``values`` (an empty list matches nothing)."""
        return _Cond(self.name, _b.BK_OP_IN, _seq(values))

    def not_in(self, values):
        """The field equals none of ``values``."""
        return _Cond(self.name, _b.BK_OP_NOT_IN, _seq(values))

    def is_null(self):
        """The (optional) field is absent or null."""
        return _Cond(self.name, _b.BK_OP_IS_NULL)

    def is_not_null(self):
        return _Cond(self.name, _b.BK_OP_IS_NOT_NULL)

    def startswith(self, prefix):
        """Strings: starts with ``prefix`` (literal: ``%`` and ``_`` are not wildcards)."""
        return _Cond(self.name, _b.BK_OP_PREFIX, prefix)

    def contains(self, text):
        """Strings: contains ``text`` (literal, case-sensitive)."""
        return _Cond(self.name, _b.BK_OP_CONTAINS, text)

    def asc(self):
        return Order(self.name, False)

    def desc(self):
        return Order(self.name, True)


def _seq(values):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError("in_()/not_in() take a list of values")
    return list(values)
