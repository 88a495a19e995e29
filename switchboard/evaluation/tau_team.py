"""The retail team in τ-bench-exact mode: only τ-bench's operations.

:data:`TEAM_FILE` is the team (``retail-tau.yaml`` beside this module) and
:data:`PLAYBOOK` what the embedded engine knows about it: the retail
playbook with every plan cut down to the skills the team still has. A
return's plan, for one, becomes "request the return, tell the customer",
which is where τ-bench's own return ends.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from switchboard.domains.retail.playbook import PLAYBOOK as RETAIL_PLAYBOOK
from switchboard.engine import Intent, Playbook

TEAM_FILE = Path(__file__).with_name("retail-tau.yaml")
"""The τ-bench-exact retail team; pass it as ``Settings(team=str(TEAM_FILE))``."""

TAU_SKILLS = frozenset(
    {
        "identify_customer",
        "notify_customer",
        "human_handoff",
        "track_shipment",
        "change_address",
        "product_lookup",
        "process_return",
        "cancel_order",
        "change_payment",
        "modify_items",
        "process_exchange",
    }
)
"""Skills carried out with τ-bench's operations alone (plus ``notify_customer``)."""

NOTIFY = "notify_customer"


def tau_exact(playbook: Playbook, skills: frozenset[str] = TAU_SKILLS) -> Playbook:
    """A playbook whose plans use only ``skills``.

    An intent whose plan had nothing left but telling the customer (a
    pickup, a refund of a received return) is dropped, so the engine does
    not match tasks to work this team cannot do.
    """
    intents: list[Intent] = []
    for intent in playbook.intents:
        plan = tuple(step for step in intent.plan if step in skills)
        if plan and (plan == intent.plan or set(plan) != {NOTIFY}):
            intents.append(replace(intent, plan=plan))
    names = {intent.name for intent in intents}
    intents = [i if i.otherwise in names or i.otherwise is None else replace(i, otherwise=None) for i in intents]
    return replace(
        playbook,
        name=f"{playbook.name}-tau",
        intents=tuple(intents),
        skills=tuple(skill for skill in playbook.skills if skill.id in skills),
    )


PLAYBOOK = tau_exact(RETAIL_PLAYBOOK)
"""The embedded engine's playbook for the τ-bench-exact retail team."""
