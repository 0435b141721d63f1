#!/usr/bin/env python3
"""Write an OCI image layout from uncompressed layer tars, with two tags.

usage: oci-layout.py --out LAYOUT_DIR --layers-json FILE --arch ARCH
                     --layer TAR --history TEXT [--layer TAR --history TEXT ...]
                     [--zstd-layer N|all] [--tag NAME] [--zstd-tag NAME] [--parallel]

Every layer is gzipped (application/vnd.oci.image.layer.v1.tar+gzip) for the image
tagged --tag. A second manifest, tagged --zstd-tag, is the same image with layer N
(1-based; "all" for every layer) compressed with zstd (application/vnd.oci.image.layer.v1.tar+zstd);
both share the config (the diff_ids do not depend on compression) and the other blobs.
Tags are the org.opencontainers.image.ref.name annotations of index.json, which is
what `skopeo copy oci:DIR:TAG` looks up. Compression uses the gzip and zstd
programs with fixed options, so equal tars give equal blobs. --parallel uses every core: pigz instead
of gzip (its own deterministic output, different bytes from gzip's) and zstd -T0 (the same output for any
thread count), for images too large to compress on one core in reasonable time.
--layers-json receives {"layers": [...], "zstdLayers": [...]} with, per layer in
order, its digest, diffId, mediaType and size.
"""

import argparse
import datetime
import hashlib
import json
import os
import subprocess
import sys

GZIP_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
ZSTD_TYPE = "application/vnd.oci.image.layer.v1.tar+zstd"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
COMPRESSORS = {
    # -n: no file name or time in the gzip header, so the blob depends only on the tar.
    GZIP_TYPE: ["gzip", "-n", "-6", "-c"],
    ZSTD_TYPE: ["zstd", "-q", "-9", "-c", "--no-progress"],
}
PARALLEL_COMPRESSORS = {
    GZIP_TYPE: ["pigz", "-n", "-6", "-c"],
    ZSTD_TYPE: ["zstd", "-q", "-9", "-T0", "-c", "--no-progress"],
}
CHUNK = 1 << 20


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                return "sha256:" + h.hexdigest()
            h.update(b)


class Layout:
    def __init__(self, root, compressors):
        self.root = root
        self.compressors = compressors
        self.blobs = os.path.join(root, "blobs", "sha256")
        os.makedirs(self.blobs, exist_ok=True)

    def _place(self, tmp):
        digest = sha256_file(tmp)
        os.replace(tmp, os.path.join(self.blobs, digest.split(":", 1)[1]))
        return digest, os.path.getsize(os.path.join(self.blobs, digest.split(":", 1)[1]))

    def put_bytes(self, data):
        tmp = os.path.join(self.blobs, ".incoming")
        with open(tmp, "wb") as f:
            f.write(data)
        return self._place(tmp)

    def put_json(self, obj):
        # Compact, key-sorted JSON: the digest then depends only on the content.
        return self.put_bytes(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())

    def put_compressed(self, tar_path, media_type):
        tmp = os.path.join(self.blobs, ".incoming")
        with open(tar_path, "rb") as src, open(tmp, "wb") as dst:
            subprocess.run(self.compressors[media_type], stdin=src, stdout=dst, check=True)
        return self._place(tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers-json", required=True)
    ap.add_argument("--arch", required=True)
    ap.add_argument("--layer", action="append", required=True)
    ap.add_argument("--history", action="append", required=True)
    ap.add_argument("--zstd-layer", default="2", help='1-based layer number, or "all"')
    ap.add_argument("--tag", default="bookworm")
    ap.add_argument("--zstd-tag", default="zstd")
    ap.add_argument("--parallel", action="store_true", help="compress with pigz and zstd -T0")
    args = ap.parse_args()
    if len(args.layer) != len(args.history):
        ap.error("give one --history per --layer")
    if args.zstd_layer == "all":
        zstd_layers = set(range(1, len(args.layer) + 1))
    elif args.zstd_layer.isdigit() and 1 <= int(args.zstd_layer) <= len(args.layer):
        zstd_layers = {int(args.zstd_layer)}
    else:
        ap.error(f"--zstd-layer {args.zstd_layer} is neither a layer number (1..{len(args.layer)}) nor 'all'")

    layout = Layout(args.out, PARALLEL_COMPRESSORS if args.parallel else COMPRESSORS)
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    diff_ids, gz, zs = [], [], []
    for i, tar_path in enumerate(args.layer, start=1):
        diff_id = sha256_file(tar_path)
        diff_ids.append(diff_id)
        d, size = layout.put_compressed(tar_path, GZIP_TYPE)
        gz.append({"digest": d, "diffId": diff_id, "mediaType": GZIP_TYPE, "size": size})
        if i in zstd_layers:
            d, size = layout.put_compressed(tar_path, ZSTD_TYPE)
            zs.append({"digest": d, "diffId": diff_id, "mediaType": ZSTD_TYPE, "size": size})
        else:
            zs.append(gz[-1])
        print(f"oci-layout: layer {i}: diff_id {diff_id}, gzip {gz[-1]['size']} bytes", file=sys.stderr)

    config = {
        "created": created,
        "architecture": args.arch,
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["bash"],
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": created, "created_by": h} for h in args.history],
    }
    config_digest, config_size = layout.put_json(config)

    index_manifests = []
    for tag, layers in ((args.tag, gz), (args.zstd_tag, zs)):
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": l["mediaType"], "digest": l["digest"], "size": l["size"]} for l in layers],
        }
        m_digest, m_size = layout.put_json(manifest)
        index_manifests.append(
            {
                "mediaType": MANIFEST_TYPE,
                "digest": m_digest,
                "size": m_size,
                "platform": {"architecture": args.arch, "os": "linux"},
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        )

    with open(os.path.join(args.out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": index_manifests}, f, indent=2)
        f.write("\n")
    with open(args.layers_json, "w") as f:
        json.dump({"config": config_digest, "layers": gz, "zstdLayers": zs}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
