# Sourced by ./jumbo and .ci/run: sets JAVA_HOME to a JDK 25 or newer, or fails saying so.
jumbo_java_version() { # prints the feature version of the java at $1/bin/java, or nothing
  [ -x "$1/bin/java" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'
}
jumbo_find_jdk() {
  local candidate v
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/* \
      "$(dirname "$(dirname "$(readlink -f "$(command -v javac 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    v=$(jumbo_java_version "$candidate")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then JAVA_HOME="$candidate"; export JAVA_HOME; return 0; fi
  done
  echo "jumbo: no JDK 25 found (looked at \$JAVA_HOME and /usr/lib/jvm). Install one, e.g. Temurin 25, and set JAVA_HOME." >&2
  return 1
}
