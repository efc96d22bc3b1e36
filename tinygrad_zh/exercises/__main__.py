"""``python -m tinygrad_zh.exercises``：列出、复制、判分、提示（中文输出）。"""
import argparse
import pathlib
import shutil
import sys
import unicodedata

try:
    from ._catalog import EXERCISES, find, check
except ImportError as _e:                   # pragma: no cover - depends on the environment
    if "hypothesis" not in str(_e):
        raise
    sys.exit("判题需要 Hypothesis：pip install hypothesis（或 pip install -e \".[dev]\"）")

DEFAULT_DIR = "tg_exercises"

USAGE = """python -m tinygrad_zh.exercises <命令>

命令：
  list                        列出全部题目
  init [DIR] [--force]        把题目文件复制到 DIR（默认 tg_exercises/），已有的文件不覆盖（除非 --force）
  check [NAME] [--dir DIR]    判分：NAME 是题目名或编号（div、3、ex03_div）；不写 NAME 就判全部
  check [NAME] --reference    判随包发布的参考答案
  hint NAME                   分步提示

流程：先读 docs/00_build_an_engine.md，然后 init，按编号一道一道做，每做完一道 check 一次。
"""


def _print(s=""):
    try:
        print(s)
    except UnicodeEncodeError:              # a terminal without UTF-8
        print(s.encode("ascii", "replace").decode())


def _pad(s, width):
    """Pad to a display width (a CJK character takes two columns)."""
    w = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)
    return s + " " * max(width - w, 0)


def cmd_list(args):
    _print(f"编号  {_pad('名字', 15)} {_pad('题目', 22)} 讲解")
    for e in EXERCISES:
        _print(f"{e.number:>3}   {_pad(e.name, 15)} {_pad(e.title, 22)} docs/{e.page}")
    _print(f"\n共 {len(EXERCISES)} 题。开始：python -m tinygrad_zh.exercises init {DEFAULT_DIR}")
    return 0


def cmd_init(args):
    d = pathlib.Path(args.dir or DEFAULT_DIR)
    d.mkdir(parents=True, exist_ok=True)
    copied, kept = 0, 0
    for e in EXERCISES:
        target = d / e.file
        if target.exists() and not args.force:
            kept += 1
            continue
        shutil.copyfile(e.stub, target)
        copied += 1
    _print(f"已复制 {copied} 个题目文件到 {d}/" + (f"（{kept} 个已存在，没有覆盖；要覆盖加 --force）" if kept else ""))
    _print(f"从第一题开始：打开 {d / EXERCISES[0].file}，写完后运行")
    _print(f"  python -m tinygrad_zh.exercises check {EXERCISES[0].name} --dir {d}")
    return 0


def cmd_check(args):
    try:
        chosen = [find(args.name)] if args.name else list(EXERCISES)
    except KeyError:
        _print(f"没有叫 {args.name!r} 的题目。运行 python -m tinygrad_zh.exercises list 查看题目。")
        return 2
    base = None if args.reference else pathlib.Path(args.dir or DEFAULT_DIR)
    if base is not None and not base.is_dir():
        _print(f"目录 {base}/ 不存在。先运行 python -m tinygrad_zh.exercises init {base}")
        return 2
    reports = []
    for e in chosen:
        path = e.solution if args.reference else base / e.file
        rep = check(e, path)
        reports.append(rep)
        _print(rep.format(verbose=True))
        sys.stdout.flush()
    if len(reports) == 1 and reports[0].passed and not args.reference and chosen[0] is not EXERCISES[-1]:
        nxt = EXERCISES[EXERCISES.index(chosen[0]) + 1]
        _print(f"下一题：{base / nxt.file}，写完后运行 python -m tinygrad_zh.exercises check {nxt.name} --dir {base}")
    if len(reports) > 1:
        done = sum(r.passed for r in reports)
        todo = sum(r.status in ("todo", "missing") for r in reports)
        _print(f"\n通过 {done}/{len(reports)} 题" + (f"，{todo} 题还没写" if todo else ""))
    return 0 if all(r.passed for r in reports) else 1


def cmd_hint(args):
    try:
        e = find(args.name)
    except KeyError:
        _print(f"没有叫 {args.name!r} 的题目。运行 python -m tinygrad_zh.exercises list 查看题目。")
        return 2
    _print(f"{e.number:02d} {e.name}（{e.title}），讲解见 docs/{e.page}")
    for k, h in enumerate(e.hints, 1):
        _print(f"  {k}. {h}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinygrad_zh.exercises", usage=USAGE, add_help=True)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("list")
    p = sub.add_parser("init")
    p.add_argument("dir", nargs="?")
    p.add_argument("--force", action="store_true")
    p = sub.add_parser("check")
    p.add_argument("name", nargs="?")
    p.add_argument("--dir")
    p.add_argument("--reference", action="store_true")
    p = sub.add_parser("hint")
    p.add_argument("name")
    args = parser.parse_args(argv)
    if args.command is None:
        _print(USAGE)
        return cmd_list(args)
    return {"list": cmd_list, "init": cmd_init, "check": cmd_check, "hint": cmd_hint}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
