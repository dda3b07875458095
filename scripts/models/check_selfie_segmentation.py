#!/usr/bin/env python3
"""Compare models/selfie_segmentation.onnx with MediaPipe's own selfie segmentation.

Usage:
    python3 scripts/models/check_selfie_segmentation.py --image PHOTO.png \
        [--model models/selfie_segmentation.onnx] [--tolerance 1e-3]

Requirements (PyPI): mediapipe==0.10.21 (brings opencv and numpy), onnxruntime.
A separate virtual environment is advisable because mediapipe pins numpy < 2.

The photo is resized to 256x256 first, so MediaPipe's letterbox/resize steps
are identities and both sides see the same pixels:
  * reference: mediapipe.solutions.selfie_segmentation.SelfieSegmentation
    (model_selection=0, the 256x256 general model) on the uint8 RGB image;
  * candidate: the ONNX model in ONNX Runtime on the same image as a
    1x256x256x3 float32 NHWC tensor with values pixel / 255.
Prints the max and mean absolute difference of the two masks and the mean
mask inside a central box (person, for a portrait) and in the top-right
corner (background). Exits non-zero when the max difference exceeds
--tolerance.
"""

import argparse
import sys

import cv2
import mediapipe as mp
import numpy as np
import onnxruntime as ort

SIZE = 256


def load_rgb(path):
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    bgr = cv2.resize(bgr, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def mediapipe_mask(rgb):
    solution = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
    with solution as segmenter:
        return segmenter.process(rgb).segmentation_mask.astype(np.float32)


def onnx_mask(model_path, rgb):
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    print(f"onnx input  {inp.name} {inp.shape}\nonnx output {out.name} {out.shape}")
    tensor = (rgb.astype(np.float32) / 255.0)[None]  # 1xHxWx3, NHWC, 0..1
    return session.run([out.name], {inp.name: tensor})[0][0, :, :, 0]


def region_means(mask):
    h, w = mask.shape
    person = mask[int(0.25 * h): int(0.75 * h), int(0.30 * w): int(0.60 * w)].mean()
    background = mask[: int(0.12 * h), int(0.88 * w):].mean()
    return person, background


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", required=True, help="RGB photo of one person")
    parser.add_argument("--model", default="models/selfie_segmentation.onnx")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="max allowed abs difference")
    args = parser.parse_args()

    rgb = load_rgb(args.image)
    reference = mediapipe_mask(rgb)
    candidate = onnx_mask(args.model, rgb)
    diff = np.abs(reference - candidate)
    print(f"mask shape {candidate.shape}, max |diff| {diff.max():.3g}, mean |diff| {diff.mean():.3g}")
    for name, mask in (("mediapipe", reference), ("onnx", candidate)):
        person, background = region_means(mask)
        print(f"{name:9s}: mean mask person box {person:.4g}, top-right background {background:.4g}")
    ok = diff.max() <= args.tolerance
    print("OK" if ok else f"FAIL: max difference above {args.tolerance}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
