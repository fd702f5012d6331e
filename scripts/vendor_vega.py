"""Vendor Vega, Vega-Lite and vega-embed from the npm registry: the interactive charts' libraries.

Pages with a chart load the three minified UMD builds from ``docs/assets/vega`` (never a CDN),
each beside its licence (all three are BSD-3-Clause). vega-embed bundles vega-tooltip, the
hover labels. The versions go into ``VERSIONS``.

Usage: ``python scripts/vendor_vega.py [VEGA VEGA_LITE VEGA_EMBED]``
"""

from __future__ import annotations

import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "assets" / "vega"
# The Vega and Vega-Lite that vl-convert-python renders the static fallbacks with, and the
# Vega-Lite schema Altair writes, so the chart and its fallback come from the same code.
DEFAULTS = {"vega": "6.2.0", "vega-lite": "6.4.1", "vega-embed": "7.3.0"}


def fetch(package: str, version: str) -> tarfile.TarFile:
    meta = f"https://registry.npmjs.org/{package}/{version}"
    with urllib.request.urlopen(meta, timeout=30) as response:
        tarball = json.load(response)["dist"]["tarball"]
    with urllib.request.urlopen(tarball, timeout=60) as response:
        return tarfile.open(fileobj=io.BytesIO(response.read()), mode="r:gz")


def read(archive: tarfile.TarFile, name: str) -> bytes:
    member = archive.extractfile(f"package/{name}")
    assert member is not None, name
    return member.read()


def main(*versions: str) -> None:
    wanted = dict(zip(DEFAULTS, versions or DEFAULTS.values(), strict=True))
    TARGET.mkdir(parents=True, exist_ok=True)
    for package, version in wanted.items():
        archive = fetch(package, version)
        (TARGET / f"{package}.min.js").write_bytes(read(archive, f"build/{package}.min.js"))
        (TARGET / f"LICENSE-{package}").write_bytes(read(archive, "LICENSE"))
    lines = [f"{package} {version}" for package, version in wanted.items()]
    (TARGET / "VERSIONS").write_text("\n".join(lines) + "\n")
    print(f"{', '.join(lines)}: {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
