"""Custom Rasa NLU components for Chinese and English: domain tokenizer, vocabulary extractor, number normaliser.

Referenced from config.yml by module path (nlu.tokenizer.DomainJiebaTokenizer, ...). The modules
`vocabulary` and `numbers` are pure Python and import no rasa.
"""
