"""`--output v4l2[:/dev/videoN]`: the picture as a webcam (a v4l2loopback device, through pyvirtualcam),
for OBS, a video call or a browser. Linux only; Windows and macOS have Spout and Syphon."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from vj.errors import VJError
from vj.output.rig import OutputFormat, OutputFrame

CREATE = "sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=vj"


def loopback_devices() -> list[Path]:
    """The v4l2loopback devices of this machine (their driver names itself in sysfs)."""
    found = []
    for device in sorted(Path("/sys/class/video4linux").glob("video*")):
        if (device / "device" / "driver").resolve().name == "v4l2loopback":
            found.append(Path("/dev") / device.name)
    return found


class VirtualCamera:
    """Frames of ``fmt.size`` to ``device`` (None: the first loopback device)."""

    def __init__(self, device: str | None, fmt: OutputFormat):
        if not sys.platform.startswith("linux"):
            raise VJError("--output v4l2 is a Linux virtual camera; on Windows use --output spout, on macOS "
                          "--output syphon, anywhere --output ndi")
        try:
            import pyvirtualcam
        except ImportError:
            raise VJError("--output v4l2 needs pyvirtualcam: pip install 'vj[v4l2]'") from None
        if device is None:
            devices = loopback_devices()
            if not devices:
                raise VJError(f"--output v4l2: no v4l2loopback device on this machine; create one with `{CREATE}`")
            device = str(devices[0])
        elif not Path(device).exists():
            raise VJError(f"--output v4l2:{device}: no such device; create a loopback one with `{CREATE}`")
        self.name = f"v4l2:{device}"
        width, height = fmt.size
        try:
            self._camera = pyvirtualcam.Camera(width, height, float(fmt.fps), device=device,
                                               backend="v4l2loopback", fmt=pyvirtualcam.PixelFormat.RGB)
        except (RuntimeError, ValueError) as error:
            raise VJError(f"--output v4l2:{device}: {error} (is it a v4l2loopback device? `{CREATE}`)") from None

    def send(self, frame: OutputFrame) -> None:
        self._camera.send(np.ascontiguousarray(frame.pixels[..., :3]))

    def summary(self) -> dict:
        return {"device": self._camera.device}

    def close(self) -> None:
        self._camera.close()
