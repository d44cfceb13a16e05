"""Reference geography the products need: each Seoul gu's code, name and approximate centre."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

#: gu code -> (name, lat, lon of the gu office)
GU: dict[str, tuple[str, float, float]] = {
    "11110": ("종로구", 37.5735, 126.9790),
    "11140": ("중구", 37.5641, 126.9979),
    "11170": ("용산구", 37.5326, 126.9905),
    "11200": ("성동구", 37.5633, 127.0371),
    "11215": ("광진구", 37.5385, 127.0823),
    "11230": ("동대문구", 37.5744, 127.0400),
    "11260": ("중랑구", 37.6066, 127.0927),
    "11290": ("성북구", 37.5894, 127.0167),
    "11305": ("강북구", 37.6396, 127.0257),
    "11320": ("도봉구", 37.6688, 127.0471),
    "11350": ("노원구", 37.6542, 127.0568),
    "11380": ("은평구", 37.6027, 126.9291),
    "11410": ("서대문구", 37.5791, 126.9368),
    "11440": ("마포구", 37.5663, 126.9019),
    "11470": ("양천구", 37.5170, 126.8665),
    "11500": ("강서구", 37.5509, 126.8495),
    "11530": ("구로구", 37.4954, 126.8874),
    "11545": ("금천구", 37.4569, 126.8955),
    "11560": ("영등포구", 37.5264, 126.8962),
    "11590": ("동작구", 37.5124, 126.9393),
    "11620": ("관악구", 37.4784, 126.9516),
    "11650": ("서초구", 37.4837, 127.0324),
    "11680": ("강남구", 37.5172, 127.0473),
    "11710": ("송파구", 37.5145, 127.1059),
    "11740": ("강동구", 37.5301, 127.1238),
}


def nearest(
    lat: pa.Array, lon: pa.Array, centres_lat: np.ndarray, centres_lon: np.ndarray
) -> np.ndarray:
    """Index of the nearest centre for each point (equirectangular distance: fine within a city)."""
    la = np.asarray(lat.to_numpy(zero_copy_only=False), dtype=float)[:, None]
    lo = np.asarray(lon.to_numpy(zero_copy_only=False), dtype=float)[:, None]
    scale = np.cos(np.radians(37.55))
    d2 = (la - centres_lat[None, :]) ** 2 + ((lo - centres_lon[None, :]) * scale) ** 2
    return d2.argmin(axis=1)


def gu_of(lat: pa.Array, lon: pa.Array) -> pa.Array:
    codes = list(GU)
    idx = nearest(
        lat, lon, np.array([GU[c][1] for c in codes]), np.array([GU[c][2] for c in codes])
    )
    return pa.array([codes[i] for i in idx], pa.large_string())
