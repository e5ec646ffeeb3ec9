"""The README's tour runs as written against a live server, and the docs stand alone:
no reference outside the repository, every relative link and every tandem/ path exists."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live import TandemServer

ROOT = Path(__file__).resolve().parents[2]
TOUR_MARKER = "# readme-tour:"


def readme_tour() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    tours = [block for block in blocks if block.startswith(TOUR_MARKER)]
    assert len(tours) == 1, "README.md must have one ```sh block starting with the tour marker"
    return tours[0]


def test_the_readme_tour_runs_as_written_and_prints_the_order(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'tandem.db'}"
    secret = secrets.token_urlsafe(32)
    server = TandemServer(database_url, secret)
    try:
        # The reader runs it from the repository, where make created .venv.
        (tmp_path / ".venv").symlink_to(Path(sys.prefix))
        env = {
            **os.environ,
            "API": f"{server.url}/api/v1",
            "TANDEM_DATABASE_URL": database_url,
            "TANDEM_ENV": "test",
            "TANDEM_SECRET_KEY": secret,
        }
        result = subprocess.run(
            ["bash", "-c", readme_tour()], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        server.kill()
    assert result.returncode == 0, result.stdout + result.stderr
    order = json.loads(result.stdout.strip().splitlines()[-1])
    assert order["financial_status"] == "paid"
    assert order["email"] == "lea@example.com"
    assert [(line["quantity"], line["sku"]) for line in order["line_items"]] == [(2, "LIN-M")]


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_there_are_docs_to_check():
    names = {path.name for path in documents()}
    assert {"README.md", "api.md", "operations.md", "architecture.md"} <= names


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_a_document_refers_to_nothing_outside_the_repository(path):
    text = path.read_text()
    assert "../shared" not in text
    assert "SPEC.md" not in text
    assert "STYLE.md" not in text


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_every_relative_link_in_a_document_exists(path):
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        assert (path.parent / target.split("#")[0]).exists(), f"{path.name} links to missing {target}"


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_every_tandem_path_a_document_names_exists(path):
    names = set(re.findall(r"\btandem/[\w./-]*\w", path.read_text()))
    assert names or path.name not in ("architecture.md",), "the architecture notes name the code"
    for name in names:
        assert (ROOT / name).exists(), f"{path.name} names missing {name}"


def test_the_licence_matches_the_package_metadata():
    assert 'license = { text = "AGPL-3.0-or-later" }' in (ROOT / "pyproject.toml").read_text()
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("GNU AFFERO GENERAL PUBLIC LICENSE\nVersion 3, 19 November 2007")
    assert "13. Remote Network Interaction" in text
