# The sender as a Lambda container image with Chromium (Chromium is larger than a zip allows).
# The Rust binary speaks the Lambda Runtime API itself, so any base image works; Debian gives
# the same Chromium the tests use.
#
#   make release                                    # release profile, no fail points
#   docker build -f infra/sender.Dockerfile -t wacamp-sender .
#   (push to ECR, then deploy with SenderPackaging=Image SenderImageUri=<uri>)
FROM debian:trixie-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-liberation fonts-noto-color-emoji ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY target/release/sender /var/runtime/bootstrap
ENV WA_CHROMIUM_PATH=/usr/lib/chromium/chromium HOME=/tmp TMPDIR=/tmp
ENTRYPOINT ["/var/runtime/bootstrap"]
