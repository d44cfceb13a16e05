"""What the hub's download files promise their users, said once for the pages and the catalog."""

from __future__ import annotations

#: What every CSV download says about it (the dataset pages show this beside the files).
CSV_FORMULA_NOTE = {
    "ko": "CSV 파일에서는 =, +, -, @, 탭, 줄바꿈 문자로 시작하는 텍스트 값 앞에 작은따옴표(')를 "
    "붙여 스프레드시트가 수식으로 실행하지 않게 합니다. Parquet·GeoJSON과 API에는 원래 값 그대로 "
    "있습니다.",
    "en": "In CSV files, a text value that starts with =, +, -, @, a tab or a carriage return "
    "gets a leading apostrophe (') so spreadsheets never run it as a formula (OWASP CSV "
    "injection); Parquet, GeoJSON and the JSON API keep the value as published.",
}
