"""The dashboard builds no SQL from strings it formats: every statement is SQLAlchemy Core
with bound parameters, or a constant string."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SQL_CALLS = {"text", "execute", "exec_driver_sql", "executescript"}
FORMATTED = (ast.JoinedStr, ast.BinOp)


def formatted_sql(path: Path) -> list[str]:
    """Calls of text()/execute()/exec_driver_sql() whose argument is an f-string, a
    concatenation, a %-format or a .format() call."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name not in SQL_CALLS or not node.args:
            continue
        first = node.args[0]
        is_format_call = (
            isinstance(first, ast.Call)
            and isinstance(first.func, ast.Attribute)
            and first.func.attr == "format"
        )
        if isinstance(first, FORMATTED) or is_format_call:
            found.append(f"{path}:{node.lineno}")
    return found


def test_no_dashboard_module_formats_sql_text():
    files = sorted((ROOT / "dashboard").rglob("*.py"))
    assert len(files) > 10
    assert [hit for path in files for hit in formatted_sql(path)] == []


def test_the_scanner_finds_formatted_sql(tmp_path: Path):
    sample = tmp_path / "bad.py"
    sample.write_text(
        "conn.execute(text(f'SELECT * FROM events WHERE stream_id = {typed}'))\n"
        "conn.exec_driver_sql('SELECT ' + typed)\n"
        "conn.execute(text('SELECT {}'.format(typed)))\n"
        "conn.execute(text('SELECT 1'))\n"
    )
    assert len(formatted_sql(sample)) == 3
