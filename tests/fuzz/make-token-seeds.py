#!/usr/bin/env python3
"""make-token-seeds.py - writes corpus/jwks/ec_rsa.json (the fixed JWKS
that fuzz_token.c verifies against) and the seed tokens of corpus/token,
signed with throwaway keys used nowhere else (the private halves are not
kept). Run it from tests/fuzz/ to renew them all together."""
import base64, json, os
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

NOW = 1893456000  # fuzz_token.c's clock
ISS = "https://idp.example.gr"

def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def ib(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")
def js(o): return json.dumps(o, separators=(",", ":")).encode()

ec_key = ec.generate_private_key(ec.SECP256R1())
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ep = ec_key.public_key().public_numbers()
rp = rsa_key.public_key().public_numbers()
jwks = {"keys": [
    {"kty": "EC", "crv": "P-256", "kid": "ec1", "alg": "ES256", "use": "sig",
     "x": b64(ib(ep.x, 32)), "y": b64(ib(ep.y, 32))},
    {"kty": "RSA", "kid": "rsa1", "alg": "RS256", "use": "sig",
     "n": b64(ib(rp.n)), "e": b64(ib(rp.e))}]}

def sign(header, claims, key):
    si = (b64(js(header)) + "." + b64(js(claims))).encode()
    if key == "ec":
        r, s = decode_dss_signature(ec_key.sign(si, ec.ECDSA(hashes.SHA256())))
        sig = ib(r, 32) + ib(s, 32)
    elif key == "rsa":
        sig = rsa_key.sign(si, padding.PKCS1v15(), hashes.SHA256())
    else:
        sig = b""
    return si.decode() + "." + b64(sig)

at = {"iss": ISS, "aud": "payroll", "sub": "u-1001", "client_id": "payroll",
      "iat": NOW, "exp": NOW + 600, "org": "athens", "user_type": "employee",
      "roles": ["clerk"], "scope": "openid", "acr": "x", "amr": ["pwd", "otp"]}
idt = dict(at, nonce="n-0S6", azp="payroll")
del idt["client_id"]
seeds = {
    "at_es256": sign({"alg": "ES256", "typ": "at+jwt", "kid": "ec1"}, at, "ec"),
    "at_rs256": sign({"alg": "RS256", "typ": "at+jwt", "kid": "rsa1"}, at, "rsa"),
    "id_es256": sign({"alg": "ES256", "typ": "JWT", "kid": "ec1"}, idt, "ec"),
    "expired": sign({"alg": "ES256", "typ": "at+jwt", "kid": "ec1"},
                    dict(at, exp=NOW - 3600), "ec"),
    "alg_none": sign({"alg": "none", "typ": "at+jwt", "kid": "ec1"}, at, None),
    "aud_list": sign({"alg": "ES256", "typ": "at+jwt", "kid": "ec1"},
                     dict(at, aud=["payroll", "hr"], nbf=NOW), "ec"),
}
for name, tok in seeds.items():
    with open(os.path.join("corpus/token", name), "w") as f:
        f.write(tok)
with open("corpus/jwks/ec_rsa.json", "w") as f:
    f.write(json.dumps(jwks, indent=1))
with open("corpus/jwks/ec_only.json", "w") as f:
    f.write(json.dumps({"keys": jwks["keys"][:1]}))
