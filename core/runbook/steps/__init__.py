"""Every step of runbook.md, one module per phase. Each module exports STEPS, a tuple in runbook order."""
