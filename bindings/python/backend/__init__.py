"""libbackend for Python: typed models, JSON and validation by the C library.

    import backend as bk

    class User(bk.Model, rename_all="camelCase", deny_unknown=True):
        id: int = bk.field(primary_key=True, auto=True)
        name: str = bk.field(min_len=1, max_len=100)
        created_at: datetime

    user = User.from_json(body)        # raises bk.ValidationError with .errors
    body = user.to_json()              # bytes, written by the C encoder

    store = bk.Store("sqlite:app.db")
    store.register(User, table="users")
    with store.transaction() as tx:
        tx.insert(user)                # user.id is filled in
    adults = store.query(User).where(User.age >= 18).order_by(User.id).limit(20).all()

The thin SWIG module with one function per C function is ``backend._backend``
(``bk.lib``). See docs/python.md.
"""
from typing import Annotated as _Annotated

from . import _backend
from . import _backend as lib
from ._errors import Error, STATUS, error_class
from ._errors import _CLASSES as _error_classes
from ._model import (Model, field, Kind, Ptr, union, FieldDescriptor, load_models,
                     decode_list, encode_list, to_json, models_openapi)
from ._validators import field_validator, model_validator, ValidationProblem
from ._query import Filter, Order, and_, or_
from ._store import Store, Transaction, Query, Cursor, Page

# One exception class per C status (see _errors.py): bk.ValidationError, ...
globals().update({name: cls for name, cls in _error_classes.items()})

# Integer and float kinds for annotations: `age: bk.i32`.
i8 = _Annotated[int, Kind("i8")]
i16 = _Annotated[int, Kind("i16")]
i32 = _Annotated[int, Kind("i32")]
i64 = _Annotated[int, Kind("i64")]
u8 = _Annotated[int, Kind("u8")]
u16 = _Annotated[int, Kind("u16")]
u32 = _Annotated[int, Kind("u32")]
u64 = _Annotated[int, Kind("u64")]
f32 = _Annotated[float, Kind("f32")]
f64 = _Annotated[float, Kind("f64")]

__version__ = _backend.bk_version()

__all__ = ["Model", "field", "Kind", "Ptr", "union", "FieldDescriptor", "load_models", "decode_list",
           "encode_list", "to_json", "models_openapi", "field_validator",
           "model_validator", "ValidationProblem", "Error", "STATUS", "error_class", "lib",
           "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64",
           "Store", "Transaction", "Query", "Cursor", "Page", "Filter", "Order", "and_",
           "or_"] + \
          sorted(_error_classes)
