"""Where the clients' retries are told: the `cutover.retry` logger at INFO, so they reach the -v log and never the
terminal.

stamina's own hook logs every scheduled retry at WARNING; under a fault storm that was about a hundred lines on
stderr for retries that all healed. Both clients import this module, which installs the hook once.
"""

from __future__ import annotations

import logging

import stamina.instrumentation

log = logging.getLogger("cutover.retry")


def _told(details: stamina.instrumentation.RetryDetails) -> None:
    log.info("retry %d of %s in %.2f s (%.2f s waited so far) after %r", details.retry_num, details.name,
             details.wait_for, details.waited_so_far, details.caused_by)


stamina.instrumentation.set_on_retry_hooks([_told])
