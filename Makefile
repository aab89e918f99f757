# atelier — the two commands a newcomer needs: `make run` and `make test`.
# Each one sets up what it needs (Debian packages, .venv) and is quick when
# everything is already in place.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
EXAMPLE := data/moulins-2016
EXAMPLE_PDF := out/compte-rendu-moulins-2016.pdf

# Debian packages the project needs at run and test time:
# WeasyPrint's Pango/HarfBuzz (hb-subset keeps PDFs byte-reproducible),
# poppler-utils for the PDF tests, chromium for the browser tests, git for review/release.
# RENDER_PACKAGES is enough to render and release (the review and release workflows
# install only these: `make install DEB_PACKAGES='$$(RENDER_PACKAGES)'`).
RENDER_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 git
DEB_PACKAGES := $(RENDER_PACKAGES) poppler-utils chromium

.PHONY: run test install bench lint system-deps node-deps translations clean

run: $(VENV)/.installed
	$(BIN)/atelier build $(EXAMPLE) -o $(EXAMPLE_PDF)
	@echo "Compte-rendu de l'exemple : $(CURDIR)/$(EXAMPLE_PDF)"
	$(BIN)/atelier validate $(EXAMPLE)
	$(BIN)/atelier summary $(EXAMPLE)
	@# The example is closed (it is history): serve an open copy, so that trying the form never touches data/.
	rm -rf out/demo && mkdir -p out/demo && cp -r $(EXAMPLE) out/demo/
	sed -i 's/^status: closed/status: open/' out/demo/$(notdir $(EXAMPLE))/atelier.yaml
	$(BIN)/atelier serve --data out/demo --host $(HOST) --port $(PORT)

# Typing first (mypy, a few seconds): CI runs `make test`, so it checks the types too.
test: $(VENV)/.installed node-deps lint
	$(BIN)/python -m pytest

install: $(VENV)/.installed

bench: $(VENV)/.installed
	$(BIN)/python bench/run_all.py

lint: $(VENV)/.installed
	$(BIN)/mypy pipeline webform

# Installs only the missing Debian packages; a no-op (one dpkg-query) when all are there.
system-deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "Installation des paquets Debian manquants : $$missing"; \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# axe-core (accessibility audit of the browser tests), pinned by package-lock.json,
# installed from the npm registry into node_modules/; a no-op when up to date.
node-deps: node_modules/.installed

node_modules/.installed: package.json package-lock.json | system-deps
	command -v npm >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends npm; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The web form's catalogs: extract the French msgids, merge them into fr/en, compile the .mo files
# (committed; tests/test_translations.py checks they match the .po files).
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output --project atelier \
	    -o webform/translations/messages.pot .
	$(BIN)/pybabel update -i webform/translations/messages.pot -d webform/translations --no-fuzzy-matching \
	    --width 100
	$(BIN)/pybabel compile -d webform/translations --statistics

# The stamp is rebuilt only when the declared dependencies change.
$(VENV)/.installed: pyproject.toml constraints.txt | system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache node_modules
