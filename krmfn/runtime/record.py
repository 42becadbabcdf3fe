"""`record`: the part of `dataclasses` the runtime uses, without its import cost.

`import dataclasses` pulls in `inspect` (and with it `ast`, `dis`, `tokenize`, `linecache`): about
10 ms of every function call's start-up, a third of `import yaml`. A record class names its fields
as annotated class attributes (a class attribute is the default; a `list`/`dict` default is copied
per instance) and gets keyword-or-positional `__init__`, `__repr__`, `__eq__`, `replace()`, and
when frozen, immutability and `__hash__`.
"""

from __future__ import annotations

_MUTABLE = (list, dict, set)


def record(cls=None, *, frozen: bool = False, eq: bool = True):
    """`eq=False`: instances compare (and hash) by identity, as `dataclass(eq=False)`."""
    def wrap(cls):
        names = [name for name in cls.__dict__.get("__annotations__", {}) if not name.startswith("_")]
        defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}

        def __init__(self, *args, **kwargs):
            if len(args) > len(names):
                raise TypeError(f"{cls.__name__}() takes at most {len(names)} positional arguments")
            values = dict(zip(names, args))
            for key, value in kwargs.items():
                if key not in names:
                    raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {key!r}")
                if key in values:
                    raise TypeError(f"{cls.__name__}() got multiple values for argument {key!r}")
                values[key] = value
            for name in names:
                if name not in values:
                    if name not in defaults:
                        raise TypeError(f"{cls.__name__}() missing required argument {name!r}")
                    default = defaults[name]
                    values[name] = type(default)(default) if isinstance(default, _MUTABLE) else default
                object.__setattr__(self, name, values[name])
            post_init = getattr(self, "__post_init__", None)
            if post_init is not None:
                post_init()

        def _values(self):
            return tuple(getattr(self, name) for name in names)

        def __repr__(self):
            return f"{cls.__name__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

        def __eq__(self, other):
            if other.__class__ is not self.__class__:
                return NotImplemented
            return _values(self) == _values(other)

        def replace(self, **changes):
            """A copy with `changes` (as `dataclasses.replace`)."""
            return cls(**{**{name: getattr(self, name) for name in names}, **changes})

        cls.__init__, cls.__repr__, cls.replace = __init__, __repr__, replace
        if eq:
            cls.__eq__ = __eq__
        cls.__match_args__ = tuple(names)
        if frozen:
            def __setattr__(self, name, value):
                raise AttributeError(f"{cls.__name__} is frozen: cannot assign {name!r}")

            cls.__setattr__ = __setattr__
            cls.__delattr__ = __setattr__
        if eq:
            cls.__hash__ = (lambda self: hash(_values(self))) if frozen else None
        for name in names:  # instance values live on the instance; drop the class-level defaults
            if name in cls.__dict__:
                delattr(cls, name)
        return cls

    return wrap if cls is None else wrap(cls)
