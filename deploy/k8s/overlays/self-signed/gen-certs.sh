#!/bin/sh
# Makes a private CA and the injector's serving certificate with openssl, for clusters
# without cert-manager. Writes ca.crt, tls.crt and tls.key next to this script (never
# commit them); the CA's key is thrown away. Re-run and re-apply to renew; the webhook
# picks the new certificate up from its Secret without a restart.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
ns=${NAMESPACE:-llm-router-system}
svc=${SERVICE:-llm-router-injector}
days=${DAYS:-365}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=llm-router-injector-ca" -keyout "$tmp/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=$svc.$ns.svc" -keyout "$dir/tls.key" -out "$tmp/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' \
  "$svc" "$ns" "$svc" "$ns" > "$tmp/ext"
openssl x509 -req -in "$tmp/tls.csr" -CA "$dir/ca.crt" -CAkey "$tmp/ca.key" \
  -CAserial "$tmp/ca.srl" -CAcreateserial -days "$days" -extfile "$tmp/ext" \
  -out "$dir/tls.crt" 2>/dev/null
chmod 600 "$dir/tls.key"
echo "wrote $dir/ca.crt $dir/tls.crt $dir/tls.key"
