"""docs/learning_path.md: every check command of the learner's path runs, in order, and prints what the page says.

The page's conventions (its section "怎么用这一页"):

* each ```bash block holds ONE command; ```bash exit=N says the command must exit with N (default 0);
* the ```text block right after it is the expected stdout, matched with the rules of tests/test_docs.py
  (``...`` lines skip lines, numbers to ~3 significant digits), except that whole numbers must be equal
  ("通过 16/17 题" is not "通过 17/17 题") and durations ("0.4 秒", ``"seconds": 1.38``, "in 5.1s") are
  not compared.

The commands run in a scratch copy of the checkout (a temporary directory whose entries link to the
repository's), so ``我的练习/`` and anything else a command writes stays out of the repository.  Where the
page says the learner has written an exercise (``exercises check [NAME] --dir DIR`` expected to pass),
the test copies the reference solution(s) into DIR first, as the learner would have written them.
"""
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "learning_path.md"
sys.path.insert(0, str(ROOT / "tests"))
import test_docs  # noqa: E402
from test_docs import PAGES  # noqa: E402

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
_DURATIONS = [re.compile(r'("seconds": )[-+]?\d+(?:\.\d+)?'),        # the examples' JSON line
              re.compile(r"()\d+(?:\.\d+)?(?= ?秒)"),                 # 通过（75 个随机例子，0.4 秒）
              re.compile(r"(in )\d+(?:\.\d+)?(?=s\b)")]                 # pytest: 1 passed in 5.1s


def parse_commands(text):
    """[(command, expected_exit, expected_stdout, line)] for the ```bash blocks of the page, in order."""
    steps = []
    matches = list(_FENCE.finditer(text))
    for i, m in enumerate(matches):
        info = m.group(1).strip().split()
        if not info or info[0] != "bash":
            continue
        line = text.count("\n", 0, m.start()) + 1
        lines = [ln for ln in m.group(2).splitlines() if ln.strip()]
        assert len(lines) == 1, f"learning_path.md:{line}: a ```bash block holds one command, not {len(lines)}"
        exits = [int(opt.split("=", 1)[1]) for opt in info[1:] if opt.startswith("exit=")]
        assert len(info) == 1 + len(exits) <= 2, f"learning_path.md:{line}: unknown option in ```{m.group(1)}"
        nxt = matches[i + 1] if i + 1 < len(matches) else None
        assert nxt is not None and nxt.group(1).strip() == "text" and not text[m.end():nxt.start()].strip(), (
            f"learning_path.md:{line}: the command is not followed by a ```text block with its output")
        steps.append((lines[0].strip(), exits[0] if exits else 0, nxt.group(2), line))
    return steps


def without_durations(s):
    for rx in _DURATIONS:
        s = rx.sub(lambda m: m.group(1) + "<t>", s)
    return s


def _close(a, b):
    if re.fullmatch(r"[-+]?\d+", b):
        return re.fullmatch(r"[-+]?\d+", a) is not None and int(a) == int(b)
    return test_docs._close(a, b)


def _line_matches(actual, expected):
    a_nums, e_nums = test_docs._NUM.findall(actual), test_docs._NUM.findall(expected)
    a_text = " ".join(test_docs._NUM.sub("#", actual).split())
    e_text = " ".join(test_docs._NUM.sub("#", expected).split())
    return a_text == e_text and len(a_nums) == len(e_nums) and all(map(_close, a_nums, e_nums))


def output_matches(actual, expected):
    """tests/test_docs.py's rule, with whole numbers compared exactly and durations not at all."""
    act = [ln.rstrip() for ln in without_durations(actual).rstrip("\n").split("\n")] if actual.strip() else []
    exp = [ln.rstrip() for ln in without_durations(expected).rstrip("\n").split("\n")] if expected.strip() else []

    def match(i, j):
        if j == len(exp):
            return i == len(act)
        if exp[j].strip() == "...":
            return any(match(k, j + 1) for k in range(i, len(act) + 1))
        return i < len(act) and _line_matches(act[i], exp[j]) and match(i + 1, j + 1)
    return match(0, 0)


def scratch_checkout(tmp_path):
    """A folder that looks like the repository root (its entries are links) but is not the repository."""
    root = tmp_path / "checkout"
    root.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in (".git", ".pytest_cache", "我的练习"):
            (root / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    return root


def run(argv, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    argv = [sys.executable if a == "python" else a for a in argv]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=300)


def write_solutions(argv, cwd):
    """Before ``exercises check [NAME] --dir DIR`` that must pass: the learner has written NAME (or all)."""
    from tinygrad_zh.exercises import EXERCISES, find
    args = argv[argv.index("check") + 1:]
    folder = cwd / args[args.index("--dir") + 1]
    names = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "--dir")]
    for e in ([find(names[0])] if names else EXERCISES):
        shutil.copyfile(e.solution, folder / e.file)


STEPS = parse_commands(PAGE.read_text(encoding="utf-8"))


def test_the_path_goes_page0_exercises_pages_examples():
    """The path covers every tutorial page in order, with the exercises between page 0 and page 1."""
    kinds = []
    for cmd, code, _, _ in STEPS:
        argv = shlex.split(cmd)
        assert argv[0] == "python", f"{cmd!r}: commands start with python"
        if argv[1:3] == ["tests/test_docs.py", "--check"]:
            assert len(argv) == 4, cmd
            kinds.append("page " + argv[3])
        elif argv[1:3] == ["-m", "tinygrad_zh.exercises"]:
            kinds.append("exercises")
        elif argv[1].startswith("examples/"):
            kinds.append("examples")
        elif argv[1:3] == ["-m", "pytest"] and "notebook" in cmd:
            kinds.append("notebooks")
        else:
            kinds.append("other")
    squeezed = [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1]]
    pages = ["page " + p.name[:2] for p in PAGES]
    assert squeezed == ["exercises", pages[0], "exercises"] + pages[1:] + ["examples", "notebooks"], squeezed
    ex = [shlex.split(c)[3:] for c, _, _, _ in STEPS if "tinygrad_zh.exercises" in c]
    assert ex[0] == ["list"] and ["check", "--reference"] in ex and ex.count(["init", "我的练习"]) == 1
    # the stub is checked (and must fail) right after init, and the same command later passes
    i = next(k for k, (c, _, _, _) in enumerate(STEPS) if c.endswith("init 我的练习"))
    assert STEPS[i + 1][1] == 1 and "--dir 我的练习" in STEPS[i + 1][0] and "还没写" in STEPS[i + 1][2]
    assert any(c == STEPS[i + 1][0] and code == 0 for c, code, _, _ in STEPS[i + 2:])
    assert any(c.endswith("check --dir 我的练习") and code == 0 and "通过 17/17 题" in out
               for c, code, out, _ in STEPS)


def test_every_command_runs_and_prints_what_the_page_shows(tmp_path):
    cwd = scratch_checkout(tmp_path)
    for cmd, code, expected, line in STEPS:
        argv = shlex.split(cmd)
        if "tinygrad_zh.exercises" in argv and "check" in argv and "--dir" in argv and code == 0:
            write_solutions(argv, cwd)
        r = run(argv, cwd)
        where = f"docs/learning_path.md:{line}: `{cmd}`"
        assert r.returncode == code, (f"{where} exited with {r.returncode}, the page says {code}\n"
                                      f"stdout:\n{r.stdout}\nstderr:\n{r.stderr[-3000:]}")
        assert output_matches(r.stdout, expected), (
            f"{where} printed\n{r.stdout}\nbut the page shows\n{expected}")
    assert not (ROOT / "我的练习").exists()


def test_untouched_stubs_fail_and_reference_solutions_pass(tmp_path):
    """The grading is real: right after init nothing passes (exit 1), the shipped solutions pass."""
    r = run(["python", "-m", "tinygrad_zh.exercises", "init", "ex"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run(["python", "-m", "tinygrad_zh.exercises", "check", "--dir", "ex"], tmp_path)
    assert r.returncode == 1 and "通过 0/17 题，17 题还没写" in r.stdout, r.stdout + r.stderr
    assert "✓" not in r.stdout
    r = run(["python", "-m", "tinygrad_zh.exercises", "check", "div", "--reference"], tmp_path)
    assert r.returncode == 0 and "通过" in r.stdout, r.stdout + r.stderr


def test_page_check_fails_on_a_mismatch(tmp_path, monkeypatch, capsys):
    """``python tests/test_docs.py --check`` exits 1 when a page's code prints something else."""
    import test_docs
    page = tmp_path / "03_fake.md"
    page.write_text("# x\n\n```python\nprint('loss', 1 + 1)\n```\n\n```text\nloss 2\n```\n", encoding="utf-8")
    monkeypatch.setattr(test_docs, "PAGES", [page])
    assert test_docs.check_pages(["03"]) == 0
    assert "✓ 03_fake.md" in capsys.readouterr().out
    page.write_text(page.read_text(encoding="utf-8").replace("\nloss 2\n", "\naccuracy 2\n"), encoding="utf-8")
    assert test_docs.check_pages(["03"]) == 1
    out = capsys.readouterr().out
    assert "✗ 03_fake.md" in out and "1 页没有通过检查" in out
    assert test_docs.check_pages(["42"]) == 2


def test_durations_are_the_only_thing_ignored():
    assert without_durations("通过（75 个随机例子，0.4 秒）") == "通过（75 个随机例子，<t> 秒）"
    assert without_durations('"max_steps": 50, "seconds": 1.38}') == '"max_steps": 50, "seconds": <t>}'
    assert without_durations("1 passed in 5.12s") == "1 passed in <t>s"
    assert output_matches("✓ 01 scalar：通过（75 个随机例子，0.4 秒）\n", "✓ 01 scalar：通过（75 个随机例子，3.1 秒）\n")
    assert not output_matches("✓ 01 scalar：通过（74 个随机例子，0.4 秒）\n", "✓ 01 scalar：通过（75 个随机例子，0.4 秒）\n")
    assert not output_matches("通过 16/17 题\n", "通过 17/17 题\n")
    assert output_matches("test accuracy 0.8645\n", "test accuracy 0.8644\n")
    assert not output_matches("test accuracy 0.8544\n", "test accuracy 0.8644\n")


def test_page_links_exist():
    text = PAGE.read_text(encoding="utf-8")
    links = [m for m in re.findall(r"\]\(([^)\s#]+)\)", text) if "://" not in m]
    assert len(links) >= 15
    broken = [link for link in links if not (PAGE.parent / link).exists()]
    assert not broken, f"docs/learning_path.md: broken links {broken}"
    assert "(learning_path.md)" in (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    assert "(docs/learning_path.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
