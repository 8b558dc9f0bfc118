"""The zombie-run automation: a flow run whose heartbeats stop is marked Crashed.

A flow run whose process dies with its host (or by SIGKILL) cannot report its end, so the
server shows it 'Running' forever, and the retrain gate would count it as a training in
progress. Flow runs send a heartbeat event every PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds
(`make serve` gives its worker 60 s; Prefect's default is 180 s); this automation, Prefect's
documented recipe, marks a run Crashed when neither a heartbeat nor a final state follows
within `ZOMBIE_AFTER`. `python -m nids.services.zombies` creates it on the server that
PREFECT_API_URL names, unless it exists (`make serve` runs it).
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta

from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification

logger = logging.getLogger(__name__)

AUTOMATION_NAME = "nids: crash zombie flow runs"
# Three heartbeats at Prefect's default frequency (180 s) may go missing before a run counts
# as dead, so runs started outside the worker are never crashed by mistake.
ZOMBIE_AFTER = timedelta(minutes=10)
FINAL_EVENTS = ("Completed", "Failed", "Cancelled", "Crashed")


def zombie_automation(after: timedelta = ZOMBIE_AFTER) -> Automation:
    """After each heartbeat of a flow run, expect another one or a final state `after`."""
    return Automation(
        name=AUTOMATION_NAME,
        description="Marks a flow run Crashed when its heartbeats stop (its process died).",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat",
                    *(f"prefect.flow-run.{state}" for state in FINAL_EVENTS)},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=after,
        ),
        actions=[ChangeFlowRunState(
            state=StateType.CRASHED,
            message=f"No heartbeat for {after}: the flow run's process is gone.",
        )],
    )


def ensure_zombie_automation() -> bool:
    """Create the automation unless one of that name exists; True when created."""
    try:
        Automation.read(name=AUTOMATION_NAME)
        return False
    except ValueError:  # Prefect's "not found"
        zombie_automation().create()
        logger.info("Created the automation %r", AUTOMATION_NAME)
        return True


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    created = ensure_zombie_automation()
    logger.info("Automation %r %s", AUTOMATION_NAME, "created" if created else "already there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
