"""Writes COUNT DPoP proofs (ES256, one key, each with its own jti, iat now) for POST URL, one per
line: the input of bench/dpop.lua. Usage: dpop_proofs.py URL COUNT > FILE"""
import base64
import json
import sys
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


url, count = sys.argv[1], int(sys.argv[2])
key = ec.generate_private_key(ec.SECP256R1())
numbers = key.public_key().public_numbers()
jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}
header = b64(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}, separators=(",", ":")).encode())
now = int(time.time())
out = sys.stdout
for _ in range(count):
    payload = b64(json.dumps({"jti": uuid.uuid4().hex, "htm": "POST", "htu": url, "iat": now}, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    out.write(f"{header}.{payload}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}\n")
