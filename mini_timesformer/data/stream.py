"""Reading a Kinetics mirror over HTTP(S) or from a local folder, one request at a time.

A mirror has the CVDF layout (github.com/cvdfoundation/kinetics-dataset, k400_downloader.sh)::

    {base}/annotations/{train,val}.csv
    {base}/{split}/k400_{split}_path.txt      one part URL per line (absolute, or a name)
    {base}/{split}/part_N.tar.gz              the parts the list names

A local folder (``--source DIR``) is read through the same code as ``file://`` URLs; it needs
no path list: without one, its ``{split}/*.tar.gz`` files are the parts (numeric order).
HTTP(S) goes through ``requests`` with urllib3's ``Retry`` policy on its adapter; a part is
read as a stream (urllib3's raw response) and never stored whole.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from ..errors import MissingPathError, NotAFolderError, UserError

# The Kinetics-400 mirror of the Common Visual Data Foundation (k400_downloader.sh and
# README of github.com/cvdfoundation/kinetics-dataset): annotations/, train/, val/, test/.
CVDF_K400 = "https://s3.amazonaws.com/kinetics/400"

# Answers worth another try (Retry's status_forcelist): timeout, rate limit, server errors.
RETRY_STATUS = (408, 429, 500, 502, 503, 504)
# A body that broke off after its headers (dropped connection, stalled read): another try.
BROKEN = (ProtocolError, ReadTimeoutError)


class RequestFailed(Exception):
    """A request that failed for good (after its retries, or at once for e.g. a 404)."""


def cause(err: BaseException) -> BaseException:
    """The innermost error inside requests'/urllib3's wrappers (e.g. ``IncompleteRead``)."""
    while True:
        inner = err.reason if isinstance(err, MaxRetryError) else None
        inner = inner or next((a for a in err.args if isinstance(a, BaseException)), None)
        if inner is None:
            return err
        err = inner


def _local_path(url: str) -> Path:
    return Path(urllib.request.url2pathname(url[len("file://") :]))


class Client:
    """GET/HEAD with one retry policy: urllib3's ``Retry`` on a ``requests`` session.

    The adapter retries a request up to its answer: connection errors, and the statuses of
    ``RETRY_STATUS`` (client errors such as 404 are final at once), ``retries`` times,
    waiting ``backoff·2^(k-1)`` s before retry k >= 2 (urllib3's schedule: the first retry
    comes at once). ``retrying`` applies the same policy to a body that breaks off later.
    ``file://`` URLs are read from disk (no retries: local errors are final).
    """

    def __init__(self, retries: int = 3, backoff: float = 2.0, timeout: float = 60.0):
        self.retries, self.timeout = retries, timeout
        self.policy = Retry(
            total=retries,
            backoff_factor=backoff,
            status_forcelist=RETRY_STATUS,
            allowed_methods=("GET", "HEAD"),
            raise_on_status=False,  # the last answer comes back: one message for all statuses
        )
        self.session = requests.Session()
        # identity: the bytes on disk, as the mirror stores them (never decoded on the fly)
        self.session.headers.update(
            {"User-Agent": "mini-timesformer", "Accept-Encoding": "identity"}
        )
        adapter = HTTPAdapter(max_retries=self.policy)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def open(self, url: str):
        """The body as a binary stream (``.read``, ``.tell``, ``.close``). RequestFailed with a
        one-line reason if the answer is an error or the retries are spent."""
        if url.startswith("file://"):
            try:
                return open(_local_path(url), "rb")
            except OSError as err:
                raise RequestFailed(f"{type(err).__name__}: {err.strerror} for {url}") from None
        tries = f" (after {self.retries + 1} tries)"
        try:
            response = self.session.get(url, stream=True, timeout=self.timeout)
        except requests.RequestException as err:
            inner = cause(err)
            raise RequestFailed(f"{type(inner).__name__}: {inner} for {url}{tries}") from None
        if response.status_code >= 400:
            response.close()
            again = tries if response.status_code in RETRY_STATUS else ""
            raise RequestFailed(f"HTTP {response.status_code} {response.reason} for {url}{again}")
        return response.raw  # urllib3's response: raises IncompleteRead if the body ends early

    def retrying(self, attempt, url: str):
        """``attempt()`` again from its start while a body breaks off (``BROKEN``).

        The adapter's retries end when the headers arrive; for what is read after them the
        same ``Retry`` counts the tries and sleeps (``increment``, ``sleep``). When they are
        spent, the last ``BROKEN`` error is raised.
        """
        policy = self.policy
        while True:
            try:
                return attempt()
            except BROKEN as err:
                try:
                    policy = policy.increment("GET", url, error=err)
                except MaxRetryError:
                    raise err from None
                policy.sleep()

    def read_text(self, url: str) -> str:
        """A whole small file (annotations, path lists) as text."""

        def read() -> str:
            with self.open(url) as body:
                return body.read().decode("utf-8")

        try:
            return self.retrying(read, url)
        except BROKEN as err:
            raise RequestFailed(f"{type(cause(err)).__name__} while reading {url}") from None

    def content_length(self, url: str) -> int | None:
        """Size in bytes from a HEAD request (``file://``: the file size), or None."""
        if url.startswith("file://"):
            path = _local_path(url)
            return path.stat().st_size if path.is_file() else None
        try:
            response = self.session.head(url, timeout=self.timeout, allow_redirects=True)
        except requests.RequestException:
            return None
        size = response.headers.get("Content-Length")
        return int(size) if response.ok and size and size.isdigit() else None


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


def part_urls(base: str, split: str, client: Client) -> list[str]:
    """The part URLs of a split: the published path list, or a local folder's tarballs."""
    listing = f"{base}/{split}/k400_{split}_path.txt"
    try:
        lines = client.read_text(listing).splitlines()
    except RequestFailed as err:
        if not base.startswith("file://"):
            raise MissingPathError(f"cannot read the {split} part list: {err}") from None
        folder = _local_path(base) / split
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
