"""policies/present.py: the one presentation of engine results (amounts, payouts, durations), used by
`python -m policies explain`, the actions and the staff card."""

from __future__ import annotations

from policies.present import amount_line, amount_text, payout_and_duration, yuan_text


def test_amounts_carry_their_unit_in_each_language() -> None:
    monthly = {"max_amount": 4000, "min_amount": None, "unit": "yuan_per_month"}
    assert amount_line(monthly, "zh") == "金额：最高每月4000元"
    assert amount_line(monthly, "en") == "Amount: up to 4,000 yuan a month"
    band = {"max_amount": 2000, "min_amount": 1000, "unit": "yuan_per_month"}
    assert amount_text(band, "en") == "1,000 yuan to 2,000 yuan a month"
    share = {"max_amount": 48, "min_amount": 6, "unit": "percent_of_average_salary"}
    assert amount_line(share, "zh") == "金额：每年为社会平均工资的6%至48%"
    assert yuan_text(1000000, "zh") == "100万元" and yuan_text(1000000, "en") == "1,000,000 yuan"
    assert amount_line({"max_amount": None, "unit": None, "benefit": "优先入学"}, "zh") == "待遇：优先入学"


def test_payout_and_duration_follow_the_amount() -> None:
    monthly = {"max_amount": 4000, "unit": "yuan_per_month", "payout": "按月发放", "duration": "最长5年"}
    assert payout_and_duration(monthly, "zh") == "，按月发放，最长5年"
    assert payout_and_duration({**monthly, "payout": "paid monthly", "duration": "5 years"}, "en") == (
        ", paid monthly, 5 years"
    )
    # how money is paid says nothing when there is no sum (a place in a talent apartment)
    assert payout_and_duration({**monthly, "max_amount": None, "unit": None}, "zh") == "，最长5年"
