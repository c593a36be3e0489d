"""The manifest of an exported traffic dataset (``_traffic.json`` at its root): the filters it
was exported with, the pools' names, and each day's exported range and export time. Written
whole and renamed into place, so it always describes complete partitions."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = ["FORMAT", "MANIFEST", "PART", "read_manifest", "stored_filters", "write_manifest"]

MANIFEST = "_traffic.json"
FORMAT = "commstoolkit-traffic/1"
PART = "part-0.parquet"  # the one file of a day's partition


def read_manifest(folder: Path, filters: Mapping[str, Any]) -> dict[str, Any]:
    """The folder's manifest (a new one for a new or empty folder); refuses a folder that
    holds something else, or an export made with other filters."""
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        if folder.exists() and any(folder.iterdir()):
            raise ConfigurationError(
                f"{folder} is not empty and holds no traffic export ({MANIFEST} is missing): "
                "name an empty or new folder"
            )
        return {"format": FORMAT, "filters": dict(filters), "pools": {}, "days": {}}
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"{manifest_path} cannot be read: {error}") from None
    if manifest.get("format") != FORMAT:
        raise ConfigurationError(
            f"{manifest_path} is not a traffic export of this version (format "
            f"{manifest.get('format')!r}, expected {FORMAT!r})"
        )
    if manifest.get("filters") != dict(filters):
        raise ConfigurationError(
            f"{folder} holds an export with the filters {manifest.get('filters')}, not "
            f"{dict(filters)}: one dataset, one set of filters; name another folder"
        )
    return manifest


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    temporary = folder / f"{MANIFEST}.partial"
    temporary.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(temporary, folder / MANIFEST)


def stored_filters(manifest_path: Path) -> dict[str, Any]:
    """The filters a dataset's manifest records."""
    try:
        return dict(json.loads(manifest_path.read_text()).get("filters") or {})
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"{manifest_path} cannot be read: {error}") from None
