"""The layout rules of docs/architecture.md and STYLE.md, checked on the source: imports point
one way (chatsite → agentdocs/insights → chat → rag), no import cycle at module level, and no
module of chat/, rag/, chatsite/ over 600 lines."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("chatsite", "agentdocs", "insights", "chat", "rag")
# What each app may import of the others.
ALLOWED = {
    "rag": set(),
    "chat": {"rag"},
    "agentdocs": {"chat", "rag"},
    "insights": {"chat", "rag"},
    "chatsite": {"agentdocs", "insights", "chat", "rag"},
}
MAX_LINES = 600


def modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "tests" in relative.parts or "migrations" in relative.parts:
                continue
            name = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _outside_functions(node: ast.AST):
    """The nodes run when the module is imported (function bodies are not)."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield child
            yield from _outside_functions(child)


def imports(name: str, path: Path, known: dict, *, module_level: bool) -> set[str]:
    """The project modules ``name`` imports (at module level only, or anywhere)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = list(_outside_functions(tree) if module_level else ast.walk(tree))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def test_apps_import_only_the_layers_below_them():
    known = modules()
    wrong = sorted(
        f"{name} imports {target}"
        for name, path in known.items()
        for target in imports(name, path, known, module_level=False)
        if target.split(".")[0] != name.split(".")[0]
        and target.split(".")[0] not in ALLOWED[name.split(".")[0]]
    )
    assert wrong == []


def test_no_module_level_import_cycle():
    known = modules()
    graph = {name: imports(name, path, known, module_level=True) for name, path in known.items()}
    # A package importing its own modules is how it re-exports them, not a cycle with them.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(f"{name}.")}
    cycles, state = [], {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_no_module_of_chat_rag_or_chatsite_is_over_600_lines():
    long = {str(path.relative_to(ROOT)): lines for name, path in modules().items()
            if name.split(".")[0] in ("chat", "rag", "chatsite")
            and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
