"""Protobuf wire-format encoding for test fixtures (SavedModel, keras_metadata.pb)."""

from __future__ import annotations


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def vfield(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def lfield(number: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def node_def(name: str, op: str, inputs: tuple[str, ...] = (), attrs: dict[str, bytes] | None = None) -> bytes:
    """NodeDef{name=1, op=2, input=3, attr=5 (map<string, AttrValue>)}."""
    out = lfield(1, name) + lfield(2, op) + b"".join(lfield(3, i) for i in inputs)
    for key, value in (attrs or {}).items():
        out += lfield(5, lfield(1, key) + lfield(2, value))
    return out


def string_tensor_attr(*values: str) -> bytes:
    """AttrValue{tensor=8: TensorProto{dtype=1 (DT_STRING=7), string_val=8}}."""
    return lfield(8, vfield(1, 7) + b"".join(lfield(8, v) for v in values))


def string_attr(value: str) -> bytes:
    """AttrValue{s=2}."""
    return lfield(2, value)


def saved_model(
    nodes: list[bytes],
    functions: dict[str, list[bytes]] | None = None,
    user_metadata: str = "",
    assets: tuple[str, ...] = (),
) -> bytes:
    """SavedModel{schema_version=1, meta_graphs=2: MetaGraphDef{graph_def=2, object_graph_def=7}}."""
    library = b""
    for fname, fnodes in (functions or {}).items():
        signature = lfield(1, fname)
        library += lfield(1, lfield(1, signature) + b"".join(lfield(3, n) for n in fnodes))
    graph = b"".join(lfield(1, n) for n in nodes) + (lfield(2, library) if library else b"")
    meta = lfield(1, lfield(1, b"serve")) + lfield(2, graph)
    for filename in assets:  # AssetFileDef{tensor_info=1, filename=2}
        meta += lfield(6, lfield(1, lfield(1, "asset_path:0")) + lfield(2, filename))
    if user_metadata:
        user_object = lfield(1, "_tf_keras_layer") + lfield(3, user_metadata)
        meta += lfield(7, lfield(1, lfield(4, user_object)))
    return vfield(1, 1) + lfield(2, meta)


def keras_metadata(nodes: list[tuple[str, str]]) -> bytes:
    """SavedMetadata{nodes=1: SavedObject{node_id=2, node_path=3, identifier=4, metadata=5, version=6}}."""
    out = b""
    for i, (path, metadata) in enumerate(nodes):
        obj = (vfield(2, i) if i else b"") + lfield(3, path) + lfield(4, "_tf_keras_layer") + lfield(5, metadata)
        obj += lfield(6, vfield(1, 1) + vfield(2, 1))
        out += lfield(1, obj)
    return out
