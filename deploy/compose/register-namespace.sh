#!/bin/sh
# The namespace leafe runs in, with a 1-year retention (closed workflow histories, the audit trail
# from a training sample back to the feedback that produced it, stay queryable) and leafe's four
# search attributes (runtime/search-attributes.ts). Same steps as `leafe cluster up`
# (runtime/temporal-cluster.ts registerNamespace). Idempotent. Uses the `temporal` CLI of
# temporalio/admin-tools, which reads TEMPORAL_ADDRESS, TEMPORAL_API_KEY, TEMPORAL_TLS and
# TEMPORAL_TLS_CLIENT_CERT_PATH / _CLIENT_KEY_PATH / _SERVER_CA_CERT_PATH from the environment (its
# TLS variable names differ from leafe's TEMPORAL_TLS_CERT / _KEY / _CA).
set -eu
NS=${TEMPORAL_NAMESPACE:-default}
RETENTION=${LEAFE_RETENTION:-8760h}

i=0
until temporal operator cluster health >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -ge 90 ]; then echo "leafe: Temporal at ${TEMPORAL_ADDRESS:-?} is not healthy after 3 minutes" >&2; exit 1; fi
  sleep 2
done

if temporal operator namespace describe --namespace "$NS" >/dev/null 2>&1; then
  temporal operator namespace update --namespace "$NS" --retention "$RETENTION"
else
  temporal operator namespace create --namespace "$NS" --retention "$RETENTION"
fi

for attribute in ExperimentId:Keyword Method:Keyword Iteration:Int Stage:Keyword; do
  name=${attribute%%:*}
  type=${attribute#*:}
  i=0
  # A new namespace reaches the server's namespace cache within ~10 s: retry until it does.
  until temporal operator search-attribute list --namespace "$NS" -o json | grep -q "\"$name\"" \
    || temporal operator search-attribute create --namespace "$NS" --name "$name" --type "$type"; do
    i=$((i + 1))
    if [ "$i" -ge 60 ]; then echo "leafe: could not add search attribute $name ($type) to namespace $NS" >&2; exit 1; fi
    sleep 1
  done
done
echo "leafe: namespace $NS ready (retention $RETENTION; search attributes ExperimentId, Method, Iteration, Stage)"
