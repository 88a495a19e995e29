"""The generated shop's catalogue: product types, their options and variants.

The catalogue does not depend on the dataset seed: the demo personas' orders
refer to its items, and docs and tests name them, so a product keeps its ids
whatever users and orders are generated around it.

Ids are derived from the product and option names. They are 10-digit strings
below ``1002370000``, a range the τ-bench reference data does not use (its
product and item ids start at ``1002370030``), so the two sets never collide.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from dataclasses import dataclass

from switchboard.domains.retail.store import Record

_ID_FLOOR = 1_000_000_000
_ID_SPAN = 2_370_000


@dataclass(frozen=True)
class _ProductSpec:
    """A product type; each option's values run from the cheapest to the dearest."""

    name: str
    options: tuple[tuple[str, tuple[str, ...]], ...]
    price_range: tuple[float, float]


def _spec(name: str, low: float, high: float, **options: tuple[str, ...]) -> _ProductSpec:
    named = tuple((key.replace("_", " "), values) for key, values in options.items())
    return _ProductSpec(name, named, (low, high))


_COLORS = ("black", "white", "blue", "red", "green", "grey")
_SIZES = ("S", "M", "L", "XL", "XXL")

PRODUCT_SPECS: tuple[_ProductSpec, ...] = (
    _spec("Water Bottle", 18, 55, capacity=("500ml", "750ml", "1000ml"),
          material=("plastic", "glass", "stainless steel"), color=_COLORS[:5]),
    _spec("Espresso Machine", 420, 980, pressure=("9 bar", "15 bar", "19 bar"),
          capacity=("1L", "1.5L", "2L"), type=("manual", "capsule", "automatic")),
    _spec("Headphones", 150, 380, type=("on-ear", "over-ear", "in-ear"),
          connectivity=("wired", "wireless"), color=("black", "white", "blue")),
    _spec("Laptop", 799, 2400, screen_size=("13-inch", "14-inch", "15-inch", "16-inch"),
          processor=("i5", "Ryzen 7", "i7", "i9"), ram=("8GB", "16GB", "32GB"),
          storage=("256GB SSD", "512GB SSD", "1TB SSD"), color=("silver", "space grey")),
    _spec("T-Shirt", 16, 42, color=_COLORS, size=_SIZES,
          material=("cotton", "polyester", "linen blend"), style=("crew neck", "v-neck")),
    _spec("Wireless Earbuds", 49, 249, color=("black", "white", "blue"),
          battery_life=("6 hours", "8 hours", "10 hours"),
          water_resistance=("none", "IPX4", "IPX7")),
    _spec("Running Shoes", 60, 180, size=("7", "8", "9", "10", "11", "12"),
          color=("black", "white", "red", "blue"), material=("synthetic", "mesh")),
    _spec("Hiking Boots", 90, 260, size=("7", "8", "9", "10", "11", "12"),
          material=("synthetic", "leather"), waterproof=("no", "yes")),
    _spec("Backpack", 35, 160, color=("black", "grey", "navy", "green"),
          size=("small", "medium", "large"), material=("polyester", "nylon", "canvas"),
          compartment=("hydration", "camera", "laptop")),
    _spec("Smart Watch", 150, 450, color=("black", "silver", "gold"),
          band_material=("silicone", "leather", "metal"), display=("LCD", "AMOLED")),
    _spec("Coffee Maker", 40, 260, color=("black", "white", "stainless steel"),
          capacity=("4 cups", "8 cups", "12 cups"), type=("pour-over", "french press", "drip"),
          features=("timer", "thermal carafe", "built-in grinder")),
    _spec("Electric Kettle", 25, 120, capacity=("1L", "1.5L", "1.7L"),
          material=("plastic", "glass", "stainless steel"), color=("white", "black", "silver")),
    _spec("Yoga Mat", 20, 90, thickness=("4mm", "6mm", "8mm"),
          material=("PVC", "TPE", "natural rubber"), color=("purple", "blue", "green", "pink")),
    _spec("Desk Lamp", 25, 110, color=("black", "white", "silver"),
          brightness=("low", "medium", "high"), power_source=("battery", "USB", "AC adapter")),
    _spec("Office Chair", 150, 550, material=("fabric", "mesh", "leather"),
          color=("black", "gray", "blue"), armrest=("fixed", "adjustable"),
          backrest_height=("standard", "high-back")),
    _spec("Bluetooth Speaker", 40, 240, color=("black", "blue", "red"),
          battery_life=("10 hours", "20 hours"), water_resistance=("no", "yes")),
    _spec("Tablet", 200, 1100, screen_size=("8-inch", "10-inch", "12-inch"),
          storage=("64GB", "128GB", "256GB"), color=("black", "silver", "gold")),
    _spec("Smartphone", 400, 1300, color=("black", "blue", "silver", "rose gold"),
          storage=("128GB", "256GB", "512GB"), ram=("6GB", "8GB", "12GB"),
          screen_size=("6.1-inch", "6.7-inch")),
    _spec("Mechanical Keyboard", 60, 240, switch_type=("linear", "tactile", "clicky"),
          backlight=("none", "white", "RGB"), size=("60%", "80%", "full size")),
    _spec("Gaming Mouse", 30, 150, color=("black", "white", "RGB"),
          sensor_type=("optical", "laser"), connectivity=("wired", "wireless")),
    _spec("Air Purifier", 90, 500, room_size=("small", "medium", "large"),
          filter_type=("ionic", "carbon", "HEPA"),
          features=("night mode", "quiet operation", "smart sensors")),
    _spec("Vacuum Cleaner", 120, 700, type=("canister", "upright", "cordless stick", "robotic"),
          bagged_or_bagless=("bagged", "bagless"),
          features=("HEPA filter", "pet hair removal", "cordless")),
    _spec("Digital Camera", 450, 2400, resolution=("20MP", "24MP", "30MP"),
          zoom=("3x", "5x", "10x"), storage=("SD card", "CFexpress")),
    _spec("E-Reader", 100, 320, screen_size=("6-inch", "7-inch", "8-inch"),
          connectivity=("Wi-Fi", "Wi-Fi + Cellular"), storage=("8GB", "16GB", "32GB")),
    _spec("Sunglasses", 60, 260, frame_color=("black", "brown", "silver"),
          lens_color=("grey", "green", "brown"), lens_type=("non-polarized", "polarized"),
          frame_material=("plastic", "metal")),
    _spec("Fleece Jacket", 45, 160, size=_SIZES, color=("black", "navy", "red", "green"),
          zipper=("half", "full")),
    _spec("Portable Charger", 20, 90, capacity=("5000mAh", "10000mAh", "20000mAh"),
          output=("USB-A", "USB-C", "wireless"), color=("black", "white", "blue")),
    _spec("Notebook", 8, 30, size=("A5", "A4"), cover_type=("soft cover", "hard cover")),
    _spec("Luggage Set", 150, 600, piece_count=("2-piece", "3-piece", "4-piece"),
          color=("black", "blue", "red"), material=("softshell", "hardshell")),
    _spec("Bicycle", 400, 1800, frame_size=("small", "medium", "large"),
          color=("black", "red", "blue", "green"), type=("hybrid", "mountain", "road")),
    _spec("Smart Thermostat", 120, 280,
          compatibility=("Amazon Alexa", "Google Assistant", "Apple HomeKit"),
          color=("white", "black", "stainless steel")),
    _spec("Dumbbell Set", 80, 600, weight_range=("5-25 lbs", "30-50 lbs", "55-75 lbs"),
          material=("rubber", "iron", "urethane"), set_type=("fixed", "adjustable")),
)  # fmt: skip


def build_catalog() -> dict[str, Record]:
    """Every product record of the generated shop, keyed by product id."""
    used: set[str] = set()
    catalog: dict[str, Record] = {}
    for spec in PRODUCT_SPECS:
        product_id = _stable_id(f"product:{spec.name}", used)
        catalog[product_id] = {
            "name": spec.name,
            "product_id": product_id,
            "variants": _variants(spec, used),
        }
    return catalog


def _variants(spec: _ProductSpec, used: set[str]) -> dict[str, Record]:
    """A stable sample of option combinations, priced by how premium they are.

    Each option value's position in its list pushes the price up, plus some
    noise, so a 1TB laptop costs more than a 256GB one, as a customer expects.
    """
    rng = random.Random(f"catalog:{spec.name}")
    names = [name for name, _ in spec.options]
    combos = list(itertools.product(*(range(len(values)) for _, values in spec.options)))
    chosen = rng.sample(combos, min(len(combos), rng.randint(6, 12)))
    low, high = spec.price_range
    variants: dict[str, Record] = {}
    for combo in chosen:
        premium = sum(i / max(len(v) - 1, 1) for i, (_, v) in zip(combo, spec.options, strict=True))
        share = 0.75 * premium / len(combo) + 0.25 * rng.random()
        options = {
            name: values[i] for name, i, (_, values) in zip(names, combo, spec.options, strict=True)
        }
        item_id = _stable_id(f"item:{spec.name}:{sorted(options.items())}", used)
        variants[item_id] = {
            "item_id": item_id,
            "options": options,
            "available": rng.random() < 0.8,
            "price": round(low + (high - low) * share, 2),
        }
    for variant in list(variants.values())[:2]:
        variant["available"] = True  # every product keeps something to exchange to
    return variants


def _stable_id(key: str, used: set[str]) -> str:
    """A 10-digit id derived from ``key``, unique among ``used`` (which it joins)."""
    for attempt in itertools.count():
        digest = hashlib.sha256(f"{key}#{attempt}".encode()).digest()
        candidate = str(_ID_FLOOR + int.from_bytes(digest[:8], "big") % _ID_SPAN)
        if candidate not in used:
            used.add(candidate)
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover
