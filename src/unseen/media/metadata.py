"""The allowlist of what may survive in an output file, and why.

Outputs are written from decoded pixels alone, with every writer option that could carry metadata left
unset, so nothing is copied from the input by accident: what is not listed here is not written. This is
checked by the tests with exiftool on inputs crafted with GPS, a thumbnail, maker notes, XMP, IPTC,
comments and PNG text chunks.
"""

from __future__ import annotations

# Per output format: what the file holds beyond its pixels, and why it is allowed.
ALLOWLIST: dict[str, dict[str, str]] = {
    "JPEG": {
        "JFIF header": "version and a 1:1 pixel aspect with no density; needed by decoders, says nothing",
        "quantisation and Huffman tables": "the encoding itself, written fresh by the encoder",
    },
    "PNG": {
        "IHDR, IDAT, IEND, PLTE/tRNS": "size, bit depth, pixels and transparency",
    },
    "WEBP": {
        "RIFF/VP8 or VP8L or VP8X chunks": "size, pixels and the alpha flag",
    },
    "TIFF": {
        "baseline structure tags": "size, samples, compression, strip layout, photometric interpretation",
    },
}

# What is deliberately not kept, though a careful user might expect it.
DROPPED_ON_PURPOSE: dict[str, str] = {
    "EXIF orientation": "applied to the pixels instead, so the output shows as the input did",
    "ICC colour profile": "pixels are converted to sRGB instead: profiles can name a device and a date",
    "DPI / resolution": "can hint at the scanner or camera; it does not change what is shown",
    "animation frames after the first, MPO depth maps and previews": "never written; see the reader",
}
