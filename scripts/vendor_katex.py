"""Vendor KaTeX from the npm registry: the renderer for the build, the styles and fonts for pages.

The site renders its math at build time (``llmnotes.pipeline.formulas``), so pages load no script
for it: ``katex.min.js`` goes into the package, and the stylesheet with its woff2 fonts (every
browser the site supports reads woff2; the woff and ttf copies are dropped from the CSS) into
``docs/assets/katex``, each beside KaTeX's MIT licence.

Usage: ``python scripts/vendor_katex.py [VERSION]``
"""

from __future__ import annotations

import io
import json
import re
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RENDERER = ROOT / "llmnotes" / "pipeline" / "katex"
STYLES = ROOT / "docs" / "assets" / "katex"


def fetch(version: str) -> tarfile.TarFile:
    meta = f"https://registry.npmjs.org/katex/{version}"
    with urllib.request.urlopen(meta, timeout=30) as response:
        tarball = json.load(response)["dist"]["tarball"]
    with urllib.request.urlopen(tarball, timeout=60) as response:
        return tarfile.open(fileobj=io.BytesIO(response.read()), mode="r:gz")


def main(version: str = "0.19.1") -> None:
    archive = fetch(version)

    def read(name: str) -> bytes:
        member = archive.extractfile(f"package/{name}")
        assert member is not None, name
        return member.read()

    licence = read("LICENSE")
    RENDERER.mkdir(parents=True, exist_ok=True)
    (RENDERER / "katex.min.js").write_bytes(read("dist/katex.min.js"))
    (RENDERER / "LICENSE").write_bytes(licence)
    (RENDERER / "VERSION").write_text(version + "\n")
    fonts = STYLES / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    css = read("dist/katex.min.css").decode()
    css = re.sub(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "", css)
    (STYLES / "katex.min.css").write_text(css)
    (STYLES / "LICENSE").write_bytes(licence)
    for member in archive.getmembers():
        if member.name.startswith("package/dist/fonts/") and member.name.endswith(".woff2"):
            (fonts / Path(member.name).name).write_bytes(read(member.name[len("package/") :]))
    print(f"KaTeX {version}: {RENDERER.relative_to(ROOT)}, {STYLES.relative_to(ROOT)}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
