#!/usr/bin/env python3
"""Drives intake serve's page (GET /) in headless Chromium with Selenium.

    page_test.py BASE_URL WORK_DIR [--make-key COMMAND] [--screenshot PNG]

BASE_URL is a running `intake serve` with workers; WORK_DIR a scratch directory. Checks, each
printed as "ok   NAME" or "FAIL NAME", then "N passed, M failed" (exit status 1 on a failure):
uploads of three files (one with a non-ASCII name, one the policy refuses) through the page's
picker, two reaching `processed` live and the refused one showing the server's message; a phrase
found with the search box; a document deleted after the confirmation; a file named like markup
shown as text with no script run; a page of another origin whose form POST and fetch are both
refused with nothing stored; and no errors in the page's console but the refused upload's status.
With --make-key (a shell command that creates an API key and prints it), last: the page asks for
a key, says so plainly when one is refused, and with a good one lists only its knowledge base.
With --screenshot, also saves a picture of uploads in progress (the upload throttled by Chromium).
"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import HTTPServer, SimpleHTTPRequestHandler

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE, WORK = sys.argv[1].rstrip("/"), sys.argv[2]
SCREENSHOT = sys.argv[sys.argv.index("--screenshot") + 1] if "--screenshot" in sys.argv else None
DOWNLOADS = os.path.join(WORK, "downloads")
# The server's --max-file-bytes (web-page.sh sets it).
LIMIT = 64 * 1024 * 1024
MAKE_KEY = sys.argv[sys.argv.index("--make-key") + 1] if "--make-key" in sys.argv else None
# Bounds on waiting for the page (a loaded 2-core machine): outcomes are awaited, never timed.
PATIENCE = 90

passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name} {detail}", flush=True)


def api(path):
    with urllib.request.urlopen(BASE + path) as response:
        return json.load(response)


def write(name, content):
    path = os.path.join(WORK, name)
    with open(path, "wb") as file:
        file.write(content)
    return path


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,1400", "--disable-gpu"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": DOWNLOADS, "download.prompt_for_download": False})
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


def wait(driver, condition, what):
    try:
        # An element the page replaced while it was being read is looked for again.
        waiting = WebDriverWait(driver, PATIENCE, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException])
        return waiting.until(lambda d: condition(d))
    except TimeoutException:
        return None


def upload_items(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#upload-list li")


def item_named(driver, selector, name):
    for item in driver.find_elements(By.CSS_SELECTOR, selector):
        if item.find_element(By.CSS_SELECTOR, ".name").text == name:
            return item
    return None


def pick(driver, paths):
    driver.find_element(By.ID, "file-picker").send_keys("\n".join(paths))


def no_alert(driver):
    try:
        driver.switch_to.alert
        return False
    except NoAlertPresentException:
        return True


def main():
    unicode_name = "notes-ünïcødé 日本.txt"
    phrase = "the accordion quartet rehearses beside lighthouse"
    os.makedirs(DOWNLOADS, exist_ok=True)
    notes = write(unicode_name, f"Field notes.\n\nOn Tuesdays {phrase} every week.\n".encode())
    plain = write("plain.txt", b"A plain text file about nothing in particular.\n")
    script = write("install.sh", b"#!/bin/sh\necho this is a script\n")
    before = len(api("/documents?limit=1000")["documents"])

    driver = browser()
    try:
        driver.get(BASE + "/")
        check("the page loads", driver.title == "Intake")
        pick(driver, [notes, plain, script])
        done = wait(driver, lambda d: len(upload_items(d)) == 3 and all(i.find_element(By.CSS_SELECTOR, ".outcome").text for i in upload_items(d)), "outcomes")
        check("three uploads get an outcome each", done is not None)
        stored = item_named(driver, "#upload-list li", unicode_name)
        check("the non-ASCII name is shown as sent", stored is not None)
        check("the non-ASCII file is stored", stored is not None and stored.find_element(By.CSS_SELECTOR, ".outcome").text.startswith("Stored"))
        refused = item_named(driver, "#upload-list li", "install.sh")
        refusal = refused.find_element(By.CSS_SELECTOR, ".outcome").text if refused else ""
        check("the refused file shows the server's message", refusal.startswith("415: ") and "script" in refusal.lower(), refusal)

        def processed(d, name):
            item = item_named(d, "#document-list li", name)
            return item is not None and item.find_element(By.CSS_SELECTOR, ".state").text == "processed"

        check("the non-ASCII file reaches processed, live", wait(driver, lambda d: processed(d, unicode_name), "processed") is not None)
        check("the plain file reaches processed, live", wait(driver, lambda d: processed(d, "plain.txt"), "processed") is not None)

        search = driver.find_element(By.ID, "search-input")
        search.send_keys("accordion lighthouse")
        driver.find_element(By.CSS_SELECTOR, "#search-form button").click()
        hit = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li"), "results")
        marks = [m.text.lower() for m in driver.find_elements(By.CSS_SELECTOR, "#search-results mark")]
        check("the search box finds the phrase in its file", hit is not None and hit[0].find_element(By.CSS_SELECTOR, ".name").text == unicode_name)
        check("the search marks the words", "accordion" in marks and "lighthouse" in marks, str(marks))

        downloaded(driver, unicode_name, notes)
        reprocessed(driver, unicode_name)

        target = item_named(driver, "#document-list li", "plain.txt")
        target_id = target.get_attribute("data-document")
        target.find_element(By.XPATH, ".//button[text()='Delete']").click()
        dialog = wait(driver, lambda d: d.find_element(By.ID, "confirm-dialog").get_attribute("open") is not None, "dialog")
        check("deleting asks for a confirmation", dialog is not None)
        driver.find_element(By.ID, "confirm-button").click()
        gone = wait(driver, lambda d: item_named(d, "#document-list li", "plain.txt") is None, "deleted")
        check("the deleted document leaves the list", gone is not None)
        check("the deleted document is gone from the server", target_id not in [d["id"] for d in api("/documents?limit=1000")["documents"]])

        markup_name = "<img src=x onerror=alert(1)>.txt"
        pick(driver, [write(markup_name, b"markup in a name\n")])
        shown = wait(driver, lambda d: item_named(d, "#document-list li", markup_name), "markup")
        check("a name like markup is shown as text", shown is not None)
        check("no script ran and no element was made from it",
              no_alert(driver) and not driver.find_elements(By.CSS_SELECTOR, "#main img"))

        folder = os.path.join(WORK, "handbook")
        os.makedirs(os.path.join(folder, "faq"), exist_ok=True)
        write("handbook/intro.txt", b"Welcome to the handbook.\n")
        write("handbook/faq/passwords.txt", b"How to reset a password.\n")
        driver.find_element(By.ID, "folder-picker").send_keys(folder)
        both = wait(driver, lambda d: all(item_named(d, "#upload-list li", n) is not None and item_named(d, "#upload-list li", n).find_element(By.CSS_SELECTOR, ".outcome").text.startswith("Stored")
                                          for n in ["handbook/intro.txt", "handbook/faq/passwords.txt"]), "folder")
        check("a folder is uploaded file by file, with paths inside it", both is not None)

        after = len(api("/documents?limit=1000")["documents"])
        check("exactly the accepted files are stored", after == before + 4, f"{before} -> {after}")

        logs = driver.get_log("browser")
        # The browser itself reports the refused upload's 415 (a network entry): that one is expected.
        unexpected = [entry for entry in logs if entry["level"] == "SEVERE" and not (entry.get("source") == "network" and "/uploads" in entry["message"] and "415" in entry["message"])]
        check("the console has no errors", not unexpected, json.dumps(unexpected)[:600])
        print(f"     (console: {len(logs)} entries, {len(logs) - len(unexpected)} of them the refused upload's 415 or not errors)")

        cancelled(driver)
        too_large(driver)
        dropped_files(driver)
        looks(driver)
        other_origin(driver)
        retried_through_a_lost_answer(driver)
        if SCREENSHOT:
            screenshot(driver, SCREENSHOT)
        if MAKE_KEY:
            keys(driver)
    finally:
        driver.quit()
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


def other_origin(driver):
    """A page of another origin (another port) posts a form and calls fetch: both refused."""
    before_count = len(api("/documents?limit=1000")["documents"])
    site = os.path.join(WORK, "other-site")
    os.makedirs(site, exist_ok=True)
    with open(os.path.join(site, "index.html"), "w") as page:
        page.write(f"""<!doctype html><title>elsewhere</title>
<form id="f" method="post" action="{BASE}/uploads" enctype="multipart/form-data">
<input name="title" value="planted"><textarea name="doc">not yours</textarea></form>
<script>
window.fetchOutcome = "pending";
const body = new FormData(); body.append("doc", new Blob(["planted by fetch"]), "planted.txt");
fetch("{BASE}/uploads", {{method: "POST", body}}).then(r => window.fetchOutcome = "answered " + r.status)
  .catch(e => window.fetchOutcome = "refused: " + e.name);
</script>""")

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=site, **kwargs)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        driver.get(f"http://127.0.0.1:{server.server_port}/")
        outcome = wait(driver, lambda d: d.execute_script("return window.fetchOutcome") != "pending" and d.execute_script("return window.fetchOutcome"), "fetch")
        check("another origin's fetch is refused", outcome is not None and outcome.startswith("refused"), str(outcome))
        driver.find_element(By.ID, "f").submit()
        answered = wait(driver, lambda d: "origin_not_allowed" in d.page_source and d.page_source, "form")
        check("another origin's form POST is refused (403 origin_not_allowed)", answered is not None)
        check("nothing from the other origin is stored", len(api("/documents?limit=1000")["documents"]) == before_count)
    finally:
        server.shutdown()


def downloaded(driver, name, original):
    """Download gives the stored bytes, under the document's name."""
    item = item_named(driver, "#document-list li", name)
    item.find_element(By.XPATH, ".//button[text()='Download']").click()
    target = os.path.join(DOWNLOADS, name)
    done = wait(driver, lambda d: os.path.exists(target) and not os.path.exists(target + ".crdownload"), "download")
    with open(original, "rb") as sent:
        check("download gives the stored bytes under the document's name", done is not None and open(target, "rb").read() == sent.read())


def reprocessed(driver, name):
    """Reprocess queues the document again; it comes back to processed, live."""
    item = item_named(driver, "#document-list li", name)
    document_id = item.get_attribute("data-document")
    updated = api(f"/documents/{document_id}")["updated_at"]
    item.find_element(By.XPATH, ".//button[text()='Reprocess']").click()
    again = wait(driver, lambda d: (now := api(f"/documents/{document_id}"))["updated_at"] != updated and now["status"] == "processed"
                 and item_named(d, "#document-list li", name).find_element(By.CSS_SELECTOR, ".state").text == "processed", "reprocessed")
    check("reprocess runs the document again and it shows processed, live", again is not None)


def cancelled(driver):
    """Cancel stops an upload in flight: it says so, and nothing is stored."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 500_000})
    before = len(api("/documents?limit=1000")["documents"])
    pick(driver, [write("too-slow.txt", b"a slow upload\n" * 600_000)])
    item = wait(driver, lambda d: (i := item_named(d, "#upload-list li", "too-slow.txt")) is not None
                and 0 < float(i.find_element(By.TAG_NAME, "progress").get_attribute("value")) and i, "in flight")
    item.find_element(By.XPATH, ".//button[text()='Cancel']").click()
    outcome = item.find_element(By.CSS_SELECTOR, ".outcome").text
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    check("cancel stops an upload in flight and says so", outcome == "Cancelled.", outcome)
    check("a cancelled upload stores nothing", len(api("/documents?limit=1000")["documents"]) == before)


def too_large(driver):
    """A file over the server's limit gets the server's 413 message, once (no retries)."""
    before = len(api("/documents?limit=1000")["documents"])
    pick(driver, [write("too-large.txt", b"a" * (LIMIT + 1))])
    outcome = wait(driver, lambda d: (i := item_named(d, "#upload-list li", "too-large.txt")) is not None
                   and i.find_element(By.CSS_SELECTOR, ".outcome").text, "413")
    check("a file over the limit shows the server's 413 message", outcome is not None and outcome.startswith("413: "), str(outcome))
    check("a file over the limit stores nothing", len(api("/documents?limit=1000")["documents"]) == before)


def dropped_files(driver):
    """Files dropped on the drop zone are uploaded (a drop made in the page: Selenium cannot drag
    files from the desktop)."""
    driver.execute_script("""
        const transfer = new DataTransfer();
        transfer.items.add(new File(["dropped text\\n"], "dropped.txt", {type: "text/plain"}));
        const zone = document.getElementById("drop-zone");
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
    """)
    outcome = wait(driver, lambda d: (i := item_named(d, "#upload-list li", "dropped.txt")) is not None
                   and i.find_element(By.CSS_SELECTOR, ".outcome").text, "dropped")
    check("files dropped on the page are uploaded", outcome is not None and outcome.startswith("Stored"), str(outcome))


def looks(driver):
    """Readable on a phone-width window, and dark when the system is."""
    driver.set_window_size(375, 800)
    fits = driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    check("at phone width nothing overflows sideways", fits)
    background = lambda: driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    light = background()
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    dark = background()
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})
    check("the page follows the system's dark mode", light == "rgb(255, 255, 255)" and dark == "rgb(21, 23, 27)", f"{light} / {dark}")
    driver.set_window_size(1100, 1400)


class LosingProxy:
    """A TCP proxy to the server that, once, passes an upload of `flaky.txt` through whole and
    then cuts the connection instead of passing the server's answer back: the server has stored
    the file, the browser saw a network failure."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.lost = threading.Event()
        self.connections = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.connections += [client, upstream]
            state = {"losing": False}
            threading.Thread(target=self.pipe, args=(client, upstream, state, True), daemon=True).start()
            threading.Thread(target=self.pipe, args=(upstream, client, state, False), daemon=True).start()

    def pipe(self, source, destination, state, to_server):
        try:
            while data := source.recv(65536):
                if to_server and not self.lost.is_set() and b'filename="flaky.txt"' in data:
                    state["losing"] = True
                if not to_server and state["losing"]:
                    # The answer is lost: the browser's connection is reset.
                    self.lost.set()
                    destination.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
                destination.sendall(data)
        except OSError:
            pass
        for end in (source, destination):
            try:
                end.shutdown(socket.SHUT_RDWR)  # wakes the other direction's thread, blocked in recv
            except OSError:
                pass
            end.close()

    def cut_all(self):
        """Ends every connection open now (the page's event stream among them)."""
        for connection in self.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.connections = []

    def close(self):
        self.listener.close()


def retried_through_a_lost_answer(driver):
    """The network fails after the server stored an upload: the page retries with the same
    Idempotency-Key, and the server answers with the upload it made, not a second one."""
    proxy = LosingProxy(int(BASE.rsplit(":", 1)[1]))
    try:
        driver.get(f"http://127.0.0.1:{proxy.port}/")
        wait(driver, lambda d: d.find_element(By.ID, "events-state").text == "Live", "live")
        pick(driver, [write("flaky.txt", b"stored once, answered twice\n")])
        outcome = wait(driver, lambda d: (item := item_named(d, "#upload-list li", "flaky.txt")) is not None
                       and item.find_element(By.CSS_SELECTOR, ".outcome").text, "outcome")
        check("the lost answer was lost (the proxy cut it)", proxy.lost.is_set())
        item = item_named(driver, "#upload-list li", "flaky.txt")
        check("the page retried and reports the upload stored", outcome is not None and outcome.startswith("Stored"), item.text if item else "")
        flaky = [d for d in api("/documents?limit=1000")["documents"] if d["filename"] == "flaky.txt"]
        check("the retry made no second document", len(flaky) == 1, f"{len(flaky)} documents")

        # The event stream is cut; an upload lands meanwhile (not through the page): the page
        # reconnects with Last-Event-ID and shows it, as it shows nothing else it did not upload.
        proxy.cut_all()
        boundary = "pagetestboundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"sent-while-away.txt\"\r\n"
                f"Content-Type: text/plain\r\n\r\nuploaded while the page was away\n\r\n--{boundary}--\r\n").encode()
        request = urllib.request.Request(BASE + "/uploads", data=body, method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request) as response:
            check("an upload lands while the page's event stream is cut", response.status == 201)
        seen = wait(driver, lambda d: item_named(d, "#document-list li", "sent-while-away.txt"), "resumed")
        check("the page reconnects with Last-Event-ID and shows what happened meanwhile", seen is not None)
    finally:
        proxy.close()


def keys(driver):
    """Once a key exists: the page asks for one, refuses a wrong one plainly, works with a good one."""
    key = subprocess.run(MAKE_KEY, shell=True, check=True, capture_output=True, text=True).stdout.strip().split()[-1]
    driver.get(BASE + "/")
    asked = wait(driver, lambda d: d.find_element(By.ID, "key-section").is_displayed(), "key prompt")
    check("with API keys the page asks for one", asked is not None)
    driver.find_element(By.ID, "key-input").send_keys("intake_wrong_key")
    driver.find_element(By.CSS_SELECTOR, "#key-form button").click()
    refused = wait(driver, lambda d: "refused" in d.find_element(By.ID, "key-message").text and d.find_element(By.ID, "key-message").text, "refusal")
    check("a wrong key is refused with the server's message", refused is not None and "401" in refused, str(refused))
    driver.find_element(By.ID, "key-input").send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "#key-form button").click()
    listed = wait(driver, lambda d: not d.find_element(By.ID, "key-section").is_displayed() and d.find_element(By.ID, "documents-message").text == "No documents yet.", "listed")
    check("a good key lists its own knowledge base (empty), not the others", listed is not None)
    check("the key is kept for this tab only", driver.execute_script("return sessionStorage.length === 1 && localStorage.length === 0"))


def screenshot(driver, path):
    """Uploads in progress: a large file sent through a throttled connection."""
    driver.get(BASE + "/")
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#document-list li"), "list")
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 2_000_000})
    driver.find_element(By.ID, "title").send_keys("Support handbook, 2026 edition")
    handbook = write("support-handbook.txt", b"How to reset a password, and other questions people ask.\n" * 420_000)
    notes = write("release-notes.txt", b"Release notes: what changed, and why.\n" * 300_000)
    pick(driver, [handbook, notes])
    driver.find_element(By.TAG_NAME, "h1").click()  # no focus ring in the picture

    def in_progress(d):
        bars = d.find_elements(By.CSS_SELECTOR, "#upload-list progress")[:2]
        return len(bars) == 2 and all(0.1 < float(b.get_attribute("value")) / max(float(b.get_attribute("max")), 1) < 0.9 for b in bars)

    check("the screenshot shows uploads in progress", wait(driver, in_progress, "progress") is not None)
    driver.set_window_size(900, 1000)
    driver.save_screenshot(path)


if __name__ == "__main__":
    main()
