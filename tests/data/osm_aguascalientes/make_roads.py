"""Convert the OpenStreetMap extract of central Aguascalientes (osmnx's test file) into the road layer
used by ``tests/test_roads_real.py``: one LineString per way tagged ``highway`` (not ``area=yes``),
properties ``osm_id``, ``highway`` and ``osm_nodes`` (the way's node ids, space-separated: the
topology as OSM records it, which the test uses as an independent check). Python stdlib only.

Run: ``python tests/data/osm_aguascalientes/make_roads.py aguascalientes.osm.bz2 roads.geojson``
(the input is ``tests/input_data/aguascalientes.osm.bz2`` of gboeing/osmnx, see PROVENANCE.md).
"""

import bz2
import json
import sys
import xml.etree.ElementTree as ET


def main(src: str, dst: str) -> None:
    opener = bz2.open if src.endswith(".bz2") else open
    with opener(src, "rb") as f:
        root = ET.parse(f).getroot()
    coords = {n.get("id"): (round(float(n.get("lon")), 7), round(float(n.get("lat")), 7)) for n in root.iter("node")}
    features = []
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        refs = [nd.get("ref") for nd in way.iter("nd")]
        if "highway" not in tags or tags.get("area") == "yes" or len(refs) < 2 or any(r not in coords for r in refs):
            continue
        features.append({"type": "Feature",
                         "properties": {"osm_id": int(way.get("id")), "highway": tags["highway"],
                                        "osm_nodes": " ".join(refs)},
                         "geometry": {"type": "LineString", "coordinates": [list(coords[r]) for r in refs]}})
    out = {"type": "FeatureCollection",
           "attribution": "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)",
           "features": features}
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
