"""Contact sheets: a few frames of a preset over a short render of music, side by side in one PNG.

`vj presets show` draws them so a performer can see a preset before a show, and the docs' sheet of every
preset is drawn the same way. Frames come from the real pipeline (analysis, engine, look) over every
frame of the span, so trails and the strobe are as a render would have them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import moderngl
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vj.audio.decode import open_audio
from vj.audio.features import FeatureTable
from vj.audio.report import analyze_source
from vj.control.standard import show_params
from vj.errors import VJError
from vj.look.headless import OffscreenTarget, headless_context
from vj.presets import Preset
from vj.render.pipeline import FramePipeline
from vj.render.settings import internal_size
from vj.resources import resource_dir
from vj.timebase import Timebase

SHEET_FPS = Fraction(30)
LABEL_WIDTH = 200


@dataclass(frozen=True)
class SheetSpan:
    """Which music and which moments: ``count`` frames evenly over ``seconds`` from ``start_s``."""

    audio: Path = resource_dir("assets") / "demo.ogg"
    start_s: float = 16.0
    seconds: float = 8.0
    count: int = 6
    size: tuple[int, int] = (256, 144)


def analyse(audio: Path, progress: bool = False) -> FeatureTable:
    """The features of ``audio`` at the sheet's frame rate (`vj evolve` plays them too)."""
    table, _, _ = analyze_source(open_audio(audio), Timebase(SHEET_FPS), progress)
    if len(table) == 0:
        raise VJError(f"{audio}: no audio in it to render over")
    return table


def preset_pictures(preset: Preset, table: FeatureTable, first: int, last: int, size: tuple[int, int],
                    ctx: moderngl.Context, device: str = "cpu") -> Iterator[tuple[int, np.ndarray]]:
    """(frame index, RGB picture) for every frame from ``first`` to ``last`` (exclusive) of ``preset``,
    rendered from the start of its span (the parameters integrate from t = 0, as in a render)."""
    pipeline = FramePipeline(preset, device, ctx)
    params = show_params(preset)
    target = OffscreenTarget(ctx, *size)
    internal = internal_size(*size, 0.5)
    try:
        for n in range(first, min(last, len(table))):
            params.advance(table[n].time)
            pipeline.draw(table[n], internal, target.framebuffer, params)
            yield n, target.read()
    finally:
        target.release()
        pipeline.release()


def sheet_frames(preset: Preset, table: FeatureTable, span: SheetSpan, ctx: moderngl.Context) -> list[np.ndarray]:
    """The ``span.count`` pictures of ``preset`` a contact sheet shows."""
    first = min(round(span.start_s * float(SHEET_FPS)), max(len(table) - 1, 0))
    last = min(first + max(1, round(span.seconds * float(SHEET_FPS))), len(table))
    wanted = set(np.linspace(first, last - 1, span.count).round().astype(int).tolist())
    return [picture for n, picture in preset_pictures(preset, table, first, last, span.size, ctx) if n in wanted]


def draw_sheet(rows: list[tuple[str, str, list[np.ndarray]]], path: Path) -> None:
    """One row per preset: its name and description, then its frames."""
    height, width = rows[0][2][0].shape[:2]
    gap = 4
    columns = max(len(frames) for _, _, frames in rows)
    sheet = Image.new("RGB", (LABEL_WIDTH + columns * (width + gap), len(rows) * (height + gap)), (12, 12, 14))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for row, (name, description, frames) in enumerate(rows):
        top = row * (height + gap)
        draw.text((10, top + 10), name, fill=(240, 240, 240), font=font)
        words, line, y = description.split(), "", top + 30
        for word in words:  # wrap the description to the label column
            if draw.textlength(f"{line} {word}", font=font) > LABEL_WIDTH - 20 and line:
                draw.text((10, y), line, fill=(150, 150, 160), font=font)
                line, y = word, y + 14
            else:
                line = f"{line} {word}".strip()
        draw.text((10, y), line, fill=(150, 150, 160), font=font)
        for column, frame in enumerate(frames):
            sheet.paste(Image.fromarray(frame), (LABEL_WIDTH + column * (width + gap), top))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        sheet.save(path)
    except (OSError, ValueError) as error:
        raise VJError(f"{path}: cannot write the contact sheet ({error})") from None


def contact_sheet(presets: list[Preset], path: Path, span: SheetSpan = SheetSpan(), progress: bool = True) -> None:
    """Draw the sheet of ``presets`` over ``span`` into ``path`` (a PNG)."""
    from tqdm import tqdm

    if path.suffix.lower() != ".png":
        raise VJError(f"--png {path}: the contact sheet is a .png file")
    table = analyse(span.audio, progress)
    ctx = headless_context()
    try:
        rows = []
        for preset in tqdm(presets, desc="presets", unit="preset", disable=not progress or len(presets) < 2,
                           file=sys.stderr, leave=False):
            rows.append((preset.name, preset.description, sheet_frames(preset, table, span, ctx)))
    finally:
        ctx.release()
    draw_sheet(rows, path)
