"""Photo -> the image model's input array, with Pillow + numpy only (no torch, no torchvision).

The exporter (``trainer.export.image``) feeds exactly these arrays to PyTorch and to the ONNX
model when it checks parity, so what the app computes at run time is what was verified.

Pipeline (defaults are EfficientNet-Lite0's, written into the model's metadata.json):

1. decode, apply the EXIF orientation, convert any mode (L, P, CMYK, RGBA, 16-bit) to 8-bit RGB;
2. resize the shorter side to ``resize`` = 256 (= 224 / 0.875) with Pillow's antialiased
   bilinear filter, then center-crop ``size`` x ``size`` = 224 (the usual 87.5 % eval crop);
3. ``(x - 127) / 128`` per channel -> float32 [3, size, size].

Why (x - 127) / 128 and not the ImageNet mean/std: these weights are a port of the TF
EfficientNet-Lite checkpoints, trained on inputs in [-1, 1].  Measured on real photos: the
first BatchNorm's running variance matches the stem activations with (x-127)/128 (median
variance ratio 0.99, correlation of means 0.986) but not with ImageNet mean/std (ratio 4.9,
correlation 0.74).  Top-1s are close either way (BatchNorm absorbs much of it), but
(x-127)/128 is what the network was trained on.

JPEG DCT scaling (Pillow's ``draft``, ``Preprocessing.draft_to``): libjpeg decodes a JPEG at
1/2, 1/4 or 1/8 scale, the smallest whose both sides stay >= ``draft_to``; the resize and crop
then run as above.  The app decodes this way at the model's size (``draft_to = resize`` = 256: a
4000 x 3000 photo is decoded at 500 x 375; ``tagassist.suggest.featurize.DRAFT_DECODE``).
Measured (docs/decode.md, ``tests/bench/bench_decode_accuracy.py``): decode + crop of a 12 MP
JPEG ~5x faster (156-168 -> 30-34 ms); on the 204 tagged COCO photos at camera size no P@5 lost
anything measurable (paired per photo, 95 % intervals: cold start +0.010 [+0.001, +0.019], image
words -0.002 [-0.009, +0.005], look-alikes -0.003 [-0.013, +0.007]), though single outputs move
(embedding cosine to the full decode 0.996 median; top-1 class kept on 92 %).  An earlier
judgement on 30 photos (top-1 changed on 2) had kept it off; an ordinary JPEG q90 re-encode of a
photo changes top-1 as often (16 % of 25 camera photos), and what the app serves did not move.
This module's default stays the full decode, the reference the exporter checks parity with
(``trainer.export.image``); the image encoder picks, and the stored features' version says which
(``2+draft256``), so a library never mixes the two.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from tagassist.media.errors import MediaError
from tagassist.media.photos import open_image
from tagassist.media.thumbnails import _to_rgb

IMAGE_SIZE = 224
RESIZE = 256
MEAN = (127.0, 127.0, 127.0)
STD = (128.0, 128.0, 128.0)

ImageSource = str | os.PathLike[str] | Image.Image


def load_rgb(src: ImageSource, *, draft_to: int | None = None) -> Image.Image:
    """Decode ``src`` to an upright 8-bit RGB image.  Raises MediaError if it cannot.

    A path is opened by its real format (magic bytes) with the decompression-bomb guard of
    ``tagassist.media.photos``; a Pillow image is used as it is.  ``draft_to`` asks libjpeg to
    decode a JPEG at the smallest DCT scale whose both sides stay >= ``draft_to``.
    """
    if isinstance(src, Image.Image):
        img, owned = src, False
    else:
        img, _sniffed = open_image(src)
        owned = True
    fmt = img.format or "image"
    try:
        if draft_to and fmt == "JPEG":
            img.draft("RGB", (draft_to, draft_to))
        img.load()
        try:
            upright = ImageOps.exif_transpose(img)
        except Exception:  # noqa: BLE001 - garbage orientation tag: keep stored orientation
            upright = img.copy()
        return _to_rgb(upright)
    except MediaError:
        raise
    except Exception as e:  # noqa: BLE001 - decoders raise many types on hostile data
        if "truncated" in str(e).lower() or isinstance(e, EOFError):
            raise MediaError(f"truncated {fmt} image") from e
        raise MediaError(f"cannot decode {fmt} image: {e}") from e
    finally:
        if owned:
            img.close()


def resize_and_crop(img: Image.Image, size: int = IMAGE_SIZE, resize: int = RESIZE
                    ) -> Image.Image:
    """Shorter side -> ``resize`` (antialiased bilinear), then the central ``size`` square.

    Only the cropped region is resampled (Pillow's ``box``): the same sampling grid and filter
    as resizing the whole photo and cropping after (pixels differ by at most 2/255 from the
    intermediate rounding; measured on 71 real photos), at ~half the time and without the
    memory a long panorama would take.
    """
    w, h = img.size
    scale = resize / min(w, h)
    nw, nh = max(resize, round(w * scale)), max(resize, round(h * scale))
    left, top = (nw - size) // 2, (nh - size) // 2
    sx, sy = w / nw, h / nh
    box = (left * sx, top * sy, (left + size) * sx, (top + size) * sy)
    return img.resize((size, size), Image.Resampling.BILINEAR, box=box)


def normalize(rgb: np.ndarray, mean: tuple[float, ...] = MEAN, std: tuple[float, ...] = STD
              ) -> np.ndarray:
    """uint8 [H, W, 3] -> float32 [3, H, W], ``(x - mean) / std`` per channel."""
    x = rgb.astype(np.float32)
    x -= np.asarray(mean, dtype=np.float32)
    x /= np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


@dataclass(frozen=True)
class Preprocessing:
    """How a photo becomes the model's input: a small, picklable value (decode workers get it).

    ``draft_to``: decode a JPEG at the smallest DCT scale whose both sides stay >= it (``None``:
    full decode); the app uses ``resize`` (see the module doc).
    """

    size: int = IMAGE_SIZE
    resize: int = RESIZE
    mean: tuple[float, ...] = MEAN
    std: tuple[float, ...] = STD
    draft_to: int | None = None

    def __post_init__(self) -> None:
        if self.resize < self.size:
            raise ValueError(f"resize ({self.resize}) must be >= size ({self.size})")
        if self.draft_to is not None and self.draft_to < self.resize:
            raise ValueError(f"draft_to ({self.draft_to}) must be >= resize ({self.resize}): "
                             "a smaller decode would be upscaled")

    @property
    def decode(self) -> str:
        """How photos are decoded, as stored with their features: "full" or "draft256"."""
        return "full" if self.draft_to is None else f"draft{self.draft_to}"

    def crop(self, src: ImageSource) -> np.ndarray:
        """uint8 [size, size, 3]: decoded, upright, resized and cropped.  Raises MediaError."""
        img = load_rgb(src, draft_to=self.draft_to)
        return np.asarray(resize_and_crop(img, self.size, self.resize))

    def finish(self, crop: np.ndarray) -> np.ndarray:
        """A :meth:`crop` -> the model input, float32 [3, size, size]."""
        return normalize(crop, self.mean, self.std)

    def array(self, src: ImageSource) -> np.ndarray:
        """The model input for one photo, float32 [3, size, size].  Raises MediaError."""
        return self.finish(self.crop(src))


def image_to_array(src: ImageSource, *, size: int = IMAGE_SIZE, resize: int = RESIZE,
                   mean: tuple[float, ...] = MEAN, std: tuple[float, ...] = STD,
                   draft: bool = False) -> np.ndarray:
    """The model input for one photo: float32 [3, size, size].  Raises MediaError.

    ``draft=True`` decodes JPEGs with DCT scaling to a short side >= ``resize`` (module doc).
    """
    spec = Preprocessing(size, resize, tuple(mean), tuple(std), resize if draft else None)
    return spec.array(src)
