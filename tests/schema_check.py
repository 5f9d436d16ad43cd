#!/usr/bin/python3
"""schema_check.py FILE: validate JSON inputs against JSON Schemas with
python3-jsonschema, for tests/test_schema.c (an independent validator).

FILE holds [{"schema": "<schema text>", "inputs": ["<JSON text>", ...]}, ...]
(texts, not values: Python's json reads integers beyond 64 bits exactly).
Prints "formats <name>,<name>..." (the formats its FormatChecker checks:
some need optional packages), then one line per case with one character
per input: "1" valid, "0" invalid. Every schema is first checked against the draft 2020-12
metaschema; a schema error prints "E <message>" and exits 1.
Exits 77 when jsonschema is not installed.
"""
import json
import sys

try:
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import SchemaError
except ImportError:
    print("skip: python3-jsonschema is not installed")
    sys.exit(77)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    print("formats " + ",".join(sorted(FormatChecker().checkers)))
    for case in cases:
        schema = json.loads(case["schema"])
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as e:
            print("E " + str(e.message))
            return 1
        v = Draft202012Validator(schema, format_checker=FormatChecker())
        print("".join("1" if v.is_valid(json.loads(t)) else "0" for t in case["inputs"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
