#!/usr/bin/env bash
# The everyday commands side by side: `scar put`, `scar get` and `scar ls`
# against Python SCAR 4.3.1's `scar put`, `scar get` and `scar ls`, on the
# same moto server started here on loopback, in one run. Prints each
# step's wall time and AWS requests, then a table with the ratios and the
# issue's goals.
#
#   bench/everyday/scar-vs-python.sh
#   SCAR_BIN=target/debug/scar bench/everyday/scar-vs-python.sh   # no build
#
# Steps (scar's and SCAR's runs alternate; both tools write to buckets
# made beforehand, one per tool, since scar's put does not create buckets):
#   1. put of FILES files of FILE_KIB KiB (random bytes, one local folder)
#      into a fresh S3 folder, then get of that folder into an empty local
#      folder; median of RUNS runs each. Every round trip is checked byte
#      for byte (sha256 of each file, by file name: scar keeps the local
#      folder's name in the key, SCAR flattens to FOLDER/<file name>, and
#      SCAR's get writes DIR/<full key>); any difference stops the script.
#   2. put and get of one BIG_MIB MiB file, one run each, checked with cmp.
#   3. ls of LS_N functions, median of RUNS runs. scar: `scar ls -f DIR` of
#      a workflow of LS_N S3-triggered functions deployed by `scar apply`
#      (the bench/reconcile shape). SCAR: `scar ls`, which finds functions
#      by the tags owner=<iam GetUser UserId> and createdby=scar through the
#      Resource Groups Tagging API, then calls GetFunctionConfiguration and
#      (for the faas-supervisor layer) GetLayerVersion for each. SCAR's
#      functions are created here directly with boto3 (from moto's venv),
#      as `scar init` makes them (those two tags, python3.7, 512 MB, 300 s,
#      the faas-supervisor layer whose Description is the version), and not
#      with `scar init`, which sleeps 2 s per function. SCAR 4.3.1's ls
#      dies with KeyError 'PaginationToken' once the tagging listing has a
#      second page (it passes its own kwargs' token, not the response's);
#      moto pages GetResources at 50 resources or 100 tags, so at 2 tags a
#      function a page holds 49. Then SCAR is run at 50, then at 49 (the
#      first size that works gets RUNS runs), and scar is also run on a
#      workflow of that size, so the row has a ratio.
#   AWS requests are moto's request log lines during the step (median over
#   the runs); per function, the ls rows divide by the function count. One
#   extra, untimed ls of each tool runs with moto's recorder on, to break
#   its requests down by operation: "per function" are the operations made
#   for at least every other function (and ListTags-like ones that name a
#   function), "list" the other List*, Describe*, GetResources and
#   GetRestApis calls, "fixed" the rest (made once per command whatever the
#   size: the caller's identity, the role). "Requests per function beyond
#   the list calls" counts the per-function operations only; the fixed ones
#   are shown beside it. As a cross-check, the growth of scar's requests
#   between the two ls sizes is printed too.
#
# Needs: moto in .emulator/venv (`scripts/emulator.sh install`, run here),
# PyPI once for SCAR 4.3.1 (installed into SCARPY_VENV, default
# /tmp/scarpy/venv, the same venv as ../shared/bench/scar-python-baseline.sh;
# SCAR's files are never edited), python3, curl, sha256sum, cmp,
# /usr/bin/time, ~1 GB of free disk in TMPDIR. SCAR's put/get/ls need none
# of that baseline's supervisor zip or fake GitHub (only `scar init` calls
# GitHub); they need an IAM user's key in ~/.aws/credentials (SCAR uses
# profile `default` and tags by that user's UserId) and the scar.cfg SCAR
# writes on its first run (its empty iam.role does not matter to
# put/get/ls). Both are made here in a private HOME. Everything runs on
# 127.0.0.1.
#
# Knobs (env): SCAR_BIN (scar binary; when set nothing is built, else
# `cargo build --release`), FILES=200, FILE_KIB=64, BIG_MIB=200, LS_N=100,
# RUNS=3, S3_FAST (the s3s-fs binary: also put/get the FILES files with
# S3 served by it, STS and IAM still by moto; see step 1b), LS_TRIGGERS=1 (0: scar's ls workflows have no S3 input/output,
# so no buckets to read), SCARPY_VENV=/tmp/scarpy/venv, KEEP=1 (keep the
# work folder).
#
# A run takes about 3 minutes on this project's 2-core machines (2m48s
# with a debug scar while other builds ran).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
files="${FILES:-200}" kib="${FILE_KIB:-64}" big_mib="${BIG_MIB:-200}"
ls_n="${LS_N:-100}" runs="${RUNS:-3}" triggers="${LS_TRIGGERS:-1}"
venv="${SCARPY_VENV:-/tmp/scarpy/venv}"
moto_py="$root/.emulator/venv/bin/python"
work="$(mktemp -d)"
moto_pid=""
fast_pid=""
keep="${KEEP:-0}"
cleanup() {
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; fi
  if [ -n "$fast_pid" ]; then kill "$fast_pid" 2>/dev/null || true; fi
  if [ "$keep" = 1 ]; then echo "work folder kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "FAILED: $*" >&2; keep=1; exit 1; }
note() { echo "# $*"; }

# --- the tools --------------------------------------------------------------
if [ -n "${SCAR_BIN:-}" ]; then
  scar="$SCAR_BIN"
else
  cargo build -q --release --bin scar --manifest-path "$root/Cargo.toml"
  scar="$root/target/release/scar"
fi
[ -x "$scar" ] || die "no scar binary at $scar"
for c in put get ls; do
  "$scar" "$c" --help >/dev/null 2>&1 || die "$scar has no \`$c\` command"
done
"$root/scripts/emulator.sh" install >/dev/null 2>&1 || die "scripts/emulator.sh install failed"
if [ ! -x "$venv/bin/scar" ]; then
  note "installing scar==4.3.1 into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check scar==4.3.1
fi
"$venv/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("scar") != "4.3.1")' \
  || die "$venv holds no scar 4.3.1"

# A stand-in layer: moto never runs code; the real one is supervisor/build-layer.sh's.
layer="$work/layer.zip"
python3 -c "import zipfile; z=zipfile.ZipFile('$layer','w'); z.writestr('bootstrap','#!/bin/sh\n'); z.close()"

# --- moto -------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_log="$work/moto.log"
MOTO_RECORDER_FILEPATH="$work/recording.jsonl" \
  "$moto_py" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$port" 2>"$moto_log" &
moto_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null || die "moto did not start (see $moto_log)"
ep="http://127.0.0.1:$port"
export AWS_ENDPOINT_URL="$ep" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
  SCAR_CACHE_DIR="$work/cache" SCAR_SUPERVISOR_LAYER="$layer"
requests() { grep -c '" [0-9][0-9][0-9] ' "$moto_log" || true; }

# Setup and inspection calls, with boto3 from moto's venv (never timed).
cat > "$work/helper.py" <<'PY'
import base64, collections, io, json, re, sys, zipfile
from urllib.parse import parse_qs, unquote, urlparse
import boto3

cmd, args = sys.argv[1], sys.argv[2:]

def tiny_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def lambda_handler(event, context):\n    pass\n")
    return buf.getvalue()

if cmd == "setup":          # IAM user (SCAR's identity) + role; SCAR's credentials file
    iam = boto3.client("iam")
    iam.create_user(UserName="scar-bench")
    key = iam.create_access_key(UserName="scar-bench")["AccessKey"]
    with open(args[0], "w") as f:
        f.write(f"[default]\naws_access_key_id = {key['AccessKeyId']}\n"
                f"aws_secret_access_key = {key['SecretAccessKey']}\n")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "lambda.amazonaws.com"}}]}
    iam.create_role(RoleName="scar-role", AssumeRolePolicyDocument=json.dumps(trust))
    print(iam.get_user(UserName="scar-bench")["User"]["UserId"])
elif cmd == "floor":        # BUCKET PREFIX DIR THREADS: boto3 PUTs then GETs of DIR's files, threaded
    import concurrent.futures, os, time
    bucket, prefix, d, threads = args[0], args[1], args[2], int(args[3])
    s3 = boto3.client("s3", config=boto3.session.Config(max_pool_connections=threads))
    names = sorted(os.listdir(d))
    def put(n):
        with open(os.path.join(d, n), "rb") as f:
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{n}", Body=f.read())
    def get(n):
        s3.get_object(Bucket=bucket, Key=f"{prefix}/{n}")["Body"].read()
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        t = time.monotonic(); list(ex.map(put, names)); tp = time.monotonic() - t
        t = time.monotonic(); list(ex.map(get, names)); tg = time.monotonic() - t
    print(f"{tp:.3f} {tg:.3f}")
elif cmd == "buckets":
    s3 = boto3.client("s3")
    for b in args:
        s3.create_bucket(Bucket=b)
elif cmd == "empty":        # delete every object of a bucket (frees moto's memory)
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args[0]):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=args[0], Key=o["Key"])
elif cmd == "scarfns":      # functions as SCAR 4.3.1's `scar init` tags and shapes them
    n, owner = int(args[0]), args[1]
    lam = boto3.client("lambda")
    role = boto3.client("iam").get_role(RoleName="scar-role")["Role"]["Arn"]
    code = tiny_zip()
    layer = lam.publish_layer_version(LayerName="faas-supervisor", Description="1.5.8",
                                      Content={"ZipFile": code},
                                      CompatibleRuntimes=["python3.7"])["LayerVersionArn"]
    for i in range(1, n + 1):
        name = f"sbls-{i:03d}"
        lam.create_function(FunctionName=name, Runtime="python3.7", Role=role,
                            Handler=f"{name}.lambda_handler", Code={"ZipFile": code},
                            Description="Automatically generated lambda function",
                            Timeout=300, MemorySize=512, Layers=[layer],
                            Tags={"createdby": "scar", "owner": owner},
                            Environment={"Variables": {"UDOCKER_DIR": "/tmp/shared/udocker",
                                                       "UDOCKER_BIN": "/opt/udocker/bin/",
                                                       "UDOCKER_LIB": "/opt/udocker/lib/",
                                                       "UDOCKER_EXEC": "/opt/udocker/udocker.py"}})
elif cmd == "scarfns-keep":  # delete SCAR's functions above the first N
    keep = int(args[0])
    lam = boto3.client("lambda")
    for page in lam.get_paginator("list_functions").paginate():
        for f in page["Functions"]:
            m = re.fullmatch(r"sbls-(\d+)", f["FunctionName"])
            if m and int(m.group(1)) > keep:
                lam.delete_function(FunctionName=f["FunctionName"])
elif cmd == "ops":          # a moto recording, by operation; N = functions listed
    path, n = args[0], int(args[1])
    LAMBDA = [(r"/functions/?$", {"GET": "ListFunctions"}),
              (r"/functions/[^/]+/configuration$", {"GET": "GetFunctionConfiguration"}),
              (r"/functions/[^/]+/policy$", {"GET": "GetPolicy"}),
              (r"/functions/[^/]+/concurrency$", {"GET": "GetFunctionConcurrency"}),
              (r"/functions/[^/]+/versions$", {"GET": "ListVersionsByFunction"}),
              (r"/functions/[^/]+/aliases$", {"GET": "ListAliases"}),
              (r"/functions/[^/]+/event-invoke-config$", {"GET": "GetFunctionEventInvokeConfig"}),
              (r"/functions/[^/]+/url$", {"GET": "GetFunctionUrlConfig"}),
              (r"/functions/[^/]+$", {"GET": "GetFunction"}),
              (r"/tags/.+$", {"GET": "ListTags"}),
              (r"/layers/?$", {"GET": "ListLayers"}),
              (r"/layers/[^/]+/versions/?$", {"GET": "ListLayerVersions"}),
              (r"/layers/[^/]+/versions/\d+$", {"GET": "GetLayerVersion"}),
              (r"/event-source-mappings/?$", {"GET": "ListEventSourceMappings"})]
    def op_of(e):
        h = {k.lower(): v for k, v in e.get("headers", {}).items()}
        m = re.search(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/", h.get("authorization", ""))
        svc, u = (m.group(1) if m else "?"), urlparse(e["url"])
        if "x-amz-target" in h:
            return svc, h["x-amz-target"].split(".")[-1]
        body = e.get("body") or ""
        if e.get("body_encoded"):
            try:
                body = base64.b64decode(body).decode("utf-8", "replace")
            except Exception:
                body = ""
        if svc in ("iam", "sts", "ec2", "sns", "sqs"):
            return svc, parse_qs(body).get("Action", parse_qs(u.query).get("Action", ["?"]))[0]
        path = unquote(u.path)
        if svc == "lambda":
            for pat, ops in LAMBDA:
                if re.search(pat, path) and e["method"] in ops:
                    return svc, ops[e["method"]]
        if svc == "s3":
            q, meth = parse_qs(u.query, keep_blank_values=True), e["method"]
            if path.strip("/") == "":
                return svc, "ListBuckets"
            if "/" not in path.strip("/"):
                if "list-type" in q:
                    return svc, "ListObjectsV2"
                sub = sorted(k for k in q if q[k] == [""])
                if sub:
                    verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(meth, meth)
                    what = S3_SUB.get(sub[0], sub[0])
                    return svc, f"{verb}Bucket{what}"
                return svc, {"HEAD": "HeadBucket", "GET": "ListObjects", "PUT": "CreateBucket"}.get(meth, f"{meth} bucket")
            return svc, {"HEAD": "HeadObject", "GET": "GetObject", "PUT": "PutObject"}.get(meth, f"{meth} object")
        if svc == "apigateway" and e["method"] == "GET" and re.fullmatch(r"/restapis/?", path):
            return svc, "GetRestApis"
        return svc, f"{e['method']} " + re.sub(r"/(functions|layers)/[^/]+", r"/\1/{name}", path)
    S3_SUB = {"notification": "NotificationConfiguration", "tagging": "Tagging", "location": "Location",
              "policy": "Policy", "versioning": "Versioning", "encryption": "Encryption", "acl": "Acl",
              "cors": "Cors", "lifecycle": "LifecycleConfiguration", "website": "Website"}
    ops = collections.Counter()
    for line in open(path):
        if line.strip():
            ops[op_of(json.loads(line))] += 1
    def kind(op, k):
        """per function (made for at least every other function), list, or fixed (once per command)"""
        if k * 2 >= n:
            return "per function"
        if op in ("ListTags", "ListTagsForResource", "ListVersionsByFunction", "ListAliases"):
            return "per function"   # names one function, whatever the count
        if re.match(r"(List|Describe|GetResources$|GetRestApis$)", op):
            return "list"
        return "fixed"
    per_fn = sum(k for (s, op), k in ops.items() if kind(op, k) == "per function")
    fixed = sum(k for (s, op), k in ops.items() if kind(op, k) == "fixed")
    parts = ", ".join(f"{k} {s}:{op} ({kind(op, k)})"
                      for (s, op), k in sorted(ops.items(), key=lambda x: (-x[1], x[0])))
    print(f"{sum(ops.values())}\t{per_fn}\t{fixed}; {parts}")
PY
helper() { "$moto_py" "$work/helper.py" "$@"; }

# SCAR's private HOME: ~/.aws for an IAM user's key, ~/.scar/scar.cfg from its first run.
shome="$work/scarhome"
mkdir -p "$shome/.aws"
printf '[default]\nregion = us-east-1\n' > "$shome/.aws/config"
owner=$(helper setup "$shome/.aws/credentials")
SCARPY=(env -i PATH=/usr/bin:/bin HOME="$shome" LANG=C.UTF-8 AWS_ENDPOINT_URL="$ep" AWS_DEFAULT_REGION=us-east-1
  "$venv/bin/scar")
"${SCARPY[@]}" ls >"$work/first-run.out" 2>&1 || true
[ -f "$shome/.scar/scar.cfg" ] || { cat "$work/first-run.out" >&2; die "SCAR wrote no scar.cfg"; }

# --- results ----------------------------------------------------------------
results="$work/results.tsv"   # step tool run wall requests cpu status, or step tool ops total per-fn parts
: > "$results"
mkdir -p "$work/out" "$work/cwd"
cd "$work/cwd"   # an empty folder: scar finds no scar.yaml of its own here
# measure STEP TOOL RUN CMD...: time CMD, count moto's requests; the output goes to out/.
measure() {
  local step=$1 tool=$2 run=$3 t0 t1 r0 r1 rc=0; shift 3
  local out="$work/out/$step.$tool.$run"
  r0=$(requests); t0=$(date +%s.%N)
  "${timer[@]}" -o "$out.time" "$@" >"$out.out" 2>"$out.err" || rc=$?
  t1=$(date +%s.%N); sleep 0.2; r1=$(requests)
  last_wall=$(python3 -c "print(f'{$t1 - $t0:.3f}')") last_req=$((r1 - r0)) last_out="$out"
  last_cpu=$(tail -1 "$out.time" | awk '{printf "%.2f", $1 + $2}')
  [ "$rc" = 0 ] || { cat "$out.out" "$out.err" >&2; die "$step ($tool, run $run) exited with $rc"; }
  note "$step $tool run $run: ${last_wall} s wall, $last_cpu s CPU, $last_req requests"
}
timer=(/usr/bin/time -f '%U %S')
# result STEP TOOL RUN STATUS: the last measure's figures; record: any row.
result() { record "$1" "$2" "$3" "$last_wall" "$last_req" "$last_cpu" "$4"; }
record() { local IFS=$'\t'; echo "$*" >> "$results"; }
# check_tree SRC DEST WHAT: the same files, byte for byte, by name (wherever under DEST they landed).
hashes() { (cd "$1" && find . -type f -exec sha256sum {} + | awk '{n=$2; sub(".*/", "", n); print $1, n}' | sort); }
check_tree() {
  local got want
  want=$(hashes "$1"); got=$(hashes "$2")
  [ "$(wc -l <<<"$got")" = "$(wc -l <<<"$want")" ] || die "$3: $(wc -l <<<"$got") files in $2, $(wc -l <<<"$want") put"
  [ "$got" = "$want" ] || die "$3: the files in $2 differ from $1 (sha256)"
}
layout() { (cd "$1" && find . -type f | sort | head -1 | sed 's|^\./||'); }

# --- 1. put and get of FILES small files -----------------------------------
src="$work/files"
mkdir -p "$src"
python3 - "$src" "$files" "$kib" <<'PY'
import os, sys
d, n, kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(1, n + 1):
    with open(f"{d}/f{i:03d}.bin", "wb") as f:
        f.write(os.urandom(kib * 1024))
PY
helper buckets rs-files py-files rs-big py-big
for r in $(seq "$runs"); do
  measure put_files scar "$r" "$scar" put "$src" "s3://rs-files/run$r"
  result put_files scar "$r" ok
  measure put_files scar431 "$r" "${SCARPY[@]}" put -b "py-files/run$r" -p "$src"
  grep -qi 'error\|traceback' "$last_out.out" "$last_out.err" && { cat "$last_out.out" >&2; die "SCAR put failed"; }
  result put_files scar431 "$r" ok
done
for r in $(seq "$runs"); do
  mkdir "$work/get-rs-$r" "$work/get-py-$r"
  measure get_files scar "$r" "$scar" get "s3://rs-files/run$r" "$work/get-rs-$r"
  check_tree "$src" "$work/get-rs-$r" "scar put+get of $files files (run $r)"
  result get_files scar "$r" ok
  measure get_files scar431 "$r" "${SCARPY[@]}" get -b "py-files/run$r" -p "$work/get-py-$r"
  check_tree "$src" "$work/get-py-$r" "SCAR 4.3.1 put+get of $files files (run $r)"
  result get_files scar431 "$r" ok
done
# The emulator's own bound: the same PUTs and GETs from boto3 in 16
# threads (scar's --parallelism), no CLI around them: no client can be
# much faster than this against this moto.
for r in $(seq "$runs"); do
  read -r fp fg < <(helper floor rs-files "floor$r" "$src" 16)
  record put_files floor "$r" "$fp" 0 0 ok
  record get_files floor "$r" "$fg" 0 0 ok
done

# --- 1b. the same against a fast S3 (S3_FAST=path to s3s-fs) ----------------
# moto serves about 110 requests a second, which bounds both tools above.
# s3s-fs (crates.io: `cargo install s3s-fs@0.14.1 --features binary`) is an
# S3 implementation over a folder; with it as the S3 endpoint
# (AWS_ENDPOINT_URL_S3; STS and IAM stay on moto) the clients' own costs
# show. It takes one key pair: the IAM user's SCAR already uses.
if [ -n "${S3_FAST:-}" ]; then
  key=$(sed -n 's/^aws_access_key_id *= *//p' "$shome/.aws/credentials")
  secret=$(sed -n 's/^aws_secret_access_key *= *//p' "$shome/.aws/credentials")
  fport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/fast/rs-fast" "$work/fast/py-fast"
  "$S3_FAST" --host 127.0.0.1 --port "$fport" --access-key "$key" --secret-key "$secret" "$work/fast" \
    >"$work/s3s.log" 2>&1 &
  fast_pid=$!
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$fport/" >/dev/null && break; sleep 0.1; done
  fast_ep="http://127.0.0.1:$fport"
  n_py=${#SCARPY[@]}
  scarpy_fast=("${SCARPY[@]:0:n_py-1}" AWS_ENDPOINT_URL_S3="$fast_ep" "${SCARPY[n_py-1]}")
  for r in $(seq "$runs"); do
    AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" AWS_ENDPOINT_URL_S3="$fast_ep" \
      measure put_fast scar "$r" "$scar" put "$src" "s3://rs-fast/run$r"
    result put_fast scar "$r" ok
    measure put_fast scar431 "$r" "${scarpy_fast[@]}" put -b "py-fast/run$r" -p "$src"
    result put_fast scar431 "$r" ok
    mkdir "$work/fast-rs-$r" "$work/fast-py-$r"
    AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" AWS_ENDPOINT_URL_S3="$fast_ep" \
      measure get_fast scar "$r" "$scar" get "s3://rs-fast/run$r" "$work/fast-rs-$r"
    check_tree "$src" "$work/fast-rs-$r" "scar put+get against s3s-fs (run $r)"
    result get_fast scar "$r" ok
    measure get_fast scar431 "$r" "${scarpy_fast[@]}" get -b "py-fast/run$r" -p "$work/fast-py-$r"
    check_tree "$src" "$work/fast-py-$r" "SCAR 4.3.1 put+get against s3s-fs (run $r)"
    result get_fast scar431 "$r" ok
    rm -rf "$work/fast-rs-$r" "$work/fast-py-$r"
  done
  kill "$fast_pid" 2>/dev/null || true
  note "against s3s-fs: round trips identical (sha256); requests are not counted there (moto's log sees none)"
fi
note "round trips of $files files identical (sha256); a file landed at get-dir/$(layout "$work/get-rs-1") (scar), get-dir/$(layout "$work/get-py-1") (SCAR)"
rm -rf "$work"/get-rs-* "$work"/get-py-*

# --- 2. put and get of one BIG_MIB file -------------------------------------
mkdir -p "$work/big"
head -c "$((big_mib * 1024 * 1024))" /dev/urandom > "$work/big/big.bin"
for tool in scar scar431; do
  mkdir "$work/got"
  if [ "$tool" = scar ]; then
    measure put_big scar 1 "$scar" put "$work/big/big.bin" s3://rs-big/big
    result put_big scar 1 ok
    measure get_big scar 1 "$scar" get s3://rs-big/big "$work/got"
  else
    measure put_big scar431 1 "${SCARPY[@]}" put -b py-big/big -p "$work/big/big.bin"
    result put_big scar431 1 ok
    measure get_big scar431 1 "${SCARPY[@]}" get -b py-big/big -p "$work/got"
  fi
  mapfile -t got < <(find "$work/got" -type f)
  [ "${#got[@]}" = 1 ] || die "get of the $big_mib MiB file ($tool) left ${#got[@]} files"
  cmp -s "$work/big/big.bin" "${got[0]}" || die "get of the $big_mib MiB file ($tool) differs from the file put"
  result get_big "$tool" 1 ok
  note "$tool: $big_mib MiB round trip identical (cmp), at get-dir/${got[0]#"$work/got/"}"
  rm -rf "$work/got"
done
helper empty rs-big; helper empty py-big

# --- 3. ls ------------------------------------------------------------------
# workflow DIR NAME N: S3-triggered functions NAME-001..N, as bench/reconcile deploys
# (LS_TRIGGERS=0: the same functions without their S3 input and output).
workflow() {
  mkdir -p "$1"
  {
    echo "workflow: $2"
    echo "functions:"
    echo "  aws:"
    for i in $(seq -f %03g 1 "$3"); do
      printf '  - lambda:\n      name: %s\n      init_script: grayify-image.sh\n' "$2-$i"
      if [ "$triggers" = 1 ]; then
        printf '      input:\n      - storage_provider: s3\n        path: %s/input\n' "$2-$i"
        printf '      output:\n      - storage_provider: s3\n        path: %s/output\n' "$2-$i"
      fi
    done
  } > "$1/scar.yaml"
  # shellcheck disable=SC2016
  printf '#!/bin/sh\nconvert "$INPUT_FILE_PATH" -type Grayscale "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"\n' \
    > "$1/grayify-image.sh"
}
deploy() {  # N: apply a workflow of N functions into $work/wf-N
  workflow "$work/wf-$1" "rsls$1" "$1"
  note "scar apply of $1 functions (setup for ls, not compared):"
  measure "apply_$1" scar 1 "$scar" apply --auto-approve --supervisor-layer "$layer" -f "$work/wf-$1"
  grep -q "Apply complete!" "$last_out.out" || { cat "$last_out.out" "$last_out.err" >&2; die "scar apply of $1 functions"; }
}
listed() { grep -o "$1-[0-9][0-9][0-9]" "$2" | sort -u | wc -l; }
# recorded STEP TOOL N CMD...: one untimed run with moto's recorder on; its breakdown goes to $results.
recorded() {
  local step=$1 tool=$2 n=$3; shift 3
  curl -sf -X POST "$ep/moto-api/recorder/reset-recording" >/dev/null
  curl -sf -X POST "$ep/moto-api/recorder/start-recording" >/dev/null
  "$@" >/dev/null 2>&1 || true
  curl -sf -X POST "$ep/moto-api/recorder/stop-recording" >/dev/null
  IFS=$'\t' read -r total beyond parts < <(helper ops "$work/recording.jsonl" "$n")
  record "$step" "$tool" ops "$total" "$beyond" "$parts"
  curl -sf -X POST "$ep/moto-api/recorder/reset-recording" >/dev/null
}
ls_scar() {  # N
  for r in $(seq "$runs"); do
    measure "ls_$1" scar "$r" "$scar" ls --supervisor-layer "$layer" -f "$work/wf-$1"
    [ "$(listed "rsls$1" "$last_out.out")" = "$1" ] \
      || { cat "$last_out.out" >&2; die "scar ls listed $(listed "rsls$1" "$last_out.out") of $1 functions"; }
    result "ls_$1" scar "$r" ok
  done
  recorded "ls_$1" scar "$1" "$scar" ls --supervisor-layer "$layer" -f "$work/wf-$1"
}
ls_py() {  # N: RUNS runs, or one if SCAR fails; returns 1 if it failed
  local r
  for r in $(seq "$runs"); do
    measure "ls_$1" scar431 "$r" "${SCARPY[@]}" ls
    if grep -q "PaginationToken" "$last_out.out" "$last_out.err"; then
      result "ls_$1" scar431 "$r" "failed: KeyError PaginationToken"
      note "SCAR 4.3.1 ls of $1 functions: KeyError 'PaginationToken' (exit status 0)"
      return 1
    fi
    [ "$(listed sbls "$last_out.out")" = "$1" ] \
      || { cat "$last_out.out" >&2; die "SCAR ls listed $(listed sbls "$last_out.out") of $1 functions"; }
    result "ls_$1" scar431 "$r" ok
  done
  recorded "ls_$1" scar431 "$1" "${SCARPY[@]}" ls
}

deploy "$ls_n"
helper scarfns "$ls_n" "$owner"
ls_scar "$ls_n"
py_n=""
if ls_py "$ls_n"; then
  py_n=$ls_n
else
  for m in 50 49; do
    [ "$m" -lt "$ls_n" ] || continue
    helper scarfns-keep "$m"
    if ls_py "$m"; then py_n=$m; break; fi
  done
  [ -n "$py_n" ] || die "SCAR 4.3.1's ls failed at every size tried"
  deploy "$py_n"
  ls_scar "$py_n"
fi

# --- table ------------------------------------------------------------------
python3 - "$results" "$files" "$kib" "$big_mib" "$ls_n" "$py_n" "$runs" <<'PY'
import statistics, sys
path, files, kib, big, ls_n, py_n, runs = sys.argv[1:]
files, kib, big, ls_n, py_n, runs = int(files), int(kib), int(big), int(ls_n), int(py_n), int(runs)
rows, ops = {}, {}
for line in open(path):
    step, tool, run, rest = line.rstrip("\n").split("\t", 3)
    if run == "ops":
        a, b, c = rest.split("\t", 2)
        fixed, parts = c.split("; ", 1)
        ops[(step, tool)] = (int(a), int(b), int(fixed), parts)
    else:
        a, b, cpu, status = rest.split("\t", 3)
        rows.setdefault((step, tool), []).append((float(a), int(b), status, float(cpu)))

def fig(step, tool):
    """(median wall, median requests, the failure or None); a failed run stands alone"""
    rs = rows.get((step, tool))
    if not rs:
        return None
    bad = [r for r in rs if r[2] != "ok"]
    if bad:
        return bad[0]
    return (statistics.median(r[0] for r in rs), statistics.median_low(r[1] for r in rs), None,
            statistics.median(r[3] for r in rs))

steps = [("put_files", f"put {files} files of {kib} KiB"), ("get_files", f"get {files} files of {kib} KiB"),
         ("put_fast", f"put {files} files, S3 on s3s-fs"), ("get_fast", f"get {files} files, S3 on s3s-fs"),
         ("put_big", f"put 1 file of {big} MiB"), ("get_big", f"get 1 file of {big} MiB"),
         (f"ls_{ls_n}", f"ls {ls_n} functions")]
if py_n != ls_n:
    steps.append((f"ls_{py_n}", f"ls {py_n} functions"))
w = max(len(t) for _, t in steps + [("", "  per function beyond list calls")])
print()
print(f"median of {runs} runs (put/get of {files} files, ls), one run for {big} MiB; ratio: SCAR wall / scar wall;")
print("requests: moto's request log; CPU: user+sys of the client process (moto's own time is in neither)")
hdr = (f"{'step':{w}} | {'scar wall':>10} | {'SCAR wall':>34} | {'ratio':>7} | {'scar requests':>13} | "
       f"{'SCAR requests':>13} | {'scar CPU':>8} | {'SCAR CPU':>8}")
print(hdr); print("-" * len(hdr))
ratio = {}
for step, title in steps:
    a, b = fig(step, "scar"), fig(step, "scar431")
    if not a and not b:
        continue
    aw = f"{a[0]:.3f} s" if a else "-"
    if b and b[2]:
        bw, rt = b[2], "-"
    elif b:
        bw = f"{b[0]:.3f} s"
        ratio[step] = b[0] / a[0]
        rt = f"{ratio[step]:.1f}x"
    else:
        bw, rt = "-", "-"
    ac = f"{a[3]:.2f} s" if a else "-"
    bc = f"{b[3]:.2f} s" if b else "-"
    print(f"{title:{w}} | {aw:>10} | {bw:>34} | {rt:>7} | {a[1] if a else '-':>13} | {b[1] if b else '-':>13} | "
          f"{ac:>8} | {bc:>8}")
    if step.startswith("ls_"):
        n = int(step[3:])
        pa = f"{a[1] / n:.2f}" if a else "-"
        pb = f"{b[1] / n:.2f}" if b and not b[2] else "-"
        print(f"{'  requests per function':{w}} | {'':>10} | {'':>34} | {'':>7} | {pa:>13} | {pb:>13}")
        oa, ob = ops.get((step, "scar")), ops.get((step, "scar431"))
        qa = f"{oa[1] / n:.2f}" if oa else "-"
        qb = f"{ob[1] / n:.2f}" if ob else "-"
        print(f"{'  per function beyond list calls':{w}} | {'':>10} | {'':>34} | {'':>7} | {qa:>13} | {qb:>13}")
print()
for (step, tool), (total, per_fn, fixed, parts) in sorted(ops.items(), key=lambda x: ([s for s, _ in steps].index(x[0][0]), x[0][1])):
    name = "scar" if tool == "scar" else "SCAR 4.3.1"
    print(f"requests of one {name} {step.replace('_', ' ')} functions (recorded): {total} "
          f"({per_fn} per function, {fixed} fixed, {total - per_fn - fixed} list): {parts}")
print()
print("goal: >= 5x faster on 200 files; ls <= 1 request per function beyond the list calls")
pf, gf = ratio.get("put_files"), ratio.get("get_files")
ok1 = pf is not None and gf is not None and pf >= 5 and gf >= 5
print(f"  {files} files: put {pf:.1f}x, get {gf:.1f}x faster -> {'holds' if ok1 else 'does not hold'}")
for step in ("put_files", "get_files"):
    a = fig(step, "scar")
    print(f"    ({step.split('_')[0]}: scar's CPU is {a[3]:.2f} s of its {a[0]:.2f} s wall; the rest is waiting on moto)")
pq, gq = ratio.get("put_fast"), ratio.get("get_fast")
if pq is not None and gq is not None:
    ok3 = pq >= 5 and gq >= 5
    print(f"  {files} files with S3 on s3s-fs: put {pq:.1f}x, get {gq:.1f}x faster -> {'holds' if ok3 else 'does not hold'}")
for step in ("put_files", "get_files"):
    fl, b = fig(step, "floor"), fig(step, "scar431")
    if fl and b and not b[2]:
        print(f"    ({step.split('_')[0]}: the emulator's floor, boto3 in 16 threads with no CLI, is {fl[0]:.2f} s: "
              f"at most {b[0] / fl[0]:.1f}x SCAR's time for any client against this moto)")
o = ops.get((f"ls_{ls_n}", "scar"))
if o:
    ok2 = o[1] / ls_n <= 1
    print(f"  ls of {ls_n}: scar makes {o[1] / ls_n:.2f} requests per function beyond the list calls "
          f"({o[1]} of {o[0]}; plus {o[2]} fixed) -> {'holds' if ok2 else 'does not hold'}")
big_ls = fig(f"ls_{ls_n}", "scar")
if py_n != ls_n:
    small = fig(f"ls_{py_n}", "scar")
    print(f"  (cross-check: scar's requests grow by {(big_ls[1] - small[1]) / (ls_n - py_n):.2f} per function "
          f"from {py_n} to {ls_n} functions, extra list pages included)")
PY
