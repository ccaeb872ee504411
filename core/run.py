"""One profile's run: the profile, its credentials, the session to both systems, the journal, the runbook engine and
the connector instances register, opened and closed together.

The CLI, the TUI backend, the rehearsal, the report and the benchmarks all open a `Run`; nobody assembles the
pieces by hand. Without credentials it is a journal-only run (variables, confirmations, tickets, the report): the
runbook then has no clients, and a check says it needs --profile or --demo.

    async with Run(profile, credentials) as run:       # or `with Run(profile) as run:` for journal-only work
        await run.runbook.check(["C"])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from pydantic import SecretStr

from core.profile import Profile
from core.instances import InstanceRegister
from core.journal import Journal
from core.runbook.engine import Runbook
from core.secrets import Credentials
from core.session import Session

if TYPE_CHECKING:
    from core.netsuite import NetSuiteClient
    from core.zuora import ZuoraClient


class Systems(Protocol):
    """The two clients a run talks through (a Session builds each on first use)."""

    @property
    def zuora(self) -> ZuoraClient: ...

    @property
    def netsuite(self) -> NetSuiteClient: ...


class Run:
    def __init__(self, profile: Profile, credentials: Credentials | None = None, *,
                 secrets: Mapping[str, SecretStr] | None = None, session: Session | None = None,
                 timeout: float | None = None):
        """`timeout`: seconds each call waits for an answer (`--timeout`); None keeps the clients' default."""
        self.profile = profile
        self.credentials = credentials
        self.session: Session | None = session or (Session(profile, credentials, timeout=timeout)
                                                    if credentials is not None else None)
        self.journal = Journal.for_profile(profile)
        try:
            self.register = InstanceRegister(self.journal, profile)
        except BaseException:
            self.journal.close()
            raise
        self.runbook = Runbook(profile, self.journal, self.session, secrets=secrets, register=self.register)

    def __repr__(self) -> str:
        return f"Run(profile={self.profile.name!r}, connected={self.session is not None})"

    @property
    def systems(self) -> Systems | None:
        return self.session

    # ---- lifecycle --------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the journal (a session, if any, is closed by `aclose`)."""
        self.journal.close()

    async def aclose(self) -> None:
        try:
            if self.session is not None:
                await self.session.aclose()
        finally:
            self.close()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    async def __aenter__(self) -> Run:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()
