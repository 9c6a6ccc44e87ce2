# Shortcuts; each target prints what it measured or tested.
PYTHON ?= .venv/bin/python

.PHONY: bench bench-ceiling bench-sizes bench-edge load load-stack stack stack-stop lighthouse lock test

bench:  ## requests per second per page against a bare Flask app (demo data, SQLite)
	$(PYTHON) bench/pages.py

bench-ceiling:  ## each page uncached, then with every template empty (the ceiling of its ratio)
	$(PYTHON) bench/pages.py --variants uncached,no-templates

bench-sizes:  ## each page on the large data against the demo data, measured in alternation
	$(PYTHON) bench/sizes.py

bench-edge:  ## the seed post through nginx's edge cache against nginx serving it as a file
	$(PYTHON) bench/edge.py

load:  ## 60 s of readers and writers on the production setup, then checks every write
	$(PYTHON) bench/load.py

load-stack:  ## the same load through nginx, an app instance killed, both Redis servers restarted
	$(PYTHON) bench/load.py --stack

stack:  ## nginx, two app instances, PostgreSQL, two Redis servers, the Stripe emulator on 127.0.0.1
	PYTHON=$(PYTHON) scripts/run-stack

stack-stop:  ## stop what `make stack` started
	PYTHON=$(PYTHON) scripts/run-stack stop

lighthouse:  ## Lighthouse scores for the key pages; fails below 100
	$(PYTHON) bench/lighthouse.py

test:  ## every test, on SQLite then PostgreSQL
	scripts/test

lock:  ## requirements.lock from pyproject.toml, with hashes (LOCK_ARGS=--upgrade: newest allowed)
	$(PYTHON) -m piptools compile $(LOCK_ARGS) --quiet --extra dev --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
