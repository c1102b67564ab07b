"""No user text in the services: what a person reads is worded in ``bot/views/`` (issue 26).

A service returns data and typed reasons (frozen dataclasses, enums carrying the figures);
the view words them, once, for the chat and the Mini App alike. The rule, checked on the
source (``ast``) of every module under ``storage/services/``:

* a *string* is a string literal, or a whole f-string (its literal parts, the placeholders
  left out), or implicitly concatenated literals — one expression, one string;
* it is *user text* when it holds at least two different words of :data:`COMMON_WORDS`
  (Indonesian function words and the verbs of instructions — not the domain's nouns, which
  are also keys, column names and identifiers: ``"tanpa_bidang"``, ``"realisasi"``);
* exempt are docstrings, and exception messages: anything inside a ``raise`` statement, a
  call of an exception class, or the body of an exception class (``default_message``, the
  message an ``__init__`` passes on) — one exception base carries its user message
  (``storage.domain.errors.MonevError``).

What remains is listed in :data:`ALLOWED` with the reason each may stay.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ROOT / "storage" / "services"

_COMMON = """
    ada adalah agar akan anda antara apa atau bagi baru belum berapa biasanya bila bisa boleh
    bukan dalam dan dapat daripada dari dengan di dulu hanya harus ini isi itu jika juga kalau
    karena ke kecil kembali ketik kirim lagi lain lalu lebih lewat mana masih menjadi minta
    misalnya mohon pada pakai paling pilih saja sampai satu saya sebagai sebelum sedang sejak
    semua setelah silakan sudah tanpa tekan tetap tidak tulis tunggu turun untuk yang
"""
COMMON_WORDS = frozenset(_COMMON.split())

_WORD = re.compile(r"[A-Za-z]+(?:_[A-Za-z]+)*")


@dataclass(frozen=True)
class Allowed:
    """A user text that may stay in a service: the module, the function (or ``<module>``)
    that holds it, and why."""

    path: str
    where: str
    why: str


ALLOWED = (
    Allowed(
        "storage/services/office.py",
        "_help_lines",
        "the XLSX template's instructions sheet: the content of a file the admin downloads, "
        "written by the code that writes the workbook, not a message",
    ),
    Allowed(
        "storage/services/office.py",
        "_write_plan_sheet",
        "the same template's cell validation (Excel shows it when a pagu is not a whole "
        "number): file content, like the instructions",
    ),
    Allowed(
        "storage/services/validator.py",
        "*",
        "findings of an imported report, stored as Finding rows: the official report and "
        "/temuan show the stored text later, so it is written when the finding is recorded",
    ),
    Allowed(
        "storage/services/submission.py",
        "_indicator_drop_findings",
        "a confirmed indicator drop stored as a Finding row beside the validator's (same "
        "reason: the stored record is the text /temuan and the official report show)",
    ),
)


def _exception_classes(trees: list[ast.Module]) -> set[str]:
    """Names of the exception classes defined in the product (by their bases, to a fixpoint)."""
    names = {"Exception", "BaseException", "ValueError", "LookupError", "RuntimeError"}
    names |= {"PermissionError", "KeyError", "TypeError", "MonevError"}
    classes = [n for t in trees for n in ast.walk(t) if isinstance(n, ast.ClassDef)]
    grown = True
    while grown:
        grown = False
        for c in classes:
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in c.bases}
            if c.name not in names and bases & names:
                names.add(c.name)
                grown = True
    return names


def _callee(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


@dataclass(frozen=True)
class Found:
    path: str
    where: str  # the enclosing function (dotted through classes), or "<module>"
    line: int
    text: str


def user_texts(source: str, rel: str, exceptions: set[str]) -> Iterator[Found]:
    """The strings of module ``source`` (at ``rel``) that the rule counts as user text."""
    tree = ast.parse(source)

    def visit(node: ast.AST, where: str, exempt: bool) -> Iterator[Found]:
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                body = body[1:]  # the docstring
            if isinstance(node, ast.ClassDef):
                exempt = exempt or node.name in exceptions
            if not isinstance(node, ast.Module):
                where = node.name if where == "<module>" else f"{where}.{node.name}"
            for child in body:
                yield from visit(child, where, exempt)
            if not isinstance(node, ast.Module):
                for child in [*node.decorator_list]:
                    yield from visit(child, where, exempt)
            return
        if isinstance(node, ast.Raise) or (
            isinstance(node, ast.Call) and _callee(node) in exceptions
        ):
            exempt = True
        if isinstance(node, ast.JoinedStr | ast.Constant):
            if isinstance(node, ast.JoinedStr):
                text = " ".join(
                    v.value
                    for v in node.values
                    if isinstance(v, ast.Constant) and isinstance(v.value, str)
                )
            elif isinstance(node.value, str):
                text = node.value
            else:
                return
            words = {w.lower() for w in _WORD.findall(text)} & COMMON_WORDS
            if len(words) >= 2 and not exempt:
                yield Found(rel, where, node.lineno, text)
            return
        for child in ast.iter_child_nodes(node):
            yield from visit(child, where, exempt)

    yield from visit(tree, "<module>", False)


def _scan() -> list[Found]:
    paths = sorted(SERVICES.rglob("*.py"))
    product = [*(ROOT / "storage").rglob("*.py"), *(ROOT / "bot").rglob("*.py")]
    exceptions = _exception_classes([ast.parse(p.read_text(encoding="utf-8")) for p in product])
    return [
        f
        for p in paths
        for f in user_texts(
            p.read_text(encoding="utf-8"), p.relative_to(ROOT).as_posix(), exceptions
        )
    ]


def _allowed(found: Found) -> bool:
    return any(
        a.path == found.path
        and (a.where == "*" or found.where == a.where or found.where.startswith(a.where + "."))
        for a in ALLOWED
    )


def test_services_hold_no_user_text() -> None:
    left = [f for f in _scan() if not _allowed(f)]
    assert not left, "user text in storage/services (word it in bot/views/):\n" + "\n".join(
        f"{f.path}:{f.line} ({f.where}): {f.text[:80]!r}" for f in left
    )


def test_every_allowance_is_still_needed() -> None:
    """An entry of the allow-list that covers nothing any more goes (it would hide new text)."""
    found = _scan()
    for a in ALLOWED:
        assert any(
            f.path == a.path
            and (a.where == "*" or f.where == a.where or f.where.startswith(a.where + "."))
            for f in found
        ), a


def test_the_rule_sees_user_text_and_leaves_exceptions() -> None:
    """The rule itself, on a small module: a message counts, an exception's does not."""
    source = '''
"""Docstring: tidak ada yang dihitung di sini."""
class PlanError(ValueError):
    default_message = "Rencana belum ada. Minta admin menyiapkannya dulu."
def check(x):
    """Tidak dihitung: docstring."""
    if x < 0:
        raise PlanError(f"Angka {x} tidak boleh kurang dari nol.")
    key = "tanpa_bidang"
    label = "Tanpa bidang"
    return f"Realisasi {x} lebih kecil daripada triwulan lalu."
'''
    found = list(user_texts(source, "probe.py", _exception_classes([ast.parse(source)])))
    assert [(f.where, f.text) for f in found] == [
        ("check", "Realisasi   lebih kecil daripada triwulan lalu.")
    ], found
