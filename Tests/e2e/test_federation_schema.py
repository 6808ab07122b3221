"""The federation protocol's published documents agree: the worked example validates against the JSON Schemas, its
signature verifies with the example key over the canonical bytes, and the schemas refuse what the server refuses."""
import base64
import copy
import hashlib
import json
import os

import jsonschema
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from referencing import Registry, Resource

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "federation")


def load(name):
    with open(os.path.join(DOCS, name), "rb") as f:
        return f.read()


def validator():
    registry = Registry()
    for name in ["referral", "status", "known", "envelope"]:
        schema = json.loads(load(f"{name}.schema.json"))
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    envelope = json.loads(load("envelope.schema.json"))
    return jsonschema.Draft202012Validator(envelope, registry=registry)


def canonical(value):
    """RFC 8785 for documents of strings, integers, booleans and null (Python's sort is by code point; the keys here are ASCII)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def test_worked_example_validates_and_verifies():
    envelope = json.loads(load("example-referral.json"))
    validator().validate(envelope)
    assert canonical(envelope["message"]) == load("example-referral.canonical")
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"vigil federation example key").digest())
    public = key.public_key()
    public.verify(base64.b64decode(envelope["signature"]), load("example-referral.canonical"))
    raw = public.public_bytes_raw()
    assert envelope["message"]["key_id"] == "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]
    # Ed25519 is deterministic: signing again gives the published signature
    assert base64.b64encode(key.sign(load("example-referral.canonical"))).decode() == envelope["signature"]
    tampered = copy.deepcopy(envelope["message"])
    tampered["referral"]["items"][0]["value"] += "x"
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(envelope["signature"]), canonical(tampered))


@pytest.mark.parametrize("change", [
    lambda m: m.pop("signed_at"),
    lambda m: m.__setitem__("protocol", "vigil-federation/2"),
    lambda m: m["referral"]["items"][0].__setitem__("kind", "ftp"),
    lambda m: m["referral"]["hosting"].__setitem__("country", "xb"),
    lambda m: m.__setitem__("reporter", "someone@example.test"),
    lambda m: m["referral"]["assessment"].__setitem__("illegality", "maybe"),
])
def test_schemas_refuse_what_the_server_refuses(change):
    envelope = json.loads(load("example-referral.json"))
    change(envelope["message"])
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(envelope)


def test_status_declined_needs_a_reason():
    status = {"protocol": "vigil-federation/1", "id": "0b9d1c9e-4c5a-4f0e-9d43-8e2a1f7b6c55", "type": "status",
              "from": "hotline-xb", "key_id": "ed25519:0123456789abcdef", "signed_at": "2026-12-03T05:00:00Z",
              "case": "XB-2026-7", "status": {"referral": "6f1c2a4e-8b0d-4c53-9a61-2d7e5b3f9c10",
                                               "state": "declined", "at": "2026-12-03T04:59:00Z"}}
    envelope = {"message": status, "signature": "A" * 86 + "=="}
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(envelope)
    status["status"]["reason"] = "not illegal under our law"
    validator().validate(envelope)
