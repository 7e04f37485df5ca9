"""The official account's menu: ``wechat_menu.yml`` maps CLICK keys to payloads, and prints as the JSON of
WeChat's ``menu/create`` API (``python -m bot wechat-menu``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MENU_FILE = Path(__file__).with_name("wechat_menu.yml")


@lru_cache(maxsize=1)
def menu_payloads() -> dict[str, tuple[str, str]]:
    """CLICK key -> (label, payload) from wechat_menu.yml."""
    menu = yaml.safe_load(MENU_FILE.read_text(encoding="utf-8"))["menu"]
    found: dict[str, tuple[str, str]] = {}
    for item in menu:
        for entry in item.get("sub_button", [item]):
            if "key" in entry:
                found[entry["key"]] = (entry["name"], entry["payload"])
    return found


def menu_definition() -> dict[str, Any]:
    """The menu in the JSON shape of WeChat's menu/create API."""
    menu = yaml.safe_load(MENU_FILE.read_text(encoding="utf-8"))["menu"]

    def button(entry: dict[str, Any]) -> dict[str, Any]:
        if "sub_button" in entry:
            return {"name": entry["name"], "sub_button": [button(e) for e in entry["sub_button"]]}
        return {"type": "click", "name": entry["name"], "key": entry["key"]}

    return {"button": [button(e) for e in menu]}
