"""Leaflet's JavaScript and CSS, read from the `XStatic-Leaflet` package and inlined.

The report must show its sensors from a file opened offline or sent by e-mail, so nothing may be
fetched from a CDN: the script and the style sheet are copied into the page, and the few images
the style sheet names (layer control, default marker) become `data:` URIs.
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

from dynst_cli.errors import DynstError

_CSS_IMAGE = re.compile(r"url\(images/([A-Za-z0-9_.-]+\.png)\)")


def leaflet_folder() -> Path:
    """The folder of leaflet.js and leaflet.css inside the installed XStatic-Leaflet package."""
    try:
        import xstatic.pkg.leaflet as leaflet
    except ImportError:
        raise DynstError(
            "the report needs the XStatic-Leaflet package (pip install XStatic-Leaflet)"
        ) from None
    return Path(leaflet.BASE_DIR)


@functools.cache
def leaflet_version() -> str:
    import xstatic.pkg.leaflet as leaflet

    return str(leaflet.VERSION)


@functools.cache
def leaflet_js() -> str:
    """The minified Leaflet script, safe to put inside a <script> element."""
    text = (leaflet_folder() / "leaflet.js").read_text(encoding="utf-8")
    text = re.sub(r"//# sourceMappingURL=\S+", "", text)  # no map file travels with the page
    return text.replace("</script", "<\\/script")


@functools.cache
def leaflet_css() -> str:
    """Leaflet's style sheet with its images as data URIs."""
    folder = leaflet_folder()
    text = (folder / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        data = base64.b64encode((folder / "images" / match.group(1)).read_bytes()).decode()
        return f"url(data:image/png;base64,{data})"

    return _CSS_IMAGE.sub(inline, text)
