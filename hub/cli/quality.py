"""``hub quality show|freshness|report``: a dataset's score and checks, sweeps, the HTML report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hub.cli.acting import As, signed
from hub.cli.errors import fail
from hub.core.settings import HubSettings
from hub.registry.roles import Permission

if TYPE_CHECKING:
    from hub.registry import FeedSpec
    from quality.history import QualityView, ScoredVersion

quality_app = typer.Typer(no_args_is_help=True, help="Data quality: scores, checks, reports.")


def _feeds(
    names: list[str] | None,
    what: str,
    login: str | None,
    permission: Permission = Permission.catalog_read,
) -> tuple[HubSettings, list[FeedSpec]]:
    """The settings and the named feeds (all of them when ``names`` is empty), for a person
    allowed ``permission``; exit 1 on a typo."""
    from hub.registry.loader import load_registry

    settings = signed(permission, what, login).settings
    registry = load_registry(settings.feeds_dir)
    unknown = [n for n in names or [] if n not in registry]
    if unknown:
        fail(f"no feed {unknown[0]!r} (feeds: {', '.join(sorted(registry))})")
    return settings, [registry[n] for n in names] if names else list(registry.values())


@quality_app.command()
def show(
    feed: Annotated[str, typer.Argument(help="Feed id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
    as_: As = None,
) -> None:
    """The dataset's latest quality score, what each part is made of, its checks and trend."""
    from quality.history import quality_view
    from quality.score import timeliness_text

    settings, (spec,) = _feeds([feed], "quality show", as_)
    view = quality_view(settings.catalog_url, spec.id)
    latest = view.latest
    if latest is None:
        fail(f"feed {spec.id}: no quality results yet (no delivery has been validated)")
    if as_json:
        typer.echo(json.dumps(_as_dict(view, latest), ensure_ascii=False, indent=2, default=str))
        return
    s = latest.score
    typer.echo(f"{spec.id}: {spec.title.ko} / {spec.title.en}")
    typer.echo(
        f"quality score {s.score:.1f}/100 = 100 x (0.5 content {s.content:.2f} + 0.25 "
        f"timeliness {s.timeliness:.2f} + 0.25 metadata {s.metadata_:.2f})"
    )
    version = f"version {latest.snapshot_id}" if latest.snapshot_id else "not published"
    typer.echo(f"  from {s.kind} {s.run_id} ({version}) at {s.computed_at:%Y-%m-%d %H:%M}")
    d = latest.detail
    c, t, m = d.get("content", {}), d.get("timeliness", {}), d.get("metadata", {})
    if c:
        typer.echo(
            f"  content: {c['rows_rejected']} of {c['rows_delivered']} rows rejected "
            f"(error rate {c['error_rate']:.2%}), completeness {c['completeness']:.1%}, "
            f"validity {c['validity']:.1%} of checks passed"
        )
    if t:
        stale = (
            f"; FAILED {', '.join(t['fresh_checks_failed'])}" if t["fresh_checks_failed"] else ""
        )
        typer.echo(f"  timeliness: {timeliness_text(t)}{stale}")
    missing = m.get("missing") or []
    typer.echo(f"  metadata: {'complete' if not missing else 'missing ' + ', '.join(missing)}")
    for title, rows in (
        ("checks of the latest delivery", view.results),
        ("latest freshness sweep", view.freshness),
    ):
        if not rows:
            continue
        typer.echo(f"{title} ({rows[0].run_id}):")
        for r in rows:
            status = "ok  " if r.success else "FAIL"
            what = (
                f"{r.unexpected_count} rows ({r.unexpected_percent or 0:.2f}%)"
                if r.unexpected_count is not None
                else f"observed {r.observed_value}"
            )
            examples = json.loads(r.examples)
            more = f", e.g. {examples[:3]}" if examples and not r.success else ""
            hard = " [hard]" if r.hard else ""
            typer.echo(f"  {status} {r.check_label:<36} {what}{more}{hard}")
            if r.error:
                typer.echo(f"       error: {r.error}")
    trend = [f"{v.score.score:.0f}" for v in view.history[-12:]]
    typer.echo(f"score trend (oldest first): {' '.join(trend)}")


def _as_dict(view: QualityView, latest: ScoredVersion) -> dict[str, Any]:
    """The ``hub quality show --json`` document: latest score, its parts, checks and history."""
    return {
        "dataset": view.dataset_id,
        "score": latest.score.score,
        "parts": {
            "content": latest.score.content,
            "timeliness": latest.score.timeliness,
            "metadata": latest.score.metadata_,
        },
        "error_rate": latest.score.error_rate,
        "kind": latest.score.kind,
        "run_id": latest.score.run_id,
        "snapshot_id": latest.snapshot_id,
        "detail": latest.detail,
        "checks": [
            {
                "check": r.check_label,
                "expectation": r.expectation,
                "success": r.success,
                "hard": r.hard,
                "unexpected_count": r.unexpected_count,
                "observed_value": r.observed_value,
                "examples": json.loads(r.examples),
            }
            for r in view.results + view.freshness
        ],
        "history": [
            {
                "run_id": v.score.run_id,
                "kind": v.score.kind,
                "score": v.score.score,
                "error_rate": v.score.error_rate,
                "snapshot_id": v.snapshot_id,
            }
            for v in view.history
        ],
    }


@quality_app.command()
def freshness(
    feeds: Annotated[list[str] | None, typer.Argument(help="Feed ids; all when omitted.")] = None,
    at: Annotated[str | None, typer.Option(help="Judge at this ISO time (default: now).")] = None,
    as_: As = None,
) -> None:
    """Check that each feed has delivered the windows its schedule has closed (with its grace).

    Exits 1 when a feed is stale, so a scheduler or monitor can alert on it.
    """
    from quality.freshness import NeverPublished, sweep
    from quality.score import timeliness_text

    settings, specs = _feeds(feeds, "quality freshness", as_, Permission.pipelines_run)
    when = datetime.fromisoformat(at) if at else datetime.now(UTC)
    if when.tzinfo is None:
        fail("--at needs a time zone, e.g. 2026-11-01T05:00+09:00")
    stale = 0
    for spec in specs:
        try:
            result, score = sweep(settings, spec, when)
        except NeverPublished:
            typer.echo(f"{spec.id}: never published")
            continue
        stale += not result.success
        state = "fresh" if result.success else "STALE"
        typer.echo(
            f"{spec.id}: {state}: {timeliness_text(score.detail['timeliness'])}; "
            f"score now {score.score:.1f}"
        )
    if stale:
        raise typer.Exit(1)


@quality_app.command()
def report(
    out: Annotated[Path, typer.Option(help="Folder for the HTML pages.")] = Path("var/quality"),
    as_: As = None,
) -> None:
    """Write the quality report (HTML, one page per dataset and an index) for departments."""
    from quality.report import write_report

    settings, specs = _feeds(None, "quality report", as_)
    index = write_report(settings.catalog_url, specs, out)
    typer.echo(f"quality report: {index}")
