"""Reading back the websocket frames the server builds, as a client reads them."""

from __future__ import annotations

from websockets.frames import Frame
from websockets.streams import StreamReader


def parse_frame(data: bytes) -> Frame:
    """The one websocket frame `data` holds, as a client reads it (unmasked, all bytes used)."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
    else:  # pragma: no cover - the parser wanted more bytes than the frame has
        raise AssertionError("incomplete frame")
    assert reader.at_eof(), "bytes left after the frame"
    return frame
