"""The Jupyter Book: notebook templates, executed pages, and the site build.

``notebooks/<page>.py`` (jupytext percent format) is the source of each page;
``notebooks/<page>.ipynb`` is its paired copy, which papermill executes into
``book/<page>.ipynb``. ``jupyter-book build book`` then renders the executed
pages without running them again (``execute_notebooks: "off"`` in
``_config.yml``), so a build never retrains anything.

The repository address that Colab installs gresnet from is set once, as
``repository.url`` in ``_config.yml``. ``sync_notebooks`` writes it into the
Colab badge and setup cell of every template.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import files

log = logging.getLogger("gresnet")

# Executed pages of the book, in reading order. The search and complexity pages
# render only where their templates exist; until then the committed
# placeholder pages in the book stay.
BOOK_NOTEBOOKS = ("models", "pipeline", "hpo", "experiments", "gates", "complexity", "qualitative", "conclusions")
OPTIONAL_NOTEBOOKS = ("hpo", "complexity")

BADGE_TAG = "colab-badge"
SETUP_TAG = "colab-setup"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_BADGE_IMAGE = "_static/colab-badge.svg"  # relative to the book folder; no request leaves the site
COLAB_DATA_ROOT = "/content/data"

# A self-drawn badge for the offline site: the look of the usual one, no external image.
_BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img" aria-label="Open in Colab">
<title>Open in Colab</title>
<rect width="117" height="20" rx="3" fill="#555"/>
<rect x="20" width="97" height="20" rx="3" fill="#f9ab00"/>
<rect x="20" width="6" height="20" fill="#f9ab00"/>
<circle cx="10" cy="10" r="5" fill="none" stroke="#f9ab00" stroke-width="2.5"/>
<text x="68" y="14" fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"
 text-anchor="middle">Open in Colab</text>
</svg>
"""


# --- repository address and the Colab cells -----------------------------------


def read_book_config(config_path: str | Path = "_config.yml") -> dict:
    """Parse the Jupyter Book configuration file."""
    import yaml

    path = Path(config_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; run from the repository root or pass the path of _config.yml")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def repository_address(config_path: str | Path = "_config.yml") -> tuple[str, str]:
    """Return the GitHub repository URL and branch set under ``repository`` in ``_config.yml``."""
    repository = read_book_config(config_path).get("repository") or {}
    url = str(repository.get("url", "")).rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(
            f"repository.url in {config_path} must be a GitHub address like https://github.com/OWNER/NAME, "
            f"got {url!r}; Colab opens notebooks from GitHub only"
        )
    return url, str(repository.get("branch", "main"))


def colab_badge(url: str, branch: str, notebook_path: str) -> str:
    """Markdown of the "Open in Colab" badge for a notebook path inside the repository."""
    github_path = url.removeprefix("https://github.com/")
    target = f"https://colab.research.google.com/github/{github_path}/blob/{branch}/{notebook_path}"
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({target})"


def colab_setup_source(url: str, branch: str) -> str:
    """Code of the first cell: in Colab only, install gresnet and allow dataset downloads."""
    return "\n".join([
        "# In Colab only: install gresnet from its repository and let torchvision download CIFAR.",
        "import os",
        "import subprocess",
        "import sys",
        "",
        'IN_COLAB = "google.colab" in sys.modules',
        "if IN_COLAB:",
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "gresnet @ git+{url}@{branch}"], check=True)',
        f'    os.environ.setdefault("GRESNET_DATA", "{COLAB_DATA_ROOT}")',
    ])


def _tagged(notebook, tag: str) -> list:
    return [cell for cell in notebook.cells if tag in cell.get("metadata", {}).get("tags", [])]


def notebook_content(notebook) -> list[tuple]:
    """Cell type, source, tags and output count of every cell: what pairing must keep equal."""
    return [
        (cell.cell_type, cell.source, tuple(cell.get("metadata", {}).get("tags", [])), len(cell.get("outputs", [])))
        for cell in notebook.cells
    ]


def sync_notebooks(notebooks_dir: str | Path = "notebooks", config_path: str | Path = "_config.yml",
                   check: bool = False, names: list[str] | tuple[str, ...] | None = None) -> list[Path]:
    """Write the Colab cells into every template and pair each ``.py`` with its ``.ipynb``.

    Each ``notebooks/*.py`` must have one markdown cell tagged ``colab-badge``
    and one code cell tagged ``colab-setup``; their text is generated from the
    repository address in ``_config.yml``. The ``.py`` file is the source;
    the ``.ipynb`` is rewritten from it, without outputs. A file counts as out
    of date when its cells differ (type, source, tags, outputs), not when only
    the jupytext version in its header does.

    Args:
        notebooks_dir: folder of the jupytext templates.
        config_path: the book's ``_config.yml``.
        check: only report; write nothing.
        names: template names to process (default: every ``*.py``).

    Returns:
        The files that were (with ``check``: would be) rewritten.
    """
    import jupytext

    url, branch = repository_address(config_path)
    notebooks_dir = Path(notebooks_dir)
    sources = sorted(notebooks_dir.glob("*.py"))
    if names is not None:
        missing = sorted(set(names) - {source.stem for source in sources})
        if missing:
            raise FileNotFoundError(f"templates {missing} not found in {notebooks_dir}")
        sources = [source for source in sources if source.stem in names]
    if not sources:
        raise FileNotFoundError(f"no jupytext templates (*.py) in {notebooks_dir}")
    # Colab opens a notebook by its path inside the repository, whose root contains _config.yml.
    try:
        folder = notebooks_dir.resolve().relative_to(Path(config_path).resolve().parent).as_posix()
    except ValueError:
        raise ValueError(f"{notebooks_dir} is not inside the repository of {config_path}") from None
    changed = []
    for source in sources:
        notebook = jupytext.read(source)
        badges, setups = _tagged(notebook, BADGE_TAG), _tagged(notebook, SETUP_TAG)
        if len(badges) != 1 or len(setups) != 1:
            raise ValueError(
                f"{source} needs exactly one cell tagged {BADGE_TAG!r} and one tagged {SETUP_TAG!r}, "
                f"found {len(badges)} and {len(setups)}"
            )
        badges[0].source = colab_badge(url, branch, f"{folder}/{source.stem}.ipynb")
        setups[0].source = colab_setup_source(url, branch)
        expected = notebook_content(notebook)
        for path, fmt in ((source, "py:percent"), (source.with_suffix(".ipynb"), "ipynb")):
            if path.is_file() and notebook_content(jupytext.read(path)) == expected:
                continue
            changed.append(path)
            if not check:
                files.write_text(path, jupytext.writes(notebook, fmt=fmt))
    return changed


# --- executing the pages --------------------------------------------------------


def _display_path(path: str | Path | None, cwd: Path) -> str | None:
    """``path`` relative to ``cwd`` where it lies below it, so executed pages show no local folders."""
    if path is None:
        return None
    path = Path(path)
    if path.is_absolute():
        try:
            return path.relative_to(cwd).as_posix()
        except ValueError:
            return str(path)
    return path.as_posix()


def _finish_page(notebook, output_path: str) -> None:
    """Adapt an executed notebook for the offline site."""
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if BADGE_TAG in tags:
            cell.source = cell.source.replace(COLAB_BADGE_IMAGE, LOCAL_BADGE_IMAGE)
        if ("parameters" in tags or "injected-parameters" in tags) and "hide-cell" not in tags:
            cell.metadata["tags"] = [*tags, "hide-cell"]
    papermill = notebook.metadata.get("papermill", {})
    papermill["output_path"] = output_path
    papermill.pop("input_path", None)


def render_book_notebooks(
    results_dir: str | Path,
    book_dir: str | Path = "book",
    profile_name: str | None = None,
    *,
    notebooks_dir: str | Path = "notebooks",
    pages: tuple[str, ...] | list[str] = BOOK_NOTEBOOKS,
    data_dir: str | Path | None = None,
    parameters: dict | None = None,
    kernel_name: str | None = None,
    cwd: str | Path | None = None,
) -> list[Path]:
    """Execute the analysis notebooks on finished runs into the book's pages.

    Each ``<notebooks_dir>/<page>.ipynb`` runs with papermill and is written
    atomically to ``<book_dir>/<page>.ipynb``. A notebook receives those of
    ``results_dir``, ``profile_name``, ``data_dir`` and ``parameters`` that its
    ``parameters`` cell declares. The search and complexity pages are skipped,
    keeping the page already in the book, while their templates are missing.

    Args:
        results_dir: folder of finished run directories (e.g. ``results/quick``).
        book_dir: the book's source folder.
        profile_name: budget name stated on the pages (e.g. ``quick``).
        notebooks_dir: folder of the templates.
        pages: page names to render, in order.
        data_dir: data root for pages that show images (default
            ``$GRESNET_DATA``, else ``./data``, resolved inside the notebook).
        parameters: further papermill parameters, passed where declared.
        kernel_name: Jupyter kernel (default: the one the template names).
        cwd: working directory of the kernel (default: the current one).

    Returns:
        The executed pages written.

    Raises:
        FileNotFoundError: a required template is missing.
        RuntimeError: a notebook failed; the message names the cell's error and
            where the partly executed copy was kept.
    """
    import nbformat
    import papermill

    cwd = Path(cwd or os.getcwd()).resolve()
    notebooks_dir, book_dir = Path(notebooks_dir), Path(book_dir)
    offered = {
        "results_dir": _display_path(results_dir, cwd),
        "profile_name": profile_name,
        "data_dir": _display_path(data_dir, cwd),
        **(parameters or {}),
    }
    badge = book_dir / LOCAL_BADGE_IMAGE
    if not badge.is_file() or badge.read_text(encoding="utf-8") != _BADGE_SVG:
        files.write_text(badge, _BADGE_SVG)

    written = []
    for page in pages:
        template = notebooks_dir / f"{page}.ipynb"
        if not template.is_file():
            if page in OPTIONAL_NOTEBOOKS:
                log.info("%s not found; keeping the page %s", template, book_dir / f"{page}.ipynb")
                continue
            raise FileNotFoundError(f"notebook template {template} not found; run from the repository root "
                                    f"or pass notebooks_dir")
        declared = papermill.inspect_notebook(str(template))
        chosen = {name: value for name, value in offered.items() if name in declared}
        target = book_dir / f"{page}.ipynb"
        failed = book_dir / "_build" / "failed" / f"{page}.ipynb"
        failed.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        log.info("executing %s into %s with %s", template, target, chosen)
        try:
            papermill.execute_notebook(
                str(template), str(failed), parameters=chosen, kernel_name=kernel_name, cwd=str(cwd),
                progress_bar=False, log_output=False,
            )
        except papermill.PapermillExecutionError as error:
            raise RuntimeError(
                f"{template} failed in cell {error.exec_count}: {error.ename}: {error.evalue}; "
                f"the partly executed notebook is in {failed}"
            ) from error
        notebook = nbformat.read(failed, as_version=4)
        _finish_page(notebook, target.as_posix())
        files.write_text(target, nbformat.writes(notebook) + "\n")
        failed.unlink()
        log.info("%s done in %.0f s", target, time.perf_counter() - started)
        written.append(target)
    return written


# --- building the site ---------------------------------------------------------


def _jupyter_book_command() -> str:
    beside_python = Path(sys.executable).parent / "jupyter-book"
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which("jupyter-book")
    if found is None:
        raise FileNotFoundError("jupyter-book not found; install it with pip install 'jupyter-book<2'")
    return found


def build_book(
    book_dir: str | Path = "book",
    *,
    output_dir: str | Path | None = None,
    warnings_as_errors: bool = False,
    timeout: float = 600,
) -> Path:
    """Run ``jupyter-book build`` on the executed pages and return the HTML folder.

    Args:
        book_dir: the book's source folder; ``_config.yml`` is found there or
            in a parent folder, and ``<book_dir>/_toc.yml`` must exist (a link
            to the repository's ``_toc.yml``).
        output_dir: parent of the ``_build`` folder (default: ``book_dir``; a plain
            ``jupyter-book build book`` writes beside ``_config.yml`` instead).
        warnings_as_errors: fail on any Sphinx warning (``-W -n --keep-going``).
        timeout: seconds before the build is stopped.

    Raises:
        FileNotFoundError: the book folder or its table of contents is missing.
        RuntimeError: the build failed; the message ends with its last output lines.
    """
    book_dir = Path(book_dir)
    if not (book_dir / "_toc.yml").is_file():
        raise FileNotFoundError(
            f"{book_dir / '_toc.yml'} not found; Jupyter Book 1.x reads the table of contents from the book "
            f"folder only, so link it there: ln -s ../_toc.yml {book_dir / '_toc.yml'}"
        )
    output_dir = Path(output_dir or book_dir)
    command = [_jupyter_book_command(), "build", str(book_dir), "--builder", "html", "--path-output", str(output_dir)]
    if warnings_as_errors:
        command += ["-W", "-n", "--keep-going"]
    log.info("building the book: %s", " ".join(command))
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"jupyter-book build timed out after {timeout:.0f} s") from error
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-40:])
        raise RuntimeError(f"jupyter-book build {book_dir} failed with exit code {completed.returncode}:\n{tail}")
    html = output_dir / "_build" / "html"
    if not (html / "index.html").is_file():
        raise RuntimeError(f"jupyter-book build finished but wrote no {html / 'index.html'}")
    return html


# --- command line ----------------------------------------------------------------


def _cmd_sync(args) -> int:
    changed = sync_notebooks(args.notebooks_dir, args.config, check=args.check, names=args.names)
    for path in changed:
        print(f"{'out of date' if args.check else 'wrote'}: {path}")
    return 1 if args.check and changed else 0


def _cmd_render(args) -> int:
    pages = tuple(args.pages) if args.pages else BOOK_NOTEBOOKS
    for path in render_book_notebooks(args.results, args.book_dir, args.profile, notebooks_dir=args.notebooks_dir,
                                      pages=pages, data_dir=args.data_dir):
        print(f"wrote {path}")
    return 0


def _cmd_build(args) -> int:
    html = build_book(args.book_dir, warnings_as_errors=args.strict)
    print(f"built {html / 'index.html'}")
    return 0


def add_book_command(commands) -> None:
    """Add ``book sync|render|build`` to the ``python -m gresnet`` parser."""
    parser = commands.add_parser("book", help="notebook templates, executed book pages, and the site")
    book_commands = parser.add_subparsers(dest="book_command", required=True)

    sync = book_commands.add_parser("sync", help="write the Colab cells from _config.yml and pair notebooks/*.py with .ipynb")
    sync.add_argument("--notebooks-dir", default="notebooks", help="folder of the jupytext templates (default: %(default)s)")
    sync.add_argument("--config", default="_config.yml", help="the book's configuration file (default: %(default)s)")
    sync.add_argument("--check", action="store_true", help="only list out-of-date files; exit 1 if there are any")
    sync.add_argument("--names", nargs="+", default=None, help="template names to process (default: all)")
    sync.set_defaults(handler=_cmd_sync)

    render = book_commands.add_parser("render", help="execute the analysis notebooks on finished runs into the book")
    render.add_argument("--results", required=True, help="folder of finished run directories, e.g. results/quick")
    render.add_argument("--profile", default=None, help="budget name stated on the pages, e.g. quick")
    render.add_argument("--book-dir", default="book", help="the book's source folder (default: %(default)s)")
    render.add_argument("--notebooks-dir", default="notebooks", help="folder of the templates (default: %(default)s)")
    render.add_argument("--data-dir", default=None, help="data root for pages with images (default: $GRESNET_DATA, else ./data)")
    render.add_argument("--pages", nargs="+", choices=BOOK_NOTEBOOKS, help="pages to render (default: all)")
    render.set_defaults(handler=_cmd_render)

    build = book_commands.add_parser("build", help="build the HTML site from the executed pages (no training)")
    build.add_argument("--book-dir", default="book", help="the book's source folder (default: %(default)s)")
    build.add_argument("--strict", action="store_true", help="treat Sphinx warnings as errors")
    build.set_defaults(handler=_cmd_build)
