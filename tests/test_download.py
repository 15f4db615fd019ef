"""Tests of tutorial_kit/download.py: download_original_covers and its command.

No test touches the internet: a small HTTP server on 127.0.0.1 serves three
fake "covers", and a test manifest lists their SHA-256.
"""
import hashlib
import os
import re
import http.server
import socket
import threading
import urllib.parse
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from tutorial_kit import download as dl, files
from tutorial_kit.download import DownloadError, download_command, download_original_covers, read_manifest

pytestmark = pytest.mark.filterwarnings("error")

# Manifest order on purpose not sorted: results must follow the manifest.
COVERS = {"c.jpg": b"third cover " * 50, "a.jpg": b"first cover " * 70, "b.jpg": b"second " * 90}


@pytest.fixture(autouse=True)
def local_network_only(monkeypatch):
    """Fail any test that would reach beyond 127.0.0.1."""
    real_urlopen = urllib.request.urlopen

    def urlopen(url, *args, **kwargs):
        host = urllib.parse.urlsplit(url if isinstance(url, str) else url.full_url).hostname
        assert host == "127.0.0.1", f"a test tried to reach {url}"
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    real_connect = socket.create_connection  # (what every HTTP connection goes through)

    def create_connection(address, *args, **kwargs):
        assert address[0] == "127.0.0.1", f"a test tried to reach {address}"
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/served over HTTP; /interrupted/... and /slow/... misbehave."""
    root = tmp_path / "served"
    root.mkdir()
    for name, data in COVERS.items():
        (root / name).write_bytes(data)
    requests = []
    release = threading.Event()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):  # keep the test output quiet
            pass

        def do_GET(self):
            requests.append(self.path)
            if self.path.startswith("/interrupted/"):
                self.send_response(200)
                self.send_header("Content-Length", "1000")  # promise 1000 bytes ...
                self.end_headers()
                self.wfile.write(b"only a part")  # ... send 11, then hang up
                self.close_connection = True
            elif self.path.startswith("/slow/"):
                release.wait(5)
            elif self.path.startswith("/trickle/"):  # one byte every 50 ms, never timing out
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for _ in range(1000):
                    if release.wait(0.05):
                        break
                    try:
                        self.wfile.write(b"x")
                        self.wfile.flush()
                    except OSError:
                        break
            elif self.path.startswith("/header-trickle/"):  # the status line, a byte every 0.5 s
                for byte in b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello":
                    if release.wait(0.5):
                        break
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        break
                self.close_connection = True
            elif self.path.startswith("/garbage/"):  # not HTTP at all
                self.wfile.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
                self.close_connection = True
            elif self.path.startswith("/huge/"):  # promises 300 MB
                self.send_response(200)
                self.send_header("Content-Length", str(300 * 1024**2))
                self.end_headers()
                try:
                    self.wfile.write(b"x" * 65536)
                except OSError:
                    pass
                release.wait(5)
            elif self.path.startswith("/endless/"):  # no length, more and more bytes
                self.send_response(200)
                self.end_headers()
                self.close_connection = True
                try:
                    for _ in range(200):
                        self.wfile.write(b"y" * 4096)
                except OSError:
                    pass
            else:
                super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{httpd.server_port}/", root=root,
                          requests=requests)
    release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "test.sha256"
    lines = ["# sha256  file  (three fake covers)"]
    lines += [f"{hashlib.sha256(data).hexdigest()}  {name}" for name, data in COVERS.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def dest(tmp_path):
    return tmp_path / "covers"


def download(dest, server, manifest, **options):
    return download_original_covers(dest, base_url=server.url, manifest=manifest, **options)


def leftovers(folder):
    """Every file in folder, hidden temporary files included."""
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


# --- the normal case ----------------------------------------------------------------


def test_downloads_and_verifies_every_cover_in_manifest_order(dest, server, manifest):
    paths = download(dest, server, manifest)
    assert paths == [dest / name for name in COVERS]
    for name, data in COVERS.items():
        assert (dest / name).read_bytes() == data
    assert sorted(server.requests) == ["/a.jpg", "/b.jpg", "/c.jpg"]
    assert leftovers(dest) == sorted(COVERS)  # no temporary file left


def test_a_second_call_downloads_nothing(dest, server, manifest):
    first = download(dest, server, manifest)
    server.requests.clear()
    assert download(dest, server, manifest) == first
    assert server.requests == []


def test_a_corrupted_local_file_is_downloaded_again(dest, server, manifest):
    download(dest, server, manifest)
    (dest / "b.jpg").write_bytes(b"damaged")
    server.requests.clear()
    download(dest, server, manifest)
    assert server.requests == ["/b.jpg"]
    assert (dest / "b.jpg").read_bytes() == COVERS["b.jpg"]


def test_a_base_url_without_final_slash_works(dest, server, manifest):
    download_original_covers(dest, base_url=server.url.rstrip("/"), manifest=manifest)
    assert leftovers(dest) == sorted(COVERS)


def test_progress_prints_one_line_per_file_to_stderr(dest, server, manifest, capsys):
    download(dest, server, manifest, progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["[1/3] c.jpg downloaded", "[2/3] a.jpg downloaded",
                                "[3/3] b.jpg downloaded"]


def test_no_progress_by_default_when_stderr_is_not_a_terminal(dest, server, manifest, capsys):
    download(dest, server, manifest)
    assert capsys.readouterr() == ("", "")


# --- failures: one line naming the file, nothing partial left ------------------------------


def one_line_error(error_info, name):
    message = str(error_info.value)
    assert "\n" not in message
    assert name in message
    return message


def download_error(dest, base_url, manifest, name="c.jpg", **options):
    """The one-line DownloadError (naming ``name``) that downloading from ``base_url`` gives."""
    with pytest.raises(DownloadError) as error:
        download_original_covers(dest, base_url=base_url, manifest=manifest, **options)
    return one_line_error(error, name)


def test_wrong_content_on_the_server(dest, server, manifest):
    (server.root / "a.jpg").write_bytes(b"not the first cover")
    with pytest.raises(DownloadError) as error:
        download(dest, server, manifest)
    message = one_line_error(error, "a.jpg")
    assert message.startswith("checksum mismatch for a.jpg")
    assert hashlib.sha256(COVERS["a.jpg"]).hexdigest()[:12] in message
    assert leftovers(dest) == ["c.jpg"]  # c.jpg came first and is fine; no a.jpg, no temp file


def test_missing_file_on_the_server(dest, server, manifest):
    (server.root / "c.jpg").unlink()
    with pytest.raises(DownloadError) as error:
        download(dest, server, manifest)
    message = one_line_error(error, "c.jpg")
    assert message.startswith(f"could not download c.jpg from {server.url}c.jpg")
    assert "HTTP error 404" in message
    assert leftovers(dest) == []


def test_offline(dest, manifest):
    with socket.socket() as probe:  # find a port where nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    message = download_error(dest, f"http://127.0.0.1:{port}/", manifest)
    assert message.startswith("could not download c.jpg")
    assert message.endswith("(are you offline?)")
    assert leftovers(dest) == []


def test_interrupted_transfer_leaves_no_partial_file(dest, server, manifest):
    message = download_error(dest, server.url + "interrupted/", manifest)
    assert "transfer interrupted after 11 bytes" in message
    assert leftovers(dest) == []


def test_a_server_that_does_not_answer_times_out(dest, server, manifest):
    assert "timed out" in download_error(dest, server.url + "slow/", manifest, timeout=0.2)
    assert leftovers(dest) == []


def test_ctrl_c_while_writing_leaves_no_temporary_file(dest, server, manifest, monkeypatch):
    def interrupted_replace(source, target, src_dir_fd, dst_dir_fd):
        assert re.fullmatch(r"\.\w+\.part", Path(source).name)
        os.stat(source, dir_fd=src_dir_fd)  # the temporary is there, in the cover's folder
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        download(dest, server, manifest)
    assert leftovers(dest) == []


def test_a_folder_that_cannot_be_created(tmp_path, server, manifest):
    (tmp_path / "file").write_text("I am a file")
    with pytest.raises(DownloadError, match="cannot create folder"):
        download(tmp_path / "file" / "covers", server, manifest)


# --- the manifest -----------------------------------------------------------------------


def test_the_real_manifest_lists_the_100_covers_of_the_post():
    entries = read_manifest()
    assert len(entries) == 100
    assert len({name for name, _ in entries}) == 100
    for name, digest in entries:
        assert name.endswith(".jpg") and "/" not in name
        assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")


def test_the_default_url_is_pinned_to_one_commit():
    assert dl.ORIGINALS_URL.startswith("https://raw.githubusercontent.com/JustGlowing/")
    assert dl.ORIGINALS_COMMIT in dl.ORIGINALS_URL
    assert dl.ORIGINALS_URL.endswith("/examples/movie_covers/")


GOOD = "0" * 64


@pytest.mark.parametrize(
    "line",
    [
        "not-a-hash  a.jpg",  # not hexadecimal
        f"{GOOD[:-1]}  a.jpg",  # 63 digits
        f"{GOOD}",  # no file name
        f"{GOOD}a.jpg",  # no separator
        f"{GOOD}  ../a.jpg",  # would write outside the folder
        f"{GOOD}  sub/a.jpg",
        f"{GOOD}  .hidden.jpg",  # load_covers would ignore it
        f"{GOOD}  two words.jpg",
    ],
)
def test_a_malformed_manifest_line_is_named(tmp_path, line):
    path = tmp_path / "bad.sha256"
    path.write_text(f"# comment\n{GOOD}  ok.jpg\n{line}\n")
    with pytest.raises(ValueError, match=r"bad\.sha256, line 3: expected") as error:
        read_manifest(path)
    assert "\n" not in str(error.value)


def test_a_name_listed_twice(tmp_path):
    path = tmp_path / "twice.sha256"
    path.write_text(f"{GOOD}  a.jpg\n{'1' * 64}  a.jpg\n")
    with pytest.raises(ValueError, match=r"twice\.sha256, line 2: a\.jpg is listed twice"):
        read_manifest(path)


def test_a_manifest_without_entries(tmp_path):
    path = tmp_path / "empty.sha256"
    path.write_text("# only a comment\n\n")
    with pytest.raises(ValueError, match=r"empty\.sha256: no"):
        read_manifest(path)


def test_upper_case_hex_and_binary_mode_marker_are_accepted(tmp_path):
    path = tmp_path / "ok.sha256"
    path.write_text(f"{'AB' * 32} *a.jpg\n")
    assert read_manifest(path) == [("a.jpg", "ab" * 32)]


# --- the command ------------------------------------------------------------------------


def run_command(dest, server, manifest, capsys, base_url=None):
    code = download_command(dest, base_url=base_url or server.url, manifest=manifest,
                            progress=False)
    out, err = capsys.readouterr()
    return code, out, err


def test_command_success_then_nothing_to_do(dest, server, manifest, capsys):
    assert run_command(dest, server, manifest, capsys) == (
        0, f"downloaded 3 covers to {dest} (0 already present)\n", "")
    assert run_command(dest, server, manifest, capsys) == (
        0, f"downloaded 0 covers to {dest} (3 already present)\n", "")


def test_command_failure_is_one_error_line_without_traceback(dest, server, manifest, capsys):
    (server.root / "a.jpg").unlink()
    code, out, err = run_command(dest, server, manifest, capsys)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: could not download a.jpg")
    assert "Traceback" not in err


def test_command_offline(dest, server, manifest, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = run_command(dest, server, manifest, capsys, f"http://127.0.0.1:{port}/")
    assert code == 1 and err.count("\n") == 1 and "are you offline?" in err


def test_command_with_a_malformed_manifest(dest, server, tmp_path, capsys):
    bad = tmp_path / "bad.sha256"
    bad.write_text("nonsense\n")
    code, _, err = run_command(dest, server, bad, capsys)
    assert code == 1 and err.startswith("error: ") and "bad.sha256, line 1" in err


def test_command_with_a_missing_manifest(dest, server, tmp_path, capsys):
    code, _, err = run_command(dest, server, tmp_path / "missing.sha256", capsys)
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1


def test_command_ctrl_c(dest, server, manifest, capsys, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(dl, "_fetch", interrupted)
    code, _, err = run_command(dest, server, manifest, capsys)
    assert code == 130 and err.startswith("error: interrupted")
    assert leftovers(dest) == []


# --- deadline, size cap, damaged local copies (issue 10) ----------------------------------


def test_a_trickling_server_is_stopped_by_the_overall_deadline(dest, server, manifest):
    import time

    start = time.monotonic()
    message = download_error(dest, server.url + "trickle/", manifest, timeout=5, deadline=0.5)
    assert time.monotonic() - start < 3  # each byte comes well within the 5 s timeout
    assert "took longer than its deadline of 0.5 s" in message
    assert leftovers(dest) == []


def test_the_deadline_bounds_the_status_line_and_headers_too(dest, server, manifest):
    """Issue 21, case 10: one header byte every 0.5 s never trips the 2 s timeout."""
    import time

    start = time.monotonic()
    message = download_error(dest, server.url + "header-trickle/", manifest, timeout=2,
                             deadline=4)
    took = time.monotonic() - start
    assert 3.9 < took < 6, took  # the deadline, not the 48 bytes' 24 s
    assert message == (f"could not download c.jpg from {server.url}header-trickle/c.jpg: the "
                       "download took longer than its deadline of 4 s")
    assert leftovers(dest) == []


def test_a_garbage_answer_is_not_called_offline(dest, server, manifest):
    message = download_error(dest, server.url + "garbage/", manifest)
    assert message == (f"could not download c.jpg from {server.url}garbage/c.jpg: the server's "
                       "answer is not valid HTTP (BadStatusLine: SSH-2.0-OpenSSH_9.2)")


def test_a_declared_size_over_the_cap_is_refused_without_reading_it(dest, server, manifest):
    import time

    start = time.monotonic()
    message = download_error(dest, server.url + "huge/", manifest)
    assert time.monotonic() - start < 3
    assert "314,572,800 bytes, over the limit of 5,242,880 bytes for one cover" in message
    assert leftovers(dest) == []


def test_a_response_without_length_is_cut_at_the_cap(dest, server, manifest):
    message = download_error(dest, server.url + "endless/", manifest, max_bytes=10_000)
    assert "over the limit of 10,000 bytes" in message
    assert leftovers(dest) == []


def test_a_damaged_local_copy_is_named_when_offline(dest, manifest):
    dest.mkdir()
    (dest / "c.jpg").write_bytes(b"damaged")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    message = download_error(dest, f"http://127.0.0.1:{port}/", manifest)
    assert message.endswith(f"the local copy {dest / 'c.jpg'} is damaged (its checksum "
                            "differs) and was left as it is")
    assert (dest / "c.jpg").read_bytes() == b"damaged"


def test_a_replaced_damaged_copy_is_reported(dest, server, manifest, capsys):
    download(dest, server, manifest)
    (dest / "a.jpg").write_bytes(b"damaged")
    assert run_command(dest, server, manifest, capsys) == (
        0, f"downloaded 1 covers to {dest} (2 already present, 1 damaged local copies "
        "replaced)\n", "")
    assert (dest / "a.jpg").read_bytes() == COVERS["a.jpg"]


def test_a_fifo_in_the_place_of_a_cover_is_refused(dest, server, manifest):
    import os

    dest.mkdir()
    os.mkfifo(dest / "c.jpg")
    with pytest.raises(DownloadError, match="is a FIFO"):
        download(dest, server, manifest)
    assert leftovers(dest) == ["c.jpg"]
