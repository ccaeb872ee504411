"""A twin of the consultant's own tenant: a read-only snapshot of what the runbook's checks and the connector's
rules read (core.twin.scope), captured through the real clients (core.twin.capture) into a folder of JSON Lines
(core.twin.snapshot), optionally pseudonymised (core.twin.mask), loaded by the simulator instead of a seed
(core.sim.twin_load), and read ahead of time by core.twin.forecast."""
