"""Run the tutorials in docs/: every ```python block of a page is executed, in order, in one namespace.

Conventions (see docs/README.md, "写教程的约定"):

* ```python          executed;  ```python no-run  skipped (keep those rare).
* a ```text block that directly follows a python block (only blank lines between) is the expected
  **stdout** of that block.  Lines are compared one by one: text must match exactly (runs of spaces
  count as one), numbers must agree to ~3 significant digits (BLAS and platforms differ in the last
  digits).  A line ``...`` matches any number of lines.
* every image a page links (``img/xxx.png``) must exist in docs/img/.

So a page can only state a value that its code prints.  docs/distributed.md and docs/kernels.md are
run the same way, and so are the README's python blocks.  Pages run in a temporary directory (files they
write land there); ``python tests/test_docs.py`` instead runs them inside docs/, which regenerates the
committed pictures docs/img/*.png from the pages' own code (needs Graphviz's ``dot``);
``python tests/test_docs.py 04 05`` does that for some pages only.
``python tests/test_docs.py --show 01`` prints each block's actual output (for writing a page).
``python tests/test_docs.py --check 03`` is the learner's check of a page (docs/learning_path.md): it runs
the page in a temporary directory, compares the output with the page, and exits 1 on a mismatch
(no page names: every page 00-09).
"""
import contextlib
import io
import math
import os
import pathlib
import re
import shutil
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("[0-9][0-9]_*.md"))
# the other documents with runnable code: executed and checked the same way (blocks that need
# several MPI processes are `python no-run`, each with a sentence saying why)
OTHER = [DOCS / "distributed.md", DOCS / "kernels.md", DOCS / "pytorch_compat.md"]
NEEDS = {"08": ("g++",)}          # programs a page runs (the page is skipped without them)

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)\b")


def parse_page(text):
    """[(code, expected_stdout_or_None, first_line_number)] for the runnable python blocks of a page."""
    blocks = []
    matches = list(_FENCE.finditer(text))
    for i, m in enumerate(matches):
        info = m.group(1).strip().split()
        if not info or info[0] != "python" or "no-run" in info[1:]:
            continue
        expected = None
        if i + 1 < len(matches):
            nxt = matches[i + 1]
            if nxt.group(1).strip() == "text" and text[m.end():nxt.start()].strip() == "":
                expected = nxt.group(2)
        blocks.append((m.group(2), expected, text.count("\n", 0, m.start()) + 2))
    return blocks


def _close(a, b):
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if x == y:
        return True
    # the printed precision of the expected number sets how far apart they may be
    frac = b.split("e")[0].split("E")[0]
    exponent = "e" in b.lower() and "inf" not in b.lower()
    digits = len(frac.split(".")[1]) if "." in frac else 0
    if digits == 0 and not exponent:
        return False                       # whole numbers (counts, shapes, "1." of a float) are exact
    scale = 10.0 ** int(b.lower().split("e")[1]) if exponent else 1.0
    return abs(x - y) <= 1.5 * 10.0 ** (-digits) * scale + 2e-3 * abs(y)


def _line_matches(actual, expected):
    a_nums, e_nums = _NUM.findall(actual), _NUM.findall(expected)
    a_text = " ".join(_NUM.sub("#", actual).split())
    e_text = " ".join(_NUM.sub("#", expected).split())
    return a_text == e_text and len(a_nums) == len(e_nums) and all(map(_close, a_nums, e_nums))


def output_matches(actual, expected):
    """True when ``actual`` stdout matches the ``expected`` text block (with ``...`` wildcards)."""
    act = [ln.rstrip() for ln in actual.rstrip("\n").split("\n")] if actual.strip() else []
    exp = [ln.rstrip() for ln in expected.rstrip("\n").split("\n")] if expected.strip() else []

    def match(i, j):
        if j == len(exp):
            return i == len(act)
        if exp[j].strip() == "...":
            return any(match(k, j + 1) for k in range(i, len(act) + 1))
        return i < len(act) and _line_matches(act[i], exp[j]) and match(i + 1, j + 1)
    return match(0, 0)


def run_page(path, cwd, check=True, show=False):
    """Execute one page's python blocks in ``cwd``; compare stdout with the text blocks."""
    blocks = parse_page(path.read_text(encoding="utf-8"))
    assert blocks, f"{path.name}: no runnable ```python block"
    ns = {"__name__": "__docs__"}
    old = os.getcwd()
    os.chdir(cwd)
    try:
        for code, expected, line in blocks:
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                try:
                    exec(compile(code, f"{path.name}:{line}", "exec"), ns)
                except Exception as e:
                    raise AssertionError(f"{path.name}: the block at line {line} raised "
                                         f"{type(e).__name__}: {e}") from e
            out = buf.getvalue()
            if show:
                print(f"----- {path.name}:{line}\n{out}", end="")
            if check and expected is not None and not output_matches(out, expected):
                raise AssertionError(f"{path.name}: the block at line {line} printed\n{out}\n"
                                     f"but the page shows\n{expected}")
    finally:
        os.chdir(old)
    return ns


def test_pages_exist():
    names = [p.name[:2] for p in PAGES]
    assert names == [f"{i:02d}" for i in range(0, 10)], names
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for p in PAGES:
        assert f"({p.name})" in index, f"docs/README.md does not link {p.name}"


@pytest.mark.parametrize("page", PAGES, ids=[p.name[:2] for p in PAGES])
def test_page_images_exist(page):
    for img in re.findall(r"\]\((img/[^)\s]+)\)", page.read_text(encoding="utf-8")):
        assert (DOCS / img).is_file(), f"{page.name} links {img}, which is not in docs/img/"


@pytest.mark.parametrize("page", PAGES + OTHER, ids=[p.name[:2] for p in PAGES] + [p.stem for p in OTHER])
def test_page_runs(page, tmp_path):
    """Without Graphviz, save_graph in a page writes the built-in SVG instead (and warns)."""
    missing = [exe for exe in NEEDS.get(page.name[:2], ()) if shutil.which(exe) is None]
    if missing:
        pytest.skip(f"{page.name} needs {', '.join(missing)}")
    (tmp_path / "img").mkdir()
    run_page(page, tmp_path)


def _local_links(text):
    return [m for m in re.findall(r"\]\(([^)\s#]+)\)", text) if "://" not in m]


LINKED = OTHER + [DOCS / "README.md", DOCS / "results.md", DOCS / "dev_notes.md"]


@pytest.mark.parametrize("page", PAGES + LINKED, ids=[p.name[:2] for p in PAGES] + [p.stem for p in LINKED])
def test_page_links_exist(page):
    """Every relative link of a tutorial page (source files, other pages, images) points to a file."""
    broken = [link for link in _local_links(page.read_text(encoding="utf-8"))
              if not (page.parent / link).exists()]
    assert not broken, f"{page.name}: broken links {broken}"


def test_readme_reading_path_links_exist():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## 源码阅读顺序", 1)[1].split("\n## ", 1)[0]
    links = _local_links(section)
    assert len(links) >= 10
    # a link like [`shape.py`](tinygrad_zh/ops/shape.py) is relative to the repository root
    broken = [link for link in links if not (ROOT / link).exists()]
    assert not broken, f"README reading path: broken links {broken}"


def test_readme_code_runs(tmp_path):
    """The README's python blocks (the ten-line example, the API overview) run as written."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = parse_page(text)
    assert len(blocks) >= 2
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    ns = run_page(readme, tmp_path)
    assert (tmp_path / "ckpt.npz").is_file() and "model" in ns and "loader" in ns


def test_output_matching_rules():
    assert output_matches("a = 0.62246\n", "a = 0.6225\n")
    assert not output_matches("a = 0.7\n", "a = 0.6225\n")
    assert not output_matches("b = 0.6225\n", "a = 0.6225\n")
    assert output_matches("x 1\ny 2\nz 3\n", "x 1\n...\nz 3\n")
    assert not output_matches("x 1\ny 2\n", "x 1\n")
    assert output_matches("tensor([1.,  2.])", "tensor([1., 2.])")
    assert not output_matches("3 steps\n", "2 steps\n") and not output_matches("[2.]\n", "[3.]\n")
    assert output_matches("1.25e-03\n", "1.2e-03\n") and not output_matches("1.4e-03\n", "1.2e-03\n")


def check_pages(prefixes):
    """``--check [PAGE ...]``: run pages like the tests do and say, in Chinese, whether the output matches.

    Returns the exit status: 0 all match, 1 a page failed, 2 no page has that name."""
    import tempfile
    chosen = [p for p in PAGES if not prefixes or any(p.name.startswith(a) for a in prefixes)]
    if not chosen:
        print(f"没有以 {' / '.join(prefixes)} 开头的教程页（no page {' '.join(prefixes)}）；"
              f"可选：{' '.join(p.name[:2] for p in PAGES)}")
        return 2
    failed = 0
    for p in chosen:
        missing = [exe for exe in NEEDS.get(p.name[:2], ()) if shutil.which(exe) is None]
        if missing:
            print(f"✗ {p.name}：需要 {', '.join(missing)}（例如 apt-get install {' '.join(missing)}）"
                  f"（needs {', '.join(missing)}）")
            failed += 1
            continue
        with tempfile.TemporaryDirectory() as d:
            (pathlib.Path(d) / "img").mkdir()
            try:
                run_page(p, d)
            except Exception as e:                  # AssertionError: a block raised or printed otherwise
                print(f"✗ {p.name}：没有通过：代码出错了，或者打印的和页面上的不一样（failed）\n{e}")
                failed += 1
                continue
        print(f"✓ {p.name}：全部代码块都运行了，输出与页面一致（all blocks ran, the output matches the page）")
    if failed:
        print(f"\n{failed} 页没有通过检查（{failed} page(s) failed）")
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        sys.exit(check_pages(sys.argv[2:]))
    if len(sys.argv) > 2 and sys.argv[1] == "--show":
        for p in PAGES:
            if p.name.startswith(sys.argv[2]):
                import tempfile
                with tempfile.TemporaryDirectory() as d:
                    (pathlib.Path(d) / "img").mkdir()
                    run_page(p, d, check=False, show=True)
    else:                                    # regenerate docs/img/*.png from the pages' code
        for p in PAGES:
            if len(sys.argv) == 1 or any(p.name.startswith(a) for a in sys.argv[1:]):
                print("running", p.name)
                run_page(p, DOCS)
