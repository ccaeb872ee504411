"""`cutover report`: the sign-off report of a profile's run (runbook I2), from the journal alone (core only).

Markdown by default, to stdout or to `-o FILE`; `--format html` writes one self-contained, print-ready page (A4 or
`--paper letter`), `--format json` one object, `--format pdf` a PDF (the pdf extra, or Chromium where installed).
The format follows the file name when `--format` is not given (report.html is HTML, report.pdf a PDF).
"""

from __future__ import annotations

import sys

from cli.target import add_target, resolve_target


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="write the sign-off report (Markdown, HTML, JSON or PDF)",
                              description=__doc__.splitlines()[0])
    add_target(p)
    p.add_argument("--format", choices=("md", "html", "json", "pdf"), help="default: from -o's suffix, else md")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", help="page size of HTML and PDF (default a4)")
    p.set_defaults(func=_report)


def _report(args) -> int:
    from contextlib import ExitStack

    from core.report import format_for, write_report
    from core.run import Run

    fmt = args.format or format_for(args.output)
    with ExitStack() as stack:
        profile, _ = resolve_target(args, stack, credentials=False)
        run = stack.enter_context(Run(profile))
        path = write_report(run, args.output, fmt, paper=args.paper)  # `| head` closing early: cutover's handler says so
    if path is not None:
        print(f"sign-off report written to {path}", file=sys.stderr)
    return 0
