"""Fixtures and helpers for the browser tests (see README.md beside this file).

`server` starts one `ehr serve` per pytest session on a fresh data directory (and, on PostgreSQL, a
fresh database), with the demo practice seeded. `driver` gives each test its own headless Chromium
with a new profile, so no cookie survives from one test to the next.

Environment:
  EHR_BROWSER_DB            sqlite (default) or postgres
  EHR_BROWSER_POSTGRES_URL  postgres://user:pass@host:port/db?sslmode=disable of a server where this
                            session may CREATE DATABASE (default: built from PGHOST/PGPORT/PGUSER/...)
  EHR_BIN                   the server binary (default .build/debug/ehr); never built here
  EHR_CHROMIUM, EHR_CHROMEDRIVER   default /usr/bin/chromium and /usr/bin/chromedriver
  EHR_SCREENSHOTS=1         screenshot() writes docs/screenshots/<name>.png
"""

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

# Selenium must never try to download a driver or report usage: this machine has no such network.
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")

ROOT = Path(__file__).resolve().parents[2]
EHR_BIN = Path(os.environ.get("EHR_BIN") or ROOT / ".build" / "debug" / "ehr")
CHROMIUM = os.environ.get("EHR_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("EHR_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"
DEMO_PASSWORD = "mentalspace-demo"
READY_TIMEOUT = 60.0

# Path of the running server's log, for the failure reports (see pytest_runtest_makereport).
_server_log = None


# ---------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------

def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, limit=12000):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as error:
        return f"(no server log: {error})"
    return text if len(text) <= limit else "…\n" + text[-limit:]


def _postgres_admin_url():
    url = os.environ.get("EHR_BROWSER_POSTGRES_URL")
    if url:
        return url
    if not os.environ.get("PGPORT") and not os.environ.get("PGHOST"):
        pytest.exit("EHR_BROWSER_DB=postgres needs EHR_BROWSER_POSTGRES_URL (or PGHOST/PGPORT/...): "
                    "use scripts/browser-tests", returncode=2)
    host = os.environ.get("PGHOST", "127.0.0.1")
    if host.startswith("/"):  # a socket directory: the server listens on TCP localhost too
        host = "127.0.0.1"
    user = urllib.parse.quote(os.environ.get("PGUSER", "postgres"), safe="")
    password = os.environ.get("PGPASSWORD")
    auth = user + (":" + urllib.parse.quote(password, safe="") if password else "")
    return (f"postgres://{auth}@{host}:{os.environ.get('PGPORT', '5432')}/"
            f"{os.environ.get('PGDATABASE', 'postgres')}?sslmode=disable")


def _psql(url, sql):
    result = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed ({sql}): {result.stderr.strip()}")
    return result.stdout


def _with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def _http_status(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def _start_server(workdir, extra_env):
    """Start `ehr serve`, wait until GET /ready answers 200; return (process, base URL, log path)."""
    last_log = None
    for attempt in range(3):  # a port taken between _free_port() and bind(): try another
        port = _free_port()
        data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=workdir))
        log_path = Path(workdir) / f"server-{attempt}.log"
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith("EHR_") or k == "DATABASE_URL")}
        env.update({"EHR_DATA_DIR": str(data_dir), "EHR_ENV": "development",
                    "EHR_SEED_DEMO": "true", "EHR_LOG_LEVEL": "warning"})
        env.update(extra_env)
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(EHR_BIN), "serve", "--hostname", "127.0.0.1", "--port", str(port)],
                cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if _http_status(base + "/ready") == 200:
                return process, base, log_path
            time.sleep(0.2)
        last_log = log_path
        if process.poll() is None:  # still not ready after the timeout: give up for good
            _stop(process)
            pytest.fail(f"ehr serve did not answer 200 on {base}/ready within {READY_TIMEOUT:.0f} s.\n"
                        f"--- server log ({log_path}) ---\n{_tail(log_path)}", pytrace=False)
        if "address already in use" not in _tail(log_path).lower():
            break
    pytest.fail(f"ehr serve exited with status {process.returncode} before it was ready.\n"
                f"--- server log ({last_log}) ---\n{_tail(last_log)}", pytrace=False)


def _stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def database():
    """Which database this session's server uses: 'sqlite' or 'postgres'."""
    db = os.environ.get("EHR_BROWSER_DB", "sqlite").strip().lower()
    if db in ("postgresql", "pg"):
        db = "postgres"
    if db not in ("sqlite", "postgres"):
        pytest.exit(f"EHR_BROWSER_DB must be sqlite or postgres, not {db!r}", returncode=2)
    return db


@pytest.fixture(scope="session")
def server(database, tmp_path_factory):
    """Base URL (http://127.0.0.1:PORT, no trailing slash) of a running `ehr serve` with the demo practice."""
    global _server_log
    if not EHR_BIN.is_file() or not os.access(EHR_BIN, os.X_OK):
        pytest.exit(f"{EHR_BIN} is missing: build the server first (swift build)", returncode=2)
    workdir = tmp_path_factory.mktemp("ehr-server")
    extra_env, admin_url, db_name = {}, None, None
    if database == "postgres":
        admin_url = _postgres_admin_url()
        db_name = "ehr_browser_" + secrets.token_hex(6)
        _psql(admin_url, f'CREATE DATABASE "{db_name}"')
        extra_env["DATABASE_URL"] = _with_database(admin_url, db_name)
    process, base, log_path = _start_server(workdir, extra_env)
    _server_log = log_path
    try:
        yield base
    finally:
        _server_log = None
        _stop(process)
        if process.returncode not in (0, -15, 143):
            print(f"\nehr serve ended with status {process.returncode}; log ({log_path}):\n{_tail(log_path)}")
        if db_name:
            try:
                _psql(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            except Exception as error:  # never hide the tests' own result behind a clean-up problem
                print(f"\nwarning: could not drop {db_name}: {error}")


# ---------------------------------------------------------------------------------------------
# Browser
# ---------------------------------------------------------------------------------------------

def _chrome_options(profile_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
        f"--user-data-dir={profile_dir}", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-default-apps", "--lang=en-US",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "credentials_enable_service": False,
        "profile.password_manager_enabled": False,
        "intl.accept_languages": "en-US,en",
    })
    return options


@pytest.fixture
def driver(tmp_path_factory, request):
    """A headless Chromium with a fresh profile, closed after the test."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.exit(f"{path} is missing: apt-get install chromium chromium-driver", returncode=2)
    profile = tmp_path_factory.mktemp("chromium-profile")
    service = Service(executable_path=CHROMEDRIVER, log_output=str(profile.parent / (profile.name + "-driver.log")))
    browser = webdriver.Chrome(service=service, options=_chrome_options(profile))
    browser.set_page_load_timeout(30)
    request.node.stash[_driver_key] = browser
    try:
        yield browser
    finally:
        try:
            browser.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Helpers for the tests
# ---------------------------------------------------------------------------------------------

def _gone(element):
    """True once the element no longer belongs to the document. Chromium sometimes answers a query on a
    node of the previous page with an inspector error instead of a stale-element error: both mean gone."""
    def check(_driver):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True
    return check


def wait_for_page_change(driver, action, timeout=15):
    """Run action() (a click, a submit) and wait until the browser has loaded the next document."""
    old = driver.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(driver, timeout).until(_gone(old))
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def _fill(driver, name, value):
    element = driver.find_element(By.NAME, name)
    if element.tag_name.lower() == "select":
        Select(element).select_by_value(value)
    elif element.get_attribute("type") == "hidden":
        driver.execute_script("arguments[0].value = arguments[1]", element, value)
    else:
        element.clear()
        element.send_keys(value)
    return element


def sign_in(driver, server, email, password=DEMO_PASSWORD, tenant="demo"):
    """Open /app/login, fill tenant/email/password, submit, and wait for the answer page."""
    driver.get(server + "/app/login")
    _fill(driver, "tenant", tenant)
    _fill(driver, "email", email)
    password_input = _fill(driver, "password", password)
    form = password_input.find_element(By.XPATH, "./ancestor::form")
    buttons = form.find_elements(By.CSS_SELECTOR, "button[type=submit], button:not([type]), input[type=submit]")
    wait_for_page_change(driver, buttons[0].click if buttons else form.submit)


def screenshot(driver, name, full_page=False):
    """Save docs/screenshots/<name>.png when EHR_SCREENSHOTS=1; return the path, or None."""
    if os.environ.get("EHR_SCREENSHOTS") != "1":
        return None
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    size = driver.get_window_size()
    if full_page:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(size["width"], max(size["height"], height + 100))
    try:
        driver.save_screenshot(str(path))
    finally:
        if full_page:
            driver.set_window_size(size["width"], size["height"])
    return path


def csrf_token(driver):
    """The value of the first <input name=_csrf> on the current page."""
    return driver.find_element(By.CSS_SELECTOR, "input[name=_csrf]").get_attribute("value")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx answer, which post_form returns


def post_form(server, path, fields, cookies=None, headers=None):
    """POST an urlencoded form outside the browser (to replay or forge a request).

    fields: a dict or a list of (name, value) pairs. cookies: driver.get_cookies(), or a dict
    name -> value, or None. headers: extra request headers (e.g. {"Origin": "https://evil.example"}).
    Redirects are not followed. Returns (status, body text, headers) — headers is an
    http.client.HTTPMessage (case-insensitive .get(), .get_all("Set-Cookie")).
    """
    if isinstance(cookies, list):
        cookies = {c["name"]: c["value"] for c in cookies}
    request = urllib.request.Request(
        server.rstrip("/") + path, method="POST",
        data=urllib.parse.urlencode(fields, doseq=True).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    if cookies:
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace"), response.headers
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode("utf-8", "replace"), error.headers


# ---------------------------------------------------------------------------------------------
# Failure reports: the page the browser was on and what the server logged during the test
# ---------------------------------------------------------------------------------------------

_driver_key = pytest.StashKey()
_log_offset_key = pytest.StashKey()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    if call.when == "setup" and _server_log is not None:
        try:
            item.stash[_log_offset_key] = Path(_server_log).stat().st_size
        except OSError:
            pass
    outcome = yield
    report = outcome.get_result()
    if not report.failed or call.when == "teardown":
        return
    browser = item.stash.get(_driver_key, None)
    if browser is not None:
        try:
            text = browser.find_element(By.TAG_NAME, "body").text
            report.sections.append(("browser page", f"{browser.current_url}\n{text[:3000]}"))
        except Exception as error:
            report.sections.append(("browser page", f"(unavailable: {error})"))
    if _server_log is not None:
        offset = item.stash.get(_log_offset_key, 0)
        try:
            with open(_server_log, "rb") as log:
                log.seek(offset)
                logged = log.read()[-12000:].decode("utf-8", "replace")
        except OSError as error:
            logged = f"(unavailable: {error})"
        report.sections.append(("server log during this test", logged or "(nothing logged)"))
