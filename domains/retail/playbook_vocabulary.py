"""The retail vocabulary: words mapped to a canonical word before matching."""

from __future__ import annotations

_PRODUCT_NOUN_TEXT = """
    camera purifier backpack bag bicycle bike speaker bookshelf shelf coffee maker helmet
    lamp dumbbell reader ereader kettle toothbrush espresso machine jacket coat fleece mouse
    hose grill headphone headset boot puzzle bulb laptop computer luggage suitcase makeup
    perfume keyboard notebook chair umbrella bed charger shoe skateboard thermostat watch
    smartwatch smartphone phone sneaker sunglass glass shirt tshirt tablet vacuum cleaner
    clock bottle earbud wristwatch mat toaster blender sweater hoodie jean pant dress mug
    tent case strap pen lens tv monitor printer router console sofa table desk towel pillow
    blanket sock hat cap scarf glove jersey kit set tool drill fan heater microwave oven pan
    pot knife
"""
_PRODUCT_NOUNS = _PRODUCT_NOUN_TEXT.split()
_PRODUCT_WORD_TEXT = """
    hiking running electric wireless gaming mechanical smart portable digital action air
    bluetooth office patio garden indoor security jigsaw led light wall water yoga pet tea
    cycling luggage
"""
_PRODUCT_WORDS = _PRODUCT_WORD_TEXT.split()

SYNONYMS: dict[str, str] = {
    **{noun: "item" for noun in _PRODUCT_NOUNS},
    **{noun + "s": "item" for noun in _PRODUCT_NOUNS},
    **{noun + "es": "item" for noun in _PRODUCT_NOUNS if noun.endswith(("s", "h", "x"))},
    **{word: "" for word in _PRODUCT_WORDS},
    "goods": "item",
    "stuff": "item",
    "things": "item",
    "products": "item",
    "product": "item",
    "items": "item",
    "purchase": "order",
    "purchases": "order",
    "colour": "color",
    "colours": "color",
    "colors": "color",
    "parcel": "package",
    "shipment": "package",
    "operator": "human",
    "person": "human",
    "someone": "human",
    "somebody": "human",
    "representative": "human",
    "rep": "human",
    "agent": "human",
    "manager": "human",
    "supervisor": "human",
    "complain": "human",
    "complaint": "human",
    "reimburse": "refund",
    "reimbursed": "refund",
    "reimbursement": "refund",
    "void": "cancel",
    "cancellation": "cancel",
    "eta": "arrive",
    "replacement": "exchange",
    "discount": "price",
    "cost": "price",
    "costs": "price",
    "cheaper": "price",
    "expensive": "price",
    "tee": "item",
    **{typo: "cancel" for typo in ("canel", "cancle", "cancell", "cansel", "cancl")},
    **{typo: "refund" for typo in ("refnd", "refudn", "refun", "reembursement")},
    **{typo: "return" for typo in ("retrun", "reutrn", "retun", "returnd")},
    **{typo: "exchange" for typo in ("excange", "exhange", "exchnage", "exchage")},
    **{typo: "arrive" for typo in ("arive", "arrvie", "arival", "arived")},
    **{typo: "address" for typo in ("adress", "addres", "adres")},
    **{typo: "package" for typo in ("pakage", "packege", "pacakge", "pckage")},
    **{typo: "available" for typo in ("availabilty", "availible", "avaliable", "availble")},
    "wen": "when",
    "recieve": "receive",
    "recieved": "received",
    "shiped": "shipped",
}
"""Words mapped to a canonical word before matching.

Product nouns all become "item": which product a customer names says
nothing about what they want done with it, and the examples should not
teach the matcher that boots are for exchanges. Common misspellings of the
words that carry an intent ("canel", "arive") map to the word itself.
"""
