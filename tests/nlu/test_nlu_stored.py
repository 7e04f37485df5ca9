"""StoredResourcesMixin: what the three components share (fingerprint, create, load, persist)."""

from __future__ import annotations

import logging

import pytest

from nlu.number_normaliser import NumberNormaliser
from nlu.tokenizer import DomainJiebaTokenizer
from nlu.vocabulary_extractor import VocabularyEntityExtractor
from tests.nlu.component_helpers import build

COMPONENTS = [DomainJiebaTokenizer, VocabularyEntityExtractor, NumberNormaliser]


@pytest.mark.parametrize("component_class", COMPONENTS)
def test_persist_writes_what_load_reads(component_class, model_storage, execution_context) -> None:
    from rasa.engine.storage.resource import Resource

    built = build(component_class, model_storage, execution_context, f"stored-{component_class.__name__}")
    built.persist()
    resource = Resource(f"stored-{component_class.__name__}")
    with model_storage.read_from(resource) as directory:
        assert (directory / component_class.STORED_FILE).is_file()
    loaded = component_class.load(built._config, model_storage, resource, execution_context)
    assert loaded.stored_resources() == built.stored_resources()


@pytest.mark.parametrize("component_class", COMPONENTS)
def test_load_without_stored_resources_reads_the_files(
    component_class, model_storage, execution_context, caplog
) -> None:
    from rasa.engine.storage.resource import Resource

    config = component_class.get_default_config()
    with caplog.at_level(logging.WARNING):
        loaded = component_class.load(config, model_storage, Resource("never-trained"), execution_context)
    assert loaded.stored_resources() == component_class.resources_from_files(config)
    assert "nothing stored in the model" in caplog.text
