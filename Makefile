# Shortcuts; each target prints what it measured or tested.
PYTHON ?= .venv/bin/python

.PHONY: bench lighthouse test

bench:  ## requests per second per page against a bare Flask app (demo data, SQLite)
	$(PYTHON) bench/pages.py

lighthouse:  ## Lighthouse scores for the key pages; fails below 95
	$(PYTHON) bench/lighthouse.py

test:  ## every test, on SQLite then PostgreSQL
	scripts/test
