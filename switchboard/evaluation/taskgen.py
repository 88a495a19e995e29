"""Tasks in τ-bench's format for generated data, with their reference actions.

The project ships no τ-bench task, so tests and offline smoke runs need
their own. :func:`generate_tasks` picks customers and orders from a
τ-bench-schema directory and writes, for a few intents, what a τ-bench
annotator would: the instruction the simulated user plays from, the actions
a correct agent takes, and the outputs it must tell the user. Each task also
comes with a first-person opening line, for a scripted user.

Intents:

* ``cancel``: cancel a pending order because it is no longer needed;
* ``return``: return every item of a delivered order to the original payment method;
* ``tracking``: a look-up only; the output is the order's tracking number;
* ``which``: the ``return`` of one of a customer's several delivered orders,
  whose opening does not say which: the agent must ask the customer, and
  the scripted user's reply names the order.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard.errors import DataError
from switchboard.evaluation.tasks import TauAction, TauTask

INTENTS = ("cancel", "return", "tracking", "which")
"""The intents :func:`generate_tasks` writes tasks for, in the order it cycles through them."""


@dataclass(frozen=True)
class GeneratedTask:
    """A τ-bench task and the line a scripted customer opens with."""

    task: TauTask
    """The task, as a τ-bench task file holds it."""
    opening: str
    """A first-person request; it carries everything the task needs unless ``replies`` are given."""
    replies: tuple[str, ...] = ()
    """What a scripted customer answers to the agents' questions, in order."""


def generate_tasks(data_dir: str | Path, *, count: int = 3, seed: int = 11) -> list[GeneratedTask]:
    """``count`` tasks over the data in ``data_dir``, cycling through :data:`INTENTS`.

    Each task is about a different order, so the tasks are independent.

    Raises:
        DataError: The data has too few orders of a kind an intent needs.
    """
    users = _read(Path(data_dir) / "users.json")
    orders = _read(Path(data_dir) / "orders.json")
    rng = random.Random(seed)
    pending, delivered = _candidates(orders, "pending", rng), _candidates(orders, "delivered", rng)
    several = _with_siblings(orders, delivered)
    # one pool per status: no order twice
    pools = {"cancel": pending, "return": delivered, "tracking": delivered, "which": several}
    writers: dict[str, Callable[[dict[str, Any], dict[str, Any], str], GeneratedTask]] = {
        "cancel": _cancel,
        "return": _return,
        "tracking": _tracking,
        "which": _which,
    }
    tasks = []
    for number in range(count):
        intent = INTENTS[number % len(INTENTS)]
        if intent == "which":
            several[:] = [o for o in several if o in delivered]  # not taken by another task meanwhile
        if not pools[intent]:
            raise DataError(f"{data_dir} has too few orders for another {intent!r} task; generate fewer")
        order = pools[intent].pop()
        if order in delivered:
            delivered.remove(order)
        tasks.append(writers[intent](users[order["user_id"]], order, f"{intent}-{number}"))
    return tasks


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(f"{path} does not exist; point at a τ-bench-schema data directory")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _candidates(orders: dict[str, Any], status: str, rng: random.Random) -> list[dict[str, Any]]:
    """Orders of ``status`` paid in one payment, in a seeded random order."""
    found = [o for o in orders.values() if o["status"] == status and len(o["payment_history"]) == 1]
    rng.shuffle(found)
    return found


def _with_siblings(orders: dict[str, Any], delivered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The delivered candidates whose customer has another delivered order."""
    count: dict[str, int] = {}
    for order in orders.values():
        if order["status"] == "delivered":
            count[order["user_id"]] = count.get(order["user_id"], 0) + 1
    return [o for o in delivered if count[o["user_id"]] > 1]


def _who(user: dict[str, Any]) -> tuple[str, str]:
    name = f"{user['name']['first_name']} {user['name']['last_name']}"
    return name, user["email"]


def _identify(user: dict[str, Any]) -> TauAction:
    return TauAction(name="find_user_id_by_email", kwargs={"email": user["email"]})


def _cancel(user: dict[str, Any], order: dict[str, Any], task_id: str) -> GeneratedTask:
    name, email = _who(user)
    oid = order["order_id"]
    task = TauTask(
        id=task_id,
        user_id=order["user_id"],
        instruction=f"You are {name} ({email}). You want to cancel your pending order {oid} "
        "because you no longer need it.",
        actions=[
            _identify(user),
            TauAction(name="get_order_details", kwargs={"order_id": oid}),
            TauAction(name="cancel_pending_order", kwargs={"order_id": oid, "reason": "no longer needed"}),
        ],
    )
    opening = f"Hi, I'm {name}, my email is {email}. Please cancel my pending order {oid}, I no longer need it."
    return GeneratedTask(task, opening)


def _return(user: dict[str, Any], order: dict[str, Any], task_id: str) -> GeneratedTask:
    name, email = _who(user)
    oid = order["order_id"]
    items: Sequence[dict[str, Any]] = order["items"]
    method = order["payment_history"][0]["payment_method_id"]
    task = TauTask(
        id=task_id,
        user_id=order["user_id"],
        instruction=f"You are {name} ({email}). You received order {oid} and want to return all of it, "
        "refunded to the payment method you paid with.",
        actions=[
            _identify(user),
            TauAction(name="get_order_details", kwargs={"order_id": oid}),
            TauAction(
                name="return_delivered_order_items",
                kwargs={"order_id": oid, "item_ids": [i["item_id"] for i in items], "payment_method_id": method},
            ),
        ],
    )
    opening = (
        f"Hi, I'm {name} ({email}). I want to return everything from my delivered order {oid} "
        "and get my money back on the card I paid with."
    )
    return GeneratedTask(task, opening)


def _which(user: dict[str, Any], order: dict[str, Any], task_id: str) -> GeneratedTask:
    name, email = _who(user)
    oid = order["order_id"]
    full = _return(user, order, task_id).task
    task = full.model_copy(
        update={
            "instruction": f"You are {name} ({email}). You have several delivered orders and want to return all "
            f"of order {oid}, refunded to the payment method you paid with. Do not give the order id until "
            "you are asked which order you mean."
        }
    )
    opening = (
        f"Hi, I'm {name} ({email}). I want to return everything from one of my delivered orders "
        "and get my money back on the card I paid with."
    )
    return GeneratedTask(task, opening, (f"It is order {oid}.",))


def _tracking(user: dict[str, Any], order: dict[str, Any], task_id: str) -> GeneratedTask:
    name, email = _who(user)
    oid = order["order_id"]
    tracking = order["fulfillments"][0]["tracking_id"][0]
    task = TauTask(
        id=task_id,
        user_id=order["user_id"],
        instruction=f"You are {name} ({email}). You want the tracking number of your order {oid}.",
        actions=[_identify(user), TauAction(name="get_order_details", kwargs={"order_id": oid})],
        outputs=[tracking],
    )
    opening = f"Hi, this is {name}, {email}. Can I get the tracking number for my order {oid}?"
    return GeneratedTask(task, opening)
