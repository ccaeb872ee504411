"""What an apply left failed, for the person: each distinct reason once, how many records it holds back, an example,
and (in the reason itself, as the clients word it) the next step.

A memo's retryable failures were already retried inside the apply (core.zuora.memos); what is listed here is what
stayed failed. Applying the step again sends these records again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from core.journal import Journal
from core.words import plural


@dataclass(frozen=True)
class FailedReason:
    reason: str  # the vendor's reason and what to do next
    records: int
    example: str  # one record's number (or id), for looking it up


def failures_left(journal: Journal, plan_id: int, *, most: int = 5) -> list[FailedReason]:
    """The plan's failed records grouped by reason, the commonest first; at most `most` reasons."""
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for item in journal.iter_plan_items(plan_id, ("failed",)):
        reason = item.get("error") or "no reason was recorded"
        counts[reason] += 1
        examples.setdefault(reason, str(item.get("number") or item["record_id"]))
    return [FailedReason(reason, n, examples[reason]) for reason, n in counts.most_common(most)]


def failure_lines(journal: Journal, plan_id: int, *, most: int = 5) -> list[str]:
    """The same as sentences, one a reason."""
    return [f"{plural(f.records, 'record')} failed (e.g. {f.example}): {f.reason}"
            for f in failures_left(journal, plan_id, most=most)]
