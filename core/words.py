"""Counted nouns in the tool's sentences: "1 check", "3 checks", "1 payment stuck". Standard library only, so the
CLI's and the app's first lines can use it."""

from __future__ import annotations

_IRREGULAR = {"entry": "entries", "query": "queries", "currency": "currencies", "is": "are", "was": "were",
              "has": "have", "memo": "memos", "this": "these"}


def plural(n: int, noun: str, many: str | None = None, *, number: bool = True) -> str:
    """"1 step", "2 steps", "1,200 write calls" (the last word is the one counted); `many` for a form the rule
    misses; `number=False` gives the noun alone, for "1 step is" / "2 steps are" built by the caller."""
    if n == 1:
        word = noun
    elif many is not None:
        word = many
    else:
        head, _, last = noun.rpartition(" ")
        word = (head + " " if head else "") + _IRREGULAR.get(last, _regular(last))
    return f"{n:,} {word}" if number else word


def _regular(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def counted(n: int, label: str) -> str:
    """A check part's label, written in the plural ("draft accounts with credit balance"), with its count: for 1
    its first counted noun goes singular ("1 draft account with credit balance", "1 IIA not yet in NetSuite")."""
    if n != 1 or label.startswith("of "):  # "1 of them on invoices …" counts within another count
        return f"{n:,} {label}"
    words = label.split(" ")
    for i, word in enumerate(words):
        if _is_plural_noun(word):
            words[i] = _singular(word)
            break
    return "1 " + " ".join(words)


def _is_plural_noun(word: str) -> bool:
    # "accounts", "IIAs"; not "Updates" (part of a field's name), "is", "has" or "this".
    if len(word) < 4 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return False
    return word.islower() or word[:-1].isupper()


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1]
