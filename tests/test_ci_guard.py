"""The CI guard against silent skips (tests/conftest.py, tests/allowed_skips.txt) does its job.

Under ``CI=true`` (or ``TINYGRAD_ZH_STRICT_SKIPS=1``) a skip that ``tests/allowed_skips.txt`` does not
list must fail the run, whether a test skipped or a whole module was skipped while being collected
(a module-level ``pytest.importorskip``). These tests copy ``tests/conftest.py`` into a scratch
project with a few tiny test files and run pytest on it in subprocesses (all at once, to be quick).
The scratch project has its own pytest.ini, so the inner runs see neither the repository's
pytest.ini nor its conftest; only ``tinygrad_zh`` (which the conftest imports) comes from here.
"""
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

TESTS = pathlib.Path(__file__).resolve().parent
ROOT = TESTS.parent

FILES = {
    # a module that needs a dependency that is not there: skipped whole at collection
    "test_modskip.py": """
        import pytest
        pytest.importorskip("no_such_module_xyz")

        def test_never_collected():
            pass
    """,
    # a test that skips itself
    "test_fnskip.py": """
        import pytest

        def test_skips_inside():
            pytest.skip("skipped inside the test")
    """,
    "test_pass.py": """
        def test_ok():
            assert 1 + 1 == 2
    """,
    # skips that tests/allowed_skips.txt (below) lists: one test, one whole module
    "test_listed.py": """
        import pytest

        def test_allowed_skip():
            pytest.skip("listed in allowed_skips.txt")

        def test_runs():
            pass
    """,
    "test_listed_mod.py": """
        import pytest
        pytest.importorskip("no_such_module_listed_xyz")

        def test_never_collected():
            pass
    """,
}
ALLOWED = """\
# scratch allowed list for tests/test_ci_guard.py
tests/test_listed.py::test_allowed_skip  # a listed test skip
tests/test_listed_mod.py  # a listed module skipped at collection
"""

# name -> (extra environment, test files)
RUNS = {
    "ci_module_skip": ({"CI": "true"}, ["test_modskip.py", "test_pass.py"]),
    "ci_test_skip": ({"CI": "true"}, ["test_fnskip.py", "test_pass.py"]),
    "ci_listed_only": ({"CI": "true"}, ["test_listed.py", "test_listed_mod.py", "test_pass.py"]),
    "strict_flag_module_skip": ({"TINYGRAD_ZH_STRICT_SKIPS": "1"}, ["test_modskip.py", "test_pass.py"]),
    "no_ci": ({}, list(FILES)),
}
HEADER = "skipped that must run in CI"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Build the scratch project, start every inner pytest run at once, return name -> (rc, output)."""
    proj = tmp_path_factory.mktemp("ci_guard")
    (proj / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    tdir = proj / "tests"
    tdir.mkdir()
    (tdir / "conftest.py").write_text((TESTS / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8")
    (tdir / "allowed_skips.txt").write_text(ALLOWED, encoding="utf-8")
    for name, src in FILES.items():
        (tdir / name).write_text(textwrap.dedent(src).lstrip(), encoding="utf-8")

    base = {k: v for k, v in os.environ.items()
            if k not in ("CI", "TINYGRAD_ZH_STRICT_SKIPS", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
            and not k.startswith("PYTEST_XDIST")}
    base["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [base.get("PYTHONPATH")] if p])
    base["PYTHONDONTWRITEBYTECODE"] = "1"
    procs = {}
    for name, (extra, files) in RUNS.items():
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-c", str(proj / "pytest.ini"), "--rootdir", str(proj), *(f"tests/{f}" for f in files)]
        procs[name] = subprocess.Popen(cmd, cwd=proj, env={**base, **extra}, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = {}
    try:
        for name, p in procs.items():
            text, _ = p.communicate(timeout=120)
            out[name] = (p.returncode, text)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    return out


def _guard_lines(text):
    """The lines of the guard's final message (its header and the skips it names)."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if HEADER in ln and ln[:1].isdigit()), None)
    if start is None:
        return []
    block = [lines[start]]
    for ln in lines[start + 1:]:
        if not ln.startswith("  "):
            break
        block.append(ln)
    return block


def test_unlisted_module_skip_fails_ci_and_names_the_module(runs):
    rc, text = runs["ci_module_skip"]
    assert rc != 0, text
    guard = _guard_lines(text)
    assert guard and "1 whole module(s)" in guard[0], text
    named = [ln for ln in guard[1:] if ln.strip().startswith("tests/test_modskip.py ")]
    assert named and "no_such_module_xyz" in named[0] and "at collection" in named[0], text
    assert not any("test_pass.py" in ln for ln in guard), text


def test_unlisted_test_skip_fails_ci_and_names_the_test(runs):
    rc, text = runs["ci_test_skip"]
    assert rc != 0, text
    guard = _guard_lines(text)
    assert guard and "1 test(s)" in guard[0], text
    named = [ln for ln in guard[1:] if ln.strip().startswith("tests/test_fnskip.py::test_skips_inside:")]
    assert named and "skipped inside the test" in named[0], text


def test_strict_flag_without_ci_fails_too(runs):
    """.ci/run sets TINYGRAD_ZH_STRICT_SKIPS=1; it turns the guard on without CI=true as well."""
    rc, text = runs["strict_flag_module_skip"]
    assert rc != 0, text
    assert any("tests/test_modskip.py" in ln for ln in _guard_lines(text)), text


def test_listed_skips_pass_ci(runs):
    rc, text = runs["ci_listed_only"]
    assert rc == 0, text
    assert HEADER not in text, text
    assert "2 skipped" in text, text        # the listed test and the listed module did skip


def test_without_ci_skips_do_not_fail(runs):
    rc, text = runs["no_ci"]
    assert rc == 0, text
    assert HEADER not in text, text
    assert "4 skipped" in text, text        # 2 modules at collection + 2 tests
