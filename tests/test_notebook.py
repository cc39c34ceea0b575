"""examples/analyze_capture.ipynb runs top to bottom (nbclient, a real kernel), so the walkthrough never
rots. Skips when the Jupyter packages (the ``jupyter`` extra) are not installed."""
from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "analyze_capture.ipynb"


def outputs(nb, mime: str) -> list[str]:
    return [o["data"][mime] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if mime in o.get("data", {})]


def test_notebook_runs_top_to_bottom():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()      # raises CellExecutionError with the cell and traceback on any failure
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    plain = "\n".join(outputs(nb, "text/plain"))
    assert "devbox" in plain and "sudo tail -n 2 /var/log/nginx/error.log" in plain
    assert "shell-on-network-socket" in plain and "download-piped-to-shell" in plain
    html = "\n".join(outputs(nb, "text/html"))
    assert "POST /api/items HTTP/1.1" in html and "checkip.example.net" in html
    svg = outputs(nb, "image/svg+xml")
    assert svg and "<rect" in svg[0] and "<script" not in svg[0]
