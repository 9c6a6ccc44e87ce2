# Shortcuts; each target prints what it measured or tested.
PYTHON ?= .venv/bin/python

.PHONY: bench bench-ceiling bench-sizes load lighthouse lock test

bench:  ## requests per second per page against a bare Flask app (demo data, SQLite)
	$(PYTHON) bench/pages.py

bench-ceiling:  ## each page uncached, then with every template empty (the ceiling of its ratio)
	$(PYTHON) bench/pages.py --variants uncached,no-templates

bench-sizes:  ## each page on the large data against the demo data, measured in alternation
	$(PYTHON) bench/sizes.py

load:  ## 60 s of readers and writers on the production setup, then checks every write
	$(PYTHON) bench/load.py

lighthouse:  ## Lighthouse scores for the key pages; fails below 95
	$(PYTHON) bench/lighthouse.py

test:  ## every test, on SQLite then PostgreSQL
	scripts/test

lock:  ## requirements.lock from pyproject.toml, with hashes (LOCK_ARGS=--upgrade: newest allowed)
	$(PYTHON) -m piptools compile $(LOCK_ARGS) --quiet --extra dev --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
