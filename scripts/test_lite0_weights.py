"""Tests of scripts/lite0_weights.py without torch: legacy-format files are written here with stand-in
`torch` modules, so the pickles name exactly the globals PyTorch writes. Run by Tests/PerceptionTests.

Usage: python3 scripts/test_lite0_weights.py
"""
import collections
import json
import os
import pickle
import struct
import sys
import tempfile
import types
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lite0_weights  # noqa: E402


def standin_torch():
    """Modules `torch` and `torch._utils` whose members pickle under PyTorch's names."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while writing")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    for name in ("FloatStorage", "LongStorage"):
        setattr(torch, name, type(name, (), {"__module__": "torch", "__qualname__": name}))
    return torch, utils


class Storage:
    def __init__(self, kind, key, values):
        self.kind, self.key, self.values = kind, key, values


class Tensor:
    """Pickles as PyTorch's legacy writer pickles a tensor: _rebuild_tensor_v2(storage, offset, size, stride, ...)."""
    def __init__(self, rebuild, storage, offset, size, stride):
        self.rebuild, self.args = rebuild, (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (self.rebuild, self.args)


def legacy_bytes(state, storages):
    """The legacy layout: magic, protocol, system info, the state dict, the storage keys, then the storages."""
    import io
    out = io.BytesIO()
    for header in (lite0_weights.LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, out, protocol=2)

    class Writer(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", obj.kind, obj.key, "cpu", len(obj.values), None)
            return None

    Writer(out, protocol=2).dump(state)
    pickle.dump([s.key for s in storages], out, protocol=2)
    for s in storages:
        out.write(struct.pack("<q", len(s.values)) + s.values.tobytes())
    return out.getvalue()


class ConverterTests(unittest.TestCase):
    def setUp(self):
        self.torch, self.utils = standin_torch()
        self.saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
        sys.modules["torch"], sys.modules["torch._utils"] = self.torch, self.utils
        self.folder = tempfile.TemporaryDirectory()

    def tearDown(self):
        for name, module in self.saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        self.folder.cleanup()

    def write(self, data):
        path = os.path.join(self.folder.name, "state.pth")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def sample(self):
        floats = Storage(self.torch.FloatStorage, "17", np.arange(10, dtype="<f4"))
        longs = Storage(self.torch.LongStorage, "23", np.array([7], dtype="<i8"))
        rebuild = self.utils._rebuild_tensor_v2
        state = collections.OrderedDict([
            ("conv.weight", Tensor(rebuild, floats, 1, (2, 3), (3, 1))),        # elements 1...6
            ("conv.transposed", Tensor(rebuild, floats, 0, (3, 2), (1, 3))),   # a view with swapped strides
            ("bn.num_batches_tracked", Tensor(rebuild, longs, 0, (), ())),
        ])
        return state, [floats, longs]

    def test_converts_views_offsets_and_scalars_to_safetensors(self):
        state, storages = self.sample()
        tensors = lite0_weights.read_state_dict(self.write(legacy_bytes(state, storages)))
        np.testing.assert_array_equal(tensors["conv.weight"][0], np.arange(1, 7, dtype=np.float32).reshape(2, 3))
        np.testing.assert_array_equal(tensors["conv.transposed"][0], np.arange(6, dtype=np.float32).reshape(2, 3).T)
        self.assertEqual(tensors["bn.num_batches_tracked"][0].shape, ())
        self.assertEqual(tensors["bn.num_batches_tracked"][1], "I64")
        encoded = lite0_weights.safetensors_bytes(tensors, {"source": "test"})
        (length,) = struct.unpack("<Q", encoded[:8])
        self.assertEqual(length % 8, 0)
        header = json.loads(encoded[8:8 + length])
        self.assertEqual(header["conv.transposed"]["shape"], [3, 2])
        begin, end = header["conv.transposed"]["data_offsets"]
        data = np.frombuffer(encoded[8 + length + begin:8 + length + end], dtype="<f4")
        np.testing.assert_array_equal(data, [0, 3, 1, 4, 2, 5])

    def test_refuses_a_foreign_global_without_calling_it(self):
        state, storages = self.sample()
        marker = os.path.join(self.folder.name, "ran")

        class Payload:
            def __reduce__(self):
                return (os.system, (f"touch {marker}",))

        state["evil"] = Payload()
        with self.assertRaisesRegex(lite0_weights.RefusedPickle, "refusing global (os|posix).system"):
            lite0_weights.read_state_dict(self.write(legacy_bytes(state, storages)))
        self.assertFalse(os.path.exists(marker))

    def test_refuses_a_foreign_global_in_the_header_pickles(self):
        path = self.write(pickle.dumps(types.SimpleNamespace(), protocol=2))
        with self.assertRaisesRegex(lite0_weights.RefusedPickle, "refusing global types.SimpleNamespace"):
            lite0_weights.read_state_dict(path)

    def test_rejects_a_truncated_storage(self):
        state, storages = self.sample()
        path = self.write(legacy_bytes(state, storages)[:-4])
        with self.assertRaisesRegex(ValueError, "file ends inside storage"):
            lite0_weights.read_state_dict(path)

    def test_rejects_a_tensor_reaching_outside_its_storage(self):
        state, storages = self.sample()
        state["conv.weight"] = Tensor(self.utils._rebuild_tensor_v2, storages[0], 5, (2, 3), (3, 1))
        with self.assertRaisesRegex(ValueError, "reaches outside its storage"):
            lite0_weights.read_state_dict(self.write(legacy_bytes(state, storages)))


if __name__ == "__main__":
    unittest.main()
