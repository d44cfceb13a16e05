#!/bin/sh
# The S3 service: writes SeaweedFS's identities from the environment, then runs SeaweedFS
# (master, volume, filer and S3 gateway in one process). Mounted read-only into the
# chrislusf/seaweedfs image by docker-compose.yml; holds no secret itself.
#
#   admin   every action: the init job only, to create the buckets
#   writer  read, write, list, tag on the zone buckets and the inbox, and read, write, list on
#           the backups bucket: the Airflow components (the nightly `hub backup`)
#   web     read and list on the trusted and open zones: the web app (restricted datasets are
#           served from trusted to granted partners; exports live in open)
#   inbox   write and list on the inbox: the agencies' file drops (add one identity per agency)
#
# Secrets must not contain '"' or '\' (they are written into JSON as they are).
set -eu
umask 077

p="${HUB_BUCKET_PREFIX:-}"
raw="${p}raw" trusted="${p}trusted" open="${p}open" quarantine="${p}quarantine" inbox="${p}inbox"
backups="${p}backups"  # apart from the lake: the web app and the agencies never see it

on() {  # on ACTION BUCKET... -> "ACTION:bucket", ...
    action=$1
    shift
    out=""
    for bucket in "$@"; do out="$out${out:+, }\"$action:$bucket\""; done
    printf '%s' "$out"
}

identity() {  # identity NAME ACCESS SECRET ACTIONS
    printf '{"name": "%s", "credentials": [{"accessKey": "%s", "secretKey": "%s"}], "actions": [%s]}' \
        "$1" "$2" "$3" "$4"
}

zones="$raw $trusted $open $quarantine $inbox"
# shellcheck disable=SC2086 # the bucket lists split on purpose
writer="$(on Read $zones $backups), $(on Write $zones $backups), $(on List $zones $backups), $(on Tagging $zones)"
web="$(on Read "$trusted" "$open"), $(on List "$trusted" "$open")"
drop="$(on Write "$inbox"), $(on List "$inbox")"

data="${SEAWEEDFS_DATA:-/data}"  # the volume (tests run this script on a folder of their own)
config="${TMPDIR:-/tmp}/s3-identities.json"
{
    printf '{"identities": [\n'
    identity admin "$S3_ADMIN_ACCESS_KEY" "$S3_ADMIN_SECRET_KEY" '"Admin", "Read", "List", "Tagging", "Write"'
    printf ',\n'
    identity writer "$S3_WRITER_ACCESS_KEY" "$S3_WRITER_SECRET_KEY" "$writer"
    printf ',\n'
    identity web "$S3_WEB_ACCESS_KEY" "$S3_WEB_SECRET_KEY" "$web"
    printf ',\n'
    identity inbox "$S3_INBOX_ACCESS_KEY" "$S3_INBOX_SECRET_KEY" "$drop"
    printf '\n]}\n'
} > "$config"

# Every bucket is a collection that grabs 7 volumes by default: grow by fewer (weed reads
# master.toml from its working directory).
cd "$data"
printf '[master.volume_growth]\ncopy_1 = 2\ncopy_2 = 2\ncopy_3 = 3\ncopy_other = 1\n' > master.toml

exec weed server -dir="$data" -ip.bind=0.0.0.0 \
    -master.volumeSizeLimitMB=1024 -volume.max=0 \
    -filer -s3 -s3.port=8333 -s3.config="$config" \
    -s3.port.iceberg=0 -s3.port.lance=0
