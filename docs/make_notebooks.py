"""把教程页 docs/0*_*.md 转成 Jupyter notebook：docs/notebooks/0*_*.ipynb。

页面（.md）是唯一的源文件，notebook 由它生成，不要手改 notebook：

* ```` ```python ```` 代码块 → 代码单元（code cell），顺序不变，在同一个内核里依次运行；
* 其余内容（文字、公式、```` ```python no-run ````、```` ```text ```` 输出、```` ```bash ```` 命令）→ Markdown 单元；
* 相对链接改成从 notebooks/ 出发也能打开：``img/x.png`` → ``../img/x.png``，其他页面 ``02_xxx.md`` →
  ``02_xxx.ipynb``，仓库里的文件 ``../tinygrad_zh/...`` → ``../../tinygrad_zh/...``；
* 页面的代码往 ``img/`` 写图片时，开头加一个建立 ``img/`` 的单元（notebooks/img/ 被 .gitignore 忽略）。

用法::

    python docs/make_notebooks.py            # 重新生成全部 notebook
    python docs/make_notebooks.py --check    # 只检查：notebook 与页面不一致时返回 1（测试也检查这一点）

只用标准库（json、re），生成的内容是确定的（单元 id 按顺序编号），所以重新生成不会产生无意义的 diff。
打开 notebook 需要 Jupyter：``pip install ".[notebooks]"``。

English: converts each tutorial page into a notebook (python blocks become code cells, everything
else markdown, relative links rewritten for docs/notebooks/); ``--check`` reports stale notebooks.
"""
import json
import pathlib
import re
import sys

DOCS = pathlib.Path(__file__).resolve().parent
OUT = DOCS / "notebooks"
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$\n?", re.S | re.M)
_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)(\))")


def pages():
    """The tutorial pages that get a notebook: docs/00_*.md ... docs/09_*.md."""
    return sorted(DOCS.glob("[0-9][0-9]_*.md"))


def _rewrite_link(target, page_names):
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
        return target                                   # http://..., mailto:, anchors, absolute
    path, _, anchor = target.partition("#")
    if path in page_names:                              # another tutorial page: its notebook
        path = path[:-3] + ".ipynb"
    else:
        path = "../" + path                             # relative to docs/ -> relative to docs/notebooks/
    return path + ("#" + anchor if anchor else "")


def _markdown(text, page_names):
    return _LINK.sub(lambda m: m.group(1) + _rewrite_link(m.group(2), page_names) + m.group(3), text)


def _lines(text):
    """nbformat stores a cell's source as a list of lines (each with its newline but the last)."""
    lines = text.split("\n")
    return [ln + "\n" for ln in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def page_to_notebook(text, name, page_names=None):
    """The notebook (a dict in nbformat 4.5) for the page ``name`` (e.g. ``"04_mlp_mnist.md"``)."""
    page_names = set(page_names or [p.name for p in pages()])
    cells = []

    def add(kind, source):
        source = source.strip("\n")
        if not source.strip():
            return
        cell = {"cell_type": kind, "id": f"c{len(cells):03d}", "metadata": {}, "source": _lines(source)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)

    add("markdown", f"*本 notebook 由 [`docs/{name}`](../{name}) 自动生成（`python docs/make_notebooks.py`），"
                    "修改请改 .md 页面。从上到下依次运行每个单元（Run All）。*")
    code = [m.group(2) for m in _FENCE.finditer(text) if m.group(1).strip() == "python"]
    if any(re.search(r"""["']img/""", c) for c in code):
        add("code", '# 页面的代码把图片写到 img/：先建好这个目录（notebooks/img/ 不进 git）\n'
                    'import os\nos.makedirs("img", exist_ok=True)')
    pos, buf = 0, []
    for m in _FENCE.finditer(text):
        info = m.group(1).strip().split()
        if info[:1] == ["python"] and "no-run" not in info[1:]:
            buf.append(text[pos:m.start()])
            add("markdown", _markdown("".join(buf), page_names))
            buf = []
            add("code", m.group(2))
        else:
            buf.append(text[pos:m.end()])
        pos = m.end()
    buf.append(text[pos:])
    add("markdown", _markdown("".join(buf), page_names))
    return {"cells": cells,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def dumps(nb):
    return json.dumps(nb, ensure_ascii=False, indent=1) + "\n"


def expected():
    """{path of the notebook: its text} for every tutorial page."""
    names = [p.name for p in pages()]
    return {OUT / (p.stem + ".ipynb"): dumps(page_to_notebook(p.read_text(encoding="utf-8"), p.name, names))
            for p in pages()}


def stale():
    """Notebooks that are missing or differ from their page, and notebooks without a page."""
    want = expected()
    bad = [p for p, text in want.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    extra = [p for p in OUT.glob("*.ipynb") if p not in want]
    return bad + extra


def main(argv):
    if "--check" in argv:
        bad = stale()
        for p in bad:
            print(f"stale: {p.relative_to(DOCS.parent)} (run python docs/make_notebooks.py)")
        return 1 if bad else 0
    OUT.mkdir(exist_ok=True)
    want = expected()
    for p in OUT.glob("*.ipynb"):
        if p not in want:
            p.unlink()
    for p, text in want.items():
        p.write_text(text, encoding="utf-8")
        print("wrote", p.relative_to(DOCS.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
