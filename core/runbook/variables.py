"""Run variables: the facts recorded once (mostly in Phase A) and reused by checks, tickets and actions.

`RunVariables.set("freeze_ts", "2026-10-28 18:00")` parses the text a person typed and returns a new instance; a
bad value raises ConfigError naming the variable and the expected form. Dotted names reach the cutover dates:
`old_cutover_dates.invoice`. Times are UTC; a time typed without a zone is taken as UTC.

A value is checked where it enters (`set`): dates and times must fall between 2000-01-01 and 2100-12-31 (a typo such
as 20026 or a Unix timestamp is refused, not stored), and it must read back as itself once stored (a time with
fractions of a second would not). Reading the journal (`load`) is lenient: a stored value that no longer parses (an
older version's, or one edited by hand) never makes the variables unreadable as a whole. Its field reads as None and
`unreadable` keeps its raw text, so `cutover vars` lists it and `cutover set NAME VALUE` repairs it.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter, ValidationError, field_validator

from core.errors import ConfigError

ProvisioningPath = Literal["edit-instance", "new-instance", "new-tenant"]
E2Decision = Literal["sync", "mark-yes", "ignore"]
E1Decision = Literal["sync", "mark-yes"]

_FORMS = {
    date: "a date like 2026-10-28",
    datetime: "a UTC date and time like 2026-10-28T18:00Z or '2026-10-28 18:00'",
    str: "a non-empty value",
}
# The plausible span of a cutover's dates: anything outside is a typo (20026, 1026) or a Unix timestamp.
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")  # a date or time is typed year first, as every example shows


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


class CutoverDates(BaseModel):
    """The old connector instance's cutover dates (A2 capture; Advanced Settings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice: date | None = Field(None, description="Zuora Invoices cutover")
    payment: date | None = Field(None, description="Zuora Payments cutover")
    refund: date | None = Field(None, description="Zuora Payment Refunds cutover")
    iia: date | None = Field(None, description="Zuora Invoice Item Adjustments cutover")
    ns_payment: date | None = Field(None, description="NetSuite Payments cutover")


class RunVariables(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_env: str | None = Field(None, description="Zuora data center and environment, e.g. us-cloud1-production")
    zuora_base_url: str | None = Field(None, description="Zuora REST base URL")
    old_instance_id: str | None = Field(None, description="old connector Instance ID (Logs tab)")
    old_account_id: str | None = Field(None, description="old connector Account ID (Logs tab)")
    netsuite_account_id: str | None = Field(None, description="NetSuite account id")
    old_cutover_dates: CutoverDates = Field(default_factory=CutoverDates, description="old instance cutover dates")
    freeze_ts: datetime | None = Field(None, description="when the old connector stopped (C7)")
    target_migration_date: date | None = Field(None, description="migration date agreed with Support (B1)")
    migration_date: date | None = Field(None, description="day Zuora ran the IS data migration (D1)")
    is_enabled_ts: datetime | None = Field(None, description="when IS was seen on (D1)")
    provisioning_path: ProvisioningPath | None = Field(None, description="A3 decision")
    new_oauth_client_id: str | None = Field(None, description="the new Zuora OAuth client id (F1)")
    connect_login_name: str | None = Field(None, description="the Connect tenant login (F2)")
    new_instance_id: str | None = Field(None, description="new connector Instance ID (F3b)")
    new_account_id: str | None = Field(None, description="Account ID from Support (F4)")
    new_environment_id: str | None = Field(None, description="Environment ID from Support (F4)")
    new_memo_cutover: date | None = Field(None, description="new instance's Debit/Credit Memos cutover (F6)")
    e1_decision: E1Decision | None = Field(None, description="AR Mig memos of negative invoices never in NetSuite "
                                                              "(Case 2): sync | mark-yes")
    e2_decision: E2Decision | None = Field(None, description="credit-balance memos: sync | mark-yes | ignore")
    b1_ticket: str | None = Field(None, description="Support ticket for the IS enablement request (B1)")
    d1_ticket: str | None = Field(None, description="Support ticket for the IS migration (D1)")
    f4_ticket: str | None = Field(None, description="Support ticket for the connector (F4)")
    go_live_ts: datetime | None = Field(None, description="when the new connector went live (H4)")

    _utc_times = field_validator("freeze_ts", "is_enabled_ts", "go_live_ts")(_utc)
    # name -> the journal's raw text, for stored values that no longer parse (never mutated: replaced on change)
    _unreadable: dict[str, str] = PrivateAttr(default_factory=dict)

    # ---- names ------------------------------------------------------------------------------------------------
    @classmethod
    def names(cls) -> list[str]:
        out: list[str] = []
        for name, info in cls.model_fields.items():
            if info.annotation is CutoverDates:
                out.extend(f"{name}.{sub}" for sub in CutoverDates.model_fields)
            else:
                out.append(name)
        return out

    @classmethod
    def describe(cls, name: str) -> str:
        head, _, sub = name.partition(".")
        info = CutoverDates.model_fields[sub] if sub else cls.model_fields[head]
        return info.description or ""

    def get(self, name: str) -> Any:
        head, _, sub = self.canonical(name).partition(".")
        value = getattr(self, head)
        return getattr(value, sub) if sub else value

    def items(self) -> list[tuple[str, Any]]:
        return [(n, self.get(n)) for n in self.names()]

    @property
    def unreadable(self) -> dict[str, str]:
        """Stored values that no longer parse: name -> the raw text the journal holds (their fields read None)."""
        return dict(self._unreadable)

    def require(self, name: str) -> Any:
        """The value, or ConfigError saying it is not recorded, or unreadable, and how to record it."""
        name = self.canonical(name)
        value = self.get(name)
        if value is not None:
            return value
        if name in self._unreadable:
            raise ConfigError(f"run variable {name} is unreadable: the journal holds {self._unreadable[name]!r}, "
                              f"not {expected_form(name)}", hint=f"repair it: cutover set {name} VALUE")
        raise ConfigError(f"run variable {name} is not recorded: {self.describe(name)}",
                          hint=f"cutover set {name} VALUE")

    def connector_cutovers(self) -> dict[str, date]:
        """The connector's cutover dates by object (invoice, payment, refund, iia, ns_payment, memo), those known:
        the old instance's, kept by the new one (runbook F6), plus the new memo cutover."""
        out = {k: v for k, v in self.old_cutover_dates.model_dump().items() if v is not None}
        if self.new_memo_cutover is not None:
            out["memo"] = self.new_memo_cutover
        return out

    # ---- setting ----------------------------------------------------------------------------------------------
    def set(self, name: str, text: str | None) -> RunVariables:
        """A copy with `name` parsed from `text` (empty or None clears it)."""
        name = self.canonical(name)
        value = None if text is None or not text.strip() else _enter(name, _annotation(name), text.strip())
        return self._with(name, value)

    def _with(self, name: str, value: Any) -> RunVariables:
        head, _, sub = name.partition(".")
        if sub:
            out = self.model_copy(update={head: self.old_cutover_dates.model_copy(update={sub: value})})
        else:
            out = self.model_copy(update={head: value})
        out._unreadable = {n: t for n, t in self._unreadable.items() if n != name}  # a value set is read again
        return out

    @classmethod
    def canonical(cls, name: str) -> str:
        name = name.strip().lower().replace("-", "_")
        if name in cls.names():
            return name
        close = difflib.get_close_matches(name, cls.names(), n=1)
        hint = f"did you mean {close[0]}?" if close else "`cutover vars` lists them"
        raise ConfigError(f"unknown run variable {name!r}", hint=hint)

    # ---- storage ------------------------------------------------------------------------------------------------
    def dump(self) -> dict[str, str | None]:
        """Flat name -> text form, as the journal stores it (an unreadable value: its raw text, unchanged)."""
        return {n: self._unreadable.get(n, format_value(v)) for n, v in self.items()}

    @classmethod
    def load(cls, flat: dict[str, str | None]) -> RunVariables:
        """The variables from the journal's rows; never raises on a stored value (see the module's docstring)."""
        out, unreadable = cls(), {}
        for name, text in flat.items():
            if name not in cls.names() or text is None or not text.strip():
                continue
            try:
                out = out._with(name, _parse(name, _annotation(name), text.strip()))
            except ConfigError:
                unreadable[name] = text
        out._unreadable = unreadable
        return out


def format_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def expected_form(name: str) -> str:
    """What a value of `name` looks like, with an example: 'a date like 2026-10-28'."""
    annotation = _annotation(RunVariables.canonical(name))
    choices = _literal_choices(annotation)
    if choices:
        return "one of " + ", ".join(choices)
    return _FORMS[_base(annotation)]


def _annotation(name: str) -> Any:
    head, _, sub = name.partition(".")
    return (CutoverDates.model_fields[sub] if sub else RunVariables.model_fields[head]).annotation


def _base(annotation: Any) -> type:
    return next((t for t in (datetime, date) if _admits(annotation, t)), str)


# Times that record what happened (the freeze, IS seen on, go-live): never later than now, give or take a clock.
HAPPENED = ("freeze_ts", "is_enabled_ts", "go_live_ts")
CLOCK_SKEW = timedelta(minutes=5)


def _enter(name: str, annotation: Any, text: str) -> Any:
    """A value a person typed: it parses, it is plausible, and it reads back as itself once stored."""
    if _base(annotation) is not str and not _ISO_DAY.match(text):  # pydantic would take 1700000000 as a time
        raise ConfigError(f"{name}: expected {expected_form(name)}, not {text!r}")
    value = _parse(name, annotation, text)
    if isinstance(value, date):  # datetime too
        day = value.date() if isinstance(value, datetime) else value
        if not EARLIEST <= day <= LATEST:
            raise ConfigError(f"{name}: {text!r} is outside {EARLIEST} … {LATEST}; expected {expected_form(name)}")
    if name in HAPPENED and isinstance(value, datetime) and value > datetime.now(UTC) + CLOCK_SKEW:
        raise ConfigError(f"{name}: {text!r} is in the future (it is {datetime.now(UTC):%Y-%m-%d %H:%M} UTC now); "
                          f"it records {RunVariables.describe(name)}: enter it once it has happened")
    stored = format_value(value)
    try:
        again = _parse(name, annotation, stored)
    except ConfigError:
        again = None
    if again != value:
        raise ConfigError(f"{name}: {text!r} would not read back the same once stored (as {stored!r}); expected "
                          f"{expected_form(name)}")
    return value


def _parse(name: str, annotation: Any, text: str) -> Any:
    base = _base(annotation)
    choices = _literal_choices(annotation)
    if choices:
        if text not in choices:
            raise ConfigError(f"{name}: expected one of {', '.join(choices)}, not {text!r}")
        return text
    if base is datetime:
        text = text.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        value = TypeAdapter(base).validate_python(text)
    except ValidationError:
        raise ConfigError(f"{name}: expected {_FORMS[base]}, not {text!r}") from None
    if name == "zuora_base_url" and not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ConfigError(f"{name}: expected an https URL like https://rest.zuora.com, not {text!r}")
    return _utc(value)


def _admits(annotation: Any, t: type) -> bool:
    return t in getattr(annotation, "__args__", (annotation,))


def _literal_choices(annotation: Any) -> tuple[str, ...]:
    for arg in getattr(annotation, "__args__", ()):
        if getattr(arg, "__origin__", None) is Literal:
            return tuple(arg.__args__)
    return ()
