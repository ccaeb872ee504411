"""Which cutover this is: the installed distribution's name and version, for `cutover --version`, `cutover doctor`
and support bundles. Standard library only."""

from __future__ import annotations

DISTRIBUTION = "zuora-is-cutover"  # on PyPI `cutover` is another project's name; the command stays `cutover`


def version() -> str:
    """The installed version, or a note that the code runs from a tree that was never installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(DISTRIBUTION)
    except PackageNotFoundError:
        return f"unknown ({DISTRIBUTION} is not installed: `pip install -e .` in the source tree)"
