"""The simulated WeChat users of the gateway benchmarks (benchmarks/bench_gateway.py, bench_cluster.py).

A user is a person on WeChat: they send signed, AES-encrypted requests exactly as WeChat's servers do
(wechatpy's crypto, bot/testing/wechat_standin.py), wait for the answer (the passive reply, or after the
gateway's acknowledgement at 4 s the customer-service message, recorded by the API stand-in) and think
before typing the next message (ThinkTime).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from dataclasses import dataclass

import httpx

from bot.rasa_client import HashRing
from bot.testing.wechat_standin import WeChatApiStandIn, WeChatServer
from bot.texts import text as say

TOKEN, APP_ID, SECRET = "bench-token", "wxbench000000000", "bench-secret"
# One person's conversation: a greeting, topic questions with facts, a fact on its own, thanks.
QUESTIONS = [
    "你好",
    "我是硕士，在青浦区工作，能申请租房补贴吗？",
    "我今年28岁",
    "松江区的人才公寓怎么申请？",
    "落户需要什么条件？",
    "谢谢",
]
ACKS = {say("slow_ack", "zh"), say("slow_ack_write_again", "zh")}
WECHAT_DEADLINE = 5.0
LATE_ANSWER_WAIT = 60.0


@dataclass(frozen=True)
class ThinkTime:
    """Seconds from seeing an answer to sending the next message (reading + typing on a phone)."""

    median: float = 10.0
    sigma: float = 0.6
    low: float = 2.0
    high: float = 60.0

    def draw(self, rng: random.Random) -> float:
        if self.median <= 0:
            return 0.0
        return min(self.high, max(self.low, rng.lognormvariate(math.log(self.median), self.sigma)))

    def describe(self) -> str:
        if self.median <= 0:
            return "none (next message as soon as the answer is there)"
        return (
            f"log-normal, median {self.median:g} s, sigma {self.sigma:g}, "
            f"clipped to [{self.low:g} s, {self.high:g} s]"
        )


NO_THINK = ThinkTime(median=0.0)


@dataclass
class Turn:
    openid: str
    request_s: float  # what WeChat's server waited for
    answer_s: float | None  # when the person had the answer (None: never arrived)
    status: int
    acknowledged: bool


class Bench:
    def __init__(self, http: httpx.AsyncClient, server: WeChatServer, api: WeChatApiStandIn) -> None:
        self.http, self.server, self.api = http, server, api

    async def turn(self, openid: str, question: str) -> Turn:
        already = len(self.api.texts_to(openid))
        request = self.server.request(self.server.text_xml(openid, question))
        started = time.monotonic()
        response = await self.http.post("/wechat", params=request.params, content=request.body)
        request_s = time.monotonic() - started
        if response.status_code != 200:
            return Turn(openid, request_s, None, response.status_code, False)
        reply = self.server.read_reply(response.text, request.params)
        if reply not in ACKS:
            return Turn(openid, request_s, request_s, 200, False)
        arrived = await self.api.wait_for_messages(openid, already + 1, LATE_ANSWER_WAIT)
        return Turn(openid, request_s, None if arrived is None else arrived - started, 200, True)

    async def user(
        self,
        openid: str,
        turns: int,
        think: ThinkTime,
        rng: random.Random,
        out: list[Turn],
        pauses: list[float],
    ) -> None:
        for index in range(turns):
            pause = think.draw(rng)
            pauses.append(pause)
            await asyncio.sleep(pause)
            out.append(await self.turn(openid, QUESTIONS[index % len(QUESTIONS)]))


def openids_per_node(rasa_urls: list[str], prefix: str, per_node: int) -> list[str]:
    """Sender ids that cover every Rasa node (the gateway routes 'wechat:<openid>' on the ring)."""
    ring, chosen, counts = HashRing(rasa_urls), [], dict.fromkeys(rasa_urls, 0)
    for n in range(10_000):
        openid = f"{prefix}{n:06d}".ljust(28, "0")
        node = ring.node_for(f"wechat:{openid}")
        if counts[node] < per_node:
            counts[node] += 1
            chosen.append(openid)
        if all(c >= per_node for c in counts.values()):
            break
    return chosen
