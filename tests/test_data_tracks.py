"""Location tracks inside a video: a GoPro GPS stream (gpmd) and Google's camera motion metadata (camm) are dropped.

Action cameras and phones record where they were, many times a second, in a timed data track beside the picture:
GoPro's GPMF in a 'gpmd' track, Street View cameras and apps in a 'camm' one. The clips are made here with PyAV:
FFmpeg's MP4 muxer writes a binary data stream as a 'gpmd' track; a 'camm' one is that track with its sample entry
(and FFmpeg's matching header box) renamed, the two being laid out alike. exiftool reads the GPS out of both inputs
(-ee: the embedded streams); the outputs must hold neither the track nor a trace of what it said.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import pytest
from test_video import exiftool, protect, scene, write_clip

from unseen.faces import Detector
from unseen.video import video_detector

LATITUDE, LONGITUDE, ALTITUDE = 48.8584, 2.2945, 35.0
# What the tracks say, as exiftool prints it and as it lies in the file.
SHOWN = ["GPS Latitude", "GPS Longitude", "48 deg 51", "GoPro", "gpmd", "camm", "Camera Motion", "CameraMetadata"]
RAW = [b"gpmd", b"camm", b"GPS5", b"DEVC", b"GoPro", struct.pack("<d", LATITUDE), struct.pack(">l", 488584000)]


@pytest.fixture(scope="module")
def detector() -> Detector:
    return video_detector()


def _klv(key: bytes, kind: bytes, size: int, values: bytes, repeat: int) -> bytes:
    """One GPMF entry: a key, a type, the size of one sample, how many, and the values padded to 4 bytes."""
    return key + kind + bytes([size]) + struct.pack(">H", repeat) + values + bytes(-len(values) % 4)


def _nested(key: bytes, *entries: bytes) -> bytes:
    body = b"".join(entries)
    return key + b"\x00\x04" + struct.pack(">H", len(body) // 4) + body


def gpmf() -> bytes:
    """A GoPro device block with one GPS5 sample (latitude, longitude, altitude, 2D and 3D speed, scaled)."""
    name = b"GPS (Lat., Long., Alt., 2D speed, 3D speed)"
    gps = struct.pack(">5l", round(LATITUDE * 1e7), round(LONGITUDE * 1e7), round(ALTITUDE * 1000), 0, 0)
    stream = _nested(
        b"STRM",
        _klv(b"STNM", b"c", len(name), name, 1),
        _klv(b"GPSF", b"L", 4, struct.pack(">L", 3), 1),
        _klv(b"SCAL", b"l", 4, struct.pack(">5l", 10_000_000, 10_000_000, 1000, 1000, 100), 5),
        _klv(b"GPS5", b"l", 20, gps, 1),
    )
    device = (_klv(b"DVID", b"L", 4, struct.pack(">L", 1), 1), _klv(b"DVNM", b"c", 5, b"GoPro", 1))
    return _nested(b"DEVC", *device, stream)


def camm() -> bytes:
    """A camm packet of type 5: latitude, longitude and altitude (little-endian doubles)."""
    return struct.pack("<HH3d", 0, 5, LATITUDE, LONGITUDE, ALTITUDE)


def with_track(path: Path, kind: str) -> None:
    """A 15-frame clip of the astronaut with sound, and a data track of `kind` holding a position every 100 ms."""
    images, _ = scene(15)
    write_clip(path, images, audio=True)
    payload, handler = (gpmf(), "GoPro MET") if kind == "gpmd" else (camm(), "CameraMetadataMotionHandler")
    clip = path.with_name(f"clip{path.suffix}")
    path.rename(clip)
    with av.open(str(clip)) as source, av.open(str(path), "w") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in source.streams}
        data = out.add_mux_stream("bin_data")  # FFmpeg's MP4 muxer writes it as a 'gpmd' track
        data.metadata["handler_name"] = handler
        for packet in source.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
        for index in range(5):
            packet = av.Packet(payload)
            packet.stream, packet.time_base = data, Fraction(1, 1000)
            packet.pts = packet.dts = 100 * index
            packet.duration = 100
            out.mux(packet)
    clip.unlink()
    if kind == "camm":  # the sample entry, and the header box FFmpeg writes for a gpmd track beside it
        written = path.read_bytes()
        assert written.count(b"gpmd") == 2
        path.write_bytes(written.replace(b"gpmd", b"camm"))


@pytest.mark.parametrize("kind", ["gpmd", "camm"])
def test_a_location_track_is_dropped_and_leaves_no_trace(tmp_path: Path, detector: Detector, kind: str) -> None:
    source = tmp_path / "GOPR0042.MP4"
    with_track(source, kind)
    with av.open(str(source)) as container:
        assert [s.type for s in container.streams] == ["video", "audio", "data"]
    found = exiftool(source)
    assert f"Meta Format                     : {kind}" in found  # the input does carry the track
    assert "GPS Latitude                    : 48 deg 51' 30.24\" N" in found  # and exiftool reads it
    report = protect(source, tmp_path / "out", detector)
    assert report.status == "done", report.reason
    output = Path(report.output or "")
    assert output.suffix == source.suffix
    with av.open(str(output)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert sum(1 for _ in container.decode(video=0)) == 15
    text, raw = exiftool(output), output.read_bytes()
    assert not [shown for shown in SHOWN if shown in text], text
    assert not [needle for needle in RAW if needle in raw]
    assert "NRT Metadata" not in text and "Track3" not in text  # no metadata track left, even empty
