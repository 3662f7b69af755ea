"""Python functions in expressions and SQL (vectorized: pyarrow arrays in and out)."""
from __future__ import annotations

import atexit
import inspect
from typing import Any, Callable

import pyarrow as pa

from . import _sluice
from ._expr import Expr, to_expr

__all__ = ["udf", "Function"]

_result_types: dict = {}  # name -> the return type it was first registered with


class Function:
    """A Python function registered with the engine: call it with expressions (or
    column names) to use it in a frame; SQL calls it by its name.

    >>> gross("price", "vat").alias("gross")
    """

    def __init__(self, fn: Callable, name: str, return_type: pa.DataType):
        self.fn = fn
        self.name = name
        self.return_type = return_type
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __call__(self, *args: Any) -> Expr:
        return Expr(_sluice.call(self.name, [to_expr(a) for a in args]))

    def __repr__(self) -> str:
        return f"<sluice function {self.name} -> {self.return_type}>"


def _arity(fn: Callable) -> tuple[int, int]:
    required, most = 0, 0
    for p in inspect.signature(fn).parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            return required, -1
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            most += 1
            if p.default is p.empty:
                required += 1
    return required, most


def udf(fn: Callable | None = None, *, return_type: pa.DataType,
        name: str | None = None):
    """Registers a vectorized Python function: it receives one ``pyarrow.Array`` per
    argument (a batch of rows, up to the session's batch size) and returns a
    ``pyarrow.Array`` of ``return_type`` with one value per row.

    Usable in frames and, by its name, in SQL, in every session of the process.

    >>> @sl.udf(return_type=pa.float64())
    ... def gross(price, vat):
    ...     return pc.multiply(price, pc.add(vat, 1.0))
    >>> orders.select(gross("price", "vat").alias("gross"))
    >>> sl.sql("SELECT gross(price, vat) FROM orders", orders=orders)

    Cost: the engine's threads take the GIL in turn to call it (Python code runs on one
    core at a time) and the arrays cross without copies; per call, tens of
    microseconds on top of what the function itself does (docs/python.md).
    An exception inside it fails the query with the Python traceback in the
    :class:`SluiceError`.
    """
    if not isinstance(return_type, pa.DataType):
        raise TypeError("udf: return_type must be a pyarrow type, such as pa.float64()")

    def register(f: Callable) -> Function:
        fname = (name or f.__name__).lower()
        if not fname.isidentifier():
            raise ValueError(f"udf: {fname!r} is not a valid function name")
        before = _result_types.get(fname)
        if before is not None and before != return_type:
            # Queries bound to the name keep its type: it may change function, not type.
            raise ValueError(f"udf: {fname}() was registered returning {before}; it can be "
                             f"replaced by a function of the same type only")
        low, high = _arity(f)
        _sluice.register_function(fname, f, return_type, low, high)
        _result_types[fname] = return_type
        return Function(f, fname, return_type)

    return register if fn is None else register(fn)


def _at_exit() -> None:
    # Running jobs first (they may be calling these functions), then the functions: the
    # Python objects the engine holds go while the interpreter is still there.
    from ._stream import abort_jobs

    abort_jobs()
    _sluice.clear_functions()


atexit.register(_at_exit)
