"""One Airflow DAG per derived product (``products/``), scheduled on the trusted Assets of its
input feeds: it runs once every input has published since its last run, so the Airflow UI shows
the city's data flow from the agencies' feeds to the products.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from hub.core.settings import get_settings
from hub.orchestration.assets import zone_asset
from hub.orchestration.retries import task_defaults
from products import load_products
from products.model import Product


def build_dag(product: Product) -> DAG:
    inputs = [zone_asset("trusted", feed_id) for feed_id in product.inputs]
    with DAG(
        dag_id=f"product_{product.id}",
        description=product.title.en,
        doc_md=f"## {product.title.ko}\n\n{product.description.ko}\n\n{product.description.en}\n\n"
        f"Inputs (trusted zone): {', '.join(product.inputs)}",
        schedule=inputs,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=product.tags,
        default_args=task_defaults(get_settings(), product.department.id),
    ) as dag:

        @task(
            task_id="build",
            inlets=inputs,
            outlets=[zone_asset("trusted", product.id), zone_asset("open", product.id)],
            doc_md="Read the inputs' trusted tables, build, publish to trusted and open.",
        )
        def build(**context):
            from hub.orchestration.tasks import run_product

            return run_product(product.id, context)

        build()
    return dag


for _product in load_products().values():
    globals()[f"dag_product_{_product.id}"] = build_dag(_product)
