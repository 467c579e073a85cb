#!/usr/bin/env python3
"""docs/ARCHITECTURE.md's map matches the folders: every source file of the product (common/,
edge/, ingest/, bench/) is named in the map under its folder, and every file the map names exists.

The map is the section between "## The map" and the next "## " heading: one line per folder,
`folder/` in backquotes followed by the stems of its files (`name` for name.hpp/name.cpp).
"""
import pathlib
import re
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parents[2]
doc = (root / "docs" / "ARCHITECTURE.md").read_text()
m = re.search(r"^## The map\n(.*?)(?=^## )", doc, re.S | re.M)
if not m:
    sys.exit("check_architecture_map: docs/ARCHITECTURE.md has no '## The map' section")
mapped = {}
for line in m.group(1).splitlines():
    folder = re.match(r"\|?\s*`([a-z_/]+/)`", line)
    if not folder:
        continue
    names = set(re.findall(r"`([a-z0-9_]+)`", line[folder.end():]))
    mapped.setdefault(folder.group(1), set()).update(names)

files = subprocess.run(["git", "ls-files", "common", "edge", "ingest", "bench"], cwd=root, capture_output=True,
                       text=True, check=True).stdout.split()
actual = {}
for f in files:
    p = pathlib.PurePosixPath(f)
    if p.suffix not in (".cpp", ".hpp", ".lua", ".in") or p.name == "main.cpp" or p.name.endswith("_main.cpp"):
        continue
    stem = p.name.split(".")[0]
    actual.setdefault(str(p.parent) + "/", set()).add(stem)

problems = []
for folder, stems in sorted(actual.items()):
    for stem in sorted(stems - mapped.get(folder, set())):
        problems.append(f"{folder}{stem}: in the tree, missing from the map")
for folder, stems in sorted(mapped.items()):
    if folder not in actual:
        problems.append(f"{folder}: in the map, not a folder of the product")
        continue
    for stem in sorted(stems - actual[folder]):
        problems.append(f"{folder}{stem}: in the map, not in the tree")
if problems:
    print("docs/ARCHITECTURE.md's map does not match the folders:", *problems, sep="\n  ")
    sys.exit(1)
print(f"docs/ARCHITECTURE.md's map matches {sum(len(s) for s in actual.values())} files in {len(actual)} folders")
