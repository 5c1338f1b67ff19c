# The two README commands live here: `make run` (set up, build the index, start the chat) and
# `make test` (set up, run every test). Everything installs into .venv; nothing global but
# Debian's chromium for the browser tests and Tesseract for scanned pages.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
SCALE_STAMP := $(VENV)/.installed-scale

.PHONY: setup scale run test test-fast browser ocr index eval bench lint clean train eval-heldout eval-mixed screenshots \
	mutmut mutants-prepare mutants mutants-sample

# The venv belongs to this checkout when it is a real folder inside it. One that is not (a
# symlink, or VENV=/elsewhere/.venv) belongs to another checkout: it is used as it is and never
# installed into, since an editable install would re-point it at this tree. The tests import this
# tree either way (pyproject.toml: pythonpath = ["."]; tests/conftest.py passes it on). The stamp
# names the checkout it was installed from: a venv copied from another checkout is installed again.
OWN_VENV = $(if $(filter $(CURDIR)/%,$(abspath $(VENV))),$(shell test -L $(VENV) || echo yes))
setup:
ifeq ($(OWN_VENV),yes)
	@test "$$(cat $(STAMP) 2>/dev/null)" = "$(CURDIR)" || rm -f $(STAMP)
	@$(MAKE) --no-print-directory $(STAMP)
else
	@test -x $(PY) || { echo "$(VENV) has no python and is not this checkout's to create (make setup VENV=.venv)"; exit 2; }
	@echo "$(VENV) belongs to another checkout ($(realpath $(VENV))): not installing into it; the tests import this tree"
endif

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch first and pinned: this CPU build is on disk; any other request pulls CUDA wheels.
	$(PIP) install --quiet torch==2.13.0
	# The Qdrant extra too: the tests run the search-backend contract against both backends.
	$(PIP) install --quiet -e '.[test,qdrant]'
	echo "$(CURDIR)" > $(STAMP)

# The optional 'scale' extra (ray[data], ~400 MB) for `rag index --ray` and its tests: `make test`
# installs it, so the Ray smoke test runs and the check that the default path never imports ray
# has a ray to catch; `make run` and `make setup` never install it.
scale: setup
ifeq ($(OWN_VENV),yes)
	@test "$$(cat $(SCALE_STAMP) 2>/dev/null)" = "$(CURDIR)" || rm -f $(SCALE_STAMP)
	@$(MAKE) --no-print-directory $(SCALE_STAMP)
else
	@$(PY) -c "import ray.data" 2>/dev/null || echo "$(VENV) (another checkout's) has no ray: the Ray smoke test will be skipped"
endif

$(SCALE_STAMP): pyproject.toml
	$(PIP) install --quiet -e '.[test,scale]'
	echo "$(CURDIR)" > $(SCALE_STAMP)

# Debian's Tesseract with its German and English models, for scanned PDFs and images (OCR).
ocr:
	@command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx deu \
	  && tesseract --list-langs 2>/dev/null | grep -qx eng || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
	    tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng >/dev/null; \
	  else echo "install Debian's Tesseract (sudo apt-get install tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng) to read scanned pages"; fi; }

# Debian's chromium for the browser tests (a test tool's own browser download fails here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "install Debian's chromium (sudo apt-get install chromium) for the browser tests"; fi; }

index: setup
	$(VENV)/bin/rag index

# The chat on http://127.0.0.1:7860 (builds index/ first if it is missing or stale).
run: setup ocr
	$(PY) ui.py

test: setup scale browser ocr lint
	$(VENV)/bin/pytest

test-fast: setup ocr
	$(VENV)/bin/pytest -m "not slow"

# The project's questions over seeds/ (and the French set over its own document), then XQuAD (German paragraphs; German and English
# questions; dense and hybrid retrieval). Reports go to reports/<name>/ (not committed).
# XQuAD (CC BY-SA 4.0) is not part of the repository: see README "Evaluation" for where to get
# it; point XQUAD at the folder holding xquad-dev.<lang>.json.
XQUAD ?= ../shared/benchmarks/xquad
eval: setup
	$(VENV)/bin/rag eval seeds/eval/article.jsonl --out reports/article
	$(VENV)/bin/rag eval seeds/eval/article-heldout.jsonl --out reports/article-heldout
	$(VENV)/bin/rag eval seeds/eval/fr/questions.jsonl --seeds seeds/eval/fr/docs --index build/eval-fr \
	  --out reports/fr
	$(VENV)/bin/rag eval --format squad $(XQUAD)/xquad-dev.de.json --retriever dense --out reports/xquad-de-dense
	$(VENV)/bin/rag eval --format squad $(XQUAD)/xquad-dev.de.json --retriever hybrid --out reports/xquad-de-hybrid
	$(VENV)/bin/rag eval --format squad $(XQUAD)/xquad-dev.de.json --questions $(XQUAD)/xquad-dev.en.json \
	  --retriever dense --out reports/xquad-en-dense
	$(VENV)/bin/rag eval --format squad $(XQUAD)/xquad-dev.de.json --questions $(XQUAD)/xquad-dev.en.json \
	  --retriever hybrid --out reports/xquad-en-hybrid

# A German and an English document in one corpus, and each alone (seeds/eval/mixed/: an English
# article and questions in both languages about it and the bundled article). The corpora are
# built under build/eval-mixed/, the reports go to reports/mixed/ (summary.md: per document and
# question language, mixed / alone).
eval-mixed: setup
	$(PY) -m rag.eval.mixed seeds/eval/mixed/questions.jsonl --out reports/mixed

# Latency, cold start, memory and the synthetic 10k/100k/1M scale runs (~30-40 min on 2 cores;
# `rag bench --quick` takes about a minute). Temporary index folders only.
bench: setup
	$(VENV)/bin/rag bench --out reports/bench.json
	$(PY) bench/plot_scale.py reports/bench.json docs/scale.png

# The README's pictures of a multi-document answer with its Sources tab (desktop, phone, dark
# mode): ui.py with the real model over two documents, photographed by headless Chromium.
screenshots: setup browser
	$(PY) tests/screenshots.py docs

# Style, types and the layering contract (pyproject.toml [tool.importlinter]); CI runs it too.
lint: setup
	$(VENV)/bin/ruff check rag tests ui.py bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) index/build-* index/tmp-* index/CURRENT index/.lock

# The shipped answer model: trained on XQuAD articles 0-15 only (16-23 stay unseen for
# `make eval-heldout`; German text with questions in de, en, es, ru, zh, tr, ar, th, and English
# text with English questions), on seeds/eval/article.jsonl and on the written user-style
# questions of three documents (seeds/eval/user/train.jsonl over seeds/eval/user/docs) and of five
# more each in seeds/eval/user2/, user4/ and user5/, plus
# synthetic on-topic questions the text cannot answer made from each (each file weighs the same,
# the synthetic ones together as one). seeds/eval/article-heldout.jsonl, article-user.jsonl and
# user/heldout.jsonl (two other documents) and user3/heldout.jsonl (five more) stay unseen. About six minutes on 2 cores.
TRAIN_ARTICLES := 0-15
TEST_ARTICLES := 16-23
train: setup
	$(VENV)/bin/rag train --articles $(TRAIN_ARTICLES) --out rag/answer/answer_model.json \
	  --squad $(XQUAD)/xquad-dev.de.json --squad $(XQUAD)/xquad-dev.en.json \
	  $(foreach l,en es ru zh tr ar th,--squad $(XQUAD)/xquad-dev.de.json=$(XQUAD)/xquad-dev.$(l).json) \
	  --jsonl seeds/eval/article.jsonl --jsonl seeds/eval/user/train.jsonl=seeds/eval/user/docs \
	  --jsonl seeds/eval/user2/train.jsonl=seeds/eval/user2/docs \
	  --jsonl seeds/eval/user4/train.jsonl=seeds/eval/user4/docs \
	  --jsonl seeds/eval/user5/train.jsonl=seeds/eval/user5/docs

# Out-of-sample figures of the answer model: XQuAD articles 16-23, never trained or tuned on,
# each with near-miss copies (gold paragraph withheld), and the question sets `make train` never
# reads. Reports in reports/heldout-*/ (each with its support levels: report.md, "support").
eval-heldout: setup
	$(VENV)/bin/rag eval --format squad $(XQUAD)/xquad-dev.de.json --articles $(TEST_ARTICLES) --withhold-gold \
	  --no-charts --out reports/heldout-de-de
	$(VENV)/bin/rag eval --format squad $(XQUAD)/xquad-dev.en.json --articles $(TEST_ARTICLES) --withhold-gold \
	  --no-charts --out reports/heldout-en-en
	$(foreach l,en es ru zh tr ar th,$(VENV)/bin/rag eval --format squad $(XQUAD)/xquad-dev.de.json \
	  --questions $(XQUAD)/xquad-dev.$(l).json --articles $(TEST_ARTICLES) --withhold-gold --no-charts \
	  --out reports/heldout-$(l)-de;)
	$(VENV)/bin/rag eval seeds/eval/user/heldout.jsonl --seeds seeds/eval/user/docs --index build/eval-user \
	  --no-charts --out reports/heldout-user
	$(VENV)/bin/rag eval seeds/eval/article-user.jsonl --no-charts --out reports/heldout-article-user
	$(VENV)/bin/rag eval seeds/eval/user3/heldout.jsonl --seeds seeds/eval/user3/docs --index build/eval-user3 \
	  --no-charts --out reports/heldout-user3
	$(VENV)/bin/rag eval seeds/eval/article-heldout.jsonl --no-charts --out reports/heldout-article

# Mutation testing (mutmut 3) of the answer step, BM25, ingestion and the index store against
# the fast suite (`-m "not slow"`), in a copy under build/mutants/ so the tree is never touched.
# Survivors go to reports/mutants/survivors.txt (every verdict: results.txt), the counts to
# reports/mutants/summary.txt and modules.md (docs/testing.md). mutmut keeps its verdicts in
# build/mutants/mutants/: a stopped run resumes where it was (changed functions are re-tested);
# `rm -rf build/mutants` starts afresh. A subset:
#   make mutants MUTATE="rag/answer/selection.py rag/answer/model.py rag/index/lexical.py"
MUTATE ?= rag/answer/*.py rag/index/lexical.py rag/ingest/*.py rag/index/store.py rag/index/folder.py \
	rag/index/build.py rag/index/loaded.py
MUTANTS_WORK := build/mutants
MUTANT_JOBS ?= 2
# mutmut goes into this checkout's own venv only; a venv of another checkout must have it already.
mutmut: setup
ifeq ($(OWN_VENV),yes)
	$(PIP) install --quiet 'mutmut>=3.8,<4'
else
	@test -x $(VENV)/bin/mutmut || { echo "mutmut is not in $(VENV) (another checkout's: not installing)"; exit 2; }
endif

# The tree copied to build/mutants/ with mutmut's setup.cfg for MUTATE (shared by both targets).
mutants-prepare: mutmut
	mkdir -p $(MUTANTS_WORK) reports/mutants
	cd $(MUTANTS_WORK) && rm -rf rag tests seeds ui.py pyproject.toml
	cp -r rag tests seeds ui.py pyproject.toml $(MUTANTS_WORK)/
	$(PY) tests/mutants_config.py $(MUTATE) > $(MUTANTS_WORK)/setup.cfg

mutants: mutants-prepare
	start=$$(date +%s); cd $(MUTANTS_WORK) && ../../$(VENV)/bin/mutmut run --max-children $(MUTANT_JOBS) \
	  > ../../reports/mutants/run.log 2>&1; status=$$?; \
	  ../../$(VENV)/bin/mutmut results --all true > ../../reports/mutants/results.txt; \
	  grep ': survived' ../../reports/mutants/results.txt > ../../reports/mutants/survivors.txt; \
	  ../../$(PY) ../../tests/mutants_config.py --modules < ../../reports/mutants/results.txt \
	    > ../../reports/mutants/modules.md; \
	  ../../$(VENV)/bin/mutmut export-cicd-stats > /dev/null; \
	  ../../$(PY) ../../tests/mutants_config.py --summary mutants/mutmut-cicd-stats.json \
	    $$(( $$(date +%s) - start )) $(MUTATE) | tee ../../reports/mutants/summary.txt; exit $$status

# A seeded random sample of N mutants of the same set (tests/mutants_sample.py): only those are
# tested (each afresh), and the kill rate comes with its 95% Wilson interval. Out: in
# reports/mutants-sample/, sample.txt (the names), summary.txt (counts, rate, interval, seconds,
# the survivors), results.txt and run.log. Verdicts land in build/mutants/ like any other, so
# `make mutants` afterwards does not test the sampled ones again.
N ?= 400
SEED ?= 24
SAMPLE_REPORTS := reports/mutants-sample
mutants-sample: mutants-prepare
	mkdir -p $(SAMPLE_REPORTS)
	start=$$(date +%s); cd $(MUTANTS_WORK) && \
	  MUTANT_JOBS=$(MUTANT_JOBS) ../../$(PY) ../../tests/mutants_sample.py sample $(N) $(SEED) \
	    ../../$(SAMPLE_REPORTS)/sample.txt 2> ../../$(SAMPLE_REPORTS)/generate.log && \
	  ../../$(VENV)/bin/mutmut run --max-children $(MUTANT_JOBS) $$(cat ../../$(SAMPLE_REPORTS)/sample.txt) \
	    > ../../$(SAMPLE_REPORTS)/run.log 2>&1; status=$$?; \
	  ../../$(VENV)/bin/mutmut results --all true > ../../$(SAMPLE_REPORTS)/results.txt; \
	  ../../$(PY) ../../tests/mutants_sample.py report ../../$(SAMPLE_REPORTS)/sample.txt \
	    ../../$(SAMPLE_REPORTS)/results.txt $$(( $$(date +%s) - start )) | tee ../../$(SAMPLE_REPORTS)/summary.txt; \
	  exit $$status
