"""A package's public names loaded from their submodules on first use (PEP 562), so a light submodule (host names,
field vocabularies) can be imported without the package's HTTP client behind it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_names(package: str, where: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`, whose name `N` lives in module `where[N]`."""

    def __getattr__(name: str):
        try:
            module = where[name]
        except KeyError:  # AttributeError lets `from package import submodule` fall through to the submodule
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # found once, then a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__
