#!/usr/bin/env python3
"""Run models/nanodet_g.onnx in ONNX Runtime on a few pictures and print the detections.

Usage:
    python3 scripts/models/check_object_detector.py [IMAGE ...] \
        [--manifest models/nanodet_g.yaml] [--score 0.4] [--iou 0.5]

Without IMAGE arguments it uses astronaut.png, coffee.png and chelsea.png from
the data folder of an installed scikit-image (or --data-dir).

Requirements (PyPI): onnxruntime, numpy, pyyaml, pillow (only to read PNG/JPEG).

The pipeline is NanoDet's own deployment recipe (its ncnn/OpenVINO demos and
GFLHead.get_bboxes), written out in plain numpy so that it can be ported as is:

  pre-processing
    * letterbox: scale = min(W_in / w, H_in / h); the picture is resized with
      bilinear interpolation (half-pixel centres, no antialiasing, as
      cv2.resize INTER_LINEAR) to floor(w * scale) x floor(h * scale) (the side
      that fits exactly keeps W_in/H_in) and placed centred at
      (floor((W_in - nw) / 2), floor((H_in - nh) / 2)) on a canvas of pixel
      value 0;
    * channels in B, G, R order; tensor = (pixel - mean) / std with
      mean = [103.53, 116.28, 123.675], std = [57.375, 57.12, 58.395]
      (pixel 0..255, values per tensor channel B, G, R); layout NCHW.
  decoding, for each stride s in (8, 16, 32) with grid n = 416 / s
    * cls_s{s} [1, n*n, 80] already holds sigmoid scores; row i is the cell
      x = i % n, y = i // n, centre cx = (x + 0.5) * s, cy = (y + 0.5) * s;
    * a cell yields one candidate: its best class, if that score > --score;
    * reg_s{s} [1, n*n, 44] = 4 sides (left, top, right, bottom) x 11 logits;
      d_k = s * sum_i(i * softmax(logits_k)_i), i = 0..10;
    * box = (cx - d_l, cy - d_t, cx + d_r, cy + d_b), clipped to 0..416.
  then NMS per class (sorted by score, drop a box whose IoU with a kept box of
  the same class is > --iou), and the box is mapped back to the picture:
  x_img = (x - pad_x) / scale, y_img = (y - pad_y) / scale, clipped.
"""

import argparse
import os
import sys

try:
    import numpy as np
    import onnxruntime as ort
    import yaml
    from PIL import Image
except ImportError as err:  # pragma: no cover - message for a missing package
    raise SystemExit(f"missing Python package: {err.name or err} (pip install onnxruntime numpy pyyaml pillow)")

STRIDES = (8, 16, 32)
REG_MAX = 10
DEFAULT_IMAGES = ("astronaut.png", "coffee.png", "chelsea.png")


def skimage_data_dir():
    try:
        import skimage.data

        return os.path.dirname(skimage.data.__file__)
    except ImportError:
        return None


def resize_bilinear(img, out_w, out_h):
    """Bilinear resize of an HxWxC float array, half-pixel centres, edge clamp, no antialias."""
    h, w = img.shape[:2]
    ys = np.clip((np.arange(out_h) + 0.5) * h / out_h - 0.5, 0, h - 1)
    xs = np.clip((np.arange(out_w) + 0.5) * w / out_w - 0.5, 0, w - 1)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    wy = (ys - y0)[:, None, None]
    wx = (xs - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bottom = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


def letterbox(rgb, in_w, in_h):
    """Returns the in_h x in_w x 3 canvas (RGB, 0..255), the scale and the padding."""
    h, w = rgb.shape[:2]
    if w / h > in_w / in_h:
        nw, nh = in_w, int(np.floor(in_w / w * h))
    elif w / h < in_w / in_h:
        nw, nh = int(np.floor(in_h / h * w)), in_h
    else:
        nw, nh = in_w, in_h
    pad_x, pad_y = (in_w - nw) // 2, (in_h - nh) // 2
    canvas = np.zeros((in_h, in_w, 3), np.float32)
    canvas[pad_y:pad_y + nh, pad_x:pad_x + nw] = resize_bilinear(rgb.astype(np.float32), nw, nh)
    return canvas, nw / w, nh / h, pad_x, pad_y


def to_tensor(canvas_rgb, spec):
    img = canvas_rgb[..., ::-1] if spec["channels"] == "bgr" else canvas_rgb
    img = (img - np.asarray(spec["mean"], np.float32)) / np.asarray(spec["std"], np.float32)
    if spec["layout"] == "nchw":
        img = img.transpose(2, 0, 1)
    return np.ascontiguousarray(img[None], dtype=np.float32)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def decode(outputs, in_w, in_h, score_thr):
    """outputs: name -> array. Returns rows (x1, y1, x2, y2, score, class) in input pixels."""
    rows = []
    for s in STRIDES:
        nx, ny = in_w // s, in_h // s
        cls = outputs[f"cls_s{s}"][0]  # [n, 80], sigmoid applied
        reg = outputs[f"reg_s{s}"][0].reshape(-1, 4, REG_MAX + 1)
        best = cls.argmax(axis=1)
        score = cls[np.arange(len(cls)), best]
        idx = np.nonzero(score > score_thr)[0]
        if idx.size == 0:
            continue
        dist = (softmax(reg[idx]) * np.arange(REG_MAX + 1)).sum(-1) * s  # [k, 4] l, t, r, b
        cx = (idx % nx + 0.5) * s
        cy = (idx // nx + 0.5) * s
        x1 = np.clip(cx - dist[:, 0], 0, in_w)
        y1 = np.clip(cy - dist[:, 1], 0, in_h)
        x2 = np.clip(cx + dist[:, 2], 0, in_w)
        y2 = np.clip(cy + dist[:, 3], 0, in_h)
        rows.append(np.stack([x1, y1, x2, y2, score[idx], best[idx]], 1))
    return np.concatenate(rows) if rows else np.zeros((0, 6), np.float32)


def iou(box, boxes):
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / np.maximum(area(box) + area(boxes) - inter, 1e-9)


def nms_per_class(dets, iou_thr):
    keep = []
    for c in np.unique(dets[:, 5]):
        d = dets[dets[:, 5] == c]
        d = d[np.argsort(-d[:, 4], kind="stable")]
        while len(d):
            keep.append(d[0])
            d = d[1:][iou(d[0], d[1:]) <= iou_thr]
    keep.sort(key=lambda r: -r[4])
    return np.array(keep).reshape(-1, 6)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("images", nargs="*")
    ap.add_argument("--manifest", default=os.path.join(here, "..", "..", "models", "nanodet_g.yaml"))
    ap.add_argument("--data-dir", default=skimage_data_dir(), help="folder of the default pictures")
    ap.add_argument("--score", type=float, default=0.4, help="class score threshold (NanoDet demo: 0.4)")
    ap.add_argument("--iou", type=float, default=0.5, help="NMS IoU threshold (NanoDet demo: 0.5)")
    args = ap.parse_args()

    with open(args.manifest) as f:
        man = yaml.safe_load(f)
    if man.get("decoder") != "nanodet":
        raise SystemExit(f"{args.manifest}: decoder {man.get('decoder')!r} is not handled here")
    model_path = os.path.join(os.path.dirname(args.manifest), man["file"])
    spec, labels = man["input"], man["labels"]
    in_w, in_h = spec["width"], spec["height"]

    images = args.images
    if not images:
        if not args.data_dir:
            raise SystemExit("no images given and scikit-image is not installed (use --data-dir)")
        images = [os.path.join(args.data_dir, n) for n in DEFAULT_IMAGES]

    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    for path in images:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        h, w = rgb.shape[:2]
        canvas, sx, sy, pad_x, pad_y = letterbox(rgb, in_w, in_h)
        outputs = dict(zip(names, session.run(None, {spec["name"]: to_tensor(canvas, spec)})))
        dets = nms_per_class(decode(outputs, in_w, in_h, args.score), args.iou)
        print(f"{os.path.basename(path)} ({w}x{h}): {len(dets)} detection(s)")
        for x1, y1, x2, y2, score, c in dets:
            bx = [(x1 - pad_x) / sx, (y1 - pad_y) / sy, (x2 - pad_x) / sx, (y2 - pad_y) / sy]
            bx = [min(max(v, 0), lim) for v, lim in zip(bx, (w, h, w, h))]
            print(f"  {labels[int(c)]:<14} {score:.3f}  x1={bx[0]:.0f} y1={bx[1]:.0f} x2={bx[2]:.0f} y2={bx[3]:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
