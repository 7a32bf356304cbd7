"""The package's shape: imports only point down, no cycles, no imports hidden in functions,
and the command line answers --help without importing TensorFlow."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"leaf": 0, "core": 1, "output": 2, "config": 3, "shared": 4, "commands": 5, "entry": 6}
CONFIG = {"l1l2.config", "l1l2.flags", "l1l2.checks"}
ENTRY = {"l1l2", "l1l2.cli", "l1l2.api", "l1l2.__main__", "l1l2.blog_loop"}


def modules():
    """{dotted name: path} of every module of the package."""
    out = {}
    for path in sorted((ROOT / "l1l2").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def layer(name):
    if name in ENTRY:
        return "entry"
    if name in CONFIG:
        return "config"
    sub = name.split(".")[1] if name.count(".") >= 1 else ""
    return sub if sub in ("core", "output", "shared", "commands") else "leaf"


def imports(name, path, known):
    """(package modules imported by `name`, lines importing one inside a function or class: the
    way to dodge a cycle; tf1.py importing TensorFlow on first use is not that)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found, nested = set(), []
    top = {id(node) for node in tree.body}  # and a module-level try's (a missing package)
    top |= {id(n) for node in tree.body if isinstance(node, ast.Try) for n in node.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1]
                    + ([base] if base else [])
                )
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(names)
        if id(node) not in top and any(n.startswith("l1l2") for n in names):
            nested.append(node.lineno)
    return {m for m in found if m in known and m != name}, nested


def graph():
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_imports_only_point_down():
    wrong = [
        f"{a} ({layer(a)}) imports {b} ({layer(b)})"
        for a, (deps, _) in graph().items()
        for b in deps
        if LAYERS[layer(b)] > LAYERS[layer(a)]
    ]
    assert not wrong, "\n".join(wrong)


def test_commands_stand_side_by_side():
    """No command imports another: what two commands share lives below them (shared/)."""
    wrong = [
        f"{a} imports {b}"
        for a, (deps, _) in graph().items()
        for b in deps
        if layer(a) == layer(b) == "commands" and b != "l1l2.commands"
    ]
    assert not wrong, "\n".join(wrong)


def test_the_command_line_names_its_commands_with_plain_imports():
    text = (ROOT / "l1l2" / "cli.py").read_text()
    assert "importlib" not in text and "__import__" not in text


def test_no_import_cycles():
    deps = {a: d for a, (d, _) in graph().items()}
    done, stack = set(), []

    def visit(m):
        if m in stack:
            raise AssertionError("cycle: " + " -> ".join(stack[stack.index(m) :] + [m]))
        if m not in done:
            stack.append(m)
            for d in sorted(deps[m]):
                visit(d)
            stack.pop()
            done.add(m)

    for m in sorted(deps):
        visit(m)


def test_no_imports_inside_functions():
    nested = {a: lines for a, (_, lines) in graph().items() if lines}
    assert not nested, nested


def test_help_and_flag_errors_do_not_import_tensorflow():
    code = (
        "import sys\nfrom l1l2.cli import main\n"
        "try:\n    main(['sweep', '--seeds', '1'])\nexcept SystemExit:\n    pass\n"
        "print('tensorflow' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"], out.stderr


def public_functions(tree):
    """Every def of a module not starting with '_' and not nested in another function, methods
    included: (qualified name, node)."""

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not child.name.startswith("_"):
                    yield prefix + child.name, child
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    return walk(tree, "")


def test_public_functions_have_type_hints():
    missing = []
    for name, path in modules().items():
        for qualname, node in public_functions(ast.parse(path.read_text())):
            a = node.args
            unannotated = [
                p.arg
                for p in a.posonlyargs + a.args + a.kwonlyargs
                if p.annotation is None and p.arg not in ("self", "cls")
            ]
            if node.returns is None:
                unannotated.append("return")
            if unannotated:
                missing.append(f"{name}.{qualname} (line {node.lineno}): {', '.join(unannotated)}")
    assert not missing, "public functions without type hints:\n" + "\n".join(missing)
