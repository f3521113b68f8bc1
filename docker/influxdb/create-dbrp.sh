#!/bin/sh
# Runs once, on InfluxDB's first boot, after the image's setup (DOCKER_INFLUXDB_INIT_MODE=setup)
# created the org, the bucket and the admin token; the influx CLI is configured with them and
# the image exports the new bucket's id. Maps the InfluxQL database the Grafana data source
# queries ($INFLUXDB_DATABASE, retention policy autogen) onto that bucket: InfluxQL knows
# databases, not buckets, and a mapping of our own keeps working when the names differ.
set -eu

influx v1 dbrp create \
  --bucket-id "$DOCKER_INFLUXDB_INIT_BUCKET_ID" \
  --db "$INFLUXDB_DATABASE" \
  --rp autogen \
  --default
