"""The `qvr` command: `qvr check`, `qvr fmt`, `qvr explain`, `qvr data` and `qvr run`.

* FILE may be a directory (the `.qvr` files under it, sorted; hidden directories are not
  entered) or `-` (standard input; `qvr fmt -` writes the formatted text to standard output).
  Only regular files are read: a FIFO or a device is an I/O error, never read.
* `qvr check FILE... [--json] [--hints]` prints errors, warnings and notes as `file:line:col:
  severity[code]: message` (1-based line and code-point column) and `file: OK` for a file
  without errors, with a count of the hints not shown (`--hints` prints them too: deprecated
  syntax, unused names); `--json` prints one object `{"files", "diagnostics", "ok"}`
  with every diagnostic, whatever the severity. Exit status 0 when no file has
  an error, 1 when some file has one, 2 for usage or I/O errors.
* `qvr fmt FILE... [--check] [--diff]` formats files in place with
  `qvr.semantics.formatter.format_text`, keeping the file's line terminator (LF, CRLF or CR)
  and BOM, written atomically (a temporary file beside it, renamed over it); `--check` only reports files that would change (exit 1), `--diff` prints a unified
  diff instead of writing. A file that does not parse gets located errors and is not touched.
* Bytes that are not UTF-8 are a located `QVR001` at the first bad byte (`qvr.source`), an
  error of the file (exit 1) like any other; missing files, directories and unreadable files
  are I/O errors (exit 2). Ctrl-C exits 130 and a closed stdout (`| head`) quietly.
* `qvr explain [CODE] [--json]` explains a diagnostic code (`qvr.explain`): title, severity,
  what it means, an example with the diagnostics the checker gives for it (run live) and the
  fix; without CODE it lists every code. An unknown code is a usage error (exit 2) that
  suggests near misses (`QVR13`, `qvr013`).
* `qvr data fetch [NAME...] [--dir DIR]` downloads the named data sets (`qvr.datasets`) with
  their checksums and prints their paths; `qvr data list` says what is known and fetched.
* `qvr run ...` belongs to `qvr.run` (`add_run_arguments`, `run_command`), imported only
  when `run` is chosen so that `qvr check` never imports torch.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from typing import Optional

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and a one-line message (its default, kept explicit)."""

    def error(self, message):  # pragma: no cover - argparse contract
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"qvr: error: {message}\n")


STDIN = "-"  # a FILE argument that means standard input (`qvr fmt -` writes to stdout)


def _read(path: str):
    """`(text, None)` for a UTF-8 file (text as written); `(None, (diagnostic, line_index))` for
    one that is not, the diagnostic a located QVR001 at the first bad byte. OSError propagates,
    also for what is not a regular file (a FIFO or a device is refused, never read)."""
    from .source import invalid_utf8_diagnostic, read_regular_file

    data = sys.stdin.buffer.read() if path == STDIN else read_regular_file(path)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, invalid_utf8_diagnostic(data, exc)


def _display_name(path: str) -> str:
    return "<stdin>" if path == STDIN else path


# Directories `qvr check DIR` / `qvr fmt DIR` do not descend into.
_SKIPPED_DIRS = ("node_modules", "__pycache__")


def _expand(paths: list) -> tuple[list, int]:
    """The files to work on: each FILE as given, each directory replaced by the `.qvr` files
    under it (sorted; hidden directories and symlinked ones are not entered). Returns the
    files and EXIT_USAGE when a directory holds none (else EXIT_OK)."""
    out, status = [], EXIT_OK
    for path in paths:
        if path == STDIN or not os.path.isdir(path):
            out.append(path)
            continue
        found = []
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames
                                 if not d.startswith(".") and d not in _SKIPPED_DIRS)
            found.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".qvr"))
        if not found:
            print(f"qvr: no .qvr files under {path}", file=sys.stderr)
            status = EXIT_USAGE
        out.extend(found)
    return out, status


def _write_atomic(path: str, text: str) -> None:
    """Replace the file's contents with `text` without a moment where it is truncated: write a
    temporary file beside it (same permissions), flush it to disk, then rename it over the
    original. A full disk or Ctrl-C leaves the original as it was. A symlink is followed (its
    target is rewritten, the link stays)."""
    import tempfile

    target = os.path.realpath(path)
    if not os.access(target, os.W_OK):  # renaming over a read-only file would bypass that
        raise PermissionError(13, "Permission denied", path)
    directory, name = os.path.split(target)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, os.stat(target).st_mode & 0o7777)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _cannot_read(path: str, exc: OSError) -> None:
    print(f"qvr: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)


def _line_ending(text: str) -> str:
    """The file's first line terminator (`\\n` when it has none): `qvr fmt` keeps it."""
    for i, c in enumerate(text):
        if c == "\r":
            return "\r\n" if text[i + 1:i + 2] == "\n" else "\r"
        if c == "\n":
            return "\n"
    return "\n"


def _keep_layout(original: str, formatted: str) -> str:
    """Give the formatter's output (LF, no BOM) the original's line terminator and BOM, so that
    formatting a CRLF file does not rewrite every line and an editor sees only real changes."""
    ending = _line_ending(original)
    if ending != "\n":
        formatted = formatted.replace("\n", ending)
    if original.startswith("\ufeff"):
        formatted = "\ufeff" + formatted
    return formatted


def _cmd_check(args) -> int:
    from .diagnostics import Severity
    from .semantics import analyze

    paths, status = _expand(args.files)
    all_diags, files = [], []
    for path in paths:
        try:
            text, not_utf8 = _read(path)
        except OSError as exc:
            _cannot_read(path, exc)
            status = EXIT_USAGE
            continue
        path = _display_name(path)
        if not_utf8:  # one located QVR001; the rest of the file is not checked
            diagnostic, index = not_utf8
            diagnostics = [diagnostic]
        else:
            analysis = analyze(text)
            diagnostics, index = analysis.diagnostics, analysis.line_index
        files.append(path)
        has_error = False
        hidden = 0
        for d in diagnostics:
            has_error |= d.is_error
            if args.json:
                all_diags.append(d.to_json(path, index))
            elif args.hints or d.severity <= Severity.INFORMATION:
                print(d.format(path, index))
            else:
                hidden += 1  # hints (deprecations, unused names) only on request
        if has_error and status != EXIT_USAGE:
            status = EXIT_ERRORS
        if not has_error and not args.json:
            more = f" ({hidden} hint{'s' if hidden != 1 else ''}; --hints shows them)" if hidden else ""
            print(f"{path}: OK{more}")
    if args.json:
        print(json.dumps({"files": files, "diagnostics": all_diags,
                          "ok": status == EXIT_OK}, ensure_ascii=False))
    return status


def _cmd_fmt(args) -> int:
    try:
        from .semantics.formatter import format_text
    except ImportError as exc:
        print(f"qvr: the formatter is not available ({exc})", file=sys.stderr)
        return EXIT_USAGE
    paths, status = _expand(args.files)
    for path in paths:
        try:
            text, not_utf8 = _read(path)
        except OSError as exc:
            _cannot_read(path, exc)
            status = EXIT_USAGE
            continue
        to_stdout = path == STDIN and not (args.check or args.diff)
        path = _display_name(path)
        if not_utf8:  # never rewrite bytes we cannot decode
            diagnostic, index = not_utf8
            print(diagnostic.format(path, index), file=sys.stderr)
            status = max(status, EXIT_ERRORS)
            continue
        try:
            new = _keep_layout(text, format_text(text))
        except Exception as exc:  # the formatter refuses text that does not parse
            diags = getattr(exc, "diagnostics", None)
            if diags:
                from .syntax.span import LineIndex, normalize
                index = LineIndex(normalize(text))
                for d in diags:
                    print(d.format(path, index), file=sys.stderr)
            else:
                print(f"{path}: cannot format: {exc}", file=sys.stderr)
            status = max(status, EXIT_ERRORS)
            continue
        if to_stdout:  # `qvr fmt -`: the formatted text, changed or not
            sys.stdout.write(new)
            continue
        if new == text:
            continue
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(True), new.splitlines(True), f"{path}", f"{path} (formatted)"))
        if args.check:
            if not args.diff:
                print(f"{path}: would reformat")
            status = max(status, EXIT_ERRORS)
        elif not args.diff:
            try:
                _write_atomic(path, new)
            except OSError as exc:
                print(f"qvr: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
                status = EXIT_USAGE
                continue
            print(f"{path}: formatted")
    return status


def _cmd_explain(args) -> int:
    from .explain import CATALOGUE, ENTRIES, render_list, render_text, suggest, to_json

    if args.code is None:
        if args.json:
            print(json.dumps([to_json(e) for e in ENTRIES], ensure_ascii=False, indent=2))
        else:
            sys.stdout.write(render_list())
        return EXIT_OK
    entry = CATALOGUE.get(args.code)
    if entry is None:
        near = suggest(args.code)
        hint = f"; did you mean {' or '.join(near)}?" if near else "; `qvr explain` lists them"
        print(f"qvr: unknown diagnostic code `{args.code}`{hint}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(to_json(entry), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(render_text(entry))
    return EXIT_OK


def _cmd_data(args) -> int:
    from .datasets import DATASETS, DataError, fetch, local_path

    if args.action == "list":
        for name, found in sorted(DATASETS.items()):
            where = local_path(name)
            state = str(where) if where.is_file() else "not fetched"
            print(f"{name}: {found.description}; {state}")
        return EXIT_OK
    status = EXIT_OK
    for name in args.names or sorted(DATASETS):
        try:
            print(fetch(name, args.dir))
        except DataError as exc:
            print(f"qvr: {exc}", file=sys.stderr)
            status = EXIT_ERRORS
    return status


def _cmd_run_unavailable(message: str):
    def run(_args) -> int:
        print(f"qvr: `qvr run` is not available: {message}", file=sys.stderr)
        return EXIT_USAGE
    return run


def build_parser(with_run: bool = True) -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="qvr", description="QVR language tools: check, format and run models.")
    parser.add_argument("--version", action="version", version=f"qvr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("check", help="check QVR files and print diagnostics")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="a .qvr file, a directory (its .qvr files), or - for standard input")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--hints", action="store_true",
                   help="also print hints (deprecated syntax, unused names)")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("fmt", help="format QVR files in place")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="a .qvr file, a directory (its .qvr files), or - (standard input to "
                        "standard output)")
    p.add_argument("--check", action="store_true", help="only report files that would change")
    p.add_argument("--diff", action="store_true", help="print a diff instead of writing")
    p.set_defaults(func=_cmd_fmt)

    p = sub.add_parser("explain", help="explain a diagnostic code, with an example and its fix",
                       description="Explain a diagnostic code such as QVR013: what it means, a "
                                   "program that triggers it (checked now) and the fixed "
                                   "program. Without CODE, list every code.")
    p.add_argument("code", nargs="?", metavar="CODE", help="a code such as QVR013, or internal")
    p.add_argument("--json", action="store_true",
                   help="print JSON (one object, or a list of all entries without CODE)")
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("data", help="fetch the data sets the examples train on",
                       description="Data sets are downloaded once, checked against their SHA-1, "
                                   "into $QVR_DATA_DIR (default: ~/.cache/qvr/data).")
    p.add_argument("action", choices=("fetch", "list"),
                   help="fetch: download (if needed) and print each path; list: what is known")
    p.add_argument("names", nargs="*", metavar="NAME", help="data sets (default: all)")
    p.add_argument("--dir", metavar="DIR", help="download into DIR instead")
    p.set_defaults(func=_cmd_data)

    if with_run:
        p = sub.add_parser("run", help="run a model (SVI, sampling, NUTS)")
        try:
            from .run.command import add_run_arguments, run_command
        except ImportError as exc:
            p.add_argument("rest", nargs=argparse.REMAINDER)
            p.set_defaults(func=_cmd_run_unavailable(str(exc)))
        else:
            add_run_arguments(p)
            p.set_defaults(func=run_command)
    return parser


def main(argv: Optional[list] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C in check/fmt or while loading (`qvr run` reports its own)
        print("qvr: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `qvr check ... | head`: the reader left; not an error of ours
        # Point stdout at devnull so the interpreter's final flush does not complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERRORS


def _main(argv: list) -> int:
    # Only build the `run` subcommand (which imports the runner, and torch) when it is used.
    with_run = "run" in argv[:1] or not argv or argv[0] in ("-h", "--help", "--version")
    parser = build_parser(with_run=with_run)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    args.argv = argv[1:]  # `qvr run --nproc N` starts the same command N-1 more times
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
