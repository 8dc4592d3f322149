"""A page sent in two parts: its HTML at once, then the data its plots draw.

The "Over time" page's data take ~40 ms to read at 100,000 fireworks. Sent
as one response, the browser waited for them before it could read the
stylesheets, lay the page out and load Chart.js; asked for by two calls
after the page, they waited for a core the browser was using. Sent first,
the page is parsed and laid out on one core while the data are read on the
other, and its deferred scripts run when the data block, the last thing in
the page, arrives.

Compressed pages are flushed after each part (gzip's sync flush): a
compressor left to fill its own buffer would hold the first part back.
"""

import zlib

from flask import Response, current_app, request, stream_with_context
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from launchpad.errors import StarshellError

# Where the template puts the data: ``<script type="application/json">{{ late_data }}</script>``.
SLOT = Markup("<!--late-data-->")


def page_with_late_data(html, read):
    """A streamed response of ``html`` whose ``SLOT`` is filled with ``read()`` as JSON.

    An error while reading reaches the page as ``{"error": message}``: the status line
    is already on its way. The page's scripts then ask the API, whose answer says why."""
    head, tail = html.split(SLOT, 1)

    def parts():
        yield head
        try:
            data = read()
        except StarshellError as exc:
            data = {"error": str(exc)}
        except Exception:
            current_app.logger.exception("reading the data of %s", request.path)
            data = {"error": "the server failed to read the data; its log says why"}
        yield str(htmlsafe_json_dumps(data, dumps=current_app.json.dumps)) + tail

    gzip = request.accept_encodings["gzip"] > 0
    body = gzipped(parts()) if gzip else (part.encode() for part in parts())
    response = Response(stream_with_context(body), mimetype="text/html")
    if gzip:
        response.headers["Content-Encoding"] = "gzip"  # Flask-Compress leaves it as it is
    response.vary.add("Accept-Encoding")
    return response


def gzipped(parts):
    compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    for part in parts:
        yield compressor.compress(part.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
    yield compressor.flush()
