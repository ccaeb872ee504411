"""The runbook as data, and the engine that checks, records and fixes it.

- model.py: Phase, Kind, Status, Step, Check/Part, CheckResult, StepState, PlanSummary, ApplyProgress (start here)
- vocabulary.py: Phase, Kind, Status alone, standard library only (the app's first frame draws with them)
- variables.py: RunVariables (freeze_ts, cutover dates, ids, decisions), parsed from what a person types
- steps/: every step A1 … I2 and B2/V1 … V9, one module per phase; phases.py: RUNBOOK, find_step, select_steps
- checks.py: runs a step's Check (Data Query / SuiteQL counts and samples); probes.py: the API probes
- state.py: folds results, confirmations, tickets and gates into a step's status
- engine.py: Runbook(profile, journal, clients): check, states, confirm, tickets, plan/apply
- actions.py: the fixes (E1, E2, G2): plan -> dry run -> apply with resume -> re-check
- tickets.py: drafts with ids, dates and counts filled in; render.py: plain-text views for the TUI and CLI
The journal (variables, results, confirmations, plans, audit, the apply lock) is core/journal.py.
"""
