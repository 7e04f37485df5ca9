"""Fixtures for the NLU component tests: a fresh model storage and the components built from the repo's files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.nlu.component_helpers import build

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def model_storage(tmp_path: Path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    return LocalModelStorage(tmp_path)


@pytest.fixture
def execution_context():
    from rasa.engine.graph import ExecutionContext, GraphSchema

    return ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture(scope="session")
def _session_storage(tmp_path_factory):
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    return LocalModelStorage(tmp_path_factory.mktemp("session-storage"))


@pytest.fixture(scope="session")
def tokenizer(_session_storage):
    from rasa.engine.graph import ExecutionContext, GraphSchema

    from nlu.tokenizer import DomainJiebaTokenizer

    return build(DomainJiebaTokenizer, _session_storage, ExecutionContext(GraphSchema({}), "t"), "tokenizer")


@pytest.fixture(scope="session")
def extractor(_session_storage):
    from rasa.engine.graph import ExecutionContext, GraphSchema

    from nlu.vocabulary_extractor import VocabularyEntityExtractor

    return build(VocabularyEntityExtractor, _session_storage, ExecutionContext(GraphSchema({}), "t"), "vocab")


@pytest.fixture(scope="session")
def normaliser(_session_storage):
    from rasa.engine.graph import ExecutionContext, GraphSchema

    from nlu.number_normaliser import NumberNormaliser

    return build(NumberNormaliser, _session_storage, ExecutionContext(GraphSchema({}), "t"), "normaliser")
