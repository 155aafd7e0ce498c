#!/bin/bash
# Like the official mariadb/mysql images' entrypoints, in small: on an empty datadir, initialise
# it, run a temporary socket-only server, set the root password (root@'%' too), create
# MARIADB_DATABASE and MARIADB_USER/PASSWORD (MYSQL_* accepted as well), stop it, then exec the
# real server. Both servers print "ready for connections", which testcontainers waits for twice.
# MariaDB (mariadbd, 10.5 and later) or MySQL (mysqld without mariadbd), whichever the image has.
set -euo pipefail
case "${1:-mysqld}" in
    mariadbd | mysqld) shift || true ;;
    *) exec "$@" ;;
esac

root_pw="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}"
allow_empty="${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-${MYSQL_ALLOW_EMPTY_PASSWORD:-}}"
db="${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}"
user="${MARIADB_USER:-${MYSQL_USER:-}}"
pw="${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}"
if command -v mariadbd >/dev/null; then
    flavour=mariadb client=mariadb
    # a throw-away test server: no doublewrite, no flush at every commit
    server=(mariadbd --user=mysql --datadir=/var/lib/mysql --bind-address=0.0.0.0 --skip-name-resolve
        --innodb-doublewrite=0 --innodb-flush-log-at-trx-commit=0)
else
    flavour=mysql client=mysql
    # Debian's MySQL logs to a file; like the official image, log to stderr (testcontainers reads it)
    sed -i -E 's/^(log[-_]error)/# \1/' /etc/mysql/mysql.conf.d/*.cnf 2>/dev/null || true
    # --port: Debian's postinst moves the server to 3307 when it saw 3306 taken (the build runs
    # on the host's network)
    # A throw-away test server: no binary log, no doublewrite, no fsync (MySQL's data dictionary
    # makes every CREATE TABLE durable; loading a release schema would take 5x as long).
    server=(mysqld --user=mysql --datadir=/var/lib/mysql --bind-address=0.0.0.0 --port=3306
        --skip-name-resolve --mysqlx=OFF --skip-log-bin --innodb-doublewrite=OFF
        --innodb-flush-log-at-trx-commit=0 --innodb-flush-method=nosync)
fi

lit() { local s="${1//\\/\\\\}"; printf "'%s'" "${s//\'/\\\'}"; }   # SQL string literal
ident() { printf '`%s`' "${1//\`/\`\`}"; }                          # SQL identifier

chown mysql:mysql /var/lib/mysql  # a fresh volume or tmpfs is root's
if [ ! -d /var/lib/mysql/mysql ]; then
    if [ -z "$root_pw" ] && [ -z "$allow_empty" ]; then
        echo "entrypoint: set MARIADB_ROOT_PASSWORD (or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD)" >&2
        exit 1
    fi
    if [ "$flavour" = mariadb ]; then
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db \
            --auth-root-authentication-method=normal >/dev/null
    else
        mysqld --initialize-insecure --user=mysql --datadir=/var/lib/mysql >/dev/null 2>&1
    fi
    "${server[@]}" --skip-networking --socket=/run/mysqld/init.sock &
    pid=$!
    for _ in $(seq 1 300); do
        "$client" --protocol=socket -S /run/mysqld/init.sock -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
        sleep 0.1
    done
    {
        echo "SET @@SESSION.SQL_LOG_BIN=0;"
        if [ "$flavour" = mariadb ]; then
            echo "DELETE FROM mysql.global_priv WHERE User='' OR (User='root' AND Host NOT IN ('localhost'));"
            echo "FLUSH PRIVILEGES;"
        fi
        echo "ALTER USER root@localhost IDENTIFIED BY $(lit "$root_pw");"
        echo "CREATE USER root@'%' IDENTIFIED BY $(lit "$root_pw");"
        echo "GRANT ALL ON *.* TO root@'%' WITH GRANT OPTION;"
        [ -n "$db" ] && echo "CREATE DATABASE IF NOT EXISTS $(ident "$db");"
        if [ -n "$user" ] && [ "$user" != root ]; then
            echo "CREATE USER $(lit "$user")@'%' IDENTIFIED BY $(lit "$pw");"
            [ -n "$db" ] && echo "GRANT ALL ON $(ident "$db").* TO $(lit "$user")@'%';"
        fi
    } | "$client" --protocol=socket -S /run/mysqld/init.sock -uroot
    kill -TERM "$pid"
    wait "$pid" || true
fi
exec "${server[@]}" "$@"
