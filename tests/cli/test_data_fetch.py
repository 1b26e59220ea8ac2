"""`qvr data fetch` / `qvr data list`: named data sets downloaded once with their checksum.

The download is served from a local file (a `file://` URL): the tests never reach a network.
"""
from __future__ import annotations

import dataclasses
import hashlib

import pytest

from qvr import datasets
from qvr.cli import main


@pytest.fixture
def local_timemachine(tmp_path, monkeypatch):
    """The known data set, pointed at a small local file with its true SHA-1."""
    source = tmp_path / "served" / "timemachine.txt"
    source.parent.mkdir()
    source.write_text("the time traveller for so it will be convenient to speak of him\n")
    sha1 = hashlib.sha1(source.read_bytes()).hexdigest()
    monkeypatch.setitem(datasets.DATASETS, "timemachine", dataclasses.replace(
        datasets.DATASETS["timemachine"], url=source.as_uri(), sha1=sha1))
    monkeypatch.setenv("QVR_DATA_DIR", str(tmp_path / "data"))
    return source


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_fetch_downloads_once_and_prints_the_path(local_timemachine, tmp_path, capsys):
    target = tmp_path / "data" / "timemachine.txt"
    assert run(capsys, "data", "list") == (
        0, f"timemachine: {datasets.DATASETS['timemachine'].description}; not fetched\n", "")
    assert run(capsys, "data", "fetch", "timemachine") == (0, f"{target}\n", "")
    assert target.read_bytes() == local_timemachine.read_bytes()
    mtime = target.stat().st_mtime_ns
    assert run(capsys, "data", "fetch") == (0, f"{target}\n", "")  # all known: just this one
    assert target.stat().st_mtime_ns == mtime  # the good copy was kept, not downloaded again
    assert run(capsys, "data", "list") == (
        0, f"timemachine: {datasets.DATASETS['timemachine'].description}; {target}\n", "")


def test_a_download_with_the_wrong_checksum_is_thrown_away(local_timemachine, tmp_path,
                                                            monkeypatch, capsys):
    monkeypatch.setitem(datasets.DATASETS, "timemachine", dataclasses.replace(
        datasets.DATASETS["timemachine"], sha1="0" * 40))
    status, out, err = run(capsys, "data", "fetch", "timemachine", "--dir", str(tmp_path / "d"))
    got = hashlib.sha1(local_timemachine.read_bytes()).hexdigest()
    assert (status, out) == (1, "")
    assert err == (f"qvr: {local_timemachine.as_uri()} has SHA-1 {got}, expected {'0' * 40}\n")
    assert list((tmp_path / "d").iterdir()) == []


def test_an_unknown_name_is_an_error(local_timemachine, capsys):
    assert run(capsys, "data", "fetch", "nope") == (
        1, "", "qvr: unknown data set 'nope'; known: timemachine\n")
