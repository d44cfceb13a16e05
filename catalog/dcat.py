"""The catalog in the open standards portals harvest: DCAT-AP 3 (JSON-LD) and schema.org.

Titles and descriptions in Korean and English; publisher (the department) and contact point;
licence, access URLs and formats on each distribution; temporal coverage from the published
versions, spatial coverage (Seoul), the update cycle as an EU frequency, the latest version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from catalog import entries
from catalog.entries import exports_of
from hub.core.downloads import CSV_FORMULA_NOTE
from hub.core.settings import CITY_TIMEZONE
from hub.core.time import as_utc
from hub.registry.city import CITY_DATA_TEAM
from hub.registry.schedule import frequency

BASE = "https://data.seoul.example.kr"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
SEOUL_BBOX = "POLYGON((126.73 37.41,127.27 37.41,127.27 37.72,126.73 37.72,126.73 37.41))"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dct:issued": {"@type": "xsd:date"},
    "dct:modified": {"@type": "xsd:date"},
    "dcat:startDate": {"@type": "xsd:date"},
    "dcat:endDate": {"@type": "xsd:date"},
    "dcat:dataset": {"@type": "@id"},
    "dcat:distribution": {"@type": "@id"},
    "dcat:accessURL": {"@type": "@id"},
    "dcat:downloadURL": {"@type": "@id"},
    "vcard:hasEmail": {"@type": "@id"},
    "spdx": "http://spdx.org/rdf/terms#",
    "spdx:algorithm": {"@type": "@id"},
    "spdx:checksumValue": {"@type": "xsd:hexBinary"},
    "dcat:byteSize": {"@type": "xsd:nonNegativeInteger"},
}
#: What each export format is, as IANA media type and EU file type.
FILE_FORMATS = {
    "csv": ("text/csv", "CSV"),
    "parquet": ("application/vnd.apache.parquet", "PARQUET"),
    "geojson": ("application/geo+json", "GEOJSON"),
}


def _day(value: datetime) -> str:
    """The calendar day in Seoul (catalog dates are the city's days, not UTC's)."""
    return as_utc(value).astimezone(ZoneInfo(CITY_TIMEZONE)).date().isoformat()


def _text(ko: str, en: str) -> list[dict[str, str]]:
    return [{"@value": ko, "@language": "ko"}, {"@value": en, "@language": "en"}]


def _agent(party) -> dict[str, Any]:
    return {
        "@id": f"{BASE}/org/{party.id}",
        "@type": ["foaf:Agent", "foaf:Organization"],
        "foaf:name": _text(party.name.ko, party.name.en),
    }


def _dataset(catalog_url: str, spec: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One dataset node and the nodes it points at (distributions)."""
    ident = f"{BASE}/dataset/{spec.id}"
    versions = entries.versions(catalog_url, spec.id)
    department = spec.department
    node: dict[str, Any] = {
        "@id": ident,
        "@type": "dcat:Dataset",
        "dct:identifier": spec.id,
        "dct:title": _text(spec.title.ko, spec.title.en),
        "dct:description": _text(spec.description.ko, spec.description.en),
        "dct:publisher": {"@id": f"{BASE}/org/{department.id}"},
        "dct:creator": {"@id": f"{BASE}/org/{spec.provider.id}"},
        "dcat:keyword": [
            {"@value": k, "@language": "ko" if not k.isascii() else "en"} for k in spec.keywords
        ],
        "dcat:contactPoint": {
            "@id": f"{BASE}/contact/{department.id}",
            "@type": "vcard:Organization",
            "vcard:fn": _text(department.name.ko, department.name.en),
            **({"vcard:hasEmail": f"mailto:{department.contact}"} if department.contact else {}),
        },
        "dct:spatial": {
            "@id": f"{BASE}/place/seoul",
            "@type": "dct:Location",
            "dcat:bbox": {
                "@value": SEOUL_BBOX,
                "@type": "http://www.opengis.net/ont/geosparql#wktLiteral",
            },
        },
        "dct:accrualPeriodicity": {
            "@id": frequency(getattr(spec.schedule, "provision_cycle", None)),
            "@type": "dct:Frequency",
        },
        "dct:accessRights": {
            "@id": "http://publications.europa.eu/resource/authority/access-right/"
            + {"public": "PUBLIC", "restricted": "RESTRICTED"}.get(
                spec.access_class.value, "NON_PUBLIC"
            ),
            "@type": "dct:RightsStatement",
        },
    }
    if versions:
        first, last = versions[0], versions[-1]
        node["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": _day(min(v.window_start for v in versions)),
            "dcat:endDate": _day(max(v.window_end for v in versions)),
        }
        node["dct:issued"] = _day(first.created_at)
        node["dct:modified"] = _day(last.created_at)
        node["dcat:version"] = str(last.snapshot_id)
    distributions = []
    licence = {"@id": spec.licence.url, "@type": "dct:LicenseDocument"}
    if spec.is_public:
        distributions.append(
            {
                "@id": f"{ident}/parquet",
                "@type": "dcat:Distribution",
                "dct:title": _text(
                    f"{spec.title.ko} (Parquet, 개방)", f"{spec.title.en} (Parquet, open)"
                ),
                "dcat:accessURL": f"{BASE}/api/v1/datasets/{spec.id}/records?format=parquet",
                "dct:format": {"@id": FILE_TYPE + "PARQUET", "@type": "dct:MediaTypeOrExtent"},
                "dct:license": licence,
            }
        )
        distributions.append(
            {
                "@id": f"{ident}/csv",
                "@type": "dcat:Distribution",
                "dct:title": _text(f"{spec.title.ko} (CSV)", f"{spec.title.en} (CSV)"),
                "dcat:accessURL": f"{BASE}/api/v1/datasets/{spec.id}/records?format=csv",
                "dcat:mediaType": {
                    "@id": "http://www.iana.org/assignments/media-types/text/csv",
                    "@type": "dct:MediaType",
                },
                "dct:format": {"@id": FILE_TYPE + "CSV", "@type": "dct:MediaTypeOrExtent"},
                "dct:license": licence,
            }
        )
        distributions += _files(catalog_url, spec, ident, licence)
    else:  # metadata only, as the data map asks: the rows go to granted partners only
        distributions.append(
            {
                "@id": f"{ident}/api",
                "@type": "dcat:Distribution",
                "dct:title": _text(
                    f"{spec.title.ko} (승인된 기관 API)",
                    f"{spec.title.en} (API, granted agencies only)",
                ),
                "dcat:accessURL": f"{BASE}/api/v1/datasets/{spec.id}",
                "dct:format": {"@id": FILE_TYPE + "JSON", "@type": "dct:MediaTypeOrExtent"},
                "dct:license": licence,
            }
        )
    node["dcat:distribution"] = [d["@id"] for d in distributions]
    return node, distributions


def _files(catalog_url: str, spec: Any, ident: str, licence: dict) -> list[dict[str, Any]]:
    """The newest version's download files, each with its size and SHA-256."""

    out = []
    for e in exports_of(catalog_url, spec.id):
        media, file_type = FILE_FORMATS[e.format]
        url = f"{BASE}/api/v1/datasets/{spec.id}/files/{e.format}?version={e.snapshot_id}"
        out.append(
            {
                "@id": f"{ident}/files/{e.format}",
                "@type": "dcat:Distribution",
                "dct:title": _text(
                    f"{spec.title.ko} ({file_type} 파일, 버전 {e.snapshot_id})",
                    f"{spec.title.en} ({file_type} file, version {e.snapshot_id})",
                ),
                "dcat:accessURL": url,
                "dcat:downloadURL": url,
                "dcat:mediaType": {
                    "@id": f"http://www.iana.org/assignments/media-types/{media}",
                    "@type": "dct:MediaType",
                },
                "dct:format": {"@id": FILE_TYPE + file_type, "@type": "dct:MediaTypeOrExtent"},
                "dcat:byteSize": str(e.bytes),
                "spdx:checksum": {
                    "@type": "spdx:Checksum",
                    "spdx:algorithm": "spdx:checksumAlgorithm_sha256",
                    "spdx:checksumValue": e.sha256,
                },
                "dct:issued": _day(e.created_at),
                "dct:license": licence,
            }
        )
        if e.format == "csv":  # formulas are neutralised in CSV only: say so to harvesters
            out[-1]["dct:description"] = _text(CSV_FORMULA_NOTE["ko"], CSV_FORMULA_NOTE["en"])
    return out


def dcat_catalog(catalog_url: str, feeds: dict[str, Any], products: dict[str, Any]) -> dict:
    """The whole catalog as DCAT-AP 3 JSON-LD."""

    graph: list[dict[str, Any]] = []
    agents = {CITY_DATA_TEAM.id: _agent(CITY_DATA_TEAM)}
    datasets: list[str] = []
    for specs in (feeds, products):
        for spec in specs.values():
            node, distributions = _dataset(catalog_url, spec)
            graph += [node, *distributions]
            datasets.append(node["@id"])
            for party in (spec.department, spec.provider):
                agents.setdefault(party.id, _agent(party))
    catalog = {
        "@id": f"{BASE}/catalog",
        "@type": "dcat:Catalog",
        "dct:title": _text("서울시 도시 데이터 허브", "Seoul City Data Hub"),
        "dct:description": _text(
            "서울시 부서와 협력기관이 제공하는 데이터의 목록(데이터 맵): 개방 데이터와 "
            "메타데이터만 공개되는 제한 데이터.",
            "The data map of the city's departments and partner agencies: open datasets, and "
            "restricted ones described by their metadata only.",
        ),
        "dct:publisher": {"@id": f"{BASE}/org/{CITY_DATA_TEAM.id}"},
        "dct:language": {
            "@id": "http://publications.europa.eu/resource/authority/language/KOR",
            "@type": "dct:LinguisticSystem",
        },
        "dcat:dataset": datasets,
    }
    return {"@context": CONTEXT, "@graph": [catalog, *agents.values(), *graph]}


def schemaorg_catalog(catalog_url: str, feeds: dict[str, Any], products: dict[str, Any]) -> dict:
    """The same datasets as schema.org ``DataCatalog`` JSON-LD (for search engines)."""
    items = []
    for spec in [*feeds.values(), *products.values()]:
        versions = entries.versions(catalog_url, spec.id)
        item: dict[str, Any] = {
            "@type": "Dataset",
            "@id": f"{BASE}/dataset/{spec.id}",
            "identifier": spec.id,
            "name": spec.title.ko,
            "alternateName": spec.title.en,
            "description": f"{spec.description.ko}\n\n{spec.description.en}",
            "inLanguage": ["ko", "en"],
            "keywords": spec.keywords,
            "license": spec.licence.url,
            "isAccessibleForFree": spec.is_public,
            "creator": {"@type": "Organization", "name": spec.provider.name.ko},
            "publisher": {
                "@type": "Organization",
                "name": spec.department.name.ko,
                **({"email": spec.department.contact} if spec.department.contact else {}),
            },
            "spatialCoverage": {
                "@type": "Place",
                "name": "Seoul, Republic of Korea",
                "geo": {"@type": "GeoShape", "box": "37.41 126.73 37.72 127.27"},
            },
        }
        if versions:
            start = _day(min(v.window_start for v in versions))
            end = _day(max(v.window_end for v in versions))
            item["temporalCoverage"] = f"{start}/{end}"
            item["version"] = str(versions[-1].snapshot_id)
            item["dateModified"] = _day(versions[-1].created_at)
        if spec.is_public:
            item["distribution"] = [
                {
                    "@type": "DataDownload",
                    "encodingFormat": fmt,
                    "contentUrl": f"{BASE}/api/v1/datasets/{spec.id}/records?format={ext}",
                }
                for fmt, ext in (("text/csv", "csv"), ("application/vnd.apache.parquet", "parquet"))
            ]
        items.append(item)
    return {
        "@context": "https://schema.org",
        "@type": "DataCatalog",
        "@id": f"{BASE}/catalog",
        "name": "서울시 도시 데이터 허브 / Seoul City Data Hub",
        "inLanguage": ["ko", "en"],
        "dataset": items,
    }
