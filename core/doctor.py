"""`cutover doctor`: is this machine ready to run a cutover? One finding per check, each with its fix.

Checks: the version, Python and platform; the keyring backend (the same secure-front rule the store applies); the
config, data and log folders (readable, writable); each system reached and signed in to (core.session's connection
test); the journal's integrity, schema version and who holds it. Nothing here writes to a journal or a system.

`support_bundle` writes the findings, versions, the config and the last log into one zip for a support request.
Everything in it is redacted again on the way in (the log already is), and no record data goes in: the journal is
represented by its integrity result, never its rows.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sqlite3
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.about import DISTRIBUTION, version
from core.errors import CutoverError

OK, WARN, FAIL = "ok", "warn", "fail"
# Versions a support request needs besides our own: what draws, what talks HTTP, what holds the secrets.
LIBRARIES = ("textual", "httpx", "keyring", "pydantic", "pydantic-settings", "oauthlib", "filelock", "platformdirs")


@dataclass(frozen=True)
class Finding:
    check: str  # e.g. "keyring"
    status: str  # ok | warn | fail
    detail: str  # what was found
    fix: str = ""  # what to do, when it is not ok

    def line(self) -> str:
        mark = {OK: "✓", WARN: "!", FAIL: "✗"}[self.status]
        return f"{mark} {self.check:<9} {self.detail}" + (f" — fix: {self.fix}" if self.fix else "")


# ---- the checks ---------------------------------------------------------------------------------------------------
def check_version() -> Finding:
    return Finding("version", OK, f"cutover {version()} ({DISTRIBUTION}), Python {platform.python_version()} "
                                  f"({sys.executable}), {platform.platform()}")


def check_keyring(*, needed: bool, demo: bool = False) -> Finding:
    """The store's own verdict (a chain is judged by its first backend). Not needed by the demo, nor when every
    secret comes from the CUTOVER_* variables: then a missing keyring is only a warning."""
    from core.secrets import CredentialStore, credentials_from_env

    status = CredentialStore().backend_status()
    if status.usable:
        return Finding("keyring", OK, f"{status.backend} (secure)")
    from_env = not credentials_from_env().missing()
    severity = FAIL if needed and not from_env else WARN
    why = " (not needed: the secrets come from the CUTOVER_* variables)" if from_env else \
        "" if needed else " (not needed by the demo)" if demo else " (needed once a profile's secrets are stored)"
    message, _, fix = status.message.partition("; to fix it, ")
    return Finding("keyring", severity, f"{status.backend}: {message}{why}", fix)


def _writable(path: Path) -> tuple[bool, str]:
    """Can this user write `path` (a folder), or create it? The nearest folder that exists decides."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return False, f"{probe} is a file where a folder should be"
    if not os.access(probe, os.W_OK | os.X_OK):
        return False, f"{probe} is not writable for this user"
    return True, "writable" if probe == path else "will be created"


def check_paths(data_dir: Path | None) -> list[Finding]:
    from core.config import config_path, scan_profiles
    from core.profile import data_root
    from core.logs import log_path

    out = []
    config = config_path()
    ok, how = _writable(config.parent)
    try:
        profiles = scan_profiles()
        broken = [n for n, p in profiles.items() if isinstance(p, CutoverError)]
        read = f"{len(profiles)} profile(s)" + (f", broken: {', '.join(broken)}" if broken else "")
        problem = f"profile {broken[0]}: {profiles[broken[0]]}" if broken else ""
    except CutoverError as exc:
        read, problem = "unreadable", str(exc)
    if not ok or problem:
        out.append(Finding("config", FAIL, f"{config}: {read}; {how}",
                           problem or f"make {config.parent} writable, or set CUTOVER_CONFIG_FILE to a file in a "
                                      f"writable folder"))
    else:
        out.append(Finding("config", OK, f"{config}: {read}, {how}"))
    for check, folder, fix in (
            ("data", data_dir or data_root(), "make it writable, or give the profile another data_dir "
                                              "(`cutover profile add NAME ... --data-dir DIR --replace`)"),
            ("log", log_path().parent, "make it writable (or set XDG_STATE_HOME to a writable folder)")):
        ok, how = _writable(folder)
        out.append(Finding(check, OK, f"{folder}: {how}") if ok else Finding(check, FAIL, f"{folder}: {how}", fix))
    return out


def check_systems(profile, credentials, timeout: float) -> list[Finding]:
    from core.session import test_connection

    fixes = {"credentials": "store the right ones: `cutover credentials set {p}`",
             "missing": "store them: `cutover credentials set {p}` (or set the CUTOVER_* variables)",
             "unreachable": "check the profile's URL and this machine's network or proxy",
             "tls": "check the base URL and the machine's CA certificates",
             "timeout": "try again, or raise --timeout",
             "config": "correct the profile: `cutover profile show {p}`",
             "error": "attach `cutover doctor --bundle FILE` to a support request"}
    checks = asyncio.run(test_connection(profile, credentials, timeout=timeout))
    return [Finding(c.system.lower(), OK if c.ok else FAIL, f"{c.detail} ({c.elapsed_s:.2f} s)",
                    "" if c.ok else fixes.get(c.reason, fixes["error"]).format(p=profile.name)) for c in checks]


@dataclass(frozen=True)
class JournalHealth:
    path: str
    exists: bool
    integrity: str = ""  # SQLite's own verdict: "ok", or its first complaints
    schema_version: int | None = None
    expected_version: int | None = None
    apply_holder: str = ""  # who holds the apply lock right now
    open_by: tuple[str, ...] = ()  # other processes with the journal open


def journal_health(data_dir: Path) -> JournalHealth:
    """Read-only: PRAGMA integrity_check and user_version, the apply lock's holder, who else has it open."""
    from filelock import FileLock, Timeout

    from core.journal import SCHEMA_VERSION
    from core.locking import APPLY_LOCK, apply_holder, present

    path = data_dir / "journal.db"
    if not path.is_file():
        return JournalHealth(str(path), False, expected_version=SCHEMA_VERSION)
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2)
    try:
        verdict = [row[0] for row in db.execute("PRAGMA integrity_check(5)")]
        schema = int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()
    holder = ""
    if (data_dir / APPLY_LOCK).exists():
        lock = FileLock(data_dir / APPLY_LOCK, timeout=0, thread_local=False)
        try:
            lock.acquire()
            lock.release()  # nobody held it: a killed apply's record is history, not a holder
        except Timeout:
            found = apply_holder(data_dir)
            holder = f"{found.describe()} step {found.step or '?'}" if found else "another process"
    others = tuple(h.describe() for h in present(path))
    return JournalHealth(str(path), True, "; ".join(verdict), schema, SCHEMA_VERSION, holder, others)


def check_journal(data_dir: Path) -> Finding:
    try:
        health = journal_health(data_dir)
    except sqlite3.Error as exc:
        return Finding("journal", FAIL, f"{data_dir / 'journal.db'} cannot be read: {exc}",
                       "move it aside and restore it from a backup (the report and the audit live in it)")
    if not health.exists:
        return Finding("journal", OK, f"{health.path}: not begun yet (the first command that records makes it)")
    held = (f"; apply running: {health.apply_holder}" if health.apply_holder else "") + (
        f"; open by {', '.join(health.open_by)}" if health.open_by else "")
    if health.integrity != "ok":
        return Finding("journal", FAIL, f"{health.path}: integrity check failed: {health.integrity}{held}",
                       "stop every cutover on this profile, move the file aside and restore it from a backup")
    if health.schema_version > health.expected_version:
        return Finding("journal", FAIL, f"{health.path}: schema {health.schema_version}, newer than this cutover "
                                        f"reads ({health.expected_version}){held}", "upgrade cutover")
    older = " (migrated when next opened)" if health.schema_version < health.expected_version else ""
    return Finding("journal", OK, f"{health.path}: integrity ok, schema {health.schema_version}{older}{held}")


# ---- all of it --------------------------------------------------------------------------------------------------
def run_checks(profile=None, credentials=None, *, demo: bool = False, timeout: float = 10.0,
               credentials_error: CutoverError | None = None) -> list[Finding]:
    """Every check; the systems and the journal only when there is a profile (or the demo's)."""
    findings = [check_version(), check_keyring(needed=profile is not None and not demo, demo=demo)]
    findings += check_paths(profile.data_dir if profile is not None else None)
    if profile is None:
        findings.append(Finding("systems", WARN, "no profile given, so Zuora and NetSuite were not tried",
                                "`cutover doctor --profile NAME` (or --demo, or `cutover profile default NAME`)"))
        return findings
    if credentials_error is not None:
        findings.append(Finding("systems", FAIL, f"not tried: {credentials_error.message}",
                                credentials_error.hint or f"`cutover credentials set {profile.name}`"))
    else:
        findings += check_systems(profile, credentials, timeout)
    findings.append(check_journal(Path(profile.data_dir)))
    return findings


def passed(findings: Iterable[Finding]) -> bool:
    return all(f.status != FAIL for f in findings)


def to_dict(findings: list[Finding], profile_name: str | None) -> dict:
    return {"ok": passed(findings), "profile": profile_name, "checks": [asdict(f) for f in findings]}


# ---- the support bundle -----------------------------------------------------------------------------------------
def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    out = {"cutover": version(), "python": sys.version.split()[0], "platform": platform.platform()}
    for name in LIBRARIES:
        try:
            out[name] = installed(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _scrubbed(text: str) -> str:
    """Redacted by the log's own rules, then every secret value this process can see replaced outright: a secret
    pasted somewhere no rule expects (a config comment, a URL path) still never leaves."""
    from core.logs import REDACTED, redact
    from core.secrets import credentials_from_env

    text = redact(text)
    for value in sorted(credentials_from_env().secret_values(), key=len, reverse=True):
        if value and len(value) >= 4:
            text = text.replace(value, REDACTED)
    return text


def _config_text() -> str:
    from core.config import config_path

    path = config_path()
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"# {path}: not readable ({exc.strerror or exc})\n"


def _last_log(limit: int = 1_000_000) -> str:
    from core.logs import log_path

    try:
        data = log_path().read_bytes()
    except OSError as exc:
        return f"(no log file at {log_path()}: {exc.strerror or exc})\n"
    return data[-limit:].decode("utf-8", errors="replace")


def support_bundle(path: Path, findings: list[Finding], profile=None) -> Path:
    """A zip for a support request: about.json (versions, the findings, which CUTOVER_* variables are set, never
    their values), config.toml, cutover.log and journal.json (integrity, schema, holder; no records)."""
    about = {
        "written_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": _versions(),
        "doctor": to_dict(findings, profile.name if profile is not None else None),
        "environment_variables_set": sorted(k for k in os.environ if k.startswith("CUTOVER_")
                                            or k in ("PYTHON_KEYRING_BACKEND", "TEXTUAL_THEME")),
    }
    journal = None
    if profile is not None:
        try:
            journal = asdict(journal_health(Path(profile.data_dir)))
        except sqlite3.Error as exc:
            journal = {"error": str(exc)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("about.json", _scrubbed(json.dumps(about, indent=1, ensure_ascii=False)))
        bundle.writestr("config.toml", _scrubbed(_config_text()))
        bundle.writestr("cutover.log", _scrubbed(_last_log()))
        bundle.writestr("journal.json", _scrubbed(json.dumps(journal, indent=1)))
    os.replace(part, path)  # a bundle is whole or absent
    return path
