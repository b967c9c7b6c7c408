"""`--output ndi[:NAME]`: the picture and the input audio as an NDI source on the network, for Resolume,
OBS, TouchDesigner or a streaming PC (ndi-python, whose wheel ships the NDI runtime).

vj paces the frames itself (the show's clock), so the sender does not clock video or audio: a send returns
as soon as NDI has compressed the frame.
"""

from __future__ import annotations

import numpy as np

from vj.errors import VJError
from vj.output.rig import OutputFormat, OutputFrame

INSTALL = "pip install 'vj[ndi]' (in a checkout: .venv/bin/pip install -e '.[ndi]')"


def ndi_library():
    """NDIlib, started; a one-line VJError saying how to install it, or that NDI cannot run here."""
    try:
        import NDIlib
    except ImportError:
        raise VJError(f"--output ndi needs ndi-python, which is not installed: {INSTALL}") from None
    if not NDIlib.initialize():
        raise VJError("--output ndi: the NDI runtime does not run on this CPU or system (see ndi.video)")
    return NDIlib


class NdiSink:
    """An NDI source named ``name`` sending RGBX frames of ``fmt.size`` and float audio."""

    def __init__(self, name: str, fmt: OutputFormat):
        ndi = self._ndi = ndi_library()
        self.name = f"ndi:{name}"
        create = ndi.SendCreate()
        create.ndi_name = name
        create.clock_video = False
        create.clock_audio = False
        self._sender = ndi.send_create(create)
        if self._sender is None:
            raise VJError(f"--output ndi:{name}: NDI could not create the source (is the name in use?)")
        self._video = ndi.VideoFrameV2()
        self._video.FourCC = ndi.FOURCC_VIDEO_TYPE_RGBX
        self._video.frame_rate_N, self._video.frame_rate_D = fmt.fps.numerator, fmt.fps.denominator
        self._audio = ndi.AudioFrameV2()
        self._audio.sample_rate = fmt.sample_rate
        self.delivered = 0
        """Frames sent while at least one receiver was connected."""

    def send(self, frame: OutputFrame) -> None:
        self._video.data = frame.pixels
        self._video.timecode = frame.timecode
        self._ndi.send_send_video_v2(self._sender, self._video)
        if self.receivers():
            self.delivered += 1
        if len(frame.audio):
            self._audio.data = np.ascontiguousarray(frame.audio.T, dtype=np.float32)  # NDI's audio is planar
            self._audio.timecode = frame.timecode
            self._ndi.send_send_audio_v2(self._sender, self._audio)

    def receivers(self) -> int:
        """How many receivers are connected now (0 once closed)."""
        return 0 if self._sender is None else int(self._ndi.send_get_no_connections(self._sender, 0))

    def summary(self) -> dict:
        return {"receivers": self.receivers(), "delivered": self.delivered}

    def close(self) -> None:
        if self._sender is not None:
            self._ndi.send_destroy(self._sender)
            self._sender = None  # the library stays up (NDIlib_destroy is optional): other sinks may use it
