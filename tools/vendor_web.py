"""Refresh the third-party JavaScript of the browser client (net/web/vendor/) from npm.

Downloads the pinned tarballs of three.js and @msgpack/msgpack from the npm registry,
checks each against the integrity hash pinned here (and the one the registry gives),
and extracts only the modules the page imports (the entry points below and every file
they import, followed through relative imports) plus the package's LICENSE::

    python tools/vendor_web.py            # rewrite net/web/vendor/
    python tools/vendor_web.py --check    # exit 1 if net/web/vendor/ differs
    python tools/vendor_web.py --tarballs DIR   # use tarballs from `npm pack` in DIR

Two mechanical rewrites keep the page working under the server's Content-Security-Policy
(``default-src 'self'``, which blocks the inline ``<script type="importmap">`` a bare
``'three'`` specifier would need) and its MIME table (``.js`` only):

- three.js addons import ``'three'``; that specifier becomes the relative path of
  ``three.module.js``;
- @msgpack/msgpack's ESM files end in ``.mjs``; they are renamed ``.js`` (and their
  relative imports with them).

``//# sourceMappingURL`` comments are dropped (the maps are not vendored). To move to a
new version, change ``version`` and ``integrity`` (``npm view PKG@VERSION dist.integrity``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import posixpath
import re
import shutil
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "net" / "web" / "vendor"
REGISTRY = "https://registry.npmjs.org"

__all__ = ["PACKAGES", "Package", "vendor_files", "main"]


@dataclass(frozen=True)
class Package:
    """One npm package to vendor: what to take from its tarball and where to put it."""

    name: str
    version: str
    integrity: str
    """Subresource-integrity string of the tarball (``npm view`` ``dist.integrity``)."""
    folder: str
    """Folder under net/web/vendor/."""
    entries: tuple[str, ...]
    """Paths in the package (without ``package/``) of the modules the page imports."""
    places: tuple[tuple[str, str], ...]
    """(package prefix, vendor prefix) pairs mapping package paths to vendored paths."""
    bare: tuple[tuple[str, str], ...] = ()
    """(bare specifier, package path it stands for) rewritten to relative imports."""
    rename_mjs: bool = False


PACKAGES = (
    Package(
        name="three", version="0.187.0",
        integrity="sha512-Qiu7R+Cmh8CstZsY1uJOSWnVlfo7ZtNLV7mF8Jltk3LB3AtDu9cRZlcnRKkAk8Y4z6KKw35z7Y7Urd7jWY8etA==",
        folder="three",
        entries=("build/three.module.js", "examples/jsm/loaders/GLTFLoader.js",
                 "examples/jsm/controls/OrbitControls.js"),
        places=(("build/", ""), ("examples/jsm/", "addons/")),
        bare=(("three", "build/three.module.js"),),
    ),
    Package(
        name="@msgpack/msgpack", version="3.1.3",
        integrity="sha512-47XIizs9XZXvuJgoaJUIE2lFoID8ugvc0jzSHP+Ptfk8nTbnR8g788wv48N03Kx0UkAv559HWRQ3yzOgzlRNUA==",
        folder="msgpack",
        entries=("dist.esm/index.mjs",),
        places=(("dist.esm/", ""),),
        rename_mjs=True,
    ),
)

IMPORT = re.compile(r"""^((?:import|export)\b[^;'"]*?\bfrom\s*|\}\s*from\s*|import\s*)"""
                    r"""(['"])([^'"\n]+)\2""", re.M)
"""A static import or re-export at the start of a line: its specifier (group 3) and what
precedes it (group 1); comments that merely mention ``from '...'`` do not match. (The
vendored modules have no dynamic ``import()``.)"""
SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$\n?", re.M)


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as r:  # noqa: S310 - fixed https registry
        return r.read()


def _check_integrity(data: bytes, integrity: str, what: str) -> None:
    algo, _, want = integrity.partition("-")
    got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if got != want:
        raise SystemExit(f"{what}: integrity mismatch ({algo} {got} != {want})")


def tarball(pkg: Package, local: Path | None = None) -> bytes:
    """The package's tarball, checked against ``pkg.integrity``."""
    short = pkg.name.split("/")[-1]
    path = local / f"{pkg.name.lstrip('@').replace('/', '-')}-{pkg.version}.tgz" if local else None
    if path is not None and path.exists():
        data = path.read_bytes()
    else:
        meta = json.loads(_fetch(f"{REGISTRY}/{pkg.name}/{pkg.version}"))
        if meta["dist"].get("integrity") != pkg.integrity:
            raise SystemExit(f"{pkg.name}@{pkg.version}: the registry gives integrity "
                             f"{meta['dist'].get('integrity')}, pinned {pkg.integrity}")
        data = _fetch(meta["dist"]["tarball"])
    _check_integrity(data, pkg.integrity, f"{short}-{pkg.version}.tgz")
    return data


def _place(pkg: Package, path: str) -> str:
    for src, dst in pkg.places:
        if path.startswith(src):
            out = dst + path[len(src):]
            return out[:-4] + ".js" if pkg.rename_mjs and out.endswith(".mjs") else out
    raise SystemExit(f"{pkg.name}: no place for {path} (add it to places)")


def vendor_files(pkg: Package, data: bytes) -> dict[str, bytes]:
    """Vendored path (under net/web/vendor/) -> bytes of every file the entries need."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {m.name.removeprefix("package/"): m for m in tar.getmembers() if m.isfile()}

        def read(path: str) -> str:
            f = tar.extractfile(members[path])
            assert f is not None
            return f.read().decode("utf-8")

        out: dict[str, bytes] = {}
        todo, seen = list(pkg.entries), set(pkg.entries)
        while todo:
            path = todo.pop()
            if path not in members:
                raise SystemExit(f"{pkg.name}@{pkg.version}: {path} is not in the tarball")
            here = _place(pkg, path)

            def rewrite(m: re.Match[str], path: str = path, here: str = here) -> str:
                spec = m.group(3)
                target = dict(pkg.bare).get(spec)
                if target is None and spec.startswith("."):
                    target = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
                if target is None:
                    raise SystemExit(f"{path}: unresolved import {spec!r}")
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
                rel = posixpath.relpath(_place(pkg, target), posixpath.dirname(here) or ".")
                rel = rel if rel.startswith(".") else "./" + rel
                return f"{m.group(1)}{m.group(2)}{rel}{m.group(2)}"

            text = SOURCE_MAP.sub("", IMPORT.sub(rewrite, read(path)))
            out[f"{pkg.folder}/{here}"] = text.encode("utf-8")
        licence = next(k for k in members if k.upper() in ("LICENSE", "LICENSE.MD", "LICENSE.TXT"))
        out[f"{pkg.folder}/LICENSE"] = read(licence).encode("utf-8")
    return out


def _readme(packages: tuple[Package, ...], files: dict[str, bytes]) -> bytes:
    lines = ["# Vendored third-party JavaScript", "",
             "Written by `tools/vendor_web.py` from the npm registry; do not edit by hand.", ""]
    for pkg in packages:
        lines += [f"## {pkg.name} {pkg.version}", "", f"integrity `{pkg.integrity}`", ""]
        for path in sorted(k for k in files if k.startswith(pkg.folder + "/")):
            lines.append(f"- `{path}` {len(files[path])} bytes")
        lines.append("")
    total = sum(len(v) for v in files.values())
    lines += [f"Total {total} bytes.", ""]
    return "\n".join(lines).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    """Refresh (or with ``--check`` compare) net/web/vendor/; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare, do not write")
    ap.add_argument("--tarballs", type=Path, help="folder with tarballs from `npm pack`")
    ap.add_argument("--out", type=Path, default=VENDOR, help="vendor folder")
    args = ap.parse_args(argv)
    files: dict[str, bytes] = {}
    for pkg in PACKAGES:
        files.update(vendor_files(pkg, tarball(pkg, args.tarballs)))
    files["README.md"] = _readme(PACKAGES, files)
    if args.check:
        have = {p.relative_to(args.out).as_posix(): p.read_bytes()
                for p in args.out.rglob("*") if p.is_file()} if args.out.exists() else {}
        bad = sorted(k for k in files.keys() | have.keys() if files.get(k) != have.get(k))
        for k in bad:
            print(f"differs: {k}")
        return 1 if bad else 0
    if args.out.exists():
        shutil.rmtree(args.out)
    for path, data in files.items():
        target = args.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for pkg in PACKAGES:
        size = sum(len(v) for k, v in files.items() if k.startswith(pkg.folder + "/"))
        print(f"vendored {pkg.name}@{pkg.version} {size} bytes")
    print(f"vendor_total {sum(len(v) for v in files.values())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
