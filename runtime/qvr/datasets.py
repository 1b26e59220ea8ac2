"""Named data sets the examples and benchmarks use, fetched on request with a checksum.

`qvr data fetch NAME` downloads a data set once into `data_dir()` (``$QVR_DATA_DIR``, else
the `data` folder of qvr's cache directory, see `qvr.user_cache`) and prints its path; a copy
whose SHA-1 matches is not downloaded again, and a download whose SHA-1 does not match is
thrown away. Nothing is fetched implicitly: tests and examples that need a data set say so
and name this command. Torch-free.

The one data set today is The Time Machine (H. G. Wells), the corpus of d2l's character
language models, which `qvr run MODEL --svi --data PATH` trains on.
"""
from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import QvrError


class DataError(QvrError):
    """A data set that cannot be had: unknown name, failed download or wrong checksum."""


@dataclass(frozen=True)
class DataSet:
    name: str
    url: str
    sha1: str
    description: str

    @property
    def filename(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]


DATASETS = {
    "timemachine": DataSet(
        "timemachine", "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt",
        "090b5e7e70c295757f55df93cb0a180b9691891a",
        "The Time Machine by H. G. Wells (d2l's character-model corpus, 179 kB)"),
}


def data_dir() -> Path:
    explicit = os.environ.get("QVR_DATA_DIR")
    if explicit:
        return Path(explicit)
    from .user_cache import cache_dir

    return cache_dir() / "data"


def sha1_of(path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, sha1: str, directory) -> Path:
    """Download `url` into `directory` unless a copy with the right SHA-1 is already there;
    the download is checked against `sha1` before it is kept (written beside the target, then
    renamed, so a failed download never leaves a partial file under the real name)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / url.rstrip("/").rsplit("/", 1)[-1]
    if target.exists() and sha1_of(target) == sha1.lower():
        return target
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            out.write(response.read())
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DataError(f"cannot download {url}: {exc}") from None
    got = sha1_of(partial)
    if got != sha1.lower():
        partial.unlink(missing_ok=True)
        raise DataError(f"{url} has SHA-1 {got}, expected {sha1}")
    partial.replace(target)
    return target


def local_path(name: str) -> Path:
    """Where `fetch(name)` puts the data set (it may not be there yet)."""
    return data_dir() / DATASETS[name].filename


def fetch(name: str, directory=None) -> Path:
    """The path of data set `name`, downloaded first if needed."""
    found = DATASETS.get(name)
    if found is None:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(sorted(DATASETS))}")
    return download(found.url, found.sha1, directory if directory is not None else data_dir())
