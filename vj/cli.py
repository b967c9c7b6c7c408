"""The `vj` command line: argument parsing only; each command calls one function."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from vj import __version__
from vj.control.keys import KEY_HELP
from vj.errors import VJError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit 2), like every other bad input."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vj", description="Audio-reactive CPPN visuals: live shows and offline music videos.")
    parser.add_argument("--version", action="version", version=f"vj {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    render = commands.add_parser(
        "render", help="render an audio file to an MP4 music video",
        description="Render AUDIO to an MP4 (H.264 + AAC) whose picture reacts to the music. "
        "Ctrl-C stops and keeps a playable file of the frames made so far.",
    )
    render.add_argument("audio", type=Path, nargs="?", help="audio file: wav, flac, mp3, ogg, opus, m4a, ...")
    render.add_argument("--replay", type=Path, metavar="SHOW.vjlog", help="render a show recorded with "
                        "`vj live --record` again instead: same frames at the live settings, sharper at a "
                        "higher --res (--fps, --scale, --device apply; the show sets the rest)")
    render.add_argument("-o", "--output", action=_FileOrStream, metavar="OUT.mp4|KIND[:ARG]", help="the .mp4 "
                        "file to write; given again as ndi[:NAME] (or another `vj live --output` kind), also "
                        "streams the render there in real time, paced to the audio")
    render.add_argument("--res", help="360p, 480p, 720p, 1080p, 1440p, 4k or WxH (default 720p; a replay: "
                        "the recording's)")
    render.add_argument("--fps", help="frames per second, e.g. 24, 30, 60 (default 30; a replay: the recording's)")
    render.add_argument("--device", help="auto, cuda (FP16) or cpu (fp32); auto takes CUDA if present "
                        "(a replay: the show's)")
    render.add_argument("--preset", help="a shipped preset name or a .toml file (default: default)")
    render.add_argument("--seed", type=int, help="weight seed (overrides the preset)")
    render.add_argument("--evolution", type=float, help="speed of the weight walk; 0 keeps the look still")
    render.add_argument("--net", help="WIDTHxLAYERS of the CPPN, e.g. 128x6 (the default) or 32x4")
    render.add_argument("--quality", choices=("draft", "normal", "high"), help="time spent per frame: draft "
                        "(a small net at a quarter of the output's size on the CPU, half on CUDA: previews), normal "
                        "(the default: the preset's net at half size on the CPU, full on CUDA), high (the preset's "
                        "net at full size, every layer in full precision)")
    render.add_argument("--scale", type=float, help="CPPN resolution relative to the output; the look upscales "
                        "(default: the quality's)")
    render.add_argument("--frames", type=Path, metavar="DIR", help="also write numbered PNG frames to DIR "
                        "(a replay: numbered by their frame in the output)")
    render.add_argument("--start", type=float, default=0.0, metavar="S", help="start at S seconds into the audio")
    render.add_argument("--duration", type=float, metavar="S", help="render only S seconds")
    render.add_argument("--set", dest="params", type=_param_value, action="append", default=[],
                        metavar="NAME=VALUE", help="hold a live parameter at VALUE, e.g. --set zoom=1.5 "
                        "(repeatable; `vj params` lists them)")
    _strobe_limit_option(render)
    render.add_argument("--cluster", metavar="local[:N]|auto|ray://HOST:PORT", help="render in parts on a Ray "
                        "cluster and join them (needs `pip install 'vj[cluster]'`): local:N starts N workers on "
                        "this machine, auto joins the cluster in RAY_ADDRESS or started here with `ray start "
                        "--head`; the same frames as without it. Run the same command again after a crash or "
                        "Ctrl-C and finished parts are reused")
    render.add_argument("--chunk", type=float, metavar="S", help="seconds of video per part with --cluster "
                        "(default 10; shorter parts spread better over many workers, each costs a second of pre-roll)")
    render.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    render.add_argument("--quiet", action="store_true", help="no progress bars")
    render.set_defaults(run=_render, streams=[])

    analyze = commands.add_parser(
        "analyze", help="write the per-frame audio features and beats as JSON and/or a plot",
        description="Run AUDIO through the same streaming analyzer that drives the picture.",
    )
    analyze.add_argument("audio", type=Path)
    analyze.add_argument("--fps", default="60", help="feature frames per second (default 60)")
    analyze.add_argument("--json", type=Path, metavar="OUT.json", help="write features, beats and tempo as JSON")
    analyze.add_argument("--plot", type=Path, metavar="OUT.png", help="draw waveform, features and beats")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")
    analyze.set_defaults(run=_analyze)

    live = commands.add_parser(
        "live", help="play visuals full-screen from a microphone or line input, in real time",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Visuals from live audio input, at the target frame rate, in a window or full-screen.\n"
        "Run `vj devices` first to see the audio inputs, MIDI ports and monitors, and `vj params` for what\n"
        "knobs (MIDI), OSC and --set can reach.\n\nkeys:\n" + "\n".join(f"  {line}" for line in KEY_HELP),
    )
    live.add_argument("--input", metavar="NAME|INDEX", help="audio input: an index or part of a name from "
                      "`vj devices` (default: the system default input)")
    live.add_argument("--channels", type=_channels, default=(), metavar="1,2",
                      help="input channels to listen to, counted from 1 (default: the first two)")
    live.add_argument("--fullscreen", nargs="?", const="", metavar="MONITOR",
                      help="start full-screen, on MONITOR (an index or part of a name) or the primary one")
    live.add_argument("--size", type=_size, default=(1280, 720), metavar="WxH", help="window size (default 1280x720)")
    live.add_argument("--target-fps", type=float, default=60.0, metavar="FPS",
                      help="frame rate to hold; the CPPN's resolution adapts to it (default 60)")
    live.add_argument("--av-offset", type=float, default=0.0, metavar="MS", help="shift the picture against the "
                      "sound: positive fires beats MS earlier (a slow projector), negative delays the picture")
    live.add_argument("--device", default="auto", help="auto, cuda (FP16) or cpu (fp32)")
    live.add_argument("--preset", default="default", help="a shipped preset name or a .toml file")
    live.add_argument("--net", help="WIDTHxLAYERS of the CPPN (default: the preset's with CUDA, "
                      "a small fast one on the CPU)")
    live.add_argument("--seed", type=int, help="weight seed (overrides the preset)")
    live.add_argument("--evolution", type=float, help="speed of the weight walk (overrides the preset)")
    live.add_argument("--no-vsync", dest="vsync", action="store_false", help="do not sync presents to the display")
    live.add_argument("--no-hud", dest="hud", action="store_false", help="start with the HUD hidden")
    live.add_argument("--midi", metavar="NAME", help="open only the MIDI input ports whose name contains NAME "
                      "(any case; default: every port, and any that appears later)")
    live.add_argument("--no-midi", dest="midi_enabled", action="store_false", help="open no MIDI port")
    live.add_argument("--map", dest="midi_map", metavar="NAME|FILE.toml", help="MIDI map: a shipped one "
                      "(generic, nanokontrol2, apcmini) or your file (default: your learned map, else generic)")
    live.add_argument("--clock", choices=("audio", "midi"), default="audio", help="what drives the beat: the "
                      "audio tracker (default) or MIDI clock from a DJ's gear (the tracker takes over when it stops)")
    live.add_argument("--osc", type=int, metavar="PORT", help="listen for OSC on this UDP port (off by default)")
    live.add_argument("--osc-host", default="127.0.0.1", metavar="HOST", help="address OSC listens on "
                      "(default 127.0.0.1, this machine only; 0.0.0.0 for the network)")
    live.add_argument("--set", dest="params", type=_param_value, action="append", default=[], metavar="NAME=VALUE",
                      help="start with a parameter at VALUE, e.g. --set feedback=0.5 (repeatable; `vj params`)")
    _strobe_limit_option(live)
    live.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    live.add_argument("--stats", type=Path, metavar="FILE.json", help="at exit, write frame times, drops, "
                      "latency, audio counters and the final live parameters")
    live.add_argument("--trace", type=Path, metavar="FILE.csv", help="write one line per frame (for debugging)")
    live.add_argument("--record", type=Path, metavar="OUT.mp4", help="record the show (H.264 + AAC) from the start, "
                      "with its performance log OUT.vjlog and input audio OUT.flac for `vj render --replay`; "
                      "R ends a take and starts the next (OUT-2.mp4, ...)")
    live.add_argument("--record-fps", default="30", metavar="FPS", help="frame rate of the recording (default 30)")
    live.add_argument("--record-res", metavar="RES", help="size of the recording: 720p, 1080p, ... or WxH "
                      "(default: the window's)")
    live.add_argument("--output", dest="outputs", action="append", default=[],
                      metavar="KIND[:ARG]", help="also send the picture to: ndi[:NAME] (an NDI source with the "
                      "input audio; pip install 'vj[ndi]'), v4l2[:/dev/videoN] (a virtual camera, Linux), spout "
                      "(Windows), syphon (macOS); repeatable")
    live.add_argument("--preview", action="store_true", help="open a small second window for the performer "
                      "with the HUD and the next preset; the show window (--fullscreen MONITOR for the projector) "
                      "then has no HUD and no mouse pointer")
    live.add_argument("--output-res", metavar="RES", help="size of the --output pictures: 720p, 1080p, ... "
                      "or WxH (default: the window's)")
    live.set_defaults(run=_live)

    params = commands.add_parser("params", help="list the live parameters, palettes, presets and MIDI maps",
                                 description="What MIDI maps, OSC (/vj/param/NAME) and --set can reach.")
    params.set_defaults(run=_params)

    presets = commands.add_parser("presets", help="list the presets, or draw contact sheets of them",
                                  description="Presets are TOML files in presets/ (shipped) and in your preset "
                                  "folder (saved with s in a show, or from vj evolve).")
    preset_commands = presets.add_subparsers(dest="presets_command", required=True, metavar="ACTION",
                                             parser_class=_Parser)
    preset_commands.add_parser("list", help="every preset, with its net, palette and description").set_defaults(
        run=_presets_list)
    show = preset_commands.add_parser("show", help="draw a contact sheet: frames of presets over a short render",
                                      description="Render a few seconds of music through each preset and draw "
                                      "some of its frames in a row of a PNG.")
    show.add_argument("names", nargs="*", metavar="NAME", help="presets by name or .toml file")
    show.add_argument("--all", action="store_true", help="every shipped preset, one row each")
    show.add_argument("--png", type=Path, required=True, metavar="OUT.png", help="where to write the sheet")
    show.add_argument("--audio", type=Path, help="the music to render over (default: the demo track)")
    show.add_argument("--start", type=float, default=16.0, metavar="S", help="from S seconds in (default 16)")
    show.add_argument("--seconds", type=float, default=8.0, metavar="S", help="over S seconds (default 8)")
    show.add_argument("--frames", type=int, default=6, metavar="N", help="frames per preset (default 6)")
    show.add_argument("--size", type=_size, default=(256, 144), metavar="WxH", help="size of each frame (default 256x144)")
    show.add_argument("--quiet", action="store_true", help="no progress bars")
    show.set_defaults(run=_presets_show)

    evolve = commands.add_parser(
        "evolve", help="breed new looks: pick from a grid of mutated nets rendering live (Picbreeder)",
        description="A 3x3 grid of nets renders live to music: the parent in the centre, eight mutated "
        "children around it. Pick a child (keys 1-9, a click, or MIDI pads on notes 36-44) and it becomes "
        "the parent of the next generation; s saves the centre as a preset (vj presets list shows it).",
    )
    evolve.add_argument("--preset", default="default", help="the preset to start from (default: default)")
    evolve.add_argument("--audio", type=Path, help="music whose features drive the nets (default: the demo track)")
    evolve.add_argument("--device", default="auto", help="auto, cuda or cpu")
    evolve.add_argument("--net", help="WIDTHxLAYERS of the nets (default: 24x4 on a CPU, the preset's with CUDA)")
    evolve.add_argument("--size", type=_size, default=(1280, 720), metavar="WxH", help="window size")
    evolve.add_argument("--midi", metavar="NAME", help="only MIDI ports whose name contains NAME")
    evolve.add_argument("--no-midi", dest="midi_enabled", action="store_false", help="no MIDI")
    evolve.add_argument("--seed", type=int, default=1, help="seed of the mutations (default 1)")
    evolve.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    evolve.set_defaults(run=_evolve)

    midi = commands.add_parser("midi", help="MIDI learn and monitor, without a show",
                               description="Bind controls to parameters (learn), or see what a controller sends.")
    midi_commands = midi.add_subparsers(dest="midi_command", required=True, metavar="ACTION", parser_class=_Parser)
    learn = midi_commands.add_parser(
        "learn", help="bind the next moving control to each PARAM and save the map",
        description="For each PARAM in turn, move a knob, fader or pad: it is bound and the map saved "
        "(to --map FILE.toml, or to your own map when --map is a shipped one or not given).")
    learn.add_argument("names", nargs="+", metavar="PARAM", help="parameters to bind (`vj params`)")
    learn.add_argument("--map", dest="midi_map", metavar="NAME|FILE.toml", help="the map to add to")
    learn.add_argument("--midi", metavar="NAME", help="listen only to ports whose name contains NAME")
    learn.add_argument("--timeout", type=float, default=60.0, metavar="S", help="give up after S seconds "
                       "without a moving control (default 60)")
    learn.set_defaults(run=_midi_learn)
    monitor = midi_commands.add_parser("monitor", help="print every MIDI message as it arrives",
                                       description="Print what the controllers send (Ctrl-C stops).")
    monitor.add_argument("--midi", metavar="NAME", help="listen only to ports whose name contains NAME")
    monitor.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    monitor.set_defaults(run=_midi_monitor)

    devices = commands.add_parser("devices", help="list audio inputs, MIDI ports and monitors",
                                  description="What `vj live` can listen to and show on.")
    devices.set_defaults(run=_devices)

    bench = commands.add_parser(
        "bench", help="measure the engine's paths against the naive one and this machine's roofline",
        description="Prints Mpx/s, fps and ms/frame of each engine path (naive: the prototype's way; fast: the "
        "engine; compiled: under torch.compile; fused and graphed: the Triton kernel, alone and in a CUDA "
        "graph), measured in the same run, with each one's speed over the naive path's and its fraction of "
        "the roofline: what this machine's matrix products and activations allow for the net, measured first.",
    )
    bench.add_argument("--res", default="640x360", help="resolution of the CPPN (default 640x360)")
    bench.add_argument("--net", default="128x6", help="WIDTHxLAYERS (default 128x6)")
    bench.add_argument("--device", default="auto", help="auto, cuda or cpu")
    bench.add_argument("--frames", type=int, default=5, help="timed frames per path (default 5; the median counts)")
    bench.add_argument("--roofline", action="store_true", help="also print the measured rates the roofline "
                       "comes from")
    bench.add_argument("--all", action="store_true", help="the roofline, every path, and offline renders end "
                       "to end per --quality (--seconds of the demo track at 720p30, in x real time)")
    bench.add_argument("--seconds", type=float, default=20.0, metavar="S", help="audio rendered per quality "
                       "with --all (default 20)")
    bench.add_argument("--json", action="store_true", help="one JSON object per row")
    bench.add_argument("--analyzer", action="store_true", help="time the audio analyzer instead: its cost per "
                       "second of audio, as a share of one CPU core")
    bench.set_defaults(run=_bench)

    eval_beats = commands.add_parser(
        "eval-beats", help="score the beat tracker on a folder of audio files with known beats",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run each audio file in DIR through the causal beat tracker and compare it with the "
        "NAME.beats file beside it\n(one beat time in seconds per line). Prints per file and per condition:\n"
        "  F       beat F-measure (mir_eval: 70 ms window, first 5 s skipped)\n"
        "  lock    seconds from the first beat to the first four hits in a row\n"
        "  follow  beats after an abrupt tempo change until four hits in a row again\n"
        "  tempo%%  median tempo error once locked; octave: the tempo sits at half, double or a third\n"
        "  lead    how far ahead of each beat it was committed; late: beats committed after their time\n"
        "Files named SONG.CONDITION.flac (as --make-set writes them) are averaged per condition.",
    )
    eval_beats.add_argument("dir", type=Path, metavar="DIR", help="folder of audio files with .beats files")
    eval_beats.add_argument("--make-set", action="store_true", help="first write vj's own synthesized "
                            "evaluation set into DIR (songs in many styles, clean and degraded)")
    eval_beats.add_argument("--tracker", choices=("vj", "aubio"), default="vj",
                            help="vj's tracker (default) or aubio's tempo tracker for comparison")
    eval_beats.add_argument("--json", type=Path, metavar="OUT.json", help="also write every figure as JSON")
    eval_beats.add_argument("--quiet", action="store_true", help="only the summary, no per-file rows")
    eval_beats.set_defaults(run=_eval_beats)
    return parser


_SHOW_OPTIONS = ("preset", "seed", "evolution", "net", "duration", "params", "quality")
"""What a replay takes from its show, never from the command line."""


def _render(args: argparse.Namespace) -> int:
    from vj.output.rig import parse_output
    from vj.render.offline import render_file
    from vj.render.settings import RenderSettings, parse_resolution
    from vj.timebase import parse_fps

    if args.chunk is not None and args.cluster is None:
        raise VJError("vj render: --chunk sets the parts of a --cluster render; add --cluster local:N (or drop --chunk)")
    if args.output is None:
        raise VJError("vj render: give the video file to write with -o/--output OUT.mp4")
    if args.streams and (args.replay is not None or args.cluster is not None):
        raise VJError(f"vj render: --output {args.streams[0]} streams a render of an audio file as it is made, "
                      "not a --replay or a --cluster render")
    if args.replay is not None:
        return _replay(args)
    if args.audio is None:
        raise VJError("vj render: give an AUDIO file to render, or --replay SHOW.vjlog")
    width, height = parse_resolution(args.res or "720p")
    settings = RenderSettings(
        audio=args.audio, output=args.output, width=width, height=height, fps=parse_fps(args.fps or "30"),
        scale=args.scale, device=args.device or "auto", preset=args.preset or "default", seed=args.seed, evolution=args.evolution,
        net=args.net, frames_dir=args.frames, start_s=args.start, duration_s=args.duration, force=args.force,
        params=tuple(args.params), strobe_limit=args.strobe_limit, quality=args.quality or "normal",
        streams=tuple(map(parse_output, args.streams)),
    )
    if args.cluster is not None:
        from vj.cluster import render_on_cluster

        return _cluster_summary(render_on_cluster(settings, args.cluster, args.chunk, progress=not args.quiet))
    result = render_file(settings, progress=not args.quiet)
    seconds = result.frames / float(settings.fps)
    speed = seconds / result.seconds if result.seconds else 0.0
    if not result.complete:
        print(f"vj: stopped after {result.frames} frames; {result.output} holds what was rendered", file=sys.stderr)
        return 130
    print(f"wrote {result.output} ({result.frames} frames, {seconds:.1f} s at {width}x{height}, "
          f"{settings.fps} fps) in {result.seconds:.1f} s, {speed:.2f}x real time")
    return 0


def _cluster_summary(result) -> int:
    """What a render or replay on a cluster made, in one line (or how to go on after Ctrl-C)."""
    if not result.complete:
        print(f"vj: stopped; the finished parts are kept beside {result.output}: run the same command again "
              "to render only the rest", file=sys.stderr)
        return 130
    print(f"wrote {result.output} ({result.frames} frames) in {result.seconds:.1f} s, {result.frames / result.seconds:.2f} "
          f"frames/s, on {result.workers} workers in {result.parts} parts ({result.reused} reused, {result.restarts} run again); analysis "
          f"{result.analysis_s:.1f} s, object store {result.transfer_s * 1000:.0f} ms, join {result.join_s:.1f} s")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from vj.record.replay import ReplaySettings, replay_show
    from vj.render.settings import parse_resolution
    from vj.timebase import parse_fps

    if args.audio is not None:
        raise VJError("vj render: give an AUDIO file or --replay SHOW.vjlog, not both (a show brings its audio)")
    given = [name for name in _SHOW_OPTIONS if getattr(args, name) not in (None, [])]
    if given or args.start:
        option = "--" + (given[0] if given else "start").replace("params", "set")
        raise VJError(f"vj render --replay: {option} cannot be used with a replay; the show sets it")
    settings = ReplaySettings(args.replay, args.output, parse_resolution(args.res) if args.res else None,
                              parse_fps(args.fps) if args.fps else None, args.scale, args.device, args.force,
                              args.frames)
    if args.cluster is not None:
        from vj.cluster import replay_on_cluster

        return _cluster_summary(replay_on_cluster(settings, args.cluster, args.chunk, progress=not args.quiet))
    result = replay_show(settings, progress=not args.quiet)
    print(f"wrote {result.output} ({result.frames} frames) in {result.seconds:.0f} s")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from vj.audio.report import analyze_file
    from vj.timebase import parse_fps

    if args.json is None and args.plot is None:
        raise VJError("vj analyze: nothing to write; pass --json OUT.json and/or --plot OUT.png")
    document = analyze_file(args.audio, parse_fps(args.fps), args.json, args.plot, progress=not args.quiet)
    tempo = [t for t in document["tempo_bpm"] if t > 0]
    summary = f"{document['duration_s']:.1f} s, {len(document['beats'])} beats"
    summary += f", tempo {tempo[-1]:.1f} BPM" if tempo else ", no steady beat found"
    for path in (args.json, args.plot):
        if path is not None:
            print(f"wrote {path} ({summary})")
    return 0


def _bench(args: argparse.Namespace) -> int:
    import tempfile

    from vj.bench import format_end_to_end, format_rows, run_bench, run_end_to_end
    from vj.engine.net import parse_net
    from vj.render.quality import QUALITY_NAMES
    from vj.render.settings import parse_resolution
    from vj.resources import resource_dir

    if args.frames < 1:
        raise VJError("--frames must be at least 1")
    if args.analyzer:
        from vj.audio.cost import format_cost, measure_cost

        print(format_cost(measure_cost(), args.json))
        return 0
    width, height = parse_resolution(args.res)
    rows, roofline = run_bench(parse_net(args.net), width, height, args.device, args.frames)
    if (args.roofline or args.all) and not args.json:
        print(roofline + "\n")
    print(format_rows(rows, args.json))
    if args.all:
        if args.seconds <= 0:
            raise VJError("--seconds must be more than 0")
        with tempfile.TemporaryDirectory(prefix="vj-bench-") as workdir:
            end_to_end = run_end_to_end(resource_dir("assets") / "demo.ogg", args.seconds, args.device, list(QUALITY_NAMES),
                                        Path(workdir))
        print(("" if args.json else "\n") + format_end_to_end(end_to_end, args.json))
    return 0


def _eval_beats(args: argparse.Namespace) -> int:
    from vj.audio import beateval

    if args.make_set:
        from tqdm import tqdm

        from vj.audio.beatset import write_set

        with tqdm(desc="write set", unit="file", file=sys.stderr, disable=args.quiet, leave=False) as bar:
            def advance(done: int, total: int) -> None:
                bar.total, bar.n = total, done
                bar.refresh()

            write_set(args.dir, progress=advance)
    pairs = beateval.find_files(args.dir)
    if not args.quiet:
        print(f"{args.tracker} tracker on {len(pairs)} files in {args.dir}")
        print(beateval.HEADER)
        print(beateval.UNITS)
    scores = beateval.evaluate(pairs, args.tracker, progress=None if args.quiet else
                               lambda s: print(beateval.format_row(s), flush=True))
    print()
    print(beateval.format_summary(beateval.summary(scores)))
    if args.json:
        beateval.write_json(args.json, args.tracker, scores)
        print(f"wrote {args.json}")
    return 0


def _live(args: argparse.Namespace) -> int:
    from vj.control.controls import ControlSettings
    from vj.live.session import run_live
    from vj.live.settings import LiveSettings
    from vj.output.rig import parse_output
    from vj.render.settings import parse_resolution
    from vj.timebase import parse_fps

    settings = LiveSettings(
        input=args.input, channels=args.channels, fullscreen=args.fullscreen, size=args.size,
        target_fps=args.target_fps, av_offset_ms=args.av_offset, duration_s=args.duration, stats=args.stats,
        trace=args.trace, preset=args.preset, device=args.device, net=args.net, seed=args.seed,
        evolution=args.evolution, vsync=args.vsync, hud=args.hud, midi_map=args.midi_map, params=tuple(args.params),
        strobe_limit=args.strobe_limit, record=args.record, record_fps=parse_fps(args.record_fps),
        record_size=parse_resolution(args.record_res) if args.record_res else None,
        preview=args.preview, outputs=tuple(map(parse_output, args.outputs)), output_size=parse_resolution(args.output_res) if args.output_res else None,
        controls=ControlSettings(midi=args.midi, midi_enabled=args.midi_enabled, osc_port=args.osc,
                                 osc_host=args.osc_host, clock=args.clock),
    )
    return run_live(settings)


def _params(args: argparse.Namespace) -> int:
    from vj.control.commands import describe_params

    print(describe_params())
    return 0


def _evolve(args: argparse.Namespace) -> int:
    from vj.live.evolve import EvolveSettings, run_evolve

    settings = EvolveSettings(preset=args.preset, device=args.device, net=args.net, size=args.size,
                              midi=args.midi, midi_enabled=args.midi_enabled, seed=args.seed,
                              duration_s=args.duration)
    if args.audio is not None:
        settings = replace(settings, audio=args.audio)
    return run_evolve(settings)


def _presets_list(args: argparse.Namespace) -> int:
    from vj.presets import describe_presets

    print(describe_presets())
    return 0


def _presets_show(args: argparse.Namespace) -> int:
    from vj.presets import load_preset
    from vj.render.sheet import SheetSpan, contact_sheet
    from vj.resources import shipped_names

    names = list(args.names) + (shipped_names("presets") if args.all else [])
    if not names:
        raise VJError("vj presets show: name one or more presets, or pass --all")
    if not (1 <= args.frames <= 24 and 0 < args.seconds <= 600 and 0 <= args.start and 16 <= min(args.size)
            and max(args.size) <= 2048):
        raise VJError("vj presets show: --frames is 1 to 24, --seconds more than 0, --start 0 or more, "
                      "--size 16x16 to 2048x2048")
    presets = [load_preset(name) for name in names]  # every file checked before any rendering
    span = SheetSpan(start_s=args.start, seconds=args.seconds, count=args.frames, size=args.size)
    if args.audio is not None:
        span = replace(span, audio=args.audio)
    contact_sheet(presets, args.png, span, progress=not args.quiet)
    print(f"wrote {args.png} ({len(presets)} preset{'s' if len(presets) > 1 else ''}, {args.frames} frames each)")
    return 0


def _midi_learn(args: argparse.Namespace) -> int:
    from vj.control.commands import learn

    learn(args.names, args.midi_map, args.midi, args.timeout)
    return 0


def _midi_monitor(args: argparse.Namespace) -> int:
    from vj.control.commands import monitor

    monitor(args.midi, args.duration)
    return 0


def _devices(args: argparse.Namespace) -> int:
    from vj.live.devices import describe_devices

    print(describe_devices())
    return 0


def _strobe_limit_option(parser: argparse.ArgumentParser) -> None:
    from vj.look.strobe import DEFAULT_MAX_PER_S

    parser.add_argument("--strobe-limit", type=float, default=DEFAULT_MAX_PER_S, metavar="N",
                        help=f"most strobe flashes a second (default {DEFAULT_MAX_PER_S:g}, the photosensitive-"
                        "epilepsy limit; 0 lifts it)")


def _channels(text: str) -> tuple[int, ...]:
    """'1,2' -> (0, 1): channels as users count them, stored 0-based."""
    try:
        channels = tuple(int(part) - 1 for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of channel numbers like 1,2") from None
    if not channels or min(channels) < 0 or len(set(channels)) != len(channels):
        raise argparse.ArgumentTypeError(f"{text!r}: channels count from 1, each once, like 1,2")
    return channels


class _FileOrStream(argparse.Action):
    """`vj render -o`: an .mp4 file, or an output to stream to (``ndi[:NAME]``, ...); both may be given."""

    def __call__(self, parser, namespace, value, option_string=None):
        from vj.output.rig import KINDS

        if value.partition(":")[0].lower() in KINDS:
            namespace.streams = [*namespace.streams, value]
        else:
            namespace.output = Path(value)


def _param_value(text: str) -> tuple[str, float]:
    """'zoom=1.5' -> ('zoom', 1.5); the name is checked against the registry when the show starts."""
    name, _, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=NUMBER, like zoom=1.5") from None


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 1280x720")
    return int(width), int(height)


GL_COMMANDS = ("render", "live", "evolve", "presets")
"""Commands that open a GL context and may then compile the net or run the fused kernel."""


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command in GL_COMMANDS:
        from vj.engine.device import load_triton_first

        load_triton_first()
    try:
        return args.run(args)
    except VJError as error:
        print(f"vj: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("vj: interrupted", file=sys.stderr)
        return 130
