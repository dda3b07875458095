"""Publishes a moving test picture as Ooblex frames, for a graph's
`zenoh_source` to take: bring frames from any Python code into a graph.

    python3 feed.py --connect tcp/127.0.0.1:7447 --key lab/python/frames
"""

import argparse
import time

import ooblex_frames


def picture(seq: int, width: int, height: int) -> bytes:
    """RGB pixels that change with `seq`: red follows x, green y, blue the frame."""
    rows = []
    for y in range(height):
        green, blue = (2 * y) % 256, (5 * seq) % 256
        rows.append(bytes(v for x in range(width) for v in ((x + seq) % 256, green, blue)))
    return b"".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connect", default="tcp/127.0.0.1:7447")
    parser.add_argument("--key", default="lab/python/frames")
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=120)
    parser.add_argument("--fps", type=float, default=15)
    parser.add_argument("--frames", type=int, default=0, help="stop after this many (0: never)")
    parser.add_argument("--garbage", action="store_true", help="also publish two messages that are not frames")
    args = parser.parse_args()

    session = ooblex_frames.session(args.connect)
    publisher = session.declare_publisher(args.key)
    time.sleep(0.5)  # let the graph's subscription reach us
    if args.garbage:
        publisher.put(b"not a frame")
        publisher.put(b"\x00" * 64, attachment=b"GIF89a, not an Ooblex header")
    seq = 0
    started = time.monotonic()
    while args.frames == 0 or seq < args.frames:
        frame = ooblex_frames.Frame("rgb24", args.width, args.height, picture(seq, args.width, args.height), seq=seq)
        frame.pts_ns = int(seq * 1e9 / args.fps)
        header, payload = ooblex_frames.encode(frame)
        publisher.put(payload, attachment=header)
        seq += 1
        time.sleep(max(0.0, started + seq / args.fps - time.monotonic()))
    session.close()


if __name__ == "__main__":
    main()
