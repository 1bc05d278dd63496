#!/bin/sh
# Prints the home of a JDK 22 or newer (java.lang.foreign is final from 22 on):
# JAVA_HOME if it is one, else the `java` on PATH, else the newest under
# /usr/lib/jvm. Fails saying what it needs when there is none.
version_of() {
    "$1/bin/java" -XshowSettings:properties -version 2>&1 |
        sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}
candidates() {
    [ -n "$JAVA_HOME" ] && echo "$JAVA_HOME"
    java_on_path=$(command -v java 2>/dev/null) &&
        dirname "$(dirname "$(readlink -f "$java_on_path")")"
    ls -d /usr/lib/jvm/*/ 2>/dev/null | sed 's:/$::' | sort -r
}
for home in $(candidates); do
    [ -x "$home/bin/javac" ] || continue
    v=$(version_of "$home")
    if [ -n "$v" ] && [ "$v" -ge 22 ]; then
        echo "$home"
        exit 0
    fi
done
echo "pyrt's Java binding needs a JDK 22 or newer (java.lang.foreign); none found in JAVA_HOME, PATH or /usr/lib/jvm. Install one (e.g. a Temurin 25) and set JAVA_HOME." >&2
exit 1
