"""A profile: which Zuora tenant and NetSuite account a run talks to, and how; the operator named with everything a
person does; the account's NetSuite field ids. Validated where they enter, each bad field named with its fix.
Profiles never hold secrets: those are in the keyring (core.secrets). Reading and writing the file that holds them
is core.config's."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from platformdirs import user_data_dir
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from core.config_file import APP
from core.errors import ConfigError
from core.netsuite.hosts import is_loopback_url, netsuite_base_url
from core.zuora.environments import ENVIRONMENT_NAMES, ZUORA_ENVIRONMENTS, resolve_zuora_base_url

OPERATOR_ENV = "CUTOVER_OPERATOR"
_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]|_(?!_))*$")  # no "__": it is the env nesting delimiter
# The name is a folder name (the data dir) and part of keyring entries: well under any file system's 255 bytes.
MAX_NAME_LENGTH = 64
_PORT = re.compile(r":([^:\]]*)$")
_ACCOUNT_ID = re.compile(r"^(?:\d+|TSTDRV\d+)(?:_[A-Z]{2}\d*)?$")
_SCRIPT_ID = re.compile(r"^cust[a-z0-9_]+$")
_SECRET_KEY = re.compile(r"secret|password|passwd|token|consumer_key|client_id|api_key|credential|private_key",
                         re.IGNORECASE)
_PRODUCTION_URLS = {ZUORA_ENVIRONMENTS[n] for n in ENVIRONMENT_NAMES if "production" in n}


def data_root() -> Path:
    return Path(user_data_dir(APP))


def default_data_dir(name: str) -> Path:
    return data_root() / name


def refuse_secrets(mapping: Any, where: str) -> None:
    if not isinstance(mapping, dict):
        return
    for key, value in mapping.items():
        if _SECRET_KEY.search(str(key)):
            raise ValueError(f"{where + str(key)!r} looks like a secret, and secrets never go in the config file: "
                             f"remove it and store it in the OS keyring with `cutover credentials set PROFILE` "
                             f"(or use a CUTOVER_* variable)")
        refuse_secrets(value, f"{where}{key}.")


class NetSuiteFields(BaseModel):
    """The account's script ids of the connector's transaction body fields (apis.md B7), keyed by meaning.

    Defaults follow the documented pattern (custbody + zuora + label). Zuora Sync Updates has no documented id,
    so it stays unmapped until `cutover profile fields NAME` finds it in the account.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    zuora_id: str | None = "custbodyzuoraid"
    zuora_integration_status: str | None = "custbodyzuoraintegrationstatus"
    zuora_type: str | None = "custbodyzuoratype"
    zuora_origin: str | None = "custbodyzuoraorigin"
    zuora_sync_date: str | None = "custbodyzuorasyncdate"
    zuora_reference_number: str | None = "custbodyzuorareferencenumber"
    zuora_customer_id_payment: str | None = "custbodyzuoracustomeridpayment"
    zuora_sync_updates: str | None = None
    sync_updates_yes: str = "Yes"  # the value of Zuora Sync Updates that means Yes

    @field_validator("*", mode="before")
    @classmethod
    def _script_id(cls, value: Any, info) -> Any:
        if info.field_name == "sync_updates_yes" or value is None:
            return value
        text = str(value).strip().lower()
        if not _SCRIPT_ID.match(text):
            raise ValueError(f"{value!r} is not a NetSuite script id: use the field's id as shown under "
                             f"Customization > Transaction Body Fields, e.g. custbodyzuoraid")
        return text

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(k for k in cls.model_fields if k != "sync_updates_yes")

    def script_ids(self) -> dict[str, str]:
        """Key -> script id for every mapped field."""
        return {k: getattr(self, k) for k in self.keys() if getattr(self, k)}

    def unmapped(self) -> list[str]:
        return [k for k in self.keys() if not getattr(self, k)]


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class Operator(BaseModel):
    """The person at the keyboard: named with every confirmation, waiver, ticket and write in the journal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    email: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value or len(value) > 100 or any(c in value for c in "<>"):
            raise ValueError("the operator's name is 1 to 100 characters, without < or >, e.g. Ada Lovelace")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if not _EMAIL.match(value) or len(value) > 200:
            raise ValueError(f"{value!r} is not an email address: use one like ada@example.com")
        return value

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>"

    @classmethod
    def parse(cls, text: str) -> Operator:
        """'Ada Lovelace <ada@example.com>' (the form CUTOVER_OPERATOR takes)."""
        match = re.fullmatch(r"\s*(.+?)\s*<\s*([^<>]+?)\s*>\s*", text or "")
        if match is None:
            raise ConfigError(f"{text!r} does not name an operator",
                              hint="write it as 'Ada Lovelace <ada@example.com>'")
        try:
            return cls(name=match[1], email=match[2])
        except ValidationError as exc:
            raise ConfigError(validation_message(exc)) from None


class Profile(BaseModel):
    """One Zuora tenant + NetSuite account pair. Immutable: change it with model_copy(update=...) and save."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    zuora_env: str | None = None  # one of core.zuora's named environments
    zuora_base_url: str | None = None  # or an explicit REST base URL (the simulator, a private host)
    netsuite_account_id: str
    netsuite_base_url: str | None = None  # only for the simulator or a non-standard host
    environment: Literal["sandbox", "production"] = "sandbox"
    read_only: bool = False  # plans work, applies are refused
    data_dir: Path | None = None  # defaults to <user data dir>/<name>
    netsuite_fields: NetSuiteFields = NetSuiteFields()
    operator: Operator | None = None  # asked once, then recorded with everything a person does

    @property
    def operator_label(self) -> str | None:
        """'Name <email>': the profile's operator, else CUTOVER_OPERATOR (for CI), else None."""
        if self.operator is not None:
            return self.operator.label
        env = os.environ.get(OPERATOR_ENV, "").strip()
        return Operator.parse(env).label if env else None

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        refuse_secrets(data, "")
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if len(value) > MAX_NAME_LENGTH:
            raise ValueError(f"a profile name is at most {MAX_NAME_LENGTH} characters (this one has {len(value)}): "
                             f"use a shorter one, e.g. acme-prod")
        if not _NAME.match(value):
            raise ValueError(f"{value!r} is not a usable profile name: use lower-case letters, digits, '-' and "
                             f"single '_', starting with a letter or digit (e.g. acme-prod)")
        return value

    @field_validator("zuora_env")
    @classmethod
    def _zuora_env(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = _resolved(lambda: resolve_zuora_base_url(value, None))
        return next(n for n in ENVIRONMENT_NAMES if ZUORA_ENVIRONMENTS[n] == url)

    @field_validator("zuora_base_url", "netsuite_base_url", mode="before")
    @classmethod
    def _plain_url(cls, value: Any) -> Any:
        """No password in a URL (it would sit in the config file and in every log line), no impossible port."""
        if not isinstance(value, str) or not value.strip():
            return value
        parts = urlsplit(value.strip())
        _userinfo, at, hostport = parts.netloc.rpartition("@")
        port = _PORT.search(hostport) if not hostport.endswith("]") else None
        bad_port = port is not None and port[1] != "" and not (port[1].isdigit() and 1 <= int(port[1]) <= 65535)
        clean = urlunsplit(parts._replace(netloc=hostport[:port.start()] if bad_port else hostport))
        if at:
            raise ValueError(f"the URL carries a user name or password: give it without them, e.g. {clean} "
                             f"(secrets go in the keyring with `cutover credentials set NAME`)")
        if bad_port:
            raise ValueError(f"port {port[1]} is not a number from 1 to 65535: give a port in that range, or "
                             f"none for the scheme's own, e.g. {clean}")
        return value

    @field_validator("zuora_base_url")
    @classmethod
    def _zuora_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = _resolved(lambda: resolve_zuora_base_url(None, value))
        if not url.startswith("https://") and not is_loopback_url(url):
            raise ValueError(f"refusing plain http for Zuora at {url}: use the https URL (plain http is only for "
                             f"the simulator on this machine)")
        return url

    @field_validator("netsuite_account_id")
    @classmethod
    def _account_id(cls, value: str) -> str:
        return netsuite_account_id(value)

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if (self.zuora_env is None) == (self.zuora_base_url is None):
            raise ValueError("give exactly one of zuora_env (one of: " + ", ".join(ENVIRONMENT_NAMES)
                             + ") or zuora_base_url")
        if self.netsuite_base_url is not None:
            url = _resolved(lambda: netsuite_base_url(self.netsuite_account_id, self.netsuite_base_url))
            object.__setattr__(self, "netsuite_base_url", url)
        if self.data_dir is None:
            object.__setattr__(self, "data_dir", default_data_dir(self.name))
        if self.environment == "sandbox" and (why := self.production_evidence()):
            raise ValueError(f"environment is 'sandbox' but {why}: set environment = \"production\" "
                             f"(`--production`), so writes ask for a typed confirmation")
        return self

    # ---- helpers ----------------------------------------------------------------------------------------------
    def zuora_url(self) -> str:
        """The Zuora REST base URL."""
        return resolve_zuora_base_url(self.zuora_env, self.zuora_base_url)

    def netsuite_url(self) -> str:
        """The NetSuite REST host URL (without /services/rest)."""
        return netsuite_base_url(self.netsuite_account_id, self.netsuite_base_url)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def production_evidence(self) -> str | None:
        """Why this profile looks like a production system, or None."""
        if self.zuora_url() in _PRODUCTION_URLS:
            return f"Zuora {self.zuora_url()} is a production data center"
        if "_" not in self.netsuite_account_id and not is_loopback_url(self.netsuite_url()):
            return f"NetSuite account {self.netsuite_account_id} has no sandbox suffix (_SB1, _RP ...)"
        return None

    @property
    def title(self) -> str:
        """`acme (Zuora us-cloud1-production · NetSuite 1234567)`, for headers."""
        zuora = self.zuora_env or self.zuora_url()
        return f"{self.name} (Zuora {zuora} · NetSuite {self.netsuite_account_id})"


def _resolved(fn):
    """A resolver's ConfigError as the ValueError pydantic reports against the field."""
    try:
        return fn()
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def netsuite_account_id(value: Any) -> str:
    """The account id upper-cased; ValueError saying where to copy it from when it is not one."""
    text = str(value).strip().upper()
    if not _ACCOUNT_ID.match(text):
        raise ValueError(f"{value!r} is not a NetSuite account id: copy it from Setup > Company > Company "
                         f"Information, e.g. 1234567 (production), 1234567_SB1 (sandbox) or 1234567_RP")
    return text


def validation_message(exc: ValidationError) -> str:
    """Each bad field by name, with its fix: the text of a ConfigError."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "is missing: add it"
        elif err["type"] == "extra_forbidden":
            msg = "is not a known setting: remove it or fix its spelling"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)
