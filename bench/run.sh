#!/usr/bin/env bash
# The whole benchmark suite in one command, sized to finish in about 5 minutes on the 2-core
# machine: builds bench/target/benchmarks.jar when sources changed, runs the interleaved suite
# (org.conv4j.bench.Suite) over every shape of bench/shapes.csv at 1 and 2 threads, then
# regenerates the results section of bench/README.md and bench/chart.png (org.conv4j.bench.Report;
# it also measures the FMA peak at the ISA in use).
#
#   bench/run.sh                      # everything; exit 1 if an implementation failed or an output
#                                     # was off the reference (the committed report is then left alone)
#   SHAPES=seed2d,r50_3x3_14 bench/run.sh --quick   # smoke run: two shapes, 3 short rounds,
#                                                   # report in bench/target/results/ only
#   ORT_VERSION=1.20.0 bench/run.sh   # rebuild against ONNX Runtime 1.20.0 instead of 1.29.0
#
# Environment: SHAPES (comma-separated subset), IMPLS (subset of
# conv4j,winograd,java,naive,ort,onednn), CONV4J_BENCH_SHAPES (the CSV; default bench/shapes.csv,
# the standard layer set, the same rows as the shared ../shared/bench-shapes.csv), ORT_VERSION,
# JAVA (java binary), JAVA_OPTS (more JVM options), BENCH_NOTE (a line added to the report).
# oneDNN's OpenMP runtime reads OMP_NUM_THREADS once per process, so each shape and thread count
# runs in its own JVM with OMP_NUM_THREADS set.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
java_bin=${JAVA:-java}
jar=bench/target/benchmarks.jar
out=bench/target/results
shapes_file=$(realpath "${CONV4J_BENCH_SHAPES:-$root/bench/shapes.csv}")
[ -f "$shapes_file" ] || { echo "run.sh: no shapes file at $shapes_file (set CONV4J_BENCH_SHAPES)" >&2; exit 2; }

# Per shape and thread count, one JVM (org.conv4j.bench.Suite) sets up every implementation side
# by side, warms each up for 0.4 s, then times them in 5 interleaved rounds of ~0.15 s each (the
# order rotating per round); a call longer than that is one call per round. The report shows the
# median of the rounds with their min-max.
timing=(--rounds 5 --iteration-ms 150 --warmup-ms 400)
quick=
if [ "${1:-}" = "--quick" ]; then
  timing=(--rounds 3 --iteration-ms 50 --warmup-ms 100)
  quick=1
  shift
fi

start=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# The ONNX Runtime the jar should carry: ORT_VERSION, else the pom's default.
ort_version=${ORT_VERSION:-$(sed -n 's|.*<onnxruntime.version>\(.*\)</onnxruntime.version>.*|\1|p' bench/pom.xml)}
jar_ort_version() {
  unzip -p "$jar" META-INF/maven/com.microsoft.onnxruntime/onnxruntime/pom.xml 2>/dev/null \
    | sed -n 's|^  <version>\(.*\)</version>|\1|p' | head -n 1
}
mvn_args=(-B -q -DskipTests -pl bench -am package "-Donnxruntime.version=$ort_version")
if [ ! -f "$jar" ] || [ "$(jar_ort_version)" != "$ort_version" ] \
   || [ -n "$(find pom.xml java/pom.xml java/src/main native bench/pom.xml bench/src/main CMakeLists.txt -newer "$jar" -print -quit)" ]; then
  echo "run.sh: building $jar"
  mvn "${mvn_args[@]}"
fi

cp_props=("-Dconv4j.bench.shapes=$shapes_file")
all=${SHAPES:-$("$java_bin" "${cp_props[@]}" -cp "$jar" org.conv4j.bench.Shape)}

rm -rf "$out"
mkdir -p "$out"
# The Vector API module lets the Java backend use its vector micro-kernel (Conv4j.javaKernel()).
jvm_args=(--add-modules jdk.incubator.vector "-Dconv4j.bench.shapes=$shapes_file"
          "-Dconv4j.bench.implLog=$root/$out/implementations.tsv")
impls=${IMPLS:-conv4j,winograd,java,naive,ort,onednn}

# oneDNN's OpenMP runtime reads OMP_NUM_THREADS at process start: one JVM per shape and thread count.
# A failed implementation or an output off the reference does not stop the other shapes; it fails
# the run at the end (exit 1) and the report, then written under bench/target/results only, says
# "missing" or MISMATCH where it happened.
failed=
for shape in ${all//,/ }; do
  for threads in 1 2; do
    log="$out/$shape-${threads}t.log"
    echo "run.sh: $shape, $threads thread(s)"
    if ! OMP_NUM_THREADS=$threads "$java_bin" "${jvm_args[@]}" ${JAVA_OPTS:-} -cp "$jar" org.conv4j.bench.Suite \
        --shape "$shape" --threads "$threads" --impls "$impls" "${timing[@]}" --out "$out/samples.tsv" > "$log" 2>&1; then
      echo "run.sh: $shape at $threads thread(s) had a failure or a mismatch, see $log:" >&2
      grep -E 'fail|MISMATCH|Exception' "$log" | head -n 5 >&2 || true
      failed=1
    fi
  done
done

elapsed=$(( $(date +%s) - start ))
note="Suite time: $((elapsed / 60)) min $((elapsed % 60)) s (build and benchmarks; \`bench/run.sh\`). Load average before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)."
readme=bench/README.md
chart=bench/chart.png
if [ -n "$quick" ] || [ -n "$failed" ] || [ -n "${SHAPES:-}" ] || [ -n "${IMPLS:-}" ]; then
  # a smoke run, a partial one or a failed one leaves the committed report alone
  readme=$out/README.md
  chart=$out/chart.png
  cp bench/README.md "$readme"
fi
args=(--results "$out" --readme "$readme" --chart "$chart" --note "$note")
if [ -n "${BENCH_NOTE:-}" ]; then
  args+=(--note "$BENCH_NOTE")
fi
OMP_NUM_THREADS=2 "$java_bin" "${cp_props[@]}" -cp "$jar" org.conv4j.bench.Report "${args[@]}"
echo "run.sh: done in $((elapsed / 60)) min $((elapsed % 60)) s; results in $out, report in $readme"
if [ -n "$failed" ]; then
  echo "run.sh: FAILED: an implementation failed or an output was off the reference (see the report's Failures and Correctness)" >&2
  exit 1
fi
