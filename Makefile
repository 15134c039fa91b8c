# Everything a fresh machine needs: `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,verify]'
	touch $(STAMP)

# exiftool checks the outputs' metadata in the tests (Debian: libimage-exiftool-perl).
system-deps:
	@command -v exiftool >/dev/null || { $(SUDO) apt-get update -q && \
		$(SUDO) apt-get install -y -q --no-install-recommends libimage-exiftool-perl; }

demo: $(STAMP)
	$(BIN)/unseen sample/astronaut.png -o out --overwrite --report out/report.json
	@echo "Anonymized copies are in out/ (report: out/report.json). Compare sample/astronaut.png with out/astronaut.png."

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest

# The benchmarks print figures beside deface measured in the same run (about 25 min on 2 cores); never in CI.
bench: $(STAMP)
	$(BIN)/python bench/protect.py
	$(BIN)/python bench/video.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/video_memory.py

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info
