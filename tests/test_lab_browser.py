"""JupyterLab in a real browser: start Lab, open notebook 01 in headless Chromium, Run All through the menu, and
check that outputs appear and no cell shows an error. A screenshot is kept in ``test-artifacts/``."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from fkp_helpers.runner import list_notebooks, set_injected_profile

pytestmark = pytest.mark.slow  # minutes: JupyterLab and Chromium run notebook 01

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
TOKEN = "fkp-browser-test"
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},  # every cell in the page, to be checked
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a copy of notebook 01 (profile smoke) from a temporary folder; yields its base URL."""
    if not Path(CHROMIUM).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} not found: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    notebook_dir = tmp_path / "notebooks"
    notebook_dir.mkdir()
    source = list_notebooks()[0]
    notebook = nbformat.read(source, as_version=4)
    set_injected_profile(notebook, "smoke")
    nbformat.write(notebook, notebook_dir / source.name)
    settings = tmp_path / "lab-settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings / (plugin.split(":")[0]) / f"{plugin.split(':')[1]}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={notebook_dir}", f"--LabApp.user_settings_dir={settings}",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
         "--ServerApp.disable_check_xsrf=True", "--allow-root"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "JupyterLab did not start"
                time.sleep(0.5)
        yield url, source.name
    finally:
        server.terminate()
        server.wait(timeout=30)


def kernel_idle(url: str, name: str) -> bool:
    """Whether the server runs an idle kernel in the notebook's session (the page's indicators show "idle" before)."""
    with urllib.request.urlopen(f"{url}/api/sessions?token={TOKEN}", timeout=5) as response:
        sessions = json.loads(response.read())
    return any(s["path"].endswith(name) and s["kernel"]["execution_state"] == "idle" for s in sessions)


def wait_for_the_notebook_kernel(page, url: str, name: str, seconds: float = 90) -> None:
    """Until the notebook's kernel is up: JupyterLab starts the kernel the notebook names, or first asks which kernel
    to start, as it asks a person (then the test takes the one offered); fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    dialog = page.locator(".jp-Dialog")
    while dialog.count() or not kernel_idle(url, name):
        if dialog.get_by_role("button", name="Select").count():
            dialog.get_by_role("button", name="Select").click()
        if time.monotonic() > deadline:
            pytest.fail(f"JupyterLab did not start the notebook's kernel within {seconds:.0f} s"
                        + (f"; a dialog shows {dialog.first.inner_text()!r}" if dialog.count() else ""))
        page.wait_for_timeout(500)


def test_run_all_in_jupyterlab_shows_outputs_and_no_errors(lab):
    from playwright.sync_api import sync_playwright

    url, name = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{url}/lab/tree/{name}?token={TOKEN}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
            wait_for_the_notebook_kernel(page, url, name)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            page.wait_for_function(
                "() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];"
                " return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }",
                timeout=240_000,
            )
            code_cells = page.locator(".jp-CodeCell").count()
            outputs = page.locator(".jp-OutputArea-output").count()
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                                  has_text="Traceback").count()
            images = page.locator(".jp-OutputArea-output img").count()
        finally:
            page.screenshot(path=str(ARTIFACTS / "jupyterlab_run_all_01.png"), full_page=False)
            browser.close()
    assert code_cells > 5 and outputs > 5 and images > 0
    assert errors == 0
