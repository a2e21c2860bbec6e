"""A fake Kinetics-400 mirror for the download tests: CVDF layout, tiny synthetic clips.

``build_mirror(root)`` writes ``annotations/{train,val}.csv``, ``{split}/k400_{split}_path.txt``
and ``{split}/part_N.tar.gz``; ``MirrorServer(root)`` serves it on 127.0.0.1 (a real
``ThreadingHTTPServer`` in a thread), counts requests per path and injects faults.
"""

from __future__ import annotations

import csv
import io
import socket
import struct
import tarfile
import threading
from collections import Counter
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mini_timesformer.data import SyntheticVideos, write_video

# The path lists name parts by absolute URL, as CVDF's do; the server swaps in its own base.
PUBLISHED = "https://mirror.invalid/kinetics/400"
# train: class -> clips per part (4 parts); "zumba" is rare (parts 0 and 2 only)
TRAIN_PARTS = 4
TRAIN_LAYOUT = {"air drumming": [2, 2, 2, 2], "bowling": [2, 2, 2, 2], "zumba": [1, 0, 1, 0]}
VAL_LAYOUT = {"air drumming": [2], "bowling": [2], "zumba": [2]}


def _clip_name(split, c, k):
    return f"{split[:2]}{c:02d}{k:07d}", 10 + k, 11 + k  # youtube id, start, end (1 s)


def build_mirror(root: Path) -> dict:
    """Write the mirror; returns {split: {part name: [clip file names in tar order]}}."""
    gen = SyntheticVideos("appearance", num_frames=8, image_size=32, size=64)
    contents = {}
    for split, layout in (("train", TRAIN_LAYOUT), ("val", VAL_LAYOUT)):
        num_parts = len(next(iter(layout.values())))
        members = [[] for _ in range(num_parts)]
        rows = []
        for c, (label, per_part) in enumerate(layout.items()):
            k = 0
            for part, count in enumerate(per_part):
                for _ in range(count):
                    yt, start, end = _clip_name(split, c, k)
                    rows.append((label, yt, start, end, split))
                    members[part].append((f"{yt}_{start:06d}_{end:06d}.mp4", gen[c * 8 + k][0]))
                    k += 1
        rows.append(("bowling", "gone0000000", 0, 10, split))  # annotated, in no part
        folder = root / split
        folder.mkdir(parents=True, exist_ok=True)
        contents[split] = {}
        for part, clips in enumerate(members):
            clips.sort(key=lambda item: item[0][::-1])  # mix the classes inside a part
            name = f"part_{part}.tar.gz"
            # part 1 nests its members (like CVDF's part_120 once), the others use ./<clip>;
            # part 3 is a plain tar named .tar.gz (CVDF's part_120 was, until May 2022)
            prefix = "home/user/kinetics/train/" if part == 1 else "./"
            _write_part(
                folder / name,
                [(prefix + n, clip) for n, clip in clips],
                "w" if part == 3 else "w:gz",
            )
            contents[split][name] = [n for n, _ in clips]
        listing = [
            f"{PUBLISHED}/{split}/{name}" if split == "train" else name for name in contents[split]
        ]
        (folder / f"k400_{split}_path.txt").write_text("\n".join(listing) + "\n")
        (root / "annotations").mkdir(exist_ok=True)
        with open(root / "annotations" / f"{split}.csv", "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(("label", "youtube_id", "time_start", "time_end", "split"))
            writer.writerows(rows)
    return contents


def _write_part(path: Path, members, mode="w:gz") -> None:
    scratch = path.with_suffix(".mp4")
    with tarfile.open(path, mode) as tar:
        info = tarfile.TarInfo("./")
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        for name, clip in members:
            write_video(scratch, clip, fps=8, crf=10)
            tar.add(scratch, arcname=name)
    scratch.unlink()


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_HEAD(self):
        self.server.requests["HEAD", self.path] += 1
        super().do_HEAD()

    def do_GET(self):
        server = self.server
        server.requests["GET", self.path] += 1
        pending = server.faults.get(self.path)
        fault = pending.pop(0) if pending else None
        if isinstance(fault, int):  # an HTTP status: 404, 500, 503, ...
            self.send_error(fault)
        elif fault == "reset":  # drop the connection with a TCP RST, no answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif isinstance(fault, tuple):  # ("cut", n): n of the promised bytes, then hang up
            kind, n = fault  # ("truncate", n): an honest but truncated file
            data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data) if kind == "cut" else n))
            self.end_headers()
            self.wfile.write(data[:n])
            self.close_connection = True
        elif self.path.endswith("_path.txt"):
            text = (Path(self.directory) / self.path.lstrip("/")).read_text()
            data = text.replace(PUBLISHED, server.base).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            super().do_GET()


class MirrorServer:
    """``with MirrorServer(root) as server: server.base`` (http://127.0.0.1:PORT).

    ``server.requests[("GET", "/train/part_0.tar.gz")]`` counts requests;
    ``server.faults["/train/part_1.tar.gz"] = [500, "reset", ("cut", n), ("truncate", n),
    404, 503]`` answers the next requests of that path with these faults, in order.
    """

    def __init__(self, root: Path):
        handler = partial(_Handler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.requests, self.httpd.faults = Counter(), {}
        self.base = self.httpd.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.requests, self.faults = self.httpd.requests, self.httpd.faults

    def gets(self, path: str) -> int:
        return self.requests["GET", path]

    def __enter__(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def readable_members(data: bytes) -> list[str]:
    """Clip names whose bytes can be read whole from a (possibly truncated) .tar.gz."""
    names = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r|gz") as tar:
            for member in tar:
                if member.isfile():
                    tar.extractfile(member).read()
                    names.append(Path(member.name).name)
    except (tarfile.TarError, EOFError):
        pass
    return names
