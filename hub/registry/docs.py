"""The Markdown page of a feed, shown as the DAG's documentation in the Airflow UI."""

from __future__ import annotations

from hub.registry.spec import FeedSpec


def feed_doc_md(feed: FeedSpec) -> str:
    contact = f" · {feed.department.contact}" if feed.department.contact else ""
    rows = "\n".join(
        f"| `{f.name}` | {f.type.value}{' (required)' if f.required else ''} | "
        f"{f.unit or ''} | {f.description.ko + ' / ' + f.description.en if f.description else ''} |"
        for f in feed.schema_
    )
    return f"""# {feed.title.ko} / {feed.title.en}

{feed.description.ko}

{feed.description.en}

| | |
|---|---|
| Provider 제공기관 | {feed.provider.name.ko} ({feed.provider.name.en}) |
| Owner 관리부서 | {feed.department.name.ko} ({feed.department.name.en}){contact} |
| Type 유형 | {feed.type.value} |
| Access 공개구분 | {feed.access_class.value} |
| Licence 이용조건 | [{feed.licence.title}]({feed.licence.url}) |
| Schedule 주기 | `{feed.schedule.cron}` ({feed.schedule.timezone}), provided every {feed.schedule.provision_cycle} |
| Delivery 수집방식 | `{feed.delivery.connector}` |
| Partition | `{feed.partition.transform}({feed.partition.column})` |
| Key | {", ".join(f"`{k}`" for k in feed.key) or "-"} |

## Schema

| column | type | unit | description |
|---|---|---|---|
{rows}

Steps: **land** (raw zone, byte-for-byte with a manifest) → **validate** (declared schema;
failing rows to quarantine with the reason) → **protect** (the privacy policy, a PII scan) →
**publish** (one Iceberg snapshot in the trusted zone, replacing this run's window) →
**release** (public datasets only: the anonymized open release).
"""
