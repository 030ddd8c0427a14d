#!/usr/bin/env python3
"""Benchmark `rcrop.load(path, center_crop=(224, 224))` against the ways a
Python data loader gets the same crop of a JPEG. Not part of CI.

    python3 -m venv /tmp/benchenv
    /tmp/benchenv/bin/pip install . pillow numpy keras jax scipy \\
        opencv-python-headless simplejpeg
    /tmp/benchenv/bin/python bench/load.py [--count 200] [--runs 5]

Makes, once, COUNT photo-like 1024x768 JPEGs (Pillow, quality 90) in
bench/work/load/ (git-ignored), then times, in this one process, one
thread, a pass over all of them for each loader; every loader returns the
centered 224x224 window as a NumPy array:
- rcrop.load: decodes only the rows and columns the crop keeps;
- keras: `img_to_array(load_img(p))[top:top + 224, left:left + 224]`
  (Pillow, float32, as Keras' loaders do);
- Pillow: `numpy.asarray(Image.open(p).crop(box))`;
- OpenCV: `cv2.imdecode(bytes, IMREAD_COLOR)[rows, cols, ::-1]`;
- simplejpeg: `decode_jpeg(bytes)[rows, cols]`.
Each peer but Keras decodes with libjpeg-turbo, as rcrop does; the script
checks that each gives rcrop's pixels (Keras' as float32) and says where
not. Prints the median seconds of a pass and each peer's time over
rcrop's.
"""

import argparse
import os
import statistics
import time

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work", "load")
H = W = 224


def make(count):
    os.makedirs(WORK, exist_ok=True)
    paths = [os.path.join(WORK, f"img{i:04d}.jpg") for i in range(count)]
    for i, path in enumerate(paths):
        if os.path.exists(path):
            continue
        rng = np.random.default_rng(i)
        small = rng.random((26, 34, 3)) * 255
        field = Image.fromarray(small.astype(np.uint8)).resize((1024, 768), Image.BICUBIC)
        pixels = np.asarray(field, dtype=np.int16) + rng.integers(-6, 7, (768, 1024, 3))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=90)
    return paths


def window(height, width):
    """The top-left corner of the centered window, as CenterCrop places it."""
    return (height - H) // 2, (width - W) // 2


def loaders():
    import rcrop

    found = {"rcrop.load": lambda p: rcrop.load(p, center_crop=(H, W))}

    def pillow(p):
        with Image.open(p) as image:
            top, left = window(image.height, image.width)
            return np.asarray(image.crop((left, top, left + W, top + H)))

    found["Pillow"] = pillow
    try:
        os.environ.setdefault("KERAS_BACKEND", "numpy")
        from keras.utils import img_to_array, load_img

        def keras(p):
            x = img_to_array(load_img(p))
            top, left = window(*x.shape[:2])
            return x[top : top + H, left : left + W]

        found["keras load_img"] = keras
    except ImportError:
        print("bench: keras not installed; its row is left out")
    try:
        import cv2

        cv2.setNumThreads(1)

        def opencv(p):
            x = cv2.imdecode(np.fromfile(p, np.uint8), cv2.IMREAD_COLOR)
            top, left = window(*x.shape[:2])
            return x[top : top + H, left : left + W, ::-1]

        found["OpenCV"] = opencv
    except ImportError:
        print("bench: opencv-python-headless not installed; its row is left out")
    try:
        import simplejpeg

        def simple(p):
            with open(p, "rb") as f:
                x = simplejpeg.decode_jpeg(f.read())
            top, left = window(*x.shape[:2])
            return x[top : top + H, left : left + W]

        found["simplejpeg"] = simple
    except ImportError:
        print("bench: simplejpeg not installed; its row is left out")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    paths = make(args.count)
    tools = loaders()
    reference = [tools["rcrop.load"](p) for p in paths[:20]]
    same = {}
    for name, load in tools.items():
        same[name] = all(np.array_equal(load(p), r) for p, r in zip(paths, reference))
    times = {name: [] for name in tools}
    for _ in range(args.runs):
        for name, load in tools.items():
            start = time.perf_counter()
            for p in paths:
                load(p)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["rcrop.load"])
    print(f"{args.count} JPEGs of 1024x768 (quality 90), centered 224x224, "
          f"one thread, median of {args.runs} passes")
    print("| loader | seconds | time over rcrop's | rcrop's pixels |")
    print("| --- | --- | --- | --- |")
    for name, t in times.items():
        median = statistics.median(t)
        print(f"| {name} | {median:.3f} | {median / base:.2f}x | "
              f"{'yes' if same[name] else 'no'} |")


if __name__ == "__main__":
    main()
