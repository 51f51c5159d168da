"""Python peer of the object-store benchmark: boto3 (the trainer's pinned client, same checksum settings) uploads a
file to the S3 server under a fresh key, then downloads it to a fresh path and hashes it with SHA-256, as Relearn's
S3 store does for a verified read.

    python bench/py/s3_peer.py <file> <endpoint> <bucket> <prefix> <repetitions>    (keys from AWS_* variables)
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time

import boto3
from botocore.config import Config


def main(argv: list[str]) -> None:
    path, endpoint, bucket, prefix, reps = argv[1], argv[2], argv[3], argv[4], int(argv[5])
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        config=Config(
            region_name="us-east-1",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    put_ms: list[float] = []
    read_ms: list[float] = []
    digest = ""
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(reps + 1):
            key = f"{prefix}/boto3-{rep}/{os.path.basename(path)}"
            t0 = time.perf_counter()
            client.upload_file(path, bucket, key)
            t1 = time.perf_counter()
            target = os.path.join(tmp, f"read-{rep}")
            client.download_file(bucket, key, target)
            h = hashlib.sha256()
            with open(target, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            digest = h.hexdigest()
            t2 = time.perf_counter()
            if rep > 0:  # the first round warms the connection pool and the imports
                put_ms.append((t1 - t0) * 1000)
                read_ms.append((t2 - t1) * 1000)
    print(json.dumps({"putMs": put_ms, "readMs": read_ms, "sha256": digest}))


if __name__ == "__main__":
    main(sys.argv)
