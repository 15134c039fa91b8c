"""The command line read once into a RunConfig: what each flag means lands in one typed, frozen field."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest

from unseen.arguments import review_config, run_config
from unseen.config import PhotoOptions, Quality, RunConfig, VideoOptions, VideoPlan
from unseen.detectors.presets import FAST_CHECK_PIXELS, FAST_SEARCH_EVERY, PRESETS
from unseen.obscure import Method


def test_the_defaults_are_the_config_s_own() -> None:
    config = run_config(["a.jpg"])
    assert config == RunConfig(paths=(Path("a.jpg"),), video=VideoOptions(progress=True))
    assert config.photo == PhotoOptions() and config.quality is Quality.BALANCED


def test_each_flag_lands_in_its_field() -> None:
    config = run_config(
        ["in", "-o", "out", "--method", "pixelate", "--strength", "0.5", "--format", "jpg", "--crf", "20",
         "--no-audio", "--full-every", "2", "--regions", "r.json", "--quiet", "--overwrite", "--rename"]
    )  # fmt: skip
    assert config.output == Path("out") and config.fmt == "JPEG" and config.regions == Path("r.json")
    assert config.photo.method is Method.PIXELATE and config.photo.strength == 0.5 and config.photo.overwrite
    assert (config.video.crf, config.video.audio, config.video.full_every, config.video.progress) == (
        20,
        False,
        2,
        False,
    )
    assert config.rename and config.quiet and not config.detect_only


def test_the_quality_s_preset_decides_the_video_plan() -> None:
    fast = run_config(["in", "--quality", "fast"]).video.plan
    assert fast == PRESETS[Quality.FAST].video
    assert fast == VideoPlan(full_resolution=False, search_every=FAST_SEARCH_EVERY, check_pixels=FAST_CHECK_PIXELS)
    assert run_config(["in", "--quality", "thorough"]).video.plan == VideoPlan()


def test_review_takes_the_shared_options_and_never_renames() -> None:
    asked = review_config(["in", "-o", "out", "--regions", "d.json", "--no-browser", "--quality", "fast"])
    assert asked.regions == Path("d.json") and not asked.browser
    assert asked.run.quality is Quality.FAST and asked.run.regions is None and not asked.run.rename


def test_the_config_is_frozen_and_travels_to_ray_as_it_is() -> None:
    config = run_config(["in", "--ray", "--quality", "fast", "--no-verify"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.quiet = True  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(config)) == config
    assert config.overwriting().photo.overwrite and not config.photo.overwrite
