# Two commands run everything on a fresh Linux machine; each makes its own virtual environment.
#   make demo   render the shipped demo track to out/demo.mp4
#   make test   install the system packages the tests need (as root, when missing) and run the tests
#   make live   start `vj live` on the default input (LIVE_ARGS="--fullscreen" etc. pass options)
#   make fuzz   run each fuzzing harness for FUZZ_S seconds (default 60); findings land in tests/fuzz/corpus/
#   make drill  play each fault (audio server, MIDI, full disk, shaders, presets, signals) during a live run
#               with recording on, and write the outcomes to docs/RELIABILITY.md
#   make soak   an hour of `vj live` with music, MIDI, OSC and recording (SOAK_S=seconds to change)
#
# torch: where no NVIDIA GPU is present the CPU build is installed first (pip's plain `torch` would pull
# several GB of CUDA). Elsewhere, or to choose, set TORCH_SPEC / TORCH_INDEX, e.g.
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu      (a CPU build from PyTorch's index)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
DEMO_ARGS ?= --res 720p --fps 30
LIVE_ARGS ?=
FUZZ_S ?= 60
SOAK_S ?= 3600

.PHONY: demo test live fuzz soak drill clean

demo: $(VENV)/.installed
	@sh scripts/system-deps.sh render
	$(VENV)/bin/vj render assets/demo.ogg -o out/demo.mp4 $(DEMO_ARGS) --force
	@echo "demo video: $(CURDIR)/out/demo.mp4"

test: $(VENV)/.installed-test
	@sh scripts/system-deps.sh test
	$(PY) -m pytest -q

fuzz: $(VENV)/.installed-fuzz
	$(PY) -m tests.fuzz.run --seconds $(FUZZ_S)

soak: $(VENV)/.installed-test
	@sh scripts/system-deps.sh test
	SOAK_S=$(SOAK_S) $(PY) -m pytest -q -s -p no:cacheprovider tests/live/test_soak.py

drill: $(VENV)/.installed-test
	@sh scripts/system-deps.sh test
	VJ_DRILL=1 $(PY) -m pytest -q -s -p no:cacheprovider tests/live/test_drill.py

live: $(VENV)/.installed
	@sh scripts/system-deps.sh live
	$(VENV)/bin/vj live $(LIVE_ARGS)

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@touch $@

$(VENV)/.torch: $(VENV)/.created
	@if $(PY) -c "import torch" 2>/dev/null; then :; \
	elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then \
		echo "NVIDIA GPU found: torch will come with CUDA from pyproject's requirement"; \
	else \
		echo "no NVIDIA GPU: installing the CPU build of torch ($(TORCH_SPEC))"; \
		$(PY) -m pip install -q "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)); \
	fi
	@touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PY) -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.torch
	$(PY) -m pip install -q -e ".[test]"
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-fuzz: pyproject.toml $(VENV)/.installed-test
	$(PY) -m pip install -q -e ".[test,fuzz]"
	@touch $@

clean:
	rm -rf $(VENV) out
