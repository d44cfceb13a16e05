"""Running the pipeline steps under Airflow: environment, task bodies, DAG runs."""
