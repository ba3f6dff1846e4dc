"""The TensorFlow adapter: ``tf.GradientTape`` itself, the specification's own framework."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from adapters._tf_shaped import TF_MAPPINGS, all_features, classify_tf_error, tf_namespace
from conformance.protocol import ErrorKind, Mapping_

__all__ = ["TensorFlowAdapter"]


def _tf() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out of logs
    import tensorflow

    return tensorflow


class TensorFlowAdapter:
    name = "tensorflow"

    def available(self) -> str | None:
        try:
            _tf()
        except ImportError as error:
            return f"tensorflow is not installed (pip install tensorflow-cpu==2.21.0): {error}"
        return None

    def version(self) -> str:
        return _tf().__version__

    def devices(self) -> Sequence[str]:
        tf = _tf()
        gpus = tf.config.list_logical_devices("GPU")
        return ["CPU:0"] + [f"GPU:{i}" for i in range(len(gpus))]

    def features(self) -> Mapping[str, str | None]:
        return all_features()

    def namespace(self, device: str) -> Any:
        return tf_namespace(_tf(), device)

    def to_numpy(self, value: Any) -> Any:
        return value.numpy() if self.is_tensor(value) else value

    def dtype_name(self, value: Any) -> str:
        return value.dtype.name

    def is_tensor(self, value: Any) -> bool:
        tf = _tf()
        return isinstance(value, (tf.Tensor, tf.Variable))

    def classify_error(self, error: BaseException) -> ErrorKind:
        return classify_tf_error(error)

    def warning_loggers(self) -> Sequence[str]:
        return ["tensorflow"]

    def mappings(self) -> Sequence[Mapping_]:
        return TF_MAPPINGS

    def divergences_path(self) -> str | None:
        return None

    def forget_process_state(self) -> None:
        """Forget TF's log_first_n counts, so per-process warnings show in every cell."""
        from tensorflow.python.platform import tf_logging

        tf_logging._log_counter_per_token.clear()
