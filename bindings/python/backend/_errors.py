"""Exceptions: one class per C status, built from the C status enum.

The table below is generated at import time from the C library itself
(``bk_status_name(0..)``), so every status the library can return has a class.
``_SPEC`` only says how each is named and which builtin exception it also is;
a status the C library gains later without an entry here still gets a class
(``BK_EFOO`` -> ``FooError``, derived from :class:`Error`).

Hierarchy (docs/python.md, "Errors")::

    Error(Exception)                       BK_ERROR and the root of all
    +-- ValidationError(Error, ValueError)  BK_EVALIDATION  (422)  - any bad input
    |   +-- DecodeError                     BK_EDECODE      (400)  - wrong shape/type
    |       +-- JSONSyntaxError             BK_ESYNTAX      (400)  - not JSON
    |       +-- LimitError                  BK_ELIMIT       (400)  - a limit exceeded
    +-- OutOfMemoryError(Error, MemoryError)           BK_ENOMEM
    +-- InvalidArgumentError(Error, ValueError)        BK_EINVAL
    +-- MisuseError(Error, RuntimeError)               BK_EMISUSE
    +-- NotFoundError(Error, KeyError)                 BK_ENOTFOUND    (404)
    +-- ConflictError(Error)                           BK_ECONFLICT    (409)
    +-- BusyError(Error)                               BK_EBUSY        (503)
    +-- IOError(Error, OSError)                        BK_EIO
    +-- CallbackError(Error)                           BK_EUSER
    +-- ModelError(Error, TypeError)                   BK_EMODEL
    +-- UnsupportedError(Error, NotImplementedError)   BK_EUNSUPPORTED
    +-- InternalError(Error, RuntimeError)             BK_EINTERNAL
    +-- UnauthorizedError(Error, PermissionError)      BK_EUNAUTHORIZED (401)
    +-- TimeoutError(Error, builtins.TimeoutError)     BK_ETIMEOUT     (504)
    +-- SchemaError(Error)                             BK_ESCHEMA
    (BK_ITEROVER is not a failure: iterators end with StopIteration.)
"""
import builtins
import json

from . import _backend as _b

__all__ = ["Error", "error_class", "STATUS"]


class Error(Exception):
    """A libbackend failure.

    Attributes:
        code: the C status name (``"BK_EVALIDATION"``).
        status: the C status value (``7``).
        message: the C summary (``bk_error_message``).
        errors: every problem, as dicts ``{"path", "code", "message",
            "params"}`` plus ``"offset"``, ``"line"`` and ``"column"`` when
            the problem has a location in the input; exactly what the C
            accessors report (``params`` parsed from its JSON text).
        http_status: the HTTP status to answer with (``bk_error_http_status``).
        public_code: the body code (``"validation_failed"``).
        truncated: more problems were found than were recorded.
        record_index: for list decodes and streams, the element the error is
            about (-1 if none).
        handle: the ``_backend.bk_error`` (None when the problems were
            rewritten, as for lists and attribute assignments).
    """

    code = "BK_ERROR"
    status = 1

    def __init__(self, message="", *, errors=(), http_status=0, public_code=None,
                 truncated=False, record_index=-1, handle=None, status=None):
        super().__init__(message)
        if status is not None and status != type(self).status:
            self.status = status
            self.code = _b.bk_status_name(status)
        self.message = message
        self.errors = list(errors)
        self.http_status = http_status or _default_http(self.status)
        self.public_code = public_code or _PUBLIC.get(self.code, "internal")
        self.truncated = truncated
        self.record_index = record_index
        self.handle = handle
        self._params_text = [json.dumps(e["params"], ensure_ascii=False, separators=(",", ":"))
                             for e in self.errors]

    def __str__(self):
        return self.message

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.message)

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.errors, self.http_status,
                           self.public_code, self.truncated, self.record_index))

    def to_json(self, problem_json=False, statuses=None):
        """The HTTP response body (``bk_error_to_json``): a str.

        ``problem_json=True`` writes RFC 9457 ``application/problem+json``;
        ``statuses`` maps C statuses to HTTP statuses to override defaults
        (``{bk.ValidationError.status: 400}``).
        """
        if self.handle is not None:
            opts = None
            if problem_json or statuses:
                opts = _b.bk_http_options()
                opts.problem_json = bool(problem_json)
                for st, http in (statuses or {}).items():
                    opts.set_status(int(st), int(http))
            return _b.bk_error_to_json(self.handle, opts)
        return _body(self, problem_json, statuses)

    @property
    def body(self):
        """The default response body as a dict."""
        return json.loads(self.to_json())


def _rebuild(cls, message, errors, http_status, public_code, truncated, record_index):
    return cls(message, errors=errors, http_status=http_status, public_code=public_code,
               truncated=truncated, record_index=record_index)


# status name -> (class name, parent class name or None for Error, builtin mixins)
_SPEC = {
    "BK_ERROR": ("Error", None, ()),
    "BK_EVALIDATION": ("ValidationError", None, (ValueError,)),
    "BK_EDECODE": ("DecodeError", "ValidationError", ()),
    "BK_ESYNTAX": ("JSONSyntaxError", "DecodeError", ()),
    "BK_ELIMIT": ("LimitError", "DecodeError", ()),
    "BK_ENOMEM": ("OutOfMemoryError", None, (MemoryError,)),
    "BK_EINVAL": ("InvalidArgumentError", None, (ValueError,)),
    "BK_EMISUSE": ("MisuseError", None, (RuntimeError,)),
    "BK_ENOTFOUND": ("NotFoundError", None, (KeyError,)),
    "BK_ECONFLICT": ("ConflictError", None, ()),
    "BK_EBUSY": ("BusyError", None, ()),
    "BK_EIO": ("IOError", None, (OSError,)),
    "BK_EUSER": ("CallbackError", None, ()),
    "BK_EMODEL": ("ModelError", None, (TypeError,)),
    "BK_EUNSUPPORTED": ("UnsupportedError", None, (NotImplementedError,)),
    "BK_EINTERNAL": ("InternalError", None, (RuntimeError,)),
    "BK_ITEROVER": ("IterationOver", None, (StopIteration,)),
    "BK_EUNAUTHORIZED": ("UnauthorizedError", None, (PermissionError,)),
    "BK_ETIMEOUT": ("TimeoutError", None, (builtins.TimeoutError,)),
    "BK_ESCHEMA": ("SchemaError", None, ()),
}

_PUBLIC = {
    "BK_ESYNTAX": "invalid_json", "BK_EDECODE": "invalid_body", "BK_ELIMIT": "limit_exceeded",
    "BK_EVALIDATION": "validation_failed", "BK_ENOTFOUND": "not_found",
    "BK_ECONFLICT": "conflict", "BK_EUNAUTHORIZED": "unauthorized", "BK_EBUSY": "busy",
    "BK_ETIMEOUT": "timeout",
}

_HTTP = {
    "BK_ESYNTAX": 400, "BK_EDECODE": 400, "BK_ELIMIT": 400, "BK_EVALIDATION": 422,
    "BK_EUNAUTHORIZED": 401, "BK_ENOTFOUND": 404, "BK_ECONFLICT": 409, "BK_EBUSY": 503,
    "BK_ETIMEOUT": 504,
}


def _default_http(status):
    """The default HTTP status of a C status (validate.h), for errors
    raised without an error handle."""
    return _HTTP.get(_b.bk_status_name(status), 500)


def _c_statuses():
    """Every status of the C enum: (value, name), from the library."""
    out = []
    for value in range(64):
        name = _b.bk_status_name(value)
        if name == "BK_UNKNOWN":
            break
        out.append((value, name))
    return out


def _camel(name):
    # BK_EFOO_BAR -> FooBarError
    base = name[4:] if name.startswith("BK_E") else name[3:]
    return "".join(p.capitalize() for p in base.lower().split("_")) + "Error"


STATUS = {}        # C status value -> exception class
_CLASSES = {}      # class name -> class


def _build_table():
    statuses = _c_statuses()
    names = {name: value for value, name in statuses}
    pending = [n for n in _SPEC if n in names] + [n for n in names if n not in _SPEC and n != "BK_OK"]
    while pending:
        progressed = False
        for sname in list(pending):
            cname, parent, mixins = _SPEC.get(sname, (_camel(sname), None, ()))
            if parent and parent not in _CLASSES:
                continue
            pending.remove(sname)
            progressed = True
            if cname == "Error":
                cls = Error
            else:
                base = _CLASSES[parent] if parent else Error
                doc = "libbackend status %s (%d)." % (sname, names[sname])
                cls = type(cname, (base,) + tuple(mixins), {"__doc__": doc, "__module__": "backend"})
            cls.code = sname
            cls.status = names[sname]
            _CLASSES[cname] = cls
            STATUS[names[sname]] = cls
        if not progressed:
            raise RuntimeError("error table: unresolved parents for %r" % pending)


def error_class(status):
    """The exception class of a C status (an int or its name)."""
    if isinstance(status, str):
        for value, cls in STATUS.items():
            if cls.code == status:
                return cls
        raise KeyError(status)
    return STATUS.get(status, Error)


def _problem(p):
    path, code, message, params, offset, line, column = p
    d = {"path": path, "code": code, "message": message, "params": json.loads(params)}
    if line:
        d["offset"] = offset
        d["line"] = line
        d["column"] = column
    return d


def _factory(status, message, problems, http_status, public_code, truncated, record_index,
             handle):
    """Called by the C half for every failure: builds the exception."""
    cls = STATUS.get(status, Error)
    exc = cls(message, errors=[_problem(p) for p in problems], http_status=http_status,
              public_code=public_code, truncated=bool(truncated), record_index=record_index,
              handle=handle, status=status)
    exc._params_text = [p[3] for p in problems]    # as C wrote them, for bodies
    return exc


# ---- response bodies for errors without a handle (the same text as C) --------------

_REASON = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           409: "Conflict", 413: "Content Too Large", 422: "Unprocessable Content",
           429: "Too Many Requests", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _jstr(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif o < 0x20:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _details(errors, params):
    items = []
    for e, ptext in zip(errors, params):
        s = "{\"path\":%s,\"code\":%s,\"message\":%s,\"params\":%s" % (
            _jstr(e["path"]), _jstr(e["code"]), _jstr(e["message"]), ptext)
        if e.get("line"):
            s += ",\"line\":%d,\"column\":%d" % (e["line"], e["column"])
        items.append(s + "}")
    return "[" + ",".join(items) + "]"


def _body(err, problem_json, statuses):
    http = int((statuses or {}).get(err.status, err.http_status))
    internal = http >= 500
    msg = "internal error" if internal else err.message
    code = err.public_code
    if problem_json:
        reason = _REASON.get(http, "Internal Server Error" if http >= 500 else "Error")
        s = "{\"type\":\"about:blank\",\"title\":%s,\"status\":%d,\"detail\":%s,\"code\":%s" % (
            _jstr(reason), http, _jstr(msg), _jstr(code))
        if not internal and err.errors:
            s += ",\"errors\":" + _details(err.errors, err._params_text)
        return s + "}"
    s = "{\"error\":{\"message\":%s,\"code\":%s,\"status\":%d" % (_jstr(msg), _jstr(code), http)
    if not internal and err.errors:
        s += ",\"details\":" + _details(err.errors, err._params_text)
    return s + "}}"


_build_table()
_b.set_error_factory(_factory)
