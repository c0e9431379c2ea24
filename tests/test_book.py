"""The Jupyter Book: a real build from the committed pages, checked in headless Chromium.

The build runs on a copy of the files a fresh clone has (tracked and
untracked-but-not-ignored files of book/, _config.yml and _toc.yml), so a
page that exists only in the local _build or is ignored by git fails here.
The site is served on 127.0.0.1 and every page is opened in Chromium.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml

from gresnet.book import build_book, render_book_notebooks

REPO = Path(__file__).resolve().parents[1]
BUILD_LIMIT_SECONDS = 120
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
)
ROMAN = ("I", "II", "III", "IV")


def _clone_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "book", "_config.yml", "_toc.yml"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()
    return [name for name in listed if (REPO / name).exists() or (REPO / name).is_symlink()]


def _toc_pages() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"], *(chapter["file"] for chapter in toc["chapters"])]


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """The book built from a clone-like copy; returns (html folder, build seconds)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout to know which files a fresh clone has")
    root = tmp_path_factory.mktemp("clone")
    for name in _clone_files():
        source, target = REPO / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    started = time.perf_counter()
    html = build_book(root / "book", warnings_as_errors=True)
    return html, time.perf_counter() - started


def test_book_has_toc_link():
    link = REPO / "book" / "_toc.yml"
    assert link.is_symlink()
    assert link.resolve() == (REPO / "_toc.yml").resolve()


def test_book_builds_every_page(built_site):
    html, _ = built_site
    for page in _toc_pages():
        assert (html / f"{page}.html").is_file(), page


def test_book_build_is_fast(built_site):
    _, seconds = built_site
    assert seconds < BUILD_LIMIT_SECONDS


def test_build_without_toc_says_how_to_fix(tmp_path):
    (tmp_path / "book").mkdir()
    with pytest.raises(FileNotFoundError, match=r"ln -s \.\./_toc\.yml"):
        build_book(tmp_path / "book")


def test_render_without_template_names_it(tmp_path):
    (tmp_path / "notebooks").mkdir()
    with pytest.raises(FileNotFoundError, match="notebook template .*experiments.ipynb not found"):
        render_book_notebooks(tmp_path / "results", tmp_path / "book", notebooks_dir=tmp_path / "notebooks",
                              pages=["experiments"])


# --- the site in a browser ------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def site_url(built_site):
    html, _ = built_site
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("chromium and chromedriver not found; install with apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument("--window-size=1280,1600")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


_WAIT_FOR_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach(image => { image.loading = "eager"; });
window.scrollTo(0, document.body.scrollHeight);
const started = Date.now();
(function poll() {
  if (images.every(image => image.complete) || Date.now() - started > 15000) {
    done(images.map(image => [image.currentSrc || image.src, image.naturalWidth]));
  } else {
    setTimeout(poll, 100);
  }
})();
"""


@pytest.fixture(scope="module")
def visited(browser, site_url):
    """Per TOC page: console messages, requested URLs, images with their natural width, and text."""
    browser.set_script_timeout(30)
    pages = {}
    for page in _toc_pages():
        browser.get_log("performance")  # drop entries of the previous page
        browser.get(f"{site_url}/{page}.html")
        images = browser.execute_async_script(_WAIT_FOR_IMAGES)
        resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        requested = []
        for entry in browser.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requested.append(message["params"]["request"]["url"])
        pages[page] = {
            "console": browser.get_log("browser"),
            "requests": requested + resources,
            "images": images,
            "text": browser.execute_script("return document.body.innerText"),
            "title": browser.title,
        }
    return pages


def test_pages_load(visited):
    for page, seen in visited.items():
        assert seen["title"], page
        assert len(seen["text"]) > 500, f"{page} shows almost no text"


def test_no_console_errors(visited):
    for page, seen in visited.items():
        errors = [entry["message"] for entry in seen["console"] if entry["level"] == "SEVERE"]
        assert errors == [], page


def test_no_request_leaves_localhost(visited, site_url):
    for page, seen in visited.items():
        network = [url for url in seen["requests"] if url.split(":", 1)[0] in ("http", "https", "ws", "wss")]
        assert network, f"no network requests recorded for {page}"
        outside = [url for url in network if not url.startswith(f"{site_url}/")]
        assert outside == [], page


def test_images_render(visited):
    total = 0
    for page, seen in visited.items():
        broken = [src for src, width in seen["images"] if not width]
        assert broken == [], page
        total += len(seen["images"])
    assert total >= 10, "figures and badges of the executed pages"


def test_every_figure_and_table_by_number(visited):
    text = "\n".join(seen["text"] for seen in visited.values())
    for number in range(1, 19):
        assert re.search(rf"Fig\. {number}(?!\d)", text), f"Fig. {number}"
    for numeral in ROMAN:
        assert re.search(rf"Table {numeral}(?![IVX])", text), f"Table {numeral}"


def test_result_pages_state_budget(visited):
    for page in ("experiments", "gates", "qualitative", "conclusions"):
        assert "Budget. Results from" in visited[page]["text"], page
        assert re.search(r"\d+ epochs? on [\d,]+ training images", visited[page]["text"]), page
        assert "Hardware:" in visited[page]["text"], page
