#!/usr/bin/env python3
"""users.py - the Python side of DESIGN.md's User example (docs/python.md).

Run from a build tree:
    PYTHONPATH=<build>/python python3 examples/python/users.py
or after `cmake --install` with PYTHONPATH=<prefix>/lib/python3.11/dist-packages.

It declares the User model with annotations, decodes and validates request
bodies with the C library, answers bad ones the way an HTTP handler would
(status + JSON body), encodes a list of users, and shows that a model
written as a description document - by this class, or by a C service - loads
back into a class that reads and writes the same bytes.
"""
import json
from datetime import datetime, timezone
from typing import Literal, Optional

import backend as bk


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
    tags: list[str] = bk.field(default=[], max_items=10, each={"pattern": "^[a-z0-9-]{1,32}$"})
    address: Optional[Address] = None
    created_at: datetime


def handle_signup(body: bytes):
    """A request handler: (status, response body)."""
    try:
        user = User.from_json(body)          # decoded and validated by the C library
    except bk.ValidationError as e:          # also DecodeError / JSONSyntaxError (400)
        return e.http_status, e.to_json()
    user.id = 42                              # as if a store had assigned it
    return 201, user.to_json().decode()


def main():
    ok = (b'{"name": "Zo\xc3\xab", "email": "zoe@example.com", "age": 30, "tags": ["rust"],'
          b' "address": {"street": "1 Main St", "city": "Berlin", "zip": "10115"},'
          b' "createdAt": "2024-03-01T12:30:00+02:00"}')
    status, body = handle_signup(ok)
    print(status, body)

    bad = b'{"name": "", "email": "nope", "age": 200, "createdAt": "2024-03-01T12:30:00Z"}'
    status, body = handle_signup(bad)
    print(status, body)

    broken = b'{"name": "Ana",\n "age": 30,,}'
    status, body = handle_signup(broken)
    print(status, body)

    # Every problem, as the C library reports it.
    try:
        User.from_json(b'{"name": 5, "email": "a@b.co", "age": 1, "createdAt": "x", "extra": 1}')
    except bk.DecodeError as e:
        for p in e.errors:
            print("  %-12s %-14s %s" % (p["path"], p["code"], p["message"]))

    # Building instances in Python: the same checks (the constructor decodes).
    ana = User(name="Ana", email="ana@example.com", age=31,
               created_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    ana.tags.append("python")                 # in-place changes are encoded too
    print(ana)
    print(ana.to_json().decode())

    # Lists: decoded and encoded by C with the GIL released.
    users = User.from_json_list(b"[" + ana.to_json() + b"," + ana.to_json() + b"]")
    users[1].name = "Bo"
    print(bk.encode_list(users).decode())

    # One definition, shared: the description document loads back as a class
    # that reads and writes the same bytes (a C service can load it too).
    doc = User.to_doc()
    Shared = bk.Model.from_doc(doc)
    same = Shared.from_json(ana.to_json())
    assert same.to_json() == ana.to_json()
    print("document:", len(doc), "bytes; JSON Schema properties:",
          ", ".join(User.model_json_schema()["$defs"]["User"]["properties"]))
    print(json.dumps(User.model_json_schema()["$defs"]["User"]["properties"]["age"]))


if __name__ == "__main__":
    main()
