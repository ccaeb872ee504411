"""One connector instance of the register (core.instances): what a person records about it, checked, and the row as
read, with the words it is shown in (its ref, label, one-line description, the day a temporary one expires).

Kept apart from the register because this is the shape and wording of an instance while the register is its storage
(SQLite, the mirrored run variables, the OAuth client test): a screen or command that only shows or checks an instance
needs only this page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from core.errors import ConfigError
from core.profile import netsuite_account_id, validation_message

Environment = Literal["sandbox", "production"]
Role = Literal["old", "new"]
InstanceStatus = Literal["active", "stopped", "retired"]
InstanceKind = Literal["permanent", "temporary"]

TEMPORARY_DAYS = 120  # temporary test instances expire after 120 days (R7)
ID_LABELS = {"instance_id": "Instance ID", "account_id": "Account ID", "environment_id": "Environment ID"}


class InstanceFields(BaseModel):
    """What a person records about an instance. Only the fields given are written; an empty text clears one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: Environment | None = None
    role: Role | None = None
    kind: InstanceKind | None = None
    instance_id: str | None = None
    account_id: str | None = None
    environment_id: str | None = None
    oauth_client_id: str | None = None
    netsuite_account_id: str | None = None
    status: InstanceStatus | None = None
    notes: str | None = None
    provisioned_on: date | None = None

    @field_validator("instance_id", "account_id", "environment_id", "oauth_client_id", mode="before")
    @classmethod
    def _an_id(cls, value: Any, info) -> Any:
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        if any(c.isspace() for c in text) or len(text) > 100:
            where = "the new OAuth client (Manage Users)" if info.field_name == "oauth_client_id" else \
                "the connector's Logs tab"
            raise ValueError(f"{text[:40]!r} is not an id: copy it from {where}, without spaces")
        return text

    @field_validator("netsuite_account_id", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        text = "" if value is None else str(value).strip()
        return netsuite_account_id(text) if text else None

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, value: Any) -> Any:
        return "" if value is None else str(value).strip()

    @field_validator("provisioned_on", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def parse(cls, values: dict[str, Any]) -> dict[str, Any]:
        """The given fields, checked; ConfigError naming each bad one and its fix."""
        try:
            return cls.model_validate(values).model_dump(exclude_unset=True)
        except ValidationError as exc:
            raise ConfigError(f"connector instance: {validation_message(exc)}") from None


class ConnectorInstance(InstanceFields):
    """One row of the register, as read."""

    key: int
    environment: Environment
    role: Role
    kind: InstanceKind
    status: InstanceStatus
    notes: str = ""
    oauth_checked_at: str | None = None
    oauth_check: str | None = None
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str

    @property
    def ref(self) -> str:
        """How commands name it: the Instance ID, or `#key` while it has none."""
        return self.instance_id or f"#{self.key}"

    @property
    def label(self) -> str:
        return f"{self.environment} {self.role} instance {self.ref}"

    @property
    def live(self) -> bool:
        """Not retired: it still takes a licensed place."""
        return self.status != "retired"

    def expires_on(self) -> date | None:
        if self.kind != "temporary":
            return None
        start = self.provisioned_on or date.fromisoformat(self.created_at[:10])
        return start + timedelta(days=TEMPORARY_DAYS)


def describe(instance: ConnectorInstance) -> str:
    """One line: `production new instance 48213: Account ID zuora-1a2b, Environment ID 9f…, OAuth client c1 (active)`."""
    ids = ", ".join(f"{label} {getattr(instance, f)}" for f, label in ID_LABELS.items()
                    if f != "instance_id" and getattr(instance, f))
    client = f"OAuth client {instance.oauth_client_id}" if instance.oauth_client_id else ""
    detail = ", ".join(p for p in (ids, client, f"NetSuite {instance.netsuite_account_id}"
                                   if instance.netsuite_account_id else "") if p)
    return f"{instance.label}{': ' + detail if detail else ''} ({instance.status}, {instance.kind})"
