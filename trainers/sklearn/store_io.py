"""Inputs and outputs through Relearn's artifact store on S3, for a job that runs on another machine than the worker.

A spec may carry, besides (or instead of) local paths:
  "store":     {"url": "s3://bucket/prefix", "endpoint": "http://...", "region": "...", "forcePathStyle": true}
  "snapshot":  {"uri": "store://snapshots/<sha256>/snapshot.arrow", "sha256": "<sha256>"}   (and "split" alike)
  "outputUri": "s3://bucket/prefix/jobs/<jobId>/run-<n>"
The store's layout is `<prefix>/<kind>/<sha256[0:2]>/<sha256>/<name>`, as on the worker (src/store/). Every input is
hashed before use; outputs are uploaded after the job wrote them, status.json last, so a reader that sees
status.json sees every other file. Credentials come from the standard AWS chain of the job's machine (env vars
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance role); the spec never holds any.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Any

from job_spec import JobInputError

_S3_URL = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?$")
_STORE_URI = re.compile(r"^store://([A-Za-z0-9_-][A-Za-z0-9._-]*)/([0-9a-f]{64})/([A-Za-z0-9_-][A-Za-z0-9._-]*)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


class StoreIntegrityError(JobInputError):
    """An input whose bytes do not hash to the digest the spec names: the same input would fail again (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="data")


@dataclass(frozen=True)
class S3Store:
    bucket: str
    prefix: str
    endpoint: str | None
    region: str
    force_path_style: bool

    @property
    def where(self) -> str:
        return f"S3 store {self.url}" + (f" at {self.endpoint}" if self.endpoint else "")

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")

    def key_of(self, uri: str) -> str:
        m = _STORE_URI.match(uri)
        if not m:
            raise JobInputError(f"spec: {uri!r} is not a store URI (store://<kind>/<sha256>/<name>)")
        kind, sha, name = m.groups()
        key = f"{kind}/{sha[:2]}/{sha}/{name}"
        return f"{self.prefix}/{key}" if self.prefix else key

    def client(self) -> Any:
        # Imported here: a job whose spec names no store never loads boto3.
        import boto3
        from botocore.config import Config

        config = Config(
            region_name=self.region,
            s3={"addressing_style": "path" if self.force_path_style else "auto"},
            retries={"max_attempts": 5, "mode": "standard"},
            # As on the worker: checksums only where S3 requires them, so S3-compatible servers accept the requests.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        return boto3.client("s3", endpoint_url=self.endpoint, config=config)


def parse_store(raw: Any) -> S3Store | None:
    """The spec's `store` block, or None when the spec has none (a local job with local paths)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
        raise JobInputError("spec field 'store': expected an object with url: s3://<bucket>/<prefix>")
    m = _S3_URL.match(raw["url"])
    if not m:
        raise JobInputError(f"spec field 'store.url': expected s3://<bucket>/<prefix>, got {raw['url']!r}")
    endpoint = raw.get("endpoint")
    if endpoint is not None and (not isinstance(endpoint, str) or not re.match(r"^https?://[^@/]+(/|$)", endpoint)):
        raise JobInputError(f"spec field 'store.endpoint': expected an http(s):// URL without credentials, got {endpoint!r}")
    region = raw.get("region", "us-east-1")
    if not isinstance(region, str) or not region:
        raise JobInputError(f"spec field 'store.region': expected a region name, got {region!r}")
    return S3Store(
        bucket=m.group(1),
        prefix=(m.group(2) or "").strip("/"),
        endpoint=endpoint,
        region=region,
        force_path_style=raw.get("forcePathStyle") is True,
    )


def _sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _ref(raw: dict[str, Any], field: str) -> tuple[str, str] | None:
    ref = raw.get(field)
    if ref is None:
        return None
    if not isinstance(ref, dict) or not isinstance(ref.get("uri"), str) or not _SHA256.match(str(ref.get("sha256", ""))):
        raise JobInputError(f"spec field '{field}': expected {{uri: store://..., sha256: <64 hex digits>}}")
    m = _STORE_URI.match(ref["uri"])
    if not m or m.group(2) != ref["sha256"]:
        raise JobInputError(f"spec field '{field}.uri': {ref['uri']!r} is not a store URI naming SHA-256 {ref['sha256']}")
    return ref["uri"], ref["sha256"]


def _download_verified(store: S3Store, client: Any, uri: str, sha256: str, dest_dir: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    key = store.key_of(uri)
    dest = os.path.join(dest_dir, sha256[:2], sha256, uri.rsplit("/", 1)[1])
    if os.path.isfile(dest) and _sha256_of(dest) == sha256:
        return dest
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".download-")
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            try:
                body = client.get_object(Bucket=store.bucket, Key=key)["Body"]
                for chunk in body.iter_chunks(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                if code in ("NoSuchKey", "404"):
                    raise StoreIntegrityError(f"{uri}: missing from the {store.where} (expected at s3://{store.bucket}/{key})") from None
                # Wrong credentials, a missing bucket, a 5xx: the launcher's retry decides (exit 1).
                raise OSError(f"{store.where}: read s3://{store.bucket}/{key} failed: {err}") from None
            except BotoCoreError as err:
                raise OSError(f"{store.where}: read s3://{store.bucket}/{key} failed, cannot reach the server: {err}") from None
        actual = h.hexdigest()
        if actual != sha256:
            raise StoreIntegrityError(f"{uri}: SHA-256 of s3://{store.bucket}/{key} is {actual}, expected {sha256} (changed after it was written)")
        os.replace(temp, dest)
        return dest
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def open_store(raw: dict[str, Any]) -> tuple[S3Store, str | None] | None:
    """
    The spec's store and `outputUri`, or None for a spec without a store (a local job: nothing changes). Gives
    `outputDir` a local folder when the spec names none (its outputs go to `outputUri`).
    """
    store = parse_store(raw.get("store"))
    if store is None:
        return None
    output_uri = raw.get("outputUri")
    if output_uri is not None and (not isinstance(output_uri, str) or not _S3_URL.match(output_uri)):
        raise JobInputError(f"spec field 'outputUri': expected s3://<bucket>/<prefix>, got {output_uri!r}")
    if not isinstance(raw.get("outputDir"), str):
        raw["outputDir"] = tempfile.mkdtemp(prefix="relearn-job-")
    return store, output_uri


def fetch_inputs(raw: dict[str, Any], store: S3Store) -> None:
    """
    Fills `snapshotPath`/`splitPath` of a spec that names its inputs by store URI: a local path the spec gives is used
    when its file is there and hashes to the digest (the job runs on the worker's machine), else the object is
    downloaded beside the output folder and checked before use.
    """
    client = None
    for field, path_field in (("snapshot", "snapshotPath"), ("split", "splitPath")):
        ref = _ref(raw, field)
        if ref is None:
            continue
        uri, sha256 = ref
        given = raw.get(path_field)
        if isinstance(given, str) and os.path.isabs(given) and os.path.isfile(given) and _sha256_of(given) == sha256:
            continue
        client = client or store.client()
        inputs = os.path.join(os.path.dirname(os.path.abspath(raw["outputDir"])), "inputs")
        raw[path_field] = _download_verified(store, client, uri, sha256, inputs)


def upload_outputs(store: S3Store, output_dir: str, output_uri: str) -> list[str]:
    """Uploads every file of `output_dir` under `output_uri`, status.json last; returns the keys written."""
    from botocore.exceptions import BotoCoreError, ClientError

    m = _S3_URL.match(output_uri)
    assert m is not None  # checked by open_store
    bucket, prefix = m.group(1), (m.group(2) or "").strip("/")
    client = store.client()
    names = sorted(
        n for n in os.listdir(output_dir) if os.path.isfile(os.path.join(output_dir, n)) and not n.startswith(".")
    )
    names = [n for n in names if n != "status.json"] + (["status.json"] if "status.json" in names else [])
    written = []
    for name in names:
        key = f"{prefix}/{name}" if prefix else name
        try:
            client.upload_file(os.path.join(output_dir, name), bucket, key)
        except (BotoCoreError, ClientError) as err:
            raise OSError(f"{store.where}: write s3://{bucket}/{key} failed: {err}") from None
        written.append(key)
    return written
