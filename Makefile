# wacamp — every task a developer or CI runs. `make test` is the one CI calls.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
LOCAL_AWS   ?= http://127.0.0.1:4566
STACK       ?= wacamp-local
FUNCTIONS   := -p start_campaign -p sender -p campaign_status -p reconciler -p session_keeper -p webhook_events -p webhook_delivery
export AWS_ENDPOINT_URL ?= $(LOCAL_AWS)
export AWS_ACCESS_KEY_ID ?= test
export AWS_SECRET_ACCESS_KEY ?= test
export AWS_REGION ?= us-east-1
# Where `make deploy` records the stack for the CLI (any directory can then find it).
WACAMP_CONFIG ?= $(or $(XDG_CONFIG_HOME),$(HOME)/.config)/wacamp/config.toml

.PHONY: help setup build release deploy-aws image local-up local-down local-status deploy lint test demo bench fuzz deny clean-local

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: ## install what the tests need: Chromium, the local AWS venv
	@scripts/setup.sh

build: ## build the Lambda bootstrap binaries and the CLI (with the test-only crash points and movable clock)
	cargo build $(FUNCTIONS) -p wacamp --features sender/failpoints,platform/test-clock

release: ## build the Lambda bootstrap binaries and the CLI for AWS: release profile, no fail points
	cargo build --release $(FUNCTIONS) -p wacamp

image: ## the sender's Lambda image without Docker (mmdebstrap + umoci, as root): .local/image/oci:sender
	@scripts/image.sh

local-up: setup ## start the local AWS (MiniStack) unless one answers
	@localstack/ministack.sh start

local-down: ## stop the local AWS this project started
	@localstack/ministack.sh stop

local-status: ## say whether the local AWS answers
	@localstack/ministack.sh status

deploy: build ## build, package and deploy the stack to the local AWS (STACK=name)
	@$(VENV)/bin/python infra/deploy.py --stack $(STACK) --outputs .local/stacks/$(STACK).json --config-file "$(WACAMP_CONFIG)"

deploy-aws: release ## build for AWS and deploy the stack there (your AWS credentials and region; STACK=name, see docs/deploy.md)
	@env -u AWS_ENDPOINT_URL -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY $(VENV)/bin/python infra/deploy.py --stack $(STACK) --config-file "$(WACAMP_CONFIG)" $(DEPLOY_ARGS)

lint: ## rustfmt, clippy, unused dependencies and cfn-lint
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo machete
	$(VENV)/bin/cfn-lint infra/template.yaml

test: ## everything CI checks: lint and all tests against the local AWS and Chromium
	@scripts/test.sh

demo: ## deploy to the local AWS and run one campaign end to end
	@scripts/demo.sh

bench: local-up build ## benchmarks, each a ratio against its baseline in the same run; one table at the end, also in .local/bench.json
	rm -rf .local/bench-profile .local/bench-results.jsonl && mkdir -p .local
	cargo run -q -p wa_driver --example real_profile -- .local/bench-profile
	WACAMP_BENCH_PROFILE=$(CURDIR)/.local/bench-profile cargo bench -p session_store --bench profile --profile dev
	cargo bench -p session_store --bench profile --profile dev
	cargo bench -p wa_driver --bench send --profile dev
	cargo bench -p wa_driver --bench opening --profile dev
	cargo bench -p sender --bench cold_start --profile dev
	cargo bench -p campaign_store --bench fanout --profile dev
	cargo bench -p campaign_store --bench moves --profile dev
	cargo bench -p e2e --bench accounts --profile dev
	cargo bench -p e2e --bench export --profile dev
	cargo bench -p e2e --bench webhooks --profile dev
	@echo
	@cargo run -q -p measure --bin bench-table -- .local/bench.json

fuzz: ## fuzz the profile archive unpacker for a bounded time (FUZZ_SECONDS, default 60)
	shared/session_store/fuzz/run.sh $${FUZZ_SECONDS:-60}

deny: ## licence and ban checks (offline; advisories need the network: cargo deny check advisories)
	@command -v cargo-deny >/dev/null || cargo install --locked cargo-deny
	cargo deny check licenses bans sources

clean-local: local-down ## stop the local AWS and forget its state
	rm -rf .local
