"""Chat with the running assistant in a terminal (what `make shell` runs).

Talks to the Rasa server's REST channel exactly as the gateway does: one sender id per session,
metadata carrying channel and language. Buttons are shown as numbered options; type the number.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
import uuid


def send(url: str, sender: str, text: str, language: str | None) -> list[dict]:
    body = json.dumps(
        {"sender": sender, "message": text, "metadata": {"channel": "shell", "language": language}}
    )
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"[]")


def show(replies: list[dict]) -> list[dict]:
    """Print the replies; return the buttons offered last (numbered from 1)."""
    buttons: list[dict] = []
    for reply in replies:
        if reply.get("text"):
            print(f"助手> {reply['text']}")
        if reply.get("custom", {}).get("handoff"):
            print("助手> [已转人工：会话已暂停，工作人员将接手 / handed over to staff]")
        if reply.get("buttons"):
            buttons = reply["buttons"]
            for number, button in enumerate(buttons, start=1):
                print(f"      {number}. {button.get('title')}")
    return buttons


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    parser.add_argument("--language", choices=["zh", "en"], help="default: detected from your first message")
    args = parser.parse_args()
    sender = f"shell:{uuid.uuid4().hex[:12]}"
    print(f"人才直达车助手 — terminal chat ({args.url}, sender {sender}). Ctrl-D to quit.")
    buttons: list[dict] = []
    while True:
        try:
            text = input("你> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            continue
        if text.isdigit() and buttons and 1 <= int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        elif text.startswith("/"):
            text = " " + text  # typed text never steers Rasa: only offered buttons send payloads
        try:
            buttons = show(send(args.url, sender, text, args.language))
        except (urllib.error.URLError, OSError) as error:
            print(
                f"(cannot reach the assistant at {args.url}: {error}; is `make run` running?)",
                file=sys.stderr,
            )


if __name__ == "__main__":
    sys.exit(main())
