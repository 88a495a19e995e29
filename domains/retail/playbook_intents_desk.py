"""The retail intents that are not about changing an order.

Questions (products, tracking-free account look-ups, return trends), a
request for a human, and the staff's own requests about returns already in
progress ("the return arrived, restock it"), which go straight to the desk.
"""

from __future__ import annotations

from switchboard.domains.retail.playbook_common import RETURN_OPEN
from switchboard.engine import Intent

PRODUCT_QUESTION = Intent(
    name="product_question",
    description="Answer questions about products, variants, prices and availability.",
    plan=("product_lookup",),
    keywords=("in stock", "available", "do you have", "come in", "colours", "sizes", "price"),
    examples=(
        "Is the item available in black?",
        "What material is the item made of?",
        "What are the specs of the item?",
        "Is the item compatible with my phone?",
        "Does the item have a timer?",
        "Do you carry this item in a bigger size?",
        "Can you tell me the price and options for the item?",
        "Which variants of the item are in stock right now?",
        "What is the battery life of the item?",
        "Do you have the hiking boots in size 10?",
        "Which colours does the water bottle come in?",
        "Is the 1000ml stainless steel bottle in stock?",
        "How much does the mechanical keyboard cost?",
        "What sizes are available for the running shoes?",
        "Do you sell a laptop with 32GB of RAM?",
        "Is the espresso machine available with a built-in grinder?",
        "What options does the office chair have?",
        "Are there any wireless earbuds in blue available?",
        "Tell me about the variants of the smart watch and their prices.",
        "Does the backpack come in a larger size?",
        "What products do you carry?",
    ),
)

RETURN_TRENDS = Intent(
    name="return_trends",
    description="Report why items come back, across orders.",
    plan=("return_trends",),
    keywords=(
        "trends",
        "statistics",
        "stats",
        "most common",
        "reasons",
        "report",
        "analytics",
        "percentage",
        "how many returns",
        "often",
        "return rate",
        "breakdown",
        "share of returns",
    ),
    examples=(
        "How often are items returned because they arrived damaged?",
        "What share of returns is due to sizing?",
        "Which products get returned most and why?",
        "Count the returns per reason.",
        "What are the most common reasons for returns?",
        "Show me return trends this month.",
        "Give me a report on why customers send items back.",
        "How many returns were due to damaged items?",
        "Which return reasons are increasing?",
        "Summarise the return reason statistics for the team.",
        "I need analytics on product returns.",
        "Break down all returns by reason category.",
        "What is the top return reason so far?",
        "Are sizing problems a big share of our returns?",
        "What gets returned most often?",
        "Why is so much sent back lately?",
    ),
)

HUMAN = Intent(
    name="human",
    description="Hand the conversation to a human agent.",
    plan=("human_handoff",),
    keywords=("human", "person", "representative", "agent", "manager", "supervisor", "speak"),
    examples=(
        "I want to file a complaint with a person.",
        "Please have someone call me back.",
        "You're not helping, give me a human.",
        "Can I talk to an actual employee?",
        "I want to talk to a real person.",
        "Transfer me to a human agent please.",
        "Let me speak to your manager.",
        "Can I chat with a representative instead of a bot?",
        "Get me a human, this is not working.",
        "I'd like to speak with someone from customer support.",
        "Connect me to a live agent now.",
        "Stop, I want an actual human being to handle this.",
        "Please escalate me to a supervisor.",
        "Is there a person I can call?",
    ),
)

ACCOUNT = Intent(
    name="account",
    description="Look up a customer's account, orders or order status.",
    plan=("identify_customer",),
    keywords=("account", "my orders", "order status", "profile", "look up", "balance", "on file", "went through"),
    examples=(
        "What card did I pay with?",
        "How much is left on my gift card balance?",
        "Did my refund go through?",
        "Has my refund been processed yet?",
        "Check my account details, email amy@example.com.",
        "What address do you have on file for me?",
        "I have a problem with my order.",
        "Something is wrong with my order, can you check it?",
        "My email is jane@example.com, can you look up my account?",
        "I'm John Doe, zip 10001, which orders do I have?",
        "What is the status of my order #W1234567?",
        "Can you tell me what's in my order W7777777?",
        "How many orders have I placed with you?",
        "Which payment methods are saved on my account?",
        "Show me my order history.",
        "What did I pay for my last order?",
        "Where is my refund for order #W1212121?",
        "What's the balance on my gift card?",
        "How much credit do I have on my gift card?",
        "Which of my cards was used for the order?",
        "Was my card charged for the order?",
        "I see two charges on my statement for one order.",
        "Can you confirm the refund reached my card?",
        "When will I see the money from my return?",
        "What phone number is on my profile?",
        "Check the status of my order.",
    ),
)

PICKUP = Intent(
    name="pickup",
    description="Arrange the courier pickup of a requested return or exchange.",
    plan=("schedule_pickup", "notify_customer"),
    requires={"found_status": RETURN_OPEN},
    keywords=("pickup", "pick up", "collect", "collection", "courier"),
    examples=(
        "Can a courier pick up the parcel for my return?",
        "I need someone to collect the items I'm exchanging.",
        "Arrange a pickup for the items I'm sending back.",
        "When will the courier collect my return?",
        "Please schedule a courier to pick up my exchange items on 2024-06-03.",
        "I already requested a return, can someone come and collect the parcel?",
        "Book a pickup for my returned headphones.",
        "Can you send a driver to collect the items from order #W3434343?",
        "I need the return picked up from my house.",
        "Set up a collection for the boots I'm exchanging.",
        "Arrange collection of the parcel from the customer's home.",
        "The customer is sending the exchanged items back; book the courier.",
    ),
)

RESTOCK = Intent(
    name="restock",
    description="Staff: returned items arrived at the warehouse; put them back in stock.",
    plan=("restock_returns",),
    keywords=("restock", "warehouse", "back in stock", "received", "inventory"),
    examples=(
        "The return arrived at the warehouse; restock it.",
        "Goods sent back by customers came in today, put them on the shelves.",
        "The courier delivered the pickup to the warehouse, put the items back in stock.",
        "Restock the goods that came back from order #W1234567.",
        "The courier dropped off the parcel for W5555555; add the items back to inventory.",
        "Mark the return of order #W4444444 as received and restock.",
        "Warehouse confirms receipt of the parcel sent back for #W1010101.",
        "Put what customers sent back into inventory.",
        "Receive the inbound return shipment for order W2020202 into stock.",
        "Check the items back in at the depot and update stock levels.",
    ),
)

REFUND = Intent(
    name="refund",
    description="Staff: refund a return once its items have been received.",
    plan=("issue_refund", "notify_customer"),
    keywords=("issue refund", "refund received", "pay back", "credit customer"),
    examples=(
        "The warehouse got the returned items for #W8080808, now refund the customer.",
        "Return received and checked: issue the customer's refund.",
        "The return was received, please issue the refund.",
        "Issue the refund for order #W1234567 now that the items are back.",
        "Returned items for W5656565 were checked in; refund the customer.",
        "Process the refund for the received return on order #W7878787.",
        "Release the money for the return we got back today for #W3131313.",
        "Items are back in stock for order #W2424242, credit the customer.",
        "Finalise the refund on the completed return of W9191919.",
        "Send the refund for the return we already received.",
    ),
)

RECORD_REASON = Intent(
    name="record_reason",
    description="Staff: record why a customer returned or exchanged items.",
    plan=("record_return_reason",),
    keywords=("log reason", "record reason", "note reason", "categorise"),
    examples=(
        "Record why the customer sent back order #W6060606: it was too big.",
        "Log the reason the items of W7070707 came back: defective.",
        "Log that the customer returned the kettle because it arrived damaged.",
        "Record the return reason for order #W1234567: too small.",
        "Note that the return on W6767676 was because the item was defective.",
        "Please categorise the reason for the return of order #W8989898: wrong colour.",
        "Add a return reason to order #W1313131: the customer no longer needed it.",
        "Save the reason for this return: it did not match the description.",
        "For analytics, log why order W4545454 was sent back: poor quality.",
        "Register the return cause for #W5757575 as arrived late.",
    ),
)

NOTIFY = Intent(
    name="notify",
    description="Staff: send the customer a message.",
    plan=("notify_customer",),
    keywords=("let the customer know", "notify", "inform", "tell the customer", "message", "send a note", "note to"),
    examples=(
        "Let the customer know their refund is on its way.",
        "Email the customer a summary of the changes.",
        "Notify mia.chen@example.com that her order has shipped.",
        "Tell the customer of order #W1234567 that the pickup is tomorrow.",
        "Send the customer a message that their exchange was approved.",
        "Inform the buyer that the item is back in stock.",
        "Message the customer about the delay on order W7654321.",
        "Write to the customer and apologise for the late delivery.",
        "Drop the customer a note about their refund.",
        "Send the customer an email saying the item is on its way.",
    ),
)
