"""bot/config.py: settings from the environment."""

from __future__ import annotations

from bot.config import Settings


def test_settings_from_env() -> None:
    settings = Settings.from_env({"RASA_URLS": "http://a:1/, http://b:2", "BOT_PORT": "9000"})
    assert settings.rasa_urls == ("http://a:1", "http://b:2") and settings.port == 9000
    assert settings.disabled_channel_notes()[0].startswith("wechat: disabled")
    assert Settings.from_env({}).host == "127.0.0.1" and Settings.from_env({}).port == 8080
    tg = Settings.from_env({"TELEGRAM_BOT_TOKEN": "1:abc"})
    assert tg.telegram_secret == Settings.from_env({"TELEGRAM_BOT_TOKEN": "1:abc"}).telegram_secret
    assert "abc" not in repr(tg)
