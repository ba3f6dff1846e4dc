"""The TensorFlow adapter: ``tf.GradientTape`` itself, the specification's own framework."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from adapters._tf_shaped import TfShapedAdapter

__all__ = ["TensorFlowAdapter"]


def _tf() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out of logs
    import tensorflow

    return tensorflow


class TensorFlowAdapter(TfShapedAdapter):
    name = "tensorflow"
    logger = "tensorflow"
    protocol_version = "1.2"
    distribution = ("tensorflow", "tensorflow-cpu")  # either wheel provides the module

    def module(self) -> Any:
        return _tf()

    def tensor_types(self) -> tuple[type, ...]:
        tf = _tf()
        return (tf.Tensor, tf.Variable)

    def available(self) -> str | None:
        try:
            _tf()
        except ImportError as error:
            return (
                "tensorflow is not installed (pip install 'tape-conformance[tensorflow]', or "
                f"tensorflow-cpu==2.21.0): {error}"
            )
        return None

    def version(self) -> str:
        return _tf().__version__

    def devices(self) -> Sequence[str]:
        gpus = _tf().config.list_logical_devices("GPU")
        return ["CPU:0"] + [f"GPU:{i}" for i in range(len(gpus))]

    def forget_process_state(self) -> None:
        """Forget TF's log_first_n counts, so per-process warnings show in every cell."""
        from tensorflow.python.platform import tf_logging

        tf_logging._log_counter_per_token.clear()
