"""The retail intents about a customer's orders, and the plan for each.

Every plan starts with the agent that *owns* the request: finance for
returns, exchanges, item changes, cancellations and payments, logistics for
addresses and tracking. That agent identifies the customer and the order
itself (see :mod:`.playbook_identify`) and hands the facts on, so the
supervisor's first hop is the owner, not the front desk. Plans that change an
order end with ``notify_customer``.

``requires`` is checked against ``found_status``: the status the order had
when the owner found it, before anything was changed.
Examples are deliberately varied in wording, length and tone: the matcher
learns from the words they share and the words that tell them apart.
"""

from __future__ import annotations

from switchboard.domains.retail.playbook_common import DELIVERED, PENDING
from switchboard.engine import Intent

RETURN = Intent(
    name="return",
    description="Return delivered items for a refund.",
    plan=(
        "process_return",
        "schedule_pickup",
        "restock_returns",
        "issue_refund",
        "record_return_reason",
        "notify_customer",
    ),
    requires={"found_status": DELIVERED},
    keywords=("return", "refund", "send back", "money back", "returning"),
    examples=(
        "Return order #W2345678, all of it.",
        "Refund please.",
        "I want a refund.",
        "The screen stopped working, I want my money back.",
        "Return the item, it's defective.",
        "Refund me for the broken item please.",
        "I would like to return something I bought from you.",
        "Send a return label, the item is faulty and I want my money back.",
        "This product is junk. Take it back and refund the full amount.",
        "I want to return the headphones from my delivered order and get my money back.",
        "Refund the jacket I received, it's too small.",
        "Hi, I'm Mia Chen, zip 10001. I'd like to return the kettle from order #W1234567.",
        "The blender arrived broken. How do I send it back for a refund?",
        "Please process a return for everything in my last order, refund to my gift card.",
        "My email is sam@example.com. The shoes don't fit, I want to return them.",
        "Can I get a refund for the desk lamp? It stopped working after a day.",
        "I'd like to send back two items from order W7654321 and get refunded to my original card.",
        "Return request: the yoga mat is defective. Please refund my PayPal.",
        "I received the wrong colour backpack and want my money back.",
        "Start a return for the sunglasses I bought, I no longer need them.",
        "The speaker I got is damaged, I'd like to return it and get a refund.",
        "I'm not happy with the office chair, please take it back and refund me.",
    ),
)

EXCHANGE = Intent(
    name="exchange",
    description="Exchange delivered items for another variant of the same product.",
    plan=("process_exchange", "schedule_pickup", "notify_customer"),
    requires={"found_status": DELIVERED},
    otherwise="modify_items",
    keywords=("exchange", "swap", "instead", "different size", "different color"),
    examples=(
        "Can I get the same item in another size? Mine arrived too small.",
        "I'd like a replacement in a different color for the item I received.",
        "The item came in the wrong size, I want to exchange it for the right one.",
        "Exchange the blue water bottle I received for the red one.",
        "The boots I got are too small, I'd like a size 11 instead.",
        "I want to exchange my delivered t-shirt for a large.",
        "Can I swap the headphones I received for the black version?",
        "The jacket arrived but I'd prefer it in green, please exchange it.",
        "My email is lee@example.com. Exchange the keyboard from order #W1112223 for the one with linear switches.",
        "I got the mouse yesterday; could I trade it for the wireless model?",
        "The sneakers fit too tight, can I get them exchanged for a half size up, size 10?",
        "Please exchange the delivered lamp for the same lamp in white.",
        "I received a 500ml bottle but wanted the 1000ml one, exchange please.",
        "Swap the watch I received for one with a leather strap.",
        "The camera I got is the wrong resolution, I'd like to exchange it for the 4K one.",
    ),
)

MODIFY_ITEMS = Intent(
    name="modify_items",
    description="Change items of a pending order to other variants before it ships.",
    plan=("modify_items", "notify_customer"),
    requires={"found_status": PENDING},
    otherwise="exchange",
    keywords=("pending", "before it ships", "not shipped", "modify", "change item"),
    examples=(
        "I placed an order but want a different size of one item, it hasn't shipped yet.",
        "Change the options of an item in my order that is still processing: blue instead of red.",
        "Swap the item in my not-yet-shipped order for the bigger version.",
        "Before it ships, change the t-shirt in my order to size L.",
        "My order hasn't shipped yet, can I switch the kettle to the 2L version?",
        "Please modify my pending order: I want the laptop with 16GB RAM instead.",
        "Change the colour of the backpack in my pending order to navy.",
        "I just ordered a shirt in medium but meant large, can you change it before it ships?",
        "Update the items of order #W2223334, which is still pending: make the mug blue.",
        "Can I still change the size of the shoes in the order I placed yesterday?",
        "Modify the item in my unshipped order to the black one.",
        "I'd like to upgrade the phone in my pending order to the 256GB model.",
        "Before shipping, please switch the headphones in my order to the wireless variant.",
    ),
)

CANCEL = Intent(
    name="cancel",
    description="Cancel a pending order.",
    plan=("cancel_order", "notify_customer"),
    requires={"found_status": PENDING},
    keywords=("cancel", "cancellation", "ordered by mistake", "no longer need"),
    examples=(
        "Stop my order, I don't want it any more.",
        "Cancel order #W5678901 please, I no longer want it.",
        "I regret buying this, please cancel before it's sent.",
        "Halt my purchase, I changed my mind.",
        "Please cancel my order #W1234567, I no longer need it.",
        "I ordered by mistake, cancel it.",
        "Cancel the order I placed this morning.",
        "I'd like to cancel my pending order, I found it cheaper elsewhere.",
        "Can you stop my order before it ships? I don't need it anymore.",
        "My email is ana@example.com, please cancel order W9988776.",
        "I accidentally ordered twice, cancel one of the orders.",
        "Cancel everything I ordered, I changed my mind.",
        "Please call off my order, it was a mistake.",
        "Hi, this is Tom Reed, 94107. I want my pending order cancelled.",
        "I need to cancel an order that hasn't shipped yet.",
    ),
)

CHANGE_ADDRESS = Intent(
    name="change_address",
    description="Change the shipping address of a pending order, or the default address.",
    plan=("change_address", "notify_customer"),
    keywords=("address", "moved", "ship to", "deliver to", "new address"),
    examples=(
        "Send my order to a different address: 14 Birch Court, Reno, NV 89501.",
        "Ship it to my office instead of my home.",
        "Correct the street and zip code of my delivery address.",
        "Redirect my pending delivery to another address.",
        "I moved, please ship my pending order to 12 Oak St, Austin TX 78701.",
        "Update my default address.",
        "Please change the shipping address on order #W1234567 to 45 Pine Ave, Denver, CO 80203.",
        "I gave the wrong address, can you send my order to my office instead?",
        "Change my address on file to 9 Elm Road, Apt 3, Boston, MA 02115.",
        "My order should go to my new apartment, here is the new address.",
        "Can you update where my package is being delivered? It's 300 Main Street, Springfield IL.",
        "I have a new home address, please update my profile.",
        "The delivery address on my pending order is wrong, please fix it.",
        "Ship it to my parents' house instead: 77 Lake Dr, Madison WI 53703.",
        "Please deliver to my neighbour's house rather than mine.",
        "Send it to my workplace, not my home.",
        "I moved house, please change the address you have for me.",
    ),
)

CHANGE_PAYMENT = Intent(
    name="change_payment",
    description="Pay a pending order with another payment method.",
    plan=("change_payment", "notify_customer"),
    requires={"found_status": PENDING},
    keywords=("payment method", "pay with", "pay for", "billing", "switch payment"),
    examples=(
        "Pay for my order with a different credit card please.",
        "Replace the payment method on order #W3456789 with my gift card.",
        "Take the money for my order from PayPal, not my card.",
        "Charge my pending order to my gift card instead.",
        "Can I pay for order #W1234567 with PayPal instead of my credit card?",
        "Please switch the payment method on my order to my Visa ending in 4242.",
        "I want to change how I'm paying for my order.",
        "Use my gift card balance for the order I just placed.",
        "Change the card charged for my pending order to the mastercard.",
        "My credit card was compromised, please move the payment for my order to PayPal.",
        "Could you bill my order to a different card?",
        "I'd rather pay with my PayPal account for the order that hasn't shipped.",
        "Update the payment on my pending order, use the other credit card.",
        "Put the unshipped order on my debit card rather than PayPal.",
        "My card was blocked by the bank; charge the order to another card.",
    ),
)

TRACKING = Intent(
    name="tracking",
    description="Report where an order is: its status, shipments and tracking numbers.",
    plan=("track_shipment",),
    keywords=(
        "where",
        "tracking",
        "track",
        "package",
        "arrive",
        "shipped",
        "delivery status",
        "dispatched",
        "out for delivery",
        "ship yet",
        "get here",
    ),
    examples=(
        "I ordered a week ago and still haven't received anything. Where's my order?",
        "Has my package shipped? Any update?",
        "I'm still waiting for my delivery, what's going on?",
        "What is the shipping status of the item I bought?",
        "My order was supposed to arrive yesterday, where is it?",
        "Give me an update on my shipment.",
        "Where is my package? It hasn't arrived yet.",
        "Can I get the tracking number for my order?",
        "Has my order #W1234567 shipped yet?",
        "My parcel is late, when will it arrive?",
        "I'd like to track my shipment.",
        "Email jo@example.com - what's the delivery status of my last order?",
        "It's been two weeks and my order still hasn't come. Where is it?",
        "Which carrier tracking ids do I have for order W5556667?",
        "Has my order been dispatched?",
        "Did it ship yet?",
        "What is the estimated delivery date for my order?",
        "Is the courier bringing my order today?",
        "It's late. When does it get here?",
        "The tracking page hasn't updated in a week, is my delivery lost?",
        "Is my order on its way?",
        "When will my order be delivered?",
        "Check the shipping status of my recent purchase please.",
    ),
)
