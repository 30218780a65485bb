#!/usr/bin/env python3
"""Download the pinned corpus (``pins.txt``) and unpack each project to ``TARGET/NAME-VERSION/``.

    python tests/corpus/download.py .corpus [NAME ...]

Hash-checked (``pip download --no-deps --require-hashes``; nothing is installed), about 30 s and 1 GB for all.
A project already unpacked is skipped. Exit status 1 if any download fails. Never commit the corpus.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PINS = Path(__file__).resolve().parent / "pins.txt"


def pins(path: Path = PINS):
    """(name, version, sha256) of every pin."""
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            spec, sha = line.split()
            name, version = spec.split("==")
            yield name, version, sha


def download(target: Path, names=()) -> int:
    archives = target / "_archives"
    archives.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name, version, sha in pins():
        if names and name not in names:
            continue
        dest = target / f"{name}-{version}"
        if dest.is_dir() and any(dest.iterdir()):
            print(f"skip  {dest.name} (already unpacked)")
            continue
        with tempfile.TemporaryDirectory(dir=archives) as scratch:
            requirement = Path(scratch) / "requirement.txt"
            requirement.write_text(f"{name}=={version} --hash=sha256:{sha}\n")
            result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--ignore-requires-python",
                                     "--require-hashes", "--disable-pip-version-check", "-q", "-d", scratch,
                                     "-r", str(requirement)])
            found = [p for p in Path(scratch).iterdir() if p.name != requirement.name]
            if result.returncode != 0 or len(found) != 1:
                print(f"FAIL  {name}=={version} (pip download)", file=sys.stderr)
                failed = 1
                continue
            archive = archives / found[0].name
            shutil.move(str(found[0]), archive)
        unpack(archive, dest)
        count = sum(1 for _ in dest.rglob("*.py"))
        print(f"ok    {dest.name}  ({archive.name}, {count} .py files)")
    return failed


def unpack(archive: Path, dest: Path) -> None:
    """A wheel or zip as it is; an sdist without its single top-level directory. Nothing outside ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as handle:
            for member in handle.namelist():
                normal = os.path.normpath(member)
                if normal.startswith("..") or os.path.isabs(normal):
                    raise SystemExit(f"unsafe member {member} in {archive}")
            handle.extractall(dest)
        return
    with tarfile.open(archive) as handle:
        options = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        handle.extractall(dest, **options)
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        for entry in list(entries[0].iterdir()):
            shutil.move(str(entry), dest / entry.name)
        entries[0].rmdir()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(download(Path(sys.argv[1]), set(sys.argv[2:])))
