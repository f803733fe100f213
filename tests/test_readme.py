"""The README's Python examples run, and give the results they show."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _blocks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_python_examples_give_the_results_shown(monkeypatch):
    monkeypatch.chdir(ROOT)
    blocks = _blocks()
    assert blocks, "the README has no Python example"
    checked = 0
    for block in blocks:
        namespace: dict = {}
        lines = block.splitlines()
        statement: list[str] = []
        for line in lines + [""]:
            if line.startswith("# ") and statement:
                # "# <literal>" right after a statement: the value it shows.
                expected = ast.literal_eval(line[2:].strip())
                source = "\n".join(statement)
                *body, last = ast.parse(source).body
                exec(compile(ast.Module(body=body, type_ignores=[]), "README", "exec"), namespace)
                value = eval(compile(ast.Expression(last.value), "README", "eval"), namespace)
                assert value == expected, (source, value, expected)
                checked += 1
                statement = []
            elif line.strip() or statement:
                statement.append(line.split("  #")[0].rstrip() if "  #" in line else line)
        rest = "\n".join(statement).strip()
        if rest:
            exec(rest, namespace)
    assert checked >= 3
