"""Regenerate the Pub/Sub API stubs from the vendor's ``pubsub_api.proto``.

``python -m integrations.connectors.salesforce.pubsub.regenerate`` rewrites
``pubsub_api_pb2.py``, ``pubsub_api_pb2_grpc.py`` and ``pubsub_api_pb2.pyi`` in
this folder. A contract test regenerates them in memory and compares bytes, so
the committed stubs never drift from the contract. Needs grpcio-tools (a dev
dependency); the stubs themselves need only grpcio and protobuf at runtime.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from integrations.sandbox.contracts import contract

PROTO = "salesforce/pubsub/pubsub_api.proto"
HERE = Path(__file__).resolve().parent
# Generated code is not ours to lint or reformat.
HEADER = b"# ruff: noqa\n# fmt: off\n"
ABSOLUTE_IMPORT = b"import pubsub_api_pb2 as pubsub__api__pb2"
RELATIVE_IMPORT = b"from . import pubsub_api_pb2 as pubsub__api__pb2"
OUTPUTS = ("pubsub_api_pb2.py", "pubsub_api_pb2_grpc.py", "pubsub_api_pb2.pyi")


def generate(proto: Path | None = None) -> dict[str, bytes]:
    """The stub files' contents, generated from ``proto`` (the contract's copy)."""
    from grpc_tools import protoc  # dev dependency, imported only when generating

    proto = proto or contract(PROTO)
    with tempfile.TemporaryDirectory() as out:
        code = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{proto.parent}",
                f"--python_out={out}",
                f"--pyi_out={out}",
                f"--grpc_python_out={out}",
                str(proto),
            ]
        )
        if code != 0:
            raise RuntimeError(f"protoc failed on {proto} (exit code {code}).")
        files = {name: (Path(out) / name).read_bytes() for name in OUTPUTS}
    # protoc writes a top-level import; the stubs live in a package.
    grpc_stub = files["pubsub_api_pb2_grpc.py"]
    if ABSOLUTE_IMPORT not in grpc_stub:
        raise RuntimeError("The generated gRPC stub no longer imports pubsub_api_pb2.")
    files["pubsub_api_pb2_grpc.py"] = grpc_stub.replace(
        ABSOLUTE_IMPORT, RELATIVE_IMPORT
    )
    return {name: HEADER + content for name, content in files.items()}


def main() -> int:
    for name, content in generate().items():
        (HERE / name).write_bytes(content)
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
