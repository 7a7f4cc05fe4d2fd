"""Revenue on every platform: the Revenue and Log Revenue V2 tables, and Order Completed."""

from __future__ import annotations

import pytest

from support import assert_documented, documented_cases, outcome


@pytest.mark.parametrize("case", documented_cases("revenue", "order-completed"))
def test_documented_revenue_examples(case, snapshot):
    assert_documented(case, snapshot)


def _bodies(message, settings=None):
    return [o["body"] for o in outcome("server", settings or {}, message)]


def test_numeric_string_revenue_becomes_a_number():
    [body] = _bodies({"type": "track", "event": "Paid", "userId": "user-12345", "properties": {"revenue": "-2.5"}})
    assert body["revenue"] == -2.5


def test_no_revenue_no_revenue_fields():
    [body] = _bodies({"type": "track", "event": "Product Added", "userId": "user-12345",
                      "properties": {"price": 3, "quantity": 2, "productId": "p-1"}})
    assert not {"revenue", "price", "quantity", "productId"} & set(body)


ORDER = {"type": "track", "event": "Completed Order", "userId": "user-12345", "messageId": "order-9",
         "properties": {"revenue": 10, "revenueType": "sale", "products": [
             {"productId": "p-1", "price": 4, "quantity": 1}, {"productId": "p-2", "name": "no price"}]}}


def test_completed_order_alias_and_per_product_revenue():
    bodies = _bodies(ORDER, {"trackRevenuePerProduct": True})
    assert [b["event_type"] for b in bodies] == ["Completed Order", "Product Purchased", "Product Purchased"]
    assert (bodies[1]["price"], bodies[1]["quantity"], bodies[1]["revenueType"]) == (4, 1, "sale")
    assert not {"price", "quantity", "productId", "revenueType"} & set(bodies[2]), "no price, no revenue"
    assert [b["insert_id"] for b in bodies] == ["order-9", "order-9-1", "order-9-2"]


def test_order_revenue_type_stays_on_the_order_when_per_product_is_off():
    bodies = _bodies(ORDER)
    assert (bodies[0]["revenue"], bodies[0]["revenueType"]) == (10, "sale")


def test_products_once_keeps_reduced_products():
    message = {**ORDER, "properties": {"revenue": 10, "products": [
        {"productId": "p-1", "sku": "s", "name": "n", "price": 4, "quantity": 1, "category": "c", "image": "i.png"}]}}
    [body] = _bodies(message, {"trackProductsOnce": True})
    assert body["event_properties"]["products"] == [
        {"productId": "p-1", "sku": "s", "name": "n", "price": 4, "quantity": 1, "category": "c"}]
    assert body["revenue"] == 10


def test_order_completed_without_products_is_a_plain_track():
    [body] = _bodies({"type": "track", "event": "Order Completed", "userId": "user-12345",
                      "properties": {"revenue": 5}})
    assert body["event_type"] == "Order Completed" and body["revenue"] == 5



def _calls(platform, settings, properties, event="Paid"):
    message = {"type": "track", "event": event, "userId": "user-12345", "properties": properties}
    return [o for o in outcome(platform, settings, message) if o["target"] != "sdk.logEvent"]


def test_web_revenue_needs_a_non_zero_revenue():
    assert _calls("web", {}, {"price": 3, "quantity": 2}) == []
    assert _calls("web", {}, {"revenue": 0, "price": 3}) == []
    assert _calls("web", {}, {"total": 9}) == []
    assert _calls("web", {}, {"total": 9}, event="Order Completed")[0]["body"]["price"] == 9


def test_web_zero_price_falls_back_to_revenue_with_quantity_one():
    [revenue] = _calls("web", {}, {"revenue": 10, "price": 0, "quantity": 3})
    assert (revenue["body"]["price"], revenue["body"]["quantity"]) == (10, 1)


def test_web_purchase_revenue_type_for_purchase_events():
    [revenue] = _calls("web", {}, {"revenue": 10}, event="Product Purchased")
    assert revenue["body"]["revenueType"] == "Purchase"
    [revenue] = _calls("web", {}, {"revenue": 10})
    assert "revenueType" not in revenue["body"]


def test_ios_revenue_key_in_any_case_and_zero_counts():
    [revenue] = _calls("ios", {}, {"Revenue": "7.5", "other": 1})
    assert revenue["body"] == {"price": 7.5, "quantity": 1, "eventProperties": {"other": 1}}
    assert _calls("ios", {}, {"TOTAL": 0})[0]["body"]["price"] == 0
    assert _calls("ios", {}, {"revenue": "lots"}) == []


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_v2_quantity_is_one_when_price_falls_back(platform):
    """Issue 13 item 5 on the v2 path: a price taken from revenue is the whole amount, so quantity
    is 1 (the iOS integration keeps the given quantity and books revenue x quantity: not followed);
    a price of its own keeps its quantity."""
    assert _calls(platform, {}, {"revenue": 10, "quantity": 3})[0]["body"]["quantity"] == 1
    assert _calls(platform, {}, {"revenue": 10, "price": 5, "quantity": 3})[0]["body"]["quantity"] == 3


def test_android_receipt_only_with_its_signature():
    body = _calls("android", {}, {"revenue": 1, "receipt": "r"})[0]["body"]
    assert "receipt" not in body and body["eventProperties"] == {}
    body = _calls("android", {}, {"revenue": 1, "receipt": "r", "receiptSignature": "s"})[0]["body"]
    assert (body["receipt"], body["receiptSignature"]) == ("r", "s")


def test_mobile_screen_with_revenue():
    screen = {"type": "screen", "userId": "user-12345", "name": "Shop", "properties": {"revenue": 2}}
    for platform in ("ios", "android"):
        calls = outcome(platform, {"trackAllPages": True}, screen)
        assert [c["target"] for c in calls] == ["sdk.logEvent", "sdk.logRevenueV2"]


def test_web_order_products_once_and_legacy_revenue():
    message = {**ORDER, "userId": "user-12345"}
    calls = outcome("web", {"trackProductsOnce": True, "useLogRevenueV2": False}, message)
    assert [c["target"] for c in calls] == ["sdk.logEvent", "sdk.logRevenue"]
    assert calls[1]["body"] == {"price": 10, "quantity": 1}
    per_product = outcome("web", {"trackRevenuePerProduct": True, "useLogRevenueV2": False}, message)
    assert [c["target"] for c in per_product] == ["sdk.logEvent", "sdk.logRevenue", "sdk.logEvent", "sdk.logEvent"]
    assert per_product[1]["body"] == {"price": 4, "quantity": 1, "productId": "p-1"}


@pytest.mark.parametrize("platform", ["web", "ios", "android"])
def test_fractional_quantity_is_cut_as_the_sdks_do_and_the_event_is_kept(platform):
    calls = outcome(platform, {}, {"type": "track", "event": "E", "anonymousId": "anon-1",
                                   "properties": {"revenue": 10, "price": 5, "quantity": 2.5}})
    assert [c["target"] for c in calls] == ["sdk.logEvent", "sdk.logRevenueV2"]
    assert calls[1]["body"]["quantity"] == 2


def test_cloud_fractional_quantity_is_cut_too():
    [event] = outcome("server", {}, {"type": "track", "event": "E", "userId": "user-12345",
                                     "properties": {"revenue": 10, "price": 5, "quantity": "2.5"}})
    assert event["body"]["quantity"] == 2


def test_android_zero_revenue_gives_way_to_total():
    assert _calls("android", {}, {"revenue": 0, "total": 20})[0]["body"]["price"] == 20
    assert _calls("android", {}, {"revenue": 0})[0]["body"]["price"] == 0


# ---------------------------------------------------------------- issue 13: what Amplitude receives
ORDER_48 = {"type": "track", "event": "Order Completed", "userId": "user-12345",
            "properties": {"revenue": 48, "price": 25, "quantity": 2, "productId": "bundle", "products": [
                {"productId": "p-1", "price": 24, "quantity": 2}]}}


def test_products_once_order_books_its_revenue_once_and_never_price_times_quantity():
    """Item 1: one Order Completed event with the products; per-product revenue on, it carries no
    revenue fields (nowhere to book a product's); off, the order's revenue alone (25 x 2 = 50
    would disagree with the order's 48)."""
    [on] = _bodies(ORDER_48, {"trackProductsOnce": True, "trackRevenuePerProduct": True})
    assert not {"revenue", "price", "quantity", "productId", "revenueType"} & set(on)
    assert on["event_properties"]["products"] == [{"productId": "p-1", "price": 24, "quantity": 2}]
    [off] = _bodies(ORDER_48, {"trackProductsOnce": True})
    assert off["revenue"] == 48
    assert not {"price", "quantity", "productId"} & set(off)
    # the split order (trackProductsOnce off) never lifted them either
    assert not {"price", "quantity", "productId"} & set(_bodies(ORDER_48)[0])
    # web: the same, one revenue call for the order, none with per-product on
    web_on = outcome("web", {"trackProductsOnce": True, "trackRevenuePerProduct": True}, ORDER_48)
    assert [c["target"] for c in web_on] == ["sdk.logEvent"]
    web_off = outcome("web", {"trackProductsOnce": True}, ORDER_48)
    assert [c["target"] for c in web_off] == ["sdk.logEvent", "sdk.logRevenueV2"]
    assert (web_off[1]["body"]["price"], web_off[1]["body"]["quantity"]) == (48, 1)


@pytest.mark.parametrize("platform", ["web", "ios", "android"])
def test_legacy_revenue_quantity_is_one_when_price_falls_back(platform):
    """Item 5: logRevenue books price x quantity; a price taken from revenue (or total) is the
    whole amount, so its quantity is 1. A price of its own keeps its quantity."""
    legacy = {"useLogRevenueV2": False}
    [revenue] = _calls(platform, legacy, {"revenue": 10, "quantity": 2})
    assert revenue["target"] == "sdk.logRevenue"
    assert (revenue["body"]["price"], revenue["body"]["quantity"]) == (10, 1)
    [revenue] = _calls(platform, legacy, {"revenue": 10, "price": 5, "quantity": 2})
    assert (revenue["body"]["price"], revenue["body"]["quantity"]) == (5, 2)
    [revenue] = _calls(platform, legacy, {"total": 12, "quantity": 3}, event="Order Completed")
    assert (revenue["body"]["price"], revenue["body"]["quantity"]) == (12, 1)


ORDER_OWN_REVENUE = {"type": "track", "event": "Order Completed", "userId": "user-12345",
                     "properties": {"revenue": 30, "products": [
                         {"productId": "p-1", "revenue": 7},
                         {"productId": "p-2", "price": 4, "quantity": 2, "revenue": 99},
                         {"productId": "p-3", "name": "nothing to book"}]}}


def test_per_product_revenue_books_a_products_own_revenue_without_price():
    """Item 14: with trackRevenuePerProduct on, a product with its own revenue and no price (and
    quantity) books that revenue; price x quantity wins where both are given."""
    bodies = _bodies(ORDER_OWN_REVENUE, {"trackRevenuePerProduct": True})
    assert [b["event_type"] for b in bodies] == ["Order Completed"] + ["Product Purchased"] * 3
    assert "revenue" not in bodies[0]
    assert (bodies[1]["revenue"], bodies[1]["productId"]) == (7, "p-1")
    assert not {"price", "quantity"} & set(bodies[1])
    assert (bodies[2]["price"], bodies[2]["quantity"]) == (4, 2) and "revenue" not in bodies[2]
    assert not {"revenue", "price", "quantity", "productId", "revenueType"} & set(bodies[3])
    for legacy in (False, True):
        calls = outcome("web", {"trackRevenuePerProduct": True, "useLogRevenueV2": not legacy}, ORDER_OWN_REVENUE)
        target = "sdk.logRevenue" if legacy else "sdk.logRevenueV2"
        assert [c["target"] for c in calls] == ["sdk.logEvent", target, "sdk.logEvent", target, "sdk.logEvent",
                                                "sdk.logEvent"]
        assert (calls[1]["body"]["price"], calls[1]["body"]["quantity"], calls[1]["body"]["productId"]) == (7, 1, "p-1")
        assert (calls[3]["body"]["price"], calls[3]["body"]["quantity"]) == (4, 2)


def test_products_read_product_id_as_well_as_product_id_in_cloud_mode():
    """Item 12: Segment's ecommerce spec names it product_id; cloud reads both, as web does."""
    message = {**ORDER_OWN_REVENUE, "properties": {"revenue": 30, "products": [
        {"product_id": "p-9", "price": 3, "quantity": 1}]}}
    bodies = _bodies(message, {"trackRevenuePerProduct": True})
    assert bodies[1]["productId"] == "p-9"
    [track] = _bodies({"type": "track", "event": "Paid", "userId": "user-12345",
                       "properties": {"revenue": 3, "product_id": "p-9"}})
    assert track["productId"] == "p-9"


PURCHASE_EVENTS = ["Order Completed", "Completed Order", "Product Purchased"]


@pytest.mark.parametrize("platform", ["server", "web", "ios", "android"])
def test_one_default_revenue_type_on_every_platform(platform):
    """Item 15: revenue of a purchase event (Order Completed, Completed Order, Product Purchased)
    without a revenueType of its own is of type Purchase, on every platform; any other event
    carries only the revenueType it is given."""
    def revenue_type(event, properties):
        message = {"type": "track", "event": event, "userId": "user-12345", "properties": properties}
        found = [o["body"].get("revenueType") for o in outcome(platform, {}, message)
                 if o["target"] in ("httpapi", "sdk.logRevenueV2")
                 and ("revenue" in o["body"] or o["target"] == "sdk.logRevenueV2")]
        [value] = found
        return value

    for event in PURCHASE_EVENTS:
        assert revenue_type(event, {"revenue": 10}) == "Purchase", event
        assert revenue_type(event, {"revenue": 10, "revenueType": "refund"}) == "refund", event
    assert revenue_type("Paid", {"revenue": 10}) is None
    assert revenue_type("Paid", {"revenue": 10, "revenueType": "tax"}) == "tax"


def test_default_revenue_type_reaches_per_product_and_products_once_events():
    on = _bodies(ORDER, {"trackRevenuePerProduct": True})
    assert on[1]["revenueType"] == "sale", "the order's own revenueType wins"
    plain = {**ORDER, "properties": {"revenue": 10, "products": [{"productId": "p-1", "price": 4, "quantity": 1}]}}
    assert _bodies(plain, {"trackRevenuePerProduct": True})[1]["revenueType"] == "Purchase"
    assert _bodies(plain)[0]["revenueType"] == "Purchase"
    assert _bodies(plain, {"trackProductsOnce": True})[0]["revenueType"] == "Purchase"
