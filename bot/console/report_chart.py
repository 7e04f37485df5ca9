"""The report's chart, drawn by the server as SVG (issue 13, item 6: nothing from the internet): the
conversations of each local day as a bar stacked by channel, with the day's handoffs marked above it.
Served as an image (``GET /console/api/reports/chart.svg``), so the page's strict policy needs no script
for it.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

CHANNEL_COLOURS = {"wechat": "#1aad19", "telegram": "#2a9fd6", "web": "#6f5bd3"}
CHANNEL_NAMES = {"wechat": "微信", "telegram": "Telegram", "web": "网页"}
HEIGHT, TOP, BOTTOM, LEFT, BAR_GAP = 220, 30, 40, 40, 6
FONT = 'font-family="system-ui, Noto Sans CJK SC, sans-serif" font-size="11"'


def daily_chart(found: dict[str, Any]) -> str:
    """The SVG of ``reports.report``'s days; every bar segment carries data-day, data-channel, data-count."""
    days = found["days"]
    slot = max(18, min(60, 700 // max(1, len(days))))
    width = LEFT + slot * len(days) + 130
    most = max([d["conversations"] for d in days] + [1])
    unit = (HEIGHT - TOP - BOTTOM) / most
    base = HEIGHT - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
        f'viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="每日会话（按渠道）与转人工">',
        f'<rect x="0" y="0" width="{width}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<line x1="{LEFT}" y1="{base}" x2="{LEFT + slot * len(days)}" y2="{base}" stroke="#98a2b3"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" {FONT} fill="#667085">{most}</text>',
        f'<text x="{LEFT - 6}" y="{base}" text-anchor="end" {FONT} fill="#667085">0</text>',
    ]
    for index, day in enumerate(days):
        x = LEFT + index * slot + BAR_GAP / 2
        y = float(base)
        for channel in CHANNEL_COLOURS:
            count = day["by_channel"].get(channel, 0)
            if not count:
                continue
            height = count * unit
            y -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot - BAR_GAP}" height="{height:.1f}" '
                f'fill="{CHANNEL_COLOURS[channel]}" data-day="{day["date"]}" data-channel="{channel}" '
                f'data-count="{count}"><title>{day["date"]} {CHANNEL_NAMES[channel]} {count}</title></rect>'
            )
        if day["handoffs"]:
            parts.append(
                f'<text x="{x + (slot - BAR_GAP) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" {FONT} '
                f'fill="#b42318" data-handoffs="{day["handoffs"]}">转{day["handoffs"]}</text>'
            )
        parts.append(
            f'<text x="{x + (slot - BAR_GAP) / 2:.1f}" y="{base + 14}" text-anchor="middle" {FONT} '
            f'fill="#475467">{escape(day["date"][5:])}</text>'
        )
    legend_x = LEFT + slot * len(days) + 16
    for row, (channel, colour) in enumerate(CHANNEL_COLOURS.items()):
        y = TOP + row * 18
        parts.append(f'<rect x="{legend_x}" y="{y}" width="10" height="10" fill="{colour}"/>')
        parts.append(
            f'<text x="{legend_x + 16}" y="{y + 9}" {FONT} fill="#1d2430">{CHANNEL_NAMES[channel]}</text>'
        )
    parts.append(f'<text x="{legend_x}" y="{TOP + 3 * 18 + 9}" {FONT} fill="#b42318">转N：转人工</text>')
    parts.append("</svg>")
    return "".join(parts)
