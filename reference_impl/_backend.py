"""Array backends: where a tensor's array lives and which namespace computes on it.

Every tensor holds one array of one backend. Kernels are written to the Python array API
standard and run in the namespace of their inputs, found by the array's *type* through one dict
lookup (so per-op overhead stays small), not by inspecting every call's arguments.

Backends:
- ``numpy`` — the default, device ``CPU:0``;
- ``cupy`` — ``GPU:<n>``, when CuPy and a CUDA device are present;
- ``array_api_strict`` — the standard's reference namespace with fake devices
  (``STRICT:CPU_DEVICE``, ``STRICT:device1``, ...): used by the tests to prove the kernels are
  portable (code that only works on NumPy fails there) and to test device mixing.

Ops on tensors of two different devices raise a clear error: the reference never copies
silently (copy explicitly: ``with tf.device(d): y = tf.identity(x)``).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

__all__ = [
    "NUMPY",
    "Backend",
    "DeviceMismatchError",
    "available_devices",
    "backend_for_device",
    "backend_of",
]


class DeviceMismatchError(ValueError):
    """An op received tensors on two devices; the message names both and how to copy."""


class Backend:
    """One array library: its namespace and how to name, place and copy its arrays."""

    def __init__(self, name: str, xp: Any) -> None:
        self.name = name
        self.xp = xp

    # ---- devices
    def device_name(self, array: Any) -> str:
        return "CPU:0"

    def native_device(self, name: str) -> Any:
        return None

    def devices(self) -> list[str]:
        return ["CPU:0"]

    # ---- arrays
    def asarray(self, host: np.ndarray, device: str) -> Any:
        """A host (NumPy) array on ``device`` of this backend."""
        return host

    def to_numpy(self, array: Any) -> Any:
        return array

    def dtype(self, dtype: Any) -> Any:
        """This backend's dtype object for a reference ``DType``."""
        return dtype._np

    def scatter_add(self, values: Any, indices: Any, size: int) -> Any:
        """Rows ``values`` summed into ``size`` zero rows at ``indices`` (1-D, any repeats)."""
        xp = self.xp
        flat = xp.reshape(values, (values.shape[0], -1))
        positions = xp.arange(size, dtype=indices.dtype, device=getattr(values, "device", None))
        one_hot = xp.astype(
            xp.reshape(indices, (-1, 1)) == xp.reshape(positions, (1, -1)), values.dtype
        )
        return xp.reshape(xp.matmul(xp.matrix_transpose(one_hot), flat), (size, *values.shape[1:]))

    def add_at(self, out: Any, key: Any, values: Any) -> Any:
        """``out[key] += values`` (basic indexing: no repeated positions)."""
        out[key] = out[key] + values
        return out


class _NumpyBackend(Backend):
    def __init__(self) -> None:
        import array_api_compat.numpy as compat

        super().__init__("numpy", compat)

    def scatter_add(self, values: Any, indices: Any, size: int) -> Any:
        out = np.zeros((size, *np.shape(values)[1:]), dtype=values.dtype)
        np.add.at(out, indices, values)
        return out

    def add_at(self, out: Any, key: Any, values: Any) -> Any:
        np.add.at(out, key, values)
        return out


class _CupyBackend(Backend):
    def __init__(self) -> None:
        import array_api_compat.cupy as compat

        super().__init__("cupy", compat)
        self._cupy = importlib.import_module("cupy")

    def device_name(self, array: Any) -> str:
        return f"GPU:{array.device.id}"

    def devices(self) -> list[str]:
        return [f"GPU:{i}" for i in range(self._cupy.cuda.runtime.getDeviceCount())]

    def asarray(self, host: np.ndarray, device: str) -> Any:
        with self._cupy.cuda.Device(int(device.split(":")[1])):
            return self._cupy.asarray(host)

    def to_numpy(self, array: Any) -> Any:
        return self._cupy.asnumpy(array)

    def scatter_add(self, values: Any, indices: Any, size: int) -> Any:
        out = self._cupy.zeros((size, *values.shape[1:]), dtype=values.dtype)
        self._cupy.add.at(out, indices, values)
        return out


class _StrictBackend(Backend):
    def __init__(self) -> None:
        super().__init__("array_api_strict", importlib.import_module("array_api_strict"))

    def device_name(self, array: Any) -> str:
        return f"STRICT:{array.device._device}"

    def native_device(self, name: str) -> Any:
        return self.xp.Device(name.split(":", 1)[1])

    def devices(self) -> list[str]:
        return ["STRICT:CPU_DEVICE", "STRICT:device1", "STRICT:device2"]

    def asarray(self, host: np.ndarray, device: str) -> Any:
        return self.xp.asarray(host, device=self.native_device(device))

    def to_numpy(self, array: Any) -> Any:
        return np.asarray(array.to_device(self.xp.Device("CPU_DEVICE")))

    def dtype(self, dtype: Any) -> Any:
        return getattr(self.xp, dtype.name)


NUMPY = _NumpyBackend()
_BY_TYPE: dict[type, Backend] = {np.ndarray: NUMPY}
_BY_PREFIX: dict[str, Backend] = {"CPU": NUMPY}
_LOADERS = {"GPU": _CupyBackend, "STRICT": _StrictBackend}


def backend_of(array: Any) -> Backend:
    """The backend holding ``array`` (NumPy arrays and scalars, CuPy, array-api-strict)."""
    kind = type(array)
    found = _BY_TYPE.get(kind)
    if found is not None:
        return found
    if isinstance(array, (np.generic, bool, int, float, complex)):
        _BY_TYPE[kind] = NUMPY
        return NUMPY
    module = kind.__module__.split(".")[0]
    backend = {"cupy": _BY_PREFIX.get("GPU"), "array_api_strict": _BY_PREFIX.get("STRICT")}.get(
        module
    )
    if backend is None:
        raise TypeError(
            f"arrays of type {kind.__module__}.{kind.__qualname__} have no reference_impl backend"
        )
    _BY_TYPE[kind] = backend
    return backend


def _missing_gpu(reason: str) -> RuntimeError:
    return RuntimeError(
        f"no GPU backend: {reason}. reference_impl places tensors on a GPU with CuPy "
        "(pip install 'tape-conformance[gpu]') and a CUDA device; without them use 'CPU:0'"
    )


def backend_for_device(device: str) -> Backend:
    """The backend serving ``device`` ("CPU:0", "GPU:0", "STRICT:device1"), loaded on first use."""
    prefix = device.split(":", 1)[0]
    found = _BY_PREFIX.get(prefix)
    if found is not None:
        return found
    loader = _LOADERS.get(prefix)
    if loader is None:
        raise ValueError(f"unknown device {device!r}; valid: CPU:0, GPU:<n>, STRICT:<name>")
    try:
        backend = loader()
    except ImportError as error:
        if prefix == "GPU":
            raise _missing_gpu(f"CuPy is not installed ({error})") from None
        raise RuntimeError(
            f"device {device!r} needs {error.name}: pip install {error.name}"
        ) from None
    except Exception as error:  # CuPy installed but no usable CUDA driver/device
        raise _missing_gpu(
            f"CuPy could not reach a CUDA device ({type(error).__name__}: {error})"
        ) from None
    if device not in backend.devices():
        raise (
            _missing_gpu(f"{device} does not exist (CUDA devices: {backend.devices()})")
            if prefix == "GPU"
            else ValueError(f"unknown device {device!r}; valid: {backend.devices()}")
        )
    _BY_PREFIX[prefix] = backend
    return backend


def available_devices() -> list[str]:
    """CPU:0, plus GPU:<n> for each CUDA device when CuPy can reach one."""
    devices = ["CPU:0"]
    try:
        devices += backend_for_device("GPU:0").devices()
    except (RuntimeError, ValueError):
        pass
    return devices


def namespace(array: Any) -> Any:
    """The array API namespace computing on ``array``."""
    found = _BY_TYPE.get(type(array))
    return (found or backend_of(array)).xp


def device_of(array: Any) -> str:
    return backend_of(array).device_name(array)
