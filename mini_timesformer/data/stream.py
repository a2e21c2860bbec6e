"""Reading a Kinetics mirror over HTTP(S) or from a local folder, one request at a time.

A mirror has the CVDF layout (github.com/cvdfoundation/kinetics-dataset, k400_downloader.sh)::

    {base}/annotations/{train,val}.csv
    {base}/{split}/k400_{split}_path.txt      one part URL per line (absolute, or a name)
    {base}/{split}/part_N.tar.gz              the parts the list names

A local folder (``--source DIR``) is read through the same code as ``file://`` URLs; it needs
no path list: without one, its ``{split}/*.tar.gz`` files are the parts (numeric order).
Standard library only (urllib): a part is read as a stream and never stored whole.
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import MissingPathError, NotAFolderError, UserError

# The Kinetics-400 mirror of the Common Visual Data Foundation (k400_downloader.sh and
# README of github.com/cvdfoundation/kinetics-dataset): annotations/, train/, val/, test/.
CVDF_K400 = "https://s3.amazonaws.com/kinetics/400"

# Errors worth another try: the connection, not the request, went wrong.
TRANSIENT = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


class RequestFailed(Exception):
    """A request that failed for good (after its retries, or at once for e.g. a 404)."""


def base_url(mirror: str | None, source: str | Path | None) -> str:
    """The mirror's base URL: ``--source DIR`` as a ``file://`` URL, else ``--mirror``."""
    if source is not None:
        folder = Path(source).expanduser()
        if not folder.is_dir():
            raise NotAFolderError(f"--source folder not found: {folder}")
        return folder.resolve().as_uri()
    url = (mirror or CVDF_K400).rstrip("/")
    if not re.match(r"^(https?|file)://", url):
        raise UserError(f"--mirror must be an http(s):// or file:// URL, got {mirror!r}")
    return url


def part_url(base: str, split: str, line: str) -> str:
    """A path-list line as a URL: relative names live under ``{base}/{split}/``.

    A local copy keeps the parts under ``{split}/`` whatever absolute URL the list names.
    """
    line = line.strip()
    if "://" not in line:
        return f"{base}/{split}/{line.lstrip('/')}"
    if base.startswith("file://"):
        return f"{base}/{split}/{line.rsplit('/', 1)[-1]}"
    return line


def part_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def open_url(
    url: str, *, retries: int = 3, backoff: float = 2.0, timeout: float = 60.0, method: str = "GET"
):
    """``urlopen`` with ``retries`` more tries after a transient failure.

    Waits ``backoff * 2**k`` seconds before try k+1. Client errors (404, 403, ...) are final
    at once. Raises RequestFailed with a one-line reason.
    """
    request = urllib.request.Request(url, method=method, headers={"User-Agent": "mini-timesformer"})
    for attempt in range(retries + 1):
        try:
            return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 — our URLs
        except urllib.error.HTTPError as err:
            reason = f"HTTP {err.code} {err.reason}"
            err.close()
            if 400 <= err.code < 500 and err.code not in (408, 429):
                raise RequestFailed(f"{reason} for {url}") from None
        except (*TRANSIENT, OSError) as err:
            reason = f"{type(err).__name__}: {getattr(err, 'reason', err)}"
            if url.startswith("file:") or not isinstance(err, TRANSIENT):
                raise RequestFailed(f"{reason} for {url}") from None  # local: final
        if attempt < retries:
            time.sleep(backoff * 2**attempt)
    raise RequestFailed(f"{reason} for {url} (after {retries + 1} tries)")


def read_text(url: str, **kwargs) -> str:
    """A whole small file (annotations, path lists) as text, with retries."""
    for attempt in range(kwargs.get("retries", 3) + 1):
        response = open_url(url, **kwargs)
        try:
            with response:
                return response.read().decode("utf-8")
        except TRANSIENT as err:  # dropped while reading: try again
            if attempt == kwargs.get("retries", 3):
                raise RequestFailed(f"{type(err).__name__} while reading {url}") from None
            time.sleep(kwargs.get("backoff", 2.0) * 2**attempt)
    raise AssertionError("unreachable")


def part_urls(base: str, split: str, **kwargs) -> list[str]:
    """The part URLs of a split: the published path list, or a local folder's tarballs."""
    listing = f"{base}/{split}/k400_{split}_path.txt"
    try:
        lines = read_text(listing, **kwargs).splitlines()
    except RequestFailed as err:
        if not base.startswith("file://"):
            raise MissingPathError(f"cannot read the {split} part list: {err}") from None
        folder = Path(urllib.request.url2pathname(base[len("file://") :])) / split
        names = sorted(
            (p.name for p in folder.glob("*.tar.gz")),
            key=lambda n: (int(re.sub(r"\D", "", n) or -1), n),
        )
        if not names:
            raise MissingPathError(
                f"no {split}/k400_{split}_path.txt and no {split}/*.tar.gz under {folder.parent}"
            ) from None
        lines = names
    return [part_url(base, split, line) for line in lines if line.strip()]


def content_length(url: str, **kwargs) -> int | None:
    """Size of a part in bytes from a HEAD request (``file://``: the file size), or None."""
    try:
        with open_url(url, method="HEAD", **kwargs) as response:
            size = response.headers.get("Content-Length")
    except RequestFailed:
        return None
    return int(size) if size and size.isdigit() else None


class CountingReader:
    """A read-only stream that counts the bytes read through it (for the progress bar)."""

    def __init__(self, raw, on_bytes=None):
        self.raw, self.count, self.on_bytes = raw, 0, on_bytes

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        left = getattr(self.raw, "length", None)  # HTTP: bytes the server still owes us
        if not data and size != 0 and left:
            # http.client returns b"" when the connection drops early: that is a network
            # failure (worth a retry), not a truncated archive
            raise http.client.IncompleteRead(b"", left)
        self.count += len(data)
        if self.on_bytes is not None:
            self.on_bytes(len(data))
        return data

    def close(self) -> None:
        self.raw.close()
