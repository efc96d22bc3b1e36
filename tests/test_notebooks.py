"""docs/notebooks/*.ipynb: generated from the tutorial pages, up to date, and they run in a real kernel.

* the committed notebooks equal what ``docs/make_notebooks.py`` generates from the pages now;
* each page's runnable python blocks are the notebook's code cells, in order; links work from
  docs/notebooks/;
* every notebook is executed top to bottom in a fresh Jupyter kernel (nbclient + ipykernel, installed
  by ``.[dev]`` and ``.[notebooks]``), in a temporary directory, and each cell's printed output
  must match the ```text block of the page (the rules of tests/test_docs.py).  The kernel imports
  this checkout (PYTHONPATH), like the doc tests do.
"""
import importlib.util
import json
import os
import pathlib
import re
import shutil
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))
import make_notebooks  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from test_docs import NEEDS, output_matches, parse_page  # noqa: E402

PAGES = make_notebooks.pages()
IDS = [p.name[:2] for p in PAGES]


def notebook_of(page):
    return json.loads((DOCS / "notebooks" / (page.stem + ".ipynb")).read_text(encoding="utf-8"))


def test_every_page_has_an_up_to_date_notebook():
    assert len(PAGES) >= 9 and [p.name[:2] for p in PAGES][-9:] == [f"{i:02d}" for i in range(1, 10)]
    assert make_notebooks.stale() == [], "run: python docs/make_notebooks.py"


def test_generator_rules():
    text = ("# T\n\nsee [p2](02_broadcasting.md#x), ![g](img/g.png), [src](../tinygrad_zh/viz.py), "
            "[web](https://example.org)\n\n```python\nimport os\nos.makedirs('img/a', exist_ok=True)\n```\n\n"
            "```text\nout\n```\n\n```python no-run\nshown()\n```\n\nend\n")
    nb = make_notebooks.page_to_notebook(text, "99_t.md", ["02_broadcasting.md", "99_t.md"])
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds == ["markdown", "code", "markdown", "code", "markdown"]
    src = ["".join(c["source"]) for c in nb["cells"]]
    assert src[1].endswith('os.makedirs("img", exist_ok=True)')          # the page writes to img/
    assert "[p2](02_broadcasting.ipynb#x)" in src[2] and "![g](../img/g.png)" in src[2]
    assert "[src](../../tinygrad_zh/viz.py)" in src[2] and "(https://example.org)" in src[2]
    assert src[3] == "import os\nos.makedirs('img/a', exist_ok=True)"
    assert "```text\nout\n```" in src[4] and "```python no-run\nshown()\n```" in src[4]
    assert [c["id"] for c in nb["cells"]] == [f"c{i:03d}" for i in range(5)]
    if importlib.util.find_spec("nbformat"):
        import nbformat
        nbformat.validate(nbformat.from_dict(nb))


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_notebook_cells_are_the_page_blocks_and_links_resolve(page):
    nb = notebook_of(page)
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    blocks = [b[0].rstrip("\n") for b in parse_page(page.read_text(encoding="utf-8"))]
    setup = code[:len(code) - len(blocks)]
    assert code[len(setup):] == blocks and len(setup) <= 1
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for link in re.findall(r"\]\(([^)\s#]+)", "".join(cell["source"])):
                if "://" not in link:
                    assert (DOCS / "notebooks" / link).exists(), f"{page.stem}.ipynb: broken link {link}"


def _execute(nb_path, cwd, timeout):
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(str(nb_path), as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_notebook_runs_in_a_kernel_and_prints_what_the_page_shows(page, tmp_path, monkeypatch):
    pytest.importorskip("nbclient", reason="pip install '.[notebooks]' (nbclient, ipykernel)")
    pytest.importorskip("ipykernel", reason="pip install '.[notebooks]' (nbclient, ipykernel)")
    missing = [exe for exe in NEEDS.get(page.name[:2], ()) if shutil.which(exe) is None]
    if missing:
        pytest.skip(f"{page.name} needs {', '.join(missing)}")
    # the kernel imports this checkout's tinygrad_zh (as the doc tests do), with the same settings
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")         # small matrices: threads only fight over busy CI cores
    nb = _execute(DOCS / "notebooks" / (page.stem + ".ipynb"), tmp_path, timeout=120)
    blocks = parse_page(page.read_text(encoding="utf-8"))
    cells = [c for c in nb.cells if c.cell_type == "code"][-len(blocks):]
    for cell, (code, expected, line) in zip(cells, blocks):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{page.name}:{line}: {errors[0].ename}: {errors[0].evalue}"
        out = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
        if expected is not None:
            assert output_matches(out, expected), f"{page.name}:{line} printed\n{out}\nthe page shows\n{expected}"
