"""Run variables: the facts recorded once (mostly in Phase A) and reused by checks, tickets and actions.

`RunVariables.set("freeze_ts", "2026-10-28 18:00")` parses the text a person typed and returns a new instance; a
bad value raises ConfigError naming the variable and the expected form. Dotted names reach the cutover dates:
`old_cutover_dates.invoice`. Times are UTC; a time typed without a zone is taken as UTC.
"""

from __future__ import annotations

import difflib
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from core.errors import ConfigError

ProvisioningPath = Literal["edit-instance", "new-instance", "new-tenant"]
E2Decision = Literal["sync", "mark-yes", "ignore"]
E1Decision = Literal["sync", "mark-yes"]

_FORMS = {
    date: "a date like 2026-10-28",
    datetime: "a UTC date and time like 2026-10-28T18:00Z or '2026-10-28 18:00'",
    str: "a non-empty value",
}


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
        head, _, sub = name.partition(".")
        owner: type[BaseModel] = CutoverDates if sub else RunVariables
        info = owner.model_fields[sub or head]
        value = None if text is None or not text.strip() else _parse(name, info.annotation, text.strip())
        if sub:
            return self.model_copy(update={head: self.old_cutover_dates.model_copy(update={sub: value})})
        return self.model_copy(update={head: value})

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
        """Flat name -> text form, as the journal stores it."""
        return {n: format_value(v) for n, v in self.items()}

    @classmethod
    def load(cls, flat: dict[str, str | None]) -> RunVariables:
        out = cls()
        for name, text in flat.items():
            if name in cls.names():
                out = out.set(name, text)
        return out


def format_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _parse(name: str, annotation: Any, text: str) -> Any:
    base = next((t for t in (datetime, date, str) if _admits(annotation, t)), None)
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
