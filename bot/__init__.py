"""人才直达车助手 gateway: the one public-facing service in front of Rasa.

Channels (WeChat official account, Telegram, web chat) are thin adapters around one router,
one transcript store and one Rasa client. The gateway never imports ``rasa``: it talks to Rasa over HTTP.
"""
