#!/usr/bin/env bash
# The one prepared GPU check, for a lent GPU machine (H100/H200, 16 cores, no network).
# It finishes in under 5 minutes: every step runs under `timeout`, within a total budget
# (GPU_CHECK_BUDGET_S, default 270 s) that keeps time back for the benchmark.
#
# What it expects. Nothing is downloaded (the machine has no network), so the caller prepares:
#   * a Python with CUDA builds of cupy (cupy-cuda12x or cupy-cuda13x), torch and jax with its
#     CUDA plugin (jax[cuda12] or jax-cuda13-plugin), plus numpy and pytest: $PYTHON, else
#     ./.venv/bin/python if it exists, else python3. (On this workplace's device image, python3,
#     /opt/torch/.venv, has all of these.) This script creates no environment from the network.
#   * array-api-compat and array-api-strict (pure Python): installed in that Python, or as wheels
#     in $WHEELHOUSE (default ./.whl), which are then installed offline into a temporary folder.
#   * the project's entry points (the tapeconf adapters, the pytest plugin): when tape-conformance
#     is not installed in that Python, its metadata is written offline (setuptools egg_info) into
#     the same temporary folder, which goes on PYTHONPATH with the repository root.
# If something is missing it stops with exit status 2 and a message saying what and how to add it.
#
# Steps: nvidia-smi -L; prerequisites (CUDA seen by CuPy, torch and JAX; GPU:0 in reference_impl's
# devices); (a) pytest tests/test_backends.py tests/test_conformance.py --adapter reference (cells on
# CPU:0 and GPU:0), `tapeconf report`, and CPU:0 vs GPU:0 verdicts compared scenario by scenario;
# (b) benchmarks/bench_gpu.py --device gpu; (c) a summary table.
#
# Files under $OUT (default: a new temporary folder): pytest.log, gpu-report/{results.json,
# REPORT.md,report.html}, bench_gpu.json, bench_gpu.md, summary.md.
#
# Usage:   OUT=/tmp/gpu-check bash scripts/gpu_check.sh
# Exit:    0 every step passed; 1 a step failed or timed out; 2 a prerequisite is missing.

set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
REPO_ROOT=$(pwd)
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")}
mkdir -p "$OUT" || exit 2
WHEELHOUSE=${WHEELHOUSE:-$REPO_ROOT/.whl}
BUDGET_S=${GPU_CHECK_BUDGET_S:-270}
DEADLINE=$((SECONDS + BUDGET_S))
if [[ -n ${PYTHON:-} ]]; then
    PY=$PYTHON
elif [[ -x .venv/bin/python ]]; then
    PY=.venv/bin/python
else
    PY=python3
fi
SITE=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check_site.XXXXXX") || exit 2
trap 'rm -rf "$SITE"' EXIT
export PYTHONPATH="$SITE:$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2

SUMMARY_ROWS=()
FAILED=0

# Seconds a step may take: its cap, cut so that `reserve` seconds stay for the steps after it.
step_limit() {
    local cap=$1 reserve=$2
    local left=$((DEADLINE - SECONDS - reserve))
    ((left < cap)) && cap=$left
    ((cap < 5)) && cap=5
    echo "$cap"
}

# record STEP RESULT SECONDS: one row of the summary table; a result other than "ok" fails the run.
record() {
    SUMMARY_ROWS+=("| $1 | $2 | $3 |")
    [[ $2 == ok* ]] || FAILED=1
}

# describe_status RC LIMIT: the result column for an exit status from `timeout LIMIT ...`.
describe_status() {
    case $1 in
        0) echo "ok" ;;
        124 | 137) echo "TIMED OUT after $2 s" ;;
        *) echo "FAILED (exit status $1)" ;;
    esac
}

banner() {
    printf '\n==== %s (at %d s of %d s)\n' "$1" "$SECONDS" "$BUDGET_S"
}

missing_prerequisite() {
    echo "gpu_check: missing prerequisite: $*" >&2
    echo "gpu_check: see the header of scripts/gpu_check.sh for what this check expects" >&2
    exit 2
}

# ---- the GPU -----------------------------------------------------------------------------------

banner "nvidia-smi -L"
GPU_LIST=$(timeout -k 5 20 nvidia-smi -L 2>&1) \
    || missing_prerequisite "nvidia-smi -L failed: no NVIDIA GPU or driver here ($GPU_LIST)"
echo "$GPU_LIST"

# ---- prerequisites -----------------------------------------------------------------------------

banner "prerequisites ($PY)"
"$PY" -c 'import sys; assert sys.version_info >= (3, 10)' 2>/dev/null \
    || missing_prerequisite "$PY is not a Python 3.10+ (set PYTHON=/path/to/python)"

if ! "$PY" -c 'import array_api_compat, array_api_strict' 2>/dev/null; then
    if compgen -G "$WHEELHOUSE/*.whl" >/dev/null; then
        echo "installing the wheels in $WHEELHOUSE into $SITE (offline)"
        PIP_ROOT_USER_ACTION=ignore timeout -k 5 60 "$PY" -m pip install -q --no-index --no-deps \
            --no-compile --disable-pip-version-check \
            --target "$SITE" "$WHEELHOUSE"/*.whl \
            || missing_prerequisite "pip could not install the wheels in $WHEELHOUSE"
    fi
fi

has_entry_points='from importlib.metadata import entry_points
import sys
names = {e.name for e in entry_points(group="tapeconf.adapters")}
sys.exit(0 if "reference" in names else 1)'
if ! "$PY" -c "$has_entry_points"; then
    echo "tape-conformance is not installed in $PY: writing its metadata into $SITE (offline)"
    timeout -k 5 60 "$PY" -c 'import sys, setuptools
sys.argv = ["setup.py", "-q", "egg_info", "--egg-base", sys.argv[1]]
setuptools.setup()' "$SITE" >/dev/null \
        || missing_prerequisite "setuptools could not write the project metadata (is setuptools in $PY?)"
    "$PY" -c "$has_entry_points" || missing_prerequisite "the tapeconf.adapters entry points"
fi

started=$SECONDS
limit=$(step_limit 90 200)
timeout -k 10 "$limit" "$PY" - <<'EOF'
import importlib
import sys

problems = []


def need(module, hint, check=None):
    try:
        loaded = importlib.import_module(module)
        detail = check(loaded) if check else ""
        print(f"  {module} {getattr(loaded, '__version__', '')} {detail}".rstrip())
    except Exception as error:
        problems.append(f"{module}: {type(error).__name__}: {error} -> {hint}")


def cuda_count(cupy):
    count = cupy.cuda.runtime.getDeviceCount()
    assert count >= 1, "CuPy sees no CUDA device"
    return f"({count} CUDA device(s))"


def torch_cuda(torch):
    assert torch.cuda.is_available(), f"torch {torch.__version__} sees no CUDA device"
    return f"(CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)})"


def jax_gpu(jax):
    return f"({jax.devices('gpu')})"


need("numpy", "pip install numpy")
need("pytest", "pip install pytest")
need("cupy", "a CUDA build: cupy-cuda12x or cupy-cuda13x", cuda_count)
need("torch", "a CUDA build of torch", torch_cuda)
need("jax", "jax with its CUDA plugin: jax[cuda12] or jax-cuda13-plugin", jax_gpu)
need("array_api_compat", "pip install array-api-compat, or carry its wheel in WHEELHOUSE (./.whl)")
need("array_api_strict", "pip install array-api-strict, or carry its wheel in WHEELHOUSE (./.whl)")
if not problems:
    import reference_impl

    devices = reference_impl.available_devices()
    print(f"  reference_impl devices: {devices}")
    if "GPU:0" not in devices:
        problems.append(f"reference_impl.available_devices() is {devices}: GPU:0 is missing")
for problem in problems:
    print(f"MISSING {problem}")
sys.exit(2 if problems else 0)
EOF
rc=$?
((rc == 124 || rc == 137)) && missing_prerequisite "the check of the prerequisites timed out after $limit s"
((rc == 0)) || missing_prerequisite "see the MISSING lines above"
record "prerequisites" "ok" $((SECONDS - started))

# ---- (a) conformance on CPU:0 and GPU:0 --------------------------------------------------------

banner "(a) pytest tests/test_backends.py tests/test_conformance.py --adapter reference"
started=$SECONDS
limit=$(step_limit 120 150)
timeout -k 10 "$limit" "$PY" -m pytest -q -p no:cacheprovider \
    tests/test_backends.py tests/test_conformance.py --adapter reference 2>&1 | tee "$OUT/pytest.log"
status=$(describe_status "${PIPESTATUS[0]}" "$limit")
tally=$(grep -E '^[0-9]+ (passed|failed|skipped|errors?)' "$OUT/pytest.log" | tail -1)
record "pytest backends + conformance (reference)" "$status${tally:+: $tally}" \
    $((SECONDS - started))

report_dir="$OUT/gpu-report"
if [[ -f conformance/cli.py ]]; then
    banner "(a) tapeconf report --adapter reference --out $report_dir"
    started=$SECONDS
    limit=$(step_limit 90 115)
    timeout -k 10 "$limit" "$PY" -m conformance report --adapter reference --out "$report_dir"
    record "tapeconf report (reference)" "$(describe_status $? "$limit")" $((SECONDS - started))

    banner "(a) CPU:0 vs GPU:0 verdicts, scenario by scenario"
    started=$SECONDS
    limit=$(step_limit 20 100)
    comparison=$(timeout -k 5 "$limit" "$PY" - "$report_dir/results.json" 2>&1 <<'EOF'
import json
import sys

try:
    with open(sys.argv[1], encoding="utf-8") as handle:
        records = json.load(handle)["results"]
except (OSError, ValueError, KeyError) as error:
    sys.exit(f"no conformance results to compare: {error}")
cells = {}
for record in records:
    if record["adapter"] == "reference":
        cells.setdefault(record["id"], {})[record["device"]] = record
gpu_cells = sum("GPU:0" in by_device for by_device in cells.values())
differ = []
for scenario, by_device in cells.items():
    cpu, gpu = by_device.get("CPU:0"), by_device.get("GPU:0")
    verdicts = [cell["verdict"] if cell else "missing" for cell in (cpu, gpu)]
    if verdicts[0] != verdicts[1]:
        detail = " ".join(((gpu or cpu or {}).get("detail") or "").split())[:300]
        differ.append(f"{scenario}: CPU:0 {verdicts[0]}, GPU:0 {verdicts[1]}: {detail}")
print(
    f"{len(cells)} scenarios, {len(cells) - len(differ)} same verdict on CPU:0 and GPU:0, "
    f"{len(differ)} differ"
)
if cells and not any("GPU:0" in by_device for by_device in cells.values()):
    print("  DIFFERS everywhere: results.json has no GPU:0 cell (did CuPy reach the GPU?)")
    differ = []
for line in differ[:40]:
    print(f"  DIFFERS {line}")
if len(differ) > 40:
    print(f"  ... and {len(differ) - 40} more (see gpu-report/REPORT.md)")
sys.exit(1 if differ or not gpu_cells or not cells else 0)
EOF
    )
    rc=$?
    echo "$comparison"
    result=$(describe_status "$rc" "$limit")
    record "CPU:0 vs GPU:0 verdicts" "$result: $(head -1 <<<"$comparison")" $((SECONDS - started))
else
    record "tapeconf report" "FAILED (conformance/cli.py does not exist)" 0
fi

# ---- (b) the benchmark -------------------------------------------------------------------------

# "ok" when every framework ran on the GPU, else which did not: a skip here is a failed check.
bench_statuses() {
    timeout -k 5 10 "$PY" - "$OUT/bench_gpu.json" 2>&1 <<'EOF'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as handle:
    frameworks = json.load(handle)["frameworks"]
not_run = [f"{name} {run['status']}" for name, run in frameworks.items() if run["status"] != "ok"]
print(f"INCOMPLETE: {', '.join(not_run)}" if not_run else "ok")
EOF
}

banner "(b) benchmarks/bench_gpu.py --device gpu"
started=$SECONDS
limit=$(step_limit 240 10)
timeout -k 10 "$limit" "$PY" benchmarks/bench_gpu.py --device gpu --json "$OUT/bench_gpu.json" \
    | tee "$OUT/bench_gpu.md"
status=$(describe_status "${PIPESTATUS[0]}" "$limit")
[[ $status == ok ]] && status=$(bench_statuses)
record "bench_gpu.py --device gpu" "$status" $((SECONDS - started))

# ---- (c) summary -------------------------------------------------------------------------------

# The benchmark's key lines from its JSON: where each framework ran, the ratios, the target.
bench_summary() {
    timeout -k 5 10 "$PY" - "$OUT/bench_gpu.json" <<'EOF'
import json
import sys

try:
    with open(sys.argv[1], encoding="utf-8") as handle:
        payload = json.load(handle)
except (OSError, ValueError) as error:
    sys.exit(f"no benchmark results: {error}")
for name, framework in payload["frameworks"].items():
    where = framework["placement"] or framework["detail"][:200]
    print(f"- {name}: {framework['status']}: {where}")
for row in payload["summary"]["rows"]:
    if row["framework"] == "reference":
        ratios = ", ".join(
            f"{width}: {cell['ratio_to_torch']:.2f}"
            for width, cell in row["widths"].items()
            if cell["ratio_to_torch"] is not None
        )
        print(f"- reference / torch by width: {ratios or 'not measured'}")
target = payload["summary"]["target"]
verdict = "not measured" if target["met"] is None else ("met" if target["met"] else "NOT met")
ratio = "-" if target["ratio"] is None else f"{target['ratio']:.2f}"
print(
    f"- target reference / torch at width {target['width']} <= {target['target_max']}: "
    f"{ratio} ({verdict}); all frameworks run: {payload['complete']}"
)
EOF
}

{
    echo "# GPU check summary"
    echo
    echo '```'
    echo "$GPU_LIST"
    echo '```'
    echo
    echo "| step | result | seconds |"
    echo "|---|---|---:|"
    printf '%s\n' "${SUMMARY_ROWS[@]}"
    echo
    bench_summary 2>&1
    echo
    echo "Total: $SECONDS s of a $BUDGET_S s budget. Files: $OUT"
} >"$OUT/summary.md"
banner "(c) summary"
cat "$OUT/summary.md"
exit "$FAILED"
