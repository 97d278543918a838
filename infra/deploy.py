#!/usr/bin/env python3
"""Deploy infra/template.yaml: package the bootstrap binaries, upload them, create or update the
stack, wait for it, and print the HTTP base URL.

The same command serves the local emulator (MiniStack or LocalStack, chosen by AWS_ENDPOINT_URL)
and AWS (no AWS_ENDPOINT_URL). Run it through `make deploy`, which builds the binaries first.
"""
import argparse
import hashlib
import io
import json
import os
import sys
import time
import urllib.request
import zipfile

import boto3
import botocore.exceptions

FUNCTIONS = [
    "start_campaign", "sender", "campaign_status", "reconciler", "session_keeper",
    "webhook_events", "webhook_delivery",
]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(msg):
    print(f"deploy: {msg}", file=sys.stderr)
    sys.exit(1)


def zip_bootstrap(path):
    """A Lambda zip holding the binary as an executable `bootstrap`, byte-stable for one input."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
    return buf.getvalue()


def emulator_kind(endpoint):
    for kind, probe in (("ministack", "/_ministack/health"), ("localstack", "/_localstack/health")):
        try:
            with urllib.request.urlopen(endpoint.rstrip("/") + probe, timeout=2):
                return kind
        except Exception:
            pass
    return None


def http_base_url(outputs, endpoint, kind):
    api = outputs["ApiId"]
    if kind == "ministack":
        return f"{endpoint.rstrip('/')}/_aws/execute-api/{api}/$default"
    if kind == "localstack":
        port = endpoint.rsplit(":", 1)[-1].strip("/")
        return f"http://{api}.execute-api.localhost.localstack.cloud:{port}"
    return outputs["ApiEndpoint"]


def record_in_config(path, stack, outputs, endpoint, region):
    """Merges the stack into the CLI's TOML config file (written beside, then renamed over)."""
    import tomllib
    config = {}
    if os.path.exists(path):
        with open(path, "rb") as f:
            config = tomllib.load(f)
    stacks = config.get("stacks", {})
    entry = {"aws_region": region, "outputs": {k: str(v) for k, v in outputs.items()}}
    if endpoint:
        entry["aws_endpoint_url"] = endpoint
    stacks[stack] = entry
    q = json.dumps  # a JSON string is a valid TOML basic string
    lines = ["# The wacamp CLI's stacks, written by `make deploy` (infra/deploy.py --config-file).", f"stack = {q(stack)}", ""]
    for name, e in sorted(stacks.items()):
        lines.append(f"[stacks.{q(name)}]")
        for key in ("aws_endpoint_url", "aws_region"):
            if e.get(key):
                lines.append(f"{key} = {q(e[key])}")
        lines.append(f"[stacks.{q(name)}.outputs]")
        lines.extend(f"{q(k)} = {q(v)}" for k, v in sorted(e.get("outputs", {}).items()))
        lines.append("")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = path + ".partial"
    with open(partial, "w") as f:
        f.write("\n".join(lines))
    os.replace(partial, path)
    print(f"deploy: stack {stack} recorded in {path} (the CLI's default stack now)", file=sys.stderr)


def wait_for_stack(cfn, stack, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        status = s["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return s
        if status.endswith("_FAILED") or "ROLLBACK" in status and status.endswith("COMPLETE"):
            events = cfn.describe_stack_events(StackName=stack).get("StackEvents", [])[:10]
            reasons = [f"{e.get('LogicalResourceId')}: {e.get('ResourceStatusReason')}" for e in events if e.get("ResourceStatusReason")]
            fail(f"stack {stack} ended {status}: " + "; ".join(reasons))
        time.sleep(0.5)
    fail(f"stack {stack} not complete after {timeout} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stack", default=os.environ.get("WACAMP_STACK", "wacamp-local"))
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    ap.add_argument("--binaries", help="folder with the built function binaries (default: target/debug for a local AWS, target/release for AWS)")
    ap.add_argument("--allow-test-build", action="store_true", help="deploy the test build (fail points compiled in) to AWS anyway")
    ap.add_argument("--code-bucket", help="bucket for the zips (default: wacamp-artifacts-<account>-<region>, created if missing)")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="template parameter override (repeatable)")
    ap.add_argument("--outputs", help="write the stack outputs (plus HttpBaseUrl) as JSON to this file")
    ap.add_argument("--config-file", help="record the stack (outputs, and the emulator's endpoint) in this wacamp CLI config file and make it the default")
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    kind = emulator_kind(endpoint) if endpoint else None
    if endpoint and kind is None:
        fail(f"no local AWS answers at {endpoint}: start it with `make local-up`")
    # A local stack runs the test build (`make build`: the sender with its crash points, which
    # the crash tests configure); AWS gets the release build (`make release`), which has none.
    binaries = args.binaries or os.path.join(target, "debug" if kind else "release")
    test_build = os.path.basename(os.path.normpath(binaries)) != "release"
    if not kind and test_build and not args.allow_test_build:
        fail(f"{binaries} holds a test build (fail points compiled in); deploy `make release` to AWS (target/release) or pass --allow-test-build")
    what = "the test build (fail points compiled in)" if test_build else "the release build (no fail points)"
    print(f"deploy: deploying {what} from {binaries}", file=sys.stderr)
    session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    s3 = session.client("s3", endpoint_url=endpoint, config=botocore.config.Config(s3={"addressing_style": "path"}))
    cfn = session.client("cloudformation", endpoint_url=endpoint)

    params = dict(p.split("=", 1) for p in args.param)
    if "ApiKeySha256" not in params:
        key = os.environ.get("WACAMP_API_KEY")
        if not key:
            fail("set WACAMP_API_KEY (the key API callers will send) or pass --param ApiKeySha256=<sha256 hex>")
        params["ApiKeySha256"] = hashlib.sha256(key.encode()).hexdigest()
    if "SenderTimeoutSeconds" in params and "QueueVisibilityTimeoutSeconds" not in params:
        params["QueueVisibilityTimeoutSeconds"] = str(6 * int(params["SenderTimeoutSeconds"]))

    zips = {}
    for name in FUNCTIONS:
        path = os.path.join(binaries, name)
        if not os.path.isfile(path):
            fail(f"{path} is missing: build it with `make build` (local) or `make release` (AWS)")
        zips[name] = zip_bootstrap(path)
    digest = hashlib.sha256(b"".join(hashlib.sha256(z).digest() for z in zips.values())).hexdigest()[:16]

    bucket = args.code_bucket
    if not bucket:
        account = session.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
        bucket = f"wacamp-artifacts-{account}-{session.region_name}"
    try:
        s3.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError:
        kwargs = {} if session.region_name == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": session.region_name}}
        s3.create_bucket(Bucket=bucket, **kwargs)
    prefix = f"{args.stack}/{digest}"
    for name, body in zips.items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}.zip", Body=body)
    params.update({"CodeBucket": bucket, "CodePrefix": prefix})

    with open(os.path.join(ROOT, "infra", "template.yaml")) as f:
        template = f.read()
    call = dict(
        StackName=args.stack,
        TemplateBody=template,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(params.items())],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    try:
        existing = cfn.describe_stacks(StackName=args.stack)["Stacks"][0]["StackStatus"]
    except botocore.exceptions.ClientError:
        existing = None
    if existing in ("ROLLBACK_COMPLETE", "CREATE_FAILED", "DELETE_FAILED"):
        cfn.delete_stack(StackName=args.stack)
        existing = None
    if existing is None or existing == "DELETE_COMPLETE":
        print(f"deploy: creating stack {args.stack}", file=sys.stderr)
        cfn.create_stack(**call)
    else:
        print(f"deploy: updating stack {args.stack}", file=sys.stderr)
        try:
            cfn.update_stack(**call)
        except botocore.exceptions.ClientError as e:
            if "No updates are to be performed" not in str(e):
                raise
    stack = wait_for_stack(cfn, args.stack, args.timeout)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    outputs["HttpBaseUrl"] = http_base_url(outputs, endpoint or "", kind)
    outputs["StackName"] = args.stack
    if args.outputs:
        os.makedirs(os.path.dirname(os.path.abspath(args.outputs)), exist_ok=True)
        with open(args.outputs, "w") as f:
            json.dump(outputs, f, indent=2, sort_keys=True)
    if args.config_file:
        record_in_config(args.config_file, args.stack, outputs, endpoint, session.region_name)
    print(f"deploy: stack {args.stack} ready; HTTP API: {outputs['HttpBaseUrl']}", file=sys.stderr)
    print(outputs["HttpBaseUrl"])


if __name__ == "__main__":
    main()
