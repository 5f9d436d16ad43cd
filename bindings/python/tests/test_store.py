"""Storage: bk.Store, transactions, queries and cursors, on real SQLite files.

Also the thin functions (bk.lib.bk_store_* ...) and the lifetime rules: a
closed store, an ended transaction, a freed query or cursor raise
MisuseError and never touch freed memory; the GIL is released around
blocking calls (threads make progress together).
"""
import enum
import gc
import os
import shutil
import tempfile
import threading
import time
import unittest
import uuid
from datetime import date, datetime, timezone
from typing import Literal, Optional

import backend as bk
from backend import lib


class Role(enum.Enum):
    ADMIN = "admin"
    MEMBER = "member"


class User(bk.Model):
    __tablename__ = "users"
    id: int = bk.field(primary_key=True, auto=True)
    name: str = bk.field(min_len=1, max_len=20)
    email: Optional[str] = bk.field(default=None, unique=True)
    age: bk.i32 = bk.field(ge=0, le=150, index=True)
    role: Role = Role.MEMBER
    tags: list[str] = []
    born: Optional[date] = None


class Doc(bk.Model):
    id: uuid.UUID = bk.field(primary_key=True, auto=True)
    title: str
    at: datetime


class Tag(bk.Model):
    name: str = bk.field(primary_key=True)
    weight: float = 0.0
    level: Literal["low", "high"] = "low"


class Small(bk.Model):
    id: bk.i32 = bk.field(primary_key=True)
    n: int = 0


class Unregistered(bk.Model):
    id: int = bk.field(primary_key=True)


class StoreCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bk-store-")
        self.uri = "sqlite:" + os.path.join(self.dir, "app.db")
        self.store = bk.Store(self.uri)
        self.store.register(User)
        self.store.register(Doc)
        self.store.register(Tag, table="tags")
        self.store.register(Small)

    def tearDown(self):
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def users(self, n=10):
        out = [User(name="u%02d" % i, age=10 * i % 150, email="u%d@x.io" % i if i % 2 else None,
                    tags=["t%d" % (i % 3)], role=Role.ADMIN if i % 5 == 0 else Role.MEMBER)
               for i in range(n)]
        self.store.insert_many(out)
        return out


class CrudTest(StoreCase):
    def test_insert_fills_the_generated_key_and_get_reads_it_back(self):
        u = User(name="ann", age=30, tags=["a", "b"], born=date(1990, 5, 17), email=None)
        self.assertIs(self.store.insert(u), u)
        self.assertEqual(u.id, 1)
        got = self.store.get(User, 1)
        self.assertIsInstance(got, User)
        self.assertEqual(got, u)
        # NULL columns read back as null (an absent optional field is stored as NULL)
        v = self.store.insert(User(name="v", age=1))
        self.assertEqual((v.presence("email"), self.store.get(User, v.id).presence("email")),
                         ("absent", "null"))
        self.assertEqual((got.name, got.tags, got.role, got.born),
                         ("ann", ["a", "b"], Role.MEMBER, date(1990, 5, 17)))
        self.assertEqual(self.store.insert(User(name="bob", age=1)).id, 3)

    def test_get_of_a_missing_key_is_not_found_a_key_error(self):
        with self.assertRaises(KeyError) as cm:
            self.store.get(User, 42)
        e = cm.exception
        self.assertIsInstance(e, bk.NotFoundError)
        self.assertEqual((e.code, e.http_status), ("BK_ENOTFOUND", 404))
        self.assertIsNone(self.store.find(User, 42))
        self.assertEqual(self.store.find(User, 42, "none"), "none")

    def test_update_all_columns_or_named_fields(self):
        u = self.store.insert(User(name="ann", age=30))
        u.age = 31
        u.tags.append("x")                 # changed in place: written back before the call
        self.store.update(u)
        self.assertEqual(self.store.get(User, u.id).tags, ["x"])
        u.name = "zed"
        u.age = 99
        self.store.update(u, fields=["age"])
        got = self.store.get(User, u.id)
        self.assertEqual((got.name, got.age), ("ann", 99))
        with self.assertRaises(bk.InvalidArgumentError):
            self.store.update(u, fields=["nope"])
        with self.assertRaises(bk.NotFoundError):
            self.store.update(User(id=77, name="x", age=1))

    def test_row_version_is_an_optimistic_lock(self):
        class Account(bk.Model):
            id: int = bk.field(primary_key=True, auto=True)
            owner: str
            version: int = bk.field(row_version=True)

        self.assertIn('"row_version":true', Account.to_doc().replace(" ", ""))
        self.store.register(Account)
        a = self.store.insert(Account(owner="ann"))
        self.assertEqual(a.version, 0)
        b = self.store.get(Account, a.id)          # a second reader of the same row
        a.owner = "ann2"
        self.store.update(a)
        self.assertEqual(a.version, 1)             # incremented in the row and the instance
        b.owner = "bob"
        with self.assertRaises(bk.ConflictError) as cm:
            self.store.update(b)                   # stale version: refused, row unchanged
        self.assertEqual((cm.exception.code, cm.exception.http_status), ("BK_ECONFLICT", 409))
        got = self.store.get(Account, a.id)
        self.assertEqual((got.owner, got.version), ("ann2", 1))
        with self.assertRaises(bk.ModelError):
            class Bad(bk.Model):                   # a row version must be a required integer
                id: int = bk.field(primary_key=True)
                version: str = bk.field(row_version=True)
            self.store.register(Bad)

    def test_upsert_inserts_then_updates(self):
        t = Tag(name="red", weight=1.5)
        self.store.upsert(t)
        t.weight = 2.5
        self.store.upsert(t)
        self.assertEqual(self.store.get(Tag, "red").weight, 2.5)
        self.assertEqual(self.store.query(Tag).count(), 1)

    def test_delete_by_instance_or_by_class_and_key(self):
        a, b = self.store.insert(User(name="a", age=1)), self.store.insert(User(name="b", age=2))
        self.store.delete(a)
        self.store.delete(User, b.id)
        self.assertEqual(self.store.query(User).count(), 0)
        with self.assertRaises(bk.NotFoundError):
            self.store.delete(User, b.id)
        with self.assertRaises(TypeError):
            self.store.delete(User)

    def test_string_uuid_and_small_integer_keys(self):
        d = Doc(title="t", at=datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc))
        self.assertEqual(d.id, uuid.UUID(int=0))
        self.store.insert(d)
        self.assertNotEqual(d.id, uuid.UUID(int=0))
        self.assertEqual(d.id.version, 7)
        for key in (d.id, str(d.id), d.id.bytes):
            self.assertEqual(self.store.get(Doc, key).at, d.at)
        self.store.insert(Tag(name="blue"))
        self.assertEqual(self.store.get(Tag, "blue").level, "low")
        self.store.insert(Small(id=-5, n=3))
        self.assertEqual(self.store.get(Small, -5).n, 3)

    def test_bad_keys_are_invalid_arguments(self):
        with self.assertRaisesRegex(bk.InvalidArgumentError, "out of range for Small.id"):
            self.store.get(Small, 2 ** 31)
        with self.assertRaisesRegex(bk.InvalidArgumentError, "integer key"):
            self.store.get(User, "1")
        with self.assertRaisesRegex(bk.InvalidArgumentError, "string key"):
            self.store.get(Tag, 1)
        with self.assertRaisesRegex(bk.InvalidArgumentError, "not a UUID"):
            self.store.get(Doc, "zz")

    def test_a_negative_key_of_an_unsigned_field_is_out_of_range(self):
        class Big(bk.Model):
            id: bk.u64 = bk.field(primary_key=True)
        self.store.register(Big)
        for key in (-1, -(2 ** 63), 2 ** 64):
            with self.assertRaisesRegex(bk.InvalidArgumentError, "out of range for Big.id"):
                self.store.get(Big, key)
        self.assertIsNone(self.store.find(Big, 7))

    def test_validation_runs_before_insert(self):
        with self.assertRaises(bk.ValidationError) as cm:
            self.store.insert(User(name="", age=1).copy() if False else _unchecked(name="", age=200))
        e = cm.exception
        self.assertEqual(e.code, "BK_EVALIDATION")
        self.assertEqual(sorted((p["path"], p["code"]) for p in e.errors),
                         [("$.age", "above_max"), ("$.name", "too_short")])
        self.assertEqual(self.store.query(User).count(), 0)

    def test_unique_violation_is_a_conflict(self):
        self.store.insert(User(name="a", age=1, email="a@x.io"))
        with self.assertRaises(bk.ConflictError) as cm:
            self.store.insert(User(name="b", age=1, email="a@x.io"))
        self.assertEqual(cm.exception.http_status, 409)
        self.assertIn("UNIQUE", str(cm.exception))

    def test_insert_many_is_all_or_nothing_and_names_the_failing_index(self):
        us = self.users(3)
        self.assertEqual([u.id for u in us], [1, 2, 3])
        batch = [User(name="ok", age=1), User(name="dup", age=1, email="u1@x.io"),
                 User(name="ok2", age=1)]
        with self.assertRaises(bk.ConflictError) as cm:
            self.store.insert_many(batch)
        self.assertEqual(cm.exception.record_index, 1)
        self.assertEqual([u.id for u in batch], [0, 0, 0])      # keys undone
        self.assertEqual(self.store.query(User).count(), 3)
        self.assertEqual(self.store.insert_many([]), [])

    def test_unregistered_models_are_not_found(self):
        with self.assertRaisesRegex(bk.NotFoundError, "not registered"):
            self.store.insert(Unregistered(id=1))
        with self.assertRaises(bk.NotFoundError):
            self.store.get(Unregistered, 1)
        with self.assertRaises(bk.NotFoundError):
            self.store.query(Unregistered)

    def test_wrong_arguments(self):
        with self.assertRaises(TypeError):
            self.store.insert({"name": "x"})
        with self.assertRaises(TypeError):
            self.store.get(dict, 1)
        with self.assertRaises(TypeError):
            self.store.register(bk.Model)


def _unchecked(**kw):
    """An instance whose constraints fail (assignment does not check them)."""
    u = User(name="x", age=1)
    for k, v in kw.items():
        setattr(u, k, v)
    return u


class QueryTest(StoreCase):
    def names(self, q):
        return [u.name for u in q]

    def test_comparisons_build_bound_filters(self):
        self.users(10)
        q = self.store.query(User)
        self.assertEqual(self.names(q.where(User.age >= 70).order_by(User.id)), ["u07", "u08", "u09"])
        self.assertEqual(self.names(q.where(User.age < 20)), ["u00", "u01"])
        self.assertEqual(q.where(User.age <= 20).count(), 3)
        self.assertEqual(q.where(User.age > 20).count(), 7)
        self.assertEqual(q.where(User.name == "u03").one().age, 30)
        self.assertEqual(q.where(User.name != "u03").count(), 9)
        self.assertEqual(self.names(q.where(User.id.in_([2, 4, 99]))), ["u01", "u03"])
        self.assertEqual(q.where(User.id.not_in([2, 4])).count(), 8)
        self.assertEqual(q.where(User.id.in_([])).count(), 0)
        self.assertEqual(q.where(User.email.is_null()).count(), 5)
        self.assertEqual(q.where(User.email.is_not_null()).count(), 5)
        self.assertEqual(q.where(User.email == None).count(), 5)      # noqa: E711 (IS NULL)
        self.assertEqual(q.where(User.role == Role.ADMIN).count(), 2)
        self.assertEqual(q.where(User.role == "admin").count(), 2)
        self.assertEqual(q.where(name="u05").count(), 1)

    def test_strings_prefix_and_contains_are_literal(self):
        self.store.insert_many([User(name=n, age=1) for n in ("a%b", "axb", "ab_", "xa%")])
        q = self.store.query(User)
        self.assertEqual(self.names(q.where(User.name.startswith("a%"))), ["a%b"])
        self.assertEqual(self.names(q.where(User.name.contains("%"))), ["a%b", "xa%"])
        self.assertEqual(self.names(q.where(User.name.contains("_"))), ["ab_"])
        self.assertEqual(q.where(User.name.startswith("A")).count(), 0)

    def test_and_or_groups_nest(self):
        self.users(10)
        q = self.store.query(User).order_by(User.id)
        f = (User.age < 20) | (User.age >= 80)
        self.assertEqual(self.names(q.where(f)), ["u00", "u01", "u08", "u09"])
        self.assertEqual(self.names(q.where(f & User.email.is_not_null())), ["u01", "u09"])
        self.assertEqual(self.names(q.where(f, User.email.is_not_null())), ["u01", "u09"])
        g = ((User.age == 0) & (User.role == Role.ADMIN)) | ((User.age == 90) & (User.name == "u09"))
        self.assertEqual(self.names(q.where(g)), ["u00", "u09"])
        self.assertEqual(q.where(bk.or_()).count(), 0)
        self.assertEqual(q.where(bk.and_()).count(), 10)
        with self.assertRaises(TypeError):
            bool(User.age == 1)
        with self.assertRaises(TypeError):
            (User.age == 1) & 3
        with self.assertRaises(TypeError):
            q.where(True)

    def test_type_mismatches_raise_the_c_error_when_the_filter_is_added(self):
        q = self.store.query(User)
        with self.assertRaisesRegex(bk.InvalidArgumentError, "field age"):
            q.where(User.age >= "x")
        with self.assertRaisesRegex(bk.InvalidArgumentError, "field name"):
            q.where(User.name == 5)
        with self.assertRaises(bk.InvalidArgumentError):
            q.where(User.age.startswith("1"))          # strings only
        with self.assertRaises(bk.InvalidArgumentError):
            q.where(User.role == "boss")                # no such enum name
        with self.assertRaises(bk.InvalidArgumentError):
            q.where(User.tags == ["a"])                 # JSON columns: null tests only
        with self.assertRaisesRegex(bk.InvalidArgumentError, "no stored field"):
            q.where(nosuch=1)
        with self.assertRaises(bk.InvalidArgumentError):
            q.order_by("nosuch")
        with self.assertRaises(bk.InvalidArgumentError):
            q.limit(-1)

    def test_values_are_never_sql(self):
        self.users(3)
        evil = "x' OR '1'='1"
        self.assertEqual(self.store.query(User).where(User.name == evil).count(), 0)
        self.assertEqual(self.store.query(User).where(User.name.contains("'; DROP TABLE users; --")).count(), 0)
        self.assertEqual(self.store.query(User).count(), 3)

    def test_dates_timestamps_and_uuids_as_values(self):
        t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
        docs = [Doc(title="d%d" % i, at=t0.replace(day=1 + i)) for i in range(5)]
        self.store.insert_many(docs)
        q = self.store.query(Doc)
        self.assertEqual(q.where(Doc.at >= t0.replace(day=3)).count(), 3)
        self.assertEqual(q.where(Doc.id == docs[2].id).one().title, "d2")
        self.assertEqual(q.where(Doc.id.in_([docs[0].id, str(docs[1].id)])).count(), 2)
        self.store.insert(User(name="b", age=1, born=date(2000, 2, 29)))
        self.assertEqual(self.store.query(User).where(User.born < date(2001, 1, 1)).count(), 1)

    def test_order_limit_offset_first_one_exists(self):
        self.users(10)
        q = self.store.query(User)
        self.assertEqual([u.age for u in q.order_by(User.age.desc()).limit(3)], [90, 80, 70])
        self.assertEqual([u.age for u in q.order_by("-age").offset(8)], [10, 0])
        self.assertEqual([u.name for u in q.order_by(User.role, User.age.desc()).limit(2)],
                         ["u05", "u00"])           # enum names order as text
        self.assertEqual(q.order_by(User.age).first().age, 0)
        self.assertIsNone(q.where(User.age > 1000).first())
        self.assertTrue(q.exists())
        with self.assertRaises(bk.NotFoundError):
            q.where(User.age > 1000).one()
        with self.assertRaises(bk.ConflictError):
            q.one()
        base = q.where(User.age >= 50)
        self.assertEqual((base.count(), base.limit(1).count()), (5, 5))   # count ignores limit
        self.assertEqual(q.count(), 10)                                    # queries do not change

    def test_keyset_pages_cover_every_row_once(self):
        self.users(25)
        q = self.store.query(User).order_by(User.role, User.age.desc()).limit(7)
        seen, token, pages = [], None, 0
        while True:
            page = q.page(token)
            seen.extend(u.id for u in page)
            pages += 1
            token = page.next_token
            if token is None:
                break
        self.assertEqual(sorted(seen), list(range(1, 26)))
        self.assertEqual(len(seen), 25)
        self.assertEqual(pages, 4)
        with self.assertRaises(bk.InvalidArgumentError):
            q.after("not a token")
        first = self.store.query(User).order_by(User.id).limit(5).page()
        with self.assertRaisesRegex(bk.InvalidArgumentError, "ordering"):
            q.after(first.next_token)
        with self.assertRaises(bk.InvalidArgumentError):
            self.store.query(User).page()                       # needs a limit

    def test_cursors_iterate_and_close(self):
        self.users(5)
        c = self.store.query(User).order_by(User.id).cursor()
        self.assertEqual(next(c).name, "u00")
        self.assertEqual(len(c.fetch(2)), 2)
        self.assertTrue(c.token())
        c.close()
        c.close()
        self.assertTrue(c.closed)
        with self.assertRaisesRegex(bk.MisuseError, "cursor is closed"):
            next(c)
        with self.store.query(User).cursor() as c2:
            self.assertEqual(len(list(c2)), 5)
            with self.assertRaises(StopIteration):
                next(c2)


class TransactionTest(StoreCase):
    def count(self):
        return self.store.query(User).count()

    def test_with_commits_on_success(self):
        with self.store.transaction() as tx:
            tx.insert(User(name="a", age=1))
            self.assertEqual(tx.query(User).count(), 1)
            self.assertTrue(tx.active)
        self.assertFalse(tx.active)
        self.assertEqual(self.count(), 1)

    def test_with_rolls_back_on_exception(self):
        with self.assertRaisesRegex(RuntimeError, "boom"):
            with self.store.transaction() as tx:
                tx.insert(User(name="a", age=1))
                raise RuntimeError("boom")
        self.assertEqual(self.count(), 0)
        with self.assertRaises(bk.ConflictError):
            with self.store.transaction() as tx:
                tx.insert(User(name="a", age=1, email="e@x.io"))
                tx.insert(User(name="b", age=1, email="e@x.io"))
        self.assertEqual(self.count(), 0)

    def test_nested_transactions_are_savepoints(self):
        with self.store.transaction() as tx:
            tx.insert(User(name="outer", age=1))
            with self.assertRaises(ValueError):
                with tx.transaction() as inner:
                    inner.insert(User(name="inner", age=1))
                    raise ValueError
            with tx.transaction() as inner2:
                inner2.insert(User(name="kept", age=1))
        self.assertEqual(sorted(u.name for u in self.store.query(User)), ["kept", "outer"])

    def test_explicit_commit_and_rollback_end_the_transaction(self):
        tx = self.store.transaction()
        tx.insert(User(name="a", age=1))
        tx.rollback()
        with self.assertRaisesRegex(bk.MisuseError, "ended"):
            tx.insert(User(name="b", age=1))
        with self.assertRaises(bk.MisuseError):
            tx.commit()
        tx2 = self.store.transaction()
        q = tx2.query(User)
        tx2.insert(User(name="c", age=1))
        tx2.commit()
        with self.assertRaises(bk.MisuseError):
            q.count()                   # a query of an ended transaction
        self.assertEqual(self.count(), 1)

    def test_outer_commit_with_an_open_nested_transaction_is_refused(self):
        tx = self.store.transaction()
        inner = tx.transaction()
        with self.assertRaisesRegex(bk.MisuseError, "nested"):
            tx.commit()
        with self.assertRaises(bk.MisuseError):
            tx.transaction()
        tx.rollback()                   # rolls the nested one back too
        self.assertFalse(inner.active)
        with self.assertRaises(bk.MisuseError):
            inner.insert(User(name="x", age=1))

    def test_ending_a_transaction_closes_its_cursors(self):
        self.users(3)
        with self.store.transaction() as tx:
            c = tx.query(User).cursor()
            next(c)                    # open: C would refuse to commit
        with self.assertRaisesRegex(bk.MisuseError, "transaction has ended"):
            next(c)

    def test_a_transaction_belongs_to_its_thread(self):
        tx = self.store.transaction()
        err = []

        def other():
            try:
                tx.insert(User(name="x", age=1))
            except Exception as e:      # noqa: BLE001
                err.append(e)
        t = threading.Thread(target=other)
        t.start()
        t.join()
        self.assertIsInstance(err[0], bk.MisuseError)
        self.assertIn("thread", str(err[0]))
        tx.rollback()

    def test_transact_commits_returns_and_reraises(self):
        self.assertEqual(self.store.transact(lambda tx: tx.insert(User(name="a", age=1)).id), 1)

        def fail(tx):
            tx.insert(User(name="b", age=1))
            raise LookupError("nope")
        with self.assertRaisesRegex(LookupError, "nope"):
            self.store.transact(fail)
        self.assertEqual(self.count(), 1)

        def commits(tx):
            tx.commit()
        with self.assertRaisesRegex(bk.MisuseError, "return from fn"):
            self.store.transact(commits)
        kept = []
        self.store.transact(lambda tx: kept.append(tx))
        with self.assertRaises(bk.MisuseError):
            kept[0].insert(User(name="late", age=1))

    def test_transact_retries_busy(self):
        calls = []

        def flaky(tx):
            calls.append(1)
            tx.insert(User(name="n%d" % len(calls), age=1))
            if len(calls) < 3:
                raise bk.BusyError("try again")
        self.store.transact(flaky, attempts=5)
        self.assertEqual(len(calls), 3)
        self.assertEqual([u.name for u in self.store.query(User)], ["n3"])
        calls.clear()

        def busy(tx):
            calls.append(1)
            raise bk.BusyError("still busy")
        with self.assertRaisesRegex(bk.BusyError, "still busy"):
            self.store.transact(busy, attempts=2)
        self.assertEqual(len(calls), 2)


class Hooked(bk.Model):
    """A model whose validator runs HOOKS: Python code that C calls back in
    the middle of a write."""
    id: int = bk.field(primary_key=True)
    name: str

    @bk.field_validator("name")
    @classmethod
    def hook(cls, v):
        for f in list(HOOKS):
            f()
        return v


HOOKS = []


class ReentrancyTest(StoreCase):
    """A callback (a Python validator) runs while C is inside a call on a
    transaction: ending that transaction (or one it is nested in) from the
    callback would free the C handle under the running call."""

    def setUp(self):
        super().setUp()
        self.store.register(Hooked)
        self.caught = []

    def tearDown(self):
        HOOKS.clear()
        super().tearDown()

    def trying(self, fn):
        def run():
            try:
                fn()
            except bk.MisuseError as e:
                self.caught.append(e)
        HOOKS.append(run)

    def test_a_callback_cannot_end_the_transaction_it_runs_in(self):
        tx = self.store.transaction()
        obj = Hooked(id=1, name="a")         # (validated here too: before the hooks)
        self.trying(tx.rollback)
        self.trying(tx.commit)
        tx.insert(obj)
        HOOKS.clear()
        self.assertEqual(len(self.caught), 2)
        self.assertIn("running", str(self.caught[0]))
        self.assertTrue(tx.active)
        self.assertEqual(tx.query(Hooked).count(), 1)
        tx.commit()

    def test_a_callback_cannot_end_an_outer_transaction(self):
        tx = self.store.transaction()
        inner = tx.transaction()
        obj = Hooked(id=1, name="a")
        self.trying(tx.rollback)             # would free inner, which is running
        inner.insert(obj)
        HOOKS.clear()
        self.assertEqual(len(self.caught), 1)
        inner.commit()
        tx.commit()
        self.assertEqual(self.store.query(Hooked).count(), 1)

    def test_a_callback_in_transact_cannot_end_a_nested_transaction(self):
        def fn(tx):
            inner = tx.transaction()
            obj = Hooked(id=2, name="b")
            self.trying(inner.rollback)
            inner.insert(obj)
            HOOKS.clear()
            inner.commit()
        self.store.transact(fn)
        self.assertEqual(len(self.caught), 1)
        self.assertEqual(self.store.query(Hooked).count(), 1)


def _pg_uri():
    """The PostgreSQL server of the tests (the ctest fixture writes its URI
    into BK_TEST_PG_URI_FILE), or None."""
    uri = os.environ.get("BK_TEST_PG_URI")
    if not uri and os.environ.get("BK_TEST_PG_URI_FILE"):
        try:
            with open(os.environ["BK_TEST_PG_URI_FILE"]) as f:
                uri = f.read().strip()
        except OSError:
            uri = None
    return uri if uri and uri != "skip" else None


def _pg_exec(uri, sql):
    """Run SQL on the server through libpq itself (ctypes: no driver needed)."""
    import ctypes
    import ctypes.util
    pq = ctypes.CDLL(ctypes.util.find_library("pq") or "libpq.so.5")
    pq.PQconnectdb.restype = ctypes.c_void_p
    pq.PQexec.restype = ctypes.c_void_p
    pq.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    pq.PQstatus.argtypes = [ctypes.c_void_p]
    pq.PQresultStatus.argtypes = [ctypes.c_void_p]
    pq.PQclear.argtypes = [ctypes.c_void_p]
    pq.PQfinish.argtypes = [ctypes.c_void_p]
    pq.PQerrorMessage.argtypes = [ctypes.c_void_p]
    pq.PQerrorMessage.restype = ctypes.c_char_p
    db = pq.PQconnectdb(uri.encode())
    try:
        if pq.PQstatus(db) != 0:
            raise RuntimeError(pq.PQerrorMessage(db).decode())
        pq.PQclear(pq.PQexec(db, b"SET client_min_messages = warning"))
        r = pq.PQexec(db, sql.encode())
        ok = pq.PQresultStatus(r) in (1, 2)       # PGRES_COMMAND_OK, PGRES_TUPLES_OK
        pq.PQclear(r)
        if not ok:
            raise RuntimeError("%s: %s" % (sql, pq.PQerrorMessage(db).decode()))
    finally:
        pq.PQfinish(db)


class Slow(bk.Model):
    id: int = bk.field(primary_key=True)
    pad: str = ""           # rows larger than the server's 8 kB send buffer: each is sent at once


@unittest.skipUnless(_pg_uri(), "no PostgreSQL server (BK_TEST_PG_URI[_FILE])")
class PgGilTest(unittest.TestCase):
    """PostgreSQL streams rows: a cursor freed before its end reads what is
    left of its result, which takes as long as the server does. Other
    threads run meanwhile (the GIL is released)."""

    ROWS = 40

    def setUp(self):
        base = _pg_uri()
        self.schema = "tpy%d_%d" % (os.getpid(), id(self) % 100000)
        self.base = base
        _pg_exec(base, "CREATE SCHEMA " + self.schema)
        self.uri = "%s%coptions=-csearch_path%%3D%s" % (base, "&" if "?" in base else "?",
                                                       self.schema)
        owner = bk.Store(self.uri)
        owner.register(Slow, table="slow")
        owner.insert_many([Slow(id=i + 1, pad="x" * 9000) for i in range(self.ROWS)])
        owner.close()
        # every row read costs the server 25 ms: a row security policy that
        # sleeps, which applies to a role that is neither the owner nor a
        # superuser (the server of the tests trusts local users)
        reader = "bk_slow_reader"
        _pg_exec(self.uri, "DO $$ BEGIN CREATE ROLE %s LOGIN; EXCEPTION WHEN "
                           "duplicate_object THEN NULL; END $$; "
                           "GRANT USAGE ON SCHEMA %s TO %s; GRANT SELECT ON slow TO %s; "
                           "ALTER TABLE slow ENABLE ROW LEVEL SECURITY; "
                           "CREATE POLICY slow_rows ON slow USING "
                           "((SELECT true FROM pg_sleep(0.025 + 0 * id)))"
                 % (reader, self.schema, reader, reader))
        try:
            # (rows in key order without a sort, which would read them all first)
            self.store = bk.Store(self.uri + "%20-cenable_sort%3Doff&user=" + reader,
                                  pool_size=2, busy_timeout_ms=1000)
            self.store.register(Slow, table="slow")
        except bk.Error as e:
            _pg_exec(self.base, "DROP SCHEMA IF EXISTS %s CASCADE" % self.schema)
            self.skipTest("cannot connect as %s: %s" % (reader, e))

    def tearDown(self):
        self.store.close()
        _pg_exec(self.base, "DROP SCHEMA IF EXISTS %s CASCADE" % self.schema)

    def ticks_during(self, fn):
        ticks = [0]
        stop = threading.Event()

        def ticker():
            while not stop.is_set():
                ticks[0] += 1
                time.sleep(0.001)
        t = threading.Thread(target=ticker)
        t.start()
        time.sleep(0.05)
        before = ticks[0]
        t0 = time.monotonic()
        fn()
        took = time.monotonic() - t0
        after = ticks[0]
        stop.set()
        t.join()
        return after - before, took

    def test_closing_a_cursor_early_releases_the_gil(self):
        c = self.store.query(Slow).cursor()
        self.assertEqual(next(c).id, 1)
        n, took = self.ticks_during(c.close)
        self.assertGreater(took, 0.3)        # the rest of the result was read
        self.assertGreater(n, 20, "other threads were stopped for %.2f s" % took)

    def test_ending_a_transaction_with_an_open_cursor_releases_the_gil(self):
        tx = self.store.transaction()
        c = tx.query(Slow).cursor()
        self.assertEqual(next(c).id, 1)
        n, took = self.ticks_during(tx.rollback)
        self.assertTrue(c.closed)
        self.assertGreater(took, 0.3)
        self.assertGreater(n, 20, "other threads were stopped for %.2f s" % took)

    def test_a_store_cursor_dropped_by_another_thread_waits_for_its_own(self):
        # The same with the store: a thread's calls share the connection its
        # open cursor holds.
        box = [self.store.query(Slow).cursor()]
        self.assertEqual(next(box[0]).id, 1)
        t = threading.Thread(target=box.clear)     # the last reference goes there
        t.start()
        time.sleep(0.1)
        self.assertEqual(self.store.query(Slow).where(Slow.id <= 3).count(), 3)
        t.join()

    def test_a_cursor_of_a_thread_that_ended_is_freed_by_the_next_call(self):
        box = []

        def run():
            box.append(self.store.query(Slow).where(Slow.id <= 2).cursor())
            next(box[0])
        t = threading.Thread(target=run)
        t.start()
        t.join()
        box.clear()                     # dropped here; its thread is gone
        # the next call frees it: its connection serves again (a pool of 2:
        # one for the transaction, the other for the store's own call)
        with self.store.transaction() as tx:
            self.assertEqual(tx.query(Slow).where(Slow.id <= 1).count(), 1)
            self.assertEqual(self.store.query(Slow).where(Slow.id <= 1).count(), 1)

    def test_a_transaction_cursor_dropped_by_another_thread_waits_for_its_own(self):
        # The other thread (a garbage collection there, say) must not use the
        # transaction's connection while its thread does: the cursor is freed
        # by the transaction's thread, at its next call.
        tx = self.store.transaction()
        box = [tx.query(Slow).cursor()]
        self.assertEqual(next(box[0]).id, 1)
        t = threading.Thread(target=box.clear)     # the last reference goes there
        t.start()
        time.sleep(0.1)
        self.assertEqual(tx.query(Slow).where(Slow.id <= 3).count(), 3)
        t.join()
        tx.commit()


class LifetimeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bk-store-")
        self.uri = "sqlite:" + os.path.join(self.dir, "app.db")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_a_closed_store_raises_everywhere(self):
        s = bk.Store(self.uri)
        s.register(User)
        s.insert_many([User(name="a", age=1), User(name="b", age=2)])
        q = s.query(User)
        c = q.cursor()
        next(c)
        tx = s.transaction()
        s.close()
        s.close()                       # idempotent
        self.assertTrue(s.closed)
        for call in (lambda: s.insert(User(name="c", age=1)), lambda: s.get(User, 1),
                     lambda: s.query(User), lambda: q.count(), lambda: q.all(),
                     lambda: next(c), lambda: s.transaction(), lambda: tx.insert(User(name="d", age=1)),
                     lambda: s.register(User), lambda: s.migrate([]), lambda: s.delete(User, 1),
                     lambda: lib.bk_store_insert(s._h, User.__bk_model__, User(name="e", age=1))):
            with self.assertRaisesRegex(bk.MisuseError, "closed"):
                call()
        self.assertFalse(tx.active)     # rolled back when it was used
        with bk.Store(self.uri) as s2:
            s2.register(User)
            self.assertEqual(s2.query(User).count(), 2)
        self.assertTrue(s2.closed)

    def test_cursors_and_transactions_keep_the_store_alive(self):
        s = bk.Store(self.uri)
        s.register(User)
        s.insert_many([User(name="n%d" % i, age=i) for i in range(5)])
        c = s.query(User).order_by(User.id).cursor()
        tx = s.transaction()
        del s
        gc.collect()
        self.assertEqual([u.age for u in c], [0, 1, 2, 3, 4])
        tx.insert(User(name="late", age=9))
        tx.commit()
        with bk.Store(self.uri) as s2:
            s2.register(User)
            self.assertEqual(s2.query(User).count(), 6)

    def test_handles_outlive_nothing(self):
        m = User.__bk_model__
        h = lib.bk_store_open("sqlite::memory:", None)
        lib.bk_store_register(h, m, "users")
        q = lib.bk_query_new(h, m)
        c = lib.bk_query_run(q)
        lib.bk_query_free(q)            # deferred while its cursor is open
        lib.bk_query_free(q)
        with self.assertRaisesRegex(bk.MisuseError, "freed"):
            lib.bk_query_limit(q, 1)
        with self.assertRaises(StopIteration):
            lib.bk_cursor_next(c, User.__new__(User))
        lib.bk_cursor_free(c)
        tx = lib.bk_store_begin(h)
        lib.bk_store_commit(tx)
        for call in (lambda: lib.bk_store_commit(tx), lambda: lib.bk_store_rollback(tx),
                     lambda: lib.bk_store_begin(tx), lambda: lib.bk_query_new(tx, m)):
            with self.assertRaisesRegex(bk.MisuseError, "ended"):
                call()
        lib.bk_store_close(tx)          # idempotent on an ended transaction
        with self.assertRaisesRegex(bk.MisuseError, "not a transaction"):
            lib.bk_store_commit(h)
        lib.bk_store_close(h)
        with self.assertRaisesRegex(bk.MisuseError, "closed"):
            lib.bk_query_new(h, m)
        with self.assertRaises(TypeError):
            lib.bk_store_insert(object(), m, User(name="x", age=1))

    def test_open_errors(self):
        with self.assertRaises(bk.InvalidArgumentError):
            bk.Store("no-scheme")
        with self.assertRaises(bk.UnsupportedError):
            bk.Store("nosuch:db")
        with self.assertRaises(bk.IOError):
            bk.Store("sqlite:" + self.dir)          # a directory
        with self.assertRaises(bk.InvalidArgumentError):
            bk.Store(self.uri, pool_size=0)
        s = bk.Store(self.uri, pool_size=2, busy_timeout_ms=100, statement_cache=0)
        self.assertIn("app.db", repr(s))
        s.close()
        self.assertIn("closed", repr(s))


class SchemaTest(StoreCase):
    MIGRATIONS = [(1, "audit", "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL)"),
                  (2, "first", "INSERT INTO audit (what) VALUES ('created')")]

    def test_migrations_apply_once_and_detect_changes(self):
        self.assertEqual(self.store.pending(self.MIGRATIONS), 2)
        self.assertEqual(self.store.migrate(self.MIGRATIONS), 2)
        self.assertEqual(self.store.migrate(self.MIGRATIONS), 0)
        self.assertEqual(self.store.pending(self.MIGRATIONS), 0)
        changed = [self.MIGRATIONS[0], (2, "first", "INSERT INTO audit (what) VALUES ('x')")]
        with self.assertRaises(bk.ConflictError):
            self.store.migrate(changed)
        with self.assertRaises(bk.IOError):
            self.store.migrate(self.MIGRATIONS + [(3, "bad", "NOT SQL")])
        with self.assertRaises(TypeError):
            self.store.migrate([(1, "x")])

    def test_registration_reports_drift_and_diff_gives_the_sql(self):
        class User2(bk.Model, model_name="User"):
            id: int = bk.field(primary_key=True, auto=True)
            name: str
            nickname: str = ""

        self.assertIn('CREATE TABLE "people"', self.store.diff(User2, table="people"))
        self.assertEqual(self.store.diff(User), "")
        with self.assertRaises(bk.SchemaError) as cm:
            self.store.register(User2, table="users")
        e = cm.exception
        got = sorted((p["path"], p["code"]) for p in e.errors)
        self.assertIn(("$.users.nickname", "missing_column"), got)
        self.assertIn(("$.users.age", "extra_column"), got)
        sql = self.store.diff(User2, table="users")
        self.assertIn('ADD COLUMN "nickname"', sql)

    def test_default_table_names(self):
        class UserAccount(bk.Model):
            id: int = bk.field(primary_key=True)
        self.store.register(UserAccount)
        self.assertIn('"user_account"', self.store.diff(UserAccount, table="nope"
                                                         ).replace('"nope"', '"user_account"'))
        self.assertEqual(self.store.diff(UserAccount), "")


class ThreadTest(StoreCase):
    N = 300

    def test_two_threads_make_progress_together(self):
        """Each thread inserts and queries for at least half a second; their
        work interleaves in time (the GIL is released inside the C calls)
        and the row counts are exact."""
        spans = {}
        done = {}
        errors = []
        barrier = threading.Barrier(2)

        def work(tag):
            try:
                barrier.wait()
                start = time.perf_counter()
                marks = []
                i = 0
                while i < self.N or time.perf_counter() < start + 0.5:
                    self.store.insert(User(name="%s%d" % (tag, i % 10), age=i % 100,
                                           tags=[tag]))
                    i += 1
                    if i % 25 == 0:
                        n = self.store.query(User).where(User.name.startswith(tag)).count()
                        self.assertEqual(n, i)
                    marks.append(time.perf_counter())
                spans[tag] = (start, time.perf_counter(), marks)
                done[tag] = i
            except Exception as e:      # noqa: BLE001
                errors.append(e)

        ts = [threading.Thread(target=work, args=(t,)) for t in ("a", "b")]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(errors, [])
        q = self.store.query(User)
        self.assertEqual(q.count(), done["a"] + done["b"])
        self.assertEqual(q.where(User.name.startswith("a")).count(), done["a"])
        self.assertEqual(q.where(User.name.startswith("b")).count(), done["b"])
        self.assertGreaterEqual(min(done.values()), self.N)
        (a0, a1, am), (b0, b1, bm) = spans["a"], spans["b"]
        # each thread completed inserts while the other one was running
        both = (max(a0, b0), min(a1, b1))
        self.assertGreater(sum(both[0] < m < both[1] for m in am), 10)
        self.assertGreater(sum(both[0] < m < both[1] for m in bm), 10)

    def test_a_thread_blocked_in_c_does_not_stop_the_others(self):
        """Thread B waits inside C for the write lock that this thread holds
        (BEGIN IMMEDIATE, up to the busy timeout). If it held the GIL while
        waiting, this thread could not run Python code to finish its
        transaction: it does, and B gets the lock after the commit."""
        tx = self.store.transaction()
        tx.insert(User(name="holder", age=1))
        state = {}

        def blocked():
            state["start"] = time.perf_counter()
            with self.store.transaction() as t2:
                state["locked"] = time.perf_counter()
                t2.insert(User(name="waiter", age=2))
            state["done"] = True

        t = threading.Thread(target=blocked)
        t.start()
        time.sleep(0.05)
        progress = 0
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:       # Python work while B waits in C
            progress += 1
            tx.query(User).count()
        self.assertNotIn("locked", state)      # still waiting for the lock
        commit_at = time.perf_counter()
        tx.commit()
        t.join(10)
        self.assertTrue(state.get("done"))
        self.assertGreater(progress, 10)
        self.assertGreaterEqual(state["locked"], commit_at)
        self.assertEqual(sorted(u.name for u in self.store.query(User)), ["holder", "waiter"])

    def test_sequences_changed_by_another_thread_during_a_call(self):
        # The thin functions take lists; while a call waits without the GIL
        # (here for the write lock another transaction holds), another
        # thread empties the list: what C reads and writes back must not
        # have gone with it.
        s = bk.Store(self.uri, busy_timeout_ms=400)
        s.register(User)
        tx = self.store.transaction()
        tx.insert(User(name="lock", age=1))          # holds SQLite's write lock
        objs = [User(name="n%d" % i, age=1) for i in range(50)]
        fields = ["".join(["na", "me"]), "".join(["ag", "e"])]
        migrations = [(1, "m" * 50, "CREATE TABLE t_%s (x INTEGER)" % ("y" * 50))]
        calls = [
            (lambda: lib.bk_store_insert_many(s._h, User.__bk_model__, objs), objs),
            (lambda: lib.bk_store_update(s._h, User.__bk_model__, User(id=1, name="x", age=1),
                                         fields), fields),
            (lambda: lib.bk_store_migrate(s._h, migrations), migrations),
        ]
        for call, seq in calls:
            def clear():
                time.sleep(0.1)
                seq.clear()
                gc.collect()
            t = threading.Thread(target=clear)
            t.start()
            with self.assertRaises(bk.Error):
                call()                                # busy (or not found), never a crash
            t.join()
        tx.rollback()
        s.close()

    def test_close_waits_for_running_calls(self):
        stop = threading.Event()
        errs = []

        def reader():
            while not stop.is_set():
                try:
                    self.store.query(User).count()
                except bk.MisuseError:
                    return
                except Exception as e:          # noqa: BLE001
                    errs.append(e)
                    return

        ts = [threading.Thread(target=reader) for _ in range(2)]
        for t in ts:
            t.start()
        time.sleep(0.05)
        self.store.close()
        stop.set()
        for t in ts:
            t.join()
        self.assertEqual(errs, [])


if __name__ == "__main__":
    unittest.main()
