"""stream.Client against a loopback server (127.0.0.1): urllib3's Retry policy does the retries."""

import pytest
from urllib3.util import retry as urllib3_retry
from urllib3.util.retry import Retry

from mini_timesformer.data.stream import Client, RequestFailed
from tests.kinetics_mirror import MirrorServer

TEXT = "label,youtube_id,time_start,time_end,split\n" * 50


@pytest.fixture
def server(tmp_path):
    (tmp_path / "a.csv").write_text(TEXT)
    with MirrorServer(tmp_path) as running:
        yield running


@pytest.fixture
def sleeps(monkeypatch):
    """The waits urllib3's Retry asks for (recorded, not slept)."""
    waited = []
    monkeypatch.setattr(urllib3_retry.time, "sleep", waited.append)
    return waited


def test_two_503s_then_200_are_retried_by_the_adapters_retry(server, sleeps):
    client = Client(retries=3, backoff=0.5)
    adapter = client.session.get_adapter(server.base)
    assert isinstance(adapter.max_retries, Retry) and adapter.max_retries.total == 3
    server.faults["/a.csv"] = [503, 503]
    assert client.read_text(f"{server.base}/a.csv") == TEXT
    assert server.gets("/a.csv") == 3  # two refusals, then the answer
    assert sleeps == [1.0]  # urllib3's schedule: retry 1 at once, retry 2 after 2·backoff


def test_503s_past_the_retries_fail_in_one_line(server, sleeps):
    server.faults["/a.csv"] = [503, 503, 503]
    with pytest.raises(RequestFailed) as failed:
        Client(retries=1, backoff=0.5).read_text(f"{server.base}/a.csv")
    assert str(failed.value) == (
        f"HTTP 503 Service Unavailable for {server.base}/a.csv (after 2 tries)"
    )
    assert server.gets("/a.csv") == 2 and sleeps == []


def test_a_404_is_final_at_once(server, sleeps):
    server.faults["/a.csv"] = [404]
    with pytest.raises(RequestFailed, match=r"^HTTP 404 Not Found for .*/a\.csv$"):
        Client(retries=3).read_text(f"{server.base}/a.csv")
    assert server.gets("/a.csv") == 1


def test_a_body_cut_after_its_headers_is_read_again_under_the_same_policy(server, sleeps):
    server.faults["/a.csv"] = [("cut", 100), ("cut", 200), ("cut", 300)]
    assert Client(retries=3, backoff=0.5).read_text(f"{server.base}/a.csv") == TEXT
    assert server.gets("/a.csv") == 4
    assert sleeps == [1.0, 2.0]  # Retry.increment / Retry.sleep: 0, 2·backoff, 4·backoff
    server.faults["/a.csv"] = [("cut", 100)]
    with pytest.raises(RequestFailed, match=r"^IncompleteRead while reading .*/a\.csv$"):
        Client(retries=0).read_text(f"{server.base}/a.csv")


def test_content_length_from_head_and_from_disk(server, tmp_path):
    client = Client(retries=0)
    assert client.content_length(f"{server.base}/a.csv") == len(TEXT)
    assert client.content_length(f"{server.base}/missing.csv") is None
    assert client.content_length((tmp_path / "a.csv").as_uri()) == len(TEXT)
    assert client.read_text((tmp_path / "a.csv").as_uri()) == TEXT
    with pytest.raises(RequestFailed, match=r"^FileNotFoundError: No such file"):
        client.read_text((tmp_path / "missing.csv").as_uri())
