"""Literals in the two SQL dialects the tool writes: Zuora Data Query (Trino) and NetSuite SuiteQL (Oracle-like).

The checks, the actions and the monitor all build their queries with these, so a value is quoted one way.
"""

from __future__ import annotations

from datetime import date, datetime


def quote(text: object) -> str:
    """A string literal: single quotes, inner quotes doubled (the same in both dialects)."""
    return "'" + str(text).replace("'", "''") + "'"


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def zuora_date(value: date | datetime) -> str:
    return f"DATE '{_day(value).isoformat()}'"


def zuora_timestamp(value: datetime) -> str:
    return f"TIMESTAMP '{value.strftime('%Y-%m-%d %H:%M:%S')}'"


def netsuite_date(value: date | datetime) -> str:
    return f"TO_DATE('{_day(value).isoformat()}', 'YYYY-MM-DD')"


def netsuite_timestamp(value: datetime) -> str:
    return f"TO_TIMESTAMP('{value.strftime('%Y-%m-%d %H:%M:%S')}', 'YYYY-MM-DD HH24:MI:SS')"
