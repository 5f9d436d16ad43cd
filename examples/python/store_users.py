#!/usr/bin/env python3
"""store_users.py - storage from Python (docs/python.md, "Storage").

Run from a build tree:
    PYTHONPATH=<build>/python python3 examples/python/store_users.py [sqlite URI]

The default URI is a file in a fresh temporary directory. It applies
migrations, registers the User model as a table, inserts (generated keys,
validation and unique errors), reads and updates, runs typed queries with
keyset pagination, uses transactions (commit, rollback, a savepoint, a
retried one), shows a drift report and two threads writing at once.
"""
import os
import sys
import tempfile
import threading
from datetime import datetime, timezone
from typing import Literal, Optional

import backend as bk


class User(bk.Model, rename_all="camelCase"):
    __tablename__ = "users"
    id: int = bk.field(primary_key=True, auto=True)
    name: str = bk.field(min_len=1, max_len=100)
    email: str = bk.field(format="email", unique=True)
    age: bk.i32 = bk.field(ge=0, le=150, index=True)
    role: Literal["admin", "member", "guest"] = "member"
    tags: list[str] = []
    city: Optional[str] = None
    created_at: datetime


MIGRATIONS = [
    (1, "audit log", "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL)"),
    (2, "first entry", "INSERT INTO audit (what) VALUES ('created')"),
]

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


def main():
    tmp = None
    if len(sys.argv) > 1:
        uri = sys.argv[1]
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bk-example-")
        uri = "sqlite:" + os.path.join(tmp.name, "users.db")

    with bk.Store(uri) as store:
        print("migrations applied:", store.migrate(MIGRATIONS))
        store.register(User)                      # CREATE TABLE users (...) or a drift check

        # Insert: validated first, the generated key is written back.
        ana = store.insert(User(name="Ana", email="ana@example.com", age=31, tags=["py"],
                                created_at=NOW))
        print("inserted", ana.id, ana.name)
        try:
            store.insert(User(name="Bo", email="ana@example.com", age=20, created_at=NOW))
        except bk.ConflictError as e:             # unique email: 409
            print(e.http_status, e)
        try:
            store.insert(_too_old())
        except bk.ValidationError as e:           # constraints, before any SQL: 422
            print(e.http_status, [(p["path"], p["code"]) for p in e.errors])

        # A batch, all or nothing.
        store.insert_many(User(name="user%02d" % i, email="u%d@example.com" % i, age=18 + i,
                               role="guest" if i % 4 == 0 else "member",
                               city="Paris" if i % 3 == 0 else None, created_at=NOW)
                          for i in range(30))

        # Read, change, write back.
        u = store.get(User, ana.id)
        u.age += 1
        u.tags.append("admin-ish")
        store.update(u)
        print("updated:", store.get(User, ana.id).to_json().decode())
        try:
            store.get(User, 10_000)
        except KeyError as e:                     # bk.NotFoundError is a KeyError
            print("missing:", type(e).__name__, e)

        # Typed queries: comparisons on class attributes bind their values.
        adults = (store.query(User)
                  .where(User.age >= 40, (User.role == "guest") | User.city.is_not_null())
                  .order_by(User.age.desc())
                  .limit(5))
        print("count:", adults.count(), "first page:", [(x.name, x.age) for x in adults])
        print("names starting with user1:",
              store.query(User).where(User.name.startswith("user1")).count())

        # Keyset pagination: each page continues after the last row seen.
        q = store.query(User).order_by(User.age).limit(12)
        token, pages = None, []
        while True:
            page = q.page(token)
            pages.append(len(page))
            token = page.next_token
            if token is None:
                break
        print("pages:", pages)

        # Transactions: commit on success, roll back on an exception.
        with store.transaction() as tx:
            tx.insert(User(name="Cy", email="cy@example.com", age=40, created_at=NOW))
            with tx.transaction() as sp:          # a savepoint
                sp.delete(User, ana.id)
                sp.rollback()                     # Ana is kept
        try:
            with store.transaction() as tx:
                tx.insert(User(name="Di", email="di@example.com", age=50, created_at=NOW))
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
        print("Cy kept, Di rolled back:",
              store.query(User).where(User.name.in_(["Cy", "Di"])).count())

        # A transaction that is retried when the database is busy.
        def bump_all(tx):
            for x in tx.query(User).where(User.role == "guest").all():
                x.age += 1
                tx.update(x, fields=["age"])
            return tx.query(User).where(User.role == "guest").count()
        print("guests bumped:", store.transact(bump_all))

        # Two threads writing at once (the GIL is released inside C).
        def writer(tag):
            for i in range(50):
                store.insert(User(name="%s%d" % (tag, i), email="%s%d@example.com" % (tag, i),
                                  age=30, created_at=NOW))
        ts = [threading.Thread(target=writer, args=(t,)) for t in ("t1-", "t2-")]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        print("rows:", store.query(User).count())

        # A model that no longer matches its table: a drift report and the SQL.
        class UserV2(bk.Model, model_name="User"):
            id: int = bk.field(primary_key=True, auto=True)
            name: str
            email: str = bk.field(unique=True)
            nickname: str = ""

        print(store.diff(UserV2, table="users").splitlines()[0])
        try:
            store.register(UserV2, table="users")
        except bk.SchemaError as e:
            print("drift:", sorted({p["code"] for p in e.errors}))

    if tmp is not None:
        tmp.cleanup()


def _too_old():
    u = User(name="Old", email="old@example.com", age=1, created_at=NOW)
    u.age = 200                                   # assignment checks the type, not constraints
    u.name = ""
    return u


if __name__ == "__main__":
    main()
