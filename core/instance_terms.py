"""The words of the connector instances register: each instance's environment, role, kind and status.

Standard library only: the CLI offers them as choices without loading the register (pydantic, the journal).
"""

from __future__ import annotations

ENVIRONMENTS: tuple[str, ...] = ("sandbox", "production")
ROLES: tuple[str, ...] = ("old", "new")
STATUSES: tuple[str, ...] = ("active", "stopped", "retired")
KINDS: tuple[str, ...] = ("permanent", "temporary")
