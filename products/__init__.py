"""Derived products: datasets the hub builds by joining the trusted tables of several feeds.

Each module declares one ``PRODUCT``; its DAG runs whenever one of its inputs publishes (Airflow
Assets), so the Airflow UI shows the city's data flow from agencies to products. Products read
trusted tables only, never raw deliveries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from products.model import Product

MODULES = ("air_quality_by_gu", "bike_demand", "childcare_rate", "street_safety", "city_kpis")


def load_products() -> dict[str, Product]:
    """Every product, by id (light: the build functions import their libraries when they run)."""
    found = {}
    for name in MODULES:
        product = import_module(f"products.{name}").PRODUCT
        found[product.id] = product
    return found
