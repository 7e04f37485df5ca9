"""Local stand-ins that speak the real protocols (Rasa REST, WeChat servers and API, Telegram Bot API),
for the offline tests and the benchmark. Nothing here is used in production."""
