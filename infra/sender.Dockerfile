# The sender as a Lambda container image with Chromium (Chromium is larger than a zip allows),
# for those who build with Docker. `make image` builds the same image without Docker, from the
# same package list (infra/image/packages.txt) and the same environment.
# The Rust binary speaks the Lambda Runtime API itself, so any base image works; Debian gives
# the same Chromium the tests use.
#
#   make release                                    # release profile, no fail points
#   docker build -f infra/sender.Dockerfile -t wacamp-sender .
#   (push to ECR, then deploy with SenderPackaging=Image SenderImageUri=<uri>)
FROM debian:bookworm-slim
COPY infra/image/packages.txt /tmp/packages.txt
RUN apt-get update \
 && grep -Ev '^\s*(#|$)' /tmp/packages.txt | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /tmp/packages.txt
COPY target/release/sender /var/runtime/bootstrap
ENV WA_CHROMIUM_PATH=/usr/lib/chromium/chromium HOME=/tmp TMPDIR=/tmp
WORKDIR /tmp
ENTRYPOINT ["/var/runtime/bootstrap"]
