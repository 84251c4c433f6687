"""Checking a committed report against the one written today."""

import json
from importlib.metadata import version
from pathlib import Path
from xml.etree import ElementTree

from dedup import report


def assert_current(committed: Path, fresh_folder: Path) -> None:
    """Every file written into fresh_folder (but timings.json) is in committed, unchanged.

    The manifest is compared without library versions, and a plot byte for byte only when the
    committed report was drawn by the matplotlib installed here (else it must be an SVG): the
    bytes of a drawing change with the library's version, not with dedup's."""
    for fresh in sorted(p for p in fresh_folder.rglob("*") if p.is_file() and p.name != "timings.json"):
        stored = committed / fresh.relative_to(fresh_folder)
        assert stored.exists(), f"{stored} missing: run make demo"
        if fresh.name == report.MARKER:  # make demo writes the Parquet files too, so its marker lists them
            listed, written = (json.loads(path.read_text(encoding="utf-8")) for path in (stored, fresh))
            assert listed["input_sha256"] == written["input_sha256"], f"{stored} is stale: run make demo"
            assert set(written["files"]) <= set(listed["files"]), f"{stored} is stale: run make demo"
        elif fresh.name == "manifest.json":  # library versions may differ between machines
            assert _without_versions(stored) == _without_versions(fresh), f"{stored} is stale: run make demo"
        elif fresh.suffix == ".svg" and _drawn_by(committed) != version("matplotlib"):
            assert ElementTree.parse(stored).getroot().tag.endswith("svg"), f"{stored} is not an SVG"
        else:
            assert stored.read_bytes() == fresh.read_bytes(), f"{stored} is stale: run make demo"


def _drawn_by(committed: Path) -> str:
    return json.loads((committed / "manifest.json").read_text(encoding="utf-8"))["versions"].get("matplotlib", "")


def _without_versions(manifest: Path) -> dict:
    content = json.loads(manifest.read_text(encoding="utf-8"))
    content.pop("versions")
    return content
