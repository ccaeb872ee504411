"""The twin's forecast as the journal keeps it, and as the sign-off report shows it beside what the run did.

A rehearsal on a twin records the forecast's numbers as a journal baseline (whole numbers by key), so the report
can set each one against the run's own plan and first run without starting a simulator: this module imports
neither the simulator nor the forecast that starts one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

FORECAST_BASELINE = "twin forecast"
C_STEPS = ("C1", "C2", "C3", "C4", "C5")
STRANDED_BY = {"C1": "IIAs", "C2": "negative invoices", "C3": "invoices, payments and refunds",
                "C4": "NetSuite transactions", "C5": "records stuck mid-sync"}


def forecast_counts(plans: Mapping[str, Mapping[str, Any]], checks: list[Mapping[str, Any]],
                    first_run: Mapping[str, Any], as_of: str) -> dict[str, int]:
    """The forecast's numbers that the captured data alone decides (none that grows after the capture)."""
    out = {"captured_on": int(as_of.replace("-", ""))}
    for step, plan in plans.items():
        out[f"{step}.records"] = int(plan["records"])
        out[f"{step}.write_calls"] = int(plan["write_calls"])
        out[f"{step}.apply_s"] = round(plan["apply_s"])
    out |= {f"{c['id']}.stranded": int(c["count"] or 0) for c in checks if c["id"] in C_STEPS}
    out |= {"first_run.accounts": int(first_run["accounts"]), "first_run.accounts_b2": int(first_run["accounts_b2"]),
            "first_run.minutes": round(first_run["minutes"])}
    return out


RUN_FIRST_RUN = "run.first_run.accounts"  # beside the forecast: the accounts the rehearsal's first run picked


def forecast_rows(saved: Mapping[str, int], planned: Mapping[str, int]) -> Iterator[tuple[str, str, str]]:
    """(what, forecast, this run) for the report; `planned` is each step's latest plan size in the journal."""
    def n(value: int | None) -> str:
        return "—" if value is None else f"{value:,}"

    for step, what in (("E1", "AR Mig memos to mark (E1)"), ("E2", "credit-balance memos to mark (E2)")):
        if f"{step}.records" in saved:
            yield (what, (f"{n(saved[f'{step}.records'])} in {n(saved[f'{step}.write_calls'])} write calls, about "
                          f"{n(saved[f'{step}.apply_s'])} s"), n(planned.get(step)))
    for step in C_STEPS:
        if f"{step}.stranded" in saved:
            yield (f"{STRANDED_BY[step]} stranded if {step} were skipped", n(saved[f"{step}.stranded"]), "—")
    if "first_run.accounts" in saved:
        yield ("accounts in the new connector's first run (customer sync from 1970)",
               (f"{n(saved['first_run.accounts'])} ({n(saved['first_run.accounts_b2'])} activated by B2), about "
                f"{n(saved['first_run.minutes'])} min"), n(saved.get(RUN_FIRST_RUN)))
    yield ("payments G2 back-fills", "grows with the payments typed into NetSuite after the capture",
           n(planned.get("G2")))
