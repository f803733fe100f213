"""dtlpy: run Sesam DTL offline.

>>> import dtlpy
>>> dtlpy.evaluate(["upper", "_S.name"], {"name": "ada"})
'ADA'
"""

from .engine import Transform, compile, evaluate
from .errors import (
    DtlCompileError,
    DtlError,
    DtlFailError,
    DtlInputError,
    DtlRuntimeError,
    DtlTypeError,
)


def load_pipe(path, **kwargs):
    """Load a Sesam pipe config (``*.conf.json``); see :mod:`dtlpy.pipe`."""
    from .pipe import load_pipe as _load_pipe

    return _load_pipe(path, **kwargs)


__all__ = [
    "compile",
    "evaluate",
    "load_pipe",
    "Transform",
    "DtlError",
    "DtlCompileError",
    "DtlRuntimeError",
    "DtlTypeError",
    "DtlInputError",
    "DtlFailError",
]
__version__ = "0.1.0"
