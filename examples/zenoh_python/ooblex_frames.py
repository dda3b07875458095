"""Ooblex frames on zenoh, as docs/WIRE.md describes them: read and write
them from any Python process with eclipse-zenoh (the standard library does
the rest).

A sample is one frame: the attachment is the header, the payload the bytes.
"""

import json
import struct
import time
from dataclasses import dataclass, field

MAGIC = b"OOBX"
VERSION = 1
KEYFRAME, HAS_DTS, STREAM_END = 1, 2, 4
FORMATS = {0: "empty", 1: "rgb24", 2: "rgba", 3: "i420", 4: "nv12", 5: "gray8", 16: "jpeg", 17: "h264"}
CODES = {name: code for code, name in FORMATS.items()}
FIXED = struct.Struct("<4sBBBBIIQQQQ")


@dataclass
class Frame:
    """One picture with its identity; `planes` are (offset, stride) pairs."""

    format: str
    width: int
    height: int
    data: bytes
    seq: int = 0
    pts_ns: int = 0
    capture_ns: int = field(default_factory=time.time_ns)
    stream: str = ""
    keyframe: bool = True
    planes: list = field(default_factory=list)
    detections: list | None = None

    def row(self, y: int, plane: int = 0) -> bytes:
        """The bytes of row `y` of a plane, without padding."""
        offset, stride = self.planes[plane]
        start = offset + y * stride
        return self.data[start : start + row_bytes(self.format, self.width, plane)]


def row_bytes(fmt: str, width: int, plane: int) -> int:
    """Bytes of one row of a plane, without padding."""
    if plane == 0:
        return {"rgb24": 3, "rgba": 4}.get(fmt, 1) * width
    return (width + 1) // 2 * (2 if fmt == "nv12" else 1)


def packed_planes(fmt: str, width: int, height: int) -> list:
    """The (offset, stride) of each plane of a tightly packed frame."""
    if fmt in ("rgb24", "rgba", "gray8"):
        return [(0, width * {"rgb24": 3, "rgba": 4, "gray8": 1}[fmt])]
    cw, ch = (width + 1) // 2, (height + 1) // 2
    if fmt == "i420":
        return [(0, width), (width * height, cw), (width * height + cw * ch, cw)]
    if fmt == "nv12":
        return [(0, width), (width * height, cw * 2)]
    return []


def encode(frame: Frame) -> tuple[bytes, bytes]:
    """The (attachment, payload) of a frame."""
    planes = frame.planes or packed_planes(frame.format, frame.width, frame.height)
    flags = KEYFRAME if frame.keyframe else 0
    header = FIXED.pack(
        MAGIC, VERSION, CODES[frame.format], flags, len(planes),
        frame.width, frame.height, frame.seq, frame.pts_ns, 0, frame.capture_ns,
    )
    header += b"".join(struct.pack("<II", offset, stride) for offset, stride in planes)
    stream = frame.stream.encode()
    header += struct.pack("<H", len(stream)) + stream
    meta = b"" if frame.detections is None else json.dumps({"detections": frame.detections}).encode()
    header += struct.pack("<I", len(meta)) + meta
    return header, frame.data


def decode(header: bytes, payload: bytes) -> Frame | None:
    """The frame a sample carries, or None for the end of a stream.
    Raises ValueError for bytes that are not an Ooblex frame."""
    try:
        return _decode(header, payload)
    except (struct.error, KeyError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"not an Ooblex frame: {err}") from err


def _decode(header: bytes, payload: bytes) -> Frame | None:
    magic, version, code, flags, count, width, height, seq, pts, _dts, capture = FIXED.unpack_from(header)
    if magic != MAGIC or version != VERSION:
        raise ValueError(f"not an Ooblex frame header of version {VERSION}")
    fmt = FORMATS[code]
    expected = packed_planes(fmt, width, height)
    if count != len(expected):
        raise ValueError(f"a {fmt} frame has {len(expected)} planes, the header lists {count}")
    at = FIXED.size
    planes = [struct.unpack_from("<II", header, at + 8 * i) for i in range(count)]
    rows = [height] + [(height + 1) // 2] * (count - 1)
    for index, ((offset, stride), height_of) in enumerate(zip(planes, rows)):
        if stride < row_bytes(fmt, width, index) or offset + stride * height_of > len(payload):
            raise ValueError(f"plane {index} does not fit the payload")
    at += 8 * count
    (length,) = struct.unpack_from("<H", header, at)
    stream = header[at + 2 : at + 2 + length].decode()
    if flags & STREAM_END:
        return None
    at += 2 + length
    (length,) = struct.unpack_from("<I", header, at)
    meta = json.loads(header[at + 4 : at + 4 + length]) if length else {}
    return Frame(
        format=fmt, width=width, height=height, data=bytes(payload), seq=seq, pts_ns=pts,
        capture_ns=capture, stream=stream, keyframe=bool(flags & KEYFRAME), planes=planes,
        detections=meta.get("detections"),
    )


def session(endpoint: str):
    """A zenoh session connected to an Ooblex host at `endpoint` (`tcp/127.0.0.1:7447`).

    For a graph whose links require a password (`links: { auth: ... }`), set
    OOBLEX_LINK_USER (the graph's `links.auth.user`, by default its name) and
    OOBLEX_LINK_PASSWORD. For TLS links (`links: { tls: ... }`, a `tls/`
    endpoint), set OOBLEX_LINK_TLS_CA, OOBLEX_LINK_TLS_CERT and
    OOBLEX_LINK_TLS_KEY to the CA and to a certificate it signed, with its key."""
    import os

    import zenoh

    config = zenoh.Config()
    config.insert_json5("mode", '"peer"')
    config.insert_json5("connect/endpoints", json.dumps([endpoint]))
    config.insert_json5("scouting/multicast/enabled", "false")
    user, password = os.environ.get("OOBLEX_LINK_USER"), os.environ.get("OOBLEX_LINK_PASSWORD")
    if user and password:
        config.insert_json5("transport/auth/usrpwd", json.dumps({"user": user, "password": password}))
    ca, cert, key = (os.environ.get(f"OOBLEX_LINK_TLS_{name}") for name in ("CA", "CERT", "KEY"))
    if ca and cert and key:
        # As Ooblex's hosts do: present the certificate, check the peer's name and CA.
        tls = {"root_ca_certificate": ca, "connect_certificate": cert, "connect_private_key": key,
               "enable_mtls": True, "verify_name_on_connect": True}
        config.insert_json5("transport/link/tls", json.dumps(tls))
    return zenoh.open(config)
