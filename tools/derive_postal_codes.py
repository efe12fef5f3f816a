#!/usr/bin/env python3
"""Derive data/postal_codes.tsv from the `zipcodes` crate's embedded dataset.

Source: crates.io `zipcodes` 3.0.1 (MIT, Sean Pianka), file src/zips.json.bz2.
Usage: python3 tools/derive_postal_codes.py PATH/TO/zips.json.bz2 > data/postal_codes.tsv
Keeps active codes with a centroid; columns: zip, state, latitude, longitude.
"""
import bz2
import json
import sys

records = json.loads(bz2.open(sys.argv[1]).read())
print("# US postal code centroids derived from the zipcodes crate 3.0.1 (MIT); see data/README.md")
for record in sorted(records, key=lambda r: r["zip_code"]):
    lat, lon = float(record["lat"] or 0), float(record["long"] or 0)
    if not record["active"] or (lat == 0 and lon == 0) or len(record["zip_code"]) != 5:
        continue
    print(f"{record['zip_code']}\t{record['state']}\t{lat:.4f}\t{lon:.4f}")
