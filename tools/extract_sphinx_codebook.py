"""Extract the average voice's codebook from pocketsphinx's en-us acoustic model (once; the output is committed).

    python tools/extract_sphinx_codebook.py [MODEL_DIR] [tools/candidates/sphinx_codebook.npy]

The model (CMU Sphinx / Alpha Cephei, BSD-2-Clause-style licence, shipped in the `pocketsphinx` wheel under
pocketsphinx/model/en-us/en-us/) is a phonetically tied mixture (PTM) model: 42 codebooks (one per
context-independent phone and noise) of 128 diagonal Gaussians over three streams (13 MFCC statics, their
deltas, their delta-deltas), trained on many speakers with cepstral mean normalisation. Only the statics'
means and variances are kept: each mean is a many-speaker ("average voice") cepstral envelope of one part
of one phone. The output is one float32 array, 2 × 42 × 128 × 13 (means, then variances), deterministic byte for byte.
The candidate `tools/candidates/codebook.py` reads the .npy beside it and never needs pocketsphinx.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np

_MAGIC = 0x11223344  # Sphinx's byte-order mark after the text header


def read_gauden(path: Path) -> np.ndarray:
    """A Sphinx-3 Gaussian parameter file (means or variances) as codebooks × streams × densities × dims."""
    data = path.read_bytes()
    start = data.index(b"endhdr\n") + len(b"endhdr\n")
    (magic,) = struct.unpack_from("<i", data, start)
    order = "<" if magic == _MAGIC else ">"
    n_mgau, n_feat, n_density = struct.unpack_from(order + "3i", data, start + 4)
    veclen = struct.unpack_from(order + f"{n_feat}i", data, start + 16)
    if len(set(veclen)) != 1:
        raise ValueError(f"{path}: streams of different lengths {veclen}")
    offset = start + 16 + 4 * n_feat
    (count,) = struct.unpack_from(order + "i", data, offset)
    if count != n_mgau * n_feat * n_density * veclen[0]:
        raise ValueError(f"{path}: {count} values for {n_mgau}×{n_feat}×{n_density}×{veclen[0]}")
    values = np.frombuffer(data, dtype=np.dtype(np.float32).newbyteorder(order), count=count, offset=offset + 4)
    return values.reshape(n_mgau, n_feat, n_density, veclen[0]).astype(np.float32)


def main(argv: list[str]) -> int:
    if argv:
        model = Path(argv[0])
    else:
        import pocketsphinx  # only this tool needs it

        model = Path(pocketsphinx.get_model_path()) / "en-us" / "en-us"
    default = Path(__file__).resolve().parent / "candidates" / "sphinx_codebook.npy"
    out = Path(argv[1]) if len(argv) > 1 else default
    means = read_gauden(model / "means")[:, 0]  # the statics' stream: 42 × 128 × 13
    variances = read_gauden(model / "variances")[:, 0]
    np.save(out, np.stack([means, variances]).astype("<f4"))
    print(f"{out}: means and variances, {means.shape} each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
