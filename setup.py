"""Build step for the C extensions: `tree_sitter_qvr._binding` (the QVR tree-sitter parser) and
`qvr.syntax._lexer` (the parser's lexer in C; `qvr.syntax.parser` runs without it, slower).

All project metadata lives in pyproject.toml; setuptools merges this file's `ext_modules` and
`cmdclass` into it.  The extension is compiled from the generated, committed grammar/src/parser.c,
so neither users nor CI need the tree-sitter CLI.  `build_py` also copies the canonical editor
queries (grammar/queries/*.scm) into the built package, so regular installs ship them; an
editable install reads them from grammar/queries (see tree_sitter_qvr.queries_path).
"""
from pathlib import Path
import shutil

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
QUERIES = Path("grammar") / "queries"


class build_py_with_queries(build_py):
    """build_py that also places grammar/queries/*.scm into tree_sitter_qvr/queries/."""

    def run(self):
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "tree_sitter_qvr" / "queries"
        target.mkdir(parents=True, exist_ok=True)
        for scm in sorted((ROOT / QUERIES).glob("*.scm")):
            shutil.copyfile(scm, target / scm.name)


setup(
    ext_modules=[
        Extension(
            "tree_sitter_qvr._binding",
            sources=[
                "grammar/bindings/python/tree_sitter_qvr/binding.c",
                "grammar/src/parser.c",
                "grammar/src/scanner.c",
            ],
            include_dirs=["grammar/src"],
            extra_compile_args=["-std=c11"],
        ),
        Extension(
            "qvr.syntax._lexer",
            sources=["runtime/qvr/syntax/_lexer.c"],
            extra_compile_args=["-std=c11"],
        ),
    ],
    cmdclass={"build_py": build_py_with_queries},
)
