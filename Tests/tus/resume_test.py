#!/usr/bin/env python3
"""A 200 MiB file through tus with tuspy (PyPI), interrupted twice and resumed to the end.

    resume_test.py BASE_URL WORK_DIR RESTART_COMMAND

BASE_URL is a running `intake serve` with workers; RESTART_COMMAND a shell command that kills it
with SIGKILL and starts it again on the same data directory (and waits until it answers). Prints
"ok   NAME" or "FAIL NAME" per check, then "N passed, M failed" (exit status 1 on a failure).
"""
import hashlib
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlparse

from tusclient import client as tus

BASE, WORK, RESTART = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
CHUNK = 8 * 1024 * 1024
SIZE = 200 * 1024 * 1024
PATIENCE = 600  # seconds for the worker to process 200 MiB of text on a loaded machine

passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    passed, failed = (passed + 1, failed) if condition else (passed, failed + 1)
    print(f"{'ok  ' if condition else 'FAIL'} {name} {'' if condition else detail}".rstrip(), flush=True)


def offset_of(url):
    request = urllib.request.Request(url, method="HEAD", headers={"Tus-Resumable": "1.0.0"})
    with urllib.request.urlopen(request) as response:
        return int(response.headers["Upload-Offset"])


def cut_mid_chunk(url, offset, data):
    """Sends a PATCH that declares a whole chunk, sends a third of it and drops the connection."""
    begin_chunk(url, offset, data).sock.close()


def begin_chunk(url, offset, data):
    """Sends a PATCH that declares a whole chunk and a third of it; returns the open connection."""
    target = urlparse(url)
    connection = http.client.HTTPConnection(target.hostname, target.port)
    connection.putrequest("PATCH", target.path)
    for name, value in [("Tus-Resumable", "1.0.0"), ("Upload-Offset", str(offset)),
                        ("Content-Type", "application/offset+octet-stream"), ("Content-Length", str(CHUNK))]:
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(data[offset:offset + CHUNK // 3])
    return connection


def main():
    path = os.path.join(WORK, "archive.txt")
    line = b"Scanned archive, page %08d: the quick brown fox jumps over the lazy dog.\n"
    with open(path, "wb") as file:
        written, page = 0, 0
        while written < SIZE:
            piece = line % page
            piece = piece[: SIZE - written]
            file.write(piece)
            written += len(piece)
            page += 1
    data = open(path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()

    client = tus.TusClient(BASE + "/files/")
    uploader = client.uploader(path, chunk_size=CHUNK, metadata={"filename": "archive.txt", "filetype": "text/plain", "title": "Archive"})
    uploader.upload(stop_at=3 * CHUNK)
    url = uploader.url
    check("three chunks are in", offset_of(url) == 3 * CHUNK, str(offset_of(url)))

    # 1. The connection is cut in the middle of a chunk: what arrived is kept and reported.
    cut_mid_chunk(url, 3 * CHUNK, data)
    deadline = time.monotonic() + 60
    while offset_of(url) == 3 * CHUNK and time.monotonic() < deadline:
        time.sleep(0.1)
    after_cut = offset_of(url)
    check("a chunk cut midway keeps what arrived, synced", 3 * CHUNK < after_cut <= 3 * CHUNK + CHUNK // 3, str(after_cut))
    resumed = client.uploader(path, chunk_size=CHUNK, url=url)
    check("tuspy resumes from the server's offset", resumed.offset == after_cut, f"{resumed.offset} != {after_cut}")
    resumed.upload(stop_at=12 * CHUNK)

    # 2. The server is killed (SIGKILL) in the middle of a chunk and started again: no acknowledged
    # byte is lost, and the append the dead process held does not hold the upload.
    acknowledged = offset_of(url)
    in_flight = begin_chunk(url, acknowledged, data)
    subprocess.run(["bash", "-c", RESTART], check=True)
    in_flight.sock.close()
    check("after a restart the offset is what was acknowledged", offset_of(url) == acknowledged, f"{offset_of(url)} != {acknowledged}")
    final = client.uploader(path, chunk_size=CHUNK, url=url)
    final.upload()

    documents = []
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        with urllib.request.urlopen(BASE + "/documents?sha256=" + digest) as response:
            documents = json.load(response)["documents"]
        if documents and documents[0]["status"] in ("processed", "failed", "dead"):
            break
        time.sleep(1)
    check("the whole file is one document with the file's SHA-256", len(documents) == 1 and documents[0]["size"] == SIZE, json.dumps(documents)[:300])
    check("the document is processed", bool(documents) and documents[0]["status"] == "processed", json.dumps(documents)[:300])
    check("the upload's file is gone from resumable/", not os.listdir(os.path.join(WORK, "data", "resumable")))
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
