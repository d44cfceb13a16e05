"""The city's KPI dashboard: /kpi for people, /api/v1/kpis as JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hub.web.deps import HubDep
from hub.web.kpi_page import kpi_page
from hub.web.kpis import KpiView
from hub.web.params import Lang

router = APIRouter()
# A route's docstring becomes its description in /openapi.json: the routes here have none.


@router.get("/kpi", response_class=HTMLResponse, summary="The KPI dashboard (HTML)")
def kpi_dashboard(hub: HubDep, lang: Lang = "ko") -> str:
    return kpi_page(hub.kpis(), lang)


@router.get(
    "/api/v1/kpis",
    summary="Every declared indicator: series, baseline, target and latest value",
    response_model=list[KpiView],
)
def kpi_list(hub: HubDep) -> list[dict[str, Any]]:
    return [v.as_dict() for v in hub.kpis()]
