"""backend.Store: model classes as tables, typed CRUD, queries, transactions.

    store = bk.Store("sqlite:app.db")
    store.register(User, table="users")
    with store.transaction() as tx:
        tx.insert(user)                 # user.id is filled in
    adults = store.query(User).where(User.age >= 18).order_by(User.id).limit(20).all()

Everything goes through the thin module's storage functions (src/pystore.c):
an instance's C record is handed to the C store as it is (no JSON in
between), with the GIL released. See docs/python.md, "Storage".
"""
import datetime as _dt
import re

from . import _backend as _b
from ._errors import error_class
from ._model import Model, _dumps
from ._query import Filter, Order, _Cond, _Group, _NOVALUE

__all__ = ["Store", "Transaction", "Query", "Cursor", "Page"]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_EPOCH_DAY = _dt.date(1970, 1, 1).toordinal()
_US = _dt.timedelta(microseconds=1)


def _model_class(cls, what):
    if not (isinstance(cls, type) and issubclass(cls, Model)) or cls is Model:
        raise TypeError("%s: a backend.Model class is required, not %r" % (what, cls))
    return cls


def _table_name(cls):
    """``__tablename__``, else the model name in snake_case (``UserAccount``
    -> ``user_account``)."""
    name = cls.__dict__.get("__tablename__")
    if name:
        return name
    n = cls.__dict__.get("_bk_name") or cls.__name__
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", n).lower()


def _find_spec(cls, name, seen=None):
    """The field spec of a stored field (declared name), looking into
    flattened models as the store does."""
    fields = cls.__bk_fields__
    f = fields.get(name)
    if f is not None and not f.flatten:
        return f
    seen = seen or set()
    seen.add(cls)
    for g in fields.values():
        if g.flatten and g.type.cls is not None and g.type.cls not in seen:
            hit = _find_spec(g.type.cls, name, seen)
            if hit is not None:
                return hit
    return None


def _key_spec(cls):
    ks = cls.__dict__.get("_bk_store_key")
    if ks is None:
        ks = False
        for f in cls.__bk_fields__.values():
            if f.raw.get("primary_key"):
                ks = f
                break
        type.__setattr__(cls, "_bk_store_key", ks)
    return ks


def _key_value(cls, key):
    """A Python key as the thin layer takes it (timestamps and dates as integers)."""
    ks = _key_spec(cls)
    if ks:
        k = ks.type.kind
        if k == "timestamp" and isinstance(key, _dt.datetime):
            if key.tzinfo is None:
                key = key.replace(tzinfo=_dt.timezone.utc)
            return (key - _EPOCH) // _US
        if k == "date" and isinstance(key, _dt.date) and not isinstance(key, _dt.datetime):
            return key.toordinal() - _EPOCH_DAY
    return key


def _json_value(cls, field, op, value):
    """A filter value as the JSON text of the field's type (C checks it)."""
    spec = _find_spec(cls, field)
    conv = spec.to_json if spec is not None else None

    def one(v):
        if v is None or conv is None:
            return v
        v = conv(v)
        return v._bk_to_value() if isinstance(v, Model) else v

    if op in (_b.BK_OP_IN, _b.BK_OP_NOT_IN):
        return _dumps([one(v) for v in value])
    return _dumps(one(value))


def _emit(q, cls, f, top):
    if isinstance(f, _Cond):
        if f.value is _NOVALUE:
            _b.bk_query_where(q, f.field, f.op, None)
        else:
            _b.bk_query_where(q, f.field, f.op, _json_value(cls, f.field, f.op, f.value))
    elif isinstance(f, _Group):
        if top and not f.any:
            for p in f.parts:
                _emit(q, cls, p, True)
        else:
            _b.bk_query_group_begin(q, f.any)
            for p in f.parts:
                _emit(q, cls, p, False)
            _b.bk_query_group_end(q)
    else:
        raise TypeError("where() takes filters (User.age >= 18), not %s" % type(f).__name__)


def _apply(q, cls, op):
    kind, arg = op
    if kind == "where":
        _emit(q, cls, arg, True)
    elif kind == "order":
        _b.bk_query_order_by(q, arg.field, arg.descending)
    elif kind == "limit":
        _b.bk_query_limit(q, arg)
    elif kind == "offset":
        _b.bk_query_offset(q, arg)
    elif kind == "after":
        _b.bk_query_after(q, arg)


class _Session:
    """What stores and transactions share: the data calls."""

    __slots__ = ("_h",)

    def insert(self, obj):
        """Insert ``obj`` (validated first); a generated key (``auto``) is
        written into it. Returns ``obj``. ConflictError on a unique or key
        violation, ValidationError when a constraint fails."""
        _b.bk_store_insert(self._h, _instance_model(obj), obj)
        return obj

    def insert_many(self, objs):
        """Insert instances of one class all or none, in one transaction;
        generated keys are written into them. The error's ``record_index``
        names the failing one. Returns the list."""
        objs = list(objs)
        if objs:
            _b.bk_store_insert_many(self._h, _instance_model(objs[0]), objs)
        return objs

    def get(self, cls, key):
        """The row whose primary key is ``key``, as a ``cls`` instance;
        NotFoundError (a KeyError) when there is none."""
        cls = _model_class(cls, "get")
        obj = cls.__new__(cls)
        _b.bk_store_get(obj, self._h, cls.__bk_model__, _key_value(cls, key))
        return obj

    def find(self, cls, key, default=None):
        """Like :meth:`get`, but ``default`` when there is no such row."""
        try:
            return self.get(cls, key)
        except error_class("BK_ENOTFOUND"):
            return default

    def update(self, obj, fields=None):
        """Write ``obj`` to its row (every column, or only ``fields``, declared
        names). NotFoundError when the row is gone."""
        if isinstance(fields, str):
            fields = [fields]
        _b.bk_store_update(self._h, _instance_model(obj), obj,
                           None if fields is None else list(fields))
        return obj

    def upsert(self, obj):
        """Insert ``obj``, or update the row with its key."""
        _b.bk_store_upsert(self._h, _instance_model(obj), obj)
        return obj

    def delete(self, obj_or_cls, key=_NOVALUE):
        """``delete(obj)`` or ``delete(User, key)``: delete the row by key;
        NotFoundError when there is none."""
        if isinstance(obj_or_cls, type):
            if key is _NOVALUE:
                raise TypeError("delete(cls, key): the key is missing")
            cls = _model_class(obj_or_cls, "delete")
        else:
            if key is not _NOVALUE:
                raise TypeError("delete(obj) takes no key")
            cls = type(obj_or_cls)
            _instance_model(obj_or_cls)
            ks = _key_spec(cls)
            if not ks:
                raise error_class("BK_EMODEL")("%s has no primary key" % cls.__name__)
            key = getattr(obj_or_cls, ks.name)
        _b.bk_store_delete(self._h, cls.__bk_model__, _key_value(cls, key))

    def query(self, cls):
        """A query over ``cls``'s table (registered on this store)."""
        cls = _model_class(cls, "query")
        q = Query(self, cls, ())
        _b.bk_query_new(self._h, cls.__bk_model__)     # not registered: NotFoundError now
        return q

    def transaction(self):
        """Begin a transaction (on a transaction: a nested one, a savepoint).
        Use it with ``with``: it commits when the block ends normally and
        rolls back when it raises."""
        return Transaction(_b.bk_store_begin(self._h), self)

    @property
    def closed(self):
        return self._h.closed


def _instance_model(obj):
    if not isinstance(obj, Model):
        raise TypeError("a backend.Model instance is required, not %s" % type(obj).__name__)
    return type(obj).__bk_model__


class Store(_Session):
    """A database: ``Store("sqlite:app.db")``, ``Store("sqlite::memory:")``.

    Thread-safe (a pool of connections, ``pool_size``); the GIL is released
    around every call that touches the database. Close it with ``close()``
    or ``with``; using a closed store, or a cursor or transaction of it,
    raises MisuseError. Options: ``pool_size`` (4), ``busy_timeout_ms``
    (5000), ``statement_cache`` (64) -- docs/storage.md.
    """

    __slots__ = ("uri", "__weakref__")

    def __init__(self, uri, *, pool_size=None, busy_timeout_ms=None, statement_cache=None):
        opts = None
        if pool_size is not None or busy_timeout_ms is not None or statement_cache is not None:
            opts = _b.bk_store_options()
            if pool_size is not None:
                opts.pool_size = pool_size
            if busy_timeout_ms is not None:
                opts.busy_timeout_ms = busy_timeout_ms
            if statement_cache is not None:
                opts.statement_cache = statement_cache
        self.uri = str(uri)
        self._h = _b.bk_store_open(self.uri, opts)

    def close(self):
        """Close the store (idempotent). Calls running in other threads
        finish first; open cursors and transactions of it can no longer be used."""
        _b.bk_store_close(self._h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return "<backend.Store %r%s>" % (self.uri, " (closed)" if self.closed else "")

    def register(self, cls, table=None):
        """Bind a model class to a table (default ``cls.__tablename__``, else
        the snake_case model name): create it if missing, else compare it with
        the model (SchemaError, one problem per difference). Returns ``cls``."""
        cls = _model_class(cls, "register")
        _b.bk_store_register(self._h, cls.__bk_model__, table or _table_name(cls))
        return cls

    def diff(self, cls, table=None):
        """The SQL that would make the table match the model ('' when it does)."""
        cls = _model_class(cls, "diff")
        return _b.bk_store_diff(self._h, cls.__bk_model__, table or _table_name(cls))

    def migrate(self, migrations):
        """Apply the pending ``(version, name, sql)`` migrations; returns how
        many ran. ConflictError when an applied one changed."""
        return _b.bk_store_migrate(self._h, [tuple(m) for m in migrations])

    def pending(self, migrations):
        """How many of the migrations are not applied yet."""
        return _b.bk_store_pending(self._h, [tuple(m) for m in migrations])

    def transact(self, fn, *, attempts=0):
        """Run ``fn(tx)`` in a transaction and commit; roll back if it
        raises. When it (or the commit) fails with BusyError the whole
        transaction runs again, with backoff, up to ``attempts`` times
        (0: 5) -- so ``fn`` must be repeatable. Returns what ``fn`` returned."""
        out = []

        def run(h):
            out.clear()
            out.append(fn(Transaction(h, self, lent=True)))

        _b.bk_store_transact(self._h, run, attempts)
        return out[0] if out else None


class Transaction(_Session):
    """A transaction (``store.transaction()``), bound to the thread that
    began it. ``with`` commits on normal exit and rolls back on an
    exception; ``commit()`` / ``rollback()`` end it explicitly. Open cursors
    of it are closed when it ends."""

    __slots__ = ("store", "_lent")

    def __init__(self, handle, store, lent=False):
        self._h = handle
        self.store = store
        self._lent = lent

    def commit(self):
        _b.bk_store_commit(self._h)

    def rollback(self):
        _b.bk_store_rollback(self._h)

    @property
    def active(self):
        return not self._h.closed

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if self._lent or self._h.closed:
            return False
        if et is None:
            self.commit()
        else:
            try:
                self.rollback()
            except _b_error():
                pass            # the block's own exception matters more
        return False

    def __repr__(self):
        return "<backend.Transaction%s>" % ("" if self.active else " (ended)")


def _b_error():
    return error_class("BK_ERROR")


class Query:
    """``store.query(User)``: each method returns a new query (the one it is
    called on does not change). Filters, orderings and tokens are checked by
    the C query builder when added; the query runs when iterated or asked
    for ``all()``, ``first()``, ``count()``, ``page()``."""

    __slots__ = ("_session", "_cls", "_ops")

    def __init__(self, session, cls, ops):
        self._session = session
        self._cls = cls
        self._ops = ops

    def _c(self):
        return _b.bk_query_new(self._session._h, self._cls.__bk_model__)

    def _with(self, op, check=True):
        if check:
            self._build((op,))          # a bad filter, field or token fails now, as C says
        return Query(self._session, self._cls, self._ops + (op,))

    def _build(self, extra=()):
        q = self._c()
        for op in self._ops + tuple(extra):
            _apply(q, self._cls, op)
        return q

    def where(self, *filters, **equal):
        """Keep the rows matching every filter (``User.age >= 18``,
        ``User.name.startswith("A")``, ``a | b``); ``where(name="x")`` tests
        equality of declared fields."""
        q = self
        for f in filters:
            if not isinstance(f, Filter):
                raise TypeError("where() takes filters such as User.age >= 18, not %r" % (f,))
            q = q._with(("where", f))
        for name, value in equal.items():
            q = q._with(("where", _Cond(name, _b.BK_OP_EQ, value)))
        return q

    filter = where

    def order_by(self, *keys):
        """Order by fields: ``User.age`` (ascending), ``User.age.desc()``, or
        names (``"age"``, ``"-age"`` descending). The primary key always
        comes last, so the order is total."""
        q = self
        for k in keys:
            if isinstance(k, Order):
                o = k
            elif isinstance(k, str):
                o = Order(k[1:], True) if k.startswith("-") else Order(k, False)
            elif hasattr(k, "asc") and hasattr(k, "name"):
                o = k.asc()
            else:
                raise TypeError("order_by() takes fields, field.desc() or names, not %r" % (k,))
            q = q._with(("order", o))
        return q

    def limit(self, n):
        return self._with(("limit", _count(n, "limit")), check=False)

    def offset(self, n):
        return self._with(("offset", _count(n, "offset")), check=False)

    def after(self, token):
        """Continue after the row a page token designates (keyset
        pagination; the token comes from :meth:`page` or ``Cursor.token()``
        of a query with the same ordering)."""
        if token is None:
            return self
        return self._with(("after", token))

    def cursor(self):
        """Run the query: a :class:`Cursor` over instances."""
        return Cursor(_b.bk_query_run(self._build()), self._cls, self._session)

    def __iter__(self):
        return self.cursor()

    def all(self):
        """Every matching row, as a list of instances."""
        with self.cursor() as c:
            return list(c)

    def first(self):
        """The first matching row, or None."""
        with Cursor(_b.bk_query_run(self._build([("limit", 1)])), self._cls,
                    self._session) as c:
            return next(c, None)

    def one(self):
        """The only matching row: NotFoundError when there is none,
        ConflictError when there are several."""
        rows = Cursor(_b.bk_query_run(self._build([("limit", 2)])), self._cls,
                      self._session).fetch(2)
        if not rows:
            raise error_class("BK_ENOTFOUND")("no %s matches the query" % self._cls.__name__)
        if len(rows) > 1:
            raise error_class("BK_ECONFLICT")("more than one %s matches the query"
                                              % self._cls.__name__)
        return rows[0]

    def count(self):
        """How many rows match (ignoring order, limit, offset and position)."""
        return _b.bk_query_count(self._build())

    def exists(self):
        return self.first() is not None

    def page(self, token=None):
        """One page of a query with a ``limit``, after ``token`` (None: the
        first page): a :class:`Page` with ``items`` and ``next_token``
        (None when this page is the last)."""
        limit = None
        for kind, arg in self._ops:
            if kind == "limit":
                limit = arg
        if limit is None:
            raise error_class("BK_EINVAL")("page(): the query needs a limit()")
        q = self.after(token)
        with q.cursor() as c:
            items = list(c)
            nxt = c.token() if items and len(items) == limit else None
        return Page(items, nxt)

    def __repr__(self):
        return "<backend.Query %s %r>" % (self._cls.__name__, [op for op in self._ops])


def _count(n, what):
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise error_class("BK_EINVAL")("%s(): a non-negative int is required" % what)
    return n


class Cursor:
    """Rows of a query, read one at a time (each read releases the GIL).
    Belongs to the thread that ran the query; closed by ``close()``,
    ``with``, the end of its transaction or the close of its store."""

    __slots__ = ("_c", "_cls", "_session")

    def __init__(self, handle, cls, session):
        self._c = handle
        self._cls = cls
        self._session = session      # keeps the store (or transaction) object alive

    def __iter__(self):
        return self

    def __next__(self):
        cls = self._cls
        obj = cls.__new__(cls)
        _b.bk_cursor_next(self._c, obj)      # StopIteration at the end
        return obj

    def fetch(self, n):
        """Up to ``n`` more rows, as a list."""
        out = []
        for _ in range(n):
            try:
                out.append(next(self))
            except StopIteration:
                break
        return out

    def token(self):
        """The page token after the last row read (for ``Query.after()``)."""
        return _b.bk_cursor_token(self._c)

    def close(self):
        _b.bk_cursor_free(self._c)

    @property
    def closed(self):
        return self._c.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class Page:
    """One page of results: ``items`` and ``next_token`` (None on the last)."""

    __slots__ = ("items", "next_token")

    def __init__(self, items, next_token):
        self.items = items
        self.next_token = next_token

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]

    def __repr__(self):
        return "<backend.Page of %d, next_token=%r>" % (len(self.items), self.next_token)
