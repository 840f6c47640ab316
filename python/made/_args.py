"""_args.py - checking what callers pass and turning it into made's C values.

Every check raises ValueError (or TypeError for a wrong kind of object) naming
the argument, before anything reaches the library.
"""
import ctypes as C
import numbers
import os
import re

import numpy as np

from . import _lib
from ._lib import lib


class ArgTypeError(TypeError, ValueError):
    """A wrong kind of argument: both a TypeError and a ValueError."""


ORDERS = {"left-to-right": 0, "right-to-left": 1, "random": 2}
DEGREES = {"equal": 0, "random": 1}


def is_int(v):
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, (bool, np.bool_))


def integer(name, v, lo, hi):
    if not is_int(v):
        raise ArgTypeError("%s: expected an integer, got %r" % (name, v))
    v = int(v)
    if v < lo or v > hi:
        raise ValueError("%s: %d is out of range (%d to %d)" % (name, v, lo, hi))
    return v


def real(name, v, lo, hi):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Real, np.floating, np.integer)):
        raise ArgTypeError("%s: expected a number, got %r" % (name, v))
    v = float(v)
    if not (lo <= v <= hi):
        raise ValueError("%s: %r is out of range (%g to %g)" % (name, v, lo, hi))
    return v


def flag(name, v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if is_int(v) and int(v) in (0, 1):
        return bool(v)
    raise ArgTypeError("%s: expected True or False, got %r" % (name, v))


def choice(name, v, options):
    if not isinstance(v, str) or v not in options:
        raise ValueError("%s: invalid value %r (expected one of: %s)"
                         % (name, v, ", ".join(options)))
    return options[v] if isinstance(options, dict) else v


def rank1_size(name, v):
    """TFP's event shapes: an int E or a rank-1 shape [E]."""
    if v is None:
        return None
    if is_int(v):
        return integer(name, v, 1, 1 << 30)
    try:
        dims = list(v)
    except TypeError:
        raise ArgTypeError("%s: expected an int or a rank-1 shape such as [3], got %r" % (name, v))
    if len(dims) != 1:
        raise ValueError("%s: only rank-1 shapes are supported (got %r)" % (name, v))
    return integer(name, dims[0], 1, 1 << 30)


def hidden_units(v):
    if v is None:
        return []
    if is_int(v):
        raise ArgTypeError("hidden_units: expected a list of layer sizes such as [64, 64], got %r" % v)
    try:
        units = list(v)
    except TypeError:
        raise ArgTypeError("hidden_units: expected a list of layer sizes, got %r" % (v,))
    if len(units) > _lib.MAX_HIDDEN:
        raise ValueError("hidden_units: %d layers; at most %d are supported"
                         % (len(units), _lib.MAX_HIDDEN))
    return [integer("hidden_units[%d]" % i, u, 1, 1 << 30) for i, u in enumerate(units)]


def input_order(v):
    """Returns (kind, explicit 1-based order or None)."""
    if isinstance(v, str):
        return choice("input_order", v, ORDERS), None
    try:
        order = list(v)
    except TypeError:
        raise ArgTypeError("input_order: expected 'left-to-right', 'right-to-left', 'random' or "
                        "a 1-based permutation such as [2, 3, 1], got %r" % (v,))
    for i, o in enumerate(order):
        if not is_int(o):
            raise ArgTypeError("input_order[%d]: expected an integer, got %r" % (i, o))
        if not 1 <= int(o) <= 1 << 30:
            raise ValueError("input_order: %r is not a 1-based position (expected a "
                             "permutation of 1..%d)" % (int(o), len(order)))
    if not order:
        raise ValueError("input_order: an explicit order needs at least one entry")
    return 3, [int(o) for o in order]


def activation(v):
    if v is None:
        return 0
    if not isinstance(v, str):
        raise ArgTypeError("activation: expected None or a Keras activation name such as "
                        "'relu', got %r" % (v,))
    out = C.c_int()
    _lib.check(lib.made_activation_parse(text("activation", v), C.byref(out)))
    return out.value


def text(name, v):
    if not isinstance(v, str):
        raise ArgTypeError("%s: expected a string, got %r" % (name, v))
    if "\0" in v:
        raise ValueError("%s: contains a NUL character" % name)
    return v.encode("utf-8")


def path(name, v):
    if isinstance(v, bytes):
        p = v
    else:
        try:
            p = os.fsencode(v)
        except TypeError:
            raise ArgTypeError("%s: expected a file path, got %r" % (name, v))
    if b"\0" in p:
        raise ValueError("%s: the path contains a NUL character" % name)
    if not p:
        raise ValueError("%s: empty path" % name)
    return p


def _camel_to_snake(s):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", s).lower()


def initializer(name, v):
    """made's form ('glorot_uniform', 'constant:0.5', ...), a Keras class name
    ('GlorotUniform') or a Keras serialised dict {'class_name', 'config'}."""
    if isinstance(v, dict):
        v = initializer_text_from_keras(name, v.get("class_name"), v.get("config") or {})
    elif isinstance(v, str) and re.match(r"^[A-Z][A-Za-z]*$", v):
        v = _camel_to_snake(v)
    out = _lib.Initializer()
    st = lib.made_initializer_parse(text(name, v), C.byref(out))
    if st:
        raise ValueError("%s: %s" % (name, _lib.last_error()))
    return out


def initializer_text_from_keras(name, class_name, cfg):
    if not isinstance(class_name, str):
        raise ValueError("%s: a Keras initializer needs a class_name" % name)
    kind = _camel_to_snake(class_name)
    aliases = {"zeros": "zeros", "zero": "zeros", "ones": "ones", "one": "ones"}
    kind = aliases.get(kind, kind)
    num = lambda key, default: repr(float(cfg.get(key, default)))
    if kind == "constant":
        return "constant:" + num("value", 0.0)
    if kind == "random_uniform":
        return "random_uniform:%s,%s" % (num("minval", -0.05), num("maxval", 0.05))
    if kind in ("random_normal", "truncated_normal"):
        return "%s:%s,%s" % (kind, num("mean", 0.0), num("stddev", 0.05))
    if kind == "variance_scaling":
        return "variance_scaling:scale=%s,mode=%s,distribution=%s" % (
            num("scale", 1.0), cfg.get("mode", "fan_in"),
            cfg.get("distribution", "truncated_normal"))
    return kind


def initializer_text(init):
    buf = C.create_string_buffer(256)
    lib.made_initializer_format(buf, 256, C.byref(init))
    return buf.value.decode()


def dist(v):
    out = _lib.Dist()
    st = lib.made_dist_parse(text("dist", v), C.byref(out))
    if st:
        raise ValueError("dist: %s" % _lib.last_error())
    return out


def dist_text(d):
    buf = C.create_string_buffer(64)
    lib.made_dist_format(buf, 64, d)
    return buf.value.decode()


def seed(v, bits=32):
    if v is None:
        return 0
    return integer("seed", v, 0, (1 << bits) - 1)


def floats(name, v, width=None, min_ndim=1):
    """A float32 C-contiguous view of v (no copy when it already is one)."""
    if v is None:
        raise ArgTypeError("%s: expected an array, got None" % name)
    try:
        a = v if isinstance(v, np.ndarray) else np.asarray(v)
    except (ValueError, TypeError) as e:  # ragged nested lists
        raise ValueError("%s: expected a rectangular array of numbers (%s)" % (name, e)) from None
    if a.dtype.kind not in "biuf":
        raise ArgTypeError("%s: expected an array of numbers, got dtype %s" % (name, a.dtype))
    if a.ndim < min_ndim:
        raise ValueError("%s: expected at least %d dimension%s, got shape %s"
                         % (name, min_ndim, "" if min_ndim == 1 else "s", a.shape))
    if width is not None and (a.ndim == 0 or a.shape[-1] != width):
        raise ValueError("%s: the last axis must have %d values, got shape %s"
                         % (name, width, a.shape))
    return np.ascontiguousarray(a, dtype=np.float32)


def fptr(a):
    return a.ctypes.data_as(_lib._f32p) if a is not None else None
