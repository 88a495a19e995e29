"""The retail playbook: what the embedded engine knows about the retail team.

Referenced from ``agents/teams/retail.yaml`` as
``engine: switchboard.domains.retail.playbook:PLAYBOOK``. It assembles the intents
(:mod:`.playbook_intents`, :mod:`.playbook_intents_desk`) and their
vocabulary (:mod:`.playbook_vocabulary`), the recipes of each desk
(:mod:`.playbook_customer`, :mod:`.playbook_finance`, :mod:`.playbook_desks`),
each owner's recipe preceded by the shared identification of the customer
and order (:mod:`.playbook_identify`), the supervisor's instructions
(:mod:`.playbook_instruct`) and the slot extractor (:mod:`.slots`).
"""

from __future__ import annotations

from switchboard.domains.retail import playbook_customer as customer
from switchboard.domains.retail import playbook_desks as desks
from switchboard.domains.retail import playbook_finance as finance
from switchboard.domains.retail import playbook_intents as orders
from switchboard.domains.retail import playbook_intents_desk as desk
from switchboard.domains.retail.playbook_identify import owner_first
from switchboard.domains.retail.playbook_instruct import INSTRUCTIONS
from switchboard.domains.retail.playbook_vocabulary import SYNONYMS
from switchboard.domains.retail.slots import extract_slots
from switchboard.engine import Playbook, Recipe, Skill

_SKILLS: tuple[tuple[str, Recipe, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "identify_customer",
        customer.identify_customer,
        "Find the customer by email, or by name and zip code, and read their profile and orders.",
        ("find_user_id_by_email", "get_user_details"),
        ("Identify the customer by email and read their order.", "Look up the customer's account."),
    ),
    (
        "notify_customer",
        owner_first(customer.notify_customer, needs=("user_id",)),
        "Send the customer a message that sums up what was done.",
        ("notify_customer",),
        ("Let the customer know their refund is on its way.", "Send the customer a summary."),
    ),
    (
        "human_handoff",
        customer.human_handoff,
        "Transfer the conversation to a human agent with a summary.",
        ("transfer_to_human_agents",),
        ("Transfer the customer to a human agent.",),
    ),
    (
        "track_shipment",
        owner_first(desks.track_shipment),
        "Report the tracking numbers and delivery state of an order's shipments.",
        ("get_order_details",),
        ("Report the tracking numbers of the order.", "Where is the package?"),
    ),
    (
        "change_address",
        owner_first(desks.change_address),
        "Change the shipping address of a pending order, or the customer's default address.",
        ("modify_pending_order_address", "modify_user_address"),
        ("Change the shipping address of the pending order.", "Update the default address."),
    ),
    (
        "schedule_pickup",
        owner_first(desks.schedule_pickup),
        "Schedule a courier pickup for items being returned or exchanged.",
        ("schedule_return_pickup",),
        ("Schedule a courier pickup for the returned items.",),
    ),
    (
        "product_lookup",
        desks.product_lookup,
        "Look up products, their variants, options, prices and availability; find new variants.",
        ("list_all_product_types", "get_product_details"),
        ("Find an available variant for the items.", "Answer the product question."),
    ),
    (
        "restock_returns",
        desks.restock_returns,
        "Receive returned items back into stock.",
        ("receive_returned_items",),
        ("Receive the returned items back into stock.",),
    ),
    (
        "process_return",
        owner_first(finance.process_return),
        "Request the return of delivered items and choose where the refund goes.",
        ("return_delivered_order_items",),
        ("Request the return of the items of the delivered order; refund them.",),
    ),
    (
        "issue_refund",
        owner_first(finance.issue_refund),
        "Refund returned items once they have been received.",
        ("issue_return_refund",),
        ("Issue the refund for the received return.",),
    ),
    (
        "cancel_order",
        owner_first(finance.cancel_order),
        "Cancel a pending order and refund its payments.",
        ("cancel_pending_order",),
        ("Cancel the pending order.",),
    ),
    (
        "change_payment",
        owner_first(finance.change_payment),
        "Change the payment method of a pending order.",
        ("modify_pending_order_payment",),
        ("Switch the payment of the pending order to another method.",),
    ),
    (
        "modify_items",
        owner_first(finance.modify_items),
        "Swap items of a pending order for other variants of the same product.",
        ("modify_pending_order_items",),
        ("Change the items of the pending order for new items.",),
    ),
    (
        "process_exchange",
        owner_first(finance.process_exchange),
        "Exchange delivered items for other variants of the same product.",
        ("exchange_delivered_order_items",),
        ("Exchange the items of the delivered order for new items.",),
    ),
    (
        "record_return_reason",
        desks.record_return_reason,
        "Record the reason a customer gave for returning or exchanging items.",
        ("record_return_reason",),
        ("Record the return reason for the order.",),
    ),
    (
        "return_trends",
        desks.return_trends,
        "Report return reasons and trends across orders.",
        ("get_return_reason_stats",),
        ("Report the most common return reasons and trends.",),
    ),
)

INTENTS = (
    orders.RETURN,
    orders.EXCHANGE,
    orders.MODIFY_ITEMS,
    orders.CANCEL,
    orders.CHANGE_ADDRESS,
    orders.CHANGE_PAYMENT,
    orders.TRACKING,
    desk.PRODUCT_QUESTION,
    desk.RETURN_TRENDS,
    desk.HUMAN,
    desk.ACCOUNT,
    desk.PICKUP,
    desk.RESTOCK,
    desk.REFUND,
    desk.RECORD_REASON,
    desk.NOTIFY,
)
"""Every retail intent, in the order ties are broken."""

PLAYBOOK = Playbook(
    name="retail",
    intents=INTENTS,
    skills=tuple(
        Skill(
            id=sid,
            recipe=recipe,
            description=desc,
            tools=tools,
            examples=examples,
            instruct=INSTRUCTIONS[sid],
        )
        for sid, recipe, desc, tools, examples in _SKILLS
    ),
    extract_slots=extract_slots,
    key_slots=("email", "order_ids", "first_name", "last_name", "zip"),
    synonyms=SYNONYMS,
)
"""The retail team's playbook for the embedded engine."""
