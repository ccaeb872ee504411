"""The config file: the profiles (core.profile) and the app's settings, where they live and how they are read and
written (design.md, ux.md "Read-only profiles").

They live in `config.toml` under platformdirs' user config dir (or the file named by CUTOVER_CONFIG_FILE), one
`[profiles.NAME]` table each. Environment variables such as CUTOVER_PROFILES__ACME__READ_ONLY=true override the
file (pydantic-settings, `__` for nesting). Reading goes through pydantic-settings; writing goes through tomlkit so
the consultant's comments survive. Profiles never hold secrets: those are in the keyring (core.secrets).
"""

from __future__ import annotations

import errno
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError, TomlConfigSettingsSource

from core.config_file import CONFIG_FILE_ENV, config_path
from core.errors import ConfigError
from core.profile import Profile, default_data_dir, refuse_secrets, validation_message

PROFILE_ENV = "CUTOVER_PROFILE"  # the profile a command works on when none is named (beats default_profile)
_HEADER = ("cutover profiles: one [profiles.NAME] table each. Secrets never go here; they live in the OS keyring\n"
           "(`cutover credentials set NAME`). Environment variables like CUTOVER_PROFILES__NAME__READ_ONLY=true win.")


def _usable_config_path() -> Path:
    """config_path(), refused when CUTOVER_CONFIG_FILE names a folder that is not there (a typo would otherwise
    start a new, empty configuration somewhere unexpected) or names a folder instead of a file."""
    path = config_path()
    if os.environ.get(CONFIG_FILE_ENV):
        if not path.parent.is_dir():
            raise ConfigError(f"{CONFIG_FILE_ENV} names {path}, but the folder {path.parent} does not exist",
                              hint=f"create it with `mkdir -p {path.parent}`, or correct {CONFIG_FILE_ENV}")
        if path.is_dir():
            raise ConfigError(f"{CONFIG_FILE_ENV} names {path}, which is a folder",
                              hint=f"name a file, e.g. {CONFIG_FILE_ENV}={path / 'config.toml'}")
    return path


def file_problem(exc: OSError, path: Path | str | None = None) -> ConfigError | None:
    """One line for a file the tool could not read or write: which path, what happened, what to do. None for an
    error that is not about a file (a refused connection, say), which the caller must explain some other way."""
    where = path or exc.filename
    if not where:  # a write() that fails names no file; the disk's own errors are still worth saying so
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
            return None
        where = "a file cutover was writing"
    elsewhere = "or point cutover elsewhere (CUTOVER_CONFIG_FILE, the profile's --data-dir, -o FILE)"
    known = {
        errno.ENOSPC: (f"the disk is full: cannot write {where}",
                       "free some space on that disk (or choose another folder), then run the command again"),
        errno.EDQUOT: (f"the disk quota is used up: cannot write {where}",
                       "free some space (or choose another folder), then run the command again"),
        errno.EROFS: (f"{where} is on a read-only file system", f"remount it read-write {elsewhere}"),
        errno.EACCES: (f"permission denied: cutover may not use {where}",
                       f"make it (and its folder) writable for this user {elsewhere}"),
        errno.EPERM: (f"operation not permitted on {where}",
                      f"make it (and its folder) writable for this user {elsewhere}"),
        errno.ENAMETOOLONG: (f"the name is too long for the file system: {where}", "use a shorter name or path"),
        errno.ENOENT: (f"no such file or folder: {where}", "check the path, or create the folder first"),
        errno.EISDIR: (f"{where} is a folder, not a file", "give a file name inside it"),
        errno.ENOTDIR: (f"part of {where} is a file where a folder should be", "check the path"),
        errno.EEXIST: (f"{where} is in the way: it is a file where a folder should be",
                       "choose another path, or move that file aside"),
    }
    message, hint = known.get(exc.errno, (f"cannot use {where}: {exc.strerror or exc}",
                                          "check the path and its folder's permissions"))
    return ConfigError(message, hint=hint)


# ---- reading ---------------------------------------------------------------------------------------------------
class _Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUTOVER_", env_nested_delimiter="__", extra="ignore")

    # Raw per-profile tables: each profile is validated on its own, so one broken profile hides no other.
    profiles: dict[str, dict[str, Any]] = {}
    # The app's look and keys, read raw for the same reason: a bad entry is the app's warning, never a profile's end.
    theme: Any = None
    keymap: Any = None
    default_profile: str | None = None  # `cutover profile default NAME`

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # Order is priority: the environment beats the file.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_path())


def _raw_profiles() -> dict[str, dict[str, Any]]:
    return _settings().profiles


def _settings() -> _Settings:
    path = _usable_config_path()
    try:
        if path.exists():
            _refuse_secrets_in_file(path)
        return _Settings()
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", hint="fix the syntax at that line") from None
    except (SettingsError, ValidationError) as exc:
        if isinstance(exc.__cause__ or exc.__context__, UnicodeDecodeError):
            raise _not_utf8(path, exc.__cause__ or exc.__context__) from None
        raise ConfigError(f"the settings in {path} or the CUTOVER_PROFILES* variables are malformed: "
                          f"{_first_line(exc)}", hint="each profile must be a [profiles.NAME] table") from None
    except OSError as exc:
        raise file_problem(exc, path) or ConfigError(f"cannot read {path}: {exc}") from None


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> ConfigError:
    return ConfigError(f"{path} is not UTF-8 text (byte {exc.start} cannot be read)",
                       hint="save it as UTF-8 in an editor, or move it aside and add the profiles again")


def _refuse_secrets_in_file(path: Path) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))  # a TOMLDecodeError is reported by the caller
    data.pop("keymap", None)  # binding ids and keys, never secrets (though an id may say "credentials.save")
    try:
        refuse_secrets(data, "")
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def validate_profile(name: str, data: dict[str, Any], *, hint: str = "") -> Profile:
    """A Profile from one raw table; ConfigError naming each bad field and its fix."""
    try:
        return Profile.model_validate({**data, "name": name})
    except ValidationError as exc:
        raise ConfigError(f"profile {name!r}: {validation_message(exc)}",
                          hint=hint or f"edit {config_path()} or run `cutover profile add {name} ... --replace`"
                          ) from None


def scan_profiles() -> dict[str, Profile | ConfigError]:
    """Every profile, or the error that keeps it from loading (for listings)."""
    out: dict[str, Profile | ConfigError] = {}
    for name, data in sorted(_raw_profiles().items()):
        try:
            out[name] = validate_profile(name, data)
        except ConfigError as exc:
            out[name] = exc
    return out


def load_profiles() -> dict[str, Profile]:
    """Every profile; ConfigError on the first one that is wrong."""
    return {name: validate_profile(name, data) for name, data in sorted(_raw_profiles().items())}


def get_profile(name: str) -> Profile:
    raw = _raw_profiles()
    if name not in raw:
        known = ", ".join(sorted(raw)) or "none yet"
        raise ConfigError(f"there is no profile named {name!r} (known profiles: {known})",
                          hint="add one with `cutover profile add NAME --zuora-env ENV --netsuite-account-id ID`")
    return validate_profile(name, raw[name])


def default_profile() -> tuple[str, str] | None:
    """(name, where it was set) of the profile to use when a command names none: CUTOVER_PROFILE, else the config
    file's `default_profile`; None when neither is set. `--profile NAME` beats both (cli.target)."""
    env = os.environ.get(PROFILE_ENV, "").strip()
    if env:
        return env, PROFILE_ENV
    name = (_settings().default_profile or "").strip()
    return (name, f"default_profile in {config_path()}") if name else None


def save_default_profile(name: str | None) -> Path:
    """Record `default_profile = NAME` at the top of the config file (None removes it); comments survive."""
    path = _usable_config_path()
    doc = _read_doc(path)
    if name is None:
        doc.pop("default_profile", None)
    else:  # tomlkit puts a new top-level key before the first [table], where TOML needs it
        doc["default_profile"] = name
    _write_doc(path, doc)
    return path


class AppSettings(BaseModel):
    """The app's look and keys, for every profile: the theme last picked in the palette ("Theme"; the
    TEXTUAL_THEME variable wins over it) and a `[keymap]` table of binding id -> keys, as Posting has. Only the
    app knows its themes and binding ids, so it checks them; entries that are not even text are `problems`."""

    theme: str | None = None
    keymap: dict[str, str] = {}
    problems: list[str] = []


def app_settings() -> AppSettings:
    """The top-level `theme` and `[keymap]` of the config file; ConfigError when the file cannot be read."""
    path = _usable_config_path()
    try:
        settings = _Settings()
    except (SettingsError, ValidationError, tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        _raw_profiles()  # raises the same one-line ConfigError the profiles would
        raise
    problems, keymap = [], {}
    theme = settings.theme
    if theme is not None and not isinstance(theme, str):
        problems.append(f"theme in {path} is not a theme's name: write it as theme = \"nord\", or remove it")
        theme = None
    raw_keymap = settings.keymap if settings.keymap is not None else {}
    if not isinstance(raw_keymap, dict):
        problems.append(f"keymap in {path} is not a table: write it as [keymap] with lines like "
                        f"\"app.monitor\" = \"ctrl+o\"")
        raw_keymap = {}
    for binding_id, keys in raw_keymap.items():
        if isinstance(keys, str) and keys.strip():
            keymap[str(binding_id)] = keys
        else:
            problems.append(f"keymap entry {binding_id!r} in {path} is not a key: give keys as text, e.g. "
                            f"\"{binding_id}\" = \"ctrl+o\" (several: \"ctrl+o,f9\")")
    return AppSettings(theme=theme, keymap=keymap, problems=problems)


def save_theme(name: str) -> Path:
    """Remember the theme picked in the app (a top-level `theme = "..."`); returns the config file's path."""
    path = _usable_config_path()
    doc = _read_doc(path)
    if doc.get("theme") != name:
        doc["theme"] = name
        _write_doc(path, doc)
    return path


# ---- writing ---------------------------------------------------------------------------------------------------
def _read_doc(path: Path) -> tomlkit.TOMLDocument:
    if not path.exists():
        doc = tomlkit.document()
        for line in _HEADER.splitlines():
            doc.add(tomlkit.comment(line))
        return doc
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None
    except OSError as exc:
        raise file_problem(exc, path) or ConfigError(f"cannot read {path}: {exc}") from None
    except tomlkit.exceptions.TOMLKitError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", hint="fix the syntax before saving a profile") from None


def _write_doc(path: Path, doc: tomlkit.TOMLDocument) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    except OSError as exc:
        raise file_problem(exc, path) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(tomlkit.dumps(doc))
        os.replace(tmp, path)  # atomic: a crash never leaves half a file
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a full disk or a read-only folder: the old file is still whole
            raise file_problem(exc, path) from None
        raise


def _profile_table_data(profile: Profile) -> dict[str, Any]:
    data = profile.model_dump(mode="json", exclude={"name"}, exclude_none=True)
    if Path(data["data_dir"]) == default_data_dir(profile.name):
        del data["data_dir"]
    return data


def _update_table(table, data: dict[str, Any]) -> None:
    """Set the keys in place (comments and order survive) and drop the ones no longer set."""
    for key in [k for k in table if k not in data]:
        del table[key]
    for key, value in data.items():
        if isinstance(value, dict):
            if not isinstance(table.get(key), dict):
                table[key] = tomlkit.table()
            _update_table(table[key], value)
        elif table.get(key) != value:
            table[key] = value


def save_profile(profile: Profile) -> Path:
    """Write (or update) the profile's table; returns the config file's path."""
    path = _usable_config_path()
    doc = _read_doc(path)
    if "profiles" not in doc:
        doc["profiles"] = tomlkit.table(is_super_table=True)
    profiles = doc["profiles"]
    is_new = profile.name not in profiles
    if is_new:
        profiles[profile.name] = tomlkit.table()
    table = profiles[profile.name]
    _update_table(table, _profile_table_data(profile))
    fields = table.get("netsuite_fields")
    if is_new and fields is not None and profile.netsuite_fields.zuora_sync_updates is None:
        fields.add(tomlkit.comment(f"zuora_sync_updates has no documented script id: run "
                                   f"`cutover profile fields {profile.name}` to find it"))
    _write_doc(path, doc)
    return path


def remove_profile(name: str) -> Path:
    path = _usable_config_path()
    doc = _read_doc(path) if path.exists() else tomlkit.document()
    profiles = doc.get("profiles") or {}
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(f"there is no profile named {name!r} in {path} (known profiles: {known})",
                          hint="`cutover profile list` shows them")
    del profiles[name]
    if doc.get("default_profile") == name:  # a default that names nothing would fail every later command
        doc.pop("default_profile")
    _write_doc(path, doc)
    return path
