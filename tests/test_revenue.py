"""Revenue in cloud mode: the Revenue table's server-side rows and Order Completed."""

from __future__ import annotations

import pytest

from support import assert_stated_outcome, documented_cases, outcome, run_case


@pytest.mark.parametrize("case", documented_cases("revenue", "order-completed", platform="server"))
def test_documented_revenue_examples(case, snapshot):
    result = run_case(case)
    assert_stated_outcome(case, result)
    assert result == snapshot


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
