# Isthmus — the two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export QT_API := pyside6

.PHONY: run test lint venv samples samples-check bench package clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

venv: $(STAMP)

## Open the workstation on the bundled sample cases.
run: $(STAMP)
	$(BIN)/isthmus

## Run the whole test suite offscreen.
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n 2 --dist loadfile -q

## Static checks: ruff (style, bugs), mypy (types of the domain core), import-linter (layers).
lint: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[lint]"
	$(BIN)/ruff check app tests bench packaging
	$(BIN)/mypy
	$(BIN)/lint-imports

## Regenerate sample_dicom/ from the phantom (byte for byte).
samples: $(STAMP)
	$(BIN)/isthmus samples --out sample_dicom

## Build the desktop bundle dist/isthmus/ and dist/isthmus_<version>_amd64.deb (packaging/README.md).
package: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[package]"
	packaging/build.sh $(BIN)/python

## Regenerate every sample case into a temporary folder and compare with sample_dicom/ (byte for byte).
samples-check: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m all_samples tests/unit/samples/test_sample_folder.py

bench: $(STAMP)
	$(BIN)/python bench/load_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build dist *.egg-info
