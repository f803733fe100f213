"""DTL functions: encryption.

- ``encrypt``/``decrypt``: symmetric Fernet (``cryptography``). The Sesam
  docs say only that KEY is used "as the password"; dtlpy derives the Fernet
  key as the URL-safe base64 of SHA-256 of the UTF-8 password (see
  DEVIATIONS.md). ``encrypt`` encrypts the whole value (a
  list is one message) as compact JSON transit text, so ``decrypt`` gives
  back exactly the value that went in, typed values included.
- ``encrypt-pgp``/``decrypt-pgp``: OpenPGP messages, ASCII-armoured (PGPy),
  one per string.
- ``encrypt-pki``/``decrypt-pki``: RSA with OAEP padding (SHA-256), bytes
  values out, strings back.

Keys (and the values to encrypt) may be written ``$SECRET(name)``; the
secret is looked up in ``env.extra["secrets"]``, and a missing one fails
with code ``missing-secret``. Keys that cannot be read fail with code
``invalid-key`` (at compile time when the key is a constant), and a message
that does not open with the key fails with ``decrypt-failed``.

>>> evaluate(["decrypt", "secret", ["encrypt", "secret", ["list", "a", "b", "c"]]])
['a', 'b', 'c']
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import warnings
from functools import lru_cache
from typing import Any, Callable

from ..compiler import is_const, pointer
from ..errors import DtlError
from ..registry import Registry
from ..values import bytes_value, first, is_plain_string, parse_bytes

registry = Registry()

_SECRET_RE = re.compile(r"\$SECRET\(([^()]+)\)\Z")


# ---------------------------------------------------------------- secrets and keys


def secret_name(value: Any) -> str | None:
    """The name in ``$SECRET(name)``, or None for any other value."""
    if type(value) is str:
        m = _SECRET_RE.match(value)
        if m:
            return m.group(1).strip()
    return None


def resolve_secret(ctx, value: Any) -> Any:
    """The secret's value for ``$SECRET(name)``; other values unchanged."""
    name = secret_name(value)
    if name is None:
        return value
    secrets = ctx.env.extra.get("secrets") or {}
    if name not in secrets:
        raise DtlError(f"secret {name!r} is not defined", code="missing-secret")
    return secrets[name]


def _key_arg(c, args, ptr, index: int, loader: Callable[[str], Any]):
    """Compile key argument ``index`` into ``f(ctx) -> loaded key``.

    A constant key (not a ``$SECRET``) is loaded once, now, so a broken key
    is a compile error; otherwise it is resolved and loaded per call
    (``loader`` caches by key text).
    """
    node = args[index]
    fn = c.expr(node, pointer(ptr, index + 1))
    if is_const(fn) and secret_name(fn.value) is None:
        try:
            key = loader(_key_text(fn.value))
        except DtlError as e:
            raise c.error(e.message, pointer(ptr, index + 1), node, code=e.code) from None
        return lambda ctx: key
    return lambda ctx: loader(_key_text(resolve_secret(ctx, first(fn(ctx)))))


def _key_text(value: Any) -> str:
    value = first(value)
    if type(value) is not str:
        raise DtlError(f"a key must be a string, got {type(value).__name__}", code="invalid-key")
    return value


def _each(values: Any, convert: Callable[[Any], Any]) -> Any:
    if type(values) is list:
        return [r for r in map(convert, values) if r is not None]
    if values is None:
        return None
    return convert(values)


def _with_secrets(ctx, values: Any) -> Any:
    """Resolve ``$SECRET(name)`` strings among the values to encrypt (the
    docs show one as the value of ``encrypt-pki``)."""
    if type(values) is list:
        return [resolve_secret(ctx, v) for v in values]
    return resolve_secret(ctx, values)


def _failed(what: str) -> DtlError:
    return DtlError(what, code="decrypt-failed")


# ---------------------------------------------------------------- Fernet


@lru_cache(maxsize=64)
def fernet(password: str):
    from cryptography.fernet import Fernet

    digest = hashlib.sha256(password.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@registry.special("encrypt", 2, signature="KEY VALUES", pure=False)
def compile_encrypt(c, args, ptr):
    """Encrypt the whole VALUES (one bytes value, even for a list) with a
    Fernet key derived from the password KEY. Null stays null.

    >>> evaluate(["is-bytes", ["encrypt", "secret", "a"]])
    True
    """
    key = _key_arg(c, args, ptr, 0, fernet)
    values = c.expr(args[1], pointer(ptr, 2))

    def encrypt(ctx):
        v = _with_secrets(ctx, values(ctx))
        if v is None:
            return None
        text = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        return bytes_value(key(ctx).encrypt(text.encode("utf-8")))

    return c.guarded(encrypt, ptr, ["encrypt", *args], "encrypt")


@registry.special("decrypt", 2, signature="KEY VALUES")
def compile_decrypt(c, args, ptr):
    """Decrypt bytes made by ``encrypt`` with the same KEY; each bytes value
    gives back the value that was encrypted. Non-bytes are dropped.

    >>> evaluate(["decrypt", "k", ["encrypt", "k", "~t2015-12-31"]])
    '~t2015-12-31'
    """
    from cryptography.fernet import InvalidToken

    key = _key_arg(c, args, ptr, 0, fernet)
    values = c.expr(args[1], pointer(ptr, 2))

    def decrypt_one(f, v):
        data = parse_bytes(v)
        if data is None:
            return None
        try:
            plain = f.decrypt(data)
            return json.loads(plain.decode("utf-8"))
        except (InvalidToken, ValueError):
            raise _failed("decrypt: the value was not encrypted with this key") from None

    def decrypt(ctx):
        f = key(ctx)
        return _each(values(ctx), lambda v: decrypt_one(f, v))

    return c.guarded(decrypt, ptr, ["decrypt", *args], "decrypt")


# ---------------------------------------------------------------- OpenPGP


def _pgpy():
    """Import PGPy lazily: it is slow to import and only these two need it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy

    return pgpy


@lru_cache(maxsize=32)
def pgp_key(text: str):
    pgpy = _pgpy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            key, _ = pgpy.PGPKey.from_blob(text)
    except Exception:
        raise DtlError("the key is not an ASCII-armoured OpenPGP key", code="invalid-key") from None
    return key


@registry.special("encrypt-pgp", 2, signature="PUBLIC_KEY VALUES", pure=False)
def compile_encrypt_pgp(c, args, ptr):
    """Encrypt each string in VALUES for the OpenPGP PUBLIC_KEY; gives
    ASCII-armoured messages. Non-strings are dropped (serialise them first
    with ``json`` or ``json-transit``)."""
    key = _key_arg(c, args, ptr, 0, pgp_key)
    values = c.expr(args[1], pointer(ptr, 2))
    pgpy = _pgpy()

    def encrypt_one(k, v):
        if not is_plain_string(v):
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return str(k.encrypt(pgpy.PGPMessage.new(v)))
            except Exception as e:
                raise DtlError(f"encrypt-pgp: the key cannot encrypt: {e}", code="invalid-key") from None

    def encrypt(ctx):
        k = key(ctx)
        if not k.is_public:
            k = k.pubkey
        return _each(_with_secrets(ctx, values(ctx)), lambda v: encrypt_one(k, v))

    return c.guarded(encrypt, ptr, ["encrypt-pgp", *args], "encrypt-pgp")


@registry.special("decrypt-pgp", 3, signature="PRIVATE_KEY PASSPHRASE VALUES")
def compile_decrypt_pgp(c, args, ptr):
    """Decrypt ASCII-armoured OpenPGP messages with PRIVATE_KEY unlocked by
    PASSPHRASE; gives strings. Values that are not messages are dropped."""
    key = _key_arg(c, args, ptr, 0, pgp_key)
    passphrase = c.expr(args[1], pointer(ptr, 2))
    values = c.expr(args[2], pointer(ptr, 3))
    pgpy = _pgpy()

    def decrypt_one(k, v):
        if not is_plain_string(v) or "BEGIN PGP MESSAGE" not in v:
            return None
        try:
            message = pgpy.PGPMessage.from_blob(v)
        except Exception:
            return None
        try:
            plain = k.decrypt(message).message
        except Exception:
            raise _failed("decrypt-pgp: the message was not encrypted for this key") from None
        if isinstance(plain, (bytes, bytearray)):
            try:
                return bytes(plain).decode("utf-8")
            except UnicodeDecodeError:
                raise _failed("decrypt-pgp: the message is not UTF-8 text") from None
        return plain

    def decrypt(ctx):
        k = key(ctx)
        if k.is_public:
            raise DtlError("decrypt-pgp needs a private key", code="invalid-key")
        items = values(ctx)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not k.is_protected:
                return _each(items, lambda v: decrypt_one(k, v))
            secret = resolve_secret(ctx, first(passphrase(ctx)))
            if type(secret) is not str:
                raise DtlError("decrypt-pgp: the passphrase must be a string", code="invalid-key")
            try:
                unlocked = k.unlock(secret)
                unlocked.__enter__()
            except Exception:
                raise DtlError("decrypt-pgp: wrong passphrase for the private key", code="invalid-key") from None
            try:
                return _each(items, lambda v: decrypt_one(k, v))
            finally:
                unlocked.__exit__(None, None, None)

    return c.guarded(decrypt, ptr, ["decrypt-pgp", *args], "decrypt-pgp")


# ---------------------------------------------------------------- RSA (PKI)


def _oaep():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


@lru_cache(maxsize=32)
def rsa_public_key(text: str):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        return load_pem_public_key(text.encode("utf-8"))
    except Exception:
        raise DtlError("the key is not a PEM RSA public key", code="invalid-key") from None


@lru_cache(maxsize=32)
def rsa_private_key(text: str):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        return load_pem_private_key(text.encode("utf-8"), password=None)
    except Exception:
        raise DtlError("the key is not an unencrypted PEM RSA private key", code="invalid-key") from None


@registry.special("encrypt-pki", 2, signature="PUBLIC_KEY VALUES", pure=False)
def compile_encrypt_pki(c, args, ptr):
    """Encrypt each short string in VALUES with the RSA PUBLIC_KEY (PEM,
    OAEP/SHA-256); gives bytes. Non-strings are dropped; a string too long
    for the key fails with code ``invalid-argument``."""
    key = _key_arg(c, args, ptr, 0, rsa_public_key)
    values = c.expr(args[1], pointer(ptr, 2))
    padding = _oaep()

    def encrypt_one(k, v):
        if not is_plain_string(v):
            return None
        try:
            return bytes_value(k.encrypt(v.encode("utf-8"), padding))
        except ValueError:
            raise DtlError("encrypt-pki: the value is too long for the key; use encrypt-pgp", code="invalid-argument") from None

    def encrypt(ctx):
        k = key(ctx)
        if not hasattr(k, "encrypt"):
            raise DtlError("encrypt-pki needs an RSA public key", code="invalid-key")
        return _each(_with_secrets(ctx, values(ctx)), lambda v: encrypt_one(k, v))

    return c.guarded(encrypt, ptr, ["encrypt-pki", *args], "encrypt-pki")


@registry.special("decrypt-pki", 2, signature="PRIVATE_KEY VALUES")
def compile_decrypt_pki(c, args, ptr):
    """Decrypt bytes made by ``encrypt-pki`` with the RSA PRIVATE_KEY (PEM);
    gives strings. Non-bytes are dropped."""
    key = _key_arg(c, args, ptr, 0, rsa_private_key)
    values = c.expr(args[1], pointer(ptr, 2))
    padding = _oaep()

    def decrypt_one(k, v):
        data = parse_bytes(v)
        if data is None:
            return None
        try:
            return k.decrypt(data, padding).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise _failed("decrypt-pki: the value was not encrypted for this key") from None

    def decrypt(ctx):
        k = key(ctx)
        if not hasattr(k, "decrypt"):
            raise DtlError("decrypt-pki needs an RSA private key", code="invalid-key")
        return _each(values(ctx), lambda v: decrypt_one(k, v))

    return c.guarded(decrypt, ptr, ["decrypt-pki", *args], "decrypt-pki")
