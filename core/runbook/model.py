"""The runbook's vocabulary: phases, kinds, statuses, steps, checks and their results. No I/O here.

A TUI renders any phase from these objects alone:

- `RUNBOOK` (core.runbook.phases) is the ordered tuple of every `Step`; `find_step("V1")` resolves ids and aliases,
  `select_steps(["C", "E1"])` expands phases and ids.
- A `Step` says what to show: `id`, `phase`, `title`, `kind` (+ `also` for mixed steps such as "AUTO query; HUMAN
  sync trigger"), `why`, `doc_url`, numbered `instructions` (HUMAN part), a `ticket` template (TICKET part), the
  `action` id when the tool can fix it (plan -> dry run -> confirm -> apply -> verify), the run variables it
  `needs`, and the steps that `gates` it (e.g. H1 is refused until E1 passes).
- A `CheckResult` is one run of a step's check: `status`, `count`, one-line `summary`, `sample` rows (<= 20 dicts
  with ids and numbers), per-part counts in `details`, the `query` text used, `checked_at` and `error`.
- A `StepState` (engine.Runbook.state(step_id)) folds the latest result, the person's confirmation and the ticket
  number into the status to draw, and says what blocks the step (`missing` variables, `blocked_by` gates).
- `ApplyProgress` is what a progress bar needs during an apply (done/total, rate, ETA, failures); a
  `PlanSummary` is the dry run's headline (records, write calls, estimate at the tenant's limit).
- Run variables (freeze_ts, cutover dates, ids, decisions) are `core.runbook.variables.RunVariables`.

Statuses are strings so they go straight to JSON: "pass", "fail", "needs-action", "error", "not-run", and the
three a fold adds: "blocked" (a gate step is not done, `blocked_by` names it), "waived" (a person accepted what the
check found, on purpose, with a reason) and "not-needed" (the A3 path makes the step irrelevant). A step is *done*
when it is pass, waived or not-needed: that is what a gate and the rehearsal's verdict ask for.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import SecretStr

from core.errors import ConfigError
from core.runbook.variables import RunVariables
from core.runbook.vocabulary import Kind, Phase, Status  # noqa: F401  (re-exported: the runbook's words)
from core.sql_literals import netsuite_date, netsuite_timestamp, zuora_date, zuora_timestamp

System = Literal["zuora", "netsuite", "journal"]
_SCRIPT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_PATH_LINE = re.compile(r"^\[([a-z-]+)\] (.*)$")  # an instruction for one provisioning path (Step.instructions_on)


def utc_now() -> str:
    """The journal's and the results' timestamp format: ISO 8601 UTC, second precision, sortable as text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- what a query builder may read ------------------------------------------------------------------------------
class MissingInput(ConfigError):
    """A run variable or a NetSuite field mapping the check needs is not recorded yet."""


@dataclass
class QueryContext:
    """What a query builder may read: run variables, the profile's NetSuite script ids, the latest results, the
    baselines recorded earlier in the run."""

    variables: RunVariables
    fields: Mapping[str, str | None]
    sync_updates_yes: str = "Yes"
    profile_name: str = ""
    results: Mapping[str, CheckResult] = field(default_factory=dict)
    invoice_settlement: bool | None = None
    zuora_base_url: str | None = None
    secrets: Mapping[str, SecretStr] = field(default_factory=dict)
    step_states: Callable[[], list[StepState]] | None = None
    recorded_baseline: Callable[[str], dict[str, int] | None] = lambda name: None

    def var(self, name: str) -> Any:
        try:
            return self.variables.require(name)  # not recorded, or stored but unreadable: both say how to set it
        except ConfigError as exc:
            raise MissingInput(exc.message, hint=exc.hint) from None

    def ns(self, key: str) -> str:
        """The profile's script id for a NetSuite custom field, checked to be a plain identifier."""
        script_id = self.fields.get(key)
        if not script_id:
            raise MissingInput(f"NetSuite field {key} is not mapped in profile {self.profile_name}",
                               hint=f"cutover profile fields {self.profile_name} --apply, or --field {key}=SCRIPTID")
        if not _SCRIPT_ID.match(script_id):
            raise ConfigError(f"NetSuite field {key} has a bad script id {script_id!r}",
                              hint="script ids are letters, digits and underscores, e.g. custbodyzuoraid")
        return script_id

    def since(self, column: str, name: str) -> str:
        """` AND column >= DATE '…'` when the cutover date is recorded, else nothing (no cutover = no bound)."""
        value = self.variables.get(name)
        return f" AND {column} >= {zuora_date(value)}" if value is not None else ""

    def timestamp(self, name: str) -> str:
        return zuora_timestamp(self.var(name))

    def ns_date(self, name: str) -> str:
        return netsuite_date(self.var(name))

    def ns_timestamp(self, name: str) -> str:
        return netsuite_timestamp(self.var(name))

    def baseline(self, step_id: str, label: str) -> int | None:
        result = self.results.get(step_id)
        return None if result is None else result.details.get(label)


# ---- checks ---------------------------------------------------------------------------------------------------
Where = str | Callable[[QueryContext], str]


def resolve(where: Where, ctx: QueryContext) -> str:
    """A Where (text, or a builder of the QueryContext) as SQL text."""
    return where(ctx) if callable(where) else where


@dataclass(frozen=True)
class Part:
    """One counted condition of a check: `SELECT count(*) FROM {source} WHERE {where}` plus a sample.

    `where` may be a callable of the QueryContext, which fills in run variables (cutover dates, freeze_ts) and the
    profile's NetSuite script ids. `role="info"` parts are counted and shown but never fail the step (baselines).
    `invoice_settlement=True` parts only run once IS is on (CreditMemo tables exist only then), False only before.
    """

    label: str  # a noun phrase for the summary: "IIAs not yet in NetSuite"
    system: System
    source: str  # FROM clause, e.g. "invoice i JOIN account a ON a.id = i.accountid"
    where: Where
    columns: Where  # the sample's columns: ids, numbers, amounts, statuses
    order: str = "1"
    role: Literal["problem", "info"] = "problem"
    invoice_settlement: bool | None = None
    # Cross-system parts (H2): Zuora SQL whose `id` column feeds the NetSuite query's `{ids}` list, in chunks.
    ids_from: Where | None = None


# A pass rule: (status, summary), or (status, summary, count) to set the step's count; None keeps the default.
Rule = Callable[[Mapping[str, int], QueryContext], tuple["Status", str] | tuple["Status", str, int] | None]
# An API probe: (step, context, clients, the counted parts' result or None) -> the step's result.
Probe = Callable[["Step", QueryContext, Any, "CheckResult | None"], Awaitable["CheckResult"]]


@dataclass(frozen=True)
class Check:
    """A declarative check. The engine counts each part server-side (Data Query count(*), SuiteQL COUNT), fetches
    a sample of at most 20 rows only from parts that found something, and applies the pass rule:
    by default pass when every problem part counts 0, else `fail_status`. `rule` replaces that for comparisons
    (D2 against the C2 baseline); `probe` replaces the queries altogether for API probes (A1, F1, I2)."""

    ok: str  # the summary when it passes: "Every IIA is in NetSuite"
    parts: tuple[Part, ...] = ()
    fail_status: Status = Status.FAIL
    rule: Rule | None = None
    probe: Probe | None = None  # core.runbook.probes
    headline: str | None = None  # the part whose count is the step's count (default: sum of problem parts)
    records: str | None = None  # a run variable set to the time this check first passes (D1: is_enabled_ts)
    # Steps checked afresh first, each time this check runs: a sign-off must not lean on a result the world has
    # moved past since (the old connector started again after E3 passed).
    refreshes: tuple[str, ...] = ()


# ---- steps ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TicketTemplate:
    """Support ticket text. `{name}` is a run variable (`{old_cutover_dates.invoice}` works), `{r[C2].count}`,
    `{r[C2].summary}`, `{r[C2].line}` read the latest check result of a step, `{profile}` the profile name."""

    subject: str
    body: str
    variable: str | None = None  # the run variable that mirrors the ticket number (B1 -> b1_ticket)
    # Run variables the ticket can go without: a line naming one that is not recorded is left out of the draft.
    # Every other variable it names is asked for before drafting (core.runbook.tickets.ticket_needs).
    optional: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    id: str  # "A1", "B2/V1", "F3a": the runbook's own ids
    phase: Phase
    title: str
    kind: Kind
    why: str
    doc_url: str
    also: Kind | None = None  # the secondary part of a mixed step
    check: Check | None = None
    instructions: tuple[str, ...] = ()  # numbered steps for the person; `{name}` fills in run variables
    ticket: TicketTemplate | None = None
    action: Any = None  # the core.runbook.fixes.Fix the tool writes itself (E1, E2, G2): plan, dry run, apply
    stand_in: Any = None  # the core.runbook.stand_ins.StandIn a rehearsal plays for the person or Support
    confirm: bool = False  # passing also needs a person's recorded confirmation
    needs: tuple[str, ...] = ()  # run variables that must be set before it can pass or be confirmed
    gates: tuple[str, ...] = ()  # steps that must pass before this one may be confirmed or applied
    paths: tuple[str, ...] = ()  # provisioning paths (A3) it applies to; empty = always
    parent: str | None = None  # "B2" for the V rows
    aliases: tuple[str, ...] = ()  # "V1" for "B2/V1"
    children: tuple[str, ...] = ()  # B2 -> its V rows; a parent's status is the worst of its children

    @property
    def kinds(self) -> str:
        """"AUTO", or "AUTO + HUMAN" for a mixed step."""
        return f"{self.kind} + {self.also}" if self.also else str(self.kind)

    def instructions_on(self, provisioning_path: str | None) -> tuple[str, ...]:
        """The instructions for the A3 path chosen: a line written "[new-instance] …" is for that path only (said
        as "On path new-instance: …" while no path is chosen), every other line is for all paths."""
        out = []
        for line in self.instructions:
            match = _PATH_LINE.match(line)
            if match is None:
                out.append(line)
            elif provisioning_path is None:
                out.append(f"On path {match[1]}: {match[2]}")
            elif match[1] == provisioning_path:
                out.append(match[2])
        return tuple(out)

    def applies_to(self, provisioning_path: str | None) -> bool:
        return not self.paths or provisioning_path is None or provisioning_path in self.paths


# ---- results --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckResult:
    step_id: str
    status: Status
    count: int | None
    summary: str
    sample: tuple[dict[str, Any], ...] = ()
    query: str = ""
    checked_at: str = field(default_factory=utc_now)
    error: str | None = None
    details: dict[str, int] = field(default_factory=dict)  # per-part counts, by part label
    # Per-key counts to keep for a later comparison (D2 records NetSuite's credits per customer for H2).
    baselines: dict[str, dict[str, int]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def line(self) -> str:
        """One line for tickets and reports: "C2 fail: 17 negative invoices not yet in NetSuite (2026-…Z)"."""
        return f"{self.step_id} {self.status}: {self.summary} (checked {self.checked_at})"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.step_id, "status": str(self.status), "count": self.count, "summary": self.summary,
                "checked_at": self.checked_at, "error": self.error, "details": dict(self.details),
                "sample": [dict(r) for r in self.sample], "query": self.query}


@dataclass(frozen=True)
class Confirmation:
    step_id: str
    who: str
    at: str
    note: str


@dataclass(frozen=True)
class Waiver:
    """A person accepted what a step's check found, on purpose: who, when and why."""

    step_id: str
    who: str
    at: str
    reason: str


@dataclass(frozen=True)
class TicketRecord:
    step_id: str
    number: str
    who: str
    at: str


@dataclass(frozen=True)
class StepState:
    """What the checklist draws for one step right now."""

    step: Step
    status: Status
    summary: str
    result: CheckResult | None = None
    confirmation: Confirmation | None = None
    ticket: TicketRecord | None = None
    missing: tuple[str, ...] = ()  # run variables still to record
    blocked_by: tuple[str, ...] = ()  # gate steps not yet done
    applicable: bool = True  # False when A3's path makes it irrelevant (F3a/F3b/F3c)
    waiver: Waiver | None = None  # the standing waiver, shown even once the step passes on its own

    def to_dict(self) -> dict[str, Any]:
        base = self.result.to_dict() if self.result else {
            "id": self.step.id, "count": None, "checked_at": None, "error": None, "details": {}, "sample": [],
            "query": ""}
        base.update(id=self.step.id, phase=self.step.phase.letter, kind=self.step.kinds, title=self.step.title,
                    status=str(self.status), summary=self.summary, missing=list(self.missing),
                    blocked_by=list(self.blocked_by), applicable=self.applicable,
                    confirmed_by=self.confirmation.who if self.confirmation else None,
                    confirmed_at=self.confirmation.at if self.confirmation else None,
                    ticket=self.ticket.number if self.ticket else None,
                    waived_by=self.waiver.who if self.waiver else None,
                    waived_at=self.waiver.at if self.waiver else None,
                    waiver_reason=self.waiver.reason if self.waiver else None)
        return base


# ---- plan and apply ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanSummary:
    """A stored plan: the exact records live in the journal (stream them with Journal.iter_plan_items)."""

    plan_id: int
    step_id: str
    system: System
    object: str  # "CreditMemo", "customerPayment"
    field: str  # "transferredToAccounting", or the NetSuite script id
    new_value: str
    total: int
    calls: int  # write calls the apply will make
    estimate_s: float  # at the tenant's concurrency limit
    limit: int  # that limit
    created_at: str
    status: str  # planned | applying | done | cancelled | failed
    counts: dict[str, int] = field(default_factory=dict)  # item status -> count
    seal: str | None = None  # SHA-256 of what the plan shows (Journal.seal_of); None: made before plans were sealed
    undoes: int | None = None  # an undo plan (core.runbook.undo): the plan whose writes it takes back
    override_reason: str | None = None  # why an undo of E1/E2 goes ahead after H1, as the person typed it
    created_by: str | None = None

    @property
    def remaining(self) -> int:
        return self.counts.get("pending", 0) + self.counts.get("sent", 0) + self.counts.get("failed", 0)

    @property
    def short_seal(self) -> str:
        """The seal as a person compares it: its first 8 hex digits."""
        return (self.seal or "unsealed")[:8]


@dataclass(frozen=True)
class ApplyProgress:
    done: int  # items confirmed this plan (including earlier runs)
    total: int
    failed: int
    rate_per_s: float
    eta_s: float | None
    skipped: int = 0  # records left alone: no longer selected, or changed since the plan


@dataclass(frozen=True)
class ApplyOutcome:
    plan: PlanSummary
    written: int  # write calls' successful items in this run
    failed: int
    already_set: int  # found already at the new value when resuming
    cancelled: bool
    write_calls: int
    recheck: CheckResult | None
    skipped: int = 0  # records this run left alone: no longer selected, or changed since the plan
