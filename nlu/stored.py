"""What the three components share: resources built from the vocabulary files at training time,
stored in the model as JSON, read back at load time — so a running model never needs the repo's files.

A component lists its source files (`source_files`), builds its resources from them
(`resources_from_files`), says what to store (`stored_resources`) and is constructed as
`cls(config, model_storage, resource, resources)`. This mixin does the rest the way Rasa's graph
expects: `fingerprint_addon`, `create`, `load`, `train`, `persist`.
"""

from __future__ import annotations

import json
import logging
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import vocabulary

logger = logging.getLogger(__name__)


class StoredResourcesMixin:
    """Put it first among the bases (before GraphComponent or a Rasa component it extends)."""

    # file name inside the component's model storage directory
    STORED_FILE: ClassVar[str]

    @classmethod
    def source_files(cls, config: dict[str, Any]) -> list[str | Path]:
        """Files the resources are built from (their contents go into Rasa's fingerprint)."""
        return [config["vocabulary_path"], config["domain_terms_path"]]

    @classmethod
    @abstractmethod
    def resources_from_files(cls, config: dict[str, Any]) -> Any:
        """The resources built from the source files (JSON-serialisable)."""

    @abstractmethod
    def stored_resources(self) -> Any:
        """What persist() writes into the model (JSON-serialisable)."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when a source file changes, not only when the config does."""
        # Rasa passes only the keys set in config.yml here, without the defaults
        config = {**cls.get_default_config(), **config}
        return vocabulary.files_fingerprint(cls.source_files(config))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Any:
        """Creates the component from the source files (at training time)."""
        return cls(config, model_storage, resource, cls.resources_from_files(config))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> Any:
        """Loads the resources stored in the model; falls back to the source files (with a warning)."""
        try:
            with model_storage.read_from(resource) as directory:
                stored = json.loads((Path(directory) / cls.STORED_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning(f"{cls.__name__}: nothing stored in the model; reading the repo's files.")
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, stored)

    def train(self, training_data: TrainingData) -> Resource:
        """Nothing to learn: stores the resources so the model does not need the repo's files."""
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Writes the resources into the model storage."""
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / self.STORED_FILE).write_text(
                json.dumps(self.stored_resources(), ensure_ascii=False), encoding="utf-8"
            )
