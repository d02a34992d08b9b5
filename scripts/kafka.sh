#!/usr/bin/env bash
# A real Apache Kafka broker (KRaft, combined broker+controller) on loopback, for machines without Docker.
# The jars come from Maven Central and are cached outside the repo's tracked files.
#   scripts/kafka.sh fetch            resolve the broker jars into the cache
#   scripts/kafka.sh start [PORT]     format storage (fresh) and start; prints KAFKA_BROKERS=127.0.0.1:PORT
#   scripts/kafka.sh restart [PORT]   start again on the existing storage (after stop), same port
#   scripts/kafka.sh stop [PORT]      stop the broker of that port's state dir
#   scripts/kafka.sh status [PORT]
# Each port has a state dir of its own (KAFKA_STATE_DIR overrides it), so a start never deletes, and a stop
# never kills, another broker's state; a stop kills only a process that is this state dir's broker.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
CACHE="${SWITCHBOARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard}"
LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
PORT_ARG="${2:-19092}"
STATE="${KAFKA_STATE_DIR:-$CACHE/kafka-run-$PORT_ARG}"

die() { echo "kafka.sh: $*" >&2; exit 1; }

fetch() {
  [[ -f "$LIBS/.complete" ]] && return 0
  command -v mvn >/dev/null || die "mvn is not installed: cannot fetch the Kafka broker from Maven Central"
  command -v java >/dev/null || die "java is not installed: the Kafka broker needs Java 17"
  local work; work=$(mktemp -d)
  # A throwaway pom outside the tracked tree: the broker and its runtime deps, plus a logging backend
  # because Kafka 3.9 leaves SLF4J's binding to the application.
  cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>switchboard</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
  echo "kafka.sh: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven Central (first run only)" >&2
  mkdir -p "$LIBS"
  (cd "$work" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS") \
    || die "mvn could not resolve the broker (see output above)"
  rm -rf "$work"
  touch "$LIBS/.complete"
}

start() {
  local port="${1:-19092}" ctl=$(( ${1:-19092} + 1 ))
  fetch
  stop_quiet
  rm -rf "$STATE"; mkdir -p "$STATE/data"
  echo "$port" > "$STATE/port"
  cat > "$STATE/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$ctl
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctl
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$STATE/data
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=24
PROPS
  cat > "$STATE/log4j.properties" <<'L4J'
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
L4J
  local uuid; uuid=$(java -cp "$LIBS/*" "${JOPTS[@]}" kafka.tools.StorageTool random-uuid)
  java -cp "$LIBS/*" "${JOPTS[@]}" kafka.tools.StorageTool format --standalone -t "$uuid" -c "$STATE/server.properties" >"$STATE/format.log" 2>&1 \
    || { cat "$STATE/format.log" >&2; die "storage format failed"; }
  launch "$port"
}

JOPTS=(-Xms256m -Xmx512m -XX:+UseG1GC -Dkafka.logs.dir="$STATE" -Dlog4j.configuration="file:$STATE/log4j.properties")

restart() {
  [[ -f "$STATE/server.properties" && -f "$STATE/port" ]] || die "nothing to restart in $STATE: use start"
  stop_quiet
  launch "$(cat "$STATE/port")"
}

launch() {
  local port="$1"
  nohup java -cp "$LIBS/*" "${JOPTS[@]}" kafka.Kafka "$STATE/server.properties" >>"$STATE/stdout.log" 2>&1 &
  echo $! > "$STATE/pid"
  # Ready when the PLAINTEXT listener accepts connections.
  for _ in $(seq 1 120); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "KAFKA_BROKERS=127.0.0.1:$port"; return 0; fi
    ours "$(cat "$STATE/pid")" || { tail -n 40 "$STATE/stdout.log" "$STATE/server.log" >&2 || true; die "broker exited during start"; }
    sleep 0.5
  done
  die "broker did not listen on 127.0.0.1:$port within 60 s (logs in $STATE)"
}

# The pid file's process, if it is still the broker of this state dir (a pid can be reused by anything).
ours() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $STATE/server.properties"
}

stop_quiet() {
  [[ -f "$STATE/pid" ]] || return 0
  local pid; pid=$(cat "$STATE/pid")
  if ours "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/pid"
}

case "${1:-}" in
  fetch) fetch; echo "$LIBS" ;;
  start) start "${2:-19092}" ;;
  restart) restart ;;
  stop) stop_quiet ;;
  status) [[ -f "$STATE/pid" ]] && ours "$(cat "$STATE/pid")" && echo running || echo stopped ;;
  *) echo "usage: scripts/kafka.sh fetch|start [PORT]|restart|stop|status" >&2; exit 2 ;;
esac
