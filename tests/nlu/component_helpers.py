"""Build and reload components the way Rasa's graph does, for the NLU tests."""

from __future__ import annotations


def build(component_class, model_storage, execution_context, name: str, **config):
    """create() a component with its default config plus overrides, as Rasa does at training time."""
    from rasa.engine.storage.resource import Resource

    full_config = {**component_class.get_default_config(), **config}
    return component_class.create(full_config, model_storage, Resource(name), execution_context)


def reload(component, component_class, model_storage, execution_context, name: str):
    """train() (which persists) and load() the component back from the model storage."""
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    component.train(TrainingData())
    return component_class.load(component._config, model_storage, Resource(name), execution_context)
