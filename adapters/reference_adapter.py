"""The reference adapter: ``reference_impl``, the executable specification, on every device."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters._tf_shaped import TF_MAPPINGS, all_features, classify_tf_error, tf_namespace
from conformance.protocol import ErrorKind, Mapping_

__all__ = ["ReferenceAdapter"]


class ReferenceAdapter:
    name = "reference"

    def available(self) -> str | None:
        try:
            import reference_impl  # noqa: F401
        except ImportError as error:
            return f"reference_impl failed to import: {error}"
        return None

    def version(self) -> str:
        import reference_impl

        return reference_impl.__version__

    def devices(self) -> Sequence[str]:
        import reference_impl

        return reference_impl.available_devices()

    def features(self) -> Mapping[str, str | None]:
        return all_features()

    def namespace(self, device: str) -> Any:
        import reference_impl

        return tf_namespace(reference_impl, device)

    def to_numpy(self, value: Any) -> Any:
        return value.numpy() if self.is_tensor(value) else value

    def dtype_name(self, value: Any) -> str:
        return value.dtype.name

    def is_tensor(self, value: Any) -> bool:
        import reference_impl

        return isinstance(value, (reference_impl.Tensor, reference_impl.Variable))

    def classify_error(self, error: BaseException) -> ErrorKind:
        return classify_tf_error(error)

    def warning_loggers(self) -> Sequence[str]:
        return ["reference_impl"]

    def mappings(self) -> Sequence[Mapping_]:
        return TF_MAPPINGS

    def divergences_path(self) -> str | None:
        return None

    def forget_process_state(self) -> None:
        """Forget which rate-limited warnings were logged, as a fresh process would."""
        from reference_impl import _logging

        _logging.reset_counts()
