"""Simplify the vendored world boundaries once, at vendoring time.

    python -m projects.sites.simplify_boundaries world.zh.json world.zh.simplified.json

The source (`@surbowl/world-geo-json-zh`, see the README beside the output) draws every
coastline at Natural Earth's 1:50m-ish detail: ~309 KB that every map page would load. A
dashboard map of the corridor needs far less. Each ring is thinned with Douglas-Peucker
(tolerance `TOLERANCE` degrees, about 5 km at the equator), coordinates are rounded to
`DIGITS` decimals (~1 km), and a ring that would collapse keeps its rounded points, so
no country or island disappears. Properties are kept as they are (names and ISO codes).
"""

import json
import sys

TOLERANCE = 0.05
DIGITS = 2


def _distance(point, start, end) -> float:
    (x, y), (x1, y1), (x2, y2) = point, start, end
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / (dx * dx + dy * dy) ** 0.5


def douglas_peucker(points: list, tolerance: float) -> list:
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        index, farthest = None, tolerance
        for i in range(first + 1, last):
            d = _distance(points[i], points[first], points[last])
            if d > farthest:
                index, farthest = i, d
        if index is not None:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def _rounded(points: list) -> list:
    out = []
    for x, y in points:
        point = [round(x, DIGITS), round(y, DIGITS)]
        if not out or out[-1] != point:
            out.append(point)
    return out


def simplify_ring(ring: list) -> list:
    thinned = _rounded(douglas_peucker(ring, TOLERANCE))
    if len(thinned) >= 4 and thinned[0] == thinned[-1]:
        return thinned
    fallback = _rounded(ring)
    return (
        fallback if len(fallback) >= 4 else [[round(x, DIGITS), round(y, DIGITS)] for x, y in ring]
    )


def simplify_geometry(geometry: dict) -> dict:
    if geometry["type"] == "Polygon":
        return {
            "type": "Polygon",
            "coordinates": [simplify_ring(r) for r in geometry["coordinates"]],
        }
    if geometry["type"] == "MultiPolygon":
        return {
            "type": "MultiPolygon",
            "coordinates": [
                [simplify_ring(r) for r in polygon] for polygon in geometry["coordinates"]
            ],
        }
    if geometry["type"] in ("LineString", "MultiLineString"):
        # The ten-dash line is drawn as lines: rounding only.
        lines = (
            geometry["coordinates"]
            if geometry["type"] == "MultiLineString"
            else [geometry["coordinates"]]
        )
        lines = [_rounded(line) for line in lines]
        if geometry["type"] == "LineString":
            return {"type": "LineString", "coordinates": lines[0]}
        return {"type": "MultiLineString", "coordinates": lines}
    return geometry


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8") as handle:
        data = json.load(handle)
    features = [
        {
            "type": "Feature",
            "properties": f["properties"],
            "geometry": simplify_geometry(f["geometry"]),
        }
        for f in data["features"]
    ]
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(
            {"type": "FeatureCollection", "features": features},
            handle,
            ensure_ascii=False,
            separators=(",", ":"),
        )


if __name__ == "__main__":
    main(*sys.argv[1:3])
