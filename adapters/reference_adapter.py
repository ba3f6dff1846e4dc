"""The reference adapter: ``reference_impl``, the executable specification, on every device."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters._tf_shaped import TfShapedAdapter

__all__ = ["ReferenceAdapter"]


class ReferenceAdapter(TfShapedAdapter):
    name = "reference"
    logger = "reference_impl"
    protocol_version = "1.2"

    def module(self) -> Any:
        import reference_impl

        return reference_impl

    def tensor_types(self) -> tuple[type, ...]:
        module = self.module()
        return (module.Tensor, module.Variable)

    def available(self) -> str | None:
        try:
            self.module()
        except ImportError as error:
            return f"reference_impl failed to import: {error}"
        return None

    def version(self) -> str:
        return self.module().__version__

    def devices(self) -> Sequence[str]:
        return self.module().available_devices()

    def forget_process_state(self) -> None:
        """Forget which rate-limited warnings were logged, as a fresh process would."""
        from reference_impl import _logging

        _logging.reset_counts()
