#!/usr/bin/env bash
# The whole benchmark suite in one command, sized to finish within 15 minutes on the 2-core machine:
# builds bench/target/benchmarks.jar when sources changed, runs the JMH suite over every shape of
# ../shared/bench-shapes.csv at 1 and 2 threads, then regenerates the results section of
# bench/README.md and bench/chart.png (org.conv4j.bench.Report; it also measures the FMA peak).
#
#   bench/run.sh                      # everything
#   SHAPES=seed2d,r50_3x3_14 bench/run.sh --quick   # smoke run: two shapes, one short iteration,
#                                                   # report in bench/target/results/ only
#   ORT_VERSION=1.20.0 bench/run.sh   # rebuild against ONNX Runtime 1.20.0 instead of 1.29.0
#
# Environment: SHAPES (comma-separated subset), CONV4J_BENCH_SHAPES (the CSV), ORT_VERSION,
# JAVA (java binary), BENCH_NOTE (a line added to the report), JMH_OPTS (more JMH options).
# oneDNN's OpenMP runtime reads OMP_NUM_THREADS once per process, so each thread count runs as its
# own JMH invocation with OMP_NUM_THREADS set; JMH forks inherit the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
java_bin=${JAVA:-java}
jar=bench/target/benchmarks.jar
out=bench/target/results
shapes_file=$(realpath "${CONV4J_BENCH_SHAPES:-$root/../shared/bench-shapes.csv}")
[ -f "$shapes_file" ] || { echo "run.sh: no shapes file at $shapes_file (set CONV4J_BENCH_SHAPES)" >&2; exit 2; }

# One warm-up iteration of 0.5 s and three measured ones of 0.3 s (a call longer than that is
# one iteration). conv4j's benchmarks get a fresh JVM per benchmark × shape × threads (JIT
# profiles matter for its Java side); ONNX Runtime and oneDNN spend their time in native code,
# so they share one JVM per thread count (-f 0), which saves half of the ~120 JVM starts.
timing=(-wi 1 -i 3 -w 500ms -r 300ms)
quick=
if [ "${1:-}" = "--quick" ]; then
  timing=(-wi 1 -i 1 -w 200ms -r 200ms)
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
# The naive loop only where one call stays under ~2 s.
naive=$("$java_bin" "${cp_props[@]}" -cp "$jar" org.conv4j.bench.Shape --max-naive-seconds 2)
if [ -n "${SHAPES:-}" ]; then
  naive=$(comm -12 <(tr , '\n' <<<"$naive" | sort) <(tr , '\n' <<<"$SHAPES" | sort) | paste -sd, -)
fi

rm -rf "$out"
mkdir -p "$out"
# The Vector API module lets the Java backend use its vector micro-kernel (Conv4j.javaKernel()).
fork_args="--add-modules jdk.incubator.vector -Dconv4j.bench.shapes=$shapes_file -Dconv4j.bench.implLog=$root/$out/implementations.tsv"
conv4j='org\.conv4j\.bench\.(Conv4jNativeBench|Conv4jJavaBench)\.'
peers='org\.conv4j\.bench\.(OnnxRuntimeBench|OneDnnBench)\.'

run_jmh() { # name forks omp_threads include shapes threads
  local name=$1 forks=$2 omp=$3 include=$4 shapes=$5 threads=$6
  [ -n "$shapes" ] || return 0
  echo "run.sh: $name (OMP_NUM_THREADS=$omp) on $shapes"
  # fork_args go to the host JVM too: with -f 0 it runs the benchmarks itself.
  # shellcheck disable=SC2086
  OMP_NUM_THREADS=$omp "$java_bin" $fork_args -jar "$jar" "$include" -p "shape=$shapes" -p "threads=$threads" \
      -f "$forks" "${timing[@]}" -jvmArgsAppend "$fork_args" -rf json -rff "$out/$name.json" ${JMH_OPTS:-} \
      > "$out/$name.log" 2>&1 || { echo "run.sh: JMH failed, see $out/$name.log" >&2; exit 1; }
  if grep -q '<failure>' "$out/$name.log"; then
    echo "run.sh: some benchmarks of $name failed, see $out/$name.log:" >&2
    grep -B3 -A3 '<failure>' "$out/$name.log" | grep -E 'Parameters|Exception' >&2 || true
  fi
}

run_jmh conv4j-1t 1 1 "$conv4j" "$all" 1
run_jmh peers-1t 0 1 "$peers" "$all" 1
run_jmh naive-1t 1 1 'org\.conv4j\.bench\.NaiveBench\.' "$naive" 1
run_jmh conv4j-2t 1 2 "$conv4j" "$all" 2
run_jmh peers-2t 0 2 "$peers" "$all" 2

elapsed=$(( $(date +%s) - start ))
note="Suite time: $((elapsed / 60)) min $((elapsed % 60)) s (build and benchmarks; \`bench/run.sh\`). Load average before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)."
readme=bench/README.md
chart=bench/chart.png
if [ -n "$quick" ]; then # a smoke run leaves the committed report alone
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
