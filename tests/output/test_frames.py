"""PNG frames must round-trip exactly: they are the lossless way out of a render."""

from pathlib import Path

import av
import numpy as np

from vj.output.frames import PngWriter


def test_png_round_trips_pixels_exactly(tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    writer = PngWriter(tmp_path / "frames" / "nested")
    path = writer.write(123, rgb)
    assert path == tmp_path / "frames" / "nested" / "frame_000123.png"
    assert sorted(p.name for p in path.parent.iterdir()) == ["frame_000123.png"]
    with av.open(str(path)) as container:
        (frame,) = list(container.decode(video=0))
    np.testing.assert_array_equal(frame.to_ndarray(format="rgb24"), rgb)


def test_png_overwrites_same_index(tmp_path: Path) -> None:
    writer = PngWriter(tmp_path)
    writer.write(0, np.zeros((4, 6, 3), np.uint8))
    path = writer.write(0, np.full((4, 6, 3), 7, np.uint8))
    with av.open(str(path)) as container:
        assert next(container.decode(video=0)).to_ndarray(format="rgb24").max() == 7
