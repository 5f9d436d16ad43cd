"""Python functions as custom validators: ``@bk.field_validator`` and
``@bk.model_validator`` (pydantic v2's names, ``mode="after"``).

A class's validators are written into its model description document as
validator names (the field's or the model's ``validator`` attribute), and
the C model is loaded with ``bk_model_from_doc_ex`` and a resolver that
returns one check per name (see src/pyvalid.c). The C library calls the
checks wherever the model validates - on decode (with or without the GIL:
the trampoline takes it), in ``validate()``, for nested models, list items
and map values - with the value encoded as JSON; the check converts it to
the Python value (a field's value as the attribute would read it, or an
instance for a model validator), calls the functions, and turns
``ValueError``/``AssertionError``/:class:`ValidationProblem` into problems
``custom:<code>`` at the right path. Other exceptions propagate out of the
call that validated (as in pydantic).

The checks hold their class weakly, so the C model (which holds the checks)
never keeps a class alive.
"""
import json
import weakref

__all__ = ["field_validator", "model_validator", "ValidationProblem"]


class ValidationProblem(ValueError):
    """Raise from a validator to report a problem with a code of your own
    (reported as ``custom:<code>``), parameters (a dict, written as the
    problem's ``params``) and, from a model validator, the field it concerns
    (``path="end"`` reports it at ``$.end``)::

        raise bk.ValidationProblem("end_before_start", "end must not be before start",
                                   {"start": self.start}, path="end")
    """

    def __init__(self, code, message, params=None, *, path=None):
        super().__init__(message)
        if not isinstance(code, str) or not code:
            raise TypeError("ValidationProblem: code must be a non-empty str")
        if params is not None and not isinstance(params, dict):
            raise TypeError("ValidationProblem: params must be a dict")
        self.code = code
        self.message = str(message)
        self.params = params
        self.path = path


class _Spec:
    """What the decorators leave in the class body: the function and what it
    validates. Reading it from the class gives the function itself (a
    classmethod for field validators), so it stays callable."""

    __slots__ = ("func", "fields", "kind", "check_fields", "__name__", "__dict__")

    def __init__(self, func, fields, kind, check_fields=True):
        self.func = func
        self.check_fields = check_fields
        self.fields = fields            # field validators: field names; model: None
        self.kind = kind                # "field" or "model"
        inner = getattr(func, "__func__", func)
        self.__name__ = inner.__name__
        self.__doc__ = inner.__doc__

    def __get__(self, obj, owner=None):
        f = self.func
        if self.kind == "field" and not isinstance(f, (classmethod, staticmethod)):
            f = classmethod(f)
        return f.__get__(obj, owner)

    def call(self, cls, value):
        f = self.func
        if isinstance(f, staticmethod):
            return f.__func__(value)
        if isinstance(f, classmethod):
            return f.__func__(cls, value)
        if self.kind == "field":
            return f(cls, value)        # pydantic: field validators are classmethods
        return f(value)                 # model validators: instance methods


def _check_mode(mode):
    if mode != "after":
        raise NotImplementedError("mode=%r: only mode='after' validators are supported "
                                  "(they see the decoded value)" % (mode,))


def field_validator(field, /, *fields, mode="after", check_fields=True):
    """Decorate a method validating one or more fields (``mode="after"``:
    it receives the decoded Python value, after the field's constraints)::

        @bk.field_validator("name")
        @classmethod
        def no_space(cls, v):
            if " " in v:
                raise ValueError("must not contain spaces")
            return v

    Raise ``ValueError``/``AssertionError`` (code ``custom:<function name>``)
    or :class:`ValidationProblem` (a code of your own). The return value is
    ignored: validators check, they do not transform. ``"*"`` validates every
    field. Fields of nested models, list items and map values are validated
    wherever the model is used, with their full paths.
    """
    _check_mode(mode)
    names = (field,) + fields
    for n in names:
        if not isinstance(n, str):
            raise TypeError("field_validator: give field names as strings "
                            "(@bk.field_validator('name'), not @bk.field_validator)")

    def deco(func):
        return _Spec(func, names, "field", check_fields)
    return deco


def model_validator(func=None, /, *, mode="after"):
    """Decorate an instance method validating the whole model after its
    fields (cross-field rules); it receives the instance::

        @bk.model_validator(mode="after")
        def check_span(self):
            if self.end < self.start:
                raise bk.ValidationProblem("end_before_start", "end must not be before start",
                                           path="end")
            return self
    """
    _check_mode(mode)
    if func is not None:
        return _Spec(func, None, "model")
    return lambda f: _Spec(f, None, "model")


# ---- classes -> names in documents -----------------------------------------------

def _specs(cls):
    """The validators of a class and its bases (subclasses inherit them;
    a method of the same name overrides), in definition order."""
    found = {}
    for base in reversed(cls.__mro__):
        for name, v in base.__dict__.items():
            if isinstance(v, (classmethod, staticmethod)) and isinstance(v.__func__, _Spec):
                v = v.__func__
            if isinstance(v, _Spec):
                found.pop(name, None)
                found[name] = v
            elif name in found:
                del found[name]         # overridden by something that is not a validator
    return list(found.values())


class _Plan:
    """A class's validators by field (declared name) and for the model."""

    __slots__ = ("fields", "model")

    def __init__(self):
        self.fields = {}
        self.model = []


def annotate(cls, raw, fields):
    """Put the validator names of cls into its description (raw: the model's
    document entry; fields: its _FieldSpec list) and remember the plan."""
    plan = _Plan()
    names = [f.name for f in fields]
    for spec in _specs(cls):
        if spec.kind == "model":
            plan.model.append(spec)
            continue
        targets = names if "*" in spec.fields else spec.fields
        for fname in targets:
            if fname not in names:
                if not spec.check_fields:
                    continue            # a field of subclasses
                raise TypeError("%s: @field_validator %s names no field %r"
                                % (cls.__name__, spec.__name__, fname))
            plan.fields.setdefault(fname, []).append(spec)
    for f in fields:
        specs = plan.fields.get(f.name)
        if specs and "validator" not in f.raw:
            f.raw["validator"] = ",".join(s.__name__ for s in specs)
    if plan.model and "validator" not in raw:
        raw["validator"] = ",".join(s.__name__ for s in plan.model)
    type.__setattr__(cls, "_bk_validators", plan)


def attach(cls, raw, functions):
    """The plan of a class loaded from a document (raw: its model entry):
    each validator name it carries taken from functions (name -> callable).
    A name functions lacks stays unresolved, so the load fails with
    BK_EMODEL naming the model and field."""
    plan = _Plan()

    def specs(names, fields, kind):
        wanted = names.split(",")
        out = []
        for name in wanted:
            fn = functions.get(name)
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError("validators[%r] is not callable" % name)
            spec = _Spec(staticmethod(fn), fields, kind)
            spec.__name__ = name
            out.append(spec)
        return out if len(out) == len(wanted) else None

    for f in raw["fields"]:
        names = f.get("validator")
        if names:
            found = specs(names, [f["name"]], "field")
            if found:
                plan.fields[f["name"]] = found
    if raw.get("validator"):
        found = specs(raw["validator"], None, "model")
        if found:
            plan.model = found
    type.__setattr__(cls, "_bk_validators", plan)


# ---- checks -------------------------------------------------------------------------

def _problem(exc, default_code):
    """(path_suffix, code, message, params_json) of a validation exception."""
    if isinstance(exc, ValidationProblem):
        params = None if exc.params is None else json.dumps(exc.params, ensure_ascii=False,
                                                           default=str)
        return (exc.path, exc.code, exc.message, params)
    msg = str(exc) or ("assertion failed" if isinstance(exc, AssertionError)
                       else type(exc).__name__)
    return (None, default_code, msg, None)


def _run(specs, cls, value):
    """Call the validators in order; the first failure is the problem (as
    pydantic stops a field's chain at its first error)."""
    for spec in specs:
        try:
            spec.call(cls, value)
        except (ValueError, AssertionError) as e:
            return [_problem(e, spec.__name__)]
    return None


def _field_check(cls, fname, specs, value_from_json):
    ref = weakref.ref(cls)

    def check(data):
        c = ref()
        if c is None:
            return None
        value = value_from_json(c, fname, json.loads(data))
        return _run(specs, c, value)
    return check


def _model_check(cls, specs):
    ref = weakref.ref(cls)

    def check(data):
        c = ref()
        if c is None:
            return None
        inst = c._bk_from_json(data, skip_validation=True)
        for spec in specs:
            try:
                spec.call(c, inst)
            except (ValueError, AssertionError) as e:
                return [_problem(e, spec.__name__)]
        return None
    return check


def resolver(classes, value_from_json):
    """The resolver for bk_model_from_doc_ex: classes maps model names to
    the classes of one document; value_from_json(cls, field, json_value)
    gives a field's Python value."""
    def resolve(model, field, name):
        cls = classes.get(model)
        plan = cls.__dict__.get("_bk_validators") if cls is not None else None
        if plan is None:
            return None
        if field is None:
            return _model_check(cls, plan.model) if plan.model else None
        specs = plan.fields.get(field)
        return _field_check(cls, field, specs, value_from_json) if specs else None
    return resolve
