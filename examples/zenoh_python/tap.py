"""Reads Ooblex frames from any key of a running graph and prints one JSON
line per frame: tap an edge to look at it, or run a model of your own.

    python3 tap.py --connect tcp/127.0.0.1:7447 --key 'ooblex/python/**'

With --check-inverted it also checks that each frame is feed.py's picture
inverted (what graph.yaml does), and ends with a summary line.
"""

import argparse
import json
import time

import feed
import ooblex_frames


def wrong_pixels(frame: ooblex_frames.Frame) -> int:
    """Pixels of a few rows that are not feed.py's picture inverted."""
    expected = feed.picture(frame.seq, frame.width, frame.height)
    wrong = 0
    for y in range(0, frame.height, max(1, frame.height // 8)):
        start = y * frame.width * 3
        want = bytes(255 - v for v in expected[start : start + frame.width * 3])
        got = frame.row(y)
        wrong += sum(1 for x in range(frame.width) if got[3 * x : 3 * x + 3] != want[3 * x : 3 * x + 3])
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connect", default="tcp/127.0.0.1:7447")
    parser.add_argument("--key", default="lab/python/inverted")
    parser.add_argument("--frames", type=int, default=0, help="stop after this many (0: never)")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--check-inverted", action="store_true")
    args = parser.parse_args()

    session = ooblex_frames.session(args.connect)
    subscriber = session.declare_subscriber(args.key)
    seqs, wrong, deadline = [], 0, time.monotonic() + args.timeout
    while (args.frames == 0 or len(seqs) < args.frames) and time.monotonic() < deadline:
        sample = subscriber.try_recv()
        if sample is None:
            time.sleep(0.005)
            continue
        header = sample.attachment.to_bytes() if sample.attachment is not None else b""
        try:
            frame = ooblex_frames.decode(header, sample.payload.to_bytes())
        except ValueError as err:
            print(json.dumps({"key": str(sample.key_expr), "rejected": str(err)}), flush=True)
            continue
        if frame is None:
            continue
        age_ms = (time.time_ns() - frame.capture_ns) / 1e6
        record = {"key": str(sample.key_expr), "seq": frame.seq, "format": frame.format,
                  "width": frame.width, "height": frame.height, "age_ms": round(age_ms, 2)}
        if args.check_inverted:
            record["wrong_pixels"] = wrong_pixels(frame)
            wrong += record["wrong_pixels"]
        seqs.append(frame.seq)
        print(json.dumps(record), flush=True)
    if args.check_inverted:
        print(json.dumps({"frames": len(seqs), "seqs": seqs, "wrong_pixels": wrong}), flush=True)
    session.close()


if __name__ == "__main__":
    main()
