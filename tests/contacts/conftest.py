"""Fixtures of the contacts tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    """Every test keeps the files it uploads for import in a directory of its own."""
    settings.IMPORT_DIR = tmp_path / "imports"
    return settings.IMPORT_DIR
