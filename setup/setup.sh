#!/usr/bin/env bash
# Sets up everything the local lakehouse needs, once; later runs are offline no-ops.
#   setup/setup.sh          what the pipeline needs (make setup, make demo):
#     .venv/          Python 3.11 virtualenv with the pinned packages of setup/requirements.lock,
#                     installed by uv (UV_VERSION below; pip-compatible, parallel downloads)
#     .deps/jars/     Delta Lake, the Spark Kafka connector and Spark Avro, from Maven Central
#                     (setup/jars.pom.xml), fetched while the packages install
#   setup/setup.sh tests    also what the test suite and the benchmarks need (make test, make bench):
#     .deps/kafka/    the local Kafka broker's jars (local_stack/kafka/pom.xml)
#     .deps/cds/      the Spark JVM's class-data archive (setup/class_archive.py): ~5 s off
#                     every later Spark start, ~2.5 min to record; it pays back over the dozens
#                     of Spark starts of a test run, not in a first demo
# Re-runs only the parts whose inputs changed (stamp files hold a hash of the inputs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
DEPS="$ROOT/.deps"
PYTHON="${PYTHON:-python3.11}"
UV_VERSION="0.13.9"
PART="${1:-pipeline}"
case "$PART" in pipeline|tests) ;; *) echo "usage: setup/setup.sh [pipeline|tests]" >&2; exit 2 ;; esac

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- prerequisites --------------------------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
command -v "$PYTHON" >/dev/null 2>&1 || die "Python 3.11 not found: install python3.11 (or set PYTHON=/path/to/python3.11)"
pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$pyver" = "3.11" ] || die "Python 3.11 is required, found $pyver at $(command -v "$PYTHON"): install python3.11 or set PYTHON=/path/to/python3.11"
command -v java >/dev/null 2>&1 || die "Java 17 not found: install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless) and put java on PATH"
javaver="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
[ "$javaver" = "17" ] || [ "$javaver" = "21" ] || die "Java 17 is required, found Java ${javaver:-unknown}: install a JDK 17 and put it first on PATH (or set JAVA_HOME)"

# --- JVM jars, in the background while the packages install -----------------------------------
jar_hash="$(hash_of setup/jars.pom.xml setup/maven-settings.xml)"
jars_pid=""
if [ ! -d "$DEPS/jars" ] || [ "$(cat "$DEPS/.stamp" 2>/dev/null)" != "$jar_hash" ]; then
  jars_start=$SECONDS
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) not found: install maven (apt-get install maven); it fetches the Delta and Kafka jars once"
  say "fetching the Delta Lake, Kafka connector and Avro jars from Maven Central (in the background)"
  rm -rf "$DEPS/jars.tmp" && mkdir -p "$DEPS/jars.tmp"
  mvn -q -B -s setup/maven-settings.xml -f setup/jars.pom.xml dependency:copy-dependencies \
      -DoutputDirectory="$DEPS/jars.tmp" -DincludeScope=runtime >"$DEPS/mvn.log" 2>&1 &
  jars_pid=$!
  trap 'kill "$jars_pid" 2>/dev/null || true' EXIT  # a failure below stops the fetch too
fi

# --- Python packages ------------------------------------------------------------------------
py_hash="$( (cat setup/requirements.lock pyproject.toml; echo "uv $UV_VERSION --compile-bytecode") | sha256sum | cut -c1-16)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$py_hash" ]; then
  start=$SECONDS
  say "creating $VENV and installing pinned packages with uv $UV_VERSION (first time: ~40 s, ~1.2 GB)"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"; then
    die "could not install uv==$UV_VERSION from the package index: check that PyPI (or your PIP_INDEX_URL) is reachable, then re-run 'make setup'"
  fi
  # uv reads its own variables: pass on pip's index, links and certificate settings when set
  [ -n "${PIP_INDEX_URL:-}" ] && export UV_DEFAULT_INDEX="${UV_DEFAULT_INDEX:-$PIP_INDEX_URL}"
  [ -n "${PIP_EXTRA_INDEX_URL:-}" ] && export UV_INDEX="${UV_INDEX:-$PIP_EXTRA_INDEX_URL}"
  [ -n "${PIP_FIND_LINKS:-}" ] && export UV_FIND_LINKS="${UV_FIND_LINKS:-$PIP_FIND_LINKS}"
  [ -n "${PIP_CERT:-}" ] && export SSL_CERT_FILE="${SSL_CERT_FILE:-$PIP_CERT}"
  # --compile-bytecode: uv writes no .pyc by default, and where PYTHONDONTWRITEBYTECODE is set
  # (CI images often set it) Python never caches them either: every dbt command then compiled
  # dbt's and pyspark's sources again, ~2 s of each start (imports 3.9 s -> 1.9 s measured).
  if ! "$VENV/bin/uv" pip install --quiet --compile-bytecode --python "$VENV/bin/python" -r setup/requirements.lock; then
    die "could not install Python packages from the package index: check that PyPI (or your PIP_INDEX_URL) is reachable, then re-run 'make setup'"
  fi
  # Make producer/ and streaming_ingest/ importable from anywhere (what an editable install does).
  "$VENV/bin/python" -c 'import site, sys; open(site.getsitepackages()[0] + "/retail_lakehouse.pth", "w").write(sys.argv[1] + "\n")' "$ROOT"
  echo "$py_hash" > "$VENV/.stamp"
  say "python packages ready in $((SECONDS - start)) s"
fi

# --- JVM jars: wait for the fetch, keep Spark's own copy of what the pyspark wheel ships -------
if [ -n "$jars_pid" ]; then
  if ! wait "$jars_pid"; then
    die "could not fetch jars from Maven Central (see $DEPS/mvn.log): check that Maven Central is reachable, then re-run 'make setup'"
  fi
  spark_jars="$("$VENV/bin/python" -c 'import pyspark, os; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"
  for jar in "$DEPS"/jars.tmp/*.jar; do
    artifact="$(basename "$jar" | sed -E 's/-[0-9][^-]*(-[A-Za-z0-9.]+)*\.jar$//')"
    if compgen -G "$spark_jars/${artifact}-[0-9]*.jar" >/dev/null; then rm -f "$jar"; fi
  done
  rm -rf "$DEPS/jars" && mv "$DEPS/jars.tmp" "$DEPS/jars"
  echo "$jar_hash" > "$DEPS/.stamp"
  say "jars ready in $((SECONDS - jars_start)) s: $(ls "$DEPS/jars" | wc -l) files in $DEPS/jars"
fi

# --- convenience: `source .venv/bin/activate` gives dbt the same absolute paths -------------
if ! grep -q 'LAKEHOUSE_HOME' "$VENV/bin/activate"; then
  cat >> "$VENV/bin/activate" <<ACT
# retail lakehouse: absolute paths so dbt and the jobs work from any folder
export LAKEHOUSE_HOME="$ROOT"
export LAKEHOUSE_DIR="\${LAKEHOUSE_DIR:-$ROOT/.lakehouse}"
export LAKEHOUSE_JARS="$DEPS/jars"
export LAKEHOUSE_LOG4J="$ROOT/setup/log4j2.properties"
export DBT_PROJECT_DIR="$ROOT"
export DBT_PROFILES_DIR="$ROOT"
ACT
fi
if ! grep -q 'LAKEHOUSE_JAVA_OPTS' "$VENV/bin/activate"; then
  cat >> "$VENV/bin/activate" <<ACT
# retail lakehouse: the class-data archive of 'make setup-tests', as in bin/lakehouse-env
if [ -z "\${LAKEHOUSE_JAVA_OPTS+set}" ] && [ -f "$DEPS/cds/spark.jsa" ]; then
  export LAKEHOUSE_JAVA_OPTS="-XX:SharedArchiveFile=$DEPS/cds/spark.jsa -Xlog:cds*=off -Xlog:class+path*=off"
fi
ACT
fi
if ! grep -q 'ANSI mode as on Databricks' "$VENV/bin/activate"; then
  cat >> "$VENV/bin/activate" <<ACT
# retail lakehouse: bin/ first, so \`dbt\` is bin/dbt (ANSI mode as on Databricks: lakehouse_dbt)
export PATH="$ROOT/bin:\$PATH"
ACT
fi
if [ "$PART" = pipeline ]; then
  say "ready"
  exit 0
fi

# --- Kafka broker jars (local tests and benchmarks) ------------------------------------------
# local_stack/kafka/broker.py resolves them once into .deps/kafka/ (cached): fetch them now so
# later runs are offline.
if ! compgen -G "$DEPS/kafka/kafka_2.13-*.jar" >/dev/null; then
  start=$SECONDS
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) not found: install maven (apt-get install maven); it fetches the Kafka broker jars once"
  say "fetching the local Kafka broker jars from Maven Central (local_stack/kafka/pom.xml)"
  if ! "$VENV/bin/python" -c 'import sys; sys.path.insert(0, sys.argv[1]); from local_stack.kafka.broker import ensure_jars; ensure_jars()' "$ROOT"; then
    die "could not fetch the Kafka broker jars from Maven Central (local_stack/kafka/pom.xml): check that Maven Central is reachable, then re-run 'make setup-tests'"
  fi
  say "kafka broker jars ready in $((SECONDS - start)) s: $(ls "$DEPS/kafka" | wc -l) files in $DEPS/kafka"
fi

# --- JVM class-data archive (optional speed-up) ----------------------------------------------
# One recording run of the streaming job and dbt on 2,000 sample events writes the classes they
# load to .deps/cds/spark.jsa; later Spark JVMs map them instead of loading them from jars
# (setup/class_archive.py). Re-recorded when the jars, pyspark, Java or the recording change;
# a failure here only costs speed, so it warns and goes on.
cds_hash="$(hash_of "$DEPS/.stamp" "$VENV/.stamp" setup/class_archive.py; java -version 2>&1 | sha256sum | cut -c1-16)"
if [ "$(cat "$DEPS/cds/.stamp" 2>/dev/null)" != "$cds_hash" ]; then
  start=$SECONDS
  say "recording the Spark class-data archive (once, ~2.5 min on 2 cores): .deps/cds/spark.jsa"
  rm -rf "$DEPS/cds" && mkdir -p "$DEPS/cds"
  work="$(mktemp -d "${TMPDIR:-/tmp}/lakehouse-cds.XXXXXX")"
  if pid="$(LAKEHOUSE_JARS="$DEPS/jars" LAKEHOUSE_LOG4J="$ROOT/setup/log4j2.properties" MALLOC_ARENA_MAX=2 \
            "$VENV/bin/python" setup/class_archive.py "$DEPS/cds/spark.jsa.tmp" "$work" 2>"$DEPS/cds/record.log" | tail -1)" \
     && [ -n "$pid" ]; then
    # the JVM writes the archive as it exits, just after the script
    for _ in $(seq 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; rm -f "$DEPS/cds/spark.jsa.tmp"; }
  fi
  rm -rf "$work"
  # a cut-short archive would crash the JVMs that map it: keep it only if a JVM accepts it
  if [ -s "$DEPS/cds/spark.jsa.tmp" ] && java -XX:SharedArchiveFile="$DEPS/cds/spark.jsa.tmp" -Xshare:auto -version >/dev/null 2>&1; then
    mv "$DEPS/cds/spark.jsa.tmp" "$DEPS/cds/spark.jsa"
    echo "$cds_hash" > "$DEPS/cds/.stamp"
    say "class-data archive ready in $((SECONDS - start)) s ($(du -m "$DEPS/cds/spark.jsa" | cut -f1) MB)"
  else
    rm -f "$DEPS/cds/spark.jsa.tmp"
    say "WARNING: no class-data archive recorded (see $DEPS/cds/record.log); Spark starts ~5 s slower, nothing else changes"
  fi
fi

say "ready (with the test and benchmark extras)"
