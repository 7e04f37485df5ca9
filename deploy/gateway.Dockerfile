# The gateway (bot/): WeChat, Telegram, web chat, staff console. It never imports rasa, so its image holds
# only bot/requirements.txt, pinned by the same constraints.txt as the development environment.
#   docker build -f deploy/gateway.Dockerfile -t rczd-gateway .
FROM python:3.10.13-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY bot/requirements.txt constraints.txt ./
RUN pip install -r requirements.txt -c constraints.txt
COPY bot/ bot/
# the knowledge base and engine (pure Python, no Rasa): the console re-runs it when an officer corrects a
# fact and quotes policies in its look-up; also the field labels, district names and topic names — one home each,
# shared with the assistant
COPY policies/ policies/
# the assistant's domain, read as plain YAML by the console (review queue: intents, entities; the fallback's
# wording); domain/dialogue.yml is a link to domain.yml
COPY domain.yml ./
COPY domain/ domain/
# the NLU's fallback threshold: at or above the review queue's low-confidence bound, the gateway skips its
# per-turn tracker read (it could never queue a message)
COPY config.yml ./
RUN useradd --system --uid 10001 gateway && mkdir -p var && chown gateway var
USER gateway
# In a container the gateway listens on every interface of its own network namespace; the load
# balancer (HAProxy / the Kubernetes Service) is the only way in. Everything else comes from the
# environment (bot/README.md, Configuration): BOT_DATABASE_URL, BOT_REDIS_URL, RASA_URLS, RASA_TOKEN ...
ENV BOT_HOST=0.0.0.0 BOT_PORT=8080 FORWARDED_ALLOW_IPS=*
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
CMD ["python", "-m", "bot"]
