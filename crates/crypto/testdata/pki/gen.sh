#!/usr/bin/env bash
# Regenerates the test PKI in this directory with the openssl CLI (3.0). See README.md.
# Output: <alg>-root.pem, <alg>-int.pem, <alg>-leaf.pem (+ .der), keys as PKCS#8 PEM (*.key)
# and one PKCS#8 DER key per algorithm (<alg>-leaf.key.der). Every cert is valid
# 2025-01-01 .. 2045-01-01 except the expired one.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf work && mkdir work

START=20250101000000Z
END=20450101000000Z

cat > work/ca.cnf <<'CNF'
[ca]
default_ca = local
[local]
dir = ./work
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
policy = anything
unique_subject = no
email_in_dn = no
copy_extensions = none
[anything]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_int]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectAltName = DNS:gw-a.ipx.example, IP:192.0.2.1, IP:2001:db8::1, email:admin@ipx.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_wrongsan]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectAltName = DNS:other.example, IP:198.51.100.7
authorityKeyIdentifier = keyid
CNF

genkey() { # name alg-args...
  local name=$1; shift
  openssl genpkey "$@" -out "$name.key"
  openssl pkcs8 -topk8 -nocrypt -in "$name.key" -outform DER -out "$name.key.der.tmp"
  mv "$name.key.der.tmp" "work/$name.key.der"
}

# issue <out> <subject> <signer-cert|self> <signer-key> <extensions> <key> [start] [end] [extra...]
issue() {
  local out=$1 subj=$2 signer=$3 signkey=$4 ext=$5 key=$6 start=${7:-$START} end=${8:-$END}
  shift 8 || shift $#
  : > work/index.txt
  [ -f work/serial ] || echo 1000 > work/serial
  openssl req -new -config work/ca.cnf -key "$key" -subj "$subj" -out work/req.csr
  if [ "$signer" = self ]; then
    openssl ca -batch -config work/ca.cnf -selfsign -keyfile "$signkey" -in work/req.csr \
      -out work/out.pem -extensions "$ext" -startdate "$start" -enddate "$end" -notext \
      -md "${MD:-sha256}" "$@"
  else
    openssl ca -batch -config work/ca.cnf -cert "$signer" -keyfile "$signkey" -in work/req.csr \
      -out work/out.pem -extensions "$ext" -startdate "$start" -enddate "$end" -notext \
      -md "${MD:-sha256}" "$@"
  fi
  openssl x509 -in work/out.pem -out "$out.pem"
  openssl x509 -in work/out.pem -outform DER -out "$out.der"
}

chain() { # alg md keygen-args...
  local alg=$1 md=$2; shift 2
  genkey "$alg-root" "$@"; genkey "$alg-int" "$@"; genkey "$alg-leaf" "$@"
  MD=$md issue "$alg-root" "/C=US/O=Example/CN=Example $alg Root CA" self "$alg-root.key" v3_root "$alg-root.key"
  MD=$md issue "$alg-int" "/C=US/O=Example/CN=Example $alg Intermediate CA" "$alg-root.pem" "$alg-root.key" v3_int "$alg-int.key"
  MD=$md issue "$alg-leaf" "/C=US/O=Example/CN=gw-a.ipx.example" "$alg-int.pem" "$alg-int.key" v3_leaf "$alg-leaf.key"
  cp "work/$alg-leaf.key.der" "$alg-leaf.key.der"
}

chain rsa sha256 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
chain p256 sha256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
chain p384 sha384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
chain ed25519 null -algorithm ED25519

# A leaf whose certificate signature is RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32).
issue rsa-pss-leaf "/C=US/O=Example/CN=gw-pss.ipx.example" rsa-int.pem rsa-int.key v3_leaf rsa-leaf.key \
  "$START" "$END" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256

# Negative cases, all under the P-256 chain.
genkey p256-other "-algorithm" EC -pkeyopt ec_paramgen_curve:P-256
MD=sha256 issue p256-expired "/C=US/O=Example/CN=gw-old.ipx.example" p256-int.pem p256-int.key v3_leaf p256-other.key \
  20200101000000Z 20210101000000Z
MD=sha256 issue p256-wrongsan "/C=US/O=Example/CN=gw-a.ipx.example" p256-int.pem p256-int.key v3_wrongsan p256-other.key
# A certificate "issued" by the P-256 leaf (CA:FALSE): leaf used as a CA.
MD=sha256 issue p256-under-leaf "/C=US/O=Example/CN=gw-c.ipx.example" p256-leaf.pem p256-leaf.key v3_leaf p256-other.key
# An unrelated root with the same subject name as the real P-256 root (wrong CA).
MD=sha256 issue p256-rogue-root "/C=US/O=Example/CN=Example p256 Root CA" self p256-other.key v3_root p256-other.key

rm -rf work
