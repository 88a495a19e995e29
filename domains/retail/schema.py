"""Pydantic models of the τ-bench retail records: users, orders and products.

The store keeps every record as the JSON it was loaded from, so these models
are used to *check* a data directory at the boundary, not to reshape it: a
record that validates is stored byte for byte, which keeps the benchmark's
key order and number formats (a balance of ``60`` stays ``60``).

The models are strict: a price given as the string ``"12.5"`` is a schema
error, not something to coerce, because the operations do arithmetic on it.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

OrderStatus = Literal[
    "pending",
    "processed",
    "delivered",
    "cancelled",
    "pending (item modified)",
    "return requested",
    "exchange requested",
    "return received",
    "returned",
]
"""Every status an order can have.

The first four come with the benchmark data, the next three are set by the
benchmark's operations, and the last two by Switchboard's return process.
"""

PaymentSource = Literal["credit_card", "paypal", "gift_card"]

Money = Annotated[float, Field(ge=0)]
"""A non-negative amount in dollars; ints are accepted (the data has ``60``)."""


class _Record(BaseModel):
    """Strict, closed record: unknown keys are typos, not data."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Name(_Record):
    """A customer's name, matched case-insensitively by the look-ups."""

    first_name: str
    last_name: str


class Address(_Record):
    """A postal address; ``zip`` is matched exactly by the look-ups."""

    address1: str
    address2: str
    city: str
    country: str
    state: str
    zip: str


class PaymentMethod(_Record):
    """One of a user's payment methods. Only gift cards carry a balance."""

    source: PaymentSource
    id: str
    brand: str | None = None
    last_four: str | None = None
    balance: Money | None = None

    @model_validator(mode="after")
    def _balance_only_on_gift_cards(self) -> Self:
        if self.source == "gift_card" and self.balance is None:
            raise ValueError(f"gift card {self.id!r} has no 'balance'")
        if self.source != "gift_card" and self.balance is not None:
            raise ValueError(f"{self.source} {self.id!r} has a 'balance'; only gift cards do")
        return self


class User(_Record):
    """A customer, keyed by user id such as ``mia_chen_4817``."""

    name: Name
    address: Address
    email: str
    payment_methods: dict[str, PaymentMethod]
    orders: list[str]

    @model_validator(mode="after")
    def _keys_match_ids(self) -> Self:
        for key, method in self.payment_methods.items():
            if key != method.id:
                raise ValueError(f"payment method key {key!r} differs from its id {method.id!r}")
        return self


class OrderItem(_Record):
    """One unit in an order; the same ``item_id`` may appear more than once."""

    name: str
    product_id: str
    item_id: str
    price: Money
    options: dict[str, str]


class Fulfillment(_Record):
    """A shipment: the tracking ids and the item ids it carries."""

    tracking_id: list[str]
    item_ids: list[str]


class Transaction(_Record):
    """One entry of an order's ``payment_history``."""

    transaction_type: Literal["payment", "refund"]
    amount: Money
    payment_method_id: str


class ReturnPickup(_Record):
    """The pickup that Switchboard's return process records on an order."""

    tracking_id: str
    pickup_date: str
    status: Literal["scheduled", "received"]
    restocked_item_ids: list[str] = Field(default_factory=list)


class Order(_Record):
    """An order, keyed by order id such as ``#W0418203``.

    The optional fields are written by operations (cancel, return, exchange,
    pickup), so a database exported after a run still validates.
    """

    model_config = ConfigDict(strict=True, extra="allow")

    order_id: str
    user_id: str
    address: Address
    items: list[OrderItem]
    fulfillments: list[Fulfillment]
    status: OrderStatus
    payment_history: list[Transaction]
    cancel_reason: str | None = None
    return_items: list[str] | None = None
    return_payment_method_id: str | None = None
    exchange_items: list[str] | None = None
    exchange_new_items: list[str] | None = None
    exchange_payment_method_id: str | None = None
    exchange_price_difference: float | None = None
    return_pickup: ReturnPickup | None = None


class Variant(_Record):
    """One purchasable variant (an ``item_id``) of a product."""

    item_id: str
    options: dict[str, str]
    available: bool
    price: Money


class Product(_Record):
    """A product type, keyed by product id, with its variants keyed by item id."""

    name: str
    product_id: str
    variants: dict[str, Variant]

    @model_validator(mode="after")
    def _keys_match_ids(self) -> Self:
        for key, variant in self.variants.items():
            if key != variant.item_id:
                raise ValueError(
                    f"variant key {key!r} differs from its item_id {variant.item_id!r}"
                )
        return self
