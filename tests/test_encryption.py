"""encrypt-pgp/decrypt-pgp, encrypt-pki/decrypt-pki and $SECRET keys.

Ciphertexts are random, so these are round trips with keys generated here
(once per module: an Ed25519/Curve25519 OpenPGP key and an RSA-2048 key)
rather than fixed compliance cases.
"""

from __future__ import annotations

import warnings

import pytest

import dtlpy
from dtlpy.values import kind, parse_bytes

PASSPHRASE = "valid-password"


@pytest.fixture(scope="module")
def pgp_keys():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy
        from pgpy.constants import (
            EllipticCurveOID,
            HashAlgorithm,
            KeyFlags,
            PubKeyAlgorithm,
            SymmetricKeyAlgorithm,
        )

        key = pgpy.PGPKey.new(PubKeyAlgorithm.EdDSA, EllipticCurveOID.Ed25519)
        key.add_uid(
            pgpy.PGPUID.new("dtlpy test", email="test@example.org"),
            usage={KeyFlags.Sign, KeyFlags.Certify},
            hashes=[HashAlgorithm.SHA256],
            ciphers=[SymmetricKeyAlgorithm.AES256],
        )
        sub = pgpy.PGPKey.new(PubKeyAlgorithm.ECDH, EllipticCurveOID.Curve25519)
        key.add_subkey(sub, usage={KeyFlags.EncryptCommunications, KeyFlags.EncryptStorage})
        public = str(key.pubkey)
        key.protect(PASSPHRASE, SymmetricKeyAlgorithm.AES256, HashAlgorithm.SHA256)
        return public, str(key)


@pytest.fixture(scope="module")
def rsa_keys():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # The docs name the "BEGIN RSA PRIVATE KEY" (PKCS#1) header; PKCS#8 works too.
    pkcs1 = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    pkcs8 = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return public, pkcs1, pkcs8


def run(expr, source=None, secrets=None):
    """Evaluate through a compiled rule so env.extra['secrets'] can be set."""
    t = dtlpy.compile({"default": [["copy", "_id"], ["add", "out", expr]]})
    if secrets is not None:
        t.env.extra["secrets"] = secrets
    out = t.transform({"_id": "e", **(source or {})})
    return out[0]["out"] if out else None


# ---------------------------------------------------------------- PGP


def test_pgp_round_trip_list(pgp_keys):
    public, private = pgp_keys
    expr = ["decrypt-pgp", private, PASSPHRASE, ["encrypt-pgp", public, ["list", "data", "data2"]]]
    assert dtlpy.evaluate(expr) == ["data", "data2"]


def test_pgp_round_trip_scalar_unicode(pgp_keys):
    public, private = pgp_keys
    expr = ["decrypt-pgp", private, PASSPHRASE, ["encrypt-pgp", public, "hemmelig beskjed æøå"]]
    assert dtlpy.evaluate(expr) == "hemmelig beskjed æøå"


def test_pgp_messages_are_armoured_strings(pgp_keys):
    public, _ = pgp_keys
    out = dtlpy.evaluate(["encrypt-pgp", public, ["list", "a", 1, None, "b"]])
    assert len(out) == 2  # non-strings are dropped
    assert all(m.startswith("-----BEGIN PGP MESSAGE-----") for m in out)
    assert out[0] != out[1]


def test_pgp_with_secrets(pgp_keys):
    public, private = pgp_keys
    secrets = {"private-key-name": private, "password-name": PASSPHRASE, "pub": public}
    expr = [
        "decrypt-pgp", "$SECRET(private-key-name)", "$SECRET(password-name)",
        ["encrypt-pgp", "$SECRET(pub)", "secret message"],
    ]
    assert run(expr, secrets=secrets) == "secret message"


def test_pgp_wrong_passphrase(pgp_keys):
    public, private = pgp_keys
    with pytest.raises(dtlpy.DtlError) as info:
        dtlpy.evaluate(["decrypt-pgp", private, "wrong", ["encrypt-pgp", public, "x"]])
    assert info.value.code == "invalid-key"


def test_pgp_decrypt_needs_private_key(pgp_keys):
    public, _ = pgp_keys
    with pytest.raises(dtlpy.DtlError) as info:
        dtlpy.evaluate(["decrypt-pgp", public, PASSPHRASE, ["encrypt-pgp", public, "x"]])
    assert info.value.code == "invalid-key"


def test_pgp_decrypt_drops_non_messages(pgp_keys):
    _, private = pgp_keys
    assert dtlpy.evaluate(["decrypt-pgp", private, PASSPHRASE, ["list", "plain text", 5, None]]) == []


def test_pgp_message_for_another_key(pgp_keys, rsa_keys):
    public, _ = pgp_keys
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy
        from pgpy.constants import EllipticCurveOID, PubKeyAlgorithm

        other = pgpy.PGPKey.new(PubKeyAlgorithm.ECDH, EllipticCurveOID.Curve25519)
    message = dtlpy.evaluate(["encrypt-pgp", public, "x"])
    with pytest.raises(dtlpy.DtlError) as info:
        dtlpy.evaluate(["decrypt-pgp", str(other), "", message])
    assert info.value.code == "decrypt-failed"


# ---------------------------------------------------------------- PKI


@pytest.mark.parametrize("which", ["pkcs1", "pkcs8"])
def test_pki_round_trip_json_transit(rsa_keys, which):
    public, pkcs1, pkcs8 = rsa_keys
    private = pkcs1 if which == "pkcs1" else pkcs8
    encrypted = dtlpy.evaluate(["encrypt-pki", public, '["a","b","c"]'])
    assert kind(encrypted) == "bytes" and len(parse_bytes(encrypted)) == 256
    assert dtlpy.evaluate(["decrypt-pki", private, encrypted]) == '["a","b","c"]'


def test_pki_doc_example_with_json_transit(rsa_keys):
    # Needs json-transit / json-transit-parse from the json family. The docs
    # print ["a", "b", "c"]; every step maps over its list, so the one-element
    # outer list stays (DEVIATIONS.md).
    public, private, _ = rsa_keys
    expr = [
        "json-transit-parse",
        ["decrypt-pki", private, ["encrypt-pki", public, ["json-transit", ["list", ["list", "a", "b", "c"]]]]],
    ]
    assert dtlpy.evaluate(expr) == [["a", "b", "c"]]


def test_pki_list_and_drops(rsa_keys):
    public, private, _ = rsa_keys
    encrypted = dtlpy.evaluate(["encrypt-pki", public, ["list", "one", 2, None, "two"]])
    assert len(encrypted) == 2 and all(kind(v) == "bytes" for v in encrypted)
    assert dtlpy.evaluate(["decrypt-pki", private, ["list", *encrypted, "not bytes"]]) == ["one", "two"]


def test_pki_secrets_for_key_and_value(rsa_keys):
    public, private, _ = rsa_keys
    secrets = {"key-secret-name": public, "secret-passphrase-name": "hunter2", "private-key-name": private}
    expr = ["decrypt-pki", "$SECRET(private-key-name)", ["encrypt-pki", "$SECRET(key-secret-name)", "$SECRET(secret-passphrase-name)"]]
    assert run(expr, secrets=secrets) == "hunter2"


def test_pki_too_long(rsa_keys):
    public, _, _ = rsa_keys
    with pytest.raises(dtlpy.DtlError) as info:
        dtlpy.evaluate(["encrypt-pki", public, "x" * 300])
    assert info.value.code == "invalid-argument"


def test_pki_wrong_key_type(rsa_keys):
    public, private, _ = rsa_keys
    with pytest.raises(dtlpy.DtlError) as info:
        dtlpy.evaluate(["decrypt-pki", public, "~bYWJj"])
    assert info.value.code == "invalid-key"


def test_pki_garbage_bytes(rsa_keys):
    _, private, _ = rsa_keys
    with pytest.raises(dtlpy.DtlError) as info:
        dtlpy.evaluate(["decrypt-pki", private, "~bYWJj"])
    assert info.value.code == "decrypt-failed"


# ---------------------------------------------------------------- Fernet + secrets


def test_fernet_with_secret_round_trip():
    expr = ["decrypt", "$SECRET(secret-name)", ["encrypt", "$SECRET(secret-name)", ["list", "a", "b", "c"]]]
    assert run(expr, secrets={"secret-name": "s3cr3t"}) == ["a", "b", "c"]


def test_fernet_secret_equals_literal_key():
    encrypted = run(["encrypt", "$SECRET(k)", "x"], secrets={"k": "pw"})
    assert dtlpy.evaluate(["decrypt", "pw", encrypted]) == "x"


def test_fernet_key_derivation_is_sha256_of_password():
    """Pins the documented derivation (DEVIATIONS.md)."""
    import base64
    import hashlib

    from cryptography.fernet import Fernet

    token = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"pw").digest())).encrypt(b'"hello"')
    assert dtlpy.evaluate(["decrypt", "pw", "~b" + base64.b64encode(token).decode()]) == "hello"


def test_missing_secret_at_run_time():
    with pytest.raises(dtlpy.DtlError) as info:
        run(["encrypt", "$SECRET(absent)", "x"], secrets={"other": "y"})
    assert info.value.code == "missing-secret"
