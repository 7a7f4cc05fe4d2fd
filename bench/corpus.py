"""A deterministic corpus of Segment messages for the benchmark: 60% track with full context, 15%
page, 10% screen, 10% identify, 5% Order Completed with 2 to 4 products (about 780 bytes each).

    python bench/corpus.py 100000 > corpus.ndjson        (seed 7 unless --seed N)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator

EVENTS = ["Song Played", "Button Clicked", "Signed In", "Video Watched", "Search Performed", "Item Viewed"]
PAGES = [("Merchant", "Settings"), ("Docs", "Intro"), (None, "Pricing"), ("Shop", "Cart"), (None, None)]
LIBRARIES = [("analytics.js", "4.1.0"), ("analytics-ios", "4.1.6"), ("analytics-android", "4.11.3"),
             ("analytics-node", "6.0.0")]


def _context(rng: random.Random, index: int) -> dict:
    library, version = rng.choice(LIBRARIES)
    mobile = library != "analytics.js"
    return {
        "ip": f"203.0.{rng.randrange(256)}.{rng.randrange(256)}",
        "library": {"name": library, "version": version},
        "locale": rng.choice(["en-US", "fr-FR", {"language": "en-us"}]),
        "device": {"id": f"device-{index:08d}", "model": "iPhone 14", "brand": "Apple", "manufacturer": "Apple",
                   "advertisingId": f"ad-{index:010d}"} if mobile else {"id": f"browser-{index:08d}"},
        "os": {"name": rng.choice(["iOS", "Android"]) if mobile else "Mac OS", "version": "17.1"},
        "network": {"carrier": "T-Mobile", "wifi": True},
        "app": {"version": "3.5.1", "build": "351"},
        "location": {"country": "United States", "region": "California", "city": "San Francisco",
                     "latitude": 37.7672319, "longitude": -122.4021353},
        "timezone": "America/Los_Angeles",
    }


def _common(rng: random.Random, index: int, kind: str) -> dict:
    return {"type": kind, "messageId": f"msg-{index:09d}", "timestamp": f"2026-11-{1 + index % 28:02d}T"
            f"{index % 24:02d}:{index % 60:02d}:{(index * 7) % 60:02d}.{index % 1000:03d}Z",
            "userId": f"user-{rng.randrange(10**6):07d}", "anonymousId": f"anon-{index:012d}-4a1f",
            "context": _context(rng, index)}


def messages(count: int, seed: int = 7) -> Iterator[dict]:
    rng = random.Random(seed)
    for index in range(count):
        roll = rng.random()
        if roll < 0.60:
            message = _common(rng, index, "track")
            message["event"] = rng.choice(EVENTS)
            message["properties"] = {"plan": "Basic", "position": rng.randrange(100), "label": "cta-top",
                                     "revenue": rng.choice([None, "32", 9.5]), "category": "Engagement"}
        elif roll < 0.75:
            message = _common(rng, index, "page")
            message["category"], message["name"] = rng.choice(PAGES)
            message["properties"] = {"path": "/settings", "url": "https://shop.example.com/settings",
                                     "title": "Settings", "referrer": "https://www.google.com/"}
        elif roll < 0.85:
            message = _common(rng, index, "screen")
            message["category"], message["name"] = rng.choice(PAGES)
            message["properties"] = {"variant": "b", "loadTimeMs": rng.randrange(2000)}
        elif roll < 0.95:
            message = _common(rng, index, "identify")
            message["traits"] = {"email": f"person{index}@example.com", "name": "Ada Lovelace", "plan": "pro",
                                 "logins": rng.randrange(50), "createdAt": "2024-01-02T03:04:05Z"}
        else:
            message = _common(rng, index, "track")
            message["event"] = "Order Completed"
            products = [{"productId": f"p-{rng.randrange(10**5)}", "sku": f"sku-{n}", "name": "Uno Card Game",
                         "price": rng.choice([3, 19, 4.5]), "quantity": 1 + rng.randrange(3), "category": "Games"}
                        for n in range(2 + rng.randrange(3))]
            message["properties"] = {"orderId": f"order-{index}", "total": 30, "revenue": 25, "currency": "USD",
                                     "products": products}
        if isinstance(message.get("properties"), dict):
            message["properties"] = {k: v for k, v in message["properties"].items() if v is not None}
        yield message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write = sys.stdout.write
    for message in messages(args.count, args.seed):
        write(json.dumps(message, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
